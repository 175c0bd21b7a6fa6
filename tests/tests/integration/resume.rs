//! Losing a connection on a bus and coming back without missing a word.

use kindred_protocol::{ClientFrame, ResumeKind, ServerFrame};
use kindred_tests::{TestServer, config};

fn message_texts(frames: &[ServerFrame]) -> Vec<(u64, String)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message { seq, text, .. } => Some((*seq, text.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_member_who_drops_out_resumes_with_exactly_the_fifty_messages_they_missed() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let carol = server.member(room, "Carol").await;
    // Alice and Bob see Carol arrive; Carol knows where the timeline stood.
    alice
        .until(|f| {
            matches!(f, ServerFrame::Joined { member, .. } if member.name == "Carol").then_some(())
        })
        .await;
    let (carol_joined, carol_last, carol_epoch) =
        (carol.joined.clone(), carol.last_seq, carol.epoch());
    drop(carol); // the bus enters a tunnel

    let mut sent = Vec::new();
    for i in 0..50 {
        let text = format!("message {i}");
        let seq = alice.say_acked(&text).await;
        sent.push((seq, text));
    }
    for (seq, text) in &sent {
        assert_eq!(bob.hears(text).await, *seq);
    }

    let mut carol = server.resume(carol_joined, carol_last, carol_epoch).await;
    assert_eq!(carol.welcome.resume, ResumeKind::Resumed);
    assert_eq!(
        carol.backlog.len(),
        50,
        "exactly the missed events, nothing else"
    );
    assert_eq!(
        message_texts(&carol.backlog),
        sent,
        "in order, no duplicates"
    );
    let seqs: Vec<u64> = carol.backlog.iter().filter_map(ServerFrame::seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive seqs: {seqs:?}"
    );
    assert_eq!(seqs[0], carol_last + 1);

    // Live events continue right after the replay.
    let next = alice.say_acked("welcome back, Carol").await;
    assert_eq!(next, sent.last().unwrap().0 + 1);
    let frame = carol.next().await;
    assert!(
        matches!(&frame, ServerFrame::Message { seq, text, .. } if *seq == next && text == "welcome back, Carol"),
        "the first live frame is the next message, got {frame:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn when_history_no_longer_reaches_back_the_member_gets_a_fresh_snapshot_and_is_told() {
    let mut c = config();
    c.rooms.history_len = 10;
    c.rooms.welcome_history = 5;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let bob = server.member(room, "Bob").await;
    let (bob_joined, bob_last, bob_epoch) = (bob.joined.clone(), bob.last_seq, bob.epoch());
    drop(bob);
    for i in 0..30 {
        alice.say_acked(&format!("m{i}")).await;
    }
    let bob = server.resume(bob_joined.clone(), bob_last, bob_epoch).await;
    assert_eq!(bob.welcome.resume, ResumeKind::Reset);
    assert_eq!(
        bob.backlog.len(),
        5,
        "the recent history, not a partial replay"
    );
    assert_eq!(message_texts(&bob.backlog).last().unwrap().1, "m29");
    drop(bob);

    // An epoch from another history is a reset too, even when the seq is in range.
    let bob = server
        .resume(bob_joined, alice.last_seq - 1, bob_epoch + 1)
        .await;
    assert_eq!(bob.welcome.resume, ResumeKind::Reset);
    server.stop().await;
}

#[tokio::test]
async fn a_send_retried_with_the_same_client_id_is_applied_once() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let frame = ClientFrame::Send {
        client_id: "retry-1".into(),
        guard: None,
        text: "did this go through?".into(),
        cw: None,
    };
    alice.send(frame.clone()).await;
    let first = alice.ack("retry-1").await.unwrap();
    alice.send(frame).await;
    let second = alice.ack("retry-1").await.unwrap();
    assert_eq!(first, second, "the retry gets the original ack");
    assert_eq!(bob.hears("did this go through?").await, first);
    // The next thing Bob sees is the next message, not a second copy.
    let next = alice.say_acked("yes it did").await;
    assert_eq!(next, first + 1);
    let frame = bob.next().await;
    assert!(
        matches!(frame, ServerFrame::Message { seq, .. } if seq == next),
        "got {frame:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_member_who_does_not_come_back_is_away_then_leaves_after_the_away_limit() {
    let mut c = config();
    c.rooms.presence_grace_ms = 300;
    c.rooms.away_limit_ms = 600;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let bob = server.member(room, "Bob").await;
    let bob_id = bob.user();
    drop(bob);
    let seen = alice
        .until(|f| match f {
            ServerFrame::Away { user, .. } if *user == bob_id => Some(None),
            ServerFrame::Left { user, reason, .. } if *user == bob_id => Some(Some(*reason)),
            _ => None,
        })
        .await;
    assert_eq!(seen, None, "away first");
    let reason = alice
        .until(|f| match f {
            ServerFrame::Left { user, reason, .. } if *user == bob_id => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, kindred_protocol::LeftReason::Disconnected);
    server.stop().await;
}
