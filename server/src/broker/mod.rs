//! The broker: where rooms live and how their events reach every instance.
//!
//! An engine owns the authoritative state of each room and gives two narrow things:
//! the room's log ([`RoomLog`]: append a command, read the room and its timeline,
//! relay a frame beside the log) and the catalog ([`Catalog`]: create, list, and
//! what must outlive the process). The in-memory engine serves one instance
//! (`memory`); the Redis engine shares rooms across several (`redis`). Everything
//! else (a room's summary, its policy, who it admits, its invites, a report's quotes,
//! a connection's arrival, typing, the directory, the clock's round, readiness) is
//! asked on those once, for both engines, in the layer above ([`Rooms`]), which is
//! what the HTTP API, the sessions and the app's maintenance loop call.
//!
//! [`RoomLog::append`] checks a command against the room's rules, numbers the
//! resulting events, appends them to the room's history and publishes them, as one
//! atomic step: once a facilitator's mute, pause or close is acknowledged, no message
//! it forbids is accepted anywhere. Everything the command causes for anyone but its
//! sender (events, alerts, warnings, whispers, notices, departures) leaves through one
//! step, [`Timeline::record`](timeline::Timeline::record), on every instance that
//! holds the room, into the local [`Hub`](crate::broker::hub::Hub), which fans it out.
//! Only typing (and a crisis alert the room could not take) passes beside the room,
//! at most once ([`RoomLog::relay`]). Every change to a room after its creation is a
//! [`Command`] appended to its log, the operator's too ([`Command::Configure`],
//! [`Command::Delete`]), and whether the room's catalog record must be stored is
//! decided around that one fold, the same way by both engines ([`catalog_change`]).
//! One conformance suite (`tests/`) runs against both.
//!
//! Beside rooms, an engine keeps the on-call links' records ([`OnCallLinks`]): what
//! every instance checks an on-call token against, so a revoked link stops working
//! on all of them.

pub mod hub;
pub mod memory;
pub mod redis;
pub mod rooms;
pub mod timeline;

pub use rooms::Rooms;

use async_trait::async_trait;
use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{
    Epoch, MemberInfo, Millis, OnCallId, ResumeKind, RoomId, RoomState, RoomSummary, Seq,
};
use serde::{Deserialize, Serialize};

use self::hub::{Audience, Effect};
use self::timeline::Timeline;
use crate::room::{Applied, Command, EventKind, Rejection, Room};
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
    /// The command was appended (it is in the room) but the store did not confirm it
    /// as durable as configured (`--redis-durability`) in time.
    #[error("the shared store did not confirm the write: {0}")]
    Unconfirmed(String),
    /// The room's log moved to a new epoch since the sender's connection was welcomed
    /// (Redis lost entries, or held one no instance could read): its seqs name other
    /// events now. A command from that connection is not appended, and an answer
    /// folded under the new epoch is not given as the old one's; the connection
    /// resumes (and is given a `reset`) instead.
    #[error("the room's history was reset since this connection's welcome")]
    Moved,
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
    /// Waiting because a facilitator asked them out for a quiet word, with their note.
    pub stepped_out: Option<kindred_protocol::SteppedOut>,
    /// The room's content-warning topics.
    pub cw_topics: Vec<String>,
    /// For a facilitator, the session's check-ins and check-outs.
    pub moods: Option<kindred_protocol::MoodBoard>,
}

impl Snapshot {
    /// The epoch whose seqs this welcome shows, if any: none for the waiting room's,
    /// which shows nothing of the room's history.
    pub fn seen_epoch(&self) -> Option<Epoch> {
        (!self.waiting).then_some(self.epoch)
    }
}

/// Where a member wants to resume from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumeFrom {
    pub last_seq: Seq,
    pub epoch: Epoch,
}

/// How many messages before a reported one its alert quotes.
pub const REPORT_CONTEXT: usize = 3;

/// How current a [`RoomLog::read`] must be. One instance's memory is always current;
/// a Redis replica can be a few entries behind its log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// As the room's log stands now: the replica catches up first (admission, the
    /// directory, the invite list).
    Current,
    /// As this instance serves the room to its members: the replica it folds,
    /// subscribed first if it was not (the policy a message is screened with, a
    /// report's quotes).
    Served,
    /// As this instance holds it now: neither caught up nor subscribed, and no room if
    /// it holds none (the clock's round over the rooms it serves).
    Held,
}

/// A room as an engine holds it, looked at under the room's lock: the room, its kept
/// timeline, and the epoch of its log.
#[derive(Clone, Copy)]
pub struct View<'r> {
    pub room: &'r Room,
    pub timeline: &'r Timeline,
    pub epoch: Epoch,
}

/// What a look at a room is given: a [`View`] under the room's lock.
pub type Look<'a> = dyn for<'r> FnMut(View<'r>) + Send + 'a;

/// Whether a frame relayed beside the log may go, asked of the room as this instance
/// holds it, under its lock.
pub type RelayIf<'a> = dyn Fn(&Room) -> bool + Sync + 'a;

/// A room's log, as an engine keeps it: append a command, look at the room and its
/// timeline, and relay the one kind of frame that passes beside the log. Everything
/// else asked of a room is asked on these, once for both engines ([`Rooms`]).
#[async_trait]
pub trait RoomLog: Send + Sync + 'static {
    /// Append a command to the room's log and answer once this instance has folded
    /// it: check, number, store and publish as one step (see the module docs). Every
    /// change to a room after its creation, the operator's included. `seen`: the
    /// epoch a member's connection was welcomed in, for a command it sends; when the
    /// log is in another, or the command is folded in another, the answer is
    /// [`BrokerError::Moved`] (an ack's seq, a `seq` the command names, mean nothing
    /// across epochs). `None` for the operator and the server's own commands.
    async fn append(
        &self,
        room: RoomId,
        cmd: Command,
        now: Millis,
        seen: Option<Epoch>,
    ) -> Result<Applied, BrokerError>;
    /// Look at a room and its kept timeline under the room's lock, as current as
    /// `reading` asks ([`Reading::Served`] subscribes this instance to the room).
    async fn read(
        &self,
        room: RoomId,
        reading: Reading,
        look: &mut Look<'_>,
    ) -> Result<(), BrokerError>;
    /// Hand `frame` to `audience` on every instance that serves the room, beside its
    /// log: at most once, nothing reads it again (with Redis, one plain PUBLISH, which
    /// fails with the store). With `only_if`, it goes only if the room as this
    /// instance holds it agrees at that moment (in memory, under the same lock that
    /// delivers the room's events); true if it went.
    async fn relay(
        &self,
        room: RoomId,
        audience: Audience,
        frame: &Encoded,
        only_if: Option<&RelayIf<'_>>,
    ) -> Result<bool, BrokerError>;
}

/// Where rooms are listed and stored, as an engine keeps them. Loading one is a
/// [`RoomLog::read`]: an engine loads a room it does not hold yet when it is first
/// looked at.
#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Store a new room: the beginning of its log, and its catalog record, before the
    /// operator is answered.
    async fn create(&self, room: Room, now: Millis) -> Result<(), BrokerError>;
    /// Every room the catalog holds (with Redis, read again from Redis first).
    async fn list(&self) -> Result<Vec<RoomId>, BrokerError>;
    /// Do not keep this room across a restart (the demo room: every start makes its
    /// own). Only the in-memory engine's catalog file honours it; Redis keeps its
    /// catalog in Redis, which outlives every instance anyway.
    fn transient(&self, _room: RoomId) {}
    /// Write whatever must outlive the process (the catalog file) now: called at a
    /// clean shutdown, after the sessions have closed. Redis's catalog is written as
    /// it changes.
    async fn flush(&self) {}
}

/// An on-call link as the engine keeps it: ids and times only (its token is signed,
/// never stored), so it holds nothing a member wrote and, like the catalog, is kept
/// as it is. Dropping it revokes the link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub id: OnCallId,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// The on-call links, shared by every instance: in this process's memory (never on
/// disk), or in Redis beside the catalog.
#[async_trait]
pub trait OnCallLinks: Send + Sync + 'static {
    /// Keep a newly minted link.
    async fn keep_link(&self, link: LinkRecord) -> Result<(), BrokerError>;
    /// Every link kept and unexpired at `now`, oldest first (expired ones let go).
    async fn links(&self, now: Millis) -> Result<Vec<LinkRecord>, BrokerError>;
    /// Whether the link is kept (not revoked); read afresh from the store.
    async fn link_kept(&self, id: OnCallId) -> Result<bool, BrokerError>;
    /// Revoke a link: false if no such link was kept.
    async fn drop_link(&self, id: OnCallId) -> Result<bool, BrokerError>;
}

/// One engine: a room's log and the catalog, plus the little of an instance's life
/// that only the engine can know. The in-memory engine has none of it; Redis has a
/// heartbeat, subscriptions to let go, a store that can be out of reach and come
/// back empty, and a lease per room on who keeps its clock: that stays inside the
/// engine, because no other engine has it and the layer above has nothing to say
/// about it.
#[async_trait]
pub trait Engine: RoomLog + Catalog + OnCallLinks {
    /// Whether the engine can serve requests now (for `/readyz`).
    fn ready(&self) -> bool;
    /// Whether every catalog record this instance changed is stored (for `/readyz`).
    fn catalog_stored(&self) -> bool {
        true
    }
    /// This process's name among the instances that share rooms (Redis: the id its
    /// log lines use for another instance), for the start-up text.
    fn instance(&self) -> Option<u64> {
        None
    }
    /// Once a second: the engine's own upkeep first, then what the clock's round
    /// above the engine ([`Rooms::tick`]) works on, or nothing if it cannot work now
    /// (the store is out of reach).
    async fn upkeep(&self, now: Millis) -> Option<Round>;
}

/// What an engine's round gives the clock's round above it.
#[derive(Debug, Default)]
pub struct Round {
    /// The clock that says whether a room's timers are due: this process's in memory,
    /// Redis's own on Redis (the clock every entry of its logs carries).
    pub now: Millis,
    /// The rooms whose clock this instance keeps: every room in memory; on Redis, the
    /// rooms whose ticker lease it holds, served here or not.
    pub tick: Vec<RoomId>,
}

/// Make a change to a room and say whether its catalog record
/// ([`Room::catalog_record`]: what a store that loses the room gives back) changed with
/// it. The one test both brokers use to decide when the record is stored, for every
/// command and tick alike: the in-memory broker then rewrites its catalog file, the
/// Redis broker its record in Redis.
pub fn catalog_change<T>(room: &mut Room, change: impl FnOnce(&mut Room) -> T) -> (T, bool) {
    let before = room.catalog_record();
    let done = change(room);
    let changed = room.catalog_record() != before;
    (done, changed)
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
        // Someone asked out for a quiet word is given the waiting room instead.
        EventKind::SteppedOut { user } => Effect::StepOut(*user),
        _ => Effect::None,
    }
}

#[cfg(test)]
mod tests {
    use kindred_protocol::{InviteId, ModAction, Role, RoomId, UserId, Visibility};

    use super::catalog_change;
    use crate::room::{
        Command, InviteRecord, Limits, ModRequest, Origin, Room, RoomConfig, UpdateRoom,
    };

    /// Apply `cmd`; whether the room's catalog record changed with it.
    fn recorded(room: &mut Room, cmd: Command, now: u64) -> bool {
        let (applied, changed) = catalog_change(room, |r| r.apply(cmd, now));
        applied.expect("the command is applied");
        changed
    }

    /// Whatever changes the record changes it, a facilitator's action, the operator's
    /// or time passing, and nothing else does: the test both brokers store it by.
    #[test]
    fn the_record_changes_with_the_session_the_waiting_room_and_a_held_close_never_with_talk() {
        let config = RoomConfig {
            title: "Thursday circle".into(),
            topic: String::new(),
            description: String::new(),
            guidelines: "Be kind.".into(),
            capacity: 12,
            visibility: Visibility::Public,
            policy: Default::default(),
            facilitated: true,
            schedule: None,
            waiting_room: false,
            cw_topics: crate::room::default_cw_topics(),
        };
        let limits = Limits {
            held_close_ms: 1_000,
            ..Limits::default()
        };
        let mut room = Room::new(RoomId::new(), config, limits);
        let mut now = 1_700_000_000_000;
        let (fran, alice, id) = (UserId::new(), UserId::new(), InviteId::new());
        let record = InviteRecord {
            id,
            role: Role::Facilitator,
            created_at: now,
            expires_at: now + 3_600_000,
            uses: 1,
            used: 0,
            seats: Default::default(),
            order: 0,
            holders: Default::default(),
        };
        let connect = |user, role| Command::Connect {
            first_time: false,
            user,
            name: if role == Role::Facilitator {
                "Fran"
            } else {
                "Alice"
            }
            .into(),
            role,
            session: 0,
            origin: Origin::default(),
        };
        let act = |action, on| Command::Moderate {
            actor: fran,
            request: ModRequest {
                on,
                ..ModRequest::new(action)
            },
        };
        let invite = Command::Invite { invite: record };
        assert!(recorded(&mut room, invite, now), "an invite is kept");
        let redeem = Command::Redeem {
            invite: id,
            user: fran,
            seat: None,
        };
        assert!(recorded(&mut room, redeem, now), "a seat is kept");
        assert!(!recorded(&mut room, connect(fran, Role::Facilitator), now));
        assert!(recorded(&mut room, act(ModAction::Open, None), now));
        assert!(recorded(
            &mut room,
            act(ModAction::WaitingRoom, Some(true)),
            now
        ));
        let off = Command::Configure(Box::new(UpdateRoom {
            waiting_room: Some(false),
            ..UpdateRoom::default()
        }));
        assert!(recorded(&mut room, off, now));
        assert!(!recorded(&mut room, connect(alice, Role::Participant), now));
        let hello = Command::Send {
            user: alice,
            client_id: "c1".into(),
            text: "hello".into(),
            cw: None,
            crisis: None,
            guard: Default::default(),
            screened: None,
        };
        assert!(
            !recorded(&mut room, hello, now),
            "talk is never in the record"
        );
        assert!(!recorded(&mut room, act(ModAction::Pause, None), now));
        assert!(!recorded(&mut room, Command::Leave { user: fran }, now));
        assert!(room.is_held());
        now += 1_000;
        assert!(
            recorded(&mut room, Command::Tick, now),
            "a held session closing itself starts the next session"
        );
        assert_eq!((room.session(), room.is_open()), (1, false));
        assert!(
            recorded(&mut room, Command::Delete, now),
            "a deleted room has none"
        );
    }
}
