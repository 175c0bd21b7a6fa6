//! Admission and the admin API.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use kindred_protocol::http::{
    CreateInvite, CreateRoom, Invite, JoinRequest, JoinResponse, RoomList, UpdateRoom,
};
use kindred_protocol::{ErrorCode, Role, RoomId, RoomSummary, UserId, Visibility};

use super::AppError;
use crate::app::{AppState, DEFAULT_GUIDELINES, now_ms};
use crate::auth::{InviteClaims, SessionClaims, admin_token_matches};
use crate::room::RoomConfig;
use crate::safety::normalize_name;

const MAX_TITLE_CHARS: usize = 100;
const MAX_TEXT_CHARS: usize = 4_000;

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

fn room_id(raw: &str) -> Result<RoomId, AppError> {
    raw.parse()
        .map_err(|_| AppError::new(ErrorCode::NotFound, "no such room"))
}

fn bounded(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.chars().count() > max {
        return Err(AppError::new(
            ErrorCode::TooLarge,
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(())
}

fn check_capacity(app: &AppState, capacity: u32) -> Result<(), AppError> {
    if capacity == 0 || capacity > app.config.max_room_capacity {
        return Err(AppError::new(
            ErrorCode::BadRequest,
            format!(
                "capacity must be between 1 and {}",
                app.config.max_room_capacity
            ),
        ));
    }
    Ok(())
}

pub async fn create_room(
    State(app): State<Arc<AppState>>,
    _: Admin,
    body: Result<Json<CreateRoom>, JsonRejection>,
) -> Result<(StatusCode, Json<RoomSummary>), AppError> {
    let Json(req) = body?;
    let title = req.title.trim().to_owned();
    if title.is_empty() {
        return Err(AppError::new(ErrorCode::BadRequest, "a room needs a title"));
    }
    bounded("title", &title, MAX_TITLE_CHARS)?;
    bounded("topic", &req.topic, MAX_TITLE_CHARS)?;
    bounded("description", &req.description, MAX_TEXT_CHARS)?;
    let guidelines = req
        .guidelines
        .filter(|g| !g.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_GUIDELINES.to_owned());
    bounded("guidelines", &guidelines, MAX_TEXT_CHARS)?;
    let capacity = req.capacity.unwrap_or(app.config.room_capacity);
    check_capacity(&app, capacity)?;
    let id = RoomId::new();
    let summary = app
        .broker
        .create_room(
            id,
            RoomConfig {
                title,
                topic: req.topic,
                description: req.description,
                guidelines,
                capacity,
                visibility: req.visibility,
                policy: req.policy.unwrap_or_default(),
            },
        )
        .await?;
    tracing::info!(room = %id, "room created");
    Ok((StatusCode::CREATED, Json(summary)))
}

pub async fn list_rooms(State(app): State<Arc<AppState>>) -> Result<Json<RoomList>, AppError> {
    let mut rooms: Vec<RoomSummary> = app
        .broker
        .rooms()
        .await?
        .into_iter()
        .filter(|r| r.visibility == Visibility::Public)
        .collect();
    rooms.sort_by(|a, b| a.title.cmp(&b.title));
    Ok(Json(RoomList { rooms }))
}

pub async fn get_room(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<RoomSummary>, AppError> {
    Ok(Json(app.broker.room(room_id(&id)?).await?))
}

pub async fn update_room(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
    body: Result<Json<UpdateRoom>, JsonRejection>,
) -> Result<Json<RoomSummary>, AppError> {
    let id = room_id(&id)?;
    let Json(update) = body?;
    if let Some(t) = &update.title {
        if t.trim().is_empty() {
            return Err(AppError::new(ErrorCode::BadRequest, "a room needs a title"));
        }
        bounded("title", t, MAX_TITLE_CHARS)?;
    }
    for (field, value, max) in [
        ("topic", &update.topic, MAX_TITLE_CHARS),
        ("description", &update.description, MAX_TEXT_CHARS),
        ("guidelines", &update.guidelines, MAX_TEXT_CHARS),
    ] {
        if let Some(v) = value {
            bounded(field, v, max)?;
        }
    }
    if let Some(c) = update.capacity {
        check_capacity(&app, c)?;
    }
    Ok(Json(app.broker.update_room(id, update, now_ms()).await?))
}

pub async fn delete_room(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let id = room_id(&id)?;
    app.broker.delete_room(id, now_ms()).await?;
    tracing::info!(room = %id, "room deleted");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn create_invite(
    State(app): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
    body: Result<Json<CreateInvite>, JsonRejection>,
) -> Result<(StatusCode, Json<Invite>), AppError> {
    let id = room_id(&id)?;
    let Json(req) = body?;
    app.broker.room(id).await?;
    let ttl = req.ttl_seconds.unwrap_or(app.config.invite_ttl_secs);
    if ttl == 0 || ttl > 30 * 24 * 3600 {
        return Err(AppError::new(
            ErrorCode::BadRequest,
            "ttl_seconds must be between 1 and 30 days",
        ));
    }
    let expires_at = now_ms() + ttl * 1000;
    let token = app.signer.invite_token(InviteClaims {
        room: id,
        role: Role::Facilitator,
        exp: expires_at,
    });
    Ok((
        StatusCode::CREATED,
        Json(Invite {
            url: format!("/?room={id}&invite={token}"),
            token,
            role: Role::Facilitator,
            expires_at,
        }),
    ))
}

/// A pseudonym: trimmed, 1–32 characters, nothing that breaks others' screens.
fn check_name(name: &str) -> Result<String, AppError> {
    normalize_name(name).map_err(|e| AppError::new(ErrorCode::BadRequest, e.to_string()))
}

/// The address's join allowance is checked first, from the request's head
/// ([`super::JoinAllowance`]), before any of the body is read.
pub async fn join(
    _: super::JoinAllowance,
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
    let now = now_ms();
    let role = match &req.invite {
        None => Role::Participant,
        Some(invite) => {
            let claims = app.signer.verify_invite(invite, room, now).map_err(|e| {
                tracing::info!(%room, error = %e, "invite refused");
                AppError::new(
                    ErrorCode::Unauthorized,
                    "this invite is not valid for this room, or it has expired",
                )
            })?;
            claims.role
        }
    };
    let session = app.broker.admits(room, role, &name).await?;
    let user = UserId::new();
    let expires_at = now + app.config.token_ttl_secs * 1000;
    let token = app.signer.session_token(SessionClaims {
        room,
        user,
        name,
        role,
        session,
        exp: expires_at,
    });
    tracing::info!(%room, %user, ?role, "joined");
    Ok(Json(JoinResponse {
        token,
        user_id: user,
        role,
        room,
        expires_at,
        ws_path: "/ws".to_owned(),
    }))
}
