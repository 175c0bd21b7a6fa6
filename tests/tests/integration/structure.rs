//! The structured group over real sockets, on either broker: the facilitator moves the
//! group through its script and everyone sees the phase (a late joiner and a resuming
//! member in their `welcome`); a check-in round passes the floor member to member with
//! a pass; a sharing queue with a move-up. The operator's script is checked at the door.

use kindred_protocol::http::{CreateRoom, HttpError};
use kindred_protocol::{
    ClientFrame, ErrorCode, ModAction, Phase, PhaseKind, Queued, RoundNow, ServerFrame, TurnDone,
    UserId,
};
use kindred_tests::{ADMIN, Member, ModArgs, TestServer, WAIT};

fn phase(name: &str, prompt: &str, kind: PhaseKind) -> Phase {
    Phase {
        name: name.into(),
        prompt: prompt.into(),
        minutes: Some(10),
        kind,
        reading: None,
        turn_seconds: Some(300),
    }
}

/// An open room of tonight's group with a script of three phases: welcome, a check-in
/// round and open sharing from a queue.
pub(super) async fn group(server: &TestServer) -> kindred_protocol::RoomId {
    server
        .room_with(CreateRoom {
            open: Some(true),
            facilitated: Some(false),
            script: Some(vec![
                Phase {
                    reading: Some("Listening is participating.".into()),
                    ..phase("Welcome", "Settle in.", PhaseKind::Open)
                },
                phase(
                    "Check-in",
                    "How are you arriving tonight?",
                    PhaseKind::Round,
                ),
                phase("Open sharing", "Ask to share.", PhaseKind::Queue),
            ]),
            ..CreateRoom::default()
        })
        .await
}

pub(super) async fn to_phase(fran: &mut Member, index: u32) {
    fran.moderate(
        ModAction::Phase,
        ModArgs {
            index: Some(index),
            ..ModArgs::default()
        },
    )
    .await
    .expect("the facilitator moves the group");
}

async fn phase_seen(m: &mut Member) -> (u32, String) {
    m.until(|f| match f {
        ServerFrame::Phase(e) => Some((e.phase.index, e.phase.name.clone())),
        _ => None,
    })
    .await
}

pub(super) async fn floor_seen(m: &mut Member) -> Option<UserId> {
    m.until(|f| match f {
        ServerFrame::Floor { user, .. } => Some(*user),
        _ => None,
    })
    .await
}

async fn round_seen(m: &mut Member) -> RoundNow {
    m.until(|f| match f {
        ServerFrame::Round(e) => Some(e.round.clone()),
        _ => None,
    })
    .await
}

async fn queue_seen(m: &mut Member) -> Vec<String> {
    m.until(|f| match f {
        ServerFrame::Queue(e) => Some(e.members.iter().map(|q: &Queued| q.name.clone()).collect()),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn everyone_sees_the_phase_and_a_late_or_resuming_member_s_welcome_shows_it() {
    let server = TestServer::start().await;
    let room = group(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut ana = server.member(room, "Ana").await;
    let script = ana
        .welcome
        .state
        .script
        .clone()
        .expect("the welcome carries the script");
    assert_eq!(script.phases.len(), 3);
    assert_eq!(script.current, None);

    fran.moderate(ModAction::NextPhase, ModArgs::default())
        .await
        .unwrap();
    assert_eq!(phase_seen(&mut ana).await, (0, "Welcome".to_owned()));
    fran.moderate(ModAction::PostReading, ModArgs::default())
        .await
        .unwrap();
    let reading = ana
        .until(|f| match f {
            ServerFrame::Announcement { text, .. } => Some(text.clone()),
            _ => None,
        })
        .await;
    assert_eq!(reading, "Listening is participating.");
    // A participant cannot move the group.
    let refused = ana
        .moderate(ModAction::NextPhase, ModArgs::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);

    // Ana's connection drops; the group moves on to open sharing without her.
    let (ana_joined, last, epoch) = (ana.joined.clone(), ana.last_seq, ana.epoch());
    drop(ana);
    to_phase(&mut fran, 2).await;
    // Someone who arrives now is told where the group is.
    let ben = server.member(room, "Ben").await;
    let current = ben.welcome.state.script.clone().and_then(|s| s.current);
    assert_eq!(
        current.map(|c| (c.index, c.name, c.kind)),
        Some((2, "Open sharing".to_owned(), PhaseKind::Queue))
    );
    // Ana resumes: the phase she missed is replayed, and her welcome shows it too.
    let ana = server.resume(ana_joined, last, epoch).await;
    assert!(
        ana.backlog
            .iter()
            .any(|f| matches!(f, ServerFrame::Phase(e) if e.phase.index == 2)),
        "the phase is in what she missed: {:?}",
        ana.backlog
    );
    let current = ana.welcome.state.script.clone().and_then(|s| s.current);
    assert_eq!(current.map(|c| c.index), Some(2));
    server.stop().await;
}

#[tokio::test]
async fn a_check_in_round_passes_the_floor_with_a_pass_until_everyone_has_had_a_turn() {
    let server = TestServer::start().await;
    let room = group(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut ana = server.member(room, "Ana").await;
    let mut ben = server.member(room, "Ben").await;
    let mut cal = server.member(room, "Cal").await;

    to_phase(&mut fran, 1).await;
    assert_eq!(
        floor_seen(&mut cal).await,
        Some(ana.user()),
        "the first to arrive goes first"
    );
    let turns = round_seen(&mut cal).await;
    let names: Vec<&str> = turns.turns.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Ana", "Ben", "Cal"]);
    let id = ben.say("can I go first").await;
    assert_eq!(ben.ack(&id).await.unwrap_err().code, ErrorCode::NotYourTurn);
    ana.say_acked("tired but glad to be here").await;

    fran.moderate(ModAction::NextTurn, ModArgs::default())
        .await
        .unwrap();
    assert_eq!(floor_seen(&mut cal).await, Some(ben.user()));
    // Ben listens tonight.
    ben.send(ClientFrame::Pass).await;
    assert_eq!(floor_seen(&mut cal).await, Some(cal.user()));
    // Everyone sees how Ben's turn went.
    let ben_turn = ana
        .until(|f| match f {
            ServerFrame::Round(e) => e
                .round
                .turns
                .iter()
                .find(|t| t.name == "Ben" && t.done.is_some())
                .map(|t| t.done),
            _ => None,
        })
        .await;
    assert_eq!(ben_turn, Some(TurnDone::Passed));
    // A pass out of turn is refused.
    ana.send(ClientFrame::Pass).await;
    assert_eq!(
        ana.error(ErrorCode::NotYourTurn).await.code,
        ErrorCode::NotYourTurn
    );

    cal.say_acked("one word: hopeful").await;
    fran.moderate(ModAction::NextTurn, ModArgs::default())
        .await
        .unwrap();
    let ended = ana
        .until(|f| match f {
            ServerFrame::Round(e) if e.round.ended => Some(e.round.clone()),
            _ => None,
        })
        .await;
    let done: Vec<Option<TurnDone>> = ended.turns.iter().map(|t| t.done).collect();
    assert_eq!(
        done,
        [
            Some(TurnDone::Shared),
            Some(TurnDone::Passed),
            Some(TurnDone::Shared)
        ]
    );
    // The floor is open again: anyone may talk.
    ben.say_acked("thank you all").await;
    let refused = fran
        .moderate(ModAction::NextTurn, ModArgs::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::BadRequest);
    server.stop().await;
}

#[tokio::test]
async fn a_sharing_queue_in_order_with_a_move_up() {
    let server = TestServer::start().await;
    let room = group(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut ana = server.member(room, "Ana").await;
    let mut ben = server.member(room, "Ben").await;
    let mut cal = server.member(room, "Cal").await;

    // Before the queue phase there is no queue to join.
    ana.send(ClientFrame::Queue { on: true }).await;
    assert_eq!(
        ana.error(ErrorCode::BadRequest).await.code,
        ErrorCode::BadRequest
    );

    to_phase(&mut fran, 2).await;
    ana.send(ClientFrame::Queue { on: true }).await;
    assert_eq!(queue_seen(&mut cal).await, ["Ana"]);
    // An older client's raised hand joins the queue too.
    ben.send(ClientFrame::Hand { raised: true }).await;
    assert_eq!(queue_seen(&mut cal).await, ["Ana", "Ben"]);
    fran.moderate(ModAction::MoveUp, ModArgs::user(ben.user()))
        .await
        .unwrap();
    assert_eq!(queue_seen(&mut cal).await, ["Ben", "Ana"]);

    fran.moderate(ModAction::NextTurn, ModArgs::default())
        .await
        .unwrap();
    assert_eq!(floor_seen(&mut cal).await, Some(ben.user()));
    assert_eq!(queue_seen(&mut cal).await, ["Ana"]);
    let id = ana.say("me next?").await;
    assert_eq!(ana.ack(&id).await.unwrap_err().code, ErrorCode::NotYourTurn);
    ben.say_acked("it was a hard week").await;
    server.stop().await;
}

#[tokio::test]
async fn the_operator_s_script_is_checked_before_the_room_takes_it() {
    let server = TestServer::start().await;
    let room = group(&server).await;
    let response = reqwest::Client::new()
        .patch(format!("{}/api/rooms/{room}", server.base()))
        .timeout(WAIT)
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"script": [{"name": "Check-in", "kind": "round", "minutes": 0}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: HttpError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::BadRequest);
    assert!(error.message.contains("minutes"), "{}", error.message);
    let ana = server.member(room, "Ana").await;
    let phases = ana.welcome.state.script.clone().unwrap().phases;
    assert_eq!(phases.len(), 3, "the room's script is unchanged");
    server.stop().await;
}
