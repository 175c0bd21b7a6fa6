//! What facilitators share within a session: a moderation log that a co-facilitator who
//! arrives late is given, reports that quote what was said, handled items that leave
//! every facilitator's list, and whispers kept while no facilitator was connected.

use kindred_protocol::http::CreateRoom;
use kindred_protocol::policy::{Kinds, PolicyMode};
use kindred_protocol::{
    AlertKind, ClientFrame, ErrorCode, LogEntry, ModAction, Quote, Reaction, RoomId, ServerFrame,
};
use kindred_tests::{Member, ModArgs, TestServer};

/// The next `mod_log` frame's entries.
async fn log_frame(member: &mut Member) -> Vec<LogEntry> {
    member
        .until(|f| match f {
            ServerFrame::ModLog { entries } => Some(entries.clone()),
            _ => None,
        })
        .await
}

/// Wait for a live log entry for this action.
async fn logged(member: &mut Member, action: ModAction) -> LogEntry {
    loop {
        if let Some(e) = log_frame(member)
            .await
            .into_iter()
            .find(|e| e.action == action)
        {
            return e;
        }
    }
}

/// The next report alert: its id and quotes.
async fn report_alert(member: &mut Member) -> (u64, Vec<Quote>) {
    member
        .until(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Report,
                id,
                context,
                ..
            } => Some((id.expect("a report is kept"), context.clone())),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn a_co_facilitator_who_arrives_late_is_given_what_was_done_this_session() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    assert_eq!(
        log_frame(&mut fran).await,
        vec![],
        "a new session's log is empty"
    );
    let alice = server.member(room, "Alice").await;
    fran.moderate(
        ModAction::Mute,
        ModArgs {
            seconds: Some(300),
            reason: Some("a moment to breathe".into()),
            ..ModArgs::user(alice.user())
        },
    )
    .await
    .expect("Fran mutes Alice");
    fran.moderate(ModAction::Lock, ModArgs::default())
        .await
        .expect("Fran locks the room");
    // Gus arrives late: the whole log follows his welcome, oldest first: who did
    // what, to whom, why and when.
    let mut gus = server.facilitator(room, "Gus").await;
    let log = log_frame(&mut gus).await;
    let actions: Vec<ModAction> = log.iter().map(|e| e.action).collect();
    assert_eq!(actions, [ModAction::Mute, ModAction::Lock]);
    let mute = &log[0];
    assert_eq!((mute.by, mute.by_name.as_str()), (fran.user(), "Fran"));
    assert_eq!(mute.user, Some(alice.user()));
    assert_eq!(mute.name.as_deref(), Some("Alice"));
    assert_eq!(mute.reason.as_deref(), Some("a moment to breathe"));
    assert_eq!(mute.seconds, Some(300));
    assert_eq!(log[1].on, Some(true));
    assert!(log[0].id < log[1].id && log[0].ts <= log[1].ts);
    // And hears of Fran's next action live.
    fran.moderate(ModAction::Unmute, ModArgs::user(alice.user()))
        .await
        .expect("Fran lifts the mute");
    assert_eq!(logged(&mut gus, ModAction::Unmute).await.by_name, "Fran");
    // Participants are never given the log.
    assert!(
        !alice
            .backlog
            .iter()
            .any(|f| matches!(f, ServerFrame::ModLog { .. }))
    );

    // The log is the session's: the next session starts with an empty one.
    fran.moderate(ModAction::Close, ModArgs::default())
        .await
        .expect("Fran closes the session");
    let mut hana = server.facilitator(room, "Hana").await;
    assert_eq!(log_frame(&mut hana).await, vec![]);
    server.stop().await;
}

#[tokio::test]
async fn a_report_quotes_the_message_and_the_three_before_it_even_once_withdrawn() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let mut said = Vec::new();
    for text in ["first", "second", "third", "fourth", "you are all pathetic"] {
        said.push(alice.say_acked(text).await);
        bob.hears(text).await;
        if text == "third" {
            // A reaction between the messages: not a message, so not quoted.
            let target = said[2];
            bob.send(ClientFrame::React {
                seq: target,
                emoji: Reaction::Heart,
            })
            .await;
            bob.until(|f| matches!(f, ServerFrame::Reaction { .. }).then_some(()))
                .await;
        }
    }
    bob.send(ClientFrame::Report {
        seq: said[4],
        reason: Some("that felt unkind".into()),
    })
    .await;
    let mut fran = server.facilitator(room, "Fran").await;
    let (id, context) = report_alert(&mut fran).await;
    let texts: Vec<&str> = context.iter().map(|q| q.text.as_str()).collect();
    assert_eq!(
        texts,
        ["second", "third", "fourth", "you are all pathetic"],
        "the reported message last, the reaction between them left out"
    );
    assert_eq!(context[3].seq, said[4]);
    assert_eq!(context[3].name, "Alice");

    // Fran withdraws the message; a co-facilitator who arrives still reads it.
    fran.moderate(
        ModAction::Redact,
        ModArgs {
            seq: Some(said[4]),
            ..ModArgs::default()
        },
    )
    .await
    .expect("Fran withdraws it");
    let mut gus = server.facilitator(room, "Gus").await;
    let (kept_id, kept_context) = report_alert(&mut gus).await;
    assert_eq!((kept_id, kept_context), (id, context));

    // Gus resolves it: Fran is told, and it is no longer given to arrivals.
    gus.moderate(
        ModAction::Resolve,
        ModArgs {
            report: Some(id),
            ..ModArgs::default()
        },
    )
    .await
    .expect("Gus resolves the report");
    let entry = logged(&mut fran, ModAction::Resolve).await;
    assert_eq!((entry.alert, entry.by_name.as_str()), (Some(id), "Gus"));
    let again = fran
        .moderate(
            ModAction::Resolve,
            ModArgs {
                report: Some(id),
                ..ModArgs::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::NotFound, "handled once");

    // A withdrawn message, or an event that is not a message, cannot be reported:
    // each report is answered, before Bob's next message comes back, with one error.
    let joined = bob.welcome.seq;
    for (seq, marker) in [(said[4], "after the first"), (joined, "after the second")] {
        bob.send(ClientFrame::Report { seq, reason: None }).await;
        let errors: Vec<ErrorCode> = bob
            .frames_until_said(marker)
            .await
            .iter()
            .filter_map(|f| match f {
                ServerFrame::Error(e) => Some(e.code),
                _ => None,
            })
            .collect();
        assert_eq!(errors, [ErrorCode::NotFound], "the report of seq {seq}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_held_message_released_by_one_facilitator_leaves_the_others_list() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut gus = server.facilitator(room, "Gus").await;
    fran.set_policy(PolicyMode::Hold, Kinds::default()).await;
    let mut alice = server.member(room, "Alice").await;
    alice.say("kys you idiot").await;
    let held = gus
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
        ModAction::Release,
        ModArgs {
            held: Some(held),
            ..ModArgs::default()
        },
    )
    .await
    .expect("Fran releases it");
    let entry = logged(&mut gus, ModAction::Release).await;
    assert_eq!(entry.held, Some(held));
    let seq = alice.hears("kys you idiot").await;
    assert_eq!(
        entry.seq,
        Some(seq),
        "the entry names the message it became"
    );
    server.stop().await;
}

/// An open, facilitated room: held whenever no facilitator is present.
async fn kept_room(server: &TestServer) -> RoomId {
    server
        .room_with(CreateRoom {
            open: Some(true),
            ..CreateRoom::default()
        })
        .await
}

#[tokio::test]
async fn a_whisper_waits_for_a_facilitator_and_a_reload_keeps_the_private_conversation() {
    let server = TestServer::start().await;
    let room = kept_room(&server).await;
    let mut alice = server.member(room, "Alice").await;
    alice
        .send(ClientFrame::Whisper {
            to: None,
            text: "is someone coming? I'm struggling".into(),
        })
        .await;
    // Not refused: kept, and Alice's copy says so.
    let (first_id, kept) = alice
        .until(|f| match f {
            ServerFrame::Whisper { id, kept, .. } => Some(Ok((*id, *kept))),
            ServerFrame::Error(e) => Some(Err(e.clone())),
            _ => None,
        })
        .await
        .expect("the whisper is kept, not refused");
    assert!(kept);
    let first_id = first_id.expect("a kept whisper is numbered");

    let mut fran = server.facilitator(room, "Fran").await;
    let (from, text, kept) = fran
        .until(|f| match f {
            ServerFrame::Whisper {
                from, text, kept, ..
            } => Some((*from, text.clone(), *kept)),
            _ => None,
        })
        .await;
    assert_eq!(
        (from, text.as_str(), kept),
        (alice.user(), "is someone coming? I'm struggling", true)
    );
    // Fran answers privately; Bob, another member, knows nothing of it.
    let bob = server.member(room, "Bob").await;
    fran.send(ClientFrame::Whisper {
        to: Some(alice.user()),
        text: "I'm here now. How are you doing?".into(),
    })
    .await;
    let second_id = alice
        .until(|f| match f {
            ServerFrame::Whisper { id, text, .. } if text.starts_with("I'm here") => Some(*id),
            _ => None,
        })
        .await
        .expect("a whisper is numbered");
    assert!(first_id < second_id, "numbered in the order written");
    // A reload keeps the conversation: Alice is given both, in order, with the ids
    // her client already showed; a co-facilitator who arrives is given it too; Bob's
    // reload is given none of it.
    let mut reload = server.connect(alice.joined.clone()).await;
    let mut gus = server.facilitator(room, "Gus").await;
    let mut bob_again = server.connect(bob.joined.clone()).await;
    for member in [&mut reload, &mut gus] {
        let mut seen = Vec::new();
        while seen.len() < 2 {
            let w = member
                .until(|f| match f {
                    ServerFrame::Whisper { id, text, kept, .. } => Some((*id, text.clone(), *kept)),
                    _ => None,
                })
                .await;
            seen.push(w);
        }
        assert_eq!(
            seen,
            [
                (
                    Some(first_id),
                    "is someone coming? I'm struggling".to_owned(),
                    true
                ),
                (
                    Some(second_id),
                    "I'm here now. How are you doing?".to_owned(),
                    false
                ),
            ],
            "the same ids, in order, the first marked as written while nobody was there"
        );
    }
    let given = bob_again.frames_until_said("marker").await;
    assert!(
        !given
            .iter()
            .any(|f| matches!(f, ServerFrame::Whisper { .. })),
        "Bob is given nobody else's private messages: {given:?}"
    );
    server.stop().await;
}
