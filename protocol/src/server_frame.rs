//! Frames the server sends. Timeline events (see [`ServerFrame::seq`]) carry a
//! room-wide `seq` and a `ts`, are kept in the room's history and replayed on
//! resume. All other frames are private or ephemeral and never replayed.

pub use crate::help_lines::{CountryLines, CrisisCategory, HelpLine};
use serde::{Deserialize, Serialize};

use crate::checkin::{Debrief, MemberMood, MoodSpread};
use crate::client_frame::Reaction;
use crate::error::ErrorCode;
use crate::ids::{ClientId, Millis, Seq, UserId};
use crate::policy::{ContentPolicy, GuardCategory, GuardOffer};
use crate::script::{PhaseEvent, QueueEvent, RoundEvent, ScriptEvent};

pub use crate::notices::{AirShare, AlertKind, LogEntry, Quote, SteppedOut, WaitingMember};
pub use crate::welcome::{
    Me, MemberInfo, ResumeKind, Role, RoomState, RoomSummary, Visibility, Welcome,
};

/// One frame from the server.
// `welcome` is much the largest (it carries the room's summary, schedule included), but
// there is one per connection and a frame lives only until it is encoded or handled:
// boxing it would cost every client a `Box` in its match for no saving that counts.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    // ---- private frames -------------------------------------------------------
    /// The answer to `hello`. The `backlog` timeline frames that follow it are the
    /// recent history (fresh join, reset; for a participant, from their own `joined`
    /// on) or the replay since `last_seq` (resume).
    Welcome(Welcome),
    /// A command was applied; `seq` is the timeline position it got, if any.
    /// `held` is true when the message waits for a facilitator's review.
    Ack {
        client_id: ClientId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        #[serde(default, skip_serializing_if = "is_false")]
        held: bool,
    },
    /// A request was refused, or the connection is about to close.
    Error(ErrorFrame),
    /// Someone is typing. Ephemeral.
    Typing { user: UserId, name: String },
    /// A private message. `to` is absent when a participant wrote to the facilitators.
    /// `id` numbers it in the session: the room keeps the session's whispers, and
    /// replays them after `welcome` (a member their own, a facilitator all of them),
    /// so a reload keeps the conversation; clients show each id once. `kept` marks a
    /// participant's whisper written while no facilitator was connected in a
    /// facilitated session: the facilitators read it when they arrive.
    Whisper {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        ts: Millis,
        from: UserId,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<UserId>,
        text: String,
        #[serde(default, skip_serializing_if = "is_false")]
        kept: bool,
        /// A facilitator's note to everyone in the waiting room (`waiting_note`),
        /// given to each person waiting and to the facilitators.
        #[serde(default, skip_serializing_if = "is_false")]
        waiting: bool,
        /// Given again after a `welcome` (the session's whispers this member may
        /// read), not written just now: a page that has just opened shows it without
        /// announcing it. Absent on a whisper delivered as it is written.
        #[serde(default, skip_serializing_if = "is_false")]
        replayed: bool,
    },
    /// Sent privately to the author of a message that sounds like a crisis. The
    /// message itself was delivered as written (at `seq`); `seq` is absent when the
    /// room could not take it (muted, paused…), in which case the facilitators' alert
    /// carries its text.
    CrisisResources {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        /// What the matcher recognised (an overdose calls for the emergency number
        /// first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<CrisisCategory>,
        /// A facilitator connected now received the alert. False when none is (in a
        /// facilitated room the alert waits for the next one who arrives; in a drop-in
        /// room nobody watches): the card must not promise anyone is reading.
        #[serde(default)]
        told: bool,
        title: String,
        body: String,
        /// The default lines: shown until the person picks their country.
        lines: Vec<HelpLine>,
        /// The default emergency number, when the operator gives one (absent: the
        /// client says "your local emergency number" and offers the countries).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        emergency: Option<String>,
        /// The operator's lines per country, for a person who picks theirs.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        countries: Vec<CountryLines>,
    },
    /// A facilitator's warning: to the member it is for, who cannot post until they
    /// acknowledge it with `ack_warning {alert: id}`, and to every facilitator; sent
    /// again with `acknowledged: true` once they have.
    Warning {
        id: u64,
        ts: Millis,
        /// The member warned.
        user: UserId,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        acknowledged: bool,
    },
    /// Sent privately to a member a facilitator muted: why and until when (the room's
    /// `muted` event carries neither the reason nor anything but the end). Sent again
    /// when they reconnect while still muted.
    MuteNotice {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Millis>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Sent privately to every facilitator: something needs their attention.
    Alert {
        ts: Millis,
        kind: AlertKind,
        /// For an alert the room keeps until a facilitator handles it (`crisis`,
        /// `report`, `held`): its id, unique in the session. The same alert may be
        /// sent again (to a facilitator who arrives, or after a resend): clients show
        /// it once. For `held` it equals `held`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        /// The message concerned, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        user: UserId,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<CrisisCategory>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// For a held message: its id (for release/decline) and its text, which only
        /// facilitators see until one of them releases it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        held: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// For a report: the reported message and up to three messages before it,
        /// oldest first, as they read when the report was made (a later redaction
        /// does not change them). Empty when the room's kept history no longer
        /// reaches the message.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        context: Vec<Quote>,
        /// For a crisis alert: how many crisis messages of this member it stands for,
        /// when more than one. A member has one open crisis alert at a time: each new
        /// crisis message (sent, refused or whispered) updates it under the same `id`
        /// (`ts`, `seq`, `text` and `category` are the latest) until a facilitator
        /// handles it, so a flood cannot push anyone's alert out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u32>,
        /// With `count`: when the first of those messages came (`ts` is the latest).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Millis>,
        /// For `crisis` and `check_in`: how sure Kindred's classifier was, as a
        /// percentage, when it (rather than a phrase rule) recognised the words.
        /// Absent when a phrase rule matched.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        likelihood: Option<u8>,
        /// For `concern`: the member who is worried about `user` (facilitators only
        /// ever receive an alert; `user` is never told who).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by_name: Option<String>,
    },
    /// The answer to a member's `concern`, to them alone: the facilitators were told
    /// (`told`: one is connected now; otherwise the first to arrive will be).
    ConcernNoted {
        user: UserId,
        name: String,
        #[serde(default, skip_serializing_if = "is_false")]
        told: bool,
    },
    /// Sent privately to every facilitator: the participants in the waiting room,
    /// in the order they arrived. Sent after a facilitator's `welcome` and whenever
    /// the list changes (a knock, an admission, a denial, a waiting member leaving,
    /// dropping their connection or coming back).
    Waiting { members: Vec<WaitingMember> },
    /// Sent privately to every facilitator: entries of the session's moderation log,
    /// oldest first. The whole log follows a facilitator's `welcome`; each new entry
    /// is sent as it happens. The log is dropped when the session closes.
    ModLog { entries: Vec<LogEntry> },
    /// Sent privately to each facilitator: every participant's share of the
    /// conversation this session (see [`AirShare`]), in order of arrival. Given after
    /// a facilitator's `welcome`, then again when a figure changed, at most once every
    /// few seconds. A participant never receives it.
    ShareTheAir { members: Vec<AirShare> },
    /// Sent privately to every facilitator: a participant checked in or out (their
    /// mood and words), with the room's spread as it stands now. Never sent to any
    /// other member; a facilitator who arrives finds them all in `welcome.moods`.
    Mood {
        member: MemberMood,
        spread: MoodSpread,
    },
    /// Sent privately to every facilitator connected as a session closes, just before
    /// `closed`: the session in counts. Kept nowhere after.
    Debrief(Debrief),
    /// More of `welcome.members`, for a room whose member list does not fit in one
    /// frame: `welcome.member_parts` of these follow the welcome, before its backlog.
    Members { members: Vec<MemberInfo> },

    // ---- timeline events (carry seq and ts, replayable) ----------------------
    /// A member's message.
    Message {
        seq: Seq,
        ts: Millis,
        user: UserId,
        name: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cw: Option<String>,
        /// True in history after a facilitator redacted it: `text` is then empty.
        #[serde(default, skip_serializing_if = "is_false")]
        redacted: bool,
    },
    /// A member arrived.
    Joined {
        seq: Seq,
        ts: Millis,
        member: MemberInfo,
    },
    /// A member's connection dropped and they did not come back within the presence
    /// grace period: they are away, and their seat and place in the room are kept
    /// for the room's away limit. Nothing is said to them meanwhile that a resume
    /// cannot give them: `back` when they return, `left` (`disconnected`) when the
    /// away limit passes first.
    Away { seq: Seq, ts: Millis, user: UserId },
    /// A member who was away is connected again, in the same seat.
    Back { seq: Seq, ts: Millis, user: UserId },
    /// A member said "I need a minute" (`on`), or is back from it (`on: false`, by
    /// their own `step_away` or by posting a message). Meanwhile a go-around or the
    /// queue passes over them, their place kept.
    SteppingAway {
        seq: Seq,
        ts: Millis,
        user: UserId,
        on: bool,
    },
    /// A member left, was away past the room's away limit, removed or banned.
    Left {
        seq: Seq,
        ts: Millis,
        user: UserId,
        reason: LeftReason,
    },
    /// A facilitator asked a participant out of the room for a quiet word: they are
    /// in the waiting room now, and come back with a `joined` when admitted. The
    /// facilitator's note is theirs alone.
    SteppedOut { seq: Seq, ts: Millis, user: UserId },
    /// A member was muted, until `until` or until lifted.
    Muted {
        seq: Seq,
        ts: Millis,
        user: UserId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Millis>,
    },
    /// A member may speak again.
    Unmuted { seq: Seq, ts: Millis, user: UserId },
    /// A grounding pause: only facilitators may post.
    Paused {
        seq: Seq,
        ts: Millis,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The pause is over.
    Resumed { seq: Seq, ts: Millis },
    /// A facilitator (or the operator) opened a session: participants may join.
    Opened { seq: Seq, ts: Millis },
    /// No facilitator is in this facilitated room: participants cannot post until one
    /// comes back (`unheld`).
    Held { seq: Seq, ts: Millis },
    /// A facilitator is back: participants may post again.
    Unheld { seq: Seq, ts: Millis },
    /// The message at `target` was withdrawn; clients drop its text.
    Redacted { seq: Seq, ts: Millis, target: Seq },
    /// Slow mode: each participant may post once every `seconds` (0 = off).
    SlowMode { seq: Seq, ts: Millis, seconds: u32 },
    /// The room was locked (no new members) or unlocked.
    Locked { seq: Seq, ts: Millis, locked: bool },
    /// `user` has the floor until `until`; absent `user` means the floor is open.
    Floor {
        seq: Seq,
        ts: Millis,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Millis>,
    },
    /// A member raised or lowered a hand.
    Hand {
        seq: Seq,
        ts: Millis,
        user: UserId,
        raised: bool,
    },
    /// A supportive reaction to the message at `target`.
    Reaction {
        seq: Seq,
        ts: Millis,
        user: UserId,
        target: Seq,
        emoji: Reaction,
    },
    /// The waiting room was turned on or off.
    WaitingRoom { seq: Seq, ts: Millis, on: bool },
    /// A facilitator raised (`on`) or lowered the shield: one event for all it
    /// changes, with the waiting room and slow mode now in force.
    Shield {
        seq: Seq,
        ts: Millis,
        on: bool,
        waiting_room: bool,
        slow_mode_seconds: u32,
    },
    /// A facilitator put a content warning on the message at `target` after it was
    /// shared (or changed the one it had): show it collapsed behind `cw` from now on.
    /// A history given later already shows the message with it.
    Cw {
        seq: Seq,
        ts: Millis,
        target: Seq,
        cw: String,
    },
    /// The room's content policy changed.
    Policy {
        seq: Seq,
        ts: Millis,
        policy: ContentPolicy,
    },
    /// A facilitator's announcement, pinned at the top of the room.
    Announcement { seq: Seq, ts: Millis, text: String },
    /// The group moved to a phase of its script, or (`time_up`) its planned time is up.
    Phase(PhaseEvent),
    /// A go-around's order or a turn's end; whose turn it is now is the `floor`.
    Round(RoundEvent),
    /// The sharing queue, in order.
    Queue(QueueEvent),
    /// A facilitator replaced the session script; no phase is current.
    Script(ScriptEvent),
    /// The session is over: everyone is disconnected and the history is dropped.
    Closed {
        seq: Seq,
        ts: Millis,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ServerFrame {
    /// The timeline position of a replayable event; `None` for private frames.
    pub fn seq(&self) -> Option<Seq> {
        match self {
            ServerFrame::Welcome(_)
            | ServerFrame::Ack { .. }
            | ServerFrame::Error(_)
            | ServerFrame::Typing { .. }
            | ServerFrame::Whisper { .. }
            | ServerFrame::Warning { .. }
            | ServerFrame::MuteNotice { .. }
            | ServerFrame::CrisisResources { .. }
            | ServerFrame::Alert { .. }
            | ServerFrame::ConcernNoted { .. }
            | ServerFrame::Waiting { .. }
            | ServerFrame::ModLog { .. }
            | ServerFrame::ShareTheAir { .. }
            | ServerFrame::Members { .. }
            | ServerFrame::Mood { .. }
            | ServerFrame::Debrief(_) => None,
            ServerFrame::Message { seq, .. }
            | ServerFrame::Joined { seq, .. }
            | ServerFrame::Left { seq, .. }
            | ServerFrame::SteppedOut { seq, .. }
            | ServerFrame::Away { seq, .. }
            | ServerFrame::Back { seq, .. }
            | ServerFrame::SteppingAway { seq, .. }
            | ServerFrame::Muted { seq, .. }
            | ServerFrame::Unmuted { seq, .. }
            | ServerFrame::Paused { seq, .. }
            | ServerFrame::Resumed { seq, .. }
            | ServerFrame::Opened { seq, .. }
            | ServerFrame::Held { seq, .. }
            | ServerFrame::Unheld { seq, .. }
            | ServerFrame::Redacted { seq, .. }
            | ServerFrame::SlowMode { seq, .. }
            | ServerFrame::Locked { seq, .. }
            | ServerFrame::Floor { seq, .. }
            | ServerFrame::Hand { seq, .. }
            | ServerFrame::Reaction { seq, .. }
            | ServerFrame::WaitingRoom { seq, .. }
            | ServerFrame::Shield { seq, .. }
            | ServerFrame::Cw { seq, .. }
            | ServerFrame::Policy { seq, .. }
            | ServerFrame::Announcement { seq, .. }
            | ServerFrame::Phase(PhaseEvent { seq, .. })
            | ServerFrame::Round(RoundEvent { seq, .. })
            | ServerFrame::Queue(QueueEvent { seq, .. })
            | ServerFrame::Script(ScriptEvent { seq, .. })
            | ServerFrame::Closed { seq, .. } => Some(*seq),
        }
    }
}

/// The `error` frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorFrame {
    /// Echo of the command's `client_id`, when the command had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
    pub code: ErrorCode,
    /// A human sentence, safe to show as is.
    pub message: String,
    /// When to try again, for `rate_limited` and `slow_mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// For `consider`: what the room's guardrail found in the message (its category,
    /// never the words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardCategory>,
    /// For `consider`: what the author may do now, in the order to show them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<GuardOffer>,
}

/// Why a member left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    /// They chose to leave.
    Left,
    /// Their connection dropped and they did not come back within the room's away
    /// limit (they were `away` meanwhile, unless the limit is the grace period).
    Disconnected,
    /// A facilitator, or the organiser through the admin API, removed them (the
    /// removed member's close reason says which).
    Removed,
    /// A facilitator banned them.
    Banned,
}
