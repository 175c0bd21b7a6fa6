//! The bundled web client: the static files of `web-client/`, compiled into the
//! binary so that `kindred` alone serves a working client with nothing to install.
//!
//! Every asset is answered with its content type, `Cache-Control: no-cache` (the
//! browser revalidates with the `ETag`, so a new binary is picked up at once and an
//! unchanged file costs a 304), and a strict Content-Security-Policy: scripts and
//! styles only from this origin, no inline script, no third-party requests, and
//! WebSockets to this host. `Referrer-Policy: no-referrer` keeps an invite token in
//! the page's address from leaking to any link a member follows.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The policy of every page and file of the client. `ws:`/`wss:` because a
/// browser only counts `'self'` as the page's own scheme (http/https).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// One embedded file: the path it is served at, its type and its bytes.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The page itself, served at `/` and at `/join/{room}` (the shape of a shared link).
const INDEX: Asset = Asset {
    path: "/index.html",
    content_type: HTML,
    body: include_bytes!("../../../web-client/index.html"),
};

/// Every file of the client. Adding a module to `web-client/` means adding it here.
const ASSETS: &[Asset] = &[
    INDEX,
    Asset {
        path: "/app.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/app.js"),
    },
    Asset {
        path: "/connection.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/connection.js"),
    },
    Asset {
        path: "/chat.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/chat.js"),
    },
    Asset {
        path: "/layout.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/layout.js"),
    },
    Asset {
        path: "/banners.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/banners.js"),
    },
    Asset {
        path: "/people.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/people.js"),
    },
    Asset {
        path: "/typing.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/typing.js"),
    },
    Asset {
        path: "/facilitator.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/facilitator.js"),
    },
    Asset {
        path: "/dom.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/dom.js"),
    },
    Asset {
        path: "/alerts.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/alerts.js"),
    },
    Asset {
        path: "/cards.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/cards.js"),
    },
    Asset {
        path: "/modlog.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/modlog.js"),
    },
    Asset {
        path: "/guard.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/guard.js"),
    },
    Asset {
        path: "/oncall.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/oncall.js"),
    },
    Asset {
        path: "/outbox.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/outbox.js"),
    },
    Asset {
        path: "/room.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/room.js"),
    },
    Asset {
        path: "/schedule.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/schedule.js"),
    },
    Asset {
        path: "/timeline.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/timeline.js"),
    },
    Asset {
        path: "/waiting.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/waiting.js"),
    },
    Asset {
        path: "/whispers.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/whispers.js"),
    },
    Asset {
        path: "/announcer.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/announcer.js"),
    },
    Asset {
        path: "/composer.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/composer.js"),
    },
    Asset {
        path: "/crisis.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/crisis.js"),
    },
    Asset {
        path: "/ending.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/ending.js"),
    },
    Asset {
        path: "/mute.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/mute.js"),
    },
    Asset {
        path: "/quickexit.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/quickexit.js"),
    },
    Asset {
        path: "/seat.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/seat.js"),
    },
    Asset {
        path: "/style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../../web-client/style.css"),
    },
    Asset {
        path: "/structure.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../../web-client/structure.css"),
    },
    Asset {
        path: "/structure.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/structure.js"),
    },
    Asset {
        path: "/myview.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../../web-client/myview.css"),
    },
    Asset {
        path: "/myview.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/myview.js"),
    },
    Asset {
        path: "/checkin.js",
        content_type: JS,
        body: include_bytes!("../../../web-client/checkin.js"),
    },
    Asset {
        path: "/favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../../web-client/favicon.svg"),
    },
];

/// Routes for the client: `/`, `/join/{room}` and one per file.
pub fn routes() -> Router<Arc<AppState>> {
    let mut router = Router::new();
    for asset in ASSETS {
        let served = Served::new(asset);
        router = router.route(
            asset.path,
            get({
                let served = served.clone();
                move |headers: HeaderMap| async move { served.respond(&headers) }
            }),
        );
        if asset.path == INDEX.path {
            router = router
                .route(
                    "/",
                    get({
                        let served = served.clone();
                        move |headers: HeaderMap| async move { served.respond(&headers) }
                    }),
                )
                .route(
                    "/join/{room}",
                    get(move |headers: HeaderMap| async move { served.respond(&headers) }),
                );
        }
    }
    router
}

/// An asset with its validator, computed once when the router is built.
#[derive(Clone)]
struct Served {
    asset: &'static Asset,
    etag: HeaderValue,
}

impl Served {
    fn new(asset: &'static Asset) -> Self {
        let digest = Sha256::digest(asset.body);
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let etag = HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header");
        Self { asset, etag }
    }

    fn respond(&self, request: &HeaderMap) -> Response {
        let fresh = request
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|tag| {
                let tag = tag.trim();
                tag == "*" || tag.trim_start_matches("W/").as_bytes() == self.etag.as_bytes()
            });
        let headers = [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.asset.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::ETAG, self.etag.clone()),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ];
        if fresh {
            (StatusCode::NOT_MODIFIED, headers).into_response()
        } else {
            (headers, self.asset.body).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_distinct_path_and_a_body() {
        let mut paths: Vec<_> = ASSETS.iter().map(|a| a.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), ASSETS.len());
        assert!(ASSETS.iter().all(|a| !a.body.is_empty()));
    }

    /// A module missing here is a 404 for its importer, and the whole client fails to
    /// start: every file of `web-client/` must be served.
    #[test]
    fn every_file_of_the_client_is_served() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web-client");
        let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("web-client/ is beside server/") {
            let name = entry.expect("a directory entry").file_name();
            let path = format!("/{}", name.to_string_lossy());
            if !served.contains(&path.as_str()) {
                missing.push(path);
            }
        }
        assert!(missing.is_empty(), "not in ASSETS: {missing:?}");
    }

    #[test]
    fn the_page_loads_no_inline_script_and_nothing_from_elsewhere() {
        let page = std::str::from_utf8(INDEX.body).expect("index.html is UTF-8");
        assert!(
            !page.contains("<script>"),
            "inline script would break the CSP"
        );
        // Nothing is loaded from elsewhere: the one address on the page is where the
        // quick exit leads, a link the browser follows only when it is used.
        let elsewhere: Vec<&str> = page
            .match_indices("http")
            .map(|(at, _)| &page[at.saturating_sub(40)..at])
            .filter(|before| !before.contains("<a href=\""))
            .collect();
        assert!(elsewhere.is_empty(), "{elsewhere:?}");
        assert_eq!(
            page.matches("<a href=\"http").count(),
            1,
            "only the quick exit"
        );
        for asset in ASSETS {
            let name = asset.path.trim_start_matches('/');
            if name != "index.html" && !name.ends_with(".js") {
                continue;
            }
            let text = std::str::from_utf8(asset.body).expect("UTF-8");
            assert!(
                !text.contains("innerHTML"),
                "{name} must build the DOM, not parse HTML"
            );
        }
    }

    #[test]
    fn a_matching_etag_gets_not_modified() {
        let served = Served::new(&ASSETS[0]);
        let mut headers = HeaderMap::new();
        assert_eq!(served.respond(&headers).status(), StatusCode::OK);
        headers.insert(header::IF_NONE_MATCH, served.etag.clone());
        let response = served.respond(&headers);
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    }
}
