//! Bad input gets a typed error and costs the room nothing: after each case,
//! two other members go on talking as if nothing happened.

use kindred::auth::{SessionClaims, Signer};
use kindred_protocol::client::ClientError;
use kindred_protocol::{ClientFrame, ErrorCode, ModAction, Role, ServerFrame, UserId, close_code};
use kindred_tests::{
    Member, ModArgs, SECRET, TestServer, closed, config, conversation_continues, next_error,
};
use tokio_tungstenite::tungstenite::Message;

/// A room with two members who keep talking, and the server.
async fn room_in_session(server: &TestServer) -> (kindred_protocol::RoomId, Member, Member) {
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    conversation_continues(&mut alice, &mut bob, "hello everyone").await;
    (room, alice, bob)
}

#[tokio::test]
async fn invalid_json_unknown_types_and_missing_fields_get_bad_request_and_the_connection_lives() {
    let server = TestServer::start().await;
    let (room, mut alice, mut bob) = room_in_session(&server).await;
    let mut mallory = server.member(room, "Mallory").await;
    for junk in [
        "{not json",
        r#"{"type":"shout","text":"hi"}"#,
        r#"{"type":"send","text":"no client id"}"#,
        r#"{"text":"no type"}"#,
        r#"[1,2,3]"#,
        r#"{"type":"send","client_id":"x","text":42}"#,
    ] {
        mallory.conn.send_raw(Message::text(junk)).await.unwrap();
        let e = mallory.error(ErrorCode::BadRequest).await;
        assert!(!e.message.is_empty(), "a human message for {junk}");
    }
    // Mallory's connection still works, and so does the room.
    conversation_continues(&mut mallory, &mut alice, "sorry, my client is buggy").await;
    conversation_continues(&mut alice, &mut bob, "no worries").await;
    server.stop().await;
}

#[tokio::test]
async fn a_first_frame_that_is_not_hello_is_refused_and_closed() {
    let server = TestServer::start().await;
    let (_room, mut alice, mut bob) = room_in_session(&server).await;
    let mut raw = server.raw().await;
    raw.send(&ClientFrame::Send {
        client_id: "1".into(),
        guard: None,
        text: "let me in".into(),
        cw: None,
    })
    .await
    .unwrap();
    let e = next_error(&mut raw).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert_eq!(closed(&mut raw).await.0, close_code::POLICY);
    conversation_continues(&mut alice, &mut bob, "still here").await;
    server.stop().await;
}

#[tokio::test]
async fn no_hello_within_the_timeout_closes_the_socket() {
    let mut c = config();
    c.sockets.hello_timeout_ms = 200;
    let server = TestServer::with(c).await;
    let (_room, mut alice, mut bob) = room_in_session(&server).await;
    let mut raw = server.raw().await;
    let e = next_error(&mut raw).await;
    assert_eq!(e.code, ErrorCode::Timeout);
    assert_eq!(closed(&mut raw).await.0, close_code::TIMEOUT);
    conversation_continues(&mut alice, &mut bob, "still here").await;
    server.stop().await;
}

#[tokio::test]
async fn forged_expired_and_garbage_tokens_are_unauthorized() {
    let server = TestServer::start().await;
    let (room, mut alice, mut bob) = room_in_session(&server).await;
    let claims = |exp| SessionClaims {
        room,
        user: UserId::new(),
        name: "Eve".into(),
        role: Role::Facilitator,
        session: 0,
        exp,
        origin: Default::default(),
    };
    let forged = Signer::new(b"not the secret").session_token(claims(u64::MAX));
    let expired = Signer::new(SECRET.as_bytes()).session_token(claims(1));
    let invite = server
        .http
        .invite(kindred_tests::ADMIN, room, &Default::default())
        .await
        .unwrap()
        .token
        .expect("a minted invite has its token");
    for token in [forged, expired, "garbage".to_owned(), invite] {
        let (error, code) = server.hello_refused(&token).await;
        assert_eq!(
            (error.code, code),
            (ErrorCode::Unauthorized, close_code::UNAUTHORIZED)
        );
    }
    conversation_continues(&mut alice, &mut bob, "still here").await;
    server.stop().await;
}

#[tokio::test]
async fn an_invite_for_another_room_cannot_make_a_facilitator_here() {
    let server = TestServer::start().await;
    let (room, mut alice, mut bob) = room_in_session(&server).await;
    let other = server.room(12).await;
    let invite = server
        .http
        .invite(kindred_tests::ADMIN, other, &Default::default())
        .await
        .unwrap()
        .token
        .expect("a minted invite has its token");
    let refused = server
        .http
        .join(
            room,
            &kindred_protocol::http::JoinRequest {
                name: "Eve".into(),
                accept_guidelines: true,
                invite: Some(invite),
                device: None,
                seat_key: None,
            },
        )
        .await;
    match refused {
        Err(ClientError::Http { status, body }) => {
            assert_eq!(status, 401);
            assert_eq!(body.unwrap().code, ErrorCode::Unauthorized);
        }
        other => panic!("expected 401, got {other:?}"),
    }
    conversation_continues(&mut alice, &mut bob, "still here").await;
    server.stop().await;
}

#[tokio::test]
async fn text_over_the_limit_is_too_large_and_the_sender_can_go_on() {
    let mut c = config();
    c.rooms.max_message_chars = 100;
    let server = TestServer::with(c).await;
    let (_room, mut alice, mut bob) = room_in_session(&server).await;
    let id = alice.say(&"a".repeat(101)).await;
    assert_eq!(alice.ack(&id).await.unwrap_err().code, ErrorCode::TooLarge);
    // Exactly at the limit is fine; multi-byte characters count as one.
    let id = alice.say(&"é".repeat(100)).await;
    assert!(alice.ack(&id).await.is_ok());
    let id = alice.say("   ").await;
    assert_eq!(
        alice.ack(&id).await.unwrap_err().code,
        ErrorCode::BadRequest
    );
    conversation_continues(&mut alice, &mut bob, "shorter, then").await;
    server.stop().await;
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_with_1009() {
    let mut c = config();
    c.sockets.max_frame_bytes = 4 * 1024;
    let server = TestServer::with(c).await;
    let (room, mut alice, mut bob) = room_in_session(&server).await;
    let mut mallory = server.member(room, "Mallory").await;
    let big = format!(
        r#"{{"type":"send","client_id":"x","text":"{}"}}"#,
        "a".repeat(5 * 1024)
    );
    mallory.conn.send_raw(Message::text(big)).await.unwrap();
    assert_eq!(mallory.closed().await.0, close_code::TOO_BIG);
    conversation_continues(&mut alice, &mut bob, "still here").await;
    server.stop().await;
}

#[tokio::test]
async fn binary_frames_get_bad_request_and_the_connection_lives() {
    let server = TestServer::start().await;
    let (room, mut alice, mut bob) = room_in_session(&server).await;
    let mut mallory = server.member(room, "Mallory").await;
    mallory
        .conn
        .send_raw(Message::binary(vec![0u8, 159, 146, 150]))
        .await
        .unwrap();
    // Answered once, with `bad_request`, before her next message comes back.
    let errors: Vec<ErrorCode> = mallory
        .frames_until_said("text works")
        .await
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Error(e) => Some(e.code),
            _ => None,
        })
        .collect();
    assert_eq!(errors, [ErrorCode::BadRequest]);
    alice.hears("text works").await;
    conversation_continues(&mut alice, &mut bob, "still here").await;
    server.stop().await;
}

#[tokio::test]
async fn a_flood_of_frames_is_rate_limited_without_slowing_the_room() {
    let mut c = config();
    c.rates.frames_per_second = 5;
    c.rates.frame_burst = 10;
    let server = TestServer::with(c).await;
    let (room, mut alice, mut bob) = room_in_session(&server).await;
    let mut mallory = server.member(room, "Mallory").await;
    let started = std::time::Instant::now();
    for i in 0..300 {
        mallory
            .send(ClientFrame::Send {
                client_id: format!("f{i}"),
                guard: None,
                text: format!("flood {i}"),
                cw: None,
            })
            .await;
    }
    let e = mallory.error(ErrorCode::RateLimited).await;
    assert!(
        e.retry_after_ms.is_some_and(|ms| ms > 0),
        "says when to retry: {e:?}"
    );
    assert!(e.client_id.is_some(), "names the refused command");
    // Alice and Bob talk on; of Mallory's 300 messages no more got through than the
    // burst and what the rate refilled while the flood lasted (the time from its first
    // frame to Bob hearing Alice is longer than the time the server took over it, so
    // the bound only grows on a slower machine); and the whole burst did.
    let seq = alice.say_acked("calm here").await;
    let mut flood_heard = 0;
    bob.until(|f| match f {
        ServerFrame::Message { text, .. } if text.starts_with("flood") => {
            flood_heard += 1;
            None
        }
        ServerFrame::Message { seq: s, .. } if *s == seq => Some(()),
        _ => None,
    })
    .await;
    let refilled = (started.elapsed().as_secs_f64() * 5.0).ceil() as usize;
    assert!(
        (10..=10 + refilled).contains(&flood_heard),
        "the limiter held: {flood_heard} flood messages got through, a burst of 10 and \
         {refilled} refilled"
    );
    server.stop().await;
}

#[tokio::test]
async fn moderation_from_a_participant_is_forbidden() {
    let server = TestServer::start().await;
    let (_room, mut alice, mut bob) = room_in_session(&server).await;
    for action in [
        ModAction::Mute,
        ModAction::Pause,
        ModAction::Close,
        ModAction::Remove,
        ModAction::Ban,
        ModAction::Announce,
    ] {
        let refused = alice
            .moderate(
                action,
                ModArgs {
                    user: Some(bob.user()),
                    seconds: Some(60),
                    text: Some("hi".into()),
                    ..ModArgs::default()
                },
            )
            .await;
        assert_eq!(
            refused.unwrap_err().code,
            ErrorCode::Forbidden,
            "{action:?}"
        );
    }
    conversation_continues(&mut bob, &mut alice, "nothing changed").await;
    server.stop().await;
}
