//! What a command did: the events and everything else it causes for anyone
//! ([`Applied`]), whose stay it ended ([`Departure`]), or why the room refused it
//! ([`Rejection`]). Every replica computes the same `Applied` for the same entry, and
//! one delivery step (`broker::timeline`) turns it into frames for everyone but the
//! sender, on every instance that folds it.

use kindred_protocol::{
    ErrorCode, GuardCategory, LogEntry, MemberMood, Millis, MoodSpread, Seq, UserId, WaitingMember,
};

use super::member::{Held, Warning};
use crate::room::alerts::{Alert, Kept};
use crate::room::event::Event;
use crate::room::whispers::Whisper;

/// Why the room refused a command. Values, not errors: the caller maps them to
/// wire codes with [`Rejection::code`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("you are not a member of this room")]
    NotMember,
    #[error("your role does not allow that")]
    Forbidden,
    #[error("{0}")]
    BadRequest(&'static str),
    #[error("no such member or message")]
    NotFound,
    #[error("you are muted for now")]
    Muted { until: Option<Millis> },
    #[error("the room is paused: only facilitators can post for a moment")]
    Paused,
    #[error("this session has ended")]
    Closed,
    #[error("this group is not meeting right now; please come back when its next session opens")]
    NotOpen,
    #[error("slow mode is on: please wait a moment before posting again")]
    SlowMode { retry_after_ms: u64 },
    #[error("the room is full")]
    RoomFull,
    #[error("the room is locked")]
    Locked,
    #[error("you cannot rejoin this room")]
    Banned,
    #[error("someone else has the floor right now")]
    NotYourTurn,
    #[error("please read the facilitator's note to you first, then you can post again")]
    Warned,
    #[error(
        "a facilitator will be back shortly; you can post again then. \
         If you are in danger now, please contact a crisis line or your local emergency number"
    )]
    Held,
    #[error("too many messages are waiting for review; please try again later")]
    TooManyHeld,
    #[error(
        "no facilitator is here right now, so nobody received your message; \
         if you are in danger, please contact a crisis line or your local emergency number"
    )]
    NoFacilitator,
    #[error(
        "someone in this room already goes by a name that looks like that; please choose another"
    )]
    NameInUse,
    #[error(
        "this facilitator invite is no longer valid: it has been used, withdrawn or it expired; \
         please ask the organiser for a new one"
    )]
    InviteInvalid,
    #[error(
        "this facilitator link is already in use in another browser: it seats only the \
         facilitator who opened it there. If that is you, open the link in that browser, \
         or choose \"Use on another device\" in the room there; otherwise please ask the \
         organiser for a link of your own"
    )]
    InviteInUse,
    #[error(
        "this device link has been used or has expired; in the room, choose \
         \"Use on another device\" again for a new one"
    )]
    SeatCodeInvalid,
    #[error(
        "too many members of this group are joining from your network; \
         please try again later, or from another connection"
    )]
    TooManyFromAddress,
    #[error("you are in the waiting room: a facilitator will let you in shortly")]
    Waiting,
    #[error(
        "someone in the room already goes by a name that looks like theirs: turn them away \
         kindly, or let the other member know before admitting them under another name"
    )]
    NameClash,
    #[error("this room has been removed")]
    Gone,
    #[error("{0}")]
    BadScript(&'static str),
    #[error("the script has no phase at that place")]
    NoSuchPhase,
    #[error("there is no go-around or sharing queue right now")]
    NoTurns,
    #[error("there is no sharing queue right now: raise your hand instead")]
    NoQueue,
    #[error("nobody here is waiting to share")]
    QueueEmpty,
    /// The room's guardrail (`ask`) found what groups ask members not to share:
    /// nothing reached the room, and the author chooses. `facilitators`: the room is
    /// facilitated, so sending it to them alone is one of the choices.
    #[error(
        "thank you for sharing this. Your message has details that can be hard for others \
         here to read ({}), so it has not been sent yet. You can add a content warning, \
         send it to the facilitators only, edit it, or send it as it is",
        category.warning()
    )]
    Consider {
        category: GuardCategory,
        facilitators: bool,
    },
}

impl Rejection {
    pub fn code(&self) -> ErrorCode {
        match self {
            Rejection::NotMember => ErrorCode::Forbidden,
            Rejection::Forbidden => ErrorCode::Forbidden,
            Rejection::BadRequest(_) => ErrorCode::BadRequest,
            Rejection::NotFound => ErrorCode::NotFound,
            Rejection::Muted { .. } => ErrorCode::Muted,
            Rejection::Paused => ErrorCode::Paused,
            Rejection::Closed | Rejection::NotOpen => ErrorCode::Closed,
            Rejection::SlowMode { .. } => ErrorCode::SlowMode,
            Rejection::RoomFull => ErrorCode::RoomFull,
            Rejection::Locked => ErrorCode::Locked,
            Rejection::Banned => ErrorCode::Banned,
            Rejection::NotYourTurn => ErrorCode::NotYourTurn,
            Rejection::Held => ErrorCode::Held,
            Rejection::Warned => ErrorCode::Warned,
            Rejection::TooManyHeld => ErrorCode::Filtered,
            Rejection::NameInUse => ErrorCode::BadRequest,
            Rejection::NoFacilitator => ErrorCode::NotFound,
            Rejection::InviteInvalid => ErrorCode::Unauthorized,
            Rejection::InviteInUse => ErrorCode::InviteInUse,
            Rejection::SeatCodeInvalid => ErrorCode::Unauthorized,
            Rejection::TooManyFromAddress => ErrorCode::RateLimited,
            Rejection::Waiting => ErrorCode::Waiting,
            Rejection::NameClash => ErrorCode::BadRequest,
            Rejection::Gone => ErrorCode::NotFound,
            Rejection::BadScript(_) | Rejection::NoTurns | Rejection::NoQueue => {
                ErrorCode::BadRequest
            }
            Rejection::NoSuchPhase | Rejection::QueueEmpty => ErrorCode::NotFound,
            Rejection::Consider { .. } => ErrorCode::Consider,
        }
    }

    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Rejection::SlowMode { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }
}

/// Why someone's stay in the room ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parting {
    /// They chose to leave (from any of their tabs), in the room or in the waiting room.
    Left,
    /// Their grace period ran out with no connection counted.
    Disconnected,
    /// A facilitator removed them.
    Removed,
    /// The organiser removed them through the admin API, or revoked the invite that
    /// seated them as a facilitator.
    Dismissed,
    Banned,
    /// A facilitator turned them away from the waiting room.
    Denied,
}

/// Someone stopped being in the room (a member, someone waiting, or a facilitator
/// whose seat ended): every connection of theirs, on every instance, is to be
/// closed, whatever stage it is at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Departure {
    pub user: UserId,
    pub why: Parting,
}

/// What a command did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// New timeline events, in order, already numbered.
    pub events: Vec<Event>,
    /// The seq to name in the `ack` (the message's seq for a send).
    pub ack: Option<Seq>,
    /// The command repeated an earlier `send`: nothing new happened.
    pub duplicate: bool,
    /// The content policy flagged the message (delivered as written): these kinds.
    pub flagged: Vec<&'static str>,
    /// The message held for review by this send (or found still held for its resend:
    /// `duplicate`), or released or declined by this moderation (`settled` says which).
    pub held: Option<Held>,
    /// How a facilitator settled the held message: its author's tabs are given the
    /// answer to the `send` they were waiting on.
    pub settled: Option<Settled>,
    /// The room refused the command but still recorded what matters: a crisis message
    /// it would not take (muted, paused…) keeps its alert. Answer with this refusal.
    pub refused: Option<Rejection>,
    /// The alert this command raised (a crisis message, a report), kept open for the
    /// facilitators; for a resent crisis message whose card was never confirmed, its
    /// alert if no facilitator has handled it yet.
    pub alert: Option<Alert>,
    /// The author of this crisis message is to be shown the resources card: the first
    /// time, and again when they resend it before confirming they saw the card.
    pub card: bool,
    /// For a facilitator's arrival: what they need to know, given after `welcome`.
    pub briefing: Option<Box<Briefing>>,
    /// A warning this command gave: the member and the facilitators are told.
    pub warning: Option<Warning>,
    /// For a participant's arrival: the warning still waiting for them to
    /// acknowledge, given to the arriving connection after `welcome`.
    pub pending_warning: Option<Warning>,
    /// A warning this command acknowledged: the facilitators are told.
    pub acknowledged: Option<Warning>,
    /// This arrival is in the waiting room: the member is given no room yet.
    pub waiting: bool,
    /// Someone new knocked: the facilitators are alerted.
    pub knock: Option<WaitingMember>,
    /// The waiting room changed: the facilitators are given the whole list.
    pub waiting_list: Option<Vec<WaitingMember>>,
    /// Everyone whose stay this command ended, in order: their connections are closed
    /// (after a denied member is told why).
    pub departures: Vec<Departure>,
    /// New entries of the moderation log: the facilitators are given them.
    pub logged: Vec<LogEntry>,
    /// The whisper this command kept, to deliver to its audience: the member it was
    /// written to (or its author) and the facilitators, or its author alone when
    /// `kept` (no facilitator could read it now).
    pub whisper: Option<Whisper>,
    /// For a note to everyone waiting: who was waiting when it was written (each is
    /// given it, with the facilitators).
    pub waiting_audience: Vec<UserId>,
    /// For an arrival: the session's whispers this member may read again (their own,
    /// or all of them for a facilitator), oldest first.
    pub whispers: Vec<Whisper>,
    /// For a crisis alert raised by this command: a facilitator connected now
    /// received it.
    pub told: bool,
    /// A member was muted (by this command), or arrives while muted: they are told
    /// why and until when, privately.
    pub mute_notice: Option<MuteNotice>,
    /// A participant checked in or out: the facilitators are told, nobody else.
    pub mood: Option<MoodNotice>,
    /// The session closed: its debrief, for each facilitator connected, given before
    /// the `closed` event that ends their connections.
    pub debrief: Option<Box<kindred_protocol::Debrief>>,
}

/// A check-in or check-out, for the facilitators: the member's whole entry and the
/// room's spread as it stands after it.
#[derive(Clone, Debug, PartialEq)]
pub struct MoodNotice {
    pub member: MemberMood,
    pub spread: MoodSpread,
}

/// What a facilitator decided about a held message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Shared with the room: the message is the event at `seq`.
    Released { seq: Seq },
    /// Not shared: its author is told so (`filtered`).
    Declined,
}

/// Why and until when a member is muted, for them alone.
#[derive(Clone, Debug, PartialEq)]
pub struct MuteNotice {
    pub user: UserId,
    pub until: Option<Millis>,
    pub reason: Option<String>,
}

impl Applied {
    pub(super) fn none() -> Self {
        Self::default()
    }

    /// Record that `user`'s stay ended (once per command).
    pub(super) fn depart(&mut self, user: UserId, why: Parting) {
        if !self.departures.iter().any(|d| d.user == user) {
            self.departures.push(Departure { user, why });
        }
    }

    /// The alerts and held messages open for a facilitator who arrived.
    pub fn kept(&self) -> &[Kept] {
        self.briefing.as_ref().map_or(&[], |b| &b.kept)
    }
}

/// What a facilitator who arrives is given after `welcome`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Briefing {
    /// Everything open (alerts, held messages), by id.
    pub kept: Vec<Kept>,
    /// Warnings given this session that their members have not acknowledged yet.
    pub warnings: Vec<Warning>,
    /// Who is in the waiting room.
    pub waiting: Vec<WaitingMember>,
    /// The session's moderation log.
    pub log: Vec<LogEntry>,
    /// Every participant's share of the conversation (share the air).
    pub air: Vec<kindred_protocol::AirShare>,
}
