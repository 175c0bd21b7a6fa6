//! The fold's own cases: repeats, a changed index, formats, restatements.

use kindred_protocol::Visibility;

use super::*;
use crate::room::RoomConfig;

fn room() -> Room {
    let config = RoomConfig {
        title: "Thursday circle".into(),
        topic: String::new(),
        description: String::new(),
        guidelines: "Be kind.".into(),
        capacity: 12,
        visibility: Visibility::Public,
        policy: Default::default(),
        facilitated: false,
        schedule: None,
        waiting_room: false,
        cw_topics: crate::room::default_cw_topics(),
    };
    Room::new(RoomId::new(), config, Limits::default())
}

fn entry(op: Op) -> Entry {
    Entry::new(1, rand::random(), 1_700_000_000_000, op)
}

/// Read back as Redis carries it.
fn carried(e: &Entry) -> Entry {
    serde_json::from_str(&serde_json::to_string(e).unwrap()).unwrap()
}

#[test]
fn a_log_begins_with_its_room_and_the_operators_changes_are_entries_like_any_other() {
    let created = room();
    let first = carried(&entry(Op::Create {
        room: Box::new(created.clone()),
        epoch: 7,
    }));
    let mut replica = Replica::begin(1, first, Limits::default(), 10).expect("a creation");
    assert_eq!((replica.index, replica.epoch), (1, 7));
    assert_eq!(replica.room, created);
    let rename = Command::Configure(Box::new(UpdateRoom {
        title: Some("Friday circle".into()),
        open: Some(true),
        ..UpdateRoom::default()
    }));
    let Fold::Applied { answer, recorded } =
        replica.fold(2, carried(&entry(Op::Command(rename))), None)
    else {
        panic!("the next entry is folded");
    };
    assert!(answer.is_ok() && recorded, "the record changed");
    assert_eq!(replica.room.config.title, "Friday circle");
    let Fold::Applied { recorded, .. } =
        replica.fold(3, carried(&entry(Op::Command(Command::Delete))), None)
    else {
        panic!("the next entry is folded");
    };
    assert!(recorded && replica.deleted());
    // A snapshot says the room is deleted, for an instance that loads it later.
    let image: Image =
        serde_json::from_str(&serde_json::to_string(&replica.image()).unwrap()).unwrap();
    assert!(Replica::from_image(image, Limits::default(), 10).deleted());
    // Only a creation begins a log.
    assert!(Replica::begin(1, entry(Op::Command(Command::Tick)), Limits::default(), 10).is_none());
}

#[test]
fn entries_written_before_the_operators_changes_were_commands_still_read() {
    let configure: Entry = serde_json::from_value(serde_json::json!({
        "origin": 1, "id": 2, "ts": 5, "op": {"Configure": {"title": "Friday circle"}}
    }))
    .unwrap();
    assert!(matches!(
        configure.op,
        Op::Command(Command::Configure(ref update)) if update.title.as_deref() == Some("Friday circle")
    ));
    let delete: Entry = serde_json::from_value(serde_json::json!({
        "origin": 1, "id": 3, "ts": 5, "op": "Delete"
    }))
    .unwrap();
    assert!(matches!(delete.op, Op::Command(Command::Delete)));
}

#[test]
fn an_append_folded_twice_applies_once_and_a_changed_index_is_told() {
    let created = entry(Op::Create {
        room: Box::new(room()),
        epoch: 7,
    });
    let mut replica = Replica::begin(1, created, Limits::default(), 10).expect("a creation");
    let rename = |title: &str| {
        entry(Op::Command(Command::Configure(Box::new(UpdateRoom {
            title: Some(title.into()),
            ..UpdateRoom::default()
        }))))
    };
    let first = rename("Friday circle");
    assert!(matches!(
        replica.fold(2, first.clone(), None),
        Fold::Applied { .. }
    ));
    // Its script ran twice: the same append again, at the next index.
    assert!(matches!(replica.fold(3, first.clone(), None), Fold::Repeat));
    assert_eq!(replica.index, 3, "the index is taken");
    // Read again where it was folded: stale, as after a catch-up read.
    assert!(matches!(
        replica.fold(2, carried(&first), None),
        Fold::Stale
    ));
    // Another entry at an index folded here: the log went backwards.
    assert!(matches!(
        replica.fold(2, rename("Other"), None),
        Fold::Diverged
    ));
    // A snapshot remembers what was folded, so a replica started from it agrees.
    let image: Image =
        serde_json::from_str(&serde_json::to_string(&replica.image()).unwrap()).unwrap();
    let mut restored = Replica::from_image(image, Limits::default(), 10);
    assert!(matches!(restored.fold(4, first, None), Fold::Repeat));
}

#[test]
fn an_entry_of_a_newer_format_or_that_does_not_parse_is_not_folded() {
    let json = serde_json::to_string(&entry(Op::Command(Command::Tick))).unwrap();
    assert!(json.contains(&format!("\"v\":{ENTRY_FORMAT}")), "{json}");
    assert!(read_entry(&json).is_some());
    let newer = json.replace(
        &format!("\"v\":{ENTRY_FORMAT}"),
        &format!("\"v\":{}", ENTRY_FORMAT + 1),
    );
    assert!(read_entry(&newer).is_none());
    assert_eq!(format_of(&newer), Some(ENTRY_FORMAT + 1));
    // Written before formats were numbered: format 1.
    let unnumbered = r#"{"origin":1,"id":2,"ts":5,"op":{"Command":"Tick"}}"#;
    assert_eq!(read_entry(unnumbered).map(|e| e.format), Some(1));
    assert!(read_entry("{\"origin\":").is_none());
    assert_eq!(format_of("not json"), None);
}

#[test]
fn audiences_survive_the_trip_through_redis() {
    let u = UserId::new();
    for a in [
        Audience::Room,
        Audience::Facilitators,
        Audience::Others(u),
        Audience::User(u),
        Audience::UserAndFacilitators(u),
    ] {
        assert_eq!(parse_audience(&audience_code(a)), Some(a));
    }
    assert_eq!(parse_audience("x"), None);
    assert_eq!(parse_audience(""), None);
    assert_eq!(parse_audience("unot-a-uuid"), None);
}

#[test]
fn a_channel_names_its_room() {
    let room = RoomId::new();
    assert_eq!(room_of_channel(channel(room).as_bytes()), Some(room));
    assert_eq!(room_of_channel(b"kindred:{nope}:events"), None);
    assert!(meta_key(room).contains(&format!("{{{room}}}")));
}
