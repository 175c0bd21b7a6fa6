//! The HTTP edge, probed with raw TCP: a client that never finishes its headers, an
//! idle keep-alive connection, a flood of idle connections, a body that is too large or
//! too slow, a forged `X-Forwarded-For` — each is bounded, and the members in a room
//! talk on meanwhile. Every wait here is bounded too.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use kindred_protocol::client::{ConnectOptions, Connection};
use kindred_protocol::http::JoinRequest;
use kindred_protocol::{ClientFrame, ErrorCode, RoomId, ServerFrame, close_code};
use kindred_tests::{TestServer, WAIT, config, conversation_continues};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

const OTHER_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A TCP connection to `server` from `local` (any 127.x address works on loopback).
async fn connect_from(local: IpAddr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(local, 0))?;
    tokio::time::timeout(WAIT, socket.connect(server))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))?
}

/// How long until the server closes `stream` (reading and discarding whatever it says
/// first), or `None` if it is still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .ok()
    .map(|()| start.elapsed())
}

/// An HTTP response read off a raw socket: status and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn code(&self) -> ErrorCode {
        let body: kindred_protocol::http::HttpError =
            serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"));
        body.code
    }
}

/// Read one response (head and `Content-Length` body) within `limit`.
async fn read_answer<R: AsyncRead + Unpin>(stream: &mut R, limit: Duration) -> Answer {
    tokio::time::timeout(limit, async {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[..end]).into_owned();
                let status: u16 = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("a status line: {head:?}"));
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if data.len() >= end + 4 + length {
                    let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]);
                    return Answer {
                        status,
                        body: body.into_owned(),
                    };
                }
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => panic!(
                    "the connection closed before a full answer: {:?}",
                    String::from_utf8_lossy(&data)
                ),
                Ok(n) => data.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("an answer arrives in time")
}

/// The head of a join request for `room` announcing `length` body bytes.
fn join_head(room: RoomId, length: usize) -> String {
    format!(
        "POST /api/rooms/{room}/join HTTP/1.1\r\nHost: kindred\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// A member connected from another loopback address, with a bare connection.
async fn member_from(server: &TestServer, room: RoomId, name: &str, local: IpAddr) -> Connection {
    let http = reqwest::Client::builder()
        .local_address(local)
        .timeout(WAIT)
        .build()
        .unwrap();
    let joined: kindred_protocol::http::JoinResponse = http
        .post(format!("{}/api/rooms/{room}/join", server.base()))
        .json(&JoinRequest {
            name: name.into(),
            accept_guidelines: true,
            invite: None,
            device: None,
            seat_key: None,
        })
        .send()
        .await
        .expect("join answered")
        .error_for_status()
        .expect("join accepted")
        .json()
        .await
        .unwrap();
    let conn = tokio::time::timeout(
        WAIT,
        Connection::open_with(
            &server.ws_url(),
            ConnectOptions {
                local_ip: Some(local),
                ..ConnectOptions::default()
            },
        ),
    )
    .await
    .expect("the socket opens in time")
    .expect("the socket opens");
    let (conn, _, _) = tokio::time::timeout(WAIT, conn.handshake(&joined.token, None))
        .await
        .expect("welcome in time")
        .expect("hello accepted");
    conn
}

/// `a` says `text` and `b` hears it, within [`WAIT`].
async fn heard(a: &mut Connection, b: &mut Connection, text: &str) {
    a.send(&ClientFrame::Send {
        client_id: text.into(),
        guard: None,
        text: text.into(),
        cw: None,
    })
    .await
    .expect("sent");
    let deadline = Instant::now() + WAIT;
    loop {
        let frame = tokio::time::timeout_at(deadline, b.next_frame())
            .await
            .unwrap_or_else(|_| panic!("{text:?} is heard in time"))
            .expect("the connection is open");
        if matches!(&frame, ServerFrame::Message { text: t, .. } if t == text) {
            return;
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off_at_the_header_timeout_while_the_room_talks_on()
 {
    let mut c = config();
    c.edge.header_timeout_ms = 500;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let addr = server.running.addr;

    // A slowloris: a request head begun, then a byte every 100 ms, never finished.
    let slowloris = tokio::spawn(async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let start = Instant::now();
        let trickle = tokio::spawn(async move {
            let _ = write.write_all(b"GET /healthz HTTP/1.1\r\nHost: k").await;
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if write.write_all(b"i").await.is_err() {
                    return;
                }
            }
        });
        let mut buf = [0u8; 1024];
        let closed = tokio::time::timeout(WAIT, async {
            loop {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        trickle.abort();
        closed.ok().map(|()| start.elapsed())
    });
    // And a connection that says nothing at all.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let silent = tokio::spawn(async move { closed_within(&mut silent, WAIT).await });

    // The room talks on meanwhile.
    for i in 0..5 {
        conversation_continues(&mut alice, &mut bob, &format!("still here {i}")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (what, closed) in [
        ("the slowloris", slowloris.await.unwrap()),
        ("the silent connection", silent.await.unwrap()),
    ] {
        // Not before the header timeout (a timer never fires early), and at all: a
        // byte every 100 ms does not put it off.
        let after = closed.unwrap_or_else(|| panic!("{what} is still open after {WAIT:?}"));
        assert!(
            after >= Duration::from_millis(400),
            "{what} was closed after {after:?}, before the 500 ms header timeout"
        );
    }
    conversation_continues(&mut bob, &mut alice, "and after").await;
    server.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let mut c = config();
    c.edge.keep_alive_timeout_ms = 300;
    let server = TestServer::with(c).await;
    let mut stream = TcpStream::connect(server.running.addr).await.unwrap();
    for _ in 0..2 {
        // Requests keep it open...
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: kindred\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(read_answer(&mut stream, WAIT).await.status, 200);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // ...silence closes it.
    // At the configured timeout, which only a bound far above it can tell from the
    // default's.
    let default = Duration::from_millis(kindred::Config::default().edge.keep_alive_timeout_ms);
    let after = closed_within(&mut stream, WAIT)
        .await
        .expect("the idle connection is closed");
    assert!(
        after < default,
        "closed after {after:?}, as late as the default"
    );
    server.stop().await;
}

/// Of `streams`, how many the server still holds open, once every one it refused has
/// been told so; waits (bounded) until at most `cap` look open.
async fn still_open(streams: &[TcpStream], cap: usize) -> usize {
    let deadline = Instant::now() + WAIT;
    let mut open = vec![true; streams.len()];
    loop {
        let mut buf = [0u8; 512];
        for (stream, held) in streams.iter().zip(open.iter_mut()) {
            if *held {
                match stream.try_read(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    // A refusal's answer, end of file or a reset: not held.
                    _ => *held = false,
                }
            }
        }
        let count = open.iter().filter(|o| **o).count();
        if count <= cap || Instant::now() >= deadline {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_idle_connections_from_one_address_are_capped_while_another_address_joins_and_chats()
 {
    const CAP: usize = 50;
    let mut c = config();
    c.edge.max_connections_per_ip = CAP;
    // Long enough that only the cap, not the header timeout, closes anything here.
    c.edge.header_timeout_ms = 60_000;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let addr = server.running.addr;

    let mut flood = Vec::with_capacity(3_000);
    for _ in 0..3_000 {
        match connect_from(IpAddr::V4(Ipv4Addr::LOCALHOST), addr).await {
            Ok(stream) => flood.push(stream),
            Err(e) => panic!("connection {} failed: {e}", flood.len()),
        }
    }
    let held = still_open(&flood, CAP).await;
    // The test's own admin connection (kept alive by its client) may hold one place.
    assert!(
        (CAP - 2..=CAP).contains(&held),
        "{held} of 3000 idle connections from one address are held open (cap {CAP})"
    );

    // Another address is not affected: it joins, connects and chats.
    let mut robin = member_from(&server, room, "Robin", OTHER_ADDRESS).await;
    let mut sam = member_from(&server, room, "Sam", OTHER_ADDRESS).await;
    heard(&mut robin, &mut sam, "we got in").await;
    heard(&mut sam, &mut robin, "and we can talk").await;
    drop(flood);
    server.stop().await;
}

#[tokio::test]
async fn over_the_total_connection_cap_a_new_connection_is_refused_at_once_until_idle_ones_go() {
    let mut c = config();
    // A cap of 10 connections (twice the WebSocket limit); idle ones are not cut
    // while the test runs, so nothing but the cap decides here.
    c.edge.max_connections = 5;
    c.edge.max_http_connections = 0;
    c.edge.header_timeout_ms = 60_000;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let addr = server.running.addr;

    let mut flood = Vec::new();
    for _ in 0..100 {
        flood.push(TcpStream::connect(addr).await.unwrap());
    }
    let held = still_open(&flood, 10 - 2).await;
    assert!(
        held <= 10 - 2,
        "{held} idle connections held beside two members"
    );
    // The members already in keep talking.
    conversation_continues(&mut alice, &mut bob, "full house").await;
    // A newcomer who says nothing is answered and closed: unread (it sent nothing to
    // read) and not left waiting for a place, since none frees while it waits.
    let mut late = TcpStream::connect(addr).await.unwrap();
    let answer = read_answer(&mut late, WAIT).await;
    assert_eq!((answer.status, answer.code()), (503, ErrorCode::Internal));
    assert!(closed_within(&mut late, WAIT).await.is_some());
    assert_eq!(
        still_open(&flood, held).await,
        held,
        "every idle connection was still held when the newcomer was refused"
    );
    // Once the idle connections go, there is room again.
    drop(flood);
    let deadline = Instant::now() + WAIT;
    let joined = loop {
        match server.join(room, "Carol").await {
            Ok(joined) => break joined,
            Err(e) => {
                assert!(Instant::now() < deadline, "Carol never gets in: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let mut carol = server.connect(joined).await;
    conversation_continues(&mut carol, &mut alice, "made it").await;
    server.stop().await;
}

#[tokio::test]
async fn one_connection_over_the_per_address_cap_is_answered_429_and_closed() {
    const CAP: usize = 3;
    let mut c = config();
    c.edge.max_connections_per_ip = CAP;
    c.edge.header_timeout_ms = 60_000;
    let server = TestServer::with(c).await;
    // The test's own HTTP client speaks from 127.0.0.1; this address is the flood's.
    let mut idle = Vec::new();
    for _ in 0..CAP {
        idle.push(
            connect_from(OTHER_ADDRESS, server.running.addr)
                .await
                .unwrap(),
        );
    }
    assert_eq!(still_open(&idle, CAP).await, CAP, "the cap's worth is held");
    let mut one_more = connect_from(OTHER_ADDRESS, server.running.addr)
        .await
        .unwrap();
    let answer = read_answer(&mut one_more, WAIT).await;
    assert_eq!(
        (answer.status, answer.code()),
        (429, ErrorCode::RateLimited)
    );
    assert!(closed_within(&mut one_more, WAIT).await.is_some());
    assert_eq!(still_open(&idle, CAP).await, CAP, "the first ones stay");
    // When one of the first goes, the address may connect again.
    drop(idle.pop());
    let deadline = Instant::now() + WAIT;
    loop {
        let mut again = connect_from(OTHER_ADDRESS, server.running.addr)
            .await
            .unwrap();
        again
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: kindred\r\n\r\n")
            .await
            .unwrap();
        match read_answer(&mut again, WAIT).await.status {
            200 => break,
            429 => {
                assert!(Instant::now() < deadline, "the address never gets back in");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("expected 200 or 429, got {other}"),
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_keep_alive_connection_a_slowloris_and_a_stalled_upload_do_not_hold_shutdown_past_the_grace()
 {
    let mut c = config();
    c.operations.shutdown_grace_ms = 500;
    c.edge.header_timeout_ms = 60_000;
    c.edge.keep_alive_timeout_ms = 60_000;
    c.edge.body_timeout_ms = 60_000;
    let mut server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let addr = server.running.addr;

    let mut keep_alive = TcpStream::connect(addr).await.unwrap();
    keep_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kindred\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_answer(&mut keep_alive, WAIT).await.status, 200);
    let mut slowloris = TcpStream::connect(addr).await.unwrap();
    slowloris
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kin")
        .await
        .unwrap();
    let mut upload = TcpStream::connect(addr).await.unwrap();
    upload
        .write_all(join_head(room, 100).as_bytes())
        .await
        .unwrap();
    upload.write_all(b"{\"name\":").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Every timeout here is a minute: a server that stops within the test's wait
    // stopped at its grace, not when its clients pleased.
    server.running.shutdown();
    tokio::time::timeout(WAIT, &mut server.running.done)
        .await
        .expect("the server stops within the grace period, not when its clients please")
        .unwrap();
    for (what, stream) in [
        ("keep-alive", &mut keep_alive),
        ("slowloris", &mut slowloris),
        ("upload", &mut upload),
    ] {
        assert!(
            closed_within(stream, Duration::from_secs(1))
                .await
                .is_some(),
            "the {what} connection is closed"
        );
    }
    assert_eq!(alice.closed().await.0, close_code::GOING_AWAY);
}

#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_with_413_before_any_of_it_is_read() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut stream = TcpStream::connect(server.running.addr).await.unwrap();
    // 20 MB announced, not a byte of it sent: the answer comes from the head alone.
    stream
        .write_all(join_head(room, 20 * 1024 * 1024).as_bytes())
        .await
        .unwrap();
    // A server that waited for the body would answer 408 at the body timeout.
    let answer = read_answer(&mut stream, WAIT).await;
    assert_eq!((answer.status, answer.code()), (413, ErrorCode::TooLarge));
    server.stop().await;
}

#[tokio::test]
async fn json_over_the_size_limit_is_too_large_not_a_bad_request() {
    let mut c = config();
    c.edge.max_body_bytes = 4 * 1024;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    // Sent in chunks, with no length announced: refused once the limit is crossed.
    let json = format!(
        "{{\"name\":\"{}\",\"accept_guidelines\":true}}",
        "x".repeat(8 * 1024)
    );
    let mut stream = TcpStream::connect(server.running.addr).await.unwrap();
    let request = format!(
        "POST /api/rooms/{room}/join HTTP/1.1\r\nHost: kindred\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{json}\r\n0\r\n\r\n",
        json.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = read_answer(&mut stream, WAIT).await;
    assert_eq!((answer.status, answer.code()), (413, ErrorCode::TooLarge));
    // The admin API too, with the length announced honestly.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/rooms", server.base()))
        .bearer_auth(kindred_tests::ADMIN)
        .json(&serde_json::json!({"title": "t", "description": "d".repeat(8 * 1024)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    let body: kindred_protocol::http::HttpError = resp.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::TooLarge);
    server.stop().await;
}

#[tokio::test]
async fn the_join_limit_answers_before_the_body_is_read() {
    let mut c = config();
    c.rates.joins_per_minute_per_ip = 1;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    server.join(room, "Alice").await.expect("within the limit");
    // The head of a second join, and no body: the limit answers anyway.
    let mut stream = TcpStream::connect(server.running.addr).await.unwrap();
    stream
        .write_all(join_head(room, 64).as_bytes())
        .await
        .unwrap();
    // A server that waited for the body would answer 408 at the body timeout.
    let answer = read_answer(&mut stream, WAIT).await;
    assert_eq!(
        (answer.status, answer.code()),
        (429, ErrorCode::RateLimited)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_trickles_in_past_the_body_timeout_gets_408_timeout() {
    let mut c = config();
    c.edge.body_timeout_ms = 500;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let stream = TcpStream::connect(server.running.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let started = Instant::now();
    // A byte every 100 ms: never silent for long, never done.
    let trickle = tokio::spawn(async move {
        let _ = write.write_all(join_head(room, 200).as_bytes()).await;
        loop {
            if write.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // Answered at all (a byte every 100 ms does not put the deadline off), and not
    // before it.
    let answer = read_answer(&mut read, WAIT).await;
    trickle.abort();
    assert_eq!((answer.status, answer.code()), (408, ErrorCode::Timeout));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400),
        "answered after {took:?}, before the 500 ms body timeout"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_client_forging_x_forwarded_for_is_limited_under_its_real_address() {
    let mut c = config();
    c.edge.trust_forwarded_for = true;
    c.rates.joins_per_minute_per_ip = 3;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let client = reqwest::Client::builder().timeout(WAIT).build().unwrap();
    // As through a proxy that appends: whatever the client wrote, then its real address.
    let join = |forwarded: String| {
        let client = client.clone();
        let url = format!("{}/api/rooms/{room}/join", server.base());
        async move {
            client
                .post(url)
                .header("x-forwarded-for", forwarded)
                .json(&JoinRequest {
                    name: "Robin".into(),
                    accept_guidelines: true,
                    invite: None,
                    device: None,
                    seat_key: None,
                })
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..3 {
        assert_eq!(join(format!("1.2.3.{i}, 198.51.100.7")).await, 200);
    }
    assert_eq!(
        join("1.2.3.99, 198.51.100.7".into()).await,
        429,
        "a fresh forged address does not buy a fresh allowance"
    );
    assert_eq!(
        join("198.51.100.8".into()).await,
        200,
        "another client is not limited"
    );
    // An IPv6 client counts as its /64: a new address within it buys nothing.
    for i in 1..=3 {
        assert_eq!(join(format!("2001:db8:1:2::{i}")).await, 200);
    }
    assert_eq!(join("2001:db8:1:2:ffff::1".into()).await, 429);
    assert_eq!(join("2001:db8:1:3::1".into()).await, 200);
    server.stop().await;
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_and_not_on_the_public_port() {
    let server = TestServer::start().await;
    let public = reqwest::get(format!("{}/metrics", server.base()))
        .await
        .unwrap();
    assert_eq!(public.status().as_u16(), 404);
    let metrics = reqwest::get(format!("http://{}/metrics", server.running.metrics_addr))
        .await
        .unwrap();
    assert_eq!(metrics.status().as_u16(), 200);
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("kindred_connections")
    );
    assert!(server.running.metrics_addr.ip().is_loopback());
    server.stop().await;
}
