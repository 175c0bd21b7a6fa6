//! Joining a room: a pseudonym, the guidelines accepted, perhaps a facilitator
//! invite; the answer is a session token for `hello`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use kindred_protocol::http::{JoinRequest, JoinResponse};
use kindred_protocol::{ErrorCode, Millis, Role, RoomId, UserId};

use super::keys::{check_device, random_looking};
use super::room_id;
use crate::auth::SessionClaims;
use crate::clock::now_ms;
use crate::http::AppError;
use crate::http::forwarded::person_network;
use crate::room::Command;
use crate::safety::normalize_name;
use crate::schedule::next_session;
use crate::state::AppState;

/// A pseudonym: trimmed, 1–32 characters, nothing that breaks others' screens.
fn check_name(name: &str) -> Result<String, AppError> {
    normalize_name(name).map_err(|e| AppError::new(ErrorCode::BadRequest, e.to_string()))
}

/// The address's join allowance is checked first, from the request's head
/// ([`crate::http::JoinAllowance`]), before any of the body is read.
///
/// A participant from a banned member's device, or (this session) address, is
/// refused (`banned`), as is one from a network that already holds its share of the
/// room's seats (`rate_limited`). A facilitator's invite is spent here, through the
/// room: the seat it gives is what their token connects with, bound to the browser's
/// seat key when it sends one (only its keyed mark is kept), so that browser can take
/// the seat back (`seat::take_seat`).
pub async fn join(
    crate::http::JoinAllowance(ip): crate::http::JoinAllowance,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<JoinRequest>, JsonRejection>,
) -> Result<Json<JoinResponse>, AppError> {
    let room = room_id(&id)?;
    let Json(req) = body?;
    if !req.accept_guidelines {
        return Err(AppError::new(
            ErrorCode::BadRequest,
            "please read and accept the group's guidelines to join",
        ));
    }
    let name = check_name(&req.name)?;
    let device = check_device(req.device.as_deref())?;
    let network = person_network(ip, app.config.edge.ipv6_prefix).map(|n| n.to_string());
    let origin = app.signer.origin(room, device, network.as_deref());
    let now = now_ms();
    let invite = match &req.invite {
        None => None,
        Some(invite) => Some(app.signer.verify_invite(invite, room, now).map_err(|e| {
            tracing::info!(%room, error = %e, "invite refused");
            AppError::new(
                ErrorCode::Unauthorized,
                "this invite is not valid for this room, or it has expired",
            )
        })?),
    };
    let seat_key = match (&invite, req.seat_key.as_deref()) {
        (_, None) => None,
        (Some(_), Some(key)) => Some(app.signer.mark(
            room,
            "seat",
            random_looking("seat_key", key)?,
        )),
        (None, Some(_)) => {
            return Err(AppError::new(
                ErrorCode::BadRequest,
                "seat_key goes with a facilitator invite",
            ));
        }
    };
    let role = invite.as_ref().map_or(Role::Participant, |c| c.role);
    // A link that cannot seat anyone says so before anything about the person (their
    // name) is looked at: "in use in another browser" is what they need to know.
    if let Some(invite) = &invite {
        app.broker
            .invite_usable(room, invite.id, seat_key.is_some(), now)
            .await
            .inspect_err(
                |e| tracing::info!(%room, invite = %invite.id, error = %e, "invite refused"),
            )?;
    }
    let session = match app.broker.admits(room, role, &name, &origin).await {
        Ok(session) => session,
        Err(e) => return Err(closed_until(&app, room, e.into(), now).await),
    };
    let user = UserId::new();
    if let Some(invite) = &invite {
        app.broker
            .apply(
                room,
                Command::Redeem {
                    invite: invite.id,
                    user,
                    seat: seat_key.map(|key| (name.clone(), key)),
                },
                now,
            )
            .await
            .inspect_err(
                |e| tracing::info!(%room, invite = %invite.id, error = %e, "invite refused"),
            )?;
        tracing::info!(%room, invite = %invite.id, %user, "invite used");
    }
    let expires_at = now + app.config.tokens.token_ttl_secs * 1000;
    let token = app.signer.session_token(SessionClaims {
        room,
        user,
        name: name.clone(),
        role,
        session,
        exp: expires_at,
        origin,
    });
    let role_name = match role {
        Role::Participant => "participant",
        Role::Facilitator => "facilitator",
    };
    tracing::info!(%room, %user, role = role_name, "joined");
    Ok(Json(JoinResponse {
        token,
        user_id: user,
        role,
        room,
        expires_at,
        ws_path: "/ws".to_owned(),
        name: Some(name),
    }))
}

/// A join refused because the room is closed says when it next meets, if it has a
/// schedule; any other refusal goes out as it is.
async fn closed_until(app: &AppState, room: RoomId, e: AppError, now: Millis) -> AppError {
    if e.code != ErrorCode::Closed {
        return e;
    }
    let next = match app.broker.room(room).await {
        Ok(summary) => summary.schedule.and_then(|s| next_session(&s, now)),
        Err(_) => None,
    };
    e.with_next_session(next)
}
