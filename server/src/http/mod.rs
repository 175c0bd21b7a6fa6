//! HTTP: axum handlers only. Admission and the admin API (`api`), the WebSocket
//! upgrade (`ws`), health and metrics (`health`), and one error type (`error`)
//! that renders every failure as `{code, message}`.

mod api;
mod error;
mod health;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use error::AppError;

use crate::app::AppState;

/// Largest HTTP request body accepted (room settings, join requests).
const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/rooms", post(api::create_room).get(api::list_rooms))
        .route(
            "/api/rooms/{id}",
            get(api::get_room)
                .patch(api::update_room)
                .delete(api::delete_room),
        )
        .route("/api/rooms/{id}/invites", post(api::create_invite))
        .route("/api/rooms/{id}/join", post(api::join))
        .route("/ws", get(ws::upgrade))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
