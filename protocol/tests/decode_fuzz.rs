//! Whatever a client sends, decoding it must not panic: a bad frame costs the server
//! an `error` frame, never a task. These properties throw random bytes, random
//! JSON-shaped text, random JSON values with real frame types, and mutated golden
//! fixtures at the decoders. Whatever does decode must survive a second round trip
//! unchanged, so the server can re-encode what it accepted.

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use kindred_protocol::http::{CreateRoom, JoinRequest, UpdateRoom};
use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{ClientFrame, ServerFrame};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Every fixture's bytes, read once.
fn fixtures() -> &'static [Vec<u8>] {
    static FIXTURES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut all: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
            .expect("fixtures dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| (p.display().to_string(), fs::read(&p).expect("read fixture")))
            .collect();
        all.sort();
        assert!(all.len() >= 32, "fixtures missing");
        all.into_iter().map(|(_, b)| b).collect()
    })
}

/// Decode as a client frame; if that works, re-encoding and decoding again must give
/// the same frame.
fn check_client(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(frame) = serde_json::from_slice::<ClientFrame>(bytes) {
        let again = serde_json::to_vec(&frame).expect("an accepted frame encodes");
        let back: ClientFrame = serde_json::from_slice(&again).expect("and decodes again");
        prop_assert_eq!(back, frame);
    }
    Ok(())
}

/// The other decoders a server or client runs on untrusted input: none may panic. A
/// content policy that decodes (from a `mod` or an admin body) must re-encode to one
/// that decodes to itself, as the server stores and announces it.
fn check_others(bytes: &[u8]) -> Result<(), TestCaseError> {
    let _ = serde_json::from_slice::<ServerFrame>(bytes);
    let _ = serde_json::from_slice::<JoinRequest>(bytes);
    let _ = serde_json::from_slice::<CreateRoom>(bytes);
    let _ = serde_json::from_slice::<UpdateRoom>(bytes);
    if let Ok(policy) = serde_json::from_slice::<ContentPolicy>(bytes) {
        let again = serde_json::to_vec(&policy).expect("a policy encodes");
        let back: ContentPolicy = serde_json::from_slice(&again).expect("and decodes again");
        prop_assert_eq!(back, policy);
    }
    Ok(())
}

const TYPES: &[&str] = &[
    "hello",
    "send",
    "typing",
    "hand",
    "react",
    "report",
    "whisper",
    "ack_warning",
    "mod",
    "leave",
    "welcome",
    "ack",
    "error",
    "crisis_resources",
    "mute_notice",
    "alert",
    "message",
    "floor",
    "policy",
    "closed",
    "waiting",
    "waiting_room",
    "mod_log",
    "Hello",
    "",
];
const KEYS: &[&str] = &[
    "token",
    "last_seq",
    "epoch",
    "client_id",
    "text",
    "cw",
    "raised",
    "seq",
    "emoji",
    "reason",
    "to",
    "action",
    "user",
    "seconds",
    "held",
    "alert",
    "policy",
    "mode",
    "kinds",
    "profanity",
    "mean",
    "on",
    "report",
    "kept",
    "told",
    "category",
    "until",
    "context",
    "members",
    "since",
    "online",
    "entries",
    "id",
    "ts",
    "by",
    "by_name",
    "name",
    "kind",
    "type",
    "x",
];

/// A JSON number at the awkward edges: negative, fractional, beyond u32 and u64.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::from(u64::from(u32::MAX) + 1)),
        Just(Value::from(1u64 << 53)),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ]
}

/// A scalar: the enum names the protocol uses, uuids, odd strings, numbers.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        proptest::sample::select(vec![
            "heart",
            "me_too",
            "mute",
            "slow_mode",
            "clear_floor",
            "release",
            "decline",
            "set_policy",
            "waiting_room",
            "admit",
            "admit_all",
            "deny",
            "resolve",
            "knock",
            "hold",
            "censor",
            "off",
            "8c1e4f27-5a3b-4d9e-b2f6-71a0c3d9e845",
            "8C1E4F275A3B4D9EB2F671A0C3D9E845",
            "",
            "\u{0}",
            "\u{feff}",
            "🕯️",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        any::<String>().prop_map(Value::String),
    ]
}

/// Any JSON value, a few levels deep, with protocol keys most of the time.
fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        3 => proptest::sample::select(KEYS).prop_map(str::to_owned),
                        1 => any::<String>(),
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An object with a plausible `type` and random protocol-ish fields.
fn frame_like() -> impl Strategy<Value = Value> {
    (
        proptest::sample::select(TYPES),
        proptest::collection::vec((proptest::sample::select(KEYS), value()), 0..8),
    )
        .prop_map(|(ty, fields)| {
            let mut obj = Map::new();
            for (k, v) in fields {
                obj.insert(k.to_owned(), v);
            }
            obj.insert("type".to_owned(), Value::String(ty.to_owned()));
            Value::Object(obj)
        })
}

/// A `set_policy` command whose policy is nearly right: real and wrong modes, kinds
/// that are booleans or anything else, fields left out.
fn set_policy_like() -> impl Strategy<Value = Value> {
    let mode = prop_oneof![
        4 => proptest::sample::select(vec!["off", "flag", "censor", "hold"])
            .prop_map(|m| Value::String(m.to_owned())),
        1 => scalar(),
    ];
    let kind = prop_oneof![4 => any::<bool>().prop_map(Value::Bool), 1 => scalar()];
    let kinds = proptest::collection::vec(
        (
            proptest::sample::select(vec!["profanity", "sexual", "offensive", "mean", "spam"]),
            kind,
        ),
        0..6,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    (
        proptest::option::of(mode),
        proptest::option::of(prop_oneof![4 => kinds, 1 => value()]),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(mode, kinds, held)| {
            let mut policy = Map::new();
            if let Some(m) = mode {
                policy.insert("mode".to_owned(), m);
            }
            if let Some(k) = kinds {
                policy.insert("kinds".to_owned(), k);
            }
            let mut frame = Map::new();
            frame.insert("type".to_owned(), Value::from("mod"));
            frame.insert("client_id".to_owned(), Value::from("m-1"));
            frame.insert("action".to_owned(), Value::from("set_policy"));
            frame.insert("policy".to_owned(), Value::Object(policy));
            if let Some(h) = held {
                frame.insert("held".to_owned(), Value::from(h));
            }
            Value::Object(frame)
        })
}

/// One edit of a byte string.
#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
    Duplicate { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = proptest::sample::select(b"{}[]\":,\\ 0-9.eE+nultrfa\x00\xff".to_vec());
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (
            any::<usize>(),
            prop_oneof![interesting.clone(), any::<u8>()]
        )
            .prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (
            any::<usize>(),
            proptest::collection::vec(prop_oneof![interesting, any::<u8>()], 1..8)
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1..32usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len();
    if n == 0 {
        return;
    }
    match *m {
        Mutation::Flip { at, mask } => bytes[at % n] ^= mask,
        Mutation::Set { at, byte } => bytes[at % n] = byte,
        Mutation::Insert { at, bytes: ref new } => {
            let at = at % (n + 1);
            bytes.splice(at..at, new.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let at = at % n;
            bytes.drain(at..(at + len).min(n));
        }
        Mutation::Truncate { at } => bytes.truncate(at % n),
        Mutation::Duplicate { at, len } => {
            let at = at % n;
            let piece = bytes[at..(at + len).min(n)].to_vec();
            bytes.splice(at..at, piece);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_client(&bytes)?;
        check_others(&bytes)?;
    }

    #[test]
    fn json_shaped_text_never_panics(text in r#"[{}\[\]":, a-z_0-9.\-\\]{0,256}"#) {
        check_client(text.as_bytes())?;
        check_others(text.as_bytes())?;
    }

    #[test]
    fn random_json_values_never_panic(v in value()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        check_client(&bytes)?;
        check_others(&bytes)?;
    }

    #[test]
    fn frame_like_objects_never_panic(v in frame_like()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        check_client(&bytes)?;
        check_others(&bytes)?;
    }

    #[test]
    fn policy_commands_never_panic(v in set_policy_like()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        check_client(&bytes)?;
        check_others(&bytes)?;
        check_others(&serde_json::to_vec(&v["policy"]).unwrap())?;
    }

    #[test]
    fn mutated_fixtures_never_panic(
        pick in any::<proptest::sample::Index>(),
        edits in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = pick.get(fixtures()).clone();
        for m in &edits {
            apply(&mut bytes, m);
        }
        check_client(&bytes)?;
        check_others(&bytes)?;
    }
}

/// Deep nesting is where recursive decoders overflow their stack; serde_json stops
/// at its recursion limit and reports an error instead.
#[test]
fn deeply_nested_input_is_an_error_not_a_crash() {
    for depth in [127, 128, 129, 10_000, 100_000] {
        let text = format!(
            "{{\"type\":\"send\",\"client_id\":\"c\",\"text\":\"hi\",\"x\":{}{}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let _ = serde_json::from_str::<ClientFrame>(&text);
        let open = "{\"a\":".repeat(depth);
        let _ = serde_json::from_str::<ClientFrame>(&format!("{open}1{}", "}".repeat(depth)));
    }
    let deep = format!(
        "{{\"type\":\"typing\",\"x\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(serde_json::from_str::<ClientFrame>(&deep).is_err());
}
