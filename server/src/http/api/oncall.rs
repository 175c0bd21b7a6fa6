//! The on-call supervisor's HTTP surface. The operator (admin token) mints, lists and
//! revokes on-call links; the on-call person (the link's token, as a bearer token)
//! reads the board and joins a room as a facilitator in one call.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use kindred_protocol::http::JoinResponse;
use kindred_protocol::oncall::{Board, CreateOnCall, OnCallJoin, OnCallLink, OnCallList};
use kindred_protocol::{ErrorCode, InviteId, OnCallId, Role, UserId};

use super::{Admin, admin_body, room_id};
use crate::auth::{OnCallClaims, SessionClaims};
use crate::broker::LinkRecord;
use crate::clock::now_ms;
use crate::http::AppError;
use crate::oncall::{MintedLink, board, mint};
use crate::room::{Command, Origin};
use crate::safety::normalize_name;
use crate::state::AppState;

/// An on-call link lasts a shift unless the operator says otherwise.
const DEFAULT_ON_CALL_TTL_SECS: u64 = 12 * 3600;
/// The longest an on-call link may last.
const MAX_ON_CALL_TTL_SECS: u64 = 30 * 24 * 3600;
/// The name an on-call person joins under unless they give one.
const ON_CALL_NAME: &str = "On-call";

fn shown(record: LinkRecord) -> OnCallLink {
    OnCallLink {
        id: record.id,
        token: None,
        url: None,
        created_at: record.created_at,
        expires_at: record.expires_at,
    }
}

fn minted(link: MintedLink) -> OnCallLink {
    let url = link.url();
    OnCallLink {
        token: Some(link.token),
        url: Some(url),
        ..shown(link.record)
    }
}

/// `POST /api/oncall` (admin): a new on-call link, with its token and page link.
pub async fn create_link(
    State(app): State<Arc<AppState>>,
    _: Admin,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<OnCallLink>), AppError> {
    let req: CreateOnCall = admin_body(&body?, Some(CreateOnCall::default()))?;
    let ttl = req.ttl_seconds.unwrap_or(DEFAULT_ON_CALL_TTL_SECS);
    if ttl == 0 || ttl > MAX_ON_CALL_TTL_SECS {
        return Err(AppError::new(
            ErrorCode::BadRequest,
            "ttl_seconds must be between 1 and 30 days",
        ));
    }
    let link = mint(&app.broker, &app.signer, ttl, now_ms()).await?;
    Ok((StatusCode::CREATED, Json(minted(link))))
}

/// `GET /api/oncall` (admin): the links that still work, without their tokens.
pub async fn list_links(
    State(app): State<Arc<AppState>>,
    _: Admin,
) -> Result<Json<OnCallList>, AppError> {
    let links = app.broker.links(now_ms()).await?;
    Ok(Json(OnCallList {
        links: links.into_iter().map(shown).collect(),
    }))
}

/// `DELETE /api/oncall/{id}` (admin): the link stops working on every instance.
pub async fn revoke_link(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let not_found = || AppError::new(ErrorCode::NotFound, "no such on-call link");
    let id: OnCallId = id.parse().map_err(|_| not_found())?;
    if !app.broker.drop_link(id).await? {
        return Err(not_found());
    }
    tracing::info!(link = %id, "on-call link revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// The header an on-call token travels in. Not `Authorization`: the shipped public
/// proxy refuses any request carrying a bearer token from outside the admin
/// network (only admin calls carry one), and on-call works from a phone anywhere.
pub const ON_CALL_HEADER: &str = "x-kindred-on-call";

/// Proof that the request carries a working on-call token ([`ON_CALL_HEADER`]):
/// signed by this deployment, unexpired, and its link not revoked.
pub struct OnCall(pub OnCallClaims);

impl FromRequestParts<Arc<AppState>> for OnCall {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(ON_CALL_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                AppError::new(ErrorCode::Unauthorized, "this call needs an on-call link")
            })?;
        let claims = app
            .signer
            .verify_on_call(presented, now_ms())
            .map_err(|e| {
                tracing::info!(error = %e, "on-call token refused");
                AppError::new(
                    ErrorCode::Unauthorized,
                    "this on-call link is not valid, or it has expired",
                )
            })?;
        if !app.broker.link_kept(claims.id).await? {
            tracing::info!(link = %claims.id, "revoked on-call link refused");
            return Err(AppError::new(
                ErrorCode::Unauthorized,
                "this on-call link was revoked",
            ));
        }
        Ok(OnCall(claims))
    }
}

/// `GET /api/oncall/board` (an on-call token): every room in session.
pub async fn get_board(
    State(app): State<Arc<AppState>>,
    _: OnCall,
) -> Result<Json<Board>, AppError> {
    let board = board(
        &app.broker,
        app.config.rooms.oncall_held_after_secs,
        now_ms(),
    )
    .await?;
    Ok(Json(board))
}

/// `POST /api/oncall/rooms/{id}/join` (an on-call token): a facilitator's seat in the
/// room and the session token that connects with it, in one call; the room's
/// moderation log says on-call is joining.
pub async fn join_room(
    State(app): State<Arc<AppState>>,
    OnCall(link): OnCall,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<JoinResponse>, AppError> {
    let room = room_id(&id)?;
    let req: OnCallJoin = admin_body(&body?, Some(OnCallJoin::default()))?;
    let name = normalize_name(req.name.as_deref().unwrap_or(ON_CALL_NAME))
        .map_err(|e| AppError::new(ErrorCode::BadRequest, e.to_string()))?;
    let now = now_ms();
    // No device or address marks: a facilitator is never banned by them.
    let origin = Origin::default();
    let session = app
        .broker
        .admits(room, Role::Facilitator, &name, &origin)
        .await?;
    let user = UserId::new();
    app.broker
        .apply(
            room,
            Command::OnCallSeat {
                user,
                name: name.clone(),
                seat: InviteId::new(),
            },
            now,
        )
        .await?;
    tracing::info!(%room, %user, link = %link.id, "on-call joined");
    let expires_at = now + app.config.tokens.token_ttl_secs * 1000;
    let token = app.signer.session_token(SessionClaims {
        room,
        user,
        name: name.clone(),
        role: Role::Facilitator,
        session,
        exp: expires_at,
        origin,
    });
    Ok(Json(JoinResponse {
        token,
        user_id: user,
        role: Role::Facilitator,
        room,
        expires_at,
        ws_path: "/ws".to_owned(),
        name: Some(name),
    }))
}
