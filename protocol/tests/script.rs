//! The structured group's frames read as a client reads them: the fixtures of
//! PROTOCOL.md §10 (`phase`, `round`, `queue`, `script`, a `welcome` during a round,
//! `pass`, `queue {on}`, a `mod` that moves the group, a room created with a script).

use std::fs;
use std::path::PathBuf;

use kindred_protocol::http::CreateRoom;
use kindred_protocol::{ClientFrame, ModAction, PhaseKind, ServerFrame, TurnDone};

fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.json"));
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_phase_event_names_the_phase_and_when_its_time_is_up() {
    let ServerFrame::Phase(e) = fixture("server_phase") else {
        panic!("not a phase");
    };
    assert_eq!((e.phase.index, e.phase.kind), (1, PhaseKind::Round));
    assert_eq!(e.phase.until, Some(e.ts + 15 * 60_000));
    assert!(!e.phase.time_up);
    let ServerFrame::Phase(up) = fixture("server_phase.time_up") else {
        panic!("not a phase");
    };
    assert!(up.phase.time_up && up.phase.until == Some(up.ts));
}

#[test]
fn a_round_event_shows_each_turn_and_its_end() {
    let ServerFrame::Round(r) = fixture("server_round") else {
        panic!("not a round");
    };
    let done: Vec<Option<TurnDone>> = r.round.turns.iter().map(|t| t.done).collect();
    assert_eq!(done, [Some(TurnDone::Passed), None, None]);
    assert!(!r.round.ended);
    let ServerFrame::Round(end) = fixture("server_round.ended") else {
        panic!("not a round");
    };
    assert!(end.round.ended && end.round.turns.iter().all(|t| t.done.is_some()));
}

#[test]
fn the_queue_and_the_script_are_in_order() {
    let ServerFrame::Queue(q) = fixture("server_queue") else {
        panic!("not a queue");
    };
    let names: Vec<&str> = q.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Ash", "Willow"]);
    let ServerFrame::Script(s) = fixture("server_script") else {
        panic!("not a script");
    };
    let kinds: Vec<PhaseKind> = s.phases.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [PhaseKind::Open, PhaseKind::Round, PhaseKind::Queue]);
    assert!(s.phases[0].reading.is_some());
}

#[test]
fn a_welcome_during_a_round_shows_the_phase_and_the_turns() {
    let ServerFrame::Welcome(w) = fixture("server_welcome.script") else {
        panic!("not a welcome");
    };
    let script = w.state.script.expect("the structured group");
    assert_eq!(script.current.map(|c| c.name), Some("Check-in".to_owned()));
    let round = script.round.expect("a round");
    assert_eq!(
        round.turns[1].user,
        w.state.floor.expect("River has the floor")
    );
}

#[test]
fn a_member_passes_or_asks_to_share_and_a_facilitator_moves_the_group() {
    assert_eq!(fixture::<ClientFrame>("client_pass"), ClientFrame::Pass);
    assert_eq!(
        fixture::<ClientFrame>("client_queue"),
        ClientFrame::Queue { on: true }
    );
    let ClientFrame::Mod { action, index, .. } = fixture("client_mod.phase") else {
        panic!("not a mod");
    };
    assert_eq!((action, index), (ModAction::Phase, Some(1)));
    let ClientFrame::Mod { action, script, .. } = fixture("client_mod.set_script") else {
        panic!("not a mod");
    };
    assert_eq!(action, ModAction::SetScript);
    assert_eq!(script.map(|s| s.len()), Some(3));
    let room: CreateRoom = fixture("http_create_room.script");
    assert_eq!(room.script.map(|s| s[1].turn_seconds), Some(Some(120)));
}

#[test]
fn a_phase_with_an_unknown_field_is_refused() {
    let typo = r#"{"type":"mod","client_id":"m","action":"set_script","script":[{"name":"x","minuts":5}]}"#;
    assert!(serde_json::from_str::<ClientFrame>(typo).is_err());
}
