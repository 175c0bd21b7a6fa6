//! The WebSocket upgrade: connection limit, socket limits, then a tracked session.

use std::sync::Arc;

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kindred_protocol::ErrorCode;

use super::AppError;
use super::edge::Gather;
use crate::session;
use crate::state::AppState;

pub async fn upgrade(
    State(app): State<Arc<AppState>>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Extension(gather): Extension<Gather>,
    ws: WebSocketUpgrade,
) -> Response {
    if app.shutdown.is_cancelled() {
        return AppError::new(ErrorCode::Internal, "the server is shutting down").into_response();
    }
    if !origin_allowed(
        &app.config.edge.allowed_origins,
        app.config.edge.public_url.as_deref(),
        &headers,
    ) {
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
        return AppError::new(
            ErrorCode::Internal,
            "the server is at its connection limit; please try again shortly",
        )
        .into_response();
    };
    let c = &app.config.sockets;
    // The session writes its frames into the socket's gather itself (see
    // `edge::gather`); tungstenite writes only its control frames, at once.
    ws.read_buffer_size(c.ws_read_buffer)
        .write_buffer_size(0)
        .max_write_buffer_size(
            c.ws_max_write_buffer
                .max(c.ws_write_buffer + c.max_frame_bytes),
        )
        .max_message_size(c.max_frame_bytes)
        .max_frame_size(c.max_frame_bytes)
        .on_upgrade(move |socket| {
            let tracker = app.tracker.clone();
            let session = session::run(socket, gather, app, permit);
            tracker.track_future(session)
        })
}

/// Browsers send the page's origin with every WebSocket handshake; a page on another
/// site must not open sessions with a member's stored token. Clients that send no
/// Origin (apps, the load tester) are not browsers and are allowed.
///
/// Which origins are allowed, first match wins:
/// 1. an explicit `--allowed-origin` list (`*` for any);
/// 2. else, with `--public-url`, that URL's origin only: behind a proxy the Host header
///    may be rewritten (to the upstream's address), so it cannot be trusted to name the
///    page's site;
/// 3. else the server's own origin: the Origin's authority is the Host header.
fn origin_allowed(allowed: &[String], public_url: Option<&str>, headers: &HeaderMap) -> bool {
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
    if let Some(url) = public_url {
        // A public URL that is not an http(s) URL allows no browser at all (fail
        // closed); the binary refuses to start with one.
        return public_origin(url).is_some_and(|o| o.eq_ignore_ascii_case(origin));
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

/// The origin a browser sends for pages under `url`: `scheme://host[:port]`, lowercase,
/// without path, query or trailing slash, and without the scheme's default port (a
/// browser never writes `:443` for https). `None` unless `url` is an absolute `http` or
/// `https` URL without user info.
fn public_origin(url: &str) -> Option<String> {
    let uri: axum::http::Uri = url.trim().parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = uri.authority()?;
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    Some(match authority.port_u16() {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
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
        assert!(origin_allowed(&[], None, &headers(None, "kindred.example")));
        assert!(origin_allowed(
            &[],
            None,
            &headers(Some("https://kindred.example"), "kindred.example")
        ));
        assert!(origin_allowed(
            &[],
            None,
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080")
        ));
        assert!(!origin_allowed(
            &[],
            None,
            &headers(Some("https://evil.example"), "kindred.example")
        ));
        assert!(!origin_allowed(
            &[],
            None,
            &headers(Some("null"), "kindred.example")
        ));
    }

    #[test]
    fn an_allowlist_replaces_the_default() {
        let allowed = vec!["https://app.example".to_owned()];
        assert!(origin_allowed(
            &allowed,
            None,
            &headers(Some("https://app.example"), "api.example")
        ));
        assert!(!origin_allowed(
            &allowed,
            None,
            &headers(Some("https://api.example"), "api.example")
        ));
        let any = vec!["*".to_owned()];
        assert!(origin_allowed(
            &any,
            None,
            &headers(Some("https://whatever.example"), "api.example")
        ));
    }

    const PUBLIC: Option<&str> = Some("https://chat.example.org");

    #[test]
    fn behind_a_proxy_the_public_urls_origin_is_allowed_whatever_the_host_header_says() {
        // The proxy forwarded to 127.0.0.1:8105 and rewrote Host on the way.
        let rewritten = "127.0.0.1:8105";
        assert!(origin_allowed(
            &[],
            PUBLIC,
            &headers(Some("https://chat.example.org"), rewritten)
        ));
        assert!(origin_allowed(
            &[],
            Some("https://Chat.Example.org:443/kindred/"),
            &headers(Some("https://chat.example.org"), rewritten)
        ));
        assert!(origin_allowed(
            &[],
            Some("http://localhost:8080/"),
            &headers(Some("http://localhost:8080"), "kindred1:8080")
        ));
    }

    #[test]
    fn behind_a_proxy_other_origins_are_refused() {
        for (origin, host) in [
            ("https://evil.example", "127.0.0.1:8105"),
            ("https://evil.example", "evil.example"),
            ("http://chat.example.org", "chat.example.org"),
            ("https://chat.example.org:8443", "chat.example.org:8443"),
            ("null", "chat.example.org"),
            // The instance's own address no longer counts: members come through the proxy.
            ("http://127.0.0.1:8105", "127.0.0.1:8105"),
        ] {
            assert!(
                !origin_allowed(&[], PUBLIC, &headers(Some(origin), host)),
                "{origin} with Host {host}"
            );
        }
        // A public URL that is not an http(s) URL lets no browser in.
        assert!(!origin_allowed(
            &[],
            Some("chat.example.org"),
            &headers(Some("https://chat.example.org"), "chat.example.org")
        ));
    }

    #[test]
    fn behind_a_proxy_clients_without_an_origin_still_connect() {
        assert!(origin_allowed(
            &[],
            PUBLIC,
            &headers(None, "127.0.0.1:8105")
        ));
    }

    #[test]
    fn an_allowlist_wins_over_the_public_url() {
        let allowed = vec!["https://app.example".to_owned()];
        assert!(origin_allowed(
            &allowed,
            PUBLIC,
            &headers(Some("https://app.example"), "127.0.0.1:8105")
        ));
        assert!(!origin_allowed(
            &allowed,
            PUBLIC,
            &headers(Some("https://chat.example.org"), "127.0.0.1:8105")
        ));
    }

    #[test]
    fn the_public_origin_is_scheme_host_and_port_only() {
        for (url, origin) in [
            ("https://chat.example.org", Some("https://chat.example.org")),
            (
                "https://chat.example.org/",
                Some("https://chat.example.org"),
            ),
            (
                "https://chat.example.org/kindred/?x=1",
                Some("https://chat.example.org"),
            ),
            (
                "HTTPS://Chat.Example.ORG:443",
                Some("https://chat.example.org"),
            ),
            ("http://localhost:80/", Some("http://localhost")),
            ("http://localhost:8080", Some("http://localhost:8080")),
            ("https://[::1]:8443/", Some("https://[::1]:8443")),
            (
                " https://chat.example.org ",
                Some("https://chat.example.org"),
            ),
            ("chat.example.org", None),
            ("/kindred", None),
            ("ftp://chat.example.org", None),
            ("https://user:pw@chat.example.org", None),
            ("", None),
        ] {
            assert_eq!(public_origin(url).as_deref(), origin, "{url:?}");
        }
    }
}
