//! A word before admission: a facilitator writes privately to someone in the waiting
//! room and reads their replies, and leaves a note for everyone waiting; the people
//! waiting see only that, and the room sees none of it.

use kindred_protocol::http::CreateRoom;
use kindred_protocol::{ClientFrame, ErrorCode, ModAction, RoomId, ServerFrame, UserId};
use kindred_tests::{Member, ModArgs, TestServer};

/// An open drop-in room with the waiting room on.
async fn waiting_room(server: &TestServer) -> RoomId {
    server
        .room_with(CreateRoom {
            open: Some(true),
            facilitated: Some(false),
            waiting_room: Some(true),
            ..CreateRoom::default()
        })
        .await
}

/// Fran lets `member` in; returns once their room's welcome has arrived.
async fn let_in(fran: &mut Member, member: &mut Member) -> Vec<ServerFrame> {
    fran.moderate(ModAction::Admit, ModArgs::user(member.user()))
        .await
        .expect("Fran lets them in");
    let (welcome, backlog) = tokio::time::timeout(kindred_tests::WAIT, member.conn.read_welcome())
        .await
        .expect("the room's welcome arrives in time")
        .expect("the room's welcome");
    member.last_seq = welcome.seq;
    backlog
}

/// The next whisper with this text that `member` is given: (from, to, waiting).
async fn whisper(member: &mut Member, text: &str) -> (UserId, Option<UserId>, bool) {
    member
        .until(|f| match f {
            ServerFrame::Whisper {
                from,
                to,
                text: t,
                waiting,
                ..
            } if t == text => Some((*from, *to, *waiting)),
            _ => None,
        })
        .await
}

/// Every frame `member` is given before the whisper with this text.
async fn frames_before_whisper(member: &mut Member, text: &str) -> Vec<ServerFrame> {
    let mut frames = Vec::new();
    member
        .until(|f| match f {
            ServerFrame::Whisper { text: t, .. } if t == text => Some(()),
            _ => {
                frames.push(f.clone());
                None
            }
        })
        .await;
    frames
}

fn private(frames: &[ServerFrame]) -> Vec<&ServerFrame> {
    frames
        .iter()
        .filter(|f| matches!(f, ServerFrame::Whisper { .. } | ServerFrame::Message { .. }))
        .collect()
}

#[tokio::test]
async fn a_facilitator_and_someone_waiting_talk_privately_while_the_room_sees_nothing() {
    let server = TestServer::start().await;
    let room = waiting_room(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut bob = server.member(room, "Bob").await;
    let_in(&mut fran, &mut bob).await;
    let mut alice = server.member(room, "Alice").await;
    let mut carol = server.member(room, "Carol").await;
    assert!(alice.welcome.you.waiting && carol.welcome.you.waiting);

    // Fran writes to Alice, who is waiting; Alice answers.
    let hello = "Hi Alice, before I let you in: is this your first time with us?";
    fran.send(ClientFrame::Whisper {
        to: Some(alice.user()),
        text: hello.into(),
    })
    .await;
    assert_eq!(
        whisper(&mut alice, hello).await,
        (fran.user(), Some(alice.user()), false)
    );
    let reply = "Yes, a friend told me about the group.";
    alice
        .send(ClientFrame::Whisper {
            to: None,
            text: reply.into(),
        })
        .await;
    assert_eq!(whisper(&mut fran, reply).await, (alice.user(), None, false));
    // Alice's reply comes back to her own tabs as written.
    whisper(&mut alice, reply).await;

    // A note to everyone waiting reaches Alice and Carol (and Fran), nobody inside.
    let note = "Welcome, everyone. We start at 7:05; I'll let you in then.";
    fran.send(ClientFrame::WaitingNote { text: note.into() })
        .await;
    assert_eq!(whisper(&mut fran, note).await, (fran.user(), None, true));
    // Carol was given the note and nothing of Fran and Alice's conversation.
    let carol_saw = frames_before_whisper(&mut carol, note).await;
    assert!(private(&carol_saw).is_empty(), "{carol_saw:?}");
    assert_eq!(whisper(&mut alice, note).await, (fran.user(), None, true));

    // Bob, in the room, saw none of it: the next thing he is given that is private
    // or said is Fran's message to the room.
    let marker = "we'll begin shortly";
    fran.say_acked(marker).await;
    let bob_saw = bob.frames_before(marker).await;
    assert!(private(&bob_saw).is_empty(), "{bob_saw:?}");
    // And Alice, waiting, is not given the room's message: her next frame is her
    // conversation, not the room.
    let later = "Thanks, see you at 7:05.";
    alice
        .send(ClientFrame::Whisper {
            to: None,
            text: later.into(),
        })
        .await;
    let alice_saw = frames_before_whisper(&mut alice, later).await;
    assert!(private(&alice_saw).is_empty(), "{alice_saw:?}");

    // A participant cannot write to everyone waiting.
    bob.send(ClientFrame::WaitingNote {
        text: "come in, it's fine".into(),
    })
    .await;
    bob.error(ErrorCode::Forbidden).await;

    // Someone who knocks later is given the note, and only the note.
    let mut dan = server.member(room, "Dan").await;
    let given = frames_before_whisper(&mut dan, note).await;
    assert!(private(&given).is_empty(), "{given:?}");
    // Alice's second tab, still waiting, is given her conversation and the note
    // again, and nothing else private.
    let mut again = server.connect(alice.joined.clone()).await;
    assert!(again.welcome.you.waiting);
    let mut given = Vec::new();
    for _ in 0..4 {
        given.push(
            again
                .until(|f| match f {
                    ServerFrame::Whisper { text, replayed, .. } => Some((text.clone(), *replayed)),
                    _ => None,
                })
                .await,
        );
    }
    let expected = [hello, reply, note, later].map(|t| (t.to_string(), true));
    assert_eq!(given, expected);
    server.stop().await;
}
