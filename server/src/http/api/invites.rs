//! Facilitator invites and seats (admin): mint, list, look up and revoke invites;
//! remove a member, a facilitator included.
//!
//! An invite is a record the room keeps (`room::invites`); the token names it. Its
//! link carries the token in the URL's fragment, which browsers never send to a
//! server, so it stays out of access logs, proxies and `Referer` headers.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kindred_protocol::http::{CreateInvite, Invite, InviteList};
use kindred_protocol::{ErrorCode, InviteId, RoomId, UserId};

use super::{Admin, admin_body, room_id};
use crate::clock::now_ms;
use crate::http::AppError;
use crate::invite::{Minted, mint};
use crate::room::{Command, InviteRecord, MAX_INVITE_USES};
use crate::state::AppState;

/// The longest an invite may last.
const MAX_INVITE_TTL_SECS: u64 = 30 * 24 * 3600;

fn invite_id(raw: &str) -> Result<InviteId, AppError> {
    raw.parse()
        .map_err(|_| AppError::new(ErrorCode::NotFound, "no such invite"))
}

fn user_id(raw: &str) -> Result<UserId, AppError> {
    raw.parse()
        .map_err(|_| AppError::new(ErrorCode::NotFound, "no such member"))
}

/// The wire's view of a record (without its token, which only its minting returns).
fn shown(record: InviteRecord) -> Invite {
    Invite {
        id: record.id,
        token: None,
        url: None,
        role: record.role,
        created_at: record.created_at,
        expires_at: record.expires_at,
        uses: record.uses,
        used: record.used,
        members: record.seats.into_iter().collect(),
    }
}

/// `POST /api/rooms/{id}/invites`. Every field is optional, so an empty body (or
/// none at all) mints a single-use invite with the default lifetime.
pub async fn create_invite(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Invite>), AppError> {
    let room = room_id(&id)?;
    let req: CreateInvite = admin_body(&body?, Some(CreateInvite::default()))?;
    let ttl = req.ttl_seconds.unwrap_or(app.config.tokens.invite_ttl_secs);
    if ttl == 0 || ttl > MAX_INVITE_TTL_SECS {
        return Err(AppError::new(
            ErrorCode::BadRequest,
            "ttl_seconds must be between 1 and 30 days",
        ));
    }
    let uses = req.uses.unwrap_or(1);
    if uses == 0 || uses > MAX_INVITE_USES {
        return Err(AppError::new(
            ErrorCode::BadRequest,
            format!("uses must be between 1 and {MAX_INVITE_USES}"),
        ));
    }
    let invite = mint(&app.broker, &app.signer, room, ttl, uses, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(minted(invite))))
}

/// A new invite as its minting answers it: with its token and its link.
pub fn minted(minted: Minted) -> Invite {
    let url = minted.url();
    Invite {
        token: Some(minted.token),
        url: Some(url),
        ..shown(minted.record)
    }
}

/// `GET /api/rooms/{id}/invites`: every invite the room keeps, oldest first.
pub async fn list_invites(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<InviteList>, AppError> {
    let room = room_id(&id)?;
    let invites = app.broker.invites(room).await?;
    Ok(Json(InviteList {
        invites: invites.into_iter().map(shown).collect(),
    }))
}

async fn find(app: &AppState, room: RoomId, invite: InviteId) -> Result<InviteRecord, AppError> {
    app.broker
        .invites(room)
        .await?
        .into_iter()
        .find(|r| r.id == invite)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, "no such invite"))
}

/// `GET /api/rooms/{id}/invites/{invite}`.
pub async fn get_invite(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path((id, invite)): Path<(String, String)>,
) -> Result<Json<Invite>, AppError> {
    let room = room_id(&id)?;
    Ok(Json(shown(find(&app, room, invite_id(&invite)?).await?)))
}

/// `DELETE /api/rooms/{id}/invites/{invite}`: the invite stops working, and every
/// member it seated leaves the room (`left`, reason `removed`).
pub async fn revoke_invite(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path((id, invite)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let room = room_id(&id)?;
    let invite = invite_id(&invite)?;
    app.broker
        .apply(room, Command::Revoke { invite }, now_ms())
        .await
        .map_err(|e| not_found_as(e, "no such invite"))?;
    tracing::info!(%room, %invite, "invite revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/rooms/{id}/members/{user}`: the member leaves the room (`left`,
/// reason `removed`); a facilitator's seat ends, so their token no longer connects.
pub async fn remove_member(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let room = room_id(&id)?;
    let user = user_id(&user)?;
    app.broker
        .apply(room, Command::Dismiss { user }, now_ms())
        .await
        .map_err(|e| not_found_as(e, "no such member"))?;
    tracing::info!(%room, %user, "member removed by the operator");
    Ok(StatusCode::NO_CONTENT)
}

/// The room's `not_found` names what was not found.
fn not_found_as(e: crate::broker::BrokerError, what: &'static str) -> AppError {
    match e {
        crate::broker::BrokerError::Rejected(crate::room::Rejection::NotFound) => {
            AppError::new(ErrorCode::NotFound, what)
        }
        other => other.into(),
    }
}
