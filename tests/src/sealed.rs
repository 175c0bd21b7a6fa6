//! Reading what Kindred seals in Redis, for the tests that look at Redis's contents or
//! at the bytes between an instance and Redis: every test server signs with
//! [`SECRET`](crate::SECRET), so a test can derive the same keys and open what an
//! instance sealed (`kindred::broker::redis::Seal`), as an operator with the secret
//! could. A test that must show Redis holds no words reads the bytes as they are.

use kindred::broker::redis::Seal;
use kindred_protocol::RoomId;

use crate::SECRET;

/// The seal every test server uses.
pub fn seal() -> Seal {
    Seal::new(SECRET.as_bytes())
}

/// An entry of `room`'s log as Redis holds it, opened: the JSON an instance folds.
/// Panics if it does not open.
pub fn entry(room: RoomId, stored: &str) -> String {
    seal()
        .open_entry(room, stored)
        .unwrap_or_else(|| panic!("an entry of room {room} opens: {stored}"))
}

/// `bytes` as text followed by everything sealed in them that opens for one of
/// `rooms` or a room named in them (`kindred:{ROOM}:…`, as a command's keys or a
/// push's channel name carry it): entries, snapshots and relayed frames, each on a
/// line of its own.
pub fn opened(rooms: &[RoomId], bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut rooms = rooms.to_vec();
    rooms.extend(rooms_named(&text));
    rooms.dedup();
    let seal = seal();
    let mut out = text.clone();
    for (session, sealed) in sealed_parts(&text) {
        let wrapper = format!(r#"{{"v":2,"k":{session},"s":"{sealed}"}}"#);
        let notice = format!("{session} {sealed}");
        for room in &rooms {
            let plain = seal
                .open_entry(*room, &wrapper)
                .or_else(|| seal.open_image(*room, &wrapper))
                .or_else(|| seal.open_notice(*room, &notice));
            if let Some(plain) = plain {
                out.push('\n');
                out.push_str(&plain);
                break;
            }
        }
    }
    out
}

/// The rooms whose keys or channel `text` names.
fn rooms_named(text: &str) -> Vec<RoomId> {
    text.split("kindred:{")
        .skip(1)
        .filter_map(|rest| rest.split_once('}')?.0.parse().ok())
        .collect()
}

/// Every `(session, base64)` that looks sealed: `"k":N,"s":"…"` in an entry or a
/// snapshot, `N …` after a relayed frame's audience line.
fn sealed_parts(text: &str) -> Vec<(u32, String)> {
    let base64 = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            .collect()
    };
    let mut parts = Vec::new();
    for rest in text.split("\"k\":").skip(1) {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let Ok(session) = digits.parse() else {
            continue;
        };
        if let Some(sealed) = rest[digits.len()..].strip_prefix(",\"s\":\"") {
            parts.push((session, base64(sealed)));
        }
    }
    for line in text.split('\n').skip(1) {
        let Some((digits, sealed)) = line.split_once(' ') else {
            continue;
        };
        if let Ok(session) = digits.parse() {
            parts.push((session, base64(sealed)));
        }
    }
    parts
}
