//! Content warnings after the fact, and the room's topics: a facilitator covers a
//! member's message with a warning once it is shared; everyone in the room hears a
//! `cw` event, a member who resumes from before it is given it, and a history given
//! later shows the message covered. `welcome.cw_topics` offers the room's topics,
//! which the operator changes with `PATCH`.

use kindred_protocol::http::CreateRoom;
use kindred_protocol::{ErrorCode, ModAction, ResumeKind, RoomId, Seq, ServerFrame};
use kindred_tests::{ADMIN, Member, ModArgs, TestServer, WAIT};
use serde_json::{Value, json};

const SHIPPED: [&str; 7] = [
    "self-harm",
    "suicide",
    "abuse",
    "eating",
    "substances",
    "grief",
    "violence",
];

fn cover(seq: Seq, cw: &str) -> ModArgs {
    ModArgs {
        seq: Some(seq),
        cw: Some(cw.to_owned()),
        ..ModArgs::default()
    }
}

async fn open_room(server: &TestServer) -> RoomId {
    server
        .room_with(CreateRoom {
            open: Some(true),
            facilitated: Some(false),
            ..CreateRoom::default()
        })
        .await
}

/// The next `cw` event a member is given: (target, cw).
async fn cw_event(member: &mut Member) -> (Seq, String) {
    member
        .until(|f| match f {
            ServerFrame::Cw { target, cw, .. } => Some((*target, cw.clone())),
            _ => None,
        })
        .await
}

/// The warning the message at `seq` carries in a backlog.
fn warning_in(backlog: &[ServerFrame], seq: Seq) -> Option<Option<String>> {
    backlog.iter().find_map(|f| match f {
        ServerFrame::Message { seq: s, cw, .. } if *s == seq => Some(cw.clone()),
        _ => None,
    })
}

#[tokio::test]
async fn a_facilitators_warning_reaches_the_room_a_resuming_member_and_a_later_history() {
    let server = TestServer::start().await;
    let room = open_room(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;

    let hard = alice
        .say_acked("the night it happened I hurt myself again")
        .await;
    bob.hears("the night it happened I hurt myself again").await;
    fran.hears("the night it happened I hurt myself again")
        .await;
    // Bob's connection drops before the warning; he knows the timeline up to it.
    let (bob_joined, bob_last, bob_epoch) = (bob.joined.clone(), bob.last_seq, bob.epoch());
    drop(bob);

    let at = fran
        .moderate(ModAction::Cw, cover(hard, "self-harm"))
        .await
        .expect("a facilitator covers a message");
    assert!(at > hard, "a timeline event of its own");
    assert_eq!(cw_event(&mut alice).await, (hard, "self-harm".to_owned()));

    // Bob resumes from before it: the event is in his backlog, after the message.
    let bob = server.resume(bob_joined, bob_last, bob_epoch).await;
    assert_eq!(bob.welcome.resume, ResumeKind::Resumed);
    let replayed: Vec<(Seq, Seq, String)> = bob
        .backlog
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Cw {
                seq, target, cw, ..
            } => Some((*seq, *target, cw.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(replayed, [(at, hard, "self-harm".to_owned())]);

    // A history given now shows the message covered: a facilitator arriving late,
    // and Alice's own page reloaded without a place to resume from.
    let cora = server.facilitator(room, "Cora").await;
    assert_eq!(
        warning_in(&cora.backlog, hard),
        Some(Some("self-harm".to_owned())),
        "the late facilitator's history"
    );
    let reloaded = server.connect(alice.joined.clone()).await;
    assert_eq!(
        warning_in(&reloaded.backlog, hard),
        Some(Some("self-harm".to_owned())),
        "a fresh history"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_warning_is_refused_to_a_participant_and_for_what_is_not_a_shown_message() {
    let server = TestServer::start().await;
    let room = open_room(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let said = alice.say_acked("a hard week").await;

    let refused = alice
        .moderate(ModAction::Cw, cover(said, "grief"))
        .await
        .expect_err("a participant may not");
    assert_eq!(refused.code, ErrorCode::Forbidden);
    let unknown = fran
        .moderate(ModAction::Cw, cover(said + 1_000, "grief"))
        .await
        .expect_err("no such event");
    assert_eq!(unknown.code, ErrorCode::NotFound);
    // Alice's arrival is an event, not a message.
    let joined = alice.welcome.seq;
    let not_a_message = fran
        .moderate(ModAction::Cw, cover(joined, "grief"))
        .await
        .expect_err("not a message");
    assert_eq!(not_a_message.code, ErrorCode::BadRequest);
    let blank = fran
        .moderate(ModAction::Cw, cover(said, "   "))
        .await
        .expect_err("a warning names its topic");
    assert_eq!(blank.code, ErrorCode::BadRequest);
    // None of it reached the room: the next thing Alice is given after her message
    // is the marker.
    let frames = alice.frames_until_said("still here").await;
    assert!(
        !frames.iter().any(|f| matches!(f, ServerFrame::Cw { .. })),
        "{frames:?}"
    );
    server.stop().await;
}

/// The operator's `PATCH` of a room: its status and body.
async fn patch(server: &TestServer, room: RoomId, body: Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .patch(format!("{}/api/rooms/{room}", server.base()))
        .bearer_auth(ADMIN)
        .json(&body)
        .timeout(WAIT)
        .send()
        .await
        .expect("the server answers");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn the_welcome_offers_the_rooms_topics_which_the_operator_changes() {
    let server = TestServer::start().await;
    let room = open_room(&server).await;
    let alice = server.member(room, "Alice").await;
    assert_eq!(alice.welcome.cw_topics, SHIPPED, "the list Kindred ships");

    let (status, body) = patch(
        &server,
        room,
        json!({"cw_topics": [" grief ", "loss of a pet", "hospital"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["cw_topics"],
        json!(["grief", "loss of a pet", "hospital"])
    );
    let bob = server.member(room, "Bob").await;
    assert_eq!(
        bob.welcome.cw_topics,
        ["grief", "loss of a pet", "hospital"],
        "trimmed, in the operator's order"
    );

    // A bad list is refused, naming what is wrong, and changes nothing.
    for (bad, says) in [
        (json!({"cw_topics": ["grief", ""]}), "topic 1 is empty"),
        (json!({"cw_topics": ["Grief", "grief"]}), "twice"),
        (json!({"cw_topics": ["x".repeat(41)]}), "longer than 40"),
        (json!({"cw_topics": "grief"}), "cw_topics"),
    ] {
        let (status, body) = patch(&server, room, bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["code"], "bad_request", "{bad}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{bad}: {message}");
    }
    let cora = server.member(room, "Cora").await;
    assert_eq!(
        cora.welcome.cw_topics,
        ["grief", "loss of a pet", "hospital"]
    );
    server.stop().await;
}
