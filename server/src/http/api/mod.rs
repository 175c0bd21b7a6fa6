//! Admission (`join`) and the admin API: rooms (`rooms`), facilitator invites and
//! seats (`invites`). Every handler answers failures as [`AppError`].

mod invites;
mod join;
mod rooms;

pub use invites::{create_invite, get_invite, list_invites, mint, remove_member, revoke_invite};
pub use join::join;
pub use rooms::{calendar, create_room, delete_room, get_room, list_rooms, update_room};

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kindred_protocol::{ErrorCode, RoomId};

use super::AppError;
use crate::app::AppState;
use crate::auth::admin_token_matches;

pub(super) const MAX_TITLE_CHARS: usize = 100;
pub(super) const MAX_TEXT_CHARS: usize = 4_000;

/// Proof that the request carries the admin bearer token.
pub struct Admin;

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if admin_token_matches(presented, &app.admin_token) {
            Ok(Admin)
        } else {
            Err(AppError::new(
                ErrorCode::Unauthorized,
                "this call needs the admin token",
            ))
        }
    }
}

pub(super) fn room_id(raw: &str) -> Result<RoomId, AppError> {
    raw.parse()
        .map_err(|_| AppError::new(ErrorCode::NotFound, "no such room"))
}

pub(super) fn bounded(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.chars().count() > max {
        return Err(AppError::new(
            ErrorCode::TooLarge,
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(())
}
