//! HTTP: the edge (`edge`: accepting connections and serving them with hyper, with
//! caps and timeouts), the client's address (`forwarded`), and the axum handlers:
//! admission and the admin API (`api`), the WebSocket upgrade (`ws`), health and
//! metrics (`health`), the embedded web client (`assets`), and one error type
//! (`error`) that renders every failure as `{code, message}`.

pub mod api;
mod assets;
pub mod edge;
mod error;
pub mod forwarded;
mod health;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{delete, get, post};

pub use error::AppError;

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use kindred_protocol::ErrorCode;

use crate::app::AppState;

/// The public routes: everything but `/metrics`, which has a listener of its own
/// ([`metrics_router`]).
pub fn router(state: Arc<AppState>) -> Router {
    let limits = edge::BodyLimits {
        max_bytes: state.config.max_body_bytes,
        timeout: state.config.body_timeout(),
    };
    Router::new()
        .route("/api/rooms", post(api::create_room).get(api::list_rooms))
        .route(
            "/api/rooms/{id}",
            get(api::get_room)
                .patch(api::update_room)
                .delete(api::delete_room),
        )
        .route(
            "/api/rooms/{id}/invites",
            post(api::create_invite).get(api::list_invites),
        )
        .route(
            "/api/rooms/{id}/invites/{invite}",
            get(api::get_invite).delete(api::revoke_invite),
        )
        .route("/api/rooms/{id}/members/{user}", delete(api::remove_member))
        .route("/api/rooms/{id}/join", post(api::join))
        .route("/api/rooms/{id}/calendar.ics", get(api::calendar))
        .route("/ws", get(ws::upgrade))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(assets::routes())
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            limits,
            edge::guard_body,
        ))
        .with_state(state)
}

/// `/metrics` alone, for the metrics listener (`--metrics-bind`).
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// The client's address: the socket peer, or with `--trust-forwarded-for` and a peer
/// among `--trusted-proxies`, the rightmost `X-Forwarded-For` entry no trusted proxy
/// added ([`forwarded`]).
pub fn client_ip(app: &AppState, peer: &ConnectInfo<SocketAddr>, headers: &HeaderMap) -> IpAddr {
    forwarded::client_addr(
        peer.0.ip(),
        headers,
        app.config.trust_forwarded_for,
        &app.config.trusted_proxies,
    )
}

/// Count one join or upgrade against the address's allowance (an IPv6 address counts
/// as its /64).
pub fn limit_ip(app: &AppState, ip: IpAddr) -> Result<(), AppError> {
    app.joins
        .check_key(&forwarded::limit_key(ip))
        .map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            app.metrics.error(ErrorCode::RateLimited);
            AppError {
                code: ErrorCode::RateLimited,
                message: "too many attempts from your address; please wait a moment".to_owned(),
                retry_after_ms: Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)),
                next_session: None,
            }
        })
}

/// Proof that the request's address was within its join allowance, and that address.
/// An extractor from the request's head, so the check runs before any of the body is
/// read.
pub struct JoinAllowance(pub IpAddr);

impl FromRequestParts<Arc<AppState>> for JoinAllowance {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .cloned()
            .ok_or_else(|| AppError::new(ErrorCode::Internal, "no peer address"))?;
        let ip = client_ip(app, &peer, &parts.headers);
        limit_ip(app, ip)?;
        Ok(JoinAllowance(ip))
    }
}
