//! HTTP: the edge (`edge`: accepting connections and serving them with hyper, with
//! caps and timeouts), the client's address (`forwarded`), and the axum handlers:
//! admission and the admin API (`api`), the WebSocket upgrade (`ws`), health and
//! metrics (`health`), the embedded web client (`assets`), and one error type
//! (`error`) that renders every failure as `{code, message}`, an unknown path (404)
//! or method (405) included.

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
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use kindred_protocol::ErrorCode;

use crate::state::{AppState, allowance};

/// The public routes: everything but `/metrics`, which has a listener of its own
/// ([`metrics_router`]).
pub fn router(state: Arc<AppState>) -> Router {
    let limits = edge::BodyLimits {
        max_bytes: state.config.edge.max_body_bytes,
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
        .route("/api/rooms/{id}/seat", post(api::take_seat))
        .route("/api/rooms/{id}/seat/code", post(api::seat_code))
        .route("/api/rooms/{id}/calendar.ics", get(api::calendar))
        .route("/api/resources", get(api::resources))
        .route("/api/oncall", post(api::create_link).get(api::list_links))
        .route("/api/oncall/board", get(api::get_board))
        .route("/api/oncall/{id}", delete(api::revoke_link))
        .route("/api/oncall/rooms/{id}/join", post(api::join_room))
        .route("/ws", get(ws::upgrade))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(assets::routes())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.edge.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            limits,
            edge::guard_body,
        ))
        // Outermost, so it sees every answer, the body guard's too.
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Count every HTTP error by code and route (`kindred_http_errors_total`), and log the
/// refused calls: an admin route's at `warn` with its method, route, path (ids only:
/// no query string, no header), code and the caller as a keyed hash of their address
/// ([`Signer::caller`](crate::auth::Signer::caller)), never a token or the address;
/// the others at `debug`.
async fn observe(
    axum::extract::State(app): axum::extract::State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let admin = is_admin_call(&method, &route)
        || request
            .headers()
            .contains_key(axum::http::header::AUTHORIZATION);
    // Only an admin call's refusal names its caller.
    let caller = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .filter(|_| admin)
        .map(|peer| client_ip(&app, peer, request.headers()));
    let response = next.run(request).await;
    let status = response.status();
    // `/readyz`'s 503 says "not now", and why: an answer, not an error.
    let answered = route == "/readyz";
    if !answered && (status.is_client_error() || status.is_server_error()) {
        let code = response
            .extensions()
            .get::<ErrorCode>()
            .copied()
            .unwrap_or_else(|| code_of_status(status));
        app.metrics.http_error(code, &route);
        if admin {
            let caller = caller.map_or_else(|| "unknown".to_owned(), |ip| app.signer.caller(ip));
            tracing::warn!(%method, %route, %path, status = status.as_u16(), code = code.as_str(), %caller, "admin call refused");
        } else {
            tracing::debug!(%method, %route, status = status.as_u16(), code = code.as_str(), "request refused");
        }
    }
    response
}

/// The admin API's routes: everything under `/api/rooms` but reading the directory, a
/// room, its calendar, and joining.
fn is_admin_call(method: &axum::http::Method, route: &str) -> bool {
    use axum::http::Method;
    route.starts_with("/api/rooms")
        && route != "/api/rooms/{id}/join"
        && !(method == Method::GET
            && matches!(
                route,
                "/api/rooms" | "/api/rooms/{id}" | "/api/rooms/{id}/calendar.ics"
            ))
}

/// The code of an error answer that did not come from [`AppError`] (axum's own).
fn code_of_status(status: axum::http::StatusCode) -> ErrorCode {
    use axum::http::StatusCode;
    match status {
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::TooLarge,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    }
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
        app.config.edge.trust_forwarded_for,
        &app.config.edge.trusted_proxies,
    )
}

/// Count one join or upgrade against the address's allowance (an IPv6 address counts
/// as its network, `--ipv6-prefix`).
pub fn limit_ip(app: &AppState, ip: IpAddr) -> Result<(), AppError> {
    allowance::check(
        &app.joins,
        forwarded::limit_key(ip, app.config.edge.ipv6_prefix),
    )
    .map_err(|wait| {
        rate_limited(
            "too many attempts from your address; please wait a moment",
            wait,
        )
    })
}

/// An allowance spent: `rate_limited` with `message` and when the next request is
/// allowed (`retry_after_ms`, `Retry-After`).
pub fn rate_limited(message: &str, wait: Duration) -> AppError {
    AppError {
        code: ErrorCode::RateLimited,
        message: message.to_owned(),
        retry_after_ms: Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)),
        next_session: None,
    }
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
