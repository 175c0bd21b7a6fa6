//! The shipped nginx site (`deploy/nginx/kindred.conf`) in front of real Kindred
//! servers: an upgrade that one instance refuses with 503 reaches the other, and the
//! admin API answers through the public port only from the admin networks (loopback
//! here), while `kindred-admin.conf`'s port serves it to whoever reaches that port.
//! Which requests nginx repeats on another instance is counted on two plain HTTP
//! listeners that answer everything 503, as an instance shutting down does.

use std::net::{IpAddr, Ipv4Addr, TcpListener};

use kindred_tests::nginx::Nginx;
use kindred_tests::{ADMIN, TestServer, WAIT};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const SITE: &str = include_str!("../../../../deploy/nginx/kindred.conf");
const ADMIN_SITE: &str = include_str!("../../../../deploy/nginx/kindred-admin.conf");

/// A loopback address that is not 127.0.0.1: outside the site's admin networks.
const OUTSIDE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// Open a WebSocket at `url`: the HTTP status of the upgrade's answer, and the socket
/// when it was accepted.
async fn upgrade_status(url: String) -> (u16, Option<Ws>) {
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .expect("the upgrade answers in time")
    {
        Ok((ws, resp)) => (resp.status().as_u16(), Some(ws)),
        Err(WsError::Http(resp)) => (resp.status().as_u16(), None),
        Err(e) => panic!("expected an HTTP answer to the upgrade, got {e}"),
    }
}

#[tokio::test]
async fn an_upgrade_a_full_instance_refuses_is_passed_to_the_other() {
    let mut full = kindred_tests::config();
    full.edge.max_connections = 1;
    let full = TestServer::with(full).await;
    let other = TestServer::start().await;
    let proxy = Nginx::start_proxy(&[full.running.addr, other.running.addr], SITE).await;
    // The full instance's one WebSocket, taken directly, not through the proxy.
    let (_taken, _) = tokio_tungstenite::connect_async(full.ws_url())
        .await
        .expect("the first WebSocket is accepted");
    let (status, _) = upgrade_status(full.ws_url()).await;
    assert_eq!(status, 503, "the full instance refuses a second WebSocket");

    // least_conn sends new upgrades to the instance with fewer proxied connections,
    // the full one among them: each is still accepted, by the other.
    let mut open = Vec::new();
    for i in 0..4 {
        let (status, ws) = upgrade_status(format!("ws://{}/ws", proxy.addr())).await;
        assert_eq!(
            status,
            101,
            "upgrade {i} through the proxy:\n{}",
            proxy.log()
        );
        open.push(ws);
    }
    drop(open);
    full.stop().await;
    other.stop().await;
}

async fn create_room(client: &reqwest::Client, base: &str) -> reqwest::Response {
    client
        .post(format!("{base}/api/rooms"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"title": "Tuesday evening group"}))
        .send()
        .await
        .expect("the proxy answers")
}

fn client_from(addr: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(addr)
        .timeout(WAIT)
        .build()
        .expect("a client")
}

#[tokio::test]
async fn the_admin_api_answers_on_the_public_port_only_from_the_admin_networks() {
    let server = TestServer::start().await;
    // The admin port of kindred-admin.conf, on a free loopback port.
    let admin_addr = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let admin_site = ADMIN_SITE.replace("listen 8090;", &format!("listen {admin_addr};"));
    assert_ne!(admin_site, ADMIN_SITE, "the admin site listens on 8090");
    let proxy = Nginx::start_proxy(&[server.running.addr], &format!("{SITE}\n{admin_site}")).await;
    let public = proxy.base();
    let outside = client_from(OUTSIDE);

    // From outside: refused by the proxy, with Kindred's error shape; nothing created.
    let refused = create_room(&outside, &public).await;
    assert_eq!(refused.status().as_u16(), 403);
    let body: serde_json::Value = refused.json().await.expect("a JSON body");
    assert_eq!(body["code"], "forbidden", "{body}");
    let rooms: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/rooms", server.base()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a room list");
    let listed = rooms.to_string();
    assert!(!listed.contains("Tuesday evening group"), "{listed}");
    // What members use still answers from outside.
    let directory = outside
        .get(format!("{public}/api/rooms"))
        .send()
        .await
        .expect("the proxy answers");
    assert_eq!(directory.status().as_u16(), 200);

    // From the proxy's own host (127.0.0.1), the admin API goes through.
    let created = create_room(&client_from(Ipv4Addr::LOCALHOST.into()), &public).await;
    assert!(created.status().is_success(), "{}", created.status());

    // The admin port serves it to whoever reaches the port, and nothing else.
    let admin_base = format!("http://{admin_addr}");
    let created = create_room(&outside, &admin_base).await;
    assert!(created.status().is_success(), "{}", created.status());
    let page = outside
        .get(format!("{admin_base}/"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(page.status().as_u16(), 404, "members use the public port");
    let metrics = outside
        .get(format!("{public}/metrics"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(metrics.status().as_u16(), 404);
    drop(proxy);
    server.stop().await;
}

/// A listener that answers every request `503` and notes its request line.
async fn unavailable_instance(seen: Arc<Mutex<Vec<String>>>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // The request head (the bodies here are small and follow it at once).
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                // The method and the path, whatever HTTP version nginx speaks upstream.
                let line: Vec<&str> = head.split_whitespace().take(2).collect();
                seen.lock().unwrap().push(line.join(" "));
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_get_answered_503_is_tried_on_the_next_instance_and_a_post_never_twice() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let upstreams = [
        unavailable_instance(seen.clone()).await,
        unavailable_instance(seen.clone()).await,
    ];
    let proxy = Nginx::start_proxy(&upstreams, SITE).await;
    let client = client_from(Ipv4Addr::LOCALHOST.into());

    let join = client
        .post(format!("{}/api/rooms/r1/join", proxy.base()))
        .json(&serde_json::json!({"name": "Robin", "accept_guidelines": true}))
        .send()
        .await
        .expect("the proxy answers");
    assert_eq!(join.status().as_u16(), 503);
    let posts: Vec<String> = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(
        posts,
        ["POST /api/rooms/r1/join"],
        "a join an instance received is not sent again"
    );

    let directory = client
        .get(format!("{}/api/rooms", proxy.base()))
        .send()
        .await
        .expect("the proxy answers");
    assert_eq!(
        directory.status().as_u16(),
        503,
        "every instance answered 503"
    );
    let gets = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(
        gets,
        ["GET /api/rooms", "GET /api/rooms"],
        "a GET goes on to the next instance"
    );
}
