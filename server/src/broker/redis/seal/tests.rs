//! Sealing: what goes to Redis reads as nothing, comes back whole with the right
//! secret, and does not open at all with a wrong key or a changed byte (the broker
//! then contains it as an entry that does not parse).

use kindred_protocol::{RoomId, Visibility};

use super::{SEALED_FORMAT, Seal};
use crate::broker::redis::intake::parse;
use crate::broker::redis::log::{ENTRY_FORMAT, Entry, Op, read_entry};
use crate::broker::redis::store::unstamped;
use crate::room::{Limits, Room, RoomConfig};

const SECRET: &[u8] = b"a test secret of at least thirty-two bytes";
const MARKER: &str = "Marigold";

fn room(id: RoomId) -> Room {
    let config = RoomConfig {
        title: format!("{MARKER} circle"),
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
    Room::new(id, config, Limits::default())
}

/// An entry whose op carries the marker, sealed as the store sends it and stamped
/// with Redis's time as the append script stores it.
fn stored(seal: &Seal, id: RoomId, session: u32) -> String {
    let entry = Entry::new(
        7,
        3,
        0,
        Op::Create {
            room: Box::new(room(id)),
            epoch: 9,
        },
    );
    let sent = seal.seal_entry(id, session, entry.format, &unstamped(&entry).unwrap());
    format!("{{\"ts\":1800000000123,{}", &sent[1..])
}

#[test]
fn a_sealed_entry_holds_no_words_and_opens_whole_with_the_time_redis_put_on_it() {
    let seal = Seal::new(SECRET);
    let id = RoomId::new();
    let stored = stored(&seal, id, 4);
    assert!(!stored.contains(MARKER), "{stored}");
    assert!(
        stored.starts_with(&format!(
            "{{\"ts\":1800000000123,\"v\":{ENTRY_FORMAT},\"k\":4,"
        )),
        "{stored}"
    );
    let opened = seal.open_entry(id, &stored).expect("it opens");
    let entry = read_entry(&opened).expect("it reads");
    assert_eq!(
        (entry.origin, entry.id, entry.ts),
        (7, 3, 1_800_000_000_123)
    );
    let Op::Create { room, epoch } = entry.op else {
        panic!("the creation comes back");
    };
    assert_eq!(epoch, 9);
    assert!(serde_json::to_string(&room).unwrap().contains(MARKER));
}

#[test]
fn the_same_entry_sealed_twice_differs() {
    // A fresh nonce each time: two equal messages are not seen to be equal.
    let seal = Seal::new(SECRET);
    let id = RoomId::new();
    assert_ne!(stored(&seal, id, 1), stored(&seal, id, 1));
}

#[test]
fn an_entry_opens_with_no_other_secret_room_or_session_and_is_contained() {
    let seal = Seal::new(SECRET);
    let id = RoomId::new();
    let stored = stored(&seal, id, 4);
    let other_secret = Seal::new(b"another secret of at least thirty-two bytes");
    assert!(other_secret.open_entry(id, &stored).is_none());
    assert!(seal.open_entry(RoomId::new(), &stored).is_none());
    let other_session = stored.replace("\"k\":4,", "\"k\":5,");
    assert!(seal.open_entry(id, &other_session).is_none());
    // What the store hands the log for each: an empty text, which the log does not
    // fold; the index is reported as unreadable, which `recovery` contains.
    let read = vec![
        (1, seal.open_entry(id, &stored).unwrap_or_default()),
        (2, other_secret.open_entry(id, &stored).unwrap_or_default()),
    ];
    let (readable, unreadable) = parse(read);
    assert_eq!(readable.len(), 1);
    assert_eq!(unreadable, Some(2));
}

#[test]
fn a_changed_byte_anywhere_in_the_sealed_part_fails_to_open() {
    let seal = Seal::new(SECRET);
    let id = RoomId::new();
    let stored = stored(&seal, id, 0);
    let start = stored.find("\"s\":\"").unwrap() + 5;
    let end = stored.len() - 2;
    for at in [start, start + 30, (start + end) / 2, end - 3] {
        let mut bytes = stored.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(
            seal.open_entry(id, &tampered).is_none(),
            "a change at {at} went unnoticed"
        );
    }
    // A plain entry claiming the sealed format is no entry either.
    let forged = r#"{"ts":1,"v":2,"origin":7,"id":1,"op":{"Command":"Tick"}}"#;
    assert!(seal.open_entry(id, forged).is_none());
}

#[test]
fn entries_of_other_formats_pass_as_they_are_for_the_log_to_judge() {
    let seal = Seal::new(SECRET);
    let id = RoomId::new();
    // Written before sealing: read as before.
    let plain = r#"{"ts":5,"v":1,"origin":7,"id":1,"op":{"Command":"Tick"}}"#;
    let opened = seal.open_entry(id, plain).expect("a plain entry passes");
    assert_eq!(read_entry(&opened).expect("and reads").ts, 5);
    // Newer than this build: passed on, and the log refuses it as newer.
    let newer = r#"{"ts":5,"v":99,"k":1,"s":"AAAA"}"#;
    let opened = seal.open_entry(id, newer).expect("passed on");
    assert!(read_entry(&opened).is_none());
    assert_eq!(SEALED_FORMAT, ENTRY_FORMAT);
}

#[test]
fn snapshots_and_relayed_frames_are_sealed_for_their_room() {
    let seal = Seal::new(SECRET);
    let id = RoomId::new();
    let image = format!(r#"{{"index":3,"history":[[1,"{MARKER} said hello"]]}}"#);
    let sealed = seal.seal_image(id, 2, &image);
    assert!(!sealed.contains(MARKER), "{sealed}");
    assert_eq!(
        seal.open_image(id, &sealed).as_deref(),
        Some(image.as_str())
    );
    assert!(seal.open_image(RoomId::new(), &sealed).is_none());
    assert!(
        Seal::new(b"another secret of at least thirty-two bytes")
            .open_image(id, &sealed)
            .is_none()
    );
    // A snapshot stored before sealing reads as it is.
    assert_eq!(seal.open_image(id, &image).as_deref(), Some(image.as_str()));

    let frame = format!(r#"{{"type":"typing","name":"{MARKER}"}}"#);
    let notice = seal.seal_notice(id, 2, &frame);
    assert!(!notice.contains(MARKER), "{notice}");
    assert_eq!(
        seal.open_notice(id, &notice).as_deref(),
        Some(frame.as_str())
    );
    assert!(seal.open_notice(RoomId::new(), &notice).is_none());
    // An entry's seal does not open as a notice's: each kind is bound in.
    let entry = stored(&seal, id, 2);
    let s = entry
        .split("\"s\":\"")
        .nth(1)
        .unwrap()
        .trim_end_matches("\"}");
    assert!(seal.open_notice(id, &format!("2 {s}")).is_none());
}

#[test]
fn only_the_same_secret_proves_itself() {
    let seal = Seal::new(SECRET);
    let proof = seal.proof();
    assert!(Seal::new(SECRET).proves(&proof));
    assert!(!Seal::new(b"another secret of at least thirty-two bytes").proves(&proof));
    assert!(!seal.proves("not a proof"));
}
