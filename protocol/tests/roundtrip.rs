//! Golden round-trip tests: each `tests/fixtures/*.json` file is decoded into its Rust
//! type, checked for a few meaningful values, encoded again and compared with the
//! fixture as a JSON `Value`. The fixtures are the examples in `PROTOCOL.md` and are
//! shared with the web client, so a change of shape fails here first.
//!
//! A fixture is named after what it holds: `server_<type>.json`, `client_<type>.json` or
//! `http_<body>.json` is the main example, and `<that name>.<case>.json` (for example
//! `server_alert.held.json`) a further example of the same type.
//!
//! The variant-coverage tests take the list of variants from serde itself (the
//! "expected one of" list of an unknown-variant error), so a new frame kind without a
//! fixture fails a test, and the exhaustive `*_kind` matches fail to compile.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use kindred_protocol::http::{
    AdminRoom, AdminRoomList, CreateInvite, CreateRoom, HttpError, Invite, InviteList, JoinRequest,
    JoinResponse, RoomList, SeatCode, SeatRequest, UpdateRoom,
};
use kindred_protocol::oncall;
use kindred_protocol::policy::{ContentPolicy, GuardMode, Kinds, PolicyMode};
use kindred_protocol::{
    AlertKind, ClientFrame, CrisisCategory, ErrorCode, ErrorFrame, GuardCategory, GuardChoice,
    GuardOffer, LeftReason, LogEntry, MemberInfo, ModAction, NextSession, PROTOCOL_VERSION, Quote,
    Reaction, ResumeKind, Role, RoomId, RoomState, RoomSummary, Schedule, ServerFrame, UserId,
    Visibility, WaitingMember, Weekday, close_code,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

// ---- the people and the room of the fixtures ----------------------------------------

const ROOM: &str = "3f2c9a1e-7b4d-4e8a-9c61-2d5f8e0b7a43";
/// The facilitator, "Sam (facilitator)".
const SAM: &str = "d4a7b9c2-1e3f-4a5b-8c6d-9e0f1a2b3c4d";
/// A participant, "Willow".
const ALICE: &str = "8c1e4f27-5a3b-4d9e-b2f6-71a0c3d9e845";
/// A participant, "River".
const BOB: &str = "5b9d2e61-c4a8-4f37-a1e2-0d6c8b3f9a17";
/// A participant, "Ash".
const ASH: &str = "e2f8a4c6-3b1d-4f9a-a7e5-6c2b0d8f1e93";
/// A participant, "Moss", who knocked while the waiting room was on and never came in.
const MOSS: &str = "7a3e5c91-2d4b-4f6a-9e8c-1b0d3f5a7c29";
/// 2024-11-26 19:00:00 UTC, the start of the session.
const T0: u64 = 1_732_647_600_000;
const EPOCH: u64 = 1_732_643_112_904;

/// Timeline events, by wire name: they carry `seq` and `ts` and are replayed.
const TIMELINE: &[&str] = &[
    "message",
    "joined",
    "left",
    "stepped_out",
    "away",
    "back",
    "stepping_away",
    "muted",
    "unmuted",
    "paused",
    "resumed",
    "opened",
    "held",
    "unheld",
    "redacted",
    "slow_mode",
    "locked",
    "floor",
    "hand",
    "reaction",
    "waiting_room",
    "shield",
    "cw",
    "policy",
    "announcement",
    "closed",
    "phase",
    "round",
    "queue",
    "script",
];
/// Private or ephemeral server frames: never replayed.
const PRIVATE: &[&str] = &[
    "welcome",
    "ack",
    "error",
    "typing",
    "whisper",
    "warning",
    "mute_notice",
    "crisis_resources",
    "alert",
    "concern_noted",
    "waiting",
    "mod_log",
    "share_the_air",
    "members",
    "mood",
    "debrief",
];

fn user(s: &str) -> UserId {
    s.parse().expect("a uuid")
}

fn room() -> RoomId {
    ROOM.parse().expect("a uuid")
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture_text(name: &str) -> String {
    let path = fixtures_dir().join(format!("{name}.json"));
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn fixture_value(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The type a fixture holds: its name up to the first `.` (`server_alert.held` holds
/// what `server_alert` holds).
fn base_name(name: &str) -> &str {
    name.split_once('.').map_or(name, |(base, _)| base)
}

/// The names (without `.json`) of the fixtures whose file name starts with `prefix`.
fn fixture_names(prefix: &str) -> BTreeSet<String> {
    fs::read_dir(fixtures_dir())
        .expect("fixtures dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .into_string()
                .expect("utf-8")
        })
        .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// Decode the fixture as `T`, encode it again and insist the JSON is the same value:
/// no field renamed, dropped, added or re-typed.
fn golden<T: Serialize + DeserializeOwned>(name: &str) -> T {
    let text = fixture_text(name);
    let decoded: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{name} does not decode as its type: {e}"));
    let again = serde_json::to_value(&decoded).expect("encode");
    assert_eq!(
        again,
        fixture_value(name),
        "{name}: re-encoded JSON differs from the fixture"
    );
    decoded
}

/// The variant names serde knows for `T`, read from its unknown-variant error.
fn serde_variants<T: DeserializeOwned + std::fmt::Debug>(probe: &str) -> BTreeSet<String> {
    let err = serde_json::from_str::<T>(probe).expect_err("the probe is not a variant");
    let msg = err.to_string();
    let list = msg
        .split_once("expected one of ")
        .unwrap_or_else(|| panic!("unexpected serde message: {msg}"))
        .1;
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The wire name of a client frame. Exhaustive on purpose: a new variant does not
/// compile until it is named here (and then needs a fixture).
fn client_kind(f: &ClientFrame) -> &'static str {
    match f {
        ClientFrame::Hello { .. } => "hello",
        ClientFrame::Send { .. } => "send",
        ClientFrame::Typing => "typing",
        ClientFrame::Hand { .. } => "hand",
        ClientFrame::React { .. } => "react",
        ClientFrame::Report { .. } => "report",
        ClientFrame::Whisper { .. } => "whisper",
        ClientFrame::WaitingNote { .. } => "waiting_note",
        ClientFrame::Concern { .. } => "concern",
        ClientFrame::AckWarning { .. } => "ack_warning",
        ClientFrame::Mod { .. } => "mod",
        ClientFrame::Pass => "pass",
        ClientFrame::Queue { .. } => "queue",
        ClientFrame::StepAway { .. } => "step_away",
        ClientFrame::Checkin { .. } => "checkin",
        ClientFrame::Checkout { .. } => "checkout",
        ClientFrame::Leave => "leave",
    }
}

/// The wire name of a server frame. Exhaustive on purpose, like [`client_kind`].
fn server_kind(f: &ServerFrame) -> &'static str {
    match f {
        ServerFrame::Welcome(_) => "welcome",
        ServerFrame::Ack { .. } => "ack",
        ServerFrame::Error(_) => "error",
        ServerFrame::Typing { .. } => "typing",
        ServerFrame::Whisper { .. } => "whisper",
        ServerFrame::Warning { .. } => "warning",
        ServerFrame::MuteNotice { .. } => "mute_notice",
        ServerFrame::CrisisResources { .. } => "crisis_resources",
        ServerFrame::Alert { .. } => "alert",
        ServerFrame::ConcernNoted { .. } => "concern_noted",
        ServerFrame::Waiting { .. } => "waiting",
        ServerFrame::ModLog { .. } => "mod_log",
        ServerFrame::ShareTheAir { .. } => "share_the_air",
        ServerFrame::Members { .. } => "members",
        ServerFrame::Mood { .. } => "mood",
        ServerFrame::Debrief(_) => "debrief",
        ServerFrame::Message { .. } => "message",
        ServerFrame::Joined { .. } => "joined",
        ServerFrame::Left { .. } => "left",
        ServerFrame::SteppedOut { .. } => "stepped_out",
        ServerFrame::Away { .. } => "away",
        ServerFrame::Back { .. } => "back",
        ServerFrame::SteppingAway { .. } => "stepping_away",
        ServerFrame::Muted { .. } => "muted",
        ServerFrame::Unmuted { .. } => "unmuted",
        ServerFrame::Paused { .. } => "paused",
        ServerFrame::Resumed { .. } => "resumed",
        ServerFrame::Opened { .. } => "opened",
        ServerFrame::Held { .. } => "held",
        ServerFrame::Unheld { .. } => "unheld",
        ServerFrame::Redacted { .. } => "redacted",
        ServerFrame::SlowMode { .. } => "slow_mode",
        ServerFrame::Locked { .. } => "locked",
        ServerFrame::Floor { .. } => "floor",
        ServerFrame::Hand { .. } => "hand",
        ServerFrame::Reaction { .. } => "reaction",
        ServerFrame::WaitingRoom { .. } => "waiting_room",
        ServerFrame::Shield { .. } => "shield",
        ServerFrame::Cw { .. } => "cw",
        ServerFrame::Policy { .. } => "policy",
        ServerFrame::Announcement { .. } => "announcement",
        ServerFrame::Closed { .. } => "closed",
        ServerFrame::Phase(_) => "phase",
        ServerFrame::Round(_) => "round",
        ServerFrame::Queue(_) => "queue",
        ServerFrame::Script(_) => "script",
    }
}

fn server_golden(name: &str) -> ServerFrame {
    golden(&format!("server_{name}"))
}

fn client_golden(name: &str) -> ClientFrame {
    golden(&format!("client_{name}"))
}

// ---- client frames ---------------------------------------------------------------

#[test]
fn client_hello() {
    let f = client_golden("hello");
    let ClientFrame::Hello {
        token,
        last_seq,
        epoch,
        ..
    } = f
    else {
        panic!("not a hello: {f:?}");
    };
    assert!(
        token.starts_with("k1."),
        "the prefix the server's tokens have"
    );
    assert_eq!(last_seq, Some(41));
    assert_eq!(epoch, Some(EPOCH));
}

#[test]
fn client_hello_without_resume_omits_the_resume_fields() {
    let f = ClientFrame::Hello {
        first_time: false,
        token: "t".into(),
        last_seq: None,
        epoch: None,
    };
    assert_eq!(
        serde_json::to_value(&f).unwrap(),
        json!({"type": "hello", "token": "t"})
    );
    let null_fields: ClientFrame = serde_json::from_value(
        json!({"type": "hello", "token": "t", "last_seq": null, "epoch": null}),
    )
    .unwrap();
    assert_eq!(null_fields, f);
}

#[test]
fn client_send() {
    let f = client_golden("send");
    assert_eq!(
        f,
        ClientFrame::Send {
            client_id: "c-7f3a91".into(),
            text: "This week was hard. I didn't leave the flat until Thursday, but I did make it here tonight.".into(),
            cw: Some("isolation".into()),
            guard: None,
        }
    );
    // The author's answer to the guardrail's `consider`: behind a content warning.
    let g = client_golden("send.guard");
    let ClientFrame::Send { cw, guard, .. } = g else {
        panic!("not a send: {g:?}");
    };
    assert_eq!(cw.as_deref(), Some("medication"));
    assert_eq!(guard, Some(GuardChoice::Cw));
}

#[test]
fn client_typing() {
    assert_eq!(client_golden("typing"), ClientFrame::Typing);
}

#[test]
fn client_hand() {
    assert_eq!(client_golden("hand"), ClientFrame::Hand { raised: true });
}

#[test]
fn client_step_away() {
    assert_eq!(
        client_golden("step_away"),
        ClientFrame::StepAway { on: true }
    );
}

#[test]
fn client_react() {
    assert_eq!(
        client_golden("react"),
        ClientFrame::React {
            seq: 45,
            emoji: Reaction::MeToo
        }
    );
}

#[test]
fn client_report() {
    let f = client_golden("report");
    let ClientFrame::Report { seq, reason } = f else {
        panic!("not a report: {f:?}");
    };
    assert_eq!(seq, 48);
    assert_eq!(
        reason.as_deref(),
        Some("Mocking another member's diagnosis.")
    );
}

#[test]
fn client_whisper() {
    let f = client_golden("whisper");
    let ClientFrame::Whisper { to, text } = f else {
        panic!("not a whisper: {f:?}");
    };
    assert_eq!(to, Some(user(ALICE)));
    assert!(text.starts_with("Hi Willow"));
}

#[test]
fn client_waiting_note() {
    let f = client_golden("waiting_note");
    let ClientFrame::WaitingNote { text } = f else {
        panic!("not a waiting note: {f:?}");
    };
    assert!(text.contains("7:05"));
}

#[test]
fn server_whisper_waiting_note() {
    let f = server_golden("whisper.waiting_note");
    let ServerFrame::Whisper {
        from, to, waiting, ..
    } = f
    else {
        panic!("not a whisper: {f:?}");
    };
    // A note to everyone waiting names no one person: it is to all of them.
    assert!(waiting);
    assert_eq!((from, to), (user(SAM), None));
    // A whisper to one member does not mention `waiting`.
    assert!(fixture_value("server_whisper").get("waiting").is_none());
}

#[test]
fn client_concern() {
    assert_eq!(
        client_golden("concern"),
        ClientFrame::Concern {
            user: user(ALICE),
            seq: Some(47),
        }
    );
}

#[test]
fn server_alert_concern() {
    let f = server_golden("alert.concern");
    let ServerFrame::Alert {
        kind,
        id,
        seq,
        user: subject,
        context,
        by,
        by_name,
        ..
    } = f
    else {
        panic!("not an alert: {f:?}");
    };
    // Ash is worried about Willow: the alert is about her, quoting her message 47,
    // and says who is worried in `by` (facilitators only ever receive it).
    assert_eq!(kind, AlertKind::Concern);
    assert_eq!((id, seq, subject), (Some(9), Some(47), user(ALICE)));
    assert_eq!(context.len(), 1);
    assert_eq!((context[0].seq, context[0].user), (47, user(ALICE)));
    assert_eq!((by, by_name.as_deref()), (Some(user(ASH)), Some("Ash")));
}

#[test]
fn server_concern_noted() {
    assert_eq!(
        server_golden("concern_noted"),
        ServerFrame::ConcernNoted {
            user: user(ALICE),
            name: "Willow".into(),
            told: true,
        }
    );
}

#[test]
fn client_ack_warning() {
    assert_eq!(
        client_golden("ack_warning"),
        ClientFrame::AckWarning { alert: None }
    );
}

#[test]
fn client_ack_warning_of_a_facilitator_handles_an_alert() {
    // Sam has seen Willow's crisis alert (id 1 in server_alert.json) and handles it.
    assert_eq!(
        client_golden("ack_warning.alert"),
        ClientFrame::AckWarning { alert: Some(1) }
    );
    assert_eq!(fixture_value("server_alert")["id"], 1);
}

#[test]
fn client_mod() {
    assert_eq!(
        client_golden("mod"),
        ClientFrame::Mod {
            client_id: "m-20b4".into(),
            action: ModAction::Mute,
            user: Some(user(BOB)),
            seq: None,
            seconds: Some(300),
            reason: Some("Please take five minutes; we'll come back to you.".into()),
            text: None,
            held: None,
            policy: None,
            on: None,
            report: None,
            alert: None,
            ban: None,
            index: None,
            script: None,
            cw: None,
        }
    );
}

#[test]
fn client_mod_needs_only_client_id_and_action() {
    let f: ClientFrame =
        serde_json::from_value(json!({"type": "mod", "client_id": "m-1", "action": "pause"}))
            .unwrap();
    assert_eq!(
        f,
        ClientFrame::Mod {
            client_id: "m-1".into(),
            action: ModAction::Pause,
            user: None,
            seq: None,
            seconds: None,
            reason: None,
            text: None,
            held: None,
            policy: None,
            on: None,
            report: None,
            alert: None,
            ban: None,
            index: None,
            script: None,
            cw: None,
        }
    );
    assert_eq!(
        serde_json::to_value(&f).unwrap(),
        json!({"type": "mod", "client_id": "m-1", "action": "pause"})
    );
}

/// The content policy of the fixtures' room once Sam switched it to `hold`.
fn hold_policy() -> ContentPolicy {
    ContentPolicy {
        mode: PolicyMode::Hold,
        kinds: Kinds::default(),
        guard: GuardMode::Ask,
    }
}

#[test]
fn client_mod_release() {
    assert_eq!(
        client_golden("mod.release"),
        ClientFrame::Mod {
            client_id: "m-5e02".into(),
            action: ModAction::Release,
            user: None,
            seq: None,
            seconds: None,
            reason: None,
            text: None,
            held: Some(5),
            policy: None,
            on: None,
            report: None,
            alert: None,
            ban: None,
            index: None,
            script: None,
            cw: None,
        }
    );
    // decline names a held message the same way.
    let decline: ClientFrame = serde_json::from_value(
        json!({"type": "mod", "client_id": "m-6", "action": "decline", "held": 2}),
    )
    .unwrap();
    let ClientFrame::Mod { action, held, .. } = decline else {
        panic!("not a mod: {decline:?}");
    };
    assert_eq!((action, held), (ModAction::Decline, Some(2)));
}

#[test]
fn client_mod_deny_with_a_ban() {
    let f = client_golden("mod.deny");
    let ClientFrame::Mod {
        action,
        user: who,
        ban,
        ..
    } = f
    else {
        panic!("not a mod: {f:?}");
    };
    assert_eq!(
        (action, who, ban),
        (ModAction::Deny, Some(user(MOSS)), Some(true))
    );
    // A plain deny has no `ban`, and reads as one without it.
    let plain: ClientFrame = serde_json::from_value(
        json!({"type": "mod", "client_id": "m-7", "action": "deny", "user": MOSS}),
    )
    .unwrap();
    assert!(matches!(plain, ClientFrame::Mod { ban: None, .. }));
}

#[test]
fn server_alert_check_in() {
    let f = server_golden("alert.check_in");
    let ServerFrame::Alert {
        kind,
        seq,
        category,
        likelihood,
        count,
        ..
    } = f
    else {
        panic!("not an alert: {f:?}");
    };
    assert_eq!(kind, AlertKind::CheckIn);
    assert_eq!(seq, Some(12));
    assert_eq!(category, Some(CrisisCategory::SuicidalIdeation));
    assert_eq!(likelihood, Some(93));
    assert_eq!(count, None);
    // A crisis alert from a phrase rule has no likelihood.
    assert!(fixture_value("server_alert").get("likelihood").is_none());
}

#[test]
fn server_alert_recurring() {
    let f = server_golden("alert.recurring");
    let ServerFrame::Alert {
        kind,
        id,
        seq,
        user: who,
        text,
        count,
        since,
        ts,
        ..
    } = f
    else {
        panic!("not an alert: {f:?}");
    };
    assert_eq!((kind, id, who), (AlertKind::Crisis, Some(6), user(ASH)));
    // The room took none of the three: the latest words ride in the alert.
    assert_eq!(seq, None);
    assert!(text.is_some());
    assert_eq!(count, Some(3));
    assert!(since.expect("when it began") < ts);
    // A first alert has neither.
    let v = fixture_value("server_alert");
    assert!(v.get("count").is_none() && v.get("since").is_none());
}

#[test]
fn client_mod_set_policy() {
    let f = client_golden("mod.set_policy");
    let ClientFrame::Mod {
        action,
        policy,
        held,
        ..
    } = f
    else {
        panic!("not a mod: {f:?}");
    };
    assert_eq!(action, ModAction::SetPolicy);
    assert_eq!(policy, Some(hold_policy()));
    assert_eq!(held, None);
}

#[test]
fn client_mod_waiting_room() {
    assert_eq!(
        client_golden("mod.waiting_room"),
        ClientFrame::Mod {
            client_id: "m-3c70".into(),
            action: ModAction::WaitingRoom,
            user: None,
            seq: None,
            seconds: None,
            reason: None,
            text: None,
            held: None,
            policy: None,
            on: Some(true),
            report: None,
            alert: None,
            ban: None,
            index: None,
            script: None,
            cw: None,
        }
    );
    // The room sees it as the `waiting_room` event of the same setting.
    assert_eq!(
        fixture_value("client_mod.waiting_room")["on"],
        fixture_value("server_waiting_room")["on"]
    );
}

#[test]
fn client_mod_admit() {
    let f = client_golden("mod.admit");
    let ClientFrame::Mod {
        action, user: who, ..
    } = f
    else {
        panic!("not a mod: {f:?}");
    };
    // River, who knocked first (server_waiting.json).
    assert_eq!((action, who), (ModAction::Admit, Some(user(BOB))));
    assert_eq!(fixture_value("server_waiting")["members"][0]["user"], BOB);
    // deny names a waiting participant the same way; admit_all needs nothing more.
    let deny: ClientFrame = serde_json::from_value(
        json!({"type": "mod", "client_id": "m-3c72", "action": "deny", "user": MOSS}),
    )
    .unwrap();
    let ClientFrame::Mod {
        action, user: who, ..
    } = deny
    else {
        panic!("not a mod: {deny:?}");
    };
    assert_eq!((action, who), (ModAction::Deny, Some(user(MOSS))));
    let all = json!({"type": "mod", "client_id": "m-3c73", "action": "admit_all"});
    let decoded: ClientFrame = serde_json::from_value(all.clone()).unwrap();
    assert!(matches!(
        decoded,
        ClientFrame::Mod {
            action: ModAction::AdmitAll,
            user: None,
            ..
        }
    ));
    assert_eq!(serde_json::to_value(&decoded).unwrap(), all);
}

#[test]
fn client_mod_resolve() {
    let f = client_golden("mod.resolve");
    let ClientFrame::Mod {
        action,
        report,
        held,
        seq,
        ..
    } = f
    else {
        panic!("not a mod: {f:?}");
    };
    assert_eq!(action, ModAction::Resolve);
    // The report's alert id (server_alert.report.json), not the reported message's seq.
    assert_eq!(report, Some(2));
    assert_eq!(fixture_value("server_alert.report")["id"], 2);
    assert_eq!((held, seq), (None, None));
}

#[test]
fn client_checkin() {
    assert_eq!(
        client_golden("checkin"),
        ClientFrame::Checkin {
            mood: 2,
            words: Some("tired, but here".into()),
        }
    );
}

#[test]
fn client_checkout_without_words() {
    assert_eq!(
        client_golden("checkout"),
        ClientFrame::Checkout {
            mood: 4,
            words: None
        }
    );
    assert!(fixture_value("client_checkout").get("words").is_none());
}

#[test]
fn client_leave() {
    assert_eq!(client_golden("leave"), ClientFrame::Leave);
}

// ---- server frames: private ------------------------------------------------------

#[test]
fn server_welcome() {
    let f = server_golden("welcome");
    let ServerFrame::Welcome(w) = f else {
        panic!("not a welcome: {f:?}");
    };
    assert_eq!(w.protocol, PROTOCOL_VERSION);
    assert_eq!(w.you.user, user(ALICE));
    assert_eq!(w.you.role, Role::Participant);
    assert_eq!(w.room.id, room());
    assert_eq!(w.room.visibility, Visibility::Public);
    assert_eq!(w.room.members as usize, w.members.len());
    assert_eq!(
        w.members[3],
        MemberInfo {
            user: user(ASH),
            name: "Ash".into(),
            role: Role::Participant,
            hand_raised: false,
            muted: true,
            muted_until: Some(T0 + 150_000),
            away: false,
            stepping_away: true,
        }
    );
    assert!(w.members[2].hand_raised);
    // River's connection dropped: their seat is kept, and the list says so.
    assert!(w.members[2].away);
    assert!(!w.members[1].away);
    assert_eq!(w.members[0].role, Role::Facilitator);
    assert_eq!(w.state.slow_mode_seconds, 30);
    assert_eq!(w.state.floor, Some(user(ALICE)));
    assert!(!w.state.paused);
    // The room runs the default policy: flag slurs and harassment to the facilitators.
    assert_eq!(w.policy, ContentPolicy::default());
    assert_eq!((w.seq, w.epoch), (44, EPOCH));
    assert_eq!(w.resume, ResumeKind::Resumed);
    // The hello fixture resumed from 41: 42, 43 and 44 follow the welcome.
    assert_eq!(w.backlog, 3);
    // A member in the room, in a room without a waiting room: the flags are absent.
    assert!(!w.you.waiting && !w.room.waiting_room && !w.state.waiting_room);
    let v = fixture_value("server_welcome");
    assert!(v["you"].get("waiting").is_none());
    assert!(v["room"].get("waiting_room").is_none());
    assert!(v["state"].get("waiting_room").is_none());
}

#[test]
fn server_welcome_moods_for_a_facilitator() {
    let f = server_golden("welcome.moods");
    let ServerFrame::Welcome(w) = f else {
        panic!("not a welcome: {f:?}");
    };
    assert_eq!(w.you.role, Role::Facilitator);
    let moods = w
        .moods
        .expect("a facilitator's welcome carries the check-ins");
    assert_eq!(moods.members.len(), 2);
    assert_eq!(moods.members[0].user, user(ALICE));
    assert_eq!(
        moods.members[0].checkin.as_ref().map(|c| c.mood),
        Some(2),
        "Willow arrived at 2"
    );
    assert!(moods.members[1].checkin.as_ref().unwrap().words.is_none());
    assert_eq!(moods.spread.checkin, [0, 1, 1, 0, 0]);
    // A participant's welcome has no `moods` at all.
    assert!(fixture_value("server_welcome").get("moods").is_none());
}

#[test]
fn server_welcome_waiting() {
    let f = server_golden("welcome.waiting");
    let ServerFrame::Welcome(w) = f else {
        panic!("not a welcome: {f:?}");
    };
    // River arrived while the waiting room was on: he is told about the room (its
    // description and guidelines) and nothing of who is in it or what was said.
    assert_eq!((w.you.user, w.you.role), (user(BOB), Role::Participant));
    assert!(w.you.waiting);
    assert_eq!(w.members, vec![]);
    assert_eq!((w.backlog, w.member_parts), (0, 0));
    assert_eq!(w.resume, ResumeKind::Fresh);
    assert!(w.room.waiting_room && w.state.waiting_room);
    assert_eq!(
        w.room,
        golden::<RoomSummary>("http_room_summary.waiting_room")
    );
    // The room had three members when he knocked; he is not one of them yet.
    assert_eq!(w.room.members, 3);
    assert_eq!(
        w.state,
        RoomState {
            open: true,
            held: false,
            paused: false,
            locked: false,
            waiting_room: true,
            slow_mode_seconds: 0,
            shield: false,
            floor: None,
            floor_until: None,
            announcement: None,
            script: None,
        }
    );
    // No place in the timeline yet: seq 0, whatever the room's head (Sam turned the
    // waiting room on at 36, server_waiting_room.json, just before River knocked).
    assert_eq!(w.seq, 0);
    assert_eq!(fixture_value("server_waiting_room")["seq"], 36);
    // Nor a history to resume: a hello offering this seq and epoch is given a reset.
    assert_eq!(w.epoch, 0);
    assert_ne!(EPOCH, 0);
}

#[test]
fn server_ack() {
    assert_eq!(
        server_golden("ack"),
        ServerFrame::Ack {
            client_id: "c-7f3a91".into(),
            seq: Some(45),
            held: false,
        }
    );
}

#[test]
fn server_ack_for_a_held_message_has_no_seq() {
    let held = ServerFrame::Ack {
        client_id: "c-1".into(),
        seq: None,
        held: true,
    };
    assert_eq!(
        serde_json::to_value(&held).unwrap(),
        json!({"type": "ack", "client_id": "c-1", "held": true})
    );
    let back: ServerFrame =
        serde_json::from_value(json!({"type": "ack", "client_id": "c-1", "held": true})).unwrap();
    assert_eq!(back, held);
    assert_eq!(
        server_golden("ack.held"),
        ServerFrame::Ack {
            client_id: "c-19be07".into(),
            seq: None,
            held: true,
        }
    );
}

#[test]
fn server_error() {
    assert_eq!(
        server_golden("error"),
        ServerFrame::Error(ErrorFrame {
            client_id: Some("c-7f3a91".into()),
            code: ErrorCode::SlowMode,
            message: "Slow mode is on: you can post again in 12 seconds.".into(),
            retry_after_ms: Some(12_000),
            guard: None,
            choices: Vec::new(),
        })
    );
}

#[test]
fn server_error_consider() {
    let f = server_golden("error.consider");
    let ServerFrame::Error(e) = f else {
        panic!("not an error: {f:?}");
    };
    assert_eq!(e.code, ErrorCode::Consider);
    assert_eq!(e.guard, Some(GuardCategory::Dose));
    assert_eq!(
        e.choices,
        [
            GuardOffer::Cw,
            GuardOffer::Facilitators,
            GuardOffer::Edit,
            GuardOffer::AsIs
        ]
    );
    // What was found is named by its category; the words are never echoed back.
    assert!(!e.message.contains("tablets"));
}

#[test]
fn server_error_without_client_id() {
    let f: ServerFrame = serde_json::from_value(
        json!({"type": "error", "code": "unauthorized", "message": "Your session has expired."}),
    )
    .unwrap();
    let ServerFrame::Error(e) = f else {
        panic!("not an error: {f:?}");
    };
    assert_eq!(e.code, ErrorCode::Unauthorized);
    assert_eq!(e.client_id, None);
    assert_eq!(e.retry_after_ms, None);
}

#[test]
fn server_typing() {
    assert_eq!(
        server_golden("typing"),
        ServerFrame::Typing {
            user: user(BOB),
            name: "River".into()
        }
    );
}

#[test]
fn server_whisper() {
    let f = server_golden("whisper");
    let ServerFrame::Whisper {
        id, from, to, ts, ..
    } = f
    else {
        panic!("not a whisper: {f:?}");
    };
    // Numbered with the alerts: Willow's crisis alert 1 and report 2 came before it.
    assert_eq!(id, Some(3));
    assert_eq!(from, user(SAM));
    assert_eq!(to, Some(user(ALICE)));
    assert_eq!(ts, T0 + 261_000);
    // A whisper delivered at once does not mention `kept`.
    assert!(fixture_value("server_whisper").get("kept").is_none());
}

#[test]
fn server_whisper_without_id_decodes() {
    // `id` is optional on the wire: a whisper without one decodes, and encodes without.
    let mut v = fixture_value("server_whisper");
    v.as_object_mut().unwrap().remove("id");
    let f: ServerFrame = serde_json::from_value(v.clone()).unwrap();
    assert!(matches!(f, ServerFrame::Whisper { id: None, .. }));
    assert_eq!(serde_json::to_value(&f).unwrap(), v);
}

#[test]
fn server_whisper_kept() {
    let f = server_golden("whisper.kept");
    let ServerFrame::Whisper {
        id,
        ts,
        from,
        name,
        to,
        kept,
        ..
    } = f
    else {
        panic!("not a whisper: {f:?}");
    };
    // Ash wrote to the facilitators while the room was held (held at 58, unheld at
    // 59): the room kept it, and every facilitator who arrives is given it.
    assert!(kept);
    assert_eq!(id, Some(7));
    assert_eq!((from, name.as_str(), to), (user(ASH), "Ash", None));
    let held = fixture_value("server_held")["ts"].as_u64().unwrap();
    let unheld = fixture_value("server_unheld")["ts"].as_u64().unwrap();
    assert!(held < ts && ts < unheld);
}

#[test]
fn server_crisis_resources() {
    let f = server_golden("crisis_resources");
    let ServerFrame::CrisisResources {
        seq,
        category,
        told,
        lines,
        ..
    } = f
    else {
        panic!("not crisis_resources: {f:?}");
    };
    assert_eq!(seq, Some(47));
    // What the matcher recognised, as the facilitators' alert names it.
    assert_eq!(category, Some(CrisisCategory::SuicidalIdeation));
    assert_eq!(
        fixture_value("server_crisis_resources")["category"],
        fixture_value("server_alert")["category"]
    );
    // Sam was connected (he is in the welcome's members) and received alert 1.
    assert!(told);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].contact, "Call or text 988");
    assert_eq!(lines[1].url, None);
    assert_eq!(lines[2].url.as_deref(), Some("https://findahelpline.com"));
}

#[test]
fn server_crisis_resources_with_countries() {
    let f = server_golden("crisis_resources.countries");
    let ServerFrame::CrisisResources {
        lines,
        emergency,
        countries,
        ..
    } = f
    else {
        panic!("not crisis_resources: {f:?}");
    };
    // The default first: one line and the card's own number.
    assert_eq!(lines.len(), 1);
    assert_eq!(emergency.as_deref(), Some("112"));
    let places: Vec<(&str, &str, Option<&str>)> = countries
        .iter()
        .map(|c| {
            (
                c.code.as_str(),
                c.emergency.as_str(),
                c.lines[0].url.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("GB", "999", Some("tel:116123")),
            ("NZ", "111", Some("sms:1737"))
        ]
    );
    // A card without countries says nothing of them on the wire.
    let plain = serde_json::to_value(server_golden("crisis_resources")).expect("json");
    assert!(plain.get("countries").is_none() && plain.get("emergency").is_none());
}

#[test]
fn server_crisis_resources_not_told() {
    let f = server_golden("crisis_resources.not_told");
    let ServerFrame::CrisisResources {
        seq,
        category,
        told,
        ..
    } = f
    else {
        panic!("not crisis_resources: {f:?}");
    };
    // Ash wrote while the room was held: the room refused the message (no seq) and no
    // facilitator was connected to receive the alert, which waits for the next one.
    assert_eq!(seq, None);
    assert_eq!(category, Some(CrisisCategory::SelfHarm));
    assert!(!told);
    // `told` is always written, `false` included: the card never leaves it to a default.
    let v = fixture_value("server_crisis_resources.not_told");
    assert_eq!(v["told"], json!(false));
    // The card itself is the operator's, the same whatever happened to the message.
    let shared = fixture_value("server_crisis_resources");
    for field in ["title", "body", "lines"] {
        assert_eq!(v[field], shared[field], "{field}");
    }
    // Absent when decoding (an older server): false, the answer that promises nothing.
    let mut old = v.clone();
    let fields = old.as_object_mut().unwrap();
    fields.remove("told");
    fields.remove("category");
    let decoded: ServerFrame = serde_json::from_value(old).unwrap();
    assert!(matches!(
        decoded,
        ServerFrame::CrisisResources {
            told: false,
            category: None,
            ..
        }
    ));
    assert_eq!(
        serde_json::to_value(&decoded).unwrap()["told"],
        json!(false)
    );
}

#[test]
fn server_mute_notice() {
    assert_eq!(
        server_golden("mute_notice"),
        ServerFrame::MuteNotice {
            until: Some(T0 + 540_000),
            reason: Some("Please take five minutes; we'll come back to you.".into()),
        }
    );
    // River's, for Sam's mute of client_mod.json: the reason reaches him alone, while
    // the room's `muted` event says who and until when, and nothing more.
    let notice = fixture_value("server_mute_notice");
    assert_eq!(notice["reason"], fixture_value("client_mod")["reason"]);
    let muted = fixture_value("server_muted");
    assert_eq!(notice["until"], muted["until"]);
    assert_eq!(muted["user"], BOB);
    assert!(muted.get("reason").is_none());
    // A mute until lifted, given without a reason: nothing but the type.
    let bare = ServerFrame::MuteNotice {
        until: None,
        reason: None,
    };
    assert_eq!(
        serde_json::to_value(&bare).unwrap(),
        json!({"type": "mute_notice"})
    );
    assert_eq!(
        serde_json::from_value::<ServerFrame>(json!({"type": "mute_notice"})).unwrap(),
        bare
    );
}

#[test]
fn server_alert() {
    let f = server_golden("alert");
    let ServerFrame::Alert {
        kind,
        seq,
        user: who,
        category,
        ..
    } = f
    else {
        panic!("not an alert: {f:?}");
    };
    assert_eq!(kind, AlertKind::Crisis);
    assert_eq!(seq, Some(47));
    assert_eq!(who, user(ALICE));
    assert_eq!(category, Some(CrisisCategory::SuicidalIdeation));
    // Kept until a facilitator handles it: it has an id.
    assert_eq!(fixture_value("server_alert")["id"], 1);
    // A crisis alert carries no policy reason and no held message.
    let v = fixture_value("server_alert");
    for absent in ["reason", "held", "text"] {
        assert!(v.get(absent).is_none(), "crisis alert has {absent}");
    }
}

#[test]
fn server_alert_flagged() {
    assert_eq!(
        server_golden("alert.flagged"),
        ServerFrame::Alert {
            ts: T0 + 235_000,
            kind: AlertKind::Flagged,
            // Delivered as written: a live notice, not kept, so no id.
            id: None,
            seq: Some(48),
            user: user(BOB),
            name: "River".into(),
            category: None,
            reason: Some("offensive".into()),
            held: None,
            text: None,
            count: None,
            since: None,
            likelihood: None,
            context: vec![],
            by: None,
            by_name: None,
        }
    );
}

#[test]
fn server_alert_held() {
    let f = server_golden("alert.held");
    let ServerFrame::Alert {
        kind,
        id,
        seq,
        user: who,
        name,
        category,
        reason,
        held,
        text,
        ..
    } = f
    else {
        panic!("not an alert: {f:?}");
    };
    assert_eq!(kind, AlertKind::Held);
    // A held message has no place in the timeline (yet): it is named by `held`,
    // which is also its alert's id (crisis 1, report 2, whisper 3 and warning 4 came
    // before it).
    assert_eq!(seq, None);
    assert_eq!((who, name.as_str()), (user(ASH), "Ash"));
    assert_eq!(category, None);
    assert_eq!(reason.as_deref(), Some("mean"));
    assert_eq!((id, held), (Some(5), Some(5)));
    assert!(text.expect("the held text").contains("kys"));
    // The release in client_mod.release names this message.
    assert_eq!(fixture_value("client_mod.release")["held"], 5);
}

#[test]
fn server_alert_report() {
    assert_eq!(
        server_golden("alert.report"),
        ServerFrame::Alert {
            ts: T0 + 238_000,
            kind: AlertKind::Report,
            id: Some(2),
            seq: Some(48),
            // The reporter; the author is the `user` of message 48.
            user: user(ALICE),
            name: "Willow".into(),
            category: None,
            reason: Some("Mocking another member's diagnosis.".into()),
            held: None,
            text: None,
            count: None,
            since: None,
            likelihood: None,
            context: vec![
                Quote {
                    seq: 44,
                    ts: T0 + 125_000,
                    user: user(SAM),
                    name: "Sam (facilitator)".into(),
                    text: "Willow, the floor is yours. Take all the time you need.".into(),
                    cw: None,
                },
                Quote {
                    seq: 45,
                    ts: T0 + 201_000,
                    user: user(ALICE),
                    name: "Willow".into(),
                    text: "This week was hard. I didn't leave the flat until Thursday, but I did make it here tonight.".into(),
                    cw: Some("isolation".into()),
                },
                Quote {
                    seq: 47,
                    ts: T0 + 230_000,
                    user: user(ALICE),
                    name: "Willow".into(),
                    text: "Some nights I think everyone would be better off if I just wasn't here."
                        .into(),
                    cw: None,
                },
                Quote {
                    seq: 48,
                    ts: T0 + 235_000,
                    user: user(BOB),
                    name: "River".into(),
                    text: "Anxiety isn't a real illness. Everyone's \"diagnosed\" with something these days.".into(),
                    cw: None,
                },
            ],
            by: None,
            by_name: None,
        }
    );
    // The reason is the reporter's own words, from their `report` frame.
    assert_eq!(
        fixture_value("client_report")["reason"],
        fixture_value("server_alert.report")["reason"]
    );
}

#[test]
fn a_reports_context_quotes_messages_as_they_were() {
    let v = fixture_value("server_alert.report");
    let context = v["context"].as_array().expect("context");
    // At most three messages before the reported one, which comes last; oldest first.
    assert!(context.len() <= 4);
    assert_eq!(context.last().unwrap()["seq"], v["seq"]);
    let seqs: Vec<u64> = context.iter().map(|q| q["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // 46 is a reaction, not a message: it is not quoted.
    assert!(!seqs.contains(&46));
    // A quote is the message as the timeline carried it: message 45 is the fixture's.
    let m = fixture_value("server_message");
    for field in ["seq", "ts", "user", "name", "text", "cw"] {
        assert_eq!(context[1][field], m[field], "{field}");
    }
    // Message 48 was redacted later (server_redacted.json); the quote keeps its words.
    assert_eq!(fixture_value("server_redacted")["target"], 48);
    assert!(!context[3]["text"].as_str().unwrap().is_empty());
    // A report whose message the history no longer reaches has no context at all.
    let mut bare = v.clone();
    bare.as_object_mut().unwrap().remove("context");
    let f: ServerFrame = serde_json::from_value(bare.clone()).unwrap();
    let ServerFrame::Alert { context, .. } = &f else {
        panic!("not an alert: {f:?}");
    };
    assert!(context.is_empty());
    assert_eq!(serde_json::to_value(&f).unwrap(), bare);
}

#[test]
fn server_alert_knock() {
    assert_eq!(
        server_golden("alert.knock"),
        ServerFrame::Alert {
            ts: T0 + 5_000,
            kind: AlertKind::Knock,
            // A live notice: the `waiting` list is what stays, so no id.
            id: None,
            seq: None,
            user: user(BOB),
            name: "River".into(),
            category: None,
            reason: None,
            held: None,
            text: None,
            count: None,
            since: None,
            likelihood: None,
            context: vec![],
            by: None,
            by_name: None,
        }
    );
    // The knock is River's place in the waiting list.
    let first = &fixture_value("server_waiting")["members"][0];
    assert_eq!(first["user"], BOB);
    assert_eq!(first["since"], fixture_value("server_alert.knock")["ts"]);
}

#[test]
fn alerts_warnings_and_whispers_share_one_count() {
    // The fixtures' session numbers them in the order they happened: Willow's crisis
    // alert, her report, Sam's whisper to her, his warning to Ash, Ash's held message
    // and, after 6 (the crisis alert of the message the held room refused Ash, shown in
    // server_crisis_resources.not_told.json), the whisper Ash left for the facilitators.
    let numbered = [
        "server_alert",
        "server_alert.report",
        "server_whisper",
        "server_warning",
        "server_alert.held",
        "server_whisper.kept",
    ];
    let ids: Vec<u64> = numbered
        .iter()
        .map(|name| fixture_value(name)["id"].as_u64().expect("an id"))
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 7]);
    let ts: Vec<u64> = numbered
        .iter()
        .map(|name| fixture_value(name)["ts"].as_u64().expect("a ts"))
        .collect();
    assert!(ts.windows(2).all(|w| w[0] < w[1]), "{ts:?}");
    // Ash's refused message came while the room was held, before his whisper.
    let held = fixture_value("server_held")["ts"].as_u64().unwrap();
    assert!(held < ts[5]);
}

#[test]
fn server_waiting() {
    assert_eq!(
        server_golden("waiting"),
        ServerFrame::Waiting {
            members: vec![
                WaitingMember {
                    user: user(BOB),
                    name: "River".into(),
                    since: T0 + 5_000,
                    online: true,
                    stepped_out: false,
                },
                // Moss's connection dropped; Moss stays on the list for the grace period.
                WaitingMember {
                    user: user(MOSS),
                    name: "Moss".into(),
                    since: T0 + 9_000,
                    online: false,
                    stepped_out: false,
                },
            ],
        }
    );
    // Nobody waiting: the list is empty, not absent.
    let empty = ServerFrame::Waiting { members: vec![] };
    assert_eq!(
        serde_json::to_value(&empty).unwrap(),
        json!({"type": "waiting", "members": []})
    );
}

/// A log entry by Sam, with nothing but what every entry has.
fn by_sam(id: u64, ts: u64, action: ModAction) -> LogEntry {
    LogEntry {
        id,
        ts,
        by: user(SAM),
        by_name: "Sam (facilitator)".into(),
        action,
        user: None,
        name: None,
        reason: None,
        seq: None,
        seconds: None,
        held: None,
        alert: None,
        on: None,
    }
}

#[test]
fn server_mod_log() {
    // What Sam is given after his welcome when he resumes just after letting River in:
    // the whole log of the session so far, numbered from 1.
    assert_eq!(
        server_golden("mod_log"),
        ServerFrame::ModLog {
            entries: vec![
                by_sam(1, T0 - 600_000, ModAction::Open),
                LogEntry {
                    on: Some(true),
                    ..by_sam(2, T0, ModAction::WaitingRoom)
                },
                LogEntry {
                    user: Some(user(BOB)),
                    name: Some("River".into()),
                    ..by_sam(3, T0 + 12_000, ModAction::Admit)
                },
            ],
        }
    );
    // Each entry is when its action took effect: the session opened at `opened`, the
    // waiting room went on at `waiting_room`, River joined at `joined`.
    let log = fixture_value("server_mod_log");
    assert_eq!(
        log["entries"][0]["ts"],
        fixture_value("server_opened")["ts"]
    );
    assert_eq!(
        log["entries"][1]["ts"],
        fixture_value("server_waiting_room")["ts"]
    );
    assert_eq!(
        log["entries"][2]["ts"],
        fixture_value("server_joined")["ts"]
    );
}

#[test]
fn server_mod_log_new_entries() {
    // The mute of client_mod.json, as the log keeps it (one new entry, appended).
    let mute = server_golden("mod_log.mute");
    let ServerFrame::ModLog { entries } = mute else {
        panic!("not a mod_log: {mute:?}");
    };
    assert_eq!(
        entries,
        vec![LogEntry {
            user: Some(user(BOB)),
            name: Some("River".into()),
            reason: Some("Please take five minutes; we'll come back to you.".into()),
            seconds: Some(300),
            ..by_sam(8, T0 + 240_000, ModAction::Mute)
        }]
    );
    let command = fixture_value("client_mod");
    let entry = &fixture_value("server_mod_log.mute")["entries"][0];
    for field in ["action", "user", "seconds", "reason"] {
        assert_eq!(entry[field], command[field], "{field}");
    }
    assert_eq!(entry["ts"], fixture_value("server_muted")["ts"]);

    // The resolve of client_mod.resolve.json: every facilitator's client closes alert 2.
    let resolve = server_golden("mod_log.resolve");
    let ServerFrame::ModLog { entries } = resolve else {
        panic!("not a mod_log: {resolve:?}");
    };
    assert_eq!(
        entries,
        vec![LogEntry {
            alert: Some(2),
            ..by_sam(9, T0 + 250_000, ModAction::Resolve)
        }]
    );
    assert_eq!(
        fixture_value("server_mod_log.resolve")["entries"][0]["alert"],
        fixture_value("client_mod.resolve")["report"]
    );
}

#[test]
fn a_log_entry_needs_only_who_what_and_when() {
    let minimal = json!({
        "id": 4,
        "ts": T0,
        "by": SAM,
        "by_name": "Sam (facilitator)",
        "action": "admit_all"
    });
    let e: LogEntry = serde_json::from_value(minimal.clone()).unwrap();
    assert_eq!(e, by_sam(4, T0, ModAction::AdmitAll));
    assert_eq!(serde_json::to_value(&e).unwrap(), minimal);
    for field in ["id", "ts", "by", "by_name", "action"] {
        let mut v = minimal.clone();
        v.as_object_mut().unwrap().remove(field);
        assert!(
            serde_json::from_value::<LogEntry>(v).is_err(),
            "accepted an entry without {field}"
        );
    }
    // `action` is a moderation action's name; nothing else is.
    let mut v = minimal.clone();
    v["action"] = json!("ack_warning");
    assert!(serde_json::from_value::<LogEntry>(v).is_err());
}

#[test]
fn server_error_denied() {
    let f = server_golden("error.denied");
    let ServerFrame::Error(e) = f else {
        panic!("not an error: {f:?}");
    };
    // Not the answer to a command of theirs: no client_id. The close (4003) follows.
    assert_eq!(
        (e.code, e.client_id, e.retry_after_ms),
        (ErrorCode::Denied, None, None)
    );
    assert_eq!(close_code::REMOVED, 4003);
}

#[test]
fn server_members_continues_a_welcomes_member_list() {
    let f = server_golden("members");
    let ServerFrame::Members { members } = f else {
        panic!("not members: {f:?}");
    };
    // The welcome fixture's last two members, as they would come in a second part.
    let ServerFrame::Welcome(w) = server_golden("welcome") else {
        panic!("not a welcome");
    };
    assert_eq!(members, w.members[2..]);
    assert_eq!(
        w.member_parts, 0,
        "absent: the whole list is in the welcome"
    );
    assert!(
        fixture_value("server_welcome")
            .get("member_parts")
            .is_none()
    );
}

#[test]
fn a_welcome_in_parts_says_how_many_follow() {
    let ServerFrame::Welcome(mut w) = server_golden("welcome") else {
        panic!("not a welcome");
    };
    w.members.truncate(2);
    w.member_parts = 1;
    let v = serde_json::to_value(ServerFrame::Welcome(w.clone())).unwrap();
    assert_eq!(v["member_parts"], 1);
    assert_eq!(
        serde_json::from_value::<ServerFrame>(v).unwrap(),
        ServerFrame::Welcome(w)
    );
}

// ---- server frames: timeline -----------------------------------------------------

#[test]
fn server_message() {
    let f = server_golden("message");
    let ServerFrame::Message {
        seq,
        user: who,
        name,
        cw,
        ..
    } = f
    else {
        panic!("not a message: {f:?}");
    };
    assert_eq!(seq, 45);
    assert_eq!(who, user(ALICE));
    assert_eq!(name, "Willow");
    assert_eq!(cw.as_deref(), Some("isolation"));
}

#[test]
fn server_message_redacted_in_history_keeps_no_text() {
    let replayed = json!({
        "type": "message",
        "seq": 48,
        "ts": T0 + 235_000,
        "user": BOB,
        "name": "River",
        "text": "",
        "redacted": true
    });
    let f: ServerFrame = serde_json::from_value(replayed.clone()).unwrap();
    assert_eq!(f.seq(), Some(48));
    assert_eq!(serde_json::to_value(&f).unwrap(), replayed);
    // A message that was never redacted does not mention it.
    assert!(fixture_value("server_message").get("redacted").is_none());
}

#[test]
fn server_joined() {
    assert_eq!(
        server_golden("joined"),
        ServerFrame::Joined {
            seq: 38,
            ts: T0 + 12_000,
            member: MemberInfo {
                user: user(BOB),
                name: "River".into(),
                role: Role::Participant,
                hand_raised: false,
                muted: false,
                muted_until: None,
                away: false,
                stepping_away: false,
            },
        }
    );
}

#[test]
fn server_away_and_back() {
    assert_eq!(
        server_golden("away"),
        ServerFrame::Away {
            seq: 52,
            ts: T0 + 420_000,
            user: user(ASH),
        }
    );
    let back = server_golden("back");
    assert_eq!(
        back,
        ServerFrame::Back {
            seq: 55,
            ts: T0 + 1_830_000,
            user: user(ASH),
        }
    );
    // Both are timeline events: numbered, kept and replayed on resume.
    assert_eq!(back.seq(), Some(55));
    // A member present and connected says nothing about it.
    assert!(
        fixture_value("server_joined")["member"]
            .get("away")
            .is_none()
    );
}

#[test]
fn server_stepping_away() {
    let f = server_golden("stepping_away");
    assert_eq!(
        f,
        ServerFrame::SteppingAway {
            seq: 53,
            ts: T0 + 510_000,
            user: user(ALICE),
            on: true,
        }
    );
    // A timeline event: numbered, kept and replayed on resume.
    assert_eq!(f.seq(), Some(53));
    // A member who has not stepped away says nothing about it.
    assert!(
        fixture_value("server_joined")["member"]
            .get("stepping_away")
            .is_none()
    );
}

#[test]
fn server_left() {
    assert_eq!(
        server_golden("left"),
        ServerFrame::Left {
            seq: 54,
            ts: T0 + 1_805_000,
            user: user(BOB),
            reason: LeftReason::Disconnected,
        }
    );
}

#[test]
fn server_muted() {
    assert_eq!(
        server_golden("muted"),
        ServerFrame::Muted {
            seq: 49,
            ts: T0 + 240_000,
            user: user(BOB),
            until: Some(T0 + 540_000),
        }
    );
}

#[test]
fn server_unmuted() {
    assert_eq!(
        server_golden("unmuted"),
        ServerFrame::Unmuted {
            seq: 53,
            ts: T0 + 540_000,
            user: user(BOB),
        }
    );
}

#[test]
fn server_paused() {
    let f = server_golden("paused");
    let ServerFrame::Paused { seq, reason, .. } = f else {
        panic!("not paused: {f:?}");
    };
    assert_eq!(seq, 50);
    assert!(reason.expect("a reason").contains("breathe"));
}

#[test]
fn server_resumed() {
    assert_eq!(
        server_golden("resumed"),
        ServerFrame::Resumed {
            seq: 51,
            ts: T0 + 360_000
        }
    );
}

#[test]
fn server_redacted() {
    assert_eq!(
        server_golden("redacted"),
        ServerFrame::Redacted {
            seq: 52,
            ts: T0 + 365_000,
            target: 48,
        }
    );
}

#[test]
fn server_slow_mode() {
    assert_eq!(
        server_golden("slow_mode"),
        ServerFrame::SlowMode {
            seq: 39,
            ts: T0 + 30_000,
            seconds: 30,
        }
    );
}

#[test]
fn server_locked() {
    assert_eq!(
        server_golden("locked"),
        ServerFrame::Locked {
            seq: 55,
            ts: T0 + 1_900_000,
            locked: true,
        }
    );
}

#[test]
fn server_floor() {
    assert_eq!(
        server_golden("floor"),
        ServerFrame::Floor {
            seq: 43,
            ts: T0 + 120_000,
            user: Some(user(ALICE)),
            until: Some(T0 + 240_000),
        }
    );
}

#[test]
fn server_floor_open_has_no_user() {
    let open = ServerFrame::Floor {
        seq: 57,
        ts: T0,
        user: None,
        until: None,
    };
    assert_eq!(
        serde_json::to_value(&open).unwrap(),
        json!({"type": "floor", "seq": 57, "ts": T0})
    );
}

#[test]
fn server_hand() {
    assert_eq!(
        server_golden("hand"),
        ServerFrame::Hand {
            seq: 42,
            ts: T0 + 95_000,
            user: user(ALICE),
            raised: true,
        }
    );
}

#[test]
fn server_reaction() {
    assert_eq!(
        server_golden("reaction"),
        ServerFrame::Reaction {
            seq: 46,
            ts: T0 + 205_000,
            user: user(BOB),
            target: 45,
            emoji: Reaction::Heart,
        }
    );
}

#[test]
fn client_mod_step_out() {
    let ClientFrame::Mod {
        action,
        user: who,
        text,
        ..
    } = client_golden("mod.step_out")
    else {
        panic!("not a mod");
    };
    assert_eq!(action, ModAction::StepOut);
    assert_eq!(who, Some(user(ASH)));
    // The note is optional: without it, Ash is told the kind words alone.
    assert!(text.is_some_and(|t| t.contains("not in trouble")));
}

#[test]
fn server_stepped_out() {
    // The room is told who stepped out, never why: no note, no reason.
    assert_eq!(
        server_golden("stepped_out"),
        ServerFrame::SteppedOut {
            seq: 59,
            ts: 1_732_650_600_000,
            user: user(ASH),
        }
    );
    let v = fixture_value("server_stepped_out");
    assert_eq!(v.as_object().map(|o| o.len()), Some(4), "{v}");
}

#[test]
fn server_welcome_stepped_out() {
    let ServerFrame::Welcome(w) = server_golden("welcome.stepped_out") else {
        panic!("not a welcome");
    };
    // Ash, asked out for a quiet word, waits: the note is his, the room is not shown.
    assert!(w.you.waiting);
    assert_eq!(w.you.user, user(ASH));
    let note = w.you.stepped_out.and_then(|o| o.note).expect("the note");
    assert!(note.starts_with("Could we talk"));
    assert_eq!((w.members.len(), w.backlog, w.seq, w.epoch), (0, 0, 0, 0));
    // Someone who knocked is not stepped out: the field is absent for them.
    let waiting = fixture_value("server_welcome.waiting");
    assert!(waiting["you"].get("stepped_out").is_none());
}

#[test]
fn server_waiting_stepped_out() {
    let ServerFrame::Waiting { members } = server_golden("waiting.stepped_out") else {
        panic!("not a waiting list");
    };
    assert_eq!(members.len(), 1);
    assert!(members[0].stepped_out && members[0].online);
    assert_eq!(members[0].user, user(ASH));
    assert!(
        fixture_value("server_waiting")["members"][0]
            .get("stepped_out")
            .is_none()
    );
}

#[test]
fn client_mod_shield() {
    let ClientFrame::Mod { action, on, .. } = client_golden("mod.shield") else {
        panic!("not a mod");
    };
    assert_eq!(action, ModAction::Shield);
    assert_eq!(on, Some(true));
}

#[test]
fn server_mood() {
    let ServerFrame::Mood { member, spread } = server_golden("mood") else {
        panic!("not a mood");
    };
    assert_eq!(member.user, user(ALICE));
    assert_eq!(member.name, "Willow");
    assert_eq!(member.checkin.as_ref().map(|c| c.mood), Some(2));
    assert_eq!(
        member.checkout,
        Some(kindred_protocol::MoodGiven {
            mood: 4,
            words: None,
            ts: T0 + 4_500_000,
        })
    );
    assert_eq!(spread.checkin, [0, 1, 1, 0, 0]);
    assert_eq!(spread.checkout, [0, 0, 0, 1, 0]);
}

#[test]
fn server_debrief() {
    let ServerFrame::Debrief(d) = server_golden("debrief") else {
        panic!("not a debrief");
    };
    assert_eq!(
        (d.opened, d.closed, d.minutes),
        (Some(T0), T0 + 4_800_000, 80)
    );
    assert_eq!((d.peak, d.members, d.messages), (3, 4, 57));
    assert_eq!((d.rounds, d.shared, d.passes), (2, 4, 2));
    assert_eq!(d.alerts[0].kind, AlertKind::CheckIn);
    assert_eq!((d.alerts[1].raised, d.alerts[1].handled), (1, 0));
    assert_eq!(d.actions[1].action, ModAction::Phase);
    assert_eq!(d.moods.checkout, [0, 0, 0, 1, 0]);
    // Counts only: no name and no words anywhere in it.
    let text = fixture_text("server_debrief");
    assert!(!text.contains("name") && !text.contains("words"));
}

#[test]
fn server_shield() {
    assert_eq!(
        server_golden("shield"),
        ServerFrame::Shield {
            seq: 58,
            ts: 1_732_650_300_000,
            on: true,
            waiting_room: true,
            slow_mode_seconds: 30,
        }
    );
    // Every field is always present: a lowered shield says what is in force again.
    let down = serde_json::to_value(ServerFrame::Shield {
        seq: 61,
        ts: 1_732_650_900_000,
        on: false,
        waiting_room: false,
        slow_mode_seconds: 0,
    })
    .expect("json");
    assert_eq!(down["on"], false);
    assert_eq!(down["waiting_room"], false);
    assert_eq!(down["slow_mode_seconds"], 0);
}

#[test]
fn client_hello_first_time() {
    let f = client_golden("hello.first_time");
    let ClientFrame::Hello {
        first_time,
        last_seq,
        ..
    } = f
    else {
        panic!("not a hello: {f:?}");
    };
    assert!(first_time);
    assert_eq!(last_seq, None);
    // Absent says nothing, and a hello that says nothing does not carry it.
    let ClientFrame::Hello { first_time, .. } = client_golden("hello") else {
        panic!("not a hello");
    };
    assert!(!first_time);
    assert!(fixture_value("client_hello").get("first_time").is_none());
}

#[test]
fn server_share_the_air() {
    let ServerFrame::ShareTheAir { members } = server_golden("share_the_air") else {
        panic!("not share_the_air");
    };
    let users: Vec<UserId> = members.iter().map(|m| m.user).collect();
    assert_eq!(users, [user(ALICE), user(BOB), user(ASH)]);
    // Willow has shared most; River has not spoken yet and has a hand up; Ash, here
    // for the first time, waits in the queue.
    assert_eq!((members[0].messages, members[0].chars), (6, 1184));
    assert_eq!(members[1].last_spoke, None);
    assert!(members[1].hand && !members[1].first_time);
    assert!(members[2].queued && members[2].first_time);
    // What is false or absent is left out.
    let v = fixture_value("server_share_the_air");
    assert!(v["members"][0].get("hand").is_none());
    assert!(v["members"][1].get("last_spoke").is_none());
}

#[test]
fn client_mod_cw() {
    let ClientFrame::Mod {
        action, seq, cw, ..
    } = client_golden("mod.cw")
    else {
        panic!("not a mod");
    };
    assert_eq!(action, ModAction::Cw);
    // Willow's message of server_message.json, warned of after it was shared.
    assert_eq!(seq, fixture_value("server_message")["seq"].as_u64());
    assert_eq!(cw.as_deref(), Some("self-harm"));
}

#[test]
fn server_cw() {
    assert_eq!(
        server_golden("cw"),
        ServerFrame::Cw {
            seq: 49,
            ts: 1_732_648_920_000,
            target: 45,
            cw: "self-harm".into(),
        }
    );
    // It names the message it covers; its own place in the timeline is `seq`.
    assert_eq!(fixture_value("server_message")["seq"], 45);
}

#[test]
fn welcomes_carry_the_rooms_content_warning_topics() {
    let shipped = [
        "self-harm",
        "suicide",
        "abuse",
        "eating",
        "substances",
        "grief",
        "violence",
    ];
    for name in ["welcome", "welcome.script", "welcome.waiting"] {
        let ServerFrame::Welcome(w) = server_golden(name) else {
            panic!("{name} is not a welcome");
        };
        assert_eq!(w.cw_topics, shipped, "{name}");
    }
    // A welcome from a server that offers none reads as an empty list.
    let mut v = fixture_value("server_welcome");
    v.as_object_mut().unwrap().remove("cw_topics");
    let ServerFrame::Welcome(w) = serde_json::from_value(v).unwrap() else {
        panic!("not a welcome");
    };
    assert!(w.cw_topics.is_empty());
}

#[test]
fn server_waiting_room() {
    assert_eq!(
        server_golden("waiting_room"),
        ServerFrame::WaitingRoom {
            seq: 36,
            ts: T0,
            on: true,
        }
    );
    // `on` is always present: `false` is the waiting room turned off, not an omission.
    let off = ServerFrame::WaitingRoom {
        seq: 41,
        ts: T0 + 90_000,
        on: false,
    };
    assert_eq!(
        serde_json::to_value(&off).unwrap(),
        json!({"type": "waiting_room", "seq": 41, "ts": T0 + 90_000, "on": false})
    );
    assert!(
        serde_json::from_value::<ServerFrame>(json!({"type": "waiting_room", "seq": 41, "ts": T0}))
            .is_err()
    );
}

#[test]
fn server_policy() {
    assert_eq!(
        server_golden("policy"),
        ServerFrame::Policy {
            seq: 56,
            ts: T0 + 1_960_000,
            policy: hold_policy(),
        }
    );
}

#[test]
fn content_policy_wire_form() {
    // Always sent in full: mode and all four kinds.
    assert_eq!(
        serde_json::to_value(ContentPolicy::default()).unwrap(),
        json!({
            "mode": "flag",
            "kinds": {"profanity": false, "sexual": false, "offensive": true, "mean": true},
            "guard": "ask"
        })
    );
    // The guardrail: `ask` unless set, each mode by its name.
    for guard in ["off", "ask", "hold"] {
        let p: ContentPolicy = serde_json::from_value(json!({ "guard": guard })).unwrap();
        assert_eq!(serde_json::to_value(p).unwrap()["guard"], guard);
        assert_eq!(p.mode, PolicyMode::Flag);
    }
    assert!(serde_json::from_value::<ContentPolicy>(json!({"guard": "block"})).is_err());
    // Received: absent fields take the defaults (not the room's current values).
    let p: ContentPolicy = serde_json::from_value(json!({"mode": "hold"})).unwrap();
    assert_eq!(p, hold_policy());
    let p: ContentPolicy = serde_json::from_value(json!({"kinds": {"profanity": true}})).unwrap();
    assert_eq!(p.mode, PolicyMode::Flag);
    assert_eq!(
        p.kinds,
        Kinds {
            profanity: true,
            ..Kinds::default()
        }
    );
    assert_eq!(
        serde_json::from_value::<ContentPolicy>(json!({})).unwrap(),
        ContentPolicy::default()
    );
    for mode in ["off", "flag", "censor", "hold"] {
        let p: ContentPolicy = serde_json::from_value(json!({ "mode": mode })).unwrap();
        assert_eq!(serde_json::to_value(p).unwrap()["mode"], mode);
    }
    for bad in [
        json!({"mode": "block"}),
        json!({"mode": "Hold"}),
        json!({"mode": null}),
        json!({"kinds": {"mean": "yes"}}),
        json!({"kinds": 3}),
        json!({"kinds": "all"}),
        json!("hold"),
    ] {
        assert!(
            serde_json::from_value::<ContentPolicy>(bad.clone()).is_err(),
            "accepted {bad}"
        );
    }
    // Unknown kinds are ignored, like any unknown field.
    let p: ContentPolicy =
        serde_json::from_value(json!({"mode": "censor", "kinds": {"spam": true}})).unwrap();
    assert_eq!(p.kinds, Kinds::default());
    assert_eq!(
        Kinds::ALL,
        Kinds {
            profanity: true,
            sexual: true,
            offensive: true,
            mean: true
        }
    );
}

#[test]
fn server_announcement() {
    let f = server_golden("announcement");
    let ServerFrame::Announcement { seq, text, .. } = f else {
        panic!("not an announcement: {f:?}");
    };
    assert_eq!(seq, 40);
    assert!(text.starts_with("Sharing round tonight"));
}

#[test]
fn server_closed() {
    let f = server_golden("closed");
    let ServerFrame::Closed { seq, ts, reason } = f else {
        panic!("not closed: {f:?}");
    };
    assert_eq!((seq, ts), (60, T0 + 5_400_000));
    assert!(reason.is_some());
}

// ---- HTTP bodies -----------------------------------------------------------------

#[test]
fn http_create_room() {
    let r: CreateRoom = golden("http_create_room");
    assert_eq!(r.title, "Tuesday Evening Circle");
    assert_eq!(r.capacity, Some(20));
    assert_eq!(r.visibility, Visibility::Public);
    assert!(r.guidelines.expect("guidelines").starts_with("1. "));
    let scheduled: CreateRoom = golden("http_create_room.scheduled");
    assert_eq!(scheduled.schedule, Some(tuesday_evening()));
    assert_eq!(r.waiting_room, None, "absent: no waiting room");
    let waiting: CreateRoom = golden("http_create_room.waiting_room");
    assert_eq!(waiting.waiting_room, Some(true));
    assert_eq!(waiting.capacity, Some(12));
}

/// The fixtures' group meets on Tuesdays at 19:00 London time, for an hour and a half.
fn tuesday_evening() -> Schedule {
    Schedule {
        weekday: Weekday::Tuesday,
        start: "19:00".into(),
        minutes: 90,
        timezone: "Europe/London".into(),
    }
}

#[test]
fn http_create_room_takes_defaults_for_absent_fields() {
    let r: CreateRoom = serde_json::from_value(json!({"title": "Open Mic"})).unwrap();
    assert_eq!(
        r,
        CreateRoom {
            title: "Open Mic".into(),
            ..CreateRoom::default()
        }
    );
    assert_eq!(r.visibility, Visibility::Public);
    assert_eq!(r.policy, None, "absent: the server's default policy");
    assert!(serde_json::from_value::<CreateRoom>(json!({"topic": "no title"})).is_err());
    let with_policy: CreateRoom =
        serde_json::from_value(json!({"title": "Open Mic", "policy": {"mode": "off"}})).unwrap();
    assert_eq!(
        with_policy.policy,
        Some(ContentPolicy {
            mode: PolicyMode::Off,
            kinds: Kinds::default(),
            guard: GuardMode::Ask,
        })
    );
}

#[test]
fn http_update_room() {
    let u: UpdateRoom = golden("http_update_room");
    assert_eq!(
        u,
        UpdateRoom {
            capacity: Some(12),
            visibility: Some(Visibility::Unlisted),
            ..UpdateRoom::default()
        }
    );
    let p: UpdateRoom = golden("http_update_room.policy");
    assert_eq!(
        p,
        UpdateRoom {
            policy: Some(ContentPolicy {
                mode: PolicyMode::Censor,
                kinds: Kinds::ALL,
                guard: GuardMode::Hold,
            }),
            ..UpdateRoom::default()
        }
    );
    // `null` removes the schedule; absent leaves it alone.
    // Turning the waiting room off (which lets everyone waiting in); nothing else changes.
    let w: UpdateRoom = golden("http_update_room.waiting_room");
    assert_eq!(
        w,
        UpdateRoom {
            waiting_room: Some(false),
            ..UpdateRoom::default()
        }
    );
    let topics: UpdateRoom = golden("http_update_room.cw_topics");
    assert_eq!(
        topics.cw_topics.as_deref().map(|t| t.last().cloned()),
        Some(Some("loss of a pet".to_owned()))
    );
    assert_eq!(u.cw_topics, None);
    let removed: UpdateRoom = golden("http_update_room.unscheduled");
    assert_eq!(removed.schedule, Some(None));
    assert_eq!(u.schedule, None);
    let set: UpdateRoom = serde_json::from_value(json!({"schedule": {
        "weekday": "tuesday", "start": "19:00", "minutes": 90, "timezone": "Europe/London"
    }}))
    .unwrap();
    assert_eq!(set.schedule, Some(Some(tuesday_evening())));
    assert!(
        serde_json::from_value::<UpdateRoom>(json!({"schedule": {"weekday": "tuesdays",
            "start": "19:00", "minutes": 90, "timezone": "Europe/London"}}))
        .is_err()
    );
}

#[test]
fn http_admin_room_is_the_summary_and_its_policy() {
    let a: AdminRoom = golden("http_admin_room");
    assert_eq!(a.room.id, room());
    assert_eq!(a.room.visibility, Visibility::Unlisted);
    assert_eq!(a.policy, ContentPolicy::default());
    assert_eq!(a.cw_topics.len(), 7);
    // A client that knows only the summary reads the same answer.
    let r: RoomSummary = serde_json::from_value(fixture_value("http_admin_room")).unwrap();
    assert_eq!(r, a.room);
    let list: AdminRoomList =
        serde_json::from_value(json!({"rooms": [fixture_value("http_admin_room")]})).unwrap();
    assert_eq!(list.rooms, vec![a]);
}

/// Admin bodies refuse what they do not know, naming it: a typo is not a default.
#[test]
fn admin_bodies_refuse_unknown_fields_by_name() {
    let e = serde_json::from_value::<CreateRoom>(json!({"title": "Group", "capcity": 5}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `capcity`"), "{e}");
    let e = serde_json::from_value::<UpdateRoom>(json!({"titel": "Group"}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `titel`"), "{e}");
    let e = serde_json::from_value::<CreateInvite>(json!({"ttl": 60}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `ttl`"), "{e}");
    // Every field of an update and of an invite is optional.
    assert_eq!(
        serde_json::from_value::<UpdateRoom>(json!({})).unwrap(),
        UpdateRoom::default()
    );
    assert_eq!(
        serde_json::from_value::<CreateInvite>(json!({})).unwrap(),
        CreateInvite::default()
    );
}

#[test]
fn http_room_summary() {
    let r: RoomSummary = golden("http_room_summary");
    assert_eq!(r.id, room());
    assert_eq!(r.capacity, 20);
    assert_eq!(r.members, 4);
    assert_eq!((&r.schedule, &r.next_session), (&None, &None));
    assert!(!r.waiting_room);
    assert!(
        fixture_value("http_room_summary")
            .get("waiting_room")
            .is_none()
    );
    let w: RoomSummary = golden("http_room_summary.waiting_room");
    assert!(w.waiting_room);
    assert_eq!(
        RoomSummary {
            members: 4,
            waiting_room: false,
            ..w
        },
        r,
        "the same room, a little earlier, with its waiting room on"
    );
    let s: RoomSummary = golden("http_room_summary.scheduled");
    assert_eq!(s.schedule, Some(tuesday_evening()));
    // T0 is a Tuesday, 19:00 in London (GMT in November).
    assert_eq!(
        s.next_session,
        Some(NextSession {
            starts_at: T0,
            ends_at: T0 + 90 * 60_000,
        })
    );
    assert!(
        !s.open,
        "a schedule says when, not whether: the room is closed"
    );
}

#[test]
fn http_room_list() {
    let l: RoomList = golden("http_room_list");
    assert_eq!(l.rooms.len(), 2);
    assert_eq!(l.rooms[0].id, room());
    assert_eq!(l.rooms[1].title, "Carers' Corner");
    assert_eq!(l.rooms[1].members, 0);
    assert!(l.rooms.iter().all(|r| r.visibility == Visibility::Public));
}

#[test]
fn http_create_invite() {
    let i: CreateInvite = golden("http_create_invite");
    assert_eq!(i.ttl_seconds, Some(7 * 24 * 3600));
    assert_eq!(i.uses, Some(2));
    let empty: CreateInvite = serde_json::from_value(json!({})).unwrap();
    assert_eq!(empty, CreateInvite::default());
}

#[test]
fn http_invite() {
    let i: Invite = golden("http_invite");
    assert_eq!(i.role, Role::Facilitator);
    assert_eq!(i.expires_at, 1_733_252_400_000);
    let (url, token) = (i.url.unwrap(), i.token.unwrap());
    // The token rides in the fragment, which browsers never send to a server.
    assert_eq!(url.split_once('#').unwrap().1, format!("invite={token}"));
    assert!(!url.split_once('#').unwrap().0.contains(&token));
    assert_eq!((i.uses, i.used), (2, 0));
}

#[test]
fn http_invite_list() {
    let l: InviteList = golden("http_invite_list");
    let i = &l.invites[0];
    // A listed invite never shows its token again.
    assert_eq!((i.token.as_ref(), i.url.as_ref()), (None, None));
    assert_eq!(i.members, vec![user(SAM)]);
    assert_eq!((i.uses, i.used), (2, 1));
}

#[test]
fn http_join_request() {
    let j: JoinRequest = golden("http_join_request");
    assert_eq!(
        j,
        JoinRequest {
            name: "Willow".into(),
            accept_guidelines: true,
            invite: None,
            device: Some("q3Xv9LmP0aZt7RbW2cYe8A".into()),
            seat_key: None,
        }
    );
    // accept_guidelines is required on the wire: its absence is a bad request, not `false`.
    assert!(serde_json::from_value::<JoinRequest>(json!({"name": "Willow"})).is_err());
}

#[test]
fn http_join_request_of_a_facilitator_binds_the_seat_to_this_browser() {
    let j: JoinRequest = golden("http_join_request.facilitator");
    assert!(j.invite.is_some());
    assert_eq!(j.seat_key.as_deref(), Some("mP7vQ2xR9sK4tW1yB6nC3d"));
}

#[test]
fn http_seat_requests_take_a_seat_back_or_onto_another_device() {
    let back: SeatRequest = golden("http_seat_request");
    assert_eq!(
        (back.seat_key.as_str(), back.code, back.device),
        ("mP7vQ2xR9sK4tW1yB6nC3d", None, None)
    );
    let added: SeatRequest = golden("http_seat_request.code");
    assert_eq!(added.code.as_deref(), Some("Xc4Vb7Nm0Qw2Er5Ty8Ui1O"));
    // The key is required: a code alone binds nothing.
    assert!(
        serde_json::from_value::<SeatRequest>(json!({"code": "Xc4Vb7Nm0Qw2Er5Ty8Ui1O"})).is_err()
    );
    let code: SeatCode = golden("http_seat_code");
    assert!(code.url.ends_with(&format!("#seat={}", code.code)));
}

#[test]
fn http_join_response() {
    let j: JoinResponse = golden("http_join_response");
    assert_eq!(j.user_id, user(ALICE));
    assert_eq!(j.role, Role::Participant);
    assert_eq!(j.room, room());
    assert_eq!(j.ws_path, "/ws");
    assert_eq!(j.name.as_deref(), Some("Willow"));
}

#[test]
fn http_error() {
    assert_eq!(
        golden::<HttpError>("http_error"),
        HttpError {
            code: ErrorCode::RateLimited,
            message: "Too many join attempts from your network; try again in a minute.".into(),
            retry_after_ms: Some(60_000),
            next_session: None,
        }
    );
    let closed: HttpError = golden("http_error.closed");
    assert_eq!(closed.code, ErrorCode::Closed);
    assert_eq!(closed.retry_after_ms, None);
    assert_eq!(
        closed.next_session,
        Some(NextSession {
            starts_at: T0,
            ends_at: T0 + 90 * 60_000,
        })
    );
    let in_use: HttpError = golden("http_error.invite_in_use");
    assert_eq!(in_use.code, ErrorCode::InviteInUse);
    assert!(in_use.message.contains("another browser"));
}

// ---- coverage --------------------------------------------------------------------

#[test]
fn every_client_frame_has_a_fixture() {
    let variants = serde_variants::<ClientFrame>(r#"{"type": "__no_such_type__"}"#);
    assert_eq!(variants.len(), 17, "{variants:?}");
    let mut covered = BTreeSet::new();
    for name in fixture_names("client_") {
        let kind = base_name(&name).strip_prefix("client_").unwrap();
        let frame: ClientFrame = golden(&name);
        assert_eq!(client_kind(&frame), kind, "{name} holds another kind");
        assert_eq!(fixture_value(&name)["type"], kind, "{name}: type field");
        covered.insert(kind.to_owned());
    }
    assert_eq!(covered, variants, "client frame kinds vs fixtures");
}

#[test]
fn every_server_frame_has_a_fixture() {
    let variants = serde_variants::<ServerFrame>(r#"{"type": "__no_such_type__"}"#);
    assert_eq!(
        variants.len(),
        TIMELINE.len() + PRIVATE.len(),
        "{variants:?}"
    );
    let mut covered = BTreeSet::new();
    for name in fixture_names("server_") {
        let kind = base_name(&name).strip_prefix("server_").unwrap();
        let frame: ServerFrame = golden(&name);
        assert_eq!(server_kind(&frame), kind, "{name} holds another kind");
        assert_eq!(fixture_value(&name)["type"], kind, "{name}: type field");
        covered.insert(kind.to_owned());
    }
    assert_eq!(covered, variants, "server frame kinds vs fixtures");
}

/// The fixture re-encoded, pretty, by its own Rust type: the server's bytes, indented.
fn typed_pretty(name: &str) -> String {
    fn pretty<T: Serialize + DeserializeOwned>(name: &str) -> String {
        let decoded: T = serde_json::from_str(&fixture_text(name)).expect("decodes");
        serde_json::to_string_pretty(&decoded).expect("encodes") + "\n"
    }
    match base_name(name) {
        n if n.starts_with("client_") => pretty::<ClientFrame>(name),
        n if n.starts_with("server_") => pretty::<ServerFrame>(name),
        "http_create_room" => pretty::<CreateRoom>(name),
        "http_update_room" => pretty::<UpdateRoom>(name),
        "http_room_summary" => pretty::<RoomSummary>(name),
        "http_admin_room" => pretty::<AdminRoom>(name),
        "http_room_list" => pretty::<RoomList>(name),
        "http_create_invite" => pretty::<CreateInvite>(name),
        "http_invite" => pretty::<Invite>(name),
        "http_invite_list" => pretty::<InviteList>(name),
        "http_join_request" => pretty::<JoinRequest>(name),
        "http_join_response" => pretty::<JoinResponse>(name),
        "http_seat_request" => pretty::<SeatRequest>(name),
        "http_seat_code" => pretty::<SeatCode>(name),
        "http_error" => pretty::<HttpError>(name),
        "http_create_on_call" => pretty::<oncall::CreateOnCall>(name),
        "http_on_call_link" => pretty::<oncall::OnCallLink>(name),
        "http_on_call_list" => pretty::<oncall::OnCallList>(name),
        "http_on_call_board" => pretty::<oncall::Board>(name),
        "http_on_call_join" => pretty::<oncall::OnCallJoin>(name),
        other => panic!("fixture {other} has no known type: add it here"),
    }
}

/// Fixtures are written exactly as the types encode them (field order included,
/// pretty-printed), so the file reads like what goes over the wire.
#[test]
fn every_fixture_is_typed_and_in_wire_order() {
    let names = fixture_names("");
    assert_eq!(names.len(), 133, "{names:?}");
    for name in names {
        assert_eq!(
            fixture_text(&name),
            typed_pretty(&name),
            "{name}: not in wire order and pretty form"
        );
    }
}

#[test]
fn seq_is_some_exactly_for_timeline_events() {
    let timeline: BTreeSet<String> = TIMELINE.iter().map(|s| s.to_string()).collect();
    let private: BTreeSet<String> = PRIVATE.iter().map(|s| s.to_string()).collect();
    assert!(timeline.is_disjoint(&private));
    let all: BTreeSet<String> = timeline.union(&private).cloned().collect();
    assert_eq!(all, serde_variants::<ServerFrame>(r#"{"type": "?"}"#));

    for kind in all {
        let name = format!("server_{kind}");
        let frame: ServerFrame = golden(&name);
        let value = fixture_value(&name);
        if timeline.contains(&kind) {
            assert_eq!(frame.seq(), value["seq"].as_u64(), "{name}");
            assert!(frame.seq().is_some(), "{name}");
            assert!(value["ts"].is_u64(), "{name}: a timeline event carries ts");
        } else {
            // crisis_resources and alert carry a `seq` that *names* a message; it is not
            // their own position, so seq() must still be None.
            assert_eq!(frame.seq(), None, "{name} is private");
        }
    }
}

#[test]
fn every_error_code_name_matches_as_str() {
    let names = serde_variants::<ErrorCode>(r#""__no_such_code__""#);
    assert_eq!(names.len(), 24, "{names:?}");
    for name in names {
        let code: ErrorCode = serde_json::from_value(Value::String(name.clone())).unwrap();
        assert_eq!(code.as_str(), name);
        assert_eq!(code.to_string(), name);
        assert_eq!(serde_json::to_value(code).unwrap(), Value::String(name));
    }
}

#[test]
fn mod_actions_and_reactions_use_snake_case_names() {
    let actions = serde_variants::<ModAction>(r#""__x__""#);
    let expected: BTreeSet<String> = [
        "mute",
        "unmute",
        "pause",
        "resume",
        "close",
        "remove",
        "ban",
        "redact",
        "slow_mode",
        "lock",
        "unlock",
        "floor",
        "clear_floor",
        "lower_hand",
        "announce",
        "release",
        "decline",
        "set_policy",
        "open",
        "warn",
        "waiting_room",
        "admit",
        "admit_all",
        "deny",
        "resolve",
        "phase",
        "next_phase",
        "next_turn",
        "move_up",
        "post_reading",
        "set_script",
        "shield",
        "step_out",
        "escalate",
        "on_call_joined",
        "cw",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(actions, expected);
    // The names logs use are the wire names.
    for name in &expected {
        let action: ModAction = serde_json::from_str(&format!("\"{name}\"")).unwrap();
        assert_eq!(action.as_str(), name);
    }

    let reactions = serde_variants::<Reaction>(r#""__x__""#);
    let expected: BTreeSet<String> = ["heart", "hug", "strength", "thanks", "me_too", "candle"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(reactions, expected);
}

#[test]
fn close_codes_are_pinned() {
    let codes = [
        (close_code::NORMAL, 1000),
        (close_code::GOING_AWAY, 1001),
        (close_code::POLICY, 1008),
        (close_code::TOO_BIG, 1009),
        (close_code::UNAUTHORIZED, 4001),
        (close_code::TIMEOUT, 4002),
        (close_code::REMOVED, 4003),
        (close_code::ROOM_CLOSED, 4004),
        (close_code::ROOM_UNAVAILABLE, 4005),
        (close_code::SLOW_CONSUMER, 4008),
        (close_code::TOO_MANY_CONNECTIONS, 4009),
    ];
    for (code, wire) in codes {
        assert_eq!(code, wire);
    }
}

#[test]
fn protocol_md_shows_every_fixture_and_names_every_code() {
    let doc = fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("PROTOCOL.md"))
        .expect("PROTOCOL.md");
    for kind in serde_variants::<ClientFrame>(r#"{"type": "?"}"#)
        .into_iter()
        .chain(serde_variants::<ServerFrame>(r#"{"type": "?"}"#))
    {
        assert!(
            doc.contains(&format!("\"type\": \"{kind}\"")),
            "PROTOCOL.md has no example of `{kind}`"
        );
    }
    for name in fixture_names("") {
        assert!(
            doc.contains(&format!("```json\n{}```", fixture_text(&name))),
            "PROTOCOL.md does not show {name}.json verbatim"
        );
    }
    for code in serde_variants::<ErrorCode>(r#""?""#) {
        assert!(
            doc.contains(&format!("`{code}`")),
            "PROTOCOL.md does not explain `{code}`"
        );
    }
    for action in serde_variants::<ModAction>(r#""?""#) {
        assert!(
            doc.contains(&format!("`{action}`")),
            "PROTOCOL.md does not explain `{action}`"
        );
    }
}

/// The JSON examples written into PROTOCOL.md by hand (not only the fixtures) must be
/// real frames: each one with a `type` decodes as a client or server frame and encodes
/// back to the same value, so no field in an example is misspelled or ignored.
#[test]
fn protocol_md_json_examples_are_frames() {
    let doc = fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("PROTOCOL.md"))
        .expect("PROTOCOL.md");
    let mut frames = 0;
    for block in doc.split("```json\n").skip(1) {
        let (body, _) = block.split_once("```").expect("a closed json block");
        let value: Value = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("PROTOCOL.md example is not JSON ({e}):\n{body}"));
        if value.get("type").is_none() {
            continue;
        }
        // Some types exist in both directions (`typing`, `whisper`): either may match.
        let as_client = serde_json::from_value::<ClientFrame>(value.clone())
            .map(|f| serde_json::to_value(f).unwrap());
        let as_server = serde_json::from_value::<ServerFrame>(value.clone())
            .map(|f| serde_json::to_value(f).unwrap());
        assert!(
            as_client.as_ref().is_ok_and(|v| *v == value)
                || as_server.as_ref().is_ok_and(|v| *v == value),
            "PROTOCOL.md example is not a frame in wire form \
             (as client: {as_client:?}; as server: {as_server:?}):\n{body}"
        );
        frames += 1;
    }
    assert!(frames > 40, "only {frames} frame examples found");
}

// ---- what must not decode, and what is tolerated ---------------------------------

#[test]
fn unknown_type_is_refused() {
    for text in [
        r#"{"type": "shout", "text": "hi"}"#,
        r#"{"type": "Send", "client_id": "c", "text": "hi"}"#,
        r#"{"type": "", "text": "hi"}"#,
        r#"{"type": 3}"#,
        r#"{"type": null}"#,
    ] {
        assert!(
            serde_json::from_str::<ClientFrame>(text).is_err(),
            "client accepted {text}"
        );
        assert!(
            serde_json::from_str::<ServerFrame>(text).is_err(),
            "server accepted {text}"
        );
    }
    // A server frame is not a client frame, and the other way round.
    assert!(serde_json::from_str::<ClientFrame>(&fixture_text("server_welcome")).is_err());
    assert!(serde_json::from_str::<ServerFrame>(&fixture_text("client_mod")).is_err());
}

#[test]
fn missing_type_or_required_fields_are_refused() {
    let client = [
        json!({"token": "t"}),
        json!({"type": "hello"}),
        json!({"type": "send", "text": "hi"}),
        json!({"type": "send", "client_id": "c"}),
        json!({"type": "hand"}),
        json!({"type": "react", "seq": 4}),
        json!({"type": "react", "emoji": "hug"}),
        json!({"type": "report"}),
        json!({"type": "whisper", "to": ALICE}),
        json!({"type": "mod", "client_id": "m"}),
        json!({"type": "mod", "action": "pause"}),
    ];
    for v in client {
        assert!(
            serde_json::from_value::<ClientFrame>(v.clone()).is_err(),
            "client accepted {v}"
        );
    }
    let mut welcome = fixture_value("server_welcome");
    welcome.as_object_mut().unwrap().remove("epoch");
    let server = [
        welcome,
        json!({"type": "ack"}),
        json!({"type": "error", "message": "no code"}),
        json!({"type": "message", "seq": 1, "ts": T0, "user": ALICE, "name": "Willow"}),
        json!({"type": "message", "ts": T0, "user": ALICE, "name": "Willow", "text": "no seq"}),
        json!({"type": "resumed", "seq": 1}),
        json!({"type": "left", "seq": 1, "ts": T0, "user": ALICE}),
        json!({"type": "waiting"}),
        json!({"type": "waiting", "members": [{"user": BOB, "name": "River", "since": T0}]}),
        json!({"type": "mod_log"}),
        json!({"type": "mod_log", "entries": [{"id": 1, "ts": T0, "by": SAM, "action": "open"}]}),
        json!({"type": "waiting_room", "ts": T0, "on": true}),
    ];
    for v in server {
        assert!(
            serde_json::from_value::<ServerFrame>(v.clone()).is_err(),
            "server accepted {v}"
        );
    }
}

#[test]
fn wrongly_typed_fields_are_refused() {
    for v in [
        json!({"type": "react", "seq": "42", "emoji": "heart"}),
        json!({"type": "react", "seq": -1, "emoji": "heart"}),
        json!({"type": "react", "seq": 4.5, "emoji": "heart"}),
        json!({"type": "react", "seq": 42, "emoji": "angry"}),
        json!({"type": "react", "seq": 42, "emoji": "❤️"}),
        json!({"type": "hand", "raised": "yes"}),
        json!({"type": "whisper", "to": "not-a-uuid", "text": "hi"}),
        json!({"type": "mod", "client_id": "m", "action": "nuke"}),
        json!({"type": "mod", "client_id": "m", "action": "mute", "seconds": -5}),
        json!({"type": "mod", "client_id": "m", "action": "mute", "seconds": 4_294_967_296u64}),
        json!({"type": "send", "client_id": 7, "text": "hi"}),
        json!({"type": "mod", "client_id": "m", "action": "waiting_room", "on": "yes"}),
        json!({"type": "mod", "client_id": "m", "action": "waiting_room", "on": 1}),
        json!({"type": "mod", "client_id": "m", "action": "resolve", "report": -1}),
        json!({"type": "mod", "client_id": "m", "action": "resolve", "report": "2"}),
        json!({"type": "mod", "client_id": "m", "action": "admit", "user": "River"}),
        json!({"type": "mod", "client_id": "m", "action": "admit-all"}),
    ] {
        assert!(
            serde_json::from_value::<ClientFrame>(v.clone()).is_err(),
            "accepted {v}"
        );
    }
}

#[test]
fn invalid_json_is_refused() {
    for text in [
        "",
        " ",
        "{",
        "}",
        "null",
        "true",
        "42",
        "\"hello\"",
        "{}",
        "{\"type\": \"typing\"",
        "{\"type\": \"typing\",}",
        "{'type': 'typing'}",
        "{\"type\": \"typing\"} {\"type\": \"typing\"}",
        "{\"type\": \"typing\", \"type\": \"leave\"}",
        "\u{feff}{\"type\": \"typing\"}",
    ] {
        assert!(
            serde_json::from_str::<ClientFrame>(text).is_err(),
            "accepted {text:?}"
        );
    }
    assert!(serde_json::from_slice::<ClientFrame>(b"{\"type\": \"typ\xffing\"}").is_err());
}

#[test]
fn unknown_extra_fields_are_ignored() {
    let mut hello = fixture_value("client_hello");
    hello["client_version"] = json!("web/1.4.2");
    hello["capabilities"] = json!(["reactions", {"nested": [1, 2, 3]}]);
    let decoded: ClientFrame = serde_json::from_value(hello).unwrap();
    assert_eq!(decoded, client_golden("hello"));

    let typing: ClientFrame =
        serde_json::from_value(json!({"type": "typing", "until": 5, "x": null})).unwrap();
    assert_eq!(typing, ClientFrame::Typing);

    let mut message = fixture_value("server_message");
    message["edited"] = json!(false);
    message["thread"] = json!({"root": 12});
    let decoded: ServerFrame = serde_json::from_value(message).unwrap();
    assert_eq!(decoded, server_golden("message"));

    let mut welcome = fixture_value("server_welcome");
    welcome["room"]["language"] = json!("en");
    welcome["members"][0]["pronouns"] = json!("they/them");
    welcome["state"]["sharing_round"] = json!(true);
    let decoded: ServerFrame = serde_json::from_value(welcome).unwrap();
    assert_eq!(decoded, server_golden("welcome"));

    let mut join = fixture_value("http_join_request");
    join["captcha"] = json!("x");
    let decoded: JoinRequest = serde_json::from_value(join).unwrap();
    assert_eq!(decoded, golden::<JoinRequest>("http_join_request"));
}

#[test]
fn field_order_does_not_matter() {
    let decoded: ClientFrame = serde_json::from_str(
        r#"{"text": "hi", "cw": "grief", "client_id": "c-1", "type": "send"}"#,
    )
    .unwrap();
    assert_eq!(
        decoded,
        ClientFrame::Send {
            client_id: "c-1".into(),
            text: "hi".into(),
            cw: Some("grief".into()),
            guard: None,
        }
    );
}

// ---- the on-call supervisor ------------------------------------------------------

#[test]
fn client_mod_escalate() {
    let ClientFrame::Mod {
        action,
        alert,
        report,
        ..
    } = client_golden("mod.escalate")
    else {
        panic!("not a mod");
    };
    assert_eq!(action, ModAction::Escalate);
    // The id of the crisis alert in `server_alert`.
    assert_eq!(alert, Some(1));
    assert_eq!(fixture_value("server_alert")["id"], 1);
    assert_eq!(report, None);
}

#[test]
fn server_mod_log_on_call() {
    let ServerFrame::ModLog { entries } = server_golden("mod_log.on_call") else {
        panic!("not a mod_log");
    };
    assert_eq!(entries[0].action, ModAction::Escalate);
    assert_eq!((entries[0].by, entries[0].alert), (user(SAM), Some(1)));
    assert_eq!(entries[1].action, ModAction::OnCallJoined);
    assert_eq!(entries[1].by_name, "On-call");
}

#[test]
fn http_on_call_links() {
    let create: oncall::CreateOnCall = golden("http_create_on_call");
    assert_eq!(create.ttl_seconds, Some(12 * 3600));
    // Strict: a misspelt field is refused, not ignored.
    assert!(serde_json::from_value::<oncall::CreateOnCall>(json!({"ttl": 60})).is_err());
    let link: oncall::OnCallLink = golden("http_on_call_link");
    let (url, token) = (link.url.unwrap(), link.token.unwrap());
    // The token rides in the fragment, which browsers never send to a server.
    assert_eq!(url, format!("/#oncall={token}"));
    assert_eq!(link.expires_at - link.created_at, 12 * 3600 * 1000);
    let list: oncall::OnCallList = golden("http_on_call_list");
    assert_eq!(
        (list.links[0].token.as_ref(), list.links[0].url.as_ref()),
        (None, None)
    );
    let join: oncall::OnCallJoin = golden("http_on_call_join");
    assert_eq!(join.name.as_deref(), Some("On-call"));
    assert_eq!(
        serde_json::from_value::<oncall::OnCallJoin>(json!({})).unwrap(),
        oncall::OnCallJoin::default()
    );
}

#[test]
fn http_on_call_board() {
    let board: oncall::Board = golden("http_on_call_board");
    assert_eq!(board.held_after_seconds, 180);
    let (escalated, held) = (&board.rooms[0], &board.rooms[1]);
    assert_eq!(escalated.id, room());
    assert_eq!((escalated.facilitators, escalated.held_since), (1, None));
    let e = &escalated.escalations[0];
    assert_eq!((e.alert, e.by), (1, user(SAM)));
    assert_eq!(
        e.category,
        Some(kindred_protocol::CrisisCategory::SuicidalIdeation)
    );
    assert!(e.quote.as_deref().unwrap().contains("end my life"));
    // Held for longer than `held_after_seconds`: on-call is asked to come.
    assert_eq!(held.facilitators, 0);
    let since = held.held_since.unwrap();
    assert!(board.now - since >= board.held_after_seconds * 1000 && held.needs_on_call);
    assert!(
        fixture_value("http_on_call_board")["rooms"][0]
            .get("held_since")
            .is_none()
    );
}
