//! An evening's conversation: typing, hands, reactions, reports, whispers, leaving.

use kindred_protocol::{AlertKind, ClientFrame, LeftReason, Reaction, ServerFrame, close_code};
use kindred_tests::{TestServer, conversation_continues};

#[tokio::test]
async fn the_welcome_shows_who_is_here_but_not_what_was_shared_before_they_came() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    alice
        .say_acked("something I only told the people here")
        .await;
    let mut bob = server.member(room, "Bob").await;
    let names: Vec<&str> = bob
        .welcome
        .members
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["Alice", "Bob"]);
    assert_eq!(bob.welcome.you.name, "Bob");
    assert_eq!(bob.welcome.room.title, "Tuesday evening group");
    // What is shared here stays with those who were here: Bob's history starts with
    // his own arrival.
    let first = bob.backlog.first().expect("his own arrival");
    assert!(
        matches!(first, ServerFrame::Joined { member, .. } if member.name == "Bob"),
        "{first:?}"
    );
    assert!(
        !bob.backlog
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { .. }))
    );
    assert_eq!(
        bob.welcome.seq,
        bob.backlog.last().and_then(ServerFrame::seq).unwrap()
    );
    // From then on he hears everything, and a second tab (a reload) is given what
    // was said since he came, and no more.
    let seq = alice.say_acked("welcome, Bob").await;
    assert_eq!(bob.hears("welcome, Bob").await, seq);
    let tab = server.connect(bob.joined.clone()).await;
    let texts: Vec<&str> = tab
        .backlog
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["welcome, Bob"]);
    // A facilitator who arrives is given the recent conversation, for context.
    let fran = server.facilitator(room, "Fran").await;
    let heard: Vec<&str> = fran
        .backlog
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        heard,
        ["something I only told the people here", "welcome, Bob"]
    );
    server.stop().await;
}

#[tokio::test]
async fn typing_reaches_the_others_but_not_the_typist() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    alice.send(ClientFrame::Typing).await;
    let who = bob
        .until(|f| match f {
            ServerFrame::Typing { name, .. } => Some(name.clone()),
            _ => None,
        })
        .await;
    assert_eq!(who, "Alice");
    let seq = bob.say_acked("go ahead").await;
    let echoed = alice
        .until(|f| match f {
            ServerFrame::Typing { .. } => Some(true),
            ServerFrame::Message { seq: s, .. } if *s == seq => Some(false),
            _ => None,
        })
        .await;
    assert!(!echoed, "nobody is told they are typing themselves");
    server.stop().await;
}

#[tokio::test]
async fn hands_and_supportive_reactions_are_timeline_events() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    alice.send(ClientFrame::Hand { raised: true }).await;
    let raised = bob
        .until(|f| match f {
            ServerFrame::Hand { user, raised, .. } if *user == alice.user() => Some(*raised),
            _ => None,
        })
        .await;
    assert!(raised);
    let seq = alice.say_acked("it was a hard week").await;
    bob.send(ClientFrame::React {
        seq,
        emoji: Reaction::Hug,
    })
    .await;
    let (target, emoji) = alice
        .until(|f| match f {
            ServerFrame::Reaction { target, emoji, .. } => Some((*target, *emoji)),
            _ => None,
        })
        .await;
    assert_eq!((target, emoji), (seq, Reaction::Hug));
    // A newcomer sees the raised hand in the member list.
    let carol = server.member(room, "Carol").await;
    assert!(
        carol
            .welcome
            .members
            .iter()
            .any(|m| m.name == "Alice" && m.hand_raised)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_report_reaches_the_facilitators_only() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let seq = alice.say_acked("something unkind").await;
    bob.send(ClientFrame::Report {
        seq,
        reason: Some("that felt mean".into()),
    })
    .await;
    let (target, reporter, reason) = fran
        .until(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Report,
                seq,
                user,
                reason,
                ..
            } => Some((*seq, *user, reason.clone())),
            _ => None,
        })
        .await;
    assert_eq!(target, Some(seq));
    assert_eq!(reporter, bob.user());
    assert_eq!(reason.as_deref(), Some("that felt mean"));
    let next = bob.say_acked("anyway").await;
    let alice_saw_alert = alice
        .until(|f| match f {
            ServerFrame::Alert { .. } => Some(true),
            ServerFrame::Message { seq, .. } if *seq == next => Some(false),
            _ => None,
        })
        .await;
    assert!(!alice_saw_alert);
    server.stop().await;
}

#[tokio::test]
async fn whispers_connect_a_member_and_the_facilitators_privately() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    // A participant's whisper goes to the facilitators (and back to its author).
    alice
        .send(ClientFrame::Whisper {
            to: Some(bob.user()),
            text: "can we talk?".into(),
        })
        .await;
    let (from, to) = fran
        .until(|f| match f {
            ServerFrame::Whisper { from, to, text, .. } if text == "can we talk?" => {
                Some((*from, *to))
            }
            _ => None,
        })
        .await;
    assert_eq!(
        (from, to),
        (alice.user(), None),
        "participants cannot whisper to each other"
    );
    alice
        .until(|f| {
            matches!(f, ServerFrame::Whisper { text, .. } if text == "can we talk?").then_some(())
        })
        .await;
    // A facilitator checks in with one member.
    fran.send(ClientFrame::Whisper {
        to: Some(alice.user()),
        text: "of course".into(),
    })
    .await;
    alice
        .until(|f| {
            matches!(f, ServerFrame::Whisper { text, .. } if text == "of course").then_some(())
        })
        .await;
    // Bob saw neither.
    let next = fran.say_acked("welcome everyone").await;
    let bob_saw = bob
        .until(|f| match f {
            ServerFrame::Whisper { .. } => Some(true),
            ServerFrame::Message { seq, .. } if *seq == next => Some(false),
            _ => None,
        })
        .await;
    assert!(!bob_saw);
    server.stop().await;
}

#[tokio::test]
async fn leaving_says_goodbye_to_the_room_and_closes_normally() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let carol = server.member(room, "Carol").await;
    let alice_id = alice.user();
    alice.send(ClientFrame::Leave).await;
    assert_eq!(alice.closed().await.0, close_code::NORMAL);
    let reason = bob
        .until(|f| match f {
            ServerFrame::Left { user, reason, .. } if *user == alice_id => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, LeftReason::Left);
    let mut carol = carol;
    conversation_continues(&mut bob, &mut carol, "bye Alice").await;
    let directory = server.http.rooms().await.unwrap();
    assert_eq!(directory.rooms[0].members, 2);
    server.stop().await;
}
