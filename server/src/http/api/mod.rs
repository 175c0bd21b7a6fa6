//! Admission (`join`) and the admin API: rooms (`rooms`, with the public directory),
//! facilitator invites and seats (`invites`); a facilitator's seat taken back, or
//! put on another device (`seat`); on-call links, the on-call board and on-call's
//! one-call join (`oncall`). Every handler answers failures as [`AppError`].

mod invites;
mod join;
mod keys;
mod oncall;
mod rooms;
mod seat;

pub use invites::{create_invite, get_invite, list_invites, minted, remove_member, revoke_invite};
pub use join::join;
pub use oncall::{create_link, get_board, join_room, list_links, revoke_link};
pub use rooms::{calendar, create_room, delete_room, get_room, list_rooms, update_room};
pub use seat::{seat_code, take_seat};

/// `GET /api/resources`: the help lines this server gives a member in crisis (the
/// operator's `--resources-card`, or the default), so a page can show them before any
/// card has come over the WebSocket ("Need help now" on the directory and the join
/// form). Public: help is never behind a token.
pub async fn resources(
    axum::extract::State(app): axum::extract::State<Arc<AppState>>,
) -> axum::Json<crate::safety::ResourcesCard> {
    axum::Json(app.resources.clone())
}

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kindred_protocol::{ErrorCode, RoomId};

use super::AppError;
use crate::auth::admin_token_matches;
use crate::state::AppState;

pub(super) const MAX_TITLE_CHARS: usize = 100;
pub(super) const MAX_TEXT_CHARS: usize = 4_000;

/// Proof that the request carries the admin bearer token. A refusal is logged by the
/// HTTP layer with its route and code (never what was presented).
pub struct Admin;

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match MaybeAdmin::from_request_parts(parts, app).await? {
            MaybeAdmin(true) => Ok(Admin),
            MaybeAdmin(false) => Err(needs_admin()),
        }
    }
}

fn needs_admin() -> AppError {
    AppError::new(ErrorCode::Unauthorized, "this call needs the admin token")
}

/// Whether the request carries the admin token, for a route that anyone may call but
/// that shows the operator more (the directory, a room). No `Authorization` header:
/// `false`; the right token: `true`; any other: refused, as on an admin route.
pub struct MaybeAdmin(pub bool);

impl FromRequestParts<Arc<AppState>> for MaybeAdmin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(MaybeAdmin(false));
        };
        let presented = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if admin_token_matches(presented, &app.admin_token) {
            Ok(MaybeAdmin(true))
        } else {
            Err(needs_admin())
        }
    }
}

/// An admin request's JSON body. Unknown fields are refused with a `bad_request` that
/// names them (the types deny them); an empty body is `empty`, when the call has a
/// meaning without one (every field optional), else a `bad_request`.
pub(super) fn admin_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    empty: Option<T>,
) -> Result<T, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return empty
            .ok_or_else(|| AppError::new(ErrorCode::BadRequest, "this call needs a JSON body"));
    }
    // The path names the field inside a nested value (`schedule.weekday`).
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        AppError::new(
            ErrorCode::BadRequest,
            format!("the request body is not valid: {e}"),
        )
    })
}

pub(super) fn room_id(raw: &str) -> Result<RoomId, AppError> {
    raw.parse()
        .map_err(|_| AppError::new(ErrorCode::NotFound, "no such room"))
}

/// A field over its length is a `bad_request` (400): `too_large` (413) is for a body
/// over the size limit.
pub(super) fn bounded(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.chars().count() > max {
        return Err(AppError::new(
            ErrorCode::BadRequest,
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(())
}
