//! Frames a client sends: JSON text frames, internally tagged by `"type"`.

use serde::{Deserialize, Serialize};

use crate::ids::{ClientId, Epoch, Seq, UserId};
use crate::policy::{ContentPolicy, GuardChoice};
use crate::script::Phase;

/// One frame from a client. Unknown fields are ignored (forward compatibility);
/// an unknown `type` is refused with `bad_request`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The first frame of every connection. `last_seq` and `epoch` (from a previous
    /// `welcome`) ask for a resume: the events after `last_seq` are replayed.
    Hello {
        token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seq: Option<Seq>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<Epoch>,
        /// The member said, joining, that this is their first time here: only the
        /// facilitators learn it (`share_the_air`). Once said, it holds for the
        /// session; absent or `false` says nothing.
        #[serde(default, skip_serializing_if = "is_false")]
        first_time: bool,
    },
    /// Share a message with the room. `cw` is an optional content-warning label:
    /// clients collapse the message until the reader opens it.
    Send {
        client_id: ClientId,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cw: Option<String>,
        /// The author's answer to the room's guardrail (`error` `consider`): send
        /// behind a content warning (`cw`) or as it is (`as_is`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guard: Option<GuardChoice>,
    },
    /// "I am typing": relayed to the room, never stored.
    Typing,
    /// Raise or lower one's hand.
    Hand {
        raised: bool,
    },
    /// Give the floor back: in a go-around, "I'll listen this time" (listening is
    /// participating), and the turn passes on; elsewhere, the end of one's share.
    Pass,
    /// Ask to share (`on`), or stop waiting, in a `queue` phase.
    Queue {
        on: bool,
    },
    /// "I need a minute" (`on`), or "I'm back": the room sees it beside the member's
    /// name (`stepping_away`), and a go-around or the queue passes over them
    /// meanwhile, their place kept. Posting a message also ends it.
    StepAway {
        on: bool,
    },
    /// A supportive reaction to the message at `seq`.
    React {
        seq: Seq,
        emoji: Reaction,
    },
    /// Report the message at `seq` to the facilitators.
    Report {
        seq: Seq,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Tell the facilitators one is worried about a member (`user`), quoting their
    /// message at `seq` if given: an `alert` of kind `concern` for the facilitators,
    /// `concern_noted` for the sender. The member it is about is never told who.
    Concern {
        user: UserId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
    },
    /// A private message. A participant's whisper goes to every facilitator (`to` is
    /// ignored); a facilitator may whisper to one member (`to`) or to the others.
    Whisper {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<UserId>,
        text: String,
    },
    /// A facilitator's note to everyone in the waiting room (e.g. "we start at
    /// 7:05"): each person waiting and every facilitator receive it as a `whisper`
    /// with `waiting: true`; nobody in the room sees it. A participant gets
    /// `forbidden`.
    WaitingNote {
        text: String,
    },
    /// The member has read a warning: a participant their crisis resources card
    /// (no `alert`) or a facilitator's `warning` to them (`alert` is its id), a
    /// facilitator the alert with id `alert`, which is then handled for every
    /// facilitator and no longer delivered to those who arrive.
    AckWarning {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alert: Option<u64>,
    },
    /// A facilitator's moderation command. Which fields an action needs is listed on
    /// [`ModAction`]; a participant gets `forbidden`.
    Mod {
        client_id: ClientId,
        action: ModAction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seconds: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// The id of a held message, for release/decline.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        held: Option<u64>,
        /// The new content policy, for set_policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy: Option<ContentPolicy>,
        /// On or off, for waiting_room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<bool>,
        /// The id of an open alert (a report, a crisis alert), for resolve.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        report: Option<u64>,
        /// The id of an open alert, for escalate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alert: Option<u64>,
        /// For deny: ban them too, as a member's ban holds (their user id, and the
        /// device and network their join came from).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ban: Option<bool>,
        /// The phase to move to, for phase (its place in the script, from 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<u32>,
        /// The new session script, for set_script.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        script: Option<Vec<Phase>>,
        /// The content warning to put on the message at `seq`, for cw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cw: Option<String>,
    },
    /// Leave the room for good (as opposed to a dropped connection, which the
    /// server holds open for a grace period so the member can resume).
    /// How the member arrives (`checkin`) or leaves (`checkout`): a mood from 1
    /// (struggling) to 5 (well) and a few optional words, for the facilitators alone.
    /// Given again, it replaces the earlier one. Answered only when refused.
    Checkin {
        mood: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        words: Option<String>,
    },
    Checkout {
        mood: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        words: Option<String>,
    },
    Leave,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The supportive reactions a member can give. A closed set on purpose: there is no
/// "angry" or "laughing" face in a support group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    /// ❤️ I care.
    Heart,
    /// 🤗 A hug.
    Hug,
    /// 💪 You are strong.
    Strength,
    /// 🙏 Thank you for sharing.
    Thanks,
    /// 🙋 Me too: I have been there.
    MeToo,
    /// 🕯️ Thinking of you.
    Candle,
}

/// Moderation actions. Fields of the `mod` frame each one uses:
/// `user` for mute/unmute/remove/ban/floor/lower_hand/warn/admit/deny/step_out, `seconds` for
/// mute (absent: until lifted), slow_mode (0 = off) and floor, `seq` for redact,
/// `text` for announce (and step_out's note), `held` for release/decline, `policy` for set_policy,
/// `on` for waiting_room, `report` for resolve, `alert` for escalate, `index` for phase (and post_reading:
/// absent, the current phase's), `user` for move_up, `script` for set_script, `seq`
/// and `cw` for cw, `reason` for any (required by warn).
/// Every action a facilitator takes is kept in the session's moderation log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModAction {
    Mute,
    Unmute,
    Pause,
    Resume,
    /// Open a session: participants may join until it is closed.
    Open,
    /// Warn a participant privately (`user`, `reason`): they cannot post until they
    /// acknowledge it.
    Warn,
    /// End the session: everyone leaves, and the room stays closed until opened again.
    Close,
    Remove,
    Ban,
    Redact,
    SlowMode,
    Lock,
    Unlock,
    Floor,
    ClearFloor,
    LowerHand,
    Announce,
    /// Share a held message with the room as its author wrote it.
    Release,
    /// Do not share a held message; its author is told.
    Decline,
    /// Change the room's content policy.
    SetPolicy,
    /// Turn the waiting room on or off (`on`). While on, a participant who arrives
    /// waits until a facilitator admits them; turning it off admits everyone waiting.
    WaitingRoom,
    /// Let one waiting participant (`user`) into the room.
    Admit,
    /// Let everyone waiting into the room, in the order they arrived.
    AdmitAll,
    /// Turn a waiting participant (`user`) away: they are told and disconnected.
    Deny,
    /// Mark an open alert (`report`: a report's or a crisis alert's id) handled, for
    /// every facilitator.
    Resolve,
    /// Move the group to the script's phase at `index`.
    Phase,
    /// Move the group to the script's next phase (the first, when none is current).
    NextPhase,
    /// In a round, the turn passes to the next member; in a queue phase, the first
    /// member waiting is given the floor.
    NextTurn,
    /// Move `user` up: next in a round, first in the queue.
    MoveUp,
    /// Post a phase's reading (`index`, or the current phase's) as the announcement.
    PostReading,
    /// Replace the session script (`script`); no phase is current after it.
    SetScript,
    /// Tighten the room at once (`on`): the waiting room on, slow mode at least the
    /// shield's, and a participant's first message of the session held for a
    /// facilitator. `on: false` puts back the waiting room and slow mode as they were.
    Shield,
    /// Ask a participant (`user`) to step out for a quiet word: they go back to the
    /// waiting room, their connections open, with the facilitator's optional note
    /// (`text`); the room sees `stepped_out`. `admit` lets them back in.
    StepOut,
    /// Call in the on-call supervisor about an open alert (`alert`): the room keeps
    /// the escalation (the alert, when, by whom) until the session ends, and the
    /// on-call board shows it with the alert's words.
    Escalate,
    /// Not sent: the moderation log's entry for an on-call supervisor who joined the
    /// room from the on-call board (`by` is them). Sent as a `mod`, it is refused
    /// (`bad_request`).
    OnCallJoined,
    /// Put a content warning (`cw`, a topic such as `welcome.cw_topics` offers, or any
    /// short label) on the member's message at `seq`, after it was shared: the room
    /// hears a `cw` event, and the message shows collapsed behind it from then on.
    Cw,
}

impl ModAction {
    /// The wire name, e.g. `"slow_mode"` (for logs).
    pub fn as_str(self) -> &'static str {
        match self {
            ModAction::Mute => "mute",
            ModAction::Unmute => "unmute",
            ModAction::Pause => "pause",
            ModAction::Resume => "resume",
            ModAction::Open => "open",
            ModAction::Warn => "warn",
            ModAction::Close => "close",
            ModAction::Remove => "remove",
            ModAction::Ban => "ban",
            ModAction::Redact => "redact",
            ModAction::SlowMode => "slow_mode",
            ModAction::Lock => "lock",
            ModAction::Unlock => "unlock",
            ModAction::Floor => "floor",
            ModAction::ClearFloor => "clear_floor",
            ModAction::LowerHand => "lower_hand",
            ModAction::Announce => "announce",
            ModAction::Release => "release",
            ModAction::Decline => "decline",
            ModAction::SetPolicy => "set_policy",
            ModAction::WaitingRoom => "waiting_room",
            ModAction::Admit => "admit",
            ModAction::AdmitAll => "admit_all",
            ModAction::Deny => "deny",
            ModAction::Resolve => "resolve",
            ModAction::Phase => "phase",
            ModAction::NextPhase => "next_phase",
            ModAction::NextTurn => "next_turn",
            ModAction::MoveUp => "move_up",
            ModAction::PostReading => "post_reading",
            ModAction::SetScript => "set_script",
            ModAction::Shield => "shield",
            ModAction::StepOut => "step_out",
            ModAction::Escalate => "escalate",
            ModAction::OnCallJoined => "on_call_joined",
            ModAction::Cw => "cw",
        }
    }
}
