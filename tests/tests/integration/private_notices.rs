//! What a member is told privately, and only what is true: whether a facilitator read
//! their crisis message, why they were muted and until when, and that nobody is shown
//! typing who may not post.

use kindred_protocol::http::CreateRoom;
use kindred_protocol::{
    ClientFrame, CrisisCategory, Millis, ModAction, RoomId, ServerFrame, UserId,
};
use kindred_tests::{Member, ModArgs, TestServer};

/// The crisis card `member` is given next: `(seq, category, told)`.
async fn card(member: &mut Member) -> (Option<u64>, Option<CrisisCategory>, bool) {
    member
        .until(|f| match f {
            ServerFrame::CrisisResources {
                seq,
                category,
                told,
                ..
            } => Some((*seq, *category, *told)),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn the_crisis_card_says_whether_a_facilitator_was_told() {
    let server = TestServer::start().await;
    // A drop-in room nobody watches: the card must not say anyone was told.
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let seq = alice.say_acked("I took too many pills").await;
    assert_eq!(
        card(&mut alice).await,
        (Some(seq), Some(CrisisCategory::Overdose), false)
    );
    // With a facilitator connected, it may.
    let mut fran = server.facilitator(room, "Fran").await;
    let seq = alice.say_acked("I want to end my life").await;
    assert_eq!(
        card(&mut alice).await,
        (Some(seq), Some(CrisisCategory::SuicidalIdeation), true)
    );
    fran.until(|f| matches!(f, ServerFrame::Alert { seq: Some(s), .. } if *s == seq).then_some(()))
        .await;
    server.stop().await;
}

#[tokio::test]
async fn in_a_held_room_the_card_says_the_message_waits_for_a_facilitator() {
    // A short grace period: the room is held soon after it opens with nobody to
    // facilitate it.
    let mut c = kindred_tests::config();
    c.rooms.presence_grace_ms = 200;
    let server = TestServer::with(c).await;
    let room = held_room(&server).await;
    let mut alice = server.member(room, "Alice").await;
    alice
        .until(|f| matches!(f, ServerFrame::Held { .. }).then_some(()))
        .await;
    alice.say("I want to kill myself").await;
    // Not shared (the room is held) and nobody connected was told: the alert waits.
    assert_eq!(
        card(&mut alice).await,
        (None, Some(CrisisCategory::SuicidalIdeation), false)
    );
    let mut fran = server.facilitator(room, "Fran").await;
    let text = fran
        .until(|f| match f {
            ServerFrame::Alert { text, .. } => Some(text.clone()),
            _ => None,
        })
        .await;
    assert_eq!(text.as_deref(), Some("I want to kill myself"));
    server.stop().await;
}

/// An open, facilitated room nobody facilitates yet: held after the grace period.
async fn held_room(server: &TestServer) -> RoomId {
    server
        .room_with(CreateRoom {
            open: Some(true),
            ..CreateRoom::default()
        })
        .await
}

/// The next mute notice: `(until, reason)`.
async fn mute_notice(member: &mut Member) -> (Option<Millis>, Option<String>) {
    member
        .until(|f| match f {
            ServerFrame::MuteNotice { until, reason } => Some((*until, reason.clone())),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn a_muted_member_alone_is_told_why_and_until_when() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let muted_at = fran
        .moderate(
            ModAction::Mute,
            ModArgs {
                seconds: Some(300),
                reason: Some("let's give others a turn for a few minutes".into()),
                ..ModArgs::user(alice.user())
            },
        )
        .await
        .expect("Fran mutes Alice");
    let (until, reason) = mute_notice(&mut alice).await;
    assert_eq!(
        reason.as_deref(),
        Some("let's give others a turn for a few minutes")
    );
    // The room sees a neutral notice: who, and until when. Everything Bob is given
    // from before the mute to his own message after it: no notice, no reason.
    let given = bob.frames_until_said("marker").await;
    let seen: Vec<_> = given
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Muted { user, until, .. } => Some((*user, *until)),
            _ => None,
        })
        .collect();
    assert_eq!(seen, [(alice.user(), until)]);
    let until = until.expect("a mute of five minutes ends");
    assert!(until > 0);
    assert!(
        !given
            .iter()
            .any(|f| matches!(f, ServerFrame::MuteNotice { .. })),
        "the reason is Alice's alone (muted at {muted_at}): {given:?}"
    );
    // A reload while still muted tells her again.
    let mut reload = server.connect(alice.joined.clone()).await;
    assert_eq!(
        mute_notice(&mut reload).await,
        (
            Some(until),
            Some("let's give others a turn for a few minutes".into())
        )
    );
    server.stop().await;
}

/// Whether `watcher` sees `typist` typing: the typist types, then the watcher's
/// marker message comes back; typing before it counts.
async fn seen_typing(typist: &mut Member, watcher: &mut Member, marker: &str) -> bool {
    let who: UserId = typist.user();
    typist.send(ClientFrame::Typing).await;
    // The typing frame is handled before the typist's next frame.
    typist.say_acked(marker).await;
    watcher
        .until(|f| match f {
            ServerFrame::Typing { user, .. } if *user == who => Some(true),
            ServerFrame::Message { text, .. } if text == marker => Some(false),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn nobody_is_shown_typing_while_they_may_not_post() {
    let mut c = kindred_tests::config();
    c.rates.frames_per_second = 100;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    assert!(seen_typing(&mut alice, &mut bob, "one").await);
    fran.moderate(ModAction::Mute, ModArgs::user(alice.user()))
        .await
        .expect("Fran mutes Alice");
    // Muted, Alice's typing goes nowhere. She may still raise her hand: her session
    // handles the typing before the hand, so the hand is the marker.
    alice.send(ClientFrame::Typing).await;
    alice.send(ClientFrame::Hand { raised: true }).await;
    let typed = bob
        .until(|f| match f {
            ServerFrame::Typing { user, .. } if *user == alice.user() => Some(true),
            ServerFrame::Hand { user, .. } if *user == alice.user() => Some(false),
            _ => None,
        })
        .await;
    assert!(!typed, "a muted member is not shown typing");
    fran.moderate(ModAction::Unmute, ModArgs::user(alice.user()))
        .await
        .expect("Fran lifts the mute");
    // Typing is relayed at most every two seconds per member.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert!(seen_typing(&mut alice, &mut bob, "three").await);
    server.stop().await;
}

#[tokio::test]
async fn crisis_words_written_privately_bring_help_too() {
    let mut c = kindred_tests::config();
    c.rooms.presence_grace_ms = 200;
    let server = TestServer::with(c).await;
    let room = held_room(&server).await;
    let mut alice = server.member(room, "Alice").await;
    alice
        .until(|f| matches!(f, ServerFrame::Held { .. }).then_some(()))
        .await;
    // The room is held, so Alice writes to the facilitators privately.
    alice
        .send(ClientFrame::Whisper {
            to: None,
            text: "I took too many pills".into(),
        })
        .await;
    assert_eq!(
        card(&mut alice).await,
        (None, Some(CrisisCategory::Overdose), false),
        "help at once, and no promise that anyone read it"
    );
    // The first facilitator to arrive finds the alert and the whisper.
    let mut fran = server.facilitator(room, "Fran").await;
    let (kind, text) = fran
        .until(|f| match f {
            ServerFrame::Alert {
                kind,
                text,
                id: Some(_),
                ..
            } => Some((*kind, text.clone())),
            _ => None,
        })
        .await;
    assert_eq!(kind, kindred_protocol::AlertKind::Crisis);
    assert_eq!(text.as_deref(), Some("I took too many pills"));
    fran.until(|f| matches!(f, ServerFrame::Whisper { kept: true, .. }).then_some(()))
        .await;
    // With Fran here, the next private crisis message says she was told.
    alice
        .send(ClientFrame::Whisper {
            to: None,
            text: "I want to end my life".into(),
        })
        .await;
    assert_eq!(
        card(&mut alice).await,
        (None, Some(CrisisCategory::SuicidalIdeation), true)
    );
    server.stop().await;
}
