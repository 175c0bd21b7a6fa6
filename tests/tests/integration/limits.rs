//! Every limit is a named config value, and each one holds.

use kindred_protocol::client::{ClientError, Connection, Received};
use kindred_protocol::{ErrorCode, ResumeKind, ServerFrame, close_code};
use kindred_tests::{TestServer, config, conversation_continues};

#[tokio::test]
async fn connections_over_the_limit_are_refused_until_a_slot_frees_up() {
    let mut c = config();
    c.edge.max_connections = 2;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let carol = server.join(room, "Carol").await.unwrap();
    match Connection::hello(&server.ws_url(), &carol.token, None).await {
        Err(ClientError::Ws(tokio_tungstenite::tungstenite::Error::Http(resp))) => {
            assert_eq!(resp.status().as_u16(), 503);
        }
        other => panic!("expected HTTP 503, got {:?}", other.map(|_| ())),
    }
    // Alice closes her connection, and reads until the server has closed it too: by
    // then her slot is free, and Carol gets in at once.
    alice.conn.close().await.expect("a clean close");
    let mut carol = server.connect(carol).await;
    conversation_continues(&mut carol, &mut bob, "made it in").await;
    server.stop().await;
}

#[tokio::test]
async fn a_full_room_refuses_joins_and_late_hellos() {
    let server = TestServer::start().await;
    let room = server.room(2).await;
    let mut alice = server.member(room, "Alice").await;
    // Both are admitted over HTTP while there is one free seat...
    let bob = server.join(room, "Bob").await.unwrap();
    let carol = server.join(room, "Carol").await.unwrap();
    let mut bob = server.connect(bob).await;
    // ...but only the first to arrive gets it.
    match Connection::hello(&server.ws_url(), &carol.token, None).await {
        Err(ClientError::Closed { .. }) | Err(ClientError::Refused(_)) => {}
        Ok(_) => panic!("carol should not get a seat"),
        Err(e) => panic!("unexpected error {e}"),
    }
    let mut raw = server.raw().await;
    raw.send(&kindred_protocol::ClientFrame::Hello {
        first_time: false,
        token: carol.token.clone(),
        last_seq: None,
        epoch: None,
    })
    .await
    .unwrap();
    assert_eq!(
        kindred_tests::next_error(&mut raw).await.code,
        ErrorCode::RoomFull
    );
    assert_eq!(
        kindred_tests::closed(&mut raw).await.0,
        close_code::ROOM_UNAVAILABLE
    );
    match server.join(room, "Dan").await {
        Err(ClientError::Http { status, body }) => {
            assert_eq!(status, 409);
            assert_eq!(body.unwrap().code, ErrorCode::RoomFull);
        }
        other => panic!("expected 409 room_full, got {other:?}"),
    }
    conversation_continues(&mut alice, &mut bob, "cosy in here").await;
    server.stop().await;
}

#[tokio::test]
async fn a_reader_that_falls_behind_is_disconnected_and_resumes_without_loss() {
    let mut c = config();
    c.sockets.outbound_queue = 16;
    c.sockets.socket_send_buffer = 16 * 1024;
    c.sockets.ws_max_write_buffer = 64 * 1024;
    c.rooms.history_len = 5_000;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let mut slow = server.slow_member(room, "Sam").await;
    let (slow_joined, slow_epoch) = (slow.joined.clone(), slow.epoch());
    alice
        .until(|f| {
            matches!(f, ServerFrame::Joined { member, .. } if member.name == "Sam").then_some(())
        })
        .await;

    // Bob reads normally while Sam stops reading and Alice shares a lot (about 8 MB).
    const COUNT: usize = 2_000;
    let bob_reads = tokio::spawn(async move {
        let mut heard = Vec::new();
        while heard.len() < COUNT {
            if let ServerFrame::Message { seq, .. } = bob.next().await {
                heard.push(seq);
            }
        }
        (bob, heard)
    });
    // Sam notices only when he reads again; he does as soon as the server gives up on him.
    let metrics_url = format!("http://{}/metrics", server.running.metrics_addr);
    let sam_reads = tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + kindred_tests::WAIT * 3;
        loop {
            let metrics = reqwest::get(&metrics_url)
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if metrics.contains("kindred_slow_consumer_disconnects_total 1") {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "Sam is never disconnected"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let mut seen = Vec::new();
        let mut error = None;
        let close = loop {
            match tokio::time::timeout(kindred_tests::WAIT, slow.conn.recv()).await {
                Ok(Ok(Received::Text(t))) => match serde_json::from_str(&t) {
                    Ok(ServerFrame::Message { seq, .. }) => seen.push(seq),
                    Ok(ServerFrame::Error(e)) => error = Some(e.code),
                    _ => {}
                },
                Ok(Ok(Received::Closed { code, reason })) => break (code, reason),
                other => panic!("expected a close, got {other:?}"),
            }
        };
        (slow, seen, error, close)
    });
    let body = "x".repeat(3_900);
    let mut sent = Vec::new();
    for i in 0..COUNT {
        let text = format!("{i:04} {body}");
        sent.push(alice.say_acked(&text).await);
    }
    // Bob got every message, in order.
    let (mut bob, heard) = bob_reads.await.unwrap();
    assert_eq!(heard, sent);

    let (slow, sam_seen, error, (code, reason)) = sam_reads.await.unwrap();
    assert_eq!(
        error,
        Some(ErrorCode::SlowConsumer),
        "a typed error says why"
    );
    assert_eq!(code, close_code::SLOW_CONSUMER, "reason: {reason}");
    assert!(sam_seen.len() < sent.len(), "Sam really fell behind");

    // Sam resumes from the last message he got and misses nothing.
    let last = sam_seen.last().copied().unwrap_or(slow.last_seq);
    let sam = server.resume(slow_joined, last, slow_epoch).await;
    assert_eq!(sam.welcome.resume, ResumeKind::Resumed);
    let replayed: Vec<u64> = sam
        .backlog
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect();
    let mut all = sam_seen.clone();
    all.extend(replayed);
    assert_eq!(
        all, sent,
        "seen before the disconnect + replay = everything, once, in order"
    );
    conversation_continues(&mut alice, &mut bob, "all caught up").await;
    server.stop().await;
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let mut c = config();
    c.sockets.ping_interval_ms = 100;
    c.sockets.idle_timeout_ms = 400;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut quiet = server.member(room, "Quiet").await;
    // Not reading means not answering pings.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(quiet.closed().await.0, close_code::TIMEOUT);
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1001_and_finishes() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    server.running.shutdown();
    assert_eq!(alice.closed().await.0, close_code::GOING_AWAY);
    assert_eq!(bob.closed().await.0, close_code::GOING_AWAY);
    tokio::time::timeout(kindred_tests::WAIT, server.running.done)
        .await
        .expect("the server stops within the grace period")
        .unwrap();
}

/// What the server writes goes out from the socket's gather, framed by Kindred itself,
/// its buffer given back once the socket has taken it. A burst of frames of every
/// length (short acks, and messages whose frames carry a 16-bit and a 64-bit length)
/// reaches its members whole and in order, and members who then go quiet are still
/// heard and still hear.
#[tokio::test]
async fn a_burst_of_every_size_arrives_whole_and_quiet_members_still_talk() {
    let mut c = config();
    c.rooms.max_message_chars = 100_000;
    c.sockets.max_frame_bytes = 256 * 1024;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let texts: Vec<String> = [1, 100, 4_000, 65_000, 70_000]
        .iter()
        .enumerate()
        .map(|(i, &n)| format!("{i} {}", "y".repeat(n)))
        .collect();
    let mut sent = Vec::new();
    for text in &texts {
        sent.push(alice.say_acked(text).await);
    }
    for (text, seq) in texts.iter().zip(&sent) {
        assert_eq!(bob.hears(text).await, *seq, "in order, whole");
    }
    conversation_continues(&mut bob, &mut alice, "still here after the burst").await;
    conversation_continues(&mut alice, &mut bob, "and so am I").await;
    server.stop().await;
}
