//! What a facilitator must act on is never lost: crisis alerts, reports and held
//! messages wait in the room until a facilitator handles them, a crisis message brings
//! help even when its author's connection is closing, and nobody whispers into the void.

use kindred_protocol::client::Received;
use kindred_protocol::policy::{Kinds, PolicyMode};
use kindred_protocol::{AlertKind, ClientFrame, ErrorCode, ModAction, ServerFrame, close_code};
use kindred_tests::{Member, ModArgs, TestServer, conversation_continues};

/// The `(id, seq, user)` of an alert of this kind.
fn alert_of(f: &ServerFrame, want: AlertKind) -> Option<(Option<u64>, Option<u64>, String)> {
    match f {
        ServerFrame::Alert {
            kind,
            id,
            seq,
            user,
            ..
        } if *kind == want => Some((*id, *seq, user.to_string())),
        _ => None,
    }
}

/// Every alert `member` receives before the message `marker` (which someone else says
/// after the member arrived), in order.
async fn alerts_before(member: &mut Member, marker: &str) -> Vec<ServerFrame> {
    let mut alerts = Vec::new();
    loop {
        match member.next().await {
            f @ ServerFrame::Alert { .. } => alerts.push(f),
            ServerFrame::Message { text, .. } if text == marker => return alerts,
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_crisis_alert_raised_while_no_facilitator_is_connected_reaches_the_first_one_who_connects()
 {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    // Late evening: no facilitator is connected.
    let words = "I can't do this anymore, I want to end my life";
    let seq = alice.say_acked(words).await;
    let card = alice
        .until(|f| match f {
            ServerFrame::CrisisResources { seq, .. } => Some(*seq),
            _ => None,
        })
        .await;
    assert_eq!(card, Some(seq), "help goes to Alice at once");

    // Fran connects a while later: the alert is the first thing after her welcome.
    let mut fran = server.facilitator(room, "Fran").await;
    let (id, about, who) = fran.until(|f| alert_of(f, AlertKind::Crisis)).await;
    assert_eq!(about, Some(seq));
    assert_eq!(who, alice.user().to_string());
    let id = id.expect("a kept alert has an id");

    // Fran handles it; Cora, arriving next, is not given it again.
    fran.send(ClientFrame::AckWarning { alert: Some(id) }).await;
    // A command after it, acknowledged, so the alert is handled before Cora arrives.
    fran.moderate(ModAction::SlowMode, ModArgs::default())
        .await
        .unwrap();
    let mut cora = server.facilitator(room, "Cora").await;
    bob.say_acked("checking in").await;
    assert!(
        alerts_before(&mut cora, "checking in").await.is_empty(),
        "a handled alert is closed for everyone"
    );
    conversation_continues(&mut alice, &mut fran, "thank you for being here").await;
    server.stop().await;
}

#[tokio::test]
async fn a_report_and_a_held_message_wait_for_a_facilitator_until_one_decides() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    fran.set_policy(PolicyMode::Hold, Kinds::default()).await;
    // Fran leaves for the night; nobody else facilitates yet.
    fran.send(ClientFrame::Leave).await;
    fran.closed().await;

    let seq = alice.say_acked("I had a rough day at work").await;
    bob.send(ClientFrame::Report {
        seq,
        reason: Some("that felt mean".into()),
    })
    .await;
    bob.send(ClientFrame::Send {
        client_id: "h1".into(),
        guard: None,
        text: "kys you idiot".into(),
        cw: None,
    })
    .await;
    let held = bob
        .until(|f| match f {
            ServerFrame::Ack {
                client_id, held, ..
            } if client_id == "h1" => Some(*held),
            _ => None,
        })
        .await;
    assert!(held, "it waits for a facilitator");

    // Cora arrives: both are there for her, the report first.
    let mut cora = server.facilitator(room, "Cora").await;
    alice.say_acked("hello Cora").await;
    let open = alerts_before(&mut cora, "hello Cora").await;
    let kinds: Vec<AlertKind> = open
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Alert { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, vec![AlertKind::Report, AlertKind::Held]);
    let ServerFrame::Alert {
        held: Some(held_id),
        id,
        text,
        ..
    } = &open[1]
    else {
        panic!("{:?}", open[1]);
    };
    assert_eq!(*id, Some(*held_id), "a held alert's id is its held id");
    assert_eq!(text.as_deref(), Some("kys you idiot"));

    // Cora declines it; Bob is told. Dan, arriving after, is given only the report.
    cora.moderate(
        ModAction::Decline,
        ModArgs {
            held: Some(*held_id),
            ..ModArgs::default()
        },
    )
    .await
    .unwrap();
    let refused = bob.ack("h1").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Filtered);
    let mut dan = server.facilitator(room, "Dan").await;
    alice.say_acked("hello Dan").await;
    let open = alerts_before(&mut dan, "hello Dan").await;
    assert_eq!(open.len(), 1);
    assert!(alert_of(&open[0], AlertKind::Report).is_some());
    server.stop().await;
}

#[tokio::test]
async fn a_whisper_with_no_facilitator_connected_tells_its_sender_instead_of_looking_sent() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    alice
        .send(ClientFrame::Whisper {
            to: None,
            text: "is anyone from the team here?".into(),
        })
        .await;
    let answer = alice
        .until(|f| match f {
            ServerFrame::Whisper { .. } => Some(Err(())),
            ServerFrame::Error(e) => Some(Ok(e.clone())),
            _ => None,
        })
        .await
        .expect("no copy that looks delivered");
    assert_eq!(answer.code, ErrorCode::NotFound);
    assert!(
        answer.message.contains("no facilitator"),
        "{}",
        answer.message
    );

    // Once a facilitator is here, the whisper goes through.
    let mut fran = server.facilitator(room, "Fran").await;
    alice
        .send(ClientFrame::Whisper {
            to: None,
            text: "is anyone from the team here?".into(),
        })
        .await;
    fran.until(|f| matches!(f, ServerFrame::Whisper { .. }).then_some(()))
        .await;
    alice
        .until(|f| matches!(f, ServerFrame::Whisper { .. }).then_some(()))
        .await;
    server.stop().await;
}

#[tokio::test]
async fn a_held_message_whose_author_has_left_can_still_be_released() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    fran.set_policy(PolicyMode::Hold, Kinds::default()).await;
    let words = "kys you idiot";
    bob.say(words).await;
    let held = fran
        .until(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Held,
                held,
                ..
            } => *held,
            _ => None,
        })
        .await;
    bob.send(ClientFrame::Leave).await;
    bob.closed().await;

    let seq = fran
        .moderate(
            ModAction::Release,
            ModArgs {
                held: Some(held),
                ..ModArgs::default()
            },
        )
        .await
        .expect("released although Bob has gone");
    let (at, author, name) = alice
        .until(|f| match f {
            ServerFrame::Message {
                seq,
                user,
                name,
                text,
                ..
            } if text == words => Some((*seq, *user, name.clone())),
            _ => None,
        })
        .await;
    assert_eq!((at, author, name.as_str()), (seq, bob.user(), "Bob"));
    server.stop().await;
}

#[tokio::test]
async fn a_crisis_message_brings_help_even_when_its_author_is_removed_at_that_moment() {
    let server = TestServer::start().await;
    let room = server.room(20).await;
    let mut fran = server.facilitator(room, "Fran").await;
    for round in 0..4 {
        let mut member = server.member(room, &format!("Member {round}")).await;
        let user = member.user();
        // The message and the removal cross: neither side waits for the other.
        member.say("I want to kill myself").await;
        fran.send(ModArgs::user(user).frame(format!("remove-{round}"), ModAction::Remove))
            .await;
        // The card arrives before the close, whichever the room applied first.
        let mut card = false;
        let code = loop {
            match tokio::time::timeout(kindred_tests::WAIT, member.conn.recv())
                .await
                .expect("the server closes in time")
            {
                Ok(Received::Text(t)) => {
                    if let Ok(ServerFrame::CrisisResources { .. }) = serde_json::from_str(&t) {
                        card = true;
                    }
                }
                Ok(Received::Closed { code, .. }) => break code,
                Err(e) => panic!("round {round}: {e}"),
            }
        };
        assert!(
            card,
            "round {round}: the resources card came before the close"
        );
        assert_eq!(code, close_code::REMOVED);
        // And the facilitators heard of it.
        fran.until(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Crisis,
                user: u,
                ..
            } if *u == user => Some(()),
            _ => None,
        })
        .await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_resent_crisis_message_brings_help_again_until_its_author_has_seen_it() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let alice = server.join(room, "Alice").await.unwrap();
    let mut first = server.connect(alice.clone()).await;
    let words = "I took too many pills";
    let seq = first.say_acked(words).await;
    let (id, _, _) = fran.until(|f| alert_of(f, AlertKind::Crisis)).await;
    // The connection drops before Alice's screen shows the card (it never confirms it).
    let (last, epoch) = (first.last_seq, first.epoch());
    drop(first);

    let card = |f: &ServerFrame| match f {
        ServerFrame::CrisisResources { seq, .. } => Some(*seq),
        _ => None,
    };
    // Her client resends what it had in flight, with the same client_id.
    let mut again = server.resume(alice.clone(), last, epoch).await;
    assert_eq!(again.say_acked(words).await, seq, "posted once");
    assert_eq!(again.until(card).await, Some(seq), "help again");
    let (id_again, _, _) = fran.until(|f| alert_of(f, AlertKind::Crisis)).await;
    assert_eq!(id_again, id, "the same alert, not a new one");

    // Once she has seen it, a resend is only a resend.
    again.send(ClientFrame::AckWarning { alert: None }).await;
    // Something acknowledged after it, so the room has it before she reconnects.
    again
        .send(ClientFrame::Send {
            client_id: "after-the-card".into(),
            guard: None,
            text: "I've saved the numbers".into(),
            cw: None,
        })
        .await;
    again.ack("after-the-card").await.unwrap();
    let mut third = server.resume(alice, again.last_seq, epoch).await;
    drop(again);
    assert_eq!(third.say_acked(words).await, seq);
    // A card for the resend would be written right after its ack, so before the
    // message she says next comes back to her.
    let after = third.frames_until_said("thank you").await;
    assert!(
        !after
            .iter()
            .any(|f| matches!(f, ServerFrame::CrisisResources { .. })),
        "no card again once she has seen it: {after:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_flood_of_crisis_words_from_one_member_is_one_alert_and_pushes_nobody_else_out() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut sam = server.facilitator(room, "Sam").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let alice_seq = alice.say_acked("i want to end my life").await;
    sam.moderate(ModAction::Mute, ModArgs::user(bob.user()))
        .await
        .expect("Sam mutes Bob");
    sam.send(ClientFrame::Leave).await;
    sam.closed().await;
    // Nobody is keeping watch, and Bob, muted, writes crisis words over and over.
    for i in 0..500 {
        let id = bob.say(&format!("i want to die {i}")).await;
        let refused = bob
            .ack(&id)
            .await
            .expect_err("a muted member's message is refused");
        assert_eq!(refused.code, ErrorCode::Muted);
    }
    let mut fran = server.facilitator(room, "Fran").await;
    alice.say_acked("marker: Fran is here").await;
    let alerts = alerts_before(&mut fran, "marker: Fran is here").await;
    let crisis: Vec<_> = alerts
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Crisis,
                user,
                seq,
                text,
                count,
                since,
                ts,
                ..
            } => Some((*user, *seq, text.clone(), *count, *since, *ts)),
            _ => None,
        })
        .collect();
    assert_eq!(
        crisis.len(),
        2,
        "one alert each for Alice and Bob: {crisis:?}"
    );
    let (_, seq, _, count, _, _) = crisis
        .iter()
        .find(|a| a.0 == alice.user())
        .expect("Alice's alert is still kept");
    assert_eq!((*seq, *count), (Some(alice_seq), None));
    let (_, _, text, count, since, ts) = crisis
        .iter()
        .find(|a| a.0 == bob.user())
        .expect("Bob's alert");
    assert_eq!(*count, Some(500), "Fran sees how often it recurred");
    assert_eq!(
        text.as_deref(),
        Some("i want to die 499"),
        "the latest words"
    );
    assert!(since.expect("when it began") <= *ts);
    server.stop().await;
}

/// Send `text` as a participant under the `hold` policy and wait for what the room
/// said: `Ok(true)` held, `Ok(false)` posted, or the error.
async fn held_or_not(member: &mut Member, text: &str) -> Result<bool, ErrorCode> {
    let id = member.say(text).await;
    member
        .outcome(&id)
        .await
        .map(|o| o == kindred_protocol::client::Outcome::Held)
        .map_err(|e| e.code)
}

#[tokio::test]
async fn a_room_holds_at_most_100_messages_and_the_next_holdable_one_is_filtered() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    fran.set_policy(PolicyMode::Hold, Kinds::default()).await;
    // A hundred held in the room, from two members.
    for i in 0..100 {
        let author = if i % 2 == 0 { &mut alice } else { &mut bob };
        assert_eq!(
            held_or_not(author, &format!("kys you idiot {i}")).await,
            Ok(true),
            "message {i} waits for review"
        );
    }
    // The next one that would be held is refused, whoever writes it; one that
    // would not be held is posted as ever.
    assert_eq!(
        held_or_not(&mut alice, "kys you idiot, one more").await,
        Err(ErrorCode::Filtered)
    );
    assert_eq!(
        held_or_not(&mut bob, "kys you idiot, and another").await,
        Err(ErrorCode::Filtered)
    );
    assert_eq!(
        held_or_not(&mut alice, "a kind word still goes through").await,
        Ok(false)
    );
    // A decision makes room for one more.
    let first = fran
        .until(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Held,
                held,
                ..
            } => *held,
            _ => None,
        })
        .await;
    fran.moderate(
        ModAction::Decline,
        ModArgs {
            held: Some(first),
            ..ModArgs::default()
        },
    )
    .await
    .expect("Fran declines one");
    assert_eq!(
        held_or_not(&mut alice, "kys you idiot, later").await,
        Ok(true)
    );
    assert_eq!(
        held_or_not(&mut bob, "kys you idiot, too late").await,
        Err(ErrorCode::Filtered)
    );
    server.stop().await;
}

#[tokio::test]
async fn past_200_open_alerts_the_oldest_reports_are_let_go_before_any_crisis_alert() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    // No facilitator tonight. First, five members write crisis words: five crisis
    // alerts, the oldest in the room.
    let mut crisis = Vec::new();
    for i in 0..5 {
        let mut member = server.member(room, &format!("Member {i}")).await;
        member.say_acked("I want to end my life").await;
        crisis.push(member);
    }
    // Then Bob reports every one of Alice's 200 messages: 200 reports, newer than
    // every crisis alert.
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let mut said = Vec::new();
    for i in 0..200 {
        said.push(
            alice
                .say_acked(&format!("a note about my week, part {i}"))
                .await,
        );
    }
    for &seq in &said {
        bob.send(ClientFrame::Report { seq, reason: None }).await;
    }
    // Acknowledged after the reports, so the room has all of them.
    bob.say_acked("that is all").await;

    let mut fran = server.facilitator(room, "Fran").await;
    alice.say_acked("marker: Fran is here").await;
    let alerts = alerts_before(&mut fran, "marker: Fran is here").await;
    assert_eq!(alerts.len(), 200, "the room keeps 200 open alerts");
    let crisis_authors: Vec<_> = alerts
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Crisis,
                user,
                ..
            } => Some(*user),
            _ => None,
        })
        .collect();
    assert_eq!(
        crisis_authors,
        crisis.iter().map(Member::user).collect::<Vec<_>>(),
        "every crisis alert is kept, the oldest alerts of all"
    );
    let reported: Vec<u64> = alerts
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Report,
                seq,
                ..
            } => *seq,
            _ => None,
        })
        .collect();
    // Had the classifier asked for a check-in about one of Alice's messages, that
    // alert would outrank the reports too: the reports kept are the newest of them
    // that fit beside every other alert.
    let others = alerts.len() - reported.len();
    assert_eq!(
        reported,
        said[others..],
        "the oldest reports were let go, the rest kept in order"
    );
    server.stop().await;
}
