//! The `welcome` frame and its parts: who the member is, the room as the directory
//! shows it, who is here, the room's live state. Used by [`crate::server_frame`].

use serde::{Deserialize, Serialize};

use crate::checkin::MoodBoard;
use crate::ids::{Epoch, Millis, RoomId, Seq, UserId};
use crate::notices::SteppedOut;
use crate::policy::ContentPolicy;
use crate::schedule::{NextSession, Schedule};
use crate::script::ScriptView;

/// The `welcome` frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub protocol: u32,
    pub you: Me,
    pub room: RoomSummary,
    pub members: Vec<MemberInfo>,
    pub state: RoomState,
    pub policy: ContentPolicy,
    /// The room's timeline head when this welcome was made.
    pub seq: Seq,
    pub epoch: Epoch,
    pub resume: ResumeKind,
    /// How many timeline frames follow this one before live events.
    pub backlog: u32,
    /// How many `members` frames follow this one, before the backlog, each carrying
    /// more of `members` (a large room's list is sent in parts). Absent when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub member_parts: u32,
    /// The room's content-warning topics, for a composer's picker and a member's own
    /// filters (the operator's list, or the one Kindred ships).
    #[serde(default)]
    pub cw_topics: Vec<String>,
    /// For a facilitator: every check-in and check-out of the session so far, and
    /// their spread. Absent for a participant, who never sees anyone's mood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moods: Option<MoodBoard>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How the backlog after `welcome` relates to what the client had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResumeKind {
    /// No `last_seq` was given: the backlog is the recent history (for a participant,
    /// from their own `joined` on: nothing shared before they came).
    Fresh,
    /// The backlog is exactly the events after `last_seq`.
    Resumed,
    /// The history no longer reaches back to `last_seq` (or the epoch changed):
    /// the client must drop what it shows and start from this snapshot.
    Reset,
}

/// The connected member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    /// In the waiting room: this `welcome` carries the room's description and
    /// guidelines but no members, history or timeline events; a second `welcome`
    /// follows when a facilitator admits them (or an `error` `denied` and a close).
    #[serde(default, skip_serializing_if = "is_false")]
    pub waiting: bool,
    /// Waiting because a facilitator asked them out of the room for a quiet word
    /// (with the facilitator's note, if any), not because they have not come in yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stepped_out: Option<SteppedOut>,
}

/// What a member can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Participant,
    /// Facilitators and co-facilitators: moderate and receive alerts.
    Facilitator,
}

/// A room's public description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub id: RoomId,
    pub title: String,
    pub topic: String,
    pub description: String,
    pub guidelines: String,
    pub capacity: u32,
    pub visibility: Visibility,
    /// Members currently in the room.
    pub members: u32,
    /// A session is on, and participants may join.
    pub open: bool,
    /// A facilitator keeps the room: without one present the room is held. `false`
    /// for a drop-in room that nobody watches.
    pub facilitated: bool,
    /// Participants wait to be admitted by a facilitator.
    #[serde(default, skip_serializing_if = "is_false")]
    pub waiting_room: bool,
    /// When the group meets, if the operator set a weekly schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// The scheduled session that has not ended yet (the current one during its slot),
    /// when there is a schedule. It says when the group meets, not whether it is open:
    /// `open` says that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_session: Option<NextSession>,
}

/// Whether a room is listed in the public directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    #[default]
    Public,
    /// Reachable by link only.
    Unlisted,
}

/// One member as others see them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "is_false")]
    pub hand_raised: bool,
    /// Muted; `muted_until` absent means until a facilitator lifts it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub muted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<Millis>,
    /// Their connection dropped past the presence grace period: their seat is kept
    /// until they come back (`back`) or the room's away limit passes (`left`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub away: bool,
    /// They said "I need a minute" (`step_away`) and have not come back from it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stepping_away: bool,
}

/// The live state of the room carried by `welcome`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct RoomState {
    /// A session is on: participants may join. Between sessions only facilitators
    /// may enter (to prepare, or to open it).
    pub open: bool,
    /// No facilitator is here: participants' messages wait until one comes back.
    pub held: bool,
    pub paused: bool,
    pub locked: bool,
    /// Participants who arrive wait until a facilitator admits them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub waiting_room: bool,
    /// 0 when slow mode is off.
    pub slow_mode_seconds: u32,
    /// The shield is up: a participant's first message of the session waits for a
    /// facilitator (the waiting room and slow mode it set are in the fields above).
    #[serde(default, skip_serializing_if = "is_false")]
    pub shield: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_until: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<String>,
    /// The session script, its current phase, round and queue (not while waiting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<ScriptView>,
}

fn is_false(b: &bool) -> bool {
    !*b
}
