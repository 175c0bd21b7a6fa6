//! The layer above the engines: everything the HTTP API, the sessions and the app's
//! maintenance loop ask of rooms, written once for both engines over their narrow
//! surface ([`RoomLog`](super::RoomLog) and [`Catalog`](super::Catalog)). The admin
//! calls (create a room, list the rooms, a room's summary, its policy, who it admits,
//! its invites, a report's quotes) and a connection's arrival are looks at the room
//! through [`RoomLog::read`](super::RoomLog::read); typing and an alert the room could
//! not keep are relays beside the log; the clock's round asks the engine which rooms
//! it keeps time for and appends a `Tick` to those due.

use std::sync::Arc;

use dashmap::DashMap;
use std::time::Instant;

use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{
    Epoch, InviteId, Millis, OnCallId, Quote, Role, RoomId, RoomSummary, Seq, UserId,
};

use super::hub::{Audience, Peer};
use super::{
    BrokerError, Engine, LinkRecord, REPORT_CONTEXT, Reading, ResumeFrom, Snapshot, View, summary,
};
use crate::metrics::Metrics;
use crate::room::{
    Applied, BoundSeat, Command, InviteRecord, Limits, Mark, Origin, Room, RoomConfig,
};
use crate::wire::{self, Encoded};

/// The rooms, as the rest of the server asks for them: one engine behind.
#[derive(Clone)]
pub struct Rooms {
    engine: Arc<dyn Engine>,
    metrics: Arc<Metrics>,
    /// Unhandled crisis alerts in each room whose clock this instance keeps, as the
    /// clock's round last read them (`kindred_crisis_alerts_unhandled` is their sum).
    unhandled: Arc<DashMap<RoomId, usize>>,
    /// What a room created here keeps as its own limits (`Room::new`): this
    /// instance's flags.
    limits: Limits,
}

impl Rooms {
    pub fn new(engine: Arc<dyn Engine>, metrics: Arc<Metrics>, limits: Limits) -> Self {
        Self {
            engine,
            metrics,
            unhandled: Arc::default(),
            limits,
        }
    }

    /// Look at a room with `ask` and give back its answer; no room if the engine
    /// holds none by that id.
    pub async fn ask<T: Send>(
        &self,
        room: RoomId,
        reading: Reading,
        ask: impl FnOnce(View<'_>) -> T + Send,
    ) -> Result<T, BrokerError> {
        let mut ask = Some(ask);
        let mut out = None;
        self.engine
            .read(room, reading, &mut |view| {
                out = ask.take().map(|ask| ask(view));
            })
            .await?;
        out.ok_or(BrokerError::NoRoom)
    }

    /// Create a room, with this instance's limits. Every later change to it, the
    /// operator's included (a `PATCH` is [`Command::Configure`], a deletion
    /// [`Command::Delete`]), is a command given to [`Rooms::apply`].
    pub async fn create_room(
        &self,
        id: RoomId,
        config: RoomConfig,
        now: Millis,
    ) -> Result<RoomSummary, BrokerError> {
        let room = Room::new(id, config, self.limits);
        let summary = summary(&room);
        self.engine.create(room, now).await?;
        Ok(summary)
    }

    /// Every room, each as it stands now; one that went meanwhile is left out.
    pub async fn rooms(&self) -> Result<Vec<RoomSummary>, BrokerError> {
        let ids = self.engine.list().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Ok(s) = self.room(id).await {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Every room's id the catalog holds (with Redis, read again from Redis).
    pub async fn ids(&self) -> Result<Vec<RoomId>, BrokerError> {
        self.engine.list().await
    }

    /// Keep a newly minted on-call link, for every instance.
    pub async fn keep_link(&self, link: LinkRecord) -> Result<(), BrokerError> {
        self.engine.keep_link(link).await
    }

    /// The on-call links unexpired at `now`, oldest first.
    pub async fn links(&self, now: Millis) -> Result<Vec<LinkRecord>, BrokerError> {
        self.engine.links(now).await
    }

    /// Whether an on-call link is kept (not revoked), as the store says now.
    pub async fn link_kept(&self, id: OnCallId) -> Result<bool, BrokerError> {
        self.engine.link_kept(id).await
    }

    /// Revoke an on-call link; false if none was kept.
    pub async fn drop_link(&self, id: OnCallId) -> Result<bool, BrokerError> {
        self.engine.drop_link(id).await
    }

    /// One room's summary with its live member count.
    pub async fn room(&self, id: RoomId) -> Result<RoomSummary, BrokerError> {
        self.ask(id, Reading::Current, |v| summary(v.room)).await
    }

    /// The room's content policy now (sessions screen messages with it before
    /// `apply`, outside the room's lock).
    pub async fn policy(&self, id: RoomId) -> Result<ContentPolicy, BrokerError> {
        self.ask(id, Reading::Served, |v| v.room.config.policy)
            .await
    }

    /// Every participant's share of the conversation, as this instance serves the
    /// room (a facilitator's share the air).
    pub async fn share_the_air(
        &self,
        id: RoomId,
    ) -> Result<Vec<kindred_protocol::AirShare>, BrokerError> {
        self.ask(id, Reading::Served, |v| v.room.share_the_air())
            .await
    }

    /// The room's settings now (what the operator's view of it shows).
    pub async fn settings(&self, id: RoomId) -> Result<RoomConfig, BrokerError> {
        self.ask(id, Reading::Served, |v| v.room.config.clone())
            .await
    }

    /// Whether a new member with this role and name, joining from `origin`, could
    /// join now ([`Room::admits`]); the session number their token is bound to.
    pub async fn admits(
        &self,
        id: RoomId,
        role: Role,
        name: &str,
        origin: &Origin,
    ) -> Result<u32, BrokerError> {
        let admitted = self
            .ask(id, Reading::Current, |v| {
                v.room.admits(role, name, origin).map(|()| v.room.session())
            })
            .await?;
        Ok(admitted?)
    }

    /// The room's facilitator invites, oldest first.
    pub async fn invites(&self, id: RoomId) -> Result<Vec<InviteRecord>, BrokerError> {
        self.ask(id, Reading::Current, |v| v.room.invites()).await
    }

    /// Whether a join could spend a use of the invite `invite` now (the room's log
    /// decides when it is spent: this is the answer a join gives before anything
    /// else about the person, such as their name, is looked at).
    pub async fn invite_usable(
        &self,
        id: RoomId,
        invite: InviteId,
        keyed: bool,
        now: Millis,
    ) -> Result<(), BrokerError> {
        let usable = self
            .ask(id, Reading::Current, |v| {
                v.room.invite_usable(invite, keyed, now)
            })
            .await?;
        Ok(usable?)
    }

    /// The facilitator's seat the browser whose seat key's mark is `key` is bound
    /// to, with the session number a token for it is bound to.
    pub async fn bound_seat(
        &self,
        id: RoomId,
        key: &Mark,
    ) -> Result<Option<(BoundSeat, u32)>, BrokerError> {
        self.ask(id, Reading::Current, |v| {
            v.room.bound_seat(key).map(|seat| (seat, v.room.session()))
        })
        .await
    }

    /// The message at `target` and up to three before it, as this instance's history
    /// holds them now (for a report): see [`Timeline::quotes`](super::timeline::Timeline::quotes).
    pub async fn quotes(&self, room: RoomId, target: Seq) -> Result<Vec<Quote>, BrokerError> {
        let quotes = self
            .ask(room, Reading::Served, |v| {
                v.timeline.quotes(target, REPORT_CONTEXT)
            })
            .await?;
        Ok(quotes?)
    }

    /// Append the operator's or the server's own command to the room's log (see
    /// [`RoomLog::append`](super::RoomLog::append)).
    pub async fn apply(
        &self,
        room: RoomId,
        cmd: Command,
        now: Millis,
    ) -> Result<Applied, BrokerError> {
        self.apply_seen(room, None, cmd, now).await
    }

    /// Append a member's command, sent on a connection welcomed in `epoch`: refused
    /// with [`BrokerError::Moved`] if the room's log is in another epoch by then, or
    /// folds it in another (the connection resumes, given a `reset`, instead of being
    /// told a seq that names another event there). `None` for a connection in the
    /// waiting room, which was shown no seq of the room's.
    pub async fn apply_seen(
        &self,
        room: RoomId,
        epoch: Option<Epoch>,
        cmd: Command,
        now: Millis,
    ) -> Result<Applied, BrokerError> {
        let started = Instant::now();
        let applied = self.engine.append(room, cmd, now, epoch).await;
        self.metrics
            .broker_publish_seconds
            .observe(started.elapsed().as_secs_f64());
        applied
    }

    /// Let a connection in (to the room, or to the waiting room) and say what it sees,
    /// in one step with the membership check, under the room's lock
    /// ([`Timeline::arrival`](super::timeline::Timeline::arrival)); the room is served
    /// by this instance from then on. `resume` asks for the events after a seq;
    /// otherwise the most recent `recent` events are the backlog. A participant is
    /// given nothing from before they joined
    /// ([`Timeline::snapshot`](super::timeline::Timeline::snapshot)).
    pub async fn snapshot(
        &self,
        room: RoomId,
        peer: &Peer,
        resume: Option<ResumeFrom>,
        recent: usize,
    ) -> Result<Snapshot, BrokerError> {
        let arrived = self
            .ask(room, Reading::Served, |v| {
                v.timeline.arrival(v.room, peer, v.epoch, resume, recent)
            })
            .await?;
        Ok(arrived?)
    }

    /// Show the others in the room that `user` (`name`) is typing, if that is news
    /// now ([`Room::may_type`]: someone who may not post is not shown typing); true if
    /// it was relayed. The one ephemeral frame between members, and at most once by
    /// design: a hint the next one replaces, not part of the room's log (with Redis,
    /// one plain PUBLISH, which a dropped push loses and nobody misses). Asked of the
    /// room as this instance holds it: a fold behind is close enough for a hint.
    pub async fn typing(&self, room: RoomId, user: UserId, name: &str, now: Millis) -> bool {
        let frame = wire::encode(&wire::typing(user, name));
        let may = |room: &Room| room.may_type(user, now);
        matches!(
            self.engine
                .relay(room, Audience::Others(user), &frame, Some(&may))
                .await,
            Ok(true)
        )
    }

    /// A crisis alert for words the room could not take at all (their author was no
    /// longer in it at that instant, or the store was out of reach), to the
    /// facilitators connected now. The room keeps nothing of it, so there is no entry
    /// to carry it: it goes at most once. Every alert the room keeps reaches them
    /// through the room's log instead
    /// ([`Timeline::record`](super::timeline::Timeline::record)).
    pub async fn unkept_alert(&self, room: RoomId, alert: Encoded) -> Result<(), BrokerError> {
        self.engine
            .relay(room, Audience::Facilitators, &alert, None)
            .await
            .map(|_| ())
    }

    /// Once a second: the engine's own upkeep, then grace periods, mutes, floors and
    /// held sessions that ran out, in every room whose clock this instance keeps. Each
    /// due `Tick` is appended on a task of its own, so a store that is slow to answer
    /// never holds up the next round (with Redis, the heartbeat is in it).
    pub async fn tick(&self, now: Millis) {
        let Some(round) = self.engine.upkeep(now).await else {
            return;
        };
        // Each room's clock is kept by one instance: the room and its unhandled alerts
        // are counted there, so the instances' gauges sum to the deployment's.
        Metrics::set_gauge(&self.metrics.rooms, round.tick.len());
        let kept: std::collections::HashSet<RoomId> = round.tick.iter().copied().collect();
        self.unhandled.retain(|id, _| kept.contains(id));
        self.count_unhandled();
        // Each on its own task: a room read fresh from the store (one this instance
        // keeps the clock of but does not serve) holds up no other.
        for id in round.tick {
            let engine = self.engine.clone();
            let now = round.now;
            let rooms = self.clone();
            tokio::spawn(async move {
                let mut due = false;
                let mut crises = 0;
                let looked = engine
                    .read(id, Reading::Current, &mut |v| {
                        due = v.room.tick_due(now);
                        crises = v.room.unhandled_crises();
                    })
                    .await;
                // Summed again only when the room's count moved: a sum over every
                // room for each room of the round would cost the round its square.
                if looked.is_ok() && rooms.unhandled.insert(id, crises) != Some(crises) {
                    rooms.count_unhandled();
                }
                if looked.is_ok() && due {
                    let _ = engine.append(id, Command::Tick, now, None).await;
                }
            });
        }
    }

    fn count_unhandled(&self) {
        let sum = self.unhandled.iter().map(|e| *e.value()).sum();
        Metrics::set_gauge(&self.metrics.crisis_alerts_unhandled, sum);
    }

    /// Whether the engine can serve requests (for `/readyz`).
    pub fn ready(&self) -> bool {
        self.engine.ready()
    }

    /// Whether every catalog record this instance changed is stored (for `/readyz`).
    pub fn catalog_stored(&self) -> bool {
        self.engine.catalog_stored()
    }

    /// This process's name among the instances that share rooms, if it shares them.
    pub fn instance(&self) -> Option<u64> {
        self.engine.instance()
    }

    /// Do not keep this room across a restart (see [`Catalog::transient`](super::Catalog::transient)).
    pub fn transient(&self, room: RoomId) {
        self.engine.transient(room);
    }

    /// Write whatever must outlive the process now (see [`Catalog::flush`](super::Catalog::flush)).
    pub async fn flush(&self) {
        self.engine.flush().await;
    }
}
