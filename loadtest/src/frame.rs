//! The receive path's frame reader: classifies a server frame and pulls out the few
//! numbers the accounting needs by byte search, without parsing the JSON.
//!
//! Why this is sound: inside a JSON string every `"` is escaped as `\"`, so a needle
//! that contains a bare quote followed by a key and `":` — `"seq":`, `"text":"` —
//! can only match the structure of the document, never the text or a pseudonym. The
//! timeline frames this reader cares about are flat objects (a `joined` frame's
//! nested `member` has no `seq`), so the first match is the frame's own field.
//! Whatever is not recognised is `Private` (ignored) or `Malformed` (counted).

use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::payload::{self, Payload};

/// What a server frame is, as far as the load tester is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A `message` timeline event; `payload` is `None` when the text is not one of ours.
    Message { seq: u64, payload: Option<Payload> },
    /// Any other timeline event (joined, left, muted, …); `closed` for `closed`.
    Timeline { seq: u64, closed: bool },
    /// The answer to one of our `send`s.
    Ack {
        client_id: &'a [u8],
        seq: Option<u64>,
    },
    /// A refused command or a goodbye before a close.
    Error {
        code: &'a [u8],
        client_id: Option<&'a [u8]>,
    },
    /// The answer to `hello`.
    Welcome,
    /// Private or ephemeral frames we do not account: typing, whisper, alert, …
    Private,
    /// Not a frame of protocol v1 as far as we can tell.
    Malformed,
}

static TYPE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"type\":"));
static SEQ: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"seq\":"));
static TEXT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"text\":"));
static CLIENT_ID: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"client_id\":"));
static CODE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"code\":"));

/// Timeline events other than `message` (they carry a room `seq`).
const TIMELINE: &[&[u8]] = &[
    b"joined",
    b"left",
    b"away",
    b"back",
    b"muted",
    b"unmuted",
    b"paused",
    b"resumed",
    b"redacted",
    b"slow_mode",
    b"locked",
    b"floor",
    b"hand",
    b"reaction",
    b"announcement",
    b"closed",
];

/// Classifies one text frame.
pub fn parse(frame: &[u8]) -> Frame<'_> {
    // serde writes the tag first, so the common case is a prefix check.
    const PREFIX: &[u8] = b"{\"type\":\"";
    let kind = if frame.starts_with(PREFIX) {
        string_at(frame, PREFIX.len())
    } else {
        string_value(frame, &TYPE)
    };
    let Some(kind) = kind else {
        return Frame::Malformed;
    };
    match kind {
        b"message" => {
            let Some(seq) = number_value(frame, &SEQ) else {
                return Frame::Malformed;
            };
            let payload = value_start(frame, &TEXT)
                .and_then(|at| frame[at..].strip_prefix(b"\""))
                .and_then(payload::decode);
            Frame::Message { seq, payload }
        }
        b"ack" => match string_value(frame, &CLIENT_ID) {
            Some(client_id) => Frame::Ack {
                client_id,
                seq: number_value(frame, &SEQ),
            },
            None => Frame::Malformed,
        },
        b"error" => match string_value(frame, &CODE) {
            Some(code) => Frame::Error {
                code,
                client_id: string_value(frame, &CLIENT_ID),
            },
            None => Frame::Malformed,
        },
        b"welcome" => Frame::Welcome,
        k if TIMELINE.contains(&k) => match number_value(frame, &SEQ) {
            Some(seq) => Frame::Timeline {
                seq,
                closed: k == b"closed",
            },
            None => Frame::Malformed,
        },
        _ => Frame::Private,
    }
}

/// Where the value of the key found by `key` starts (after optional whitespace).
fn value_start(frame: &[u8], key: &Finder<'_>) -> Option<usize> {
    let mut at = key.find(frame)? + key.needle().len();
    while frame.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    Some(at)
}

/// An unsigned integer value of a key.
fn number_value(frame: &[u8], key: &Finder<'_>) -> Option<u64> {
    let at = value_start(frame, key)?;
    let digits = &frame[at..];
    let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 {
        return None;
    }
    digits[..len].iter().try_fold(0u64, |acc, &b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// The raw bytes of a string value of a key (escapes left as they are).
fn string_value<'a>(frame: &'a [u8], key: &Finder<'_>) -> Option<&'a [u8]> {
    let at = value_start(frame, key)?;
    if frame.get(at) != Some(&b'"') {
        return None;
    }
    string_at(frame, at + 1)
}

/// The raw bytes from `start` up to the closing quote of a JSON string.
fn string_at(frame: &[u8], start: usize) -> Option<&[u8]> {
    let body = frame.get(start..)?;
    let mut from = 0;
    loop {
        let q = from + memchr::memchr(b'"', &body[from..])?;
        // A quote preceded by an odd number of backslashes is escaped.
        let backslashes = body[..q].iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 0 {
            return Some(&body[..q]);
        }
        from = q + 1;
    }
}

#[cfg(test)]
mod tests {
    use kindred_protocol::ServerFrame;
    use serde_json::json;

    use super::*;

    /// Serialises a JSON value the way the server does: through `ServerFrame`, so the
    /// field order and escaping are the real ones.
    fn server_json(v: serde_json::Value) -> String {
        let frame: ServerFrame = serde_json::from_value(v).expect("a valid server frame");
        serde_json::to_string(&frame).unwrap()
    }

    const USER: &str = "5f0c7b9e-2f4e-4a43-9d0e-2b1f0f6f1a11";

    fn message(seq: u64, name: &str, text: &str) -> serde_json::Value {
        json!({"type": "message", "seq": seq, "ts": 1764157000000u64, "user": USER,
               "name": name, "text": text})
    }

    #[test]
    fn our_message_yields_seq_and_payload() {
        let f = server_json(message(
            12,
            "lt7",
            "lt|3|1|42|1764157000123456789|thank you",
        ));
        assert_eq!(
            parse(f.as_bytes()),
            Frame::Message {
                seq: 12,
                payload: Some(Payload {
                    room: 3,
                    sender: 1,
                    n: 42,
                    sent_nanos: 1_764_157_000_123_456_789
                })
            }
        );
    }

    #[test]
    fn a_member_away_and_back_are_numbered_timeline_events() {
        for kind in ["away", "back"] {
            let f =
                server_json(json!({"type": kind, "seq": 5, "ts": 1764157000000u64, "user": USER}));
            assert_eq!(
                parse(f.as_bytes()),
                Frame::Timeline {
                    seq: 5,
                    closed: false
                },
                "{kind}"
            );
        }
    }

    #[test]
    fn escaped_text_and_names_cannot_fool_the_search() {
        let tricky = r#"he said "seq":999, "type":"ack" \"text\":"lt|9|9|9|9|" \ end\"#;
        let f = server_json(message(7, r#"a "seq":5 \ name"#, tricky));
        assert!(f.contains(r#"\"seq\":999"#), "{f}");
        assert_eq!(
            parse(f.as_bytes()),
            Frame::Message {
                seq: 7,
                payload: None
            }
        );
    }

    #[test]
    fn payload_is_read_from_the_text_not_from_a_lookalike_name() {
        let f = server_json(message(8, r#""text":"lt|9|9|9|9|"#, "lt|1|0|2|3|pad"));
        assert_eq!(
            parse(f.as_bytes()),
            Frame::Message {
                seq: 8,
                payload: Some(Payload {
                    room: 1,
                    sender: 0,
                    n: 2,
                    sent_nanos: 3
                })
            }
        );
    }

    #[test]
    fn non_ascii_text_and_content_warning() {
        let mut v = message(9, "Zoë 🌱", "ça va — 💙 lt|1|0|2|3|");
        v["cw"] = json!("grief");
        let f = server_json(v);
        assert_eq!(
            parse(f.as_bytes()),
            Frame::Message {
                seq: 9,
                payload: None
            }
        );
    }

    #[test]
    fn other_timeline_events_carry_their_seq() {
        let joined = server_json(json!({"type": "joined", "seq": 4, "ts": 1,
            "member": {"user": USER, "name": "seq", "role": "participant"}}));
        assert_eq!(
            parse(joined.as_bytes()),
            Frame::Timeline {
                seq: 4,
                closed: false
            }
        );
        let left = server_json(json!({"type": "left", "seq": 5, "ts": 1, "user": USER,
            "reason": "disconnected"}));
        assert_eq!(
            parse(left.as_bytes()),
            Frame::Timeline {
                seq: 5,
                closed: false
            }
        );
        let redacted = server_json(json!({"type": "redacted", "seq": 6, "ts": 1, "target": 3}));
        assert_eq!(
            parse(redacted.as_bytes()),
            Frame::Timeline {
                seq: 6,
                closed: false
            }
        );
        let closed = server_json(json!({"type": "closed", "seq": 18446744073709551615u64,
            "ts": 1, "reason": "\"bye\""}));
        assert_eq!(
            parse(closed.as_bytes()),
            Frame::Timeline {
                seq: u64::MAX,
                closed: true
            }
        );
    }

    #[test]
    fn acks_and_errors() {
        let ack = server_json(json!({"type": "ack", "client_id": "17", "seq": 40}));
        assert_eq!(
            parse(ack.as_bytes()),
            Frame::Ack {
                client_id: b"17",
                seq: Some(40)
            }
        );
        let held = server_json(json!({"type": "ack", "client_id": "18", "held": true}));
        assert_eq!(
            parse(held.as_bytes()),
            Frame::Ack {
                client_id: b"18",
                seq: None
            }
        );
        let err = server_json(json!({"type": "error", "client_id": "19",
            "code": "rate_limited", "message": "slow down \"please\"", "retry_after_ms": 250}));
        assert_eq!(
            parse(err.as_bytes()),
            Frame::Error {
                code: b"rate_limited",
                client_id: Some(b"19")
            }
        );
        let bye = server_json(json!({"type": "error", "code": "slow_consumer",
            "message": "you fell behind"}));
        assert_eq!(
            parse(bye.as_bytes()),
            Frame::Error {
                code: b"slow_consumer",
                client_id: None
            }
        );
    }

    #[test]
    fn private_frames_with_a_seq_are_not_timeline() {
        let crisis = server_json(json!({"type": "crisis_resources", "seq": 3, "title": "t",
            "body": "b", "lines": []}));
        assert_eq!(parse(crisis.as_bytes()), Frame::Private);
        let alert = server_json(json!({"type": "alert", "ts": 1, "kind": "crisis", "seq": 3,
            "user": USER, "name": "n"}));
        assert_eq!(parse(alert.as_bytes()), Frame::Private);
        let typing = server_json(json!({"type": "typing", "user": USER, "name": "n"}));
        assert_eq!(parse(typing.as_bytes()), Frame::Private);
        assert_eq!(
            parse(br#"{"type":"from_the_future","seq":1}"#),
            Frame::Private
        );
    }

    #[test]
    fn welcome_is_recognised() {
        let f =
            br#"{"type":"welcome","protocol":1,"seq":10,"epoch":3,"resume":"fresh","backlog":0}"#;
        assert_eq!(parse(f), Frame::Welcome);
    }

    #[test]
    fn tolerates_whitespace_and_other_field_orders() {
        let f = br#"{ "seq": 31, "text": "lt|2|1|5|6|", "type": "message" }"#;
        assert_eq!(
            parse(f),
            Frame::Message {
                seq: 31,
                payload: Some(Payload {
                    room: 2,
                    sender: 1,
                    n: 5,
                    sent_nanos: 6
                })
            }
        );
    }

    #[test]
    fn malformed_frames() {
        for f in [
            &b""[..],
            b"{}",
            b"not json",
            br#"{"type":"message","ts":1,"text":"x"}"#,
            br#"{"type":"message","seq":-1}"#,
            br#"{"type":"message","seq":99999999999999999999}"#,
            br#"{"type":"joined","ts":1}"#,
            br#"{"type":"ack","seq":1}"#,
            br#"{"type":"error","message":"x"}"#,
            br#"{"type":"mess"#,
            br#"{"type":7}"#,
        ] {
            assert_eq!(parse(f), Frame::Malformed, "{}", String::from_utf8_lossy(f));
        }
    }

    #[test]
    fn string_end_respects_escaped_backslashes() {
        assert_eq!(string_at(br#"ab\\"cd"#, 0), Some(&br#"ab\\"#[..]));
        assert_eq!(string_at(br#"ab\"c"d"#, 0), Some(&br#"ab\"c"#[..]));
        assert_eq!(string_at(br#"ab\"#, 0), None);
    }
}
