//! The room state machine.

mod attendance;
mod moderate;
mod waiting;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kindred_protocol::http::UpdateRoom;
use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{
    ClientId, CrisisCategory, ErrorCode, InviteId, LeftReason, LogEntry, MemberInfo, Millis,
    ModAction, Quote, Reaction, Role, RoomId, RoomState, Schedule, Seq, UserId, Visibility,
    WaitingMember,
};

use serde::{Deserialize, Serialize};

use super::alerts::{About, Alert, Kept, OpenAlerts};
use super::authz::{Action, authorize};
use super::bans::{Bans, Origin};
use super::event::{Event, EventKind};
use super::invites::{InviteRecord, Invites};
use super::log::ModLog;
use super::sent::{MAX_REMEMBERED_SENDS, SendMemory, Sent};
use super::whispers::{Whisper, Whispers};
use crate::safety::{Evaluate, NameLook, Verdict};

/// The most messages a room holds for review at once; more are refused (`filtered`).
pub const MAX_HELD: usize = 100;
/// The most reactions, and the most reports, a room remembers to recognise a repeat;
/// past it the ones about the oldest messages are forgotten first.
pub const MAX_REMEMBERED_MARKS: usize = 16_384;

/// What an operator sets for a room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomConfig {
    pub title: String,
    pub topic: String,
    pub description: String,
    pub guidelines: String,
    pub capacity: u32,
    pub visibility: Visibility,
    pub policy: ContentPolicy,
    /// A facilitator keeps the room: while none is present in an open session, the
    /// room is held. `false` for a drop-in room nobody watches.
    #[serde(default = "in_session")]
    pub facilitated: bool,
    /// When the group meets each week (checked by the admin API before it gets
    /// here). It only tells people when to come: it never opens the room.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// Participants wait until a facilitator admits them.
    #[serde(default)]
    pub waiting_room: bool,
}

/// Rules that come from configuration rather than from the room's own state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a member whose connection dropped stays present (ms).
    pub presence_grace_ms: u64,
    /// How many recent `send` client ids per user are remembered for de-duplication
    /// (room-wide at most [`MAX_REMEMBERED_SENDS`]).
    pub dedupe_window: usize,
    /// The longest mute, slow mode or floor a facilitator may set (seconds).
    pub max_moderation_seconds: u32,
    /// The floor's length when the facilitator gives none (seconds).
    pub default_floor_seconds: u32,
    /// How many participants may hold a seat in one room from one network address
    /// (counted only for addresses that name a person's network, see [`Origin`]).
    pub members_per_address: usize,
    /// How long a session may stay held (no facilitator present) before it closes
    /// itself (ms).
    pub held_close_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            presence_grace_ms: 30_000,
            dedupe_window: 64,
            max_moderation_seconds: 24 * 3600,
            default_floor_seconds: 180,
            members_per_address: 4,
            held_close_ms: 15 * 60_000,
        }
    }
}

/// A member's standing with the facilitators. Removal and bans take a member out of
/// the room altogether (see [`Room::bans`]), so they are not states of a present member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModStatus {
    Active,
    /// Muted until the instant, or until lifted when `None`.
    Muted {
        until: Option<Millis>,
    },
}

/// Whether a member has a live connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Presence {
    Online {
        connections: u32,
    },
    /// Every connection dropped at `since`; they leave when the grace period ends.
    Away {
        since: Millis,
    },
}

impl Presence {
    /// One more connection.
    fn arrived(self) -> Self {
        match self {
            Presence::Online { connections } => Presence::Online {
                connections: connections + 1,
            },
            Presence::Away { .. } => Presence::Online { connections: 1 },
        }
    }

    /// One connection fewer: away from `now` when it was the last.
    fn dropped(self, now: Millis) -> Self {
        match self {
            Presence::Online { connections } if connections > 1 => Presence::Online {
                connections: connections - 1,
            },
            Presence::Online { .. } | Presence::Away { .. } => Presence::Away { since: now },
        }
    }
}

/// A member of the room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    pub status: ModStatus,
    pub presence: Presence,
    pub hand_raised: bool,
    /// When they last posted, for slow mode.
    pub last_post: Option<Millis>,
    /// Order of arrival, so member lists are stable.
    pub joined_seq: Seq,
    /// What the name looks like, so no newcomer takes a name mistaken for this one.
    #[serde(default)]
    pub look: NameLook,
    /// Where they joined from (marks, never the device id or address itself).
    #[serde(default)]
    pub origin: Origin,
    /// Why a facilitator muted them, told to them alone.
    #[serde(default)]
    pub mute_reason: Option<String>,
}

/// A command to the room. Each names its actor; the actor's role is the one the
/// room recorded when they connected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// A connection with a valid token arrives (first connection or another one).
    Connect {
        user: UserId,
        name: String,
        role: Role,
        session: u32,
        /// Where the join that minted the token came from.
        #[serde(default)]
        origin: Origin,
    },
    /// A connection dropped without `leave`.
    Disconnect {
        user: UserId,
    },
    /// The member leaves for good.
    Leave {
        user: UserId,
    },
    Send {
        user: UserId,
        client_id: ClientId,
        text: String,
        cw: Option<String>,
        /// The detector recognised the text (this kind of language, this urgent): no
        /// policy may alter or hold it, and the facilitators are alerted even if the
        /// room refuses the message.
        crisis: Option<Concern>,
        /// The content policy's verdict, reached outside the room's lock (rustrict
        /// is slow) under the policy named here. Used when that is still the room's
        /// policy; otherwise the room decides again.
        screened: Option<Screened>,
    },
    Hand {
        user: UserId,
        raised: bool,
    },
    React {
        user: UserId,
        target: Seq,
        emoji: Reaction,
    },
    /// A member reports the message at `target` to the facilitators. `context` is
    /// that message and up to three before it, read from the room's history by the
    /// caller (the room keeps no text), so every replica keeps the same quotes.
    Report {
        user: UserId,
        target: Seq,
        reason: Option<String>,
        #[serde(default)]
        context: Vec<Quote>,
    },
    /// A member whispers (a facilitator to `to` or to the other facilitators, a
    /// participant to the facilitators): kept for the session and delivered by the
    /// caller ([`Applied::whisper`]).
    Whisper {
        user: UserId,
        to: Option<UserId>,
        #[serde(default)]
        text: String,
        /// The detector recognised a participant's whisper: the facilitators are given
        /// an alert, kept like any other (and for a crisis, its author the card).
        #[serde(default)]
        crisis: Option<Concern>,
    },
    /// A member has read a warning: a participant their resources card (`alert`
    /// absent), a facilitator the open alert `alert`, which is then handled.
    AckWarning {
        user: UserId,
        alert: Option<u64>,
    },
    Moderate {
        actor: UserId,
        request: ModRequest,
    },
    /// Time passed: expire grace periods, mutes and the floor.
    Tick,
    /// The operator minted a facilitator invite: keep its record.
    Invite {
        invite: InviteRecord,
    },
    /// A join spends one use of an invite; `user` will hold the seat it gives.
    Redeem {
        invite: InviteId,
        user: UserId,
    },
    /// The operator took an invite back: it stops working and its seats end.
    Revoke {
        invite: InviteId,
    },
    /// The operator removes a member, a facilitator included; a facilitator's seat
    /// ends, so their token no longer connects.
    Dismiss {
        user: UserId,
    },
}

/// What the detector found in a message (`safety::Detector`): what kind of crisis,
/// whether it is one (the card and a crisis alert) or a reason to check in (an alert
/// ranked below, no card), and, when the classifier rather than a phrase rule found
/// it, how sure it was (a percentage).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredConcern")]
pub struct Concern {
    pub category: CrisisCategory,
    pub check_in: bool,
    pub likelihood: Option<u8>,
}

impl Concern {
    /// A crisis a phrase rule found.
    pub fn rule(category: CrisisCategory) -> Self {
        Self {
            category,
            check_in: false,
            likelihood: None,
        }
    }
}

impl From<crate::safety::Detection> for Concern {
    fn from(d: crate::safety::Detection) -> Self {
        Concern {
            category: d.category,
            check_in: d.tier == crate::safety::Tier::CheckIn,
            likelihood: match d.basis {
                crate::safety::Basis::Rule => None,
                crate::safety::Basis::Model { likelihood } => Some(likelihood),
            },
        }
    }
}

/// A concern as stored: entries logged before the tiers name only the category.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredConcern {
    Category(CrisisCategory),
    Concern {
        category: CrisisCategory,
        #[serde(default)]
        check_in: bool,
        #[serde(default)]
        likelihood: Option<u8>,
    },
}

impl From<StoredConcern> for Concern {
    fn from(stored: StoredConcern) -> Self {
        match stored {
            StoredConcern::Category(category) => Concern::rule(category),
            StoredConcern::Concern {
                category,
                check_in,
                likelihood,
            } => Concern {
                category,
                check_in,
                likelihood,
            },
        }
    }
}

/// A facilitator's moderation command; which fields each action uses is listed on
/// [`ModAction`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModRequest {
    pub action: ModAction,
    pub user: Option<UserId>,
    pub seq: Option<Seq>,
    pub seconds: Option<u32>,
    pub reason: Option<String>,
    pub text: Option<String>,
    pub held: Option<u64>,
    pub policy: Option<ContentPolicy>,
    pub on: Option<bool>,
    pub report: Option<u64>,
    /// For `deny`: ban them too (by their user id and the marks their join carried).
    #[serde(default)]
    pub ban: bool,
}

impl ModRequest {
    /// A request with only the action set.
    pub fn new(action: ModAction) -> Self {
        Self {
            action,
            user: None,
            seq: None,
            seconds: None,
            reason: None,
            text: None,
            held: None,
            policy: None,
            on: None,
            report: None,
            ban: false,
        }
    }
}

/// A facilitator's private warning to a participant, waiting for them to acknowledge
/// it; until they do, they cannot post.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub id: u64,
    pub ts: Millis,
    pub user: UserId,
    pub name: String,
    pub reason: Option<String>,
}

/// A content-policy verdict and the policy it was reached under.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Screened {
    pub policy: ContentPolicy,
    pub verdict: Verdict,
}

/// A message the content policy holds for a facilitator's review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub id: u64,
    /// When it was held (the send's instant).
    #[serde(default)]
    pub ts: Millis,
    pub user: UserId,
    pub name: String,
    pub client_id: ClientId,
    pub text: String,
    pub cw: Option<String>,
    /// The kinds of content the policy found.
    #[serde(with = "crate::safety::kind_names")]
    pub kinds: Vec<&'static str>,
}

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
            Rejection::TooManyFromAddress => ErrorCode::RateLimited,
            Rejection::Waiting => ErrorCode::Waiting,
            Rejection::NameClash => ErrorCode::BadRequest,
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
    /// A facilitator or the operator removed them, or their facilitator seat ended.
    Removed,
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
    /// The message held for review by this send, or released or declined by this
    /// moderation.
    pub held: Option<Held>,
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
    /// A warning this command gave, or (for a participant's arrival) the one still
    /// waiting for them to acknowledge: the member and the facilitators are told.
    pub warning: Option<Warning>,
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
    /// The whisper this command kept, to deliver to its audience (`kept`: no
    /// facilitator could read it now).
    pub whisper: Option<Whisper>,
    /// For an arrival: the session's whispers this member may read again (their own,
    /// or all of them for a facilitator), oldest first.
    pub whispers: Vec<Whisper>,
    /// For a crisis alert raised by this command: a facilitator connected now
    /// received it.
    pub told: bool,
    /// A member was muted (by this command), or arrives while muted: they are told
    /// why and until when, privately.
    pub mute_notice: Option<MuteNotice>,
}

/// Why and until when a member is muted, for them alone.
#[derive(Clone, Debug, PartialEq)]
pub struct MuteNotice {
    pub user: UserId,
    pub until: Option<Millis>,
    pub reason: Option<String>,
}

impl Applied {
    fn none() -> Self {
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
}

/// One room's live state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub config: RoomConfig,
    /// Configuration, not state: a replica restored from a snapshot takes its own.
    #[serde(skip)]
    limits: Limits,
    /// The last seq handed out.
    seq: Seq,
    /// Which session of the room this is; a close starts the next one, and tokens
    /// minted for an earlier session are refused.
    session: u32,
    /// A session is on: participants may join. Between sessions (a new room, or after
    /// a close) only facilitators may enter. Rooms stored before sessions were opened
    /// and closed were always in session.
    #[serde(default = "in_session")]
    open: bool,
    /// Since when no facilitator has been present in this open, facilitated session.
    #[serde(default)]
    unattended_since: Option<Millis>,
    /// Since when the room has been held: participants cannot post until a facilitator
    /// is back.
    #[serde(default)]
    held_since: Option<Millis>,
    members: HashMap<UserId, Member>,
    bans: Bans,
    /// Facilitator invites and the seats they gave.
    #[serde(default)]
    invites: Invites,
    paused: bool,
    locked: bool,
    slow_mode_seconds: u32,
    floor: Option<(UserId, Millis)>,
    announcement: Option<String>,
    held: BTreeMap<u64, Held>,
    /// The next id of a held message or an alert (one count for both).
    #[serde(alias = "next_held")]
    next_id: u64,
    /// Crisis alerts and reports no facilitator has handled yet.
    #[serde(default)]
    alerts: OpenAlerts,
    /// Recent sends by user id, for idempotent `send`; outlives membership.
    #[serde(default)]
    sent: SendMemory,
    /// Reactions given, to recognise a repeat: (target, user, emoji).
    #[serde(default)]
    reactions: BTreeSet<(Seq, UserId, Reaction)>,
    /// Reports made, to recognise a repeat: (target, reporter).
    #[serde(default)]
    reports: BTreeSet<(Seq, UserId)>,
    /// Warnings not yet acknowledged, by the member warned.
    #[serde(default)]
    warnings: BTreeMap<UserId, Warning>,
    /// Participants in the waiting room.
    #[serde(default)]
    waiting: BTreeMap<UserId, waiting::Waiter>,
    /// The session's private messages.
    #[serde(default)]
    whispers: Whispers,
    /// What the facilitators did this session.
    #[serde(default)]
    log: ModLog,
}

impl Room {
    pub fn new(id: RoomId, config: RoomConfig, limits: Limits) -> Self {
        Self {
            id,
            config,
            limits,
            seq: 0,
            session: 0,
            open: false,
            unattended_since: None,
            held_since: None,
            members: HashMap::new(),
            bans: Bans::default(),
            invites: Invites::default(),
            paused: false,
            locked: false,
            slow_mode_seconds: 0,
            floor: None,
            announcement: None,
            held: BTreeMap::new(),
            next_id: 1,
            alerts: OpenAlerts::default(),
            sent: SendMemory::default(),
            reactions: BTreeSet::new(),
            reports: BTreeSet::new(),
            warnings: BTreeMap::new(),
            waiting: BTreeMap::new(),
            whispers: Whispers::default(),
            log: ModLog::default(),
        }
    }

    /// The last seq handed out.
    pub fn head(&self) -> Seq {
        self.seq
    }

    /// The current session number (see [`Command::Connect`]).
    pub fn session(&self) -> u32 {
        self.session
    }

    /// Whether a session is on.
    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn member(&self, user: UserId) -> Option<&Member> {
        self.members.get(&user)
    }

    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// Whether a new member could join now (used by the HTTP join before a token is
    /// minted, and again when they connect): a session is on, they come from no banned
    /// member's device or (this session) address, the room is not locked, has a seat,
    /// and their network does not already hold its share of the seats; then nobody in
    /// it goes by a name that looks like theirs.
    ///
    /// The order leaks nothing: every refusal that does not depend on who is inside
    /// comes first, so a name that looks like a present member's is refused only to
    /// someone who would otherwise be let in. In a room with a waiting room, where
    /// the answer would tell an outsider who is inside, the name is not compared at
    /// all: the facilitator who admits them is told of a clash instead
    /// ([`Rejection::NameClash`]).
    pub fn admits(&self, role: Role, name: &str, origin: &Origin) -> Result<(), Rejection> {
        if role == Role::Participant {
            if !self.open {
                return Err(Rejection::NotOpen);
            }
            if self.bans.origin(origin) {
                return Err(Rejection::Banned);
            }
            if self.locked {
                return Err(Rejection::Locked);
            }
            // Someone waiting holds a seat: admitting them never overfills the room.
            if self.members.len() + self.waiting.len() >= self.config.capacity as usize {
                return Err(Rejection::RoomFull);
            }
            if let Some(address) = &origin.address {
                let here = self
                    .members
                    .values()
                    .filter(|m| m.role == Role::Participant)
                    .map(|m| &m.origin);
                let same = here
                    .chain(self.waiting.values().map(|w| &w.origin))
                    .filter(|o| o.address.as_ref() == Some(address))
                    .count();
                if same >= self.limits.members_per_address {
                    return Err(Rejection::TooManyFromAddress);
                }
            }
            if self.config.waiting_room {
                return Ok(());
            }
        }
        if self.name_clashes(name) {
            return Err(Rejection::NameInUse);
        }
        Ok(())
    }

    /// Whether someone present or waiting goes by a name that looks like `name`.
    fn name_clashes(&self, name: &str) -> bool {
        let look = NameLook::of(name);
        self.members
            .values()
            .map(|m| &m.look)
            .chain(self.waiting.values().map(|w| &w.look))
            .any(|l| l.clashes(&look))
    }

    /// The room's facilitator invites, oldest first.
    pub fn invites(&self) -> Vec<InviteRecord> {
        self.invites.list()
    }

    /// Members in order of arrival, as the wire shows them.
    pub fn member_infos(&self) -> Vec<MemberInfo> {
        let mut members: Vec<&Member> = self.members.values().collect();
        members.sort_by_key(|m| m.joined_seq);
        members
            .into_iter()
            .map(|m| {
                let (muted, muted_until) = match m.status {
                    ModStatus::Active => (false, None),
                    ModStatus::Muted { until } => (true, until),
                };
                MemberInfo {
                    user: m.user,
                    name: m.name.clone(),
                    role: m.role,
                    hand_raised: m.hand_raised,
                    muted,
                    muted_until,
                }
            })
            .collect()
    }

    pub fn state(&self) -> RoomState {
        RoomState {
            open: self.open,
            held: self.held_since.is_some(),
            paused: self.paused,
            locked: self.locked,
            waiting_room: self.config.waiting_room,
            slow_mode_seconds: self.slow_mode_seconds,
            floor: self.floor.map(|f| f.0),
            floor_until: self.floor.map(|f| f.1),
            announcement: self.announcement.clone(),
        }
    }

    /// Whether a [`Command::Tick`] at `now` would change anything: a grace period, a
    /// mute or the floor has run out. Several instances serve one room; they issue a
    /// tick only when one is due, and the room's log orders them (the later ones find
    /// nothing left to expire).
    pub fn tick_due(&self, now: Millis) -> bool {
        let grace = self.limits.presence_grace_ms;
        self.watch_due(now)
            || self.waiters_due(now)
            || self.floor.is_some_and(|(_, until)| until <= now)
            || self.members.values().any(|m| {
                matches!(m.presence, Presence::Away { since } if now >= since + grace)
                    || matches!(m.status, ModStatus::Muted { until: Some(t) } if t <= now)
            })
    }

    /// The room as it stands between sessions, for a store that lost the room's state:
    /// its settings, bans, invites with their seats, and session number (so members'
    /// tokens stay valid) are kept; members, the timeline and everything else of the
    /// session are gone.
    pub fn reopened(&self) -> Room {
        let mut room = Room::new(self.id, self.config.clone(), self.limits);
        room.session = self.session;
        room.open = self.open;
        room.bans = self.bans.clone();
        room.invites = self.invites.clone();
        room
    }

    /// Use these limits (a room restored from a snapshot takes this instance's).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Whether the command's sender may give it at all: they are in the room (or, to
    /// arrive, drop or leave, waiting outside it) in a role that allows it. It reads
    /// nothing that changes from one moment to the next for the sender (mutes, pauses,
    /// the floor are the room's to decide in [`Room::apply`]), so a replica a few
    /// entries behind answers as the log would: both brokers ask it before a command
    /// reaches anything shared, and `apply` asks it first, so a refusal costs nothing.
    pub fn permit(&self, cmd: &Command) -> Result<(), Rejection> {
        // Someone in the waiting room can only wait, drop or leave.
        if let Some(user) = waiting_actor(cmd)
            && self.waiting.contains_key(&user)
        {
            return Err(Rejection::Waiting);
        }
        let (user, action) = match cmd {
            Command::Send { user, .. } => (*user, Action::Send),
            Command::Hand { user, .. } => (*user, Action::Hand),
            Command::React { user, .. } => (*user, Action::React),
            Command::Report { user, .. } => (*user, Action::Report),
            Command::Whisper { user, to, .. } => match (self.role_of(*user)?, to) {
                (Role::Facilitator, Some(_)) => (*user, Action::WhisperAnyone),
                _ => (*user, Action::WhisperFacilitators),
            },
            Command::Moderate { actor, request } => (*actor, Action::Moderate(request.action)),
            Command::AckWarning { user, .. } => {
                self.role_of(*user)?;
                return Ok(());
            }
            Command::Leave { user } => {
                if self.members.contains_key(user) || self.waiting.contains_key(user) {
                    return Ok(());
                }
                return Err(Rejection::NotMember);
            }
            Command::Connect { .. }
            | Command::Disconnect { .. }
            | Command::Tick
            | Command::Invite { .. }
            | Command::Redeem { .. }
            | Command::Revoke { .. }
            | Command::Dismiss { .. } => return Ok(()),
        };
        if authorize(self.role_of(user)?, action) {
            Ok(())
        } else {
            Err(Rejection::Forbidden)
        }
    }

    /// Apply one command at instant `now`.
    pub fn apply(&mut self, cmd: Command, now: Millis) -> Result<Applied, Rejection> {
        self.permit(&cmd)?;
        match cmd {
            Command::Connect {
                user,
                name,
                role,
                session,
                origin,
            } => self.connect(user, (name, role, origin), session, now),
            Command::Disconnect { user } => {
                if let Some(m) = self.members.get_mut(&user) {
                    m.presence = m.presence.dropped(now);
                    return Ok(Applied::none());
                }
                Ok(self.waiter_dropped(user, now))
            }
            Command::Leave { user } => {
                let mut out = Applied::none();
                if self.waiting.contains_key(&user) {
                    self.waiter_left(user, Parting::Left, &mut out);
                    return Ok(out);
                }
                self.remove_member(user, LeftReason::Left, now, &mut out);
                Ok(out)
            }
            Command::Send {
                user,
                client_id,
                text,
                cw,
                crisis,
                screened,
            } => self.send(user, client_id, text, cw, (crisis, screened), now),
            Command::Hand { user, raised } => {
                let m = self.members.get_mut(&user).ok_or(Rejection::NotMember)?;
                let mut out = Applied::none();
                if m.hand_raised != raised {
                    m.hand_raised = raised;
                    self.push(&mut out, now, EventKind::Hand { user, raised });
                }
                Ok(out)
            }
            Command::React {
                user,
                target,
                emoji,
            } => {
                if target == 0 || target > self.seq {
                    return Err(Rejection::NotFound);
                }
                // The same reaction again by the same member is not news.
                if !remember_mark(&mut self.reactions, (target, user, emoji)) {
                    return Ok(Applied {
                        duplicate: true,
                        ..Applied::none()
                    });
                }
                let mut out = Applied::none();
                self.push(
                    &mut out,
                    now,
                    EventKind::Reaction {
                        user,
                        target,
                        emoji,
                    },
                );
                Ok(out)
            }
            Command::Report {
                user,
                target,
                reason,
                context,
            } => self.report(user, target, reason, context, now),
            Command::Whisper {
                user,
                to,
                text,
                crisis,
            } => self.whisper(user, (to, text, crisis), now),
            Command::AckWarning { user, alert } => self.ack_warning(user, alert, now),
            Command::Moderate { actor, request } => {
                // Written before the action (a removed member's name goes with them),
                // kept only if it succeeds.
                let entry = self.log_entry(actor, &request, now);
                let mut out = self.moderate(request, now)?;
                self.log_action(entry, &mut out);
                Ok(out)
            }
            Command::Tick => Ok(self.tick(now)),
            Command::Invite { invite } => {
                self.invites.add(invite, now)?;
                Ok(Applied::none())
            }
            Command::Redeem { invite, user } => {
                self.invites.redeem(invite, user, now)?;
                Ok(Applied::none())
            }
            Command::Revoke { invite } => {
                let record = self.invites.revoke(invite).ok_or(Rejection::NotFound)?;
                let mut out = Applied::none();
                for user in record.seats {
                    // Gone from the room or not, a seat that ends closes their tabs.
                    self.remove_member(user, LeftReason::Removed, now, &mut out);
                    out.depart(user, Parting::Removed);
                }
                Ok(out)
            }
            Command::Dismiss { user } => {
                if !self.members.contains_key(&user) && !self.invites.seated(user) {
                    return Err(Rejection::NotFound);
                }
                self.invites.unseat(user);
                let mut out = Applied::none();
                self.remove_member(user, LeftReason::Removed, now, &mut out);
                out.depart(user, Parting::Removed);
                Ok(out)
            }
        }
    }

    fn role_of(&self, user: UserId) -> Result<Role, Rejection> {
        self.members
            .get(&user)
            .map(|m| m.role)
            .ok_or(Rejection::NotMember)
    }

    fn push(&mut self, out: &mut Applied, now: Millis, kind: EventKind) -> Seq {
        self.seq += 1;
        out.events.push(Event {
            seq: self.seq,
            ts: now,
            kind,
        });
        self.seq
    }

    fn connect(
        &mut self,
        user: UserId,
        (name, role, origin): (String, Role, Origin),
        session: u32,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        if session != self.session {
            return Err(Rejection::Closed);
        }
        if self.bans.user(user) {
            return Err(Rejection::Banned);
        }
        // A facilitator's token is good while the invite's seat it was minted with is.
        if role == Role::Facilitator && !self.invites.seated(user) {
            return Err(Rejection::InviteInvalid);
        }
        if let Some(m) = self.members.get_mut(&user) {
            m.presence = m.presence.arrived();
            let (role, status, reason) = (m.role, m.status, m.mute_reason.clone());
            let mute_notice = match status {
                ModStatus::Muted { until } if until.is_none_or(|t| t > now) => Some(MuteNotice {
                    user,
                    until,
                    reason,
                }),
                _ => None,
            };
            return Ok(Applied {
                briefing: self.brief(role),
                warning: self.warnings.get(&user).cloned(),
                whispers: self.whispers.for_member(user, role == Role::Facilitator),
                mute_notice,
                ..Applied::none()
            });
        }
        if role == Role::Participant && (self.config.waiting_room || self.is_waiting(user)) {
            if !self.is_waiting(user) {
                self.admits(role, &name, &origin)?;
            }
            return Ok(self.knock(user, (name, origin), now));
        }
        self.admits(role, &name, &origin)?;
        let mut out = Applied {
            briefing: self.brief(role),
            whispers: self.whispers.for_member(user, role == Role::Facilitator),
            ..Applied::none()
        };
        let online = Presence::Online { connections: 1 };
        self.seat(user, (name, role, origin), online, now, &mut out);
        Ok(out)
    }

    /// Make someone a member: the room sees them join.
    fn seat(
        &mut self,
        user: UserId,
        (name, role, origin): (String, Role, Origin),
        presence: Presence,
        now: Millis,
        out: &mut Applied,
    ) {
        let seq = self.push(
            out,
            now,
            EventKind::Joined {
                user,
                name: name.clone(),
                role,
            },
        );
        self.members.insert(
            user,
            Member {
                user,
                look: NameLook::of(&name),
                name,
                role,
                status: ModStatus::Active,
                presence,
                hand_raised: false,
                last_post: None,
                joined_seq: seq,
                origin,
                mute_reason: None,
            },
        );
        if role == Role::Facilitator {
            self.attend(now, out);
        }
    }

    /// What a facilitator who arrives is given (nothing for a participant).
    fn brief(&self, role: Role) -> Option<Box<Briefing>> {
        if role != Role::Facilitator {
            return None;
        }
        Some(Box::new(Briefing {
            kept: self.kept(),
            warnings: self.warnings.values().cloned().collect(),
            waiting: self.waiting_list(),
            log: self.log.entries(),
        }))
    }

    /// Everything open for the facilitators, oldest first.
    pub fn kept(&self) -> Vec<Kept> {
        let mut kept: Vec<Kept> = self
            .alerts
            .iter()
            .cloned()
            .map(Kept::Alert)
            .chain(self.held.values().cloned().map(Kept::Held))
            .collect();
        kept.sort_by_key(Kept::id);
        kept
    }

    /// The session's moderation log, oldest first.
    pub fn mod_log(&self) -> Vec<LogEntry> {
        self.log.entries()
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// What the detector found in a member's words: an alert for the facilitators
    /// (a crisis or a check-in, with the message's seq or, when nobody else saw it,
    /// its words), and for a crisis the card to its author.
    fn raise_concern(
        &mut self,
        user: UserId,
        name: String,
        concern: Concern,
        (seq, text): (Option<Seq>, Option<String>),
        now: Millis,
        out: &mut Applied,
    ) {
        let about = About::Crisis {
            category: concern.category,
            seq,
            text,
            check_in: concern.check_in,
            likelihood: concern.likelihood,
        };
        out.alert = Some(self.raise(user, name, about, now));
        out.card = !concern.check_in;
        out.told = self.facilitator_online();
    }

    /// Keep an alert open for the facilitators. A member's crisis words while their
    /// alert of that tier is still open update that alert rather than add one, so
    /// however many they send, nobody else's alert is pushed out and the facilitators
    /// see how often it recurred.
    fn raise(&mut self, user: UserId, name: String, about: About, now: Millis) -> Alert {
        if let About::Crisis { .. } = about
            && let Some(alert) = self.alerts.recur(user, name.clone(), about.clone(), now)
        {
            return alert;
        }
        let alert = Alert {
            id: self.next_id(),
            ts: now,
            user,
            name,
            about,
            count: 1,
            since: now,
        };
        self.alerts.keep(alert.clone());
        alert
    }

    fn remember_send(&mut self, user: UserId, client_id: ClientId, seq: Seq, card: bool) {
        let sent = Sent {
            client_id,
            seq,
            card,
        };
        let window = self.limits.dedupe_window;
        self.sent
            .remember(user, sent, window, MAX_REMEMBERED_SENDS, &self.members);
    }

    fn report(
        &mut self,
        user: UserId,
        target: Seq,
        reason: Option<String>,
        context: Vec<Quote>,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let m = self.members.get(&user).ok_or(Rejection::NotMember)?;
        if target == 0 || target > self.seq {
            return Err(Rejection::NotFound);
        }
        let name = m.name.clone();
        // One report per reporter and message: a second is not a second alert.
        if !remember_mark(&mut self.reports, (target, user)) {
            return Ok(Applied {
                duplicate: true,
                ..Applied::none()
            });
        }
        let about = About::Report {
            seq: target,
            reason,
            context,
        };
        Ok(Applied {
            alert: Some(self.raise(user, name, about, now)),
            ..Applied::none()
        })
    }

    fn whisper(
        &mut self,
        user: UserId,
        (to, text, crisis): (Option<UserId>, String, Option<Concern>),
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let role = self.role_of(user)?;
        let mut kept = false;
        match (role, to) {
            (Role::Facilitator, Some(to)) => {
                if !self.members.contains_key(&to) {
                    return Err(Rejection::NotFound);
                }
            }
            (Role::Facilitator, None) => {}
            (Role::Participant, _) => {
                // A whisper nobody receives must not look delivered. In a session a
                // facilitator keeps, it waits for the next one who arrives.
                if !self.facilitator_online() {
                    if !self.watched() {
                        return Err(Rejection::NoFacilitator);
                    }
                    kept = true;
                }
            }
        }
        let whisper = Whisper {
            id: self.next_id(),
            ts: now,
            from: user,
            name: self
                .members
                .get(&user)
                .map(|m| m.name.clone())
                .unwrap_or_default(),
            to: if role == Role::Participant { None } else { to },
            text,
            kept,
        };
        let mut out = Applied::none();
        if let (Some(concern), Role::Participant) = (crisis, role) {
            // Help cannot wait for anyone to read it: the card goes to its author now,
            // and the alert stays open until a facilitator handles it.
            let quote = (None, Some(whisper.text.clone()));
            self.raise_concern(user, whisper.name.clone(), concern, quote, now, &mut out);
        }
        self.whispers.keep(whisper.clone());
        out.whisper = Some(whisper);
        Ok(out)
    }

    /// Whether a facilitator has a connection open now.
    fn facilitator_online(&self) -> bool {
        self.members
            .values()
            .any(|m| m.role == Role::Facilitator && matches!(m.presence, Presence::Online { .. }))
    }

    fn ack_warning(
        &mut self,
        user: UserId,
        alert: Option<u64>,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let role = self.role_of(user)?;
        match alert {
            None => {
                self.sent.cards_seen(user);
                Ok(Applied::none())
            }
            Some(id) if role != Role::Facilitator => {
                // A participant acknowledges the warning given to them, and nothing
                // else: the facilitators' alerts are not theirs to handle.
                match self.warnings.get(&user) {
                    Some(w) if w.id == id => Ok(Applied {
                        acknowledged: self.warnings.remove(&user),
                        ..Applied::none()
                    }),
                    _ => Err(Rejection::Forbidden),
                }
            }
            Some(id) if self.held.contains_key(&id) => Err(Rejection::BadRequest(
                "a held message is released or declined, not acknowledged",
            )),
            Some(id) => {
                // Handling an alert is a resolve, logged for the other facilitators.
                let mut request = ModRequest::new(ModAction::Resolve);
                request.report = Some(id);
                let entry = self.log_entry(user, &request, now);
                let mut out = self.moderate(request, now)?;
                self.log_action(entry, &mut out);
                Ok(out)
            }
        }
    }

    fn send(
        &mut self,
        user: UserId,
        client_id: ClientId,
        text: String,
        cw: Option<String>,
        (crisis, screened): (Option<Concern>, Option<Screened>),
        now: Millis,
    ) -> Result<Applied, Rejection> {
        if !self.members.contains_key(&user) {
            return Err(Rejection::NotMember);
        }
        // A retry is answered as the original was. A crisis message whose author
        // never confirmed the card brings help again: it may never have gone out.
        if let Some(sent) = self.sent.find(user, &client_id) {
            let (seq, card) = (sent.seq, sent.card);
            let alert = card.then(|| self.alerts.crisis_of(user).cloned()).flatten();
            return Ok(Applied {
                ack: Some(seq),
                duplicate: true,
                card,
                alert,
                told: card && self.facilitator_online(),
                ..Applied::none()
            });
        }
        if let Some(held) = self
            .held
            .values()
            .find(|h| h.user == user && h.client_id == client_id)
        {
            return Ok(Applied {
                duplicate: true,
                held: Some(held.clone()),
                ..Applied::none()
            });
        }
        if let Err(refused) = self.may_post(user, now) {
            let Some(concern) = crisis else {
                return Err(refused);
            };
            // The room will not take it, but nobody may miss it: the facilitators'
            // alert carries the words, and stays open until one of them handles it.
            let name = self.members.get(&user).map(|m| m.name.clone());
            let mut out = Applied {
                refused: Some(refused),
                ..Applied::none()
            };
            let quote = (None, Some(text));
            self.raise_concern(
                user,
                name.unwrap_or_default(),
                concern,
                quote,
                now,
                &mut out,
            );
            return Ok(out);
        }
        let policy = self.config.policy;
        let held_count = self.held.len();
        let Some(m) = self.members.get_mut(&user) else {
            return Err(Rejection::NotMember);
        };
        // Facilitators' words are theirs to answer for; crisis language is never
        // altered or held (the policy returns Clean for it).
        let verdict = match m.role {
            Role::Facilitator => Verdict::Clean,
            Role::Participant => match screened {
                Some(s) if s.policy == policy => s.verdict,
                _ => policy.evaluate_with_crisis(&text, crisis.is_some()),
            },
        };
        let (text, flagged) = match verdict {
            Verdict::Clean => (text, Vec::new()),
            Verdict::Flag { kinds } => (text, kinds),
            Verdict::Censored { text } => (text, Vec::new()),
            Verdict::Hold { kinds } => {
                if held_count >= MAX_HELD {
                    return Err(Rejection::TooManyHeld);
                }
                m.last_post = Some(now);
                let name = m.name.clone();
                // Fields, not `next_id()`: `m` still borrows the members.
                let id = self.next_id;
                self.next_id += 1;
                let held = Held {
                    id,
                    ts: now,
                    user,
                    name,
                    client_id,
                    text,
                    cw,
                    kinds,
                };
                self.held.insert(held.id, held.clone());
                return Ok(Applied {
                    held: Some(held),
                    ..Applied::none()
                });
            }
        };
        m.last_post = Some(now);
        let name = m.name.clone();
        let mut out = Applied {
            flagged,
            ..Applied::none()
        };
        let seq = self.push(
            &mut out,
            now,
            EventKind::Message {
                user,
                name: name.clone(),
                text,
                cw,
            },
        );
        let card = crisis.is_some_and(|c| !c.check_in);
        self.remember_send(user, client_id, seq, card);
        out.ack = Some(seq);
        if let Some(concern) = crisis {
            self.raise_concern(user, name, concern, (Some(seq), None), now, &mut out);
        }
        Ok(out)
    }

    /// Whether the member may post now: mute, pause, floor and slow mode. An expired
    /// mute is lifted on the way.
    fn may_post(&mut self, user: UserId, now: Millis) -> Result<(), Rejection> {
        if let Some(m) = self.members.get_mut(&user)
            && matches!(m.status, ModStatus::Muted { until: Some(t) } if t <= now)
        {
            m.status = ModStatus::Active;
            m.mute_reason = None;
        }
        self.check_post(user, now)
    }

    /// Whether the member's typing is news for the room: they could post now, or as
    /// soon as slow mode lets them. Someone muted, paused, held, warned, off the floor
    /// or waiting outside is not shown typing.
    pub fn may_type(&self, user: UserId, now: Millis) -> bool {
        matches!(
            self.check_post(user, now),
            Ok(()) | Err(Rejection::SlowMode { .. })
        )
    }

    /// [`Room::may_post`] without changing anything (an expired mute counts as lifted).
    fn check_post(&self, user: UserId, now: Millis) -> Result<(), Rejection> {
        let (paused, held) = (self.paused, self.held_since.is_some());
        let warned = self.warnings.contains_key(&user);
        let floor = self.floor;
        let slow_ms = u64::from(self.slow_mode_seconds) * 1000;
        let m = self.members.get(&user).ok_or(Rejection::NotMember)?;
        match m.status {
            ModStatus::Active => {}
            ModStatus::Muted { until: Some(t) } if t <= now => {}
            ModStatus::Muted { until } => return Err(Rejection::Muted { until }),
        }
        match m.role {
            Role::Facilitator => Ok(()),
            Role::Participant => {
                if warned {
                    return Err(Rejection::Warned);
                }
                if held {
                    return Err(Rejection::Held);
                }
                if paused {
                    return Err(Rejection::Paused);
                }
                if let Some((holder, until)) = floor
                    && holder != user
                    && now < until
                {
                    return Err(Rejection::NotYourTurn);
                }
                if let Some(last) = m.last_post
                    && slow_ms > 0
                    && now < last + slow_ms
                {
                    return Err(Rejection::SlowMode {
                        retry_after_ms: last + slow_ms - now,
                    });
                }
                Ok(())
            }
        }
    }

    /// The operator changed the room's settings: the policy through [`Room::set_policy`],
    /// the session through [`Room::set_open`] and the waiting room through its own
    /// setter, so members hear of all three.
    pub fn configure(&mut self, update: UpdateRoom, now: Millis) -> Applied {
        let (policy, open, waiting_room) = (update.policy, update.open, update.waiting_room);
        apply_update(&mut self.config, update);
        let mut out = policy.map_or_else(Applied::none, |p| self.set_policy(p, now));
        if let Some(on) = waiting_room {
            self.set_waiting_room(on, now, &mut out);
        }
        if let Some(open) = open {
            let opened = self.set_open(open, now);
            out.ack = opened.ack.or(out.ack);
            out.events.extend(opened.events);
        }
        // A room made unfacilitated is no longer held; one made facilitated starts
        // counting.
        self.attend(now, &mut out);
        out
    }

    /// Open a session, or close the one that is on ([`Room::close_session`]).
    pub fn set_open(&mut self, open: bool, now: Millis) -> Applied {
        match (self.open, open) {
            (false, true) => {
                self.open = true;
                let mut out = Applied::none();
                out.ack = Some(self.push(&mut out, now, EventKind::Opened));
                self.attend(now, &mut out);
                out
            }
            (true, false) => self.close_session(None, now),
            _ => Applied::none(),
        }
    }

    /// Change the content policy (admin API or a facilitator).
    pub fn set_policy(&mut self, policy: ContentPolicy, now: Millis) -> Applied {
        let mut out = Applied::none();
        if policy != self.config.policy {
            self.config.policy = policy;
            self.push(&mut out, now, EventKind::Policy { policy });
        }
        out
    }

    /// The messages waiting for review, oldest first.
    pub fn held(&self) -> impl Iterator<Item = &Held> {
        self.held.values()
    }

    fn remove_member(&mut self, user: UserId, reason: LeftReason, now: Millis, out: &mut Applied) {
        let Some(gone) = self.members.remove(&user) else {
            return;
        };
        self.warnings.remove(&user);
        self.push(out, now, EventKind::Left { user, reason });
        let why = match reason {
            LeftReason::Left => Parting::Left,
            LeftReason::Disconnected => Parting::Disconnected,
            LeftReason::Removed => Parting::Removed,
            LeftReason::Banned => Parting::Banned,
        };
        out.depart(user, why);
        if gone.role == Role::Facilitator {
            // The last facilitator has gone (after the grace period, or for good):
            // the room is held at once.
            self.facilitator_left(now, out);
        }
        if self.floor.is_some_and(|(holder, _)| holder == user) {
            self.floor = None;
            self.push(
                out,
                now,
                EventKind::Floor {
                    user: None,
                    until: None,
                },
            );
        }
    }

    fn tick(&mut self, now: Millis) -> Applied {
        let mut out = Applied::none();
        let grace = self.limits.presence_grace_ms;
        let mut gone: Vec<(Seq, UserId)> = Vec::new();
        let mut unmuted: Vec<(Seq, UserId)> = Vec::new();
        for m in self.members.values_mut() {
            if let Presence::Away { since } = m.presence
                && now >= since + grace
            {
                gone.push((m.joined_seq, m.user));
            }
            if let ModStatus::Muted { until: Some(t) } = m.status
                && t <= now
            {
                m.status = ModStatus::Active;
                m.mute_reason = None;
                unmuted.push((m.joined_seq, m.user));
            }
        }
        // HashMap order is arbitrary; the timeline must not be.
        unmuted.sort_unstable();
        gone.sort_unstable();
        for (_, user) in unmuted {
            self.push(&mut out, now, EventKind::Unmuted { user });
        }
        for (_, user) in gone {
            self.remove_member(user, LeftReason::Disconnected, now, &mut out);
        }
        if self.floor.is_some_and(|(_, until)| until <= now) {
            self.floor = None;
            self.push(
                &mut out,
                now,
                EventKind::Floor {
                    user: None,
                    until: None,
                },
            );
        }
        self.expire_waiters(now, &mut out);
        self.watch(now, &mut out);
        out
    }
}

/// The member a command is from, for the commands someone in the waiting room may
/// not give (they may arrive, drop and leave).
fn waiting_actor(cmd: &Command) -> Option<UserId> {
    match cmd {
        Command::Send { user, .. }
        | Command::Hand { user, .. }
        | Command::React { user, .. }
        | Command::Report { user, .. }
        | Command::Whisper { user, .. }
        | Command::AckWarning { user, .. } => Some(*user),
        Command::Moderate { actor, .. } => Some(*actor),
        Command::Connect { .. }
        | Command::Disconnect { .. }
        | Command::Leave { .. }
        | Command::Tick
        | Command::Invite { .. }
        | Command::Redeem { .. }
        | Command::Revoke { .. }
        | Command::Dismiss { .. } => None,
    }
}

/// Apply a partial update to a room's settings, except the policy and the session
/// (which go through [`Room::configure`] so members hear of them).
fn apply_update(config: &mut RoomConfig, update: UpdateRoom) {
    let UpdateRoom {
        title,
        topic,
        description,
        guidelines,
        capacity,
        visibility,
        policy: _,
        open: _,
        waiting_room: _,
        facilitated,
        schedule,
    } = update;
    if let Some(v) = schedule {
        config.schedule = v;
    }
    if let Some(v) = facilitated {
        config.facilitated = v;
    }
    if let Some(v) = title {
        config.title = v;
    }
    if let Some(v) = topic {
        config.topic = v;
    }
    if let Some(v) = description {
        config.description = v;
    }
    if let Some(v) = guidelines {
        config.guidelines = v;
    }
    if let Some(v) = capacity {
        config.capacity = v;
    }
    if let Some(v) = visibility {
        config.visibility = v;
    }
}

fn in_session() -> bool {
    true
}

/// Remember a mark (a reaction, a report) in a bounded set; false if it was there.
/// Past [`MAX_REMEMBERED_MARKS`] the marks about the oldest messages go first.
fn remember_mark<T: Ord>(marks: &mut BTreeSet<T>, mark: T) -> bool {
    if !marks.insert(mark) {
        return false;
    }
    while marks.len() > MAX_REMEMBERED_MARKS {
        marks.pop_first();
    }
    true
}
