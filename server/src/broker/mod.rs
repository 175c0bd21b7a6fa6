//! The broker: where rooms live and how their events reach every instance.
//!
//! A broker owns the authoritative state of each room. [`Broker::apply`] checks a
//! command against the room's rules, numbers the resulting events, appends them to
//! the room's history and publishes them, as one atomic step: once a facilitator's
//! mute, pause or close is acknowledged, no message it forbids is accepted
//! anywhere. Everything the command causes for anyone but its sender (events,
//! alerts, warnings, whispers, notices, departures) leaves through one step,
//! [`Timeline::record`](timeline::Timeline::record), on every instance that holds the
//! room, into the local [`Hub`](crate::hub::Hub), which fans it out. Only typing
//! (and a crisis alert the room could not take) passes beside the room, at most once.
//! The in-memory broker serves one instance; a Redis broker shares rooms across
//! several. One conformance suite (`tests/`) runs against both.

pub mod memory;
pub mod redis;
pub mod timeline;

use async_trait::async_trait;
use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{
    Epoch, MemberInfo, Millis, Quote, ResumeKind, Role, RoomId, RoomState, RoomSummary, Seq, UserId,
};

use crate::hub::{Effect, Peer};
use crate::room::{
    Applied, Command, EventKind, InviteRecord, Origin, Rejection, Room, RoomConfig, UpdateRoom,
};
use crate::wire::Encoded;

/// Why a broker call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BrokerError {
    #[error("{0}")]
    Rejected(#[from] Rejection),
    #[error("no such room")]
    NoRoom,
    #[error("the shared store is unavailable: {0}")]
    Unavailable(String),
}

/// What a member sees on arrival: the room, its members and state at `seq`, and the
/// timeline frames to replay.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub summary: RoomSummary,
    pub members: Vec<MemberInfo>,
    pub state: RoomState,
    pub policy: ContentPolicy,
    pub seq: Seq,
    pub epoch: Epoch,
    pub resume: ResumeKind,
    pub backlog: Vec<Encoded>,
    /// They are in the waiting room: the rest shows nothing of the room.
    pub waiting: bool,
}

/// Where a member wants to resume from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumeFrom {
    pub last_seq: Seq,
    pub epoch: Epoch,
}

/// How many messages before a reported one its alert quotes.
pub const REPORT_CONTEXT: usize = 3;

/// The seam between sessions and shared state.
#[async_trait]
pub trait Broker: Send + Sync + 'static {
    /// Create a room.
    async fn create_room(&self, id: RoomId, config: RoomConfig)
    -> Result<RoomSummary, BrokerError>;
    /// Change a room's settings; a policy change is announced as a timeline event.
    async fn update_room(
        &self,
        id: RoomId,
        update: UpdateRoom,
        now: Millis,
    ) -> Result<RoomSummary, BrokerError>;
    /// Close the room's session (members are told and disconnected) and forget it.
    async fn delete_room(&self, id: RoomId, now: Millis) -> Result<(), BrokerError>;
    /// One room's summary with its live member count.
    async fn room(&self, id: RoomId) -> Result<RoomSummary, BrokerError>;
    /// Every room.
    async fn rooms(&self) -> Result<Vec<RoomSummary>, BrokerError>;
    /// The room's content policy now (sessions screen messages with it before
    /// `apply`, outside the room's lock).
    async fn policy(&self, id: RoomId) -> Result<ContentPolicy, BrokerError>;
    /// Whether a new member with this role and name, joining from `origin`, could
    /// join now ([`Room::admits`]); the session number their token is bound to.
    async fn admits(
        &self,
        id: RoomId,
        role: Role,
        name: &str,
        origin: &Origin,
    ) -> Result<u32, BrokerError>;
    /// The room's facilitator invites, oldest first.
    async fn invites(&self, id: RoomId) -> Result<Vec<InviteRecord>, BrokerError>;
    /// Show the others in the room that `user` (`name`) is typing, if that is news
    /// now ([`Room::may_type`]: someone who may not post is not shown typing); true if
    /// it was relayed. The one ephemeral frame between members, and at most once by
    /// design: a hint the next one replaces, not part of the room's log (with Redis,
    /// one plain PUBLISH, which a dropped push loses and nobody misses).
    async fn typing(&self, room: RoomId, user: UserId, name: &str, now: Millis) -> bool;
    /// A crisis alert for words the room could not take at all (their author was no
    /// longer in it at that instant, or the store was out of reach), to the
    /// facilitators connected now. The room keeps nothing of it, so there is no entry
    /// to carry it: it goes at most once (with Redis, a plain PUBLISH, which fails
    /// with the store). Every alert the room keeps reaches them through the room's log
    /// instead ([`Timeline::record`](timeline::Timeline::record)).
    async fn unkept_alert(&self, room: RoomId, alert: Encoded) -> Result<(), BrokerError>;
    /// The message at `target` and up to three before it, as this instance's history
    /// holds them now (for a report): see [`Timeline::quotes`](timeline::Timeline::quotes).
    async fn quotes(&self, room: RoomId, target: Seq) -> Result<Vec<Quote>, BrokerError>;

    /// Check, number, store and publish: see the module docs.
    async fn apply(&self, room: RoomId, cmd: Command, now: Millis) -> Result<Applied, BrokerError>;
    /// Let a connection in (to the room, or to the waiting room) and say what it sees,
    /// in one step with the membership check ([`Timeline::arrival`](timeline::Timeline::arrival)).
    /// `resume` asks for the events after a seq; otherwise the most recent `recent`
    /// events are the backlog. A participant is given nothing from before they joined
    /// ([`Timeline::snapshot`](timeline::Timeline::snapshot)).
    async fn snapshot(
        &self,
        room: RoomId,
        peer: &Peer,
        resume: Option<ResumeFrom>,
        recent: usize,
    ) -> Result<Snapshot, BrokerError>;
    /// Whether the broker can serve requests (for `/readyz`).
    fn ready(&self) -> bool;
    /// Do not keep this room across a restart (the demo room: every start makes its
    /// own). Only the in-memory broker's catalog file honours it.
    fn transient(&self, _room: RoomId) {}
    /// Write whatever must outlive the process (the catalog file) now: called at a
    /// clean shutdown, after the sessions have closed.
    async fn flush(&self) {}
    /// Expire grace periods, mutes and floors in every room (called once a second).
    async fn tick(&self, now: Millis);
}

/// Whether applying this command may change what a room's catalog record holds
/// ([`Room::reopened`]: settings, bans, invites and their seats, the session number,
/// whether a session is open). A facilitator's every action counts (they are rare);
/// a message, a reaction or a presence change never does. A session that opens or
/// closes for another reason (a held room closing itself on a tick) is noticed by
/// the broker from the room's state.
pub fn touches_catalog(cmd: &Command) -> bool {
    match cmd {
        Command::Invite { .. }
        | Command::Redeem { .. }
        | Command::Revoke { .. }
        | Command::Dismiss { .. }
        | Command::Moderate { .. } => true,
        Command::Connect { .. }
        | Command::Disconnect { .. }
        | Command::Leave { .. }
        | Command::Send { .. }
        | Command::Hand { .. }
        | Command::React { .. }
        | Command::Report { .. }
        | Command::Whisper { .. }
        | Command::AckWarning { .. }
        | Command::Tick => false,
    }
}

/// The room summary the wire shows.
pub fn summary(room: &Room) -> RoomSummary {
    let c = &room.config;
    RoomSummary {
        id: room.id,
        title: c.title.clone(),
        topic: c.topic.clone(),
        description: c.description.clone(),
        guidelines: c.guidelines.clone(),
        capacity: c.capacity,
        visibility: c.visibility,
        members: u32::try_from(room.member_count()).unwrap_or(u32::MAX),
        open: room.is_open(),
        facilitated: c.facilitated,
        waiting_room: c.waiting_room,
        schedule: c.schedule.clone(),
        // It depends on the instant, so it is added where the summary leaves the
        // server ([`crate::schedule::dated`]); the broker keeps no clock.
        next_session: None,
    }
}

/// A fresh epoch: random, below 2^53 so JavaScript holds it exactly.
pub fn new_epoch() -> Epoch {
    rand::random::<u64>() >> 11
}

/// What delivering a timeline event does to connections beyond showing it. (Who
/// leaves is not said by an event but by the command's departures, which also name
/// those who were never members: someone turned away, a facilitator whose seat ended.)
pub fn effect_of(kind: &EventKind) -> Effect {
    match kind {
        EventKind::Closed { .. } => Effect::CloseRoom,
        // Someone admitted from the waiting room is given the room.
        EventKind::Joined { user, .. } => Effect::Admit(*user),
        _ => Effect::None,
    }
}
