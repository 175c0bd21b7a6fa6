//! HTTP: axum handlers only. Admission and the admin API (`api`), the WebSocket
//! upgrade (`ws`), health and metrics (`health`), the embedded web client
//! (`assets`), and one error type (`error`) that renders every failure as
//! `{code, message}`.

mod api;
mod assets;
mod error;
mod health;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use error::AppError;

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use kindred_protocol::ErrorCode;

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
        .merge(assets::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The client's address: the socket peer, or the proxy's `X-Forwarded-For` when the
/// operator says to trust it.
pub fn client_ip(app: &AppState, peer: &ConnectInfo<SocketAddr>, headers: &HeaderMap) -> IpAddr {
    if app.config.trust_forwarded_for
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    peer.0.ip()
}

/// Count one join or upgrade against the address's allowance.
pub fn limit_ip(app: &AppState, ip: IpAddr) -> Result<(), AppError> {
    app.joins.check_key(&ip).map_err(|not_until| {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        app.metrics.error(ErrorCode::RateLimited);
        AppError {
            code: ErrorCode::RateLimited,
            message: "too many attempts from your address; please wait a moment".to_owned(),
            retry_after_ms: Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)),
        }
    })
}
