//! The broker: where rooms live and how their events reach every instance.
//!
//! A broker owns the authoritative state of each room. [`Broker::apply`] checks a
//! command against the room's rules, numbers the resulting events, appends them to
//! the room's history and publishes them, as one atomic step: once a facilitator's
//! mute, pause or close is acknowledged, no message it forbids is accepted
//! anywhere. Everything the command causes for anyone but its sender (events,
//! alerts, warnings, whispers, notices, departures) leaves through one step,
//! [`Timeline::record`](timeline::Timeline::record), on every instance that holds the
//! room, into the local [`Hub`](crate::broker::hub::Hub), which fans it out. Only typing
//! (and a crisis alert the room could not take) passes beside the room, at most once.
//! Every change to a room after its creation is a [`Command`] given to
//! [`Broker::apply`], the operator's too ([`Command::Configure`], [`Command::Delete`]),
//! and whether the room's catalog record must be stored is decided around that one
//! fold, the same way by both brokers ([`catalog_change`]).
//! The in-memory broker serves one instance; a Redis broker shares rooms across
//! several. One conformance suite (`tests/`) runs against both.

pub mod hub;
pub mod memory;
pub mod redis;
pub mod timeline;

use async_trait::async_trait;
use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{
    Epoch, MemberInfo, Millis, Quote, ResumeKind, Role, RoomId, RoomState, RoomSummary, Seq, UserId,
};

use self::hub::{Effect, Peer};
use self::timeline::Timeline;
use crate::room::{Applied, Command, EventKind, InviteRecord, Origin, Rejection, Room, RoomConfig};
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

/// How current a [`Broker::read`] must be. One instance's memory is always current;
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
}

/// The seam between sessions and shared state.
#[async_trait]
pub trait Broker: Send + Sync + 'static {
    /// Create a room. Every later change to it, the operator's included (a `PATCH`
    /// is [`Command::Configure`], a deletion [`Command::Delete`]), is a command given
    /// to [`Broker::apply`].
    async fn create_room(
        &self,
        id: RoomId,
        config: RoomConfig,
        now: Millis,
    ) -> Result<RoomSummary, BrokerError>;
    /// Every room.
    async fn rooms(&self) -> Result<Vec<RoomSummary>, BrokerError>;
    /// Look at a room and its kept timeline as they stand, under the room's lock:
    /// the one read each engine writes, on which every question about a room below
    /// is asked once for both ([`Broker::room`], [`Broker::policy`],
    /// [`Broker::admits`], [`Broker::invites`], [`Broker::quotes`]).
    async fn read(
        &self,
        room: RoomId,
        reading: Reading,
        look: &mut (dyn for<'r> FnMut(&'r Room, &'r Timeline) + Send),
    ) -> Result<(), BrokerError>;
    /// One room's summary with its live member count.
    async fn room(&self, id: RoomId) -> Result<RoomSummary, BrokerError> {
        let mut out = None;
        self.read(id, Reading::Current, &mut |room, _| {
            out = Some(summary(room))
        })
        .await?;
        out.ok_or(BrokerError::NoRoom)
    }
    /// The room's content policy now (sessions screen messages with it before
    /// `apply`, outside the room's lock).
    async fn policy(&self, id: RoomId) -> Result<ContentPolicy, BrokerError> {
        let mut out = None;
        self.read(id, Reading::Served, &mut |room, _| {
            out = Some(room.config.policy);
        })
        .await?;
        out.ok_or(BrokerError::NoRoom)
    }
    /// Whether a new member with this role and name, joining from `origin`, could
    /// join now ([`Room::admits`]); the session number their token is bound to.
    async fn admits(
        &self,
        id: RoomId,
        role: Role,
        name: &str,
        origin: &Origin,
    ) -> Result<u32, BrokerError> {
        let mut out = None;
        self.read(id, Reading::Current, &mut |room, _| {
            out = Some(room.admits(role, name, origin).map(|()| room.session()));
        })
        .await?;
        Ok(out.ok_or(BrokerError::NoRoom)??)
    }
    /// The room's facilitator invites, oldest first.
    async fn invites(&self, id: RoomId) -> Result<Vec<InviteRecord>, BrokerError> {
        let mut out = None;
        self.read(id, Reading::Current, &mut |room, _| {
            out = Some(room.invites())
        })
        .await?;
        out.ok_or(BrokerError::NoRoom)
    }
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
    /// holds them now (for a report): see [`Timeline::quotes`].
    async fn quotes(&self, room: RoomId, target: Seq) -> Result<Vec<Quote>, BrokerError> {
        let mut out = None;
        self.read(room, Reading::Served, &mut |_, timeline| {
            out = Some(timeline.quotes(target, REPORT_CONTEXT));
        })
        .await?;
        Ok(out.ok_or(BrokerError::NoRoom)??)
    }

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
    /// This process's name among the instances that share rooms (the Redis broker:
    /// the id its log lines use for another instance), for the start-up text.
    fn instance(&self) -> Option<u64> {
        None
    }
    /// Do not keep this room across a restart (the demo room: every start makes its
    /// own). Only the in-memory broker's catalog file honours it.
    fn transient(&self, _room: RoomId) {}
    /// Write whatever must outlive the process (the catalog file) now: called at a
    /// clean shutdown, after the sessions have closed.
    async fn flush(&self) {}
    /// Expire grace periods, mutes and floors in every room (called once a second).
    async fn tick(&self, now: Millis);
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
        };
        let connect = |user, role| Command::Connect {
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
        };
        assert!(recorded(&mut room, redeem, now), "a seat is kept");
        assert!(!recorded(&mut room, connect(fran, Role::Facilitator), now));
        assert!(recorded(&mut room, act(ModAction::Open, None), now));
        assert!(recorded(
            &mut room,
            act(ModAction::WaitingRoom, Some(true)),
            now
        ));
        let off = Command::Configure(UpdateRoom {
            waiting_room: Some(false),
            ..UpdateRoom::default()
        });
        assert!(recorded(&mut room, off, now));
        assert!(!recorded(&mut room, connect(alice, Role::Participant), now));
        let hello = Command::Send {
            user: alice,
            client_id: "c1".into(),
            text: "hello".into(),
            cw: None,
            crisis: None,
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
