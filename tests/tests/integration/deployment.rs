//! Kindred behind a reverse proxy: the proxy rewrites the Host header, so a browser is
//! recognised by the public URL's origin (`--public-url`), not by Host. The shipped
//! deployment files are checked by their own tools in `files`, the nginx site's
//! failover and admin gate are run in `proxy`, the TLS site in `tls`, and a rolling
//! restart in `upgrade`.

mod files;
mod proxy;
mod tls;
mod upgrade;

use futures_util::{SinkExt, StreamExt};
use kindred_protocol::{ClientFrame, ServerFrame};
use kindred_tests::{TestServer, WAIT};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::Request;
use tokio_tungstenite::tungstenite::{Error, Message};

const PUBLIC_URL: &str = "https://chat.example.org";

async fn behind_a_proxy() -> TestServer {
    let mut c = kindred_tests::config();
    c.edge.public_url = Some(PUBLIC_URL.into());
    TestServer::with(c).await
}

/// The upgrade a browser on `origin` sends, as the proxy forwards it: Host rewritten to
/// an upstream address that is not the server's own.
fn upgrade_through_proxy(server: &TestServer, origin: &str) -> Request<()> {
    let mut req = server.ws_url().into_client_request().expect("a ws url");
    let headers = req.headers_mut();
    headers.insert("origin", origin.parse().expect("a header value"));
    headers.insert("host", "127.0.0.1:1".parse().expect("a header value"));
    req
}

#[tokio::test]
async fn browser_behind_a_proxy_is_accepted_by_the_public_origin() {
    let server = behind_a_proxy().await;
    let room = server.room(12).await;
    let joined = server.join(room, "Robin").await.expect("join accepted");
    let (mut ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async(upgrade_through_proxy(&server, PUBLIC_URL)),
    )
    .await
    .expect("the upgrade answers in time")
    .expect("the public origin may open a WebSocket");
    let hello = ClientFrame::Hello {
        first_time: false,
        token: joined.token.clone(),
        last_seq: None,
        epoch: None,
    };
    ws.send(Message::text(serde_json::to_string(&hello).unwrap()))
        .await
        .expect("hello sent");
    let welcome = tokio::time::timeout(WAIT, async {
        while let Some(msg) = ws.next().await {
            if let Message::Text(text) = msg.expect("the socket stays open") {
                let frame: ServerFrame = serde_json::from_str(text.as_str()).expect("a frame");
                if let ServerFrame::Welcome(w) = frame {
                    return w;
                }
            }
        }
        panic!("the socket closed before the welcome");
    })
    .await
    .expect("the welcome arrives in time");
    assert_eq!(welcome.you.name, "Robin");
    assert_eq!(welcome.you.user, joined.user_id);
    drop(ws);
    server.stop().await;
}

#[tokio::test]
async fn a_page_on_another_site_is_refused_behind_a_proxy() {
    let server = behind_a_proxy().await;
    for origin in ["https://evil.example", "http://127.0.0.1:1"] {
        match connect_status(&server, origin).await {
            Some(403) => {}
            other => panic!("{origin}: expected HTTP 403, got {other:?}"),
        }
    }
    server.stop().await;
}

/// The HTTP status of a refused upgrade; `None` when it was accepted.
async fn connect_status(server: &TestServer, origin: &str) -> Option<u16> {
    let attempt = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async(upgrade_through_proxy(server, origin)),
    )
    .await
    .expect("the upgrade answers in time");
    match attempt {
        Ok(_) => None,
        Err(Error::Http(resp)) => Some(resp.status().as_u16()),
        Err(e) => panic!("{origin}: expected an HTTP answer, got {e}"),
    }
}
