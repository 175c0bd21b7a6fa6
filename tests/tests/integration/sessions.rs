//! A session's frame: a room is closed between sessions, and only a facilitator (or the
//! operator) opens it. Nobody talks in a room with the door open and no facilitator
//! having opened it.

use kindred_protocol::client::ClientError;
use kindred_protocol::http::{CreateRoom, UpdateRoom};
use kindred_protocol::{ErrorCode, ModAction, ServerFrame, close_code};
use kindred_tests::{ADMIN, ModArgs, TestServer, WAIT, conversation_continues};

fn refused(result: Result<kindred_protocol::http::JoinResponse, ClientError>) -> (u16, ErrorCode) {
    match result {
        Err(ClientError::Http { status, body }) => (status, body.expect("error body").code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn closed_room(server: &TestServer) -> kindred_protocol::RoomId {
    server.room_with(CreateRoom::default()).await
}

#[tokio::test]
async fn a_new_room_is_closed_until_its_facilitator_opens_it() {
    let server = TestServer::start().await;
    let room = closed_room(&server).await;
    let summary = server.http.rooms().await.unwrap().rooms;
    assert!(!summary[0].open, "the directory says it is not meeting now");
    assert_eq!(
        refused(server.join(room, "Alice").await),
        (403, ErrorCode::Closed)
    );
    // The facilitator comes in before the session, and opens it.
    let mut fran = server.facilitator(room, "Fran").await;
    assert!(!fran.welcome.state.open);
    let opened_at = fran
        .moderate(ModAction::Open, ModArgs::default())
        .await
        .expect("the facilitator opens the session");
    let seen = fran
        .until(|f| match f {
            ServerFrame::Opened { seq, .. } => Some(*seq),
            _ => None,
        })
        .await;
    assert_eq!(seen, opened_at);
    let mut alice = server.member(room, "Alice").await;
    assert!(alice.welcome.state.open && alice.welcome.room.open);
    conversation_continues(&mut fran, &mut alice, "welcome, Alice").await;
    assert!(server.http.rooms().await.unwrap().rooms[0].open);
    // A participant cannot open or close a session.
    for action in [ModAction::Open, ModAction::Close] {
        let refused = alice.moderate(action, ModArgs::default()).await;
        assert_eq!(
            refused.unwrap_err().code,
            ErrorCode::Forbidden,
            "{action:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn the_operator_opens_and_closes_a_session_through_the_admin_api() {
    let server = TestServer::start().await;
    let room = closed_room(&server).await;
    let http = reqwest::Client::builder().timeout(WAIT).build().unwrap();
    let patch = |open: bool| {
        http.patch(format!("{}/api/rooms/{room}", server.base()))
            .bearer_auth(ADMIN)
            .json(&UpdateRoom {
                open: Some(open),
                ..UpdateRoom::default()
            })
            .send()
    };
    let opened: kindred_protocol::RoomSummary = patch(true).await.unwrap().json().await.unwrap();
    assert!(opened.open);
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    conversation_continues(&mut alice, &mut bob, "is anyone here yet?").await;
    let closed: kindred_protocol::RoomSummary = patch(false).await.unwrap().json().await.unwrap();
    assert!(!closed.open);
    for m in [&mut alice, &mut bob] {
        m.until(|f| matches!(f, ServerFrame::Closed { .. }).then_some(()))
            .await;
        assert_eq!(m.closed().await.0, close_code::ROOM_CLOSED);
    }
    assert_eq!(
        refused(server.join(room, "Alice").await),
        (403, ErrorCode::Closed)
    );
    server.stop().await;
}

#[tokio::test]
async fn the_room_is_held_when_the_last_facilitator_leaves_and_unheld_when_one_returns() {
    let server = TestServer::start().await;
    // A facilitated room, opened by its facilitator.
    let room = closed_room(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    fran.moderate(ModAction::Open, ModArgs::default())
        .await
        .unwrap();
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    conversation_continues(&mut alice, &mut bob, "it helps to say it out loud").await;
    fran.send(kindred_protocol::ClientFrame::Leave).await;
    for m in [&mut alice, &mut bob] {
        m.until(|f| matches!(f, ServerFrame::Held { .. }).then_some(()))
            .await;
    }
    let id = alice.say("is anyone still here?").await;
    assert_eq!(alice.ack(&id).await.unwrap_err().code, ErrorCode::Held);
    // A newcomer sees the room is held.
    let carol = server.member(room, "Carol").await;
    assert!(carol.welcome.state.held);
    // A facilitator comes back: the room is unheld and the conversation goes on.
    let _sam = server.facilitator(room, "Sam").await;
    alice
        .until(|f| matches!(f, ServerFrame::Unheld { .. }).then_some(()))
        .await;
    conversation_continues(&mut alice, &mut bob, "thank you for coming back").await;
    server.stop().await;
}

#[tokio::test]
async fn a_drop_in_room_says_nobody_facilitates_it_and_is_never_held() {
    // A short grace period and away limit, so a facilitator who drops is gone within
    // the test.
    let mut c = kindred_tests::config();
    c.rooms.presence_grace_ms = 200;
    c.rooms.away_limit_ms = 200;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    assert!(!alice.welcome.room.facilitated);
    assert!(!alice.welcome.state.held);
    let mut bob = server.member(room, "Bob").await;
    // A facilitator drops in and leaves; another's connection drops and stays away
    // past the grace period. Either would hold a facilitated room.
    let mut fran = server.facilitator(room, "Fran").await;
    let gus = server.facilitator(room, "Gus").await;
    let gus_id = gus.user();
    fran.send(kindred_protocol::ClientFrame::Leave).await;
    assert_eq!(fran.closed().await.0, close_code::NORMAL);
    drop(gus);
    let gone = alice
        .until(|f| match f {
            ServerFrame::Left { user, reason, .. } if *user == gus_id => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(gone, kindred_protocol::LeftReason::Disconnected);
    // No facilitator is left and the grace period has passed: the room is not held.
    // Alice's next message is taken, and nothing before its answer said it was.
    let id = alice.say("just the two of us tonight").await;
    let mut given = Vec::new();
    let answer = alice
        .until(|f| match f {
            ServerFrame::Ack { client_id, seq, .. } if *client_id == id => Some(Ok(*seq)),
            ServerFrame::Error(e) if e.client_id.as_deref() == Some(id.as_str()) => {
                Some(Err(e.code))
            }
            _ => {
                given.push(f.clone());
                None
            }
        })
        .await;
    assert!(matches!(answer, Ok(Some(_))), "refused: {answer:?}");
    assert!(
        !given.iter().any(|f| matches!(f, ServerFrame::Held { .. })),
        "{given:?}"
    );
    assert!(
        bob.frames_before("just the two of us tonight")
            .await
            .iter()
            .all(|f| !matches!(f, ServerFrame::Held { .. }))
    );
    let carol = server.member(room, "Carol").await;
    assert!(!carol.welcome.state.held);
    conversation_continues(&mut bob, &mut alice, "and Carol too").await;
    server.stop().await;
}
