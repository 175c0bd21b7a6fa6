//! The WebSocket upgrade: connection limit, socket limits, then a tracked session.

use std::sync::Arc;

use std::net::SocketAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kindred_protocol::ErrorCode;

use super::AppError;
use crate::app::AppState;
use crate::session;

pub async fn upgrade(
    State(app): State<Arc<AppState>>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if app.shutdown.is_cancelled() {
        return AppError::new(ErrorCode::Internal, "the server is shutting down").into_response();
    }
    if !origin_allowed(&app.config.allowed_origins, &headers) {
        app.metrics.error(ErrorCode::Forbidden);
        tracing::info!("websocket refused: origin not allowed");
        return AppError::new(
            ErrorCode::Forbidden,
            "this page is not allowed to connect to Kindred",
        )
        .into_response();
    }
    if let Err(e) = super::limit_ip(&app, super::client_ip(&app, &peer, &headers)) {
        return e.into_response();
    }
    // Take the permit before upgrading, and hold it in the session task.
    let Ok(permit) = app.connections.clone().try_acquire_owned() else {
        app.metrics.error(ErrorCode::RateLimited);
        return AppError::new(
            ErrorCode::Internal,
            "the server is at its connection limit; please try again shortly",
        )
        .into_response();
    };
    let c = &app.config;
    ws.read_buffer_size(c.ws_read_buffer)
        .write_buffer_size(c.ws_write_buffer)
        .max_write_buffer_size(
            c.ws_max_write_buffer
                .max(c.ws_write_buffer + c.max_frame_bytes),
        )
        .max_message_size(c.max_frame_bytes)
        .max_frame_size(c.max_frame_bytes)
        .on_upgrade(move |socket| {
            let tracker = app.tracker.clone();
            let session = session::run(socket, app, permit);
            tracker.track_future(session)
        })
}

/// Browsers send the page's origin with every WebSocket handshake; a page on another
/// site must not open sessions with a member's stored token. Clients that send no
/// Origin (apps, the load tester) are not browsers and are allowed.
fn origin_allowed(allowed: &[String], headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/') == origin)
    {
        return true;
    }
    if !allowed.is_empty() {
        return false;
    }
    // Default: the server's own origin, i.e. the Origin's authority is the Host.
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(axum::http::header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn by_default_only_the_servers_own_origin_and_non_browsers_connect() {
        assert!(origin_allowed(&[], &headers(None, "kindred.example")));
        assert!(origin_allowed(
            &[],
            &headers(Some("https://kindred.example"), "kindred.example")
        ));
        assert!(origin_allowed(
            &[],
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080")
        ));
        assert!(!origin_allowed(
            &[],
            &headers(Some("https://evil.example"), "kindred.example")
        ));
        assert!(!origin_allowed(
            &[],
            &headers(Some("null"), "kindred.example")
        ));
    }

    #[test]
    fn an_allowlist_replaces_the_default() {
        let allowed = vec!["https://app.example".to_owned()];
        assert!(origin_allowed(
            &allowed,
            &headers(Some("https://app.example"), "api.example")
        ));
        assert!(!origin_allowed(
            &allowed,
            &headers(Some("https://api.example"), "api.example")
        ));
        let any = vec!["*".to_owned()];
        assert!(origin_allowed(
            &any,
            &headers(Some("https://whatever.example"), "api.example")
        ));
    }
}
