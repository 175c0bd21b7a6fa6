//! Stepping out: a facilitator asks a participant out of the room for a quiet word.
//! Their connections stay open and become the waiting room's at once (a waiting
//! `welcome` with the facilitator's note), nothing of the room reaches them from
//! then on, on whichever instance they are, they keep a private word with the
//! facilitators, and `admit` gives them the room again with a fresh `welcome`.

use kindred_protocol::{ClientFrame, ErrorCode, ModAction, ResumeKind, ServerFrame, Welcome};
use kindred_tests::redis::RedisServer;
use kindred_tests::{Member, ModArgs, TestServer};

const NOTE: &str = "Could we talk for a moment about what you shared? You're not in trouble.";

/// Fran asks `member` out with the note; returns the waiting `welcome` each of their
/// connections is given, and every frame given before it.
async fn step_out(fran: &mut Member, member: &mut Member) -> (Welcome, Vec<ServerFrame>) {
    fran.moderate(
        ModAction::StepOut,
        ModArgs {
            text: Some(NOTE.into()),
            ..ModArgs::user(member.user())
        },
    )
    .await
    .expect("Fran asks them out");
    let mut before = Vec::new();
    let welcome = member
        .until(|f| match f {
            ServerFrame::Welcome(w) => Some(w.clone()),
            other => {
                before.push(other.clone());
                None
            }
        })
        .await;
    (welcome, before)
}

/// The next whisper with this text that `member` is given, and every frame before it.
async fn until_whisper(member: &mut Member, text: &str) -> Vec<ServerFrame> {
    let mut frames = Vec::new();
    member
        .until(|f| match f {
            ServerFrame::Whisper { text: t, .. } if t == text => Some(()),
            other => {
                frames.push(other.clone());
                None
            }
        })
        .await;
    frames
}

/// Whether a frame is the room's own: a timeline event, or someone typing.
fn of_the_room(f: &ServerFrame) -> bool {
    f.seq().is_some() || matches!(f, ServerFrame::Typing { .. })
}

/// Fran lets `member` back in; the room's own `welcome` follows on their connection.
async fn admit_back(fran: &mut Member, member: &mut Member) -> Welcome {
    fran.moderate(ModAction::Admit, ModArgs::user(member.user()))
        .await
        .expect("Fran admits them back");
    let (welcome, backlog) = tokio::time::timeout(kindred_tests::WAIT, member.conn.read_welcome())
        .await
        .expect("the room's welcome arrives in time")
        .expect("the room's welcome");
    member.last_seq = backlog
        .iter()
        .filter_map(ServerFrame::seq)
        .max()
        .unwrap_or(welcome.seq);
    welcome
}

/// Alice, asked out, hears nothing of the room (Bob's message, his typing), talks
/// with Fran, and `admit` gives her the room again.
async fn stepped_out_hears_nothing_then_comes_back(
    fran: &mut Member,
    alice: &mut Member,
    bob: &mut Member,
) {
    let (waiting, before) = step_out(fran, alice).await;
    assert!(waiting.you.waiting, "{waiting:?}");
    let note = waiting
        .you
        .stepped_out
        .as_ref()
        .and_then(|o| o.note.as_deref());
    assert_eq!(note, Some(NOTE));
    assert!(waiting.members.is_empty() && waiting.backlog == 0);
    assert!(
        !before
            .iter()
            .any(|f| matches!(f, ServerFrame::SteppedOut { .. })),
        "the room's event about her is not hers: {before:?}"
    );

    // The room sees that she stepped out, never the note.
    let event = bob
        .until(|f| match f {
            ServerFrame::SteppedOut { user, .. } => Some(*user),
            _ => None,
        })
        .await;
    assert_eq!(event, alice.user());

    // Bob types and speaks after it; Alice writes to the facilitators, Fran answers.
    bob.send(ClientFrame::Typing).await;
    bob.say_acked("is Alice ok?").await;
    let hers = "I'm here. Sorry about earlier.";
    alice
        .send(ClientFrame::Whisper {
            to: None,
            text: hers.into(),
        })
        .await;
    until_whisper(fran, hers).await;
    let reply = "No need to be sorry. Take a breath; I'm right here.";
    fran.send(ClientFrame::Whisper {
        to: Some(alice.user()),
        text: reply.into(),
    })
    .await;
    let alice_saw = until_whisper(alice, reply).await;
    assert!(
        !alice_saw.iter().any(of_the_room),
        "nothing of the room reaches her: {alice_saw:?}"
    );
    let bob_saw = bob.frames_until_said("a marker after the whispers").await;
    assert!(
        !bob_saw
            .iter()
            .any(|f| matches!(f, ServerFrame::Whisper { .. })),
        "the room reads none of their word: {bob_saw:?}"
    );

    // Back in: the room's own welcome, fresh, with her among the members.
    let back = admit_back(fran, alice).await;
    assert!(!back.you.waiting && back.you.stepped_out.is_none());
    assert_eq!(back.resume, ResumeKind::Fresh);
    assert!(back.members.iter().any(|m| m.user == alice.user()));
    bob.say_acked("welcome back, Alice").await;
    alice.hears("welcome back, Alice").await;
}

#[tokio::test]
async fn a_member_stepped_out_hears_nothing_of_the_room_talks_with_the_facilitators_and_comes_back()
{
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    stepped_out_hears_nothing_then_comes_back(&mut fran, &mut alice, &mut bob).await;
}

#[tokio::test]
async fn a_reload_while_stepped_out_lands_in_the_waiting_room_with_the_note() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    step_out(&mut fran, &mut alice).await;
    // The room's waiting room is off, and still her new tab waits.
    let again = server.connect(alice.joined.clone()).await;
    assert!(again.welcome.you.waiting && again.welcome.state.open);
    assert_eq!(
        again
            .welcome
            .you
            .stepped_out
            .and_then(|o| o.note)
            .as_deref(),
        Some(NOTE)
    );
    assert!(again.welcome.members.is_empty() && again.backlog.is_empty());
}

#[tokio::test]
async fn stepping_out_is_a_facilitators_and_only_for_a_participant_in_the_room() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let gil = server.facilitator(room, "Gil").await;
    let alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;

    let err = bob
        .moderate(ModAction::StepOut, ModArgs::user(alice.user()))
        .await
        .expect_err("a participant cannot");
    assert_eq!(err.code, ErrorCode::Forbidden);
    let err = fran
        .moderate(ModAction::StepOut, ModArgs::user(gil.user()))
        .await
        .expect_err("a facilitator is not asked out");
    assert_eq!(err.code, ErrorCode::Forbidden);
    let err = fran
        .moderate(
            ModAction::StepOut,
            ModArgs::user(kindred_protocol::UserId::new()),
        )
        .await
        .expect_err("nobody by that id");
    assert_eq!(err.code, ErrorCode::NotFound);
    let err = fran
        .moderate(ModAction::StepOut, ModArgs::default())
        .await
        .expect_err("whom?");
    assert_eq!(err.code, ErrorCode::BadRequest);
    // Nobody went anywhere: the room goes on with Alice in it.
    fran.say_acked("still all here").await;
}

/// Fran on instance A asks Alice, on instance B, out: B gives her the waiting room at
/// once and nothing of the room from then on, as the fold of the room's log says.
#[tokio::test]
async fn a_member_on_another_instance_stepped_out_stops_hearing_the_room_there() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(12).await;
    let mut fran = a.facilitator(room, "Fran").await;
    let mut alice = b.member(room, "Alice").await;
    let mut bob = a.member(room, "Bob").await;
    stepped_out_hears_nothing_then_comes_back(&mut fran, &mut alice, &mut bob).await;
}
