//! The structured group on the wire: a room's session script (its phases), the phase
//! the group is in, a go-around's turns and the sharing queue. The room's `welcome`
//! carries all of it in `state.script`; the timeline events `phase`, `round`, `queue`
//! and `script` tell each change.

use serde::{Deserialize, Serialize};

use crate::ids::{Millis, Seq, UserId};

/// The most phases a script may have.
pub const MAX_PHASES: usize = 24;
/// The longest phase name, in characters.
pub const MAX_PHASE_NAME_CHARS: usize = 60;
/// The longest prompt, in characters.
pub const MAX_PROMPT_CHARS: usize = 500;
/// The longest reading, in characters.
pub const MAX_READING_CHARS: usize = 4_000;
/// The most characters a script's texts (names, prompts, readings) hold together, so
/// that every `welcome`, which carries the script, stays a modest frame.
pub const MAX_SCRIPT_CHARS: usize = 12_000;
/// The longest a phase may be planned for, in minutes.
pub const MAX_PHASE_MINUTES: u32 = 240;
/// The shortest and longest turn in a round or from the queue, in seconds.
pub const MIN_TURN_SECONDS: u32 = 10;
pub const MAX_TURN_SECONDS: u32 = 1_800;

/// How the group talks during a phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    /// Free conversation.
    #[default]
    Open,
    /// A go-around: the floor passes from member to member, each may pass.
    Round,
    /// Shares in turn from a queue members ask to join.
    Queue,
}

/// One phase of a session script. Written by people (the operator, a facilitator), so
/// an unknown field is refused rather than ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub name: String,
    /// Shown to everyone at the top of the room while the phase lasts.
    #[serde(default)]
    pub prompt: String,
    /// How long the phase is planned for; when it is up everyone sees so, and the
    /// facilitator decides when to move on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    #[serde(default)]
    pub kind: PhaseKind,
    /// Text the facilitator posts as the room's announcement with one tap (the
    /// opening, the guidelines, the closing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading: Option<String>,
    /// Each turn's length in a `round` or `queue` phase; absent: the room's default
    /// floor length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_seconds: Option<u32>,
}

/// The phase the group is in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseNow {
    /// Its place in the script, from 0.
    pub index: u32,
    pub name: String,
    pub prompt: String,
    pub kind: PhaseKind,
    /// When its planned time is up, if it has a length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Millis>,
    /// Its planned time is up. Nothing else changes: the facilitator moves on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub time_up: bool,
}

/// A go-around: everyone in it, in the order they take their turn. Whose turn it is
/// now is the room's floor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundNow {
    pub turns: Vec<Turn>,
    /// Everyone has had a turn (or nobody still to go is connected).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ended: bool,
}

/// One member's place in a go-around.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub user: UserId,
    pub name: String,
    /// How their turn went; absent while it is still to come (or under way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<TurnDone>,
}

/// How a member's turn ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnDone {
    /// Their time ran out or the facilitator moved on.
    Shared,
    /// They passed: listening is participating.
    Passed,
}

/// A member waiting in the sharing queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    pub user: UserId,
    pub name: String,
}

/// The structured group as `welcome` shows it (`state.script`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptView {
    pub phases: Vec<Phase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<PhaseNow>,
    /// The go-around of the current `round` phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<RoundNow>,
    /// The sharing queue of the current `queue` phase, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queue: Vec<Queued>,
}

/// The `phase` timeline event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseEvent {
    pub seq: Seq,
    pub ts: Millis,
    #[serde(flatten)]
    pub phase: PhaseNow,
}

/// The `round` timeline event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundEvent {
    pub seq: Seq,
    pub ts: Millis,
    #[serde(flatten)]
    pub round: RoundNow,
}

/// The `queue` timeline event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEvent {
    pub seq: Seq,
    pub ts: Millis,
    pub members: Vec<Queued>,
}

/// The `script` timeline event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptEvent {
    pub seq: Seq,
    pub ts: Millis,
    pub phases: Vec<Phase>,
}
