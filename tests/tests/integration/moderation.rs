//! The facilitator's tools over real sockets. Once a moderation command is acked,
//! no message it forbids is accepted.

use kindred_protocol::client::Connection;
use kindred_protocol::{ClientFrame, ErrorCode, LeftReason, ModAction, ServerFrame, close_code};
use kindred_tests::{ModArgs, TestServer, closed, conversation_continues, next_error};

#[tokio::test]
async fn mute_then_unmute() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    fran.moderate(
        ModAction::Mute,
        ModArgs {
            seconds: Some(300),
            ..ModArgs::user(alice.user())
        },
    )
    .await
    .unwrap();
    let id = alice.say("can I say something").await;
    assert_eq!(alice.ack(&id).await.unwrap_err().code, ErrorCode::Muted);
    let muted = bob
        .until(|f| match f {
            ServerFrame::Muted { user, until, .. } => Some((*user, until.is_some())),
            _ => None,
        })
        .await;
    assert_eq!(muted, (alice.user(), true));
    fran.moderate(ModAction::Unmute, ModArgs::user(alice.user()))
        .await
        .unwrap();
    conversation_continues(&mut alice, &mut bob, "thank you for waiting").await;
    server.stop().await;
}

#[tokio::test]
async fn a_grounding_pause_lets_only_facilitators_speak() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    fran.moderate(
        ModAction::Pause,
        ModArgs {
            reason: Some("breathe".into()),
            ..ModArgs::default()
        },
    )
    .await
    .unwrap();
    let id = alice.say("but").await;
    assert_eq!(alice.ack(&id).await.unwrap_err().code, ErrorCode::Paused);
    conversation_continues(&mut fran, &mut alice, "In for four, out for six.").await;
    fran.moderate(ModAction::Resume, ModArgs::default())
        .await
        .unwrap();
    conversation_continues(&mut alice, &mut fran, "that helped").await;
    server.stop().await;
}

#[tokio::test]
async fn closing_the_session_tells_everyone_disconnects_them_and_retires_their_tokens() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    alice.say_acked("see you next week").await;
    let alice_token = alice.joined.token.clone();
    fran.moderate(ModAction::Close, ModArgs::default())
        .await
        .unwrap();
    alice
        .until(|f| matches!(f, ServerFrame::Closed { .. }).then_some(()))
        .await;
    assert_eq!(alice.closed().await.0, close_code::ROOM_CLOSED);
    assert_eq!(fran.closed().await.0, close_code::ROOM_CLOSED);
    let mut raw = Connection::open(&server.ws_url()).await.unwrap();
    raw.send(&ClientFrame::Hello {
        first_time: false,
        token: alice_token,
        last_seq: None,
        epoch: None,
    })
    .await
    .unwrap();
    assert_eq!(next_error(&mut raw).await.code, ErrorCode::Closed);
    assert_eq!(closed(&mut raw).await.0, close_code::ROOM_CLOSED);
    // The door stays shut until a facilitator opens the next session.
    match server.join(room, "Alice").await {
        Err(kindred_protocol::client::ClientError::Http { status, body }) => {
            assert_eq!((status, body.unwrap().code), (403, ErrorCode::Closed))
        }
        other => panic!("a participant cannot join a closed room: {other:?}"),
    }
    let mut sam = server.facilitator(room, "Sam").await;
    sam.moderate(ModAction::Open, ModArgs::default())
        .await
        .unwrap();
    // The next session starts empty: no history from tonight. A participant's backlog
    // starts at their own arrival anyway; a facilitator is given the room's recent
    // history, and it holds nothing said before the close.
    let next = server.member(room, "Alice").await;
    assert!(
        !next
            .backlog
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { .. }))
    );
    let gus = server.facilitator(room, "Gus").await;
    assert!(
        gus.backlog
            .iter()
            .any(|f| matches!(f, ServerFrame::Opened { .. })),
        "the history reaches the opening: {:?}",
        gus.backlog
    );
    assert!(
        !gus.backlog
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { .. })),
        "{:?}",
        gus.backlog
    );
    server.stop().await;
}

#[tokio::test]
async fn removal_and_ban() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut troll = server.member(room, "Troll").await;
    fran.moderate(ModAction::Ban, ModArgs::user(troll.user()))
        .await
        .unwrap();
    let reason = troll
        .until(|f| match f {
            ServerFrame::Left { reason, .. } => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, LeftReason::Banned);
    assert_eq!(troll.closed().await.0, close_code::REMOVED);
    let mut raw = Connection::open(&server.ws_url()).await.unwrap();
    raw.send(&ClientFrame::Hello {
        first_time: false,
        token: troll.joined.token.clone(),
        last_seq: None,
        epoch: None,
    })
    .await
    .unwrap();
    assert_eq!(next_error(&mut raw).await.code, ErrorCode::Banned);
    conversation_continues(&mut fran, &mut alice, "let's continue").await;
    fran.moderate(ModAction::Remove, ModArgs::user(alice.user()))
        .await
        .unwrap();
    assert_eq!(alice.closed().await.0, close_code::REMOVED);
    server.stop().await;
}

#[tokio::test]
async fn a_redacted_message_is_gone_from_history() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let seq = alice.say_acked("my phone number is 555-0100").await;
    fran.moderate(
        ModAction::Redact,
        ModArgs {
            seq: Some(seq),
            ..ModArgs::default()
        },
    )
    .await
    .unwrap();
    let target = alice
        .until(|f| match f {
            ServerFrame::Redacted { target, .. } => Some(*target),
            _ => None,
        })
        .await;
    assert_eq!(target, seq);
    // Alice reloads the page, and a co-facilitator arrives: neither reads it again.
    let reload = server.connect(alice.joined.clone()).await;
    let gus = server.facilitator(room, "Gus").await;
    for backlog in [&reload.backlog, &gus.backlog] {
        let entry = backlog
            .iter()
            .find(|f| f.seq() == Some(seq))
            .expect("the entry keeps its place in the timeline");
        assert!(
            matches!(entry, ServerFrame::Message { text, redacted: true, .. } if text.is_empty()),
            "{entry:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn the_floor_and_the_lock() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    fran.moderate(
        ModAction::Floor,
        ModArgs {
            seconds: Some(180),
            ..ModArgs::user(alice.user())
        },
    )
    .await
    .unwrap();
    let id = bob.say("me too").await;
    assert_eq!(bob.ack(&id).await.unwrap_err().code, ErrorCode::NotYourTurn);
    conversation_continues(&mut alice, &mut bob, "this week was hard").await;
    fran.moderate(ModAction::ClearFloor, ModArgs::default())
        .await
        .unwrap();
    conversation_continues(&mut bob, &mut alice, "me too").await;

    fran.moderate(ModAction::Lock, ModArgs::default())
        .await
        .unwrap();
    match server.join(room, "Late").await {
        Err(kindred_protocol::client::ClientError::Http { status, body }) => {
            assert_eq!((status, body.unwrap().code), (403, ErrorCode::Locked));
        }
        other => panic!("expected locked, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn a_warning_blocks_a_members_messages_until_they_acknowledge_it() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    fran.moderate(
        ModAction::Warn,
        ModArgs {
            reason: Some("please speak from your own experience".into()),
            ..ModArgs::user(alice.user())
        },
    )
    .await
    .unwrap();
    let warning = |m: &ServerFrame| match m {
        ServerFrame::Warning {
            id,
            user,
            reason,
            acknowledged,
            ..
        } => Some((*id, *user, reason.clone(), *acknowledged)),
        _ => None,
    };
    let (id, user, reason, acknowledged) = alice.until(warning).await;
    assert_eq!(user, alice.user());
    assert_eq!(
        reason.as_deref(),
        Some("please speak from your own experience")
    );
    assert!(!acknowledged);
    assert_eq!(
        fran.until(warning).await.0,
        id,
        "the facilitators see it too"
    );
    let refused = alice.say("but you should try it").await;
    assert_eq!(
        alice.ack(&refused).await.unwrap_err().code,
        ErrorCode::Warned
    );
    // The room never saw it, nor the warning: everything Bob is given from before
    // the warning to his own next message. And Bob talks on.
    let given = bob.frames_until_said("thank you, Fran").await;
    assert!(
        !given.iter().any(|f| matches!(
            f,
            ServerFrame::Message { text, .. } if text == "but you should try it"
        ) || matches!(f, ServerFrame::Warning { .. })),
        "{given:?}"
    );
    fran.hears("thank you, Fran").await;
    // A co-facilitator who arrives now sees the warning that waits to be read.
    let mut gus = server.facilitator(room, "Gus").await;
    assert_eq!(gus.until(warning).await, (id, alice.user(), reason, false));
    alice
        .send(ClientFrame::AckWarning { alert: Some(id) })
        .await;
    let (_, _, _, acknowledged) = fran.until(warning).await;
    assert!(acknowledged, "the facilitators see it was read");
    assert!(gus.until(warning).await.3);
    conversation_continues(&mut alice, &mut bob, "sorry, that came out wrong").await;
    server.stop().await;
}
