//! A facilitator's seat, taken back: from a browser the seat is bound to (the one
//! that redeemed the invite with a seat key, after its tab was closed), or on another
//! device its facilitator chose from inside the room with a one-time code.
//!
//! The seat keys and codes are random values the clients and this module make up;
//! the room keeps only their keyed marks (`auth::Signer::mark`), and neither is ever
//! logged: the log lines name the room, the user and what happened.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use kindred_protocol::http::{JoinResponse, SeatCode, SeatRequest};
use kindred_protocol::{ErrorCode, Role, RoomId};

use super::keys::{check_device, random_looking};
use super::room_id;
use crate::auth::SessionClaims;
use crate::clock::now_ms;
use crate::http::AppError;
use crate::http::forwarded::person_network;
use crate::room::Command;
use crate::state::AppState;

/// The name a seat is taken back under when the room lost the one it was taken
/// under (its store gave back only the catalog record, which keeps no pseudonym).
const UNNAMED_SEAT: &str = "Facilitator";

/// `POST /api/rooms/{id}/seat`: the seat `seat_key` is bound to, as a session token
/// for its facilitator (the same user and pseudonym). With a `code`, the code is
/// spent first, binding the seat to this key too. Counted with joins in the
/// address's allowance.
pub async fn take_seat(
    crate::http::JoinAllowance(ip): crate::http::JoinAllowance,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<SeatRequest>, JsonRejection>,
) -> Result<Json<JoinResponse>, AppError> {
    let room = room_id(&id)?;
    let Json(req) = body?;
    let key = app
        .signer
        .mark(room, "seat", random_looking("seat_key", &req.seat_key)?);
    let device = check_device(req.device.as_deref())?;
    let now = now_ms();
    if let Some(code) = &req.code {
        let code = app
            .signer
            .mark(room, "seat-code", random_looking("code", code)?);
        app.broker
            .apply(
                room,
                Command::TakeSeatCode {
                    code,
                    key: key.clone(),
                },
                now,
            )
            .await
            .inspect_err(|e| tracing::info!(%room, error = %e, "seat code refused"))?;
    }
    let Some((seat, session)) = app.broker.bound_seat(room, &key).await? else {
        tracing::info!(%room, "seat key refused");
        return Err(AppError::new(
            ErrorCode::Unauthorized,
            "this browser holds no facilitator seat in this room now: the session may \
             have ended, or the seat was withdrawn. Please ask the organiser for a new link",
        ));
    };
    let network = person_network(ip, app.config.edge.ipv6_prefix).map(|n| n.to_string());
    let origin = app.signer.origin(room, device, network.as_deref());
    let name = seat.name.unwrap_or_else(|| UNNAMED_SEAT.to_owned());
    let expires_at = now + app.config.tokens.token_ttl_secs * 1000;
    let token = app.signer.session_token(SessionClaims {
        room,
        user: seat.user,
        name: name.clone(),
        role: Role::Facilitator,
        session,
        exp: expires_at,
        origin,
    });
    let how = if req.code.is_some() {
        "seat taken on another device"
    } else {
        "seat taken back"
    };
    tracing::info!(%room, user = %seat.user, "{how}");
    Ok(Json(JoinResponse {
        token,
        user_id: seat.user,
        role: Role::Facilitator,
        room,
        expires_at,
        ws_path: "/ws".to_owned(),
        name: Some(name),
    }))
}

/// `POST /api/rooms/{id}/seat/code`, with the facilitator's session token as the
/// bearer: a one-time code (and the web client's link carrying it) that binds one
/// more device to their seat, for `--seat-code-ttl-secs`. A new code replaces the
/// one still open. Counted with joins in the address's allowance, like everything
/// that appends to the room's log from outside it.
pub async fn seat_code(
    _: crate::http::JoinAllowance,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<SeatCode>), AppError> {
    let room = room_id(&id)?;
    let now = now_ms();
    let claims = session_of(&app, &headers, room, now)?;
    if claims.role != Role::Facilitator {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "only a facilitator's seat can be used on another device",
        ));
    }
    let code = random_code();
    let expires_at = now + app.config.tokens.seat_code_ttl_secs * 1000;
    app.broker
        .apply(
            room,
            Command::OpenSeatCode {
                user: claims.user,
                name: claims.name,
                code: app.signer.mark(room, "seat-code", &code),
                expires_at,
            },
            now,
        )
        .await?;
    tracing::info!(%room, user = %claims.user, "seat code opened");
    let url = format!("/?room={room}#seat={code}");
    Ok((
        StatusCode::CREATED,
        Json(SeatCode {
            code,
            url,
            expires_at,
        }),
    ))
}

/// The session token the request carries as its bearer, valid now and for `room`.
fn session_of(
    app: &AppState,
    headers: &HeaderMap,
    room: RoomId,
    now: u64,
) -> Result<SessionClaims, AppError> {
    let refused = || {
        AppError::new(
            ErrorCode::Unauthorized,
            "this needs the session token of a member of this room",
        )
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(refused)?;
    let claims = app
        .signer
        .verify_session(token.trim(), now)
        .map_err(|_| refused())?;
    if claims.room != room {
        return Err(refused());
    }
    Ok(claims)
}

/// 16 random bytes, base64url without padding: 22 characters.
fn random_code() -> String {
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
