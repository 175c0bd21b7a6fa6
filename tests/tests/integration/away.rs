//! A member on a bus whose connection drops for longer than the grace period is away,
//! not gone: the room sees `away` and the member list says so, their seat is kept for
//! the room's away limit, and their resume gives them everything said meanwhile, with
//! no `reset`. Past the away limit they are gone. A facilitator away holds the room,
//! while a participant away stays seated.

use kindred_protocol::http::CreateRoom;
use kindred_protocol::{ClientFrame, ErrorCode, LeftReason, ResumeKind, ServerFrame, UserId};
use kindred_tests::{Member, TestServer, config};

/// Short enough to pass within a test, long enough that no resume here meets it.
const GRACE_MS: u64 = 200;
const LONG_AWAY_MS: u64 = 120_000;

async fn server(away_limit_ms: u64) -> TestServer {
    let mut c = config();
    c.rooms.presence_grace_ms = GRACE_MS;
    c.rooms.away_limit_ms = away_limit_ms;
    TestServer::with(c).await
}

/// Wait until `m` is told `who` is away; the event's seq.
async fn sees_away(m: &mut Member, who: UserId) -> u64 {
    m.until(|f| match f {
        ServerFrame::Away { seq, user, .. } if *user == who => Some(*seq),
        _ => None,
    })
    .await
}

/// Whether `m`'s welcome lists `who` as away (`None`: not listed at all).
fn listed_away(m: &Member, who: UserId) -> Option<bool> {
    m.welcome
        .members
        .iter()
        .find(|p| p.user == who)
        .map(|p| p.away)
}

#[tokio::test]
async fn a_member_away_past_the_grace_resumes_with_everything_said_meanwhile_and_no_reset() {
    let server = server(LONG_AWAY_MS).await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut bob = server.member(room, "Bob").await;
    let mut alice = server.member(room, "Alice").await;
    alice.say_acked("I'm on the bus, signal is patchy").await;
    bob.hears("I'm on the bus, signal is patchy").await;
    let (joined, last_seq, epoch) = (alice.joined.clone(), alice.last_seq, alice.epoch());
    let alice_id = alice.user();

    // The bus goes into a tunnel for longer than the grace period.
    drop(alice);
    let away = sees_away(&mut bob, alice_id).await;
    assert!(away > last_seq);
    // Someone arriving now sees her in the list, away, her seat kept.
    let cat = server.member(room, "Cat").await;
    assert_eq!(listed_away(&cat, alice_id), Some(true));
    assert_eq!(listed_away(&cat, bob.user()), Some(false));
    // The room goes on without her, publicly and privately.
    let said = [
        "Alice, we're keeping your seat",
        "I had a hard week too",
        "let's take a breath together",
    ];
    let mut seqs = Vec::new();
    for text in said {
        seqs.push(bob.say_acked(text).await);
    }
    fran.send(ClientFrame::Whisper {
        to: Some(alice_id),
        text: "no rush, we're here when you're back".into(),
    })
    .await;
    fran.until(|f| matches!(f, ServerFrame::Whisper { .. }).then_some(()))
        .await;

    // Out of the tunnel: her client resumes from what it last saw.
    let mut alice = server.resume(joined, last_seq, epoch).await;
    assert_eq!(alice.welcome.resume, ResumeKind::Resumed, "no reset");
    let given: Vec<u64> = alice.backlog.iter().filter_map(ServerFrame::seq).collect();
    assert_eq!(
        given,
        (last_seq + 1..=alice.welcome.seq).collect::<Vec<_>>(),
        "exactly the events after her last one, in order"
    );
    for (text, seq) in said.iter().zip(&seqs) {
        assert!(
            alice.backlog.iter().any(
                |f| matches!(f, ServerFrame::Message { seq: s, text: t, .. } if s == seq && t == text)
            ),
            "{text:?} was said while she was away and is given to her"
        );
    }
    assert_eq!(listed_away(&alice, alice_id), Some(false), "she is back");
    let whisper = alice
        .until(|f| match f {
            ServerFrame::Whisper { text, .. } => Some(text.clone()),
            _ => None,
        })
        .await;
    assert_eq!(whisper, "no rush, we're here when you're back");
    // The room sees her come back to her seat, not a new arrival.
    let back = bob
        .until(|f| match f {
            ServerFrame::Back { user, .. } if *user == alice_id => Some(true),
            ServerFrame::Joined { member, .. } if member.user == alice_id => Some(false),
            _ => None,
        })
        .await;
    assert!(back, "`back`, not `joined`");
    // And the conversation goes on, live.
    bob.say_acked("so glad you made it").await;
    alice.hears("so glad you made it").await;
    server.stop().await;
}

#[tokio::test]
async fn past_the_away_limit_an_away_member_is_gone_and_comes_back_as_a_new_arrival() {
    let server = server(3 * GRACE_MS).await;
    let room = server.room(12).await;
    let mut bob = server.member(room, "Bob").await;
    let alice = server.member(room, "Alice").await;
    let (joined, last_seq, epoch) = (alice.joined.clone(), alice.last_seq, alice.epoch());
    let alice_id = alice.user();
    drop(alice);
    let away = sees_away(&mut bob, alice_id).await;
    let (gone, reason) = bob
        .until(|f| match f {
            ServerFrame::Left {
                seq, user, reason, ..
            } if *user == alice_id => Some((*seq, *reason)),
            _ => None,
        })
        .await;
    assert!(away < gone, "away first, then gone");
    assert_eq!(reason, LeftReason::Disconnected);
    bob.say_acked("said after she left").await;
    // Her token still works, but her seat is gone: she joins again, and what was said
    // after she left is not hers.
    let alice = server.resume(joined, last_seq, epoch).await;
    assert_eq!(alice.welcome.resume, ResumeKind::Reset);
    assert!(!alice.was_given("said after she left"));
    bob.until(|f| match f {
        ServerFrame::Joined { member, .. } if member.user == alice_id => Some(()),
        _ => None,
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_facilitator_away_past_the_grace_holds_the_room_while_an_away_participant_stays_seated() {
    let server = server(LONG_AWAY_MS).await;
    let room = server
        .room_with(CreateRoom {
            open: Some(true),
            ..CreateRoom::default()
        })
        .await;
    let fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let bob = server.member(room, "Bob").await;
    assert!(!alice.welcome.state.held);
    let (fran_joined, fran_seq, fran_epoch) = (fran.joined.clone(), fran.last_seq, fran.epoch());
    let (fran_id, bob_id) = (fran.user(), bob.user());
    drop(bob);
    sees_away(&mut alice, bob_id).await;
    // Bob away leaves the room as it was: Alice still talks.
    alice.say_acked("Bob's signal dropped").await;

    drop(fran);
    sees_away(&mut alice, fran_id).await;
    alice
        .until(|f| matches!(f, ServerFrame::Held { .. }).then_some(()))
        .await;
    let id = alice.say("is anyone keeping the room?").await;
    assert_eq!(alice.ack(&id).await.unwrap_err().code, ErrorCode::Held);
    // Both still hold their seats: a second tab of Alice's lists them, away.
    let tab = server.connect(alice.joined.clone()).await;
    assert!(tab.welcome.state.held);
    assert_eq!(listed_away(&tab, fran_id), Some(true));
    assert_eq!(listed_away(&tab, bob_id), Some(true));

    // Fran's connection comes back: she is back in her seat and the room is kept.
    let fran = server.resume(fran_joined, fran_seq, fran_epoch).await;
    assert_eq!(fran.welcome.resume, ResumeKind::Resumed);
    assert!(!fran.welcome.state.held);
    let order: Vec<&str> = alice
        .frames_before_unheld()
        .await
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Back { user, .. } if *user == fran_id => Some("back"),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["back"], "Fran is back, then the room is unheld");
    alice.say_acked("welcome back Fran").await;
    server.stop().await;
}

trait UntilUnheld {
    /// Every frame before the next `unheld`.
    async fn frames_before_unheld(&mut self) -> Vec<ServerFrame>;
}

impl UntilUnheld for Member {
    async fn frames_before_unheld(&mut self) -> Vec<ServerFrame> {
        let mut before = Vec::new();
        self.until(|f| {
            if matches!(f, ServerFrame::Unheld { .. }) {
                return Some(());
            }
            before.push(f.clone());
            None
        })
        .await;
        before
    }
}
