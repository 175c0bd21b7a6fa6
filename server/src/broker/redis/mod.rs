//! The Redis broker: several instances share rooms through one Redis or a Redis Cluster.
//!
//! Each room is a replicated log (see [`log`]): a command becomes an entry that one
//! script appends to the room's stream and publishes on the room's channel, in one
//! step; every instance serving the room folds the entries in order into its own
//! replica with the same domain code the in-memory broker runs, and the instance that
//! appended an entry answers its member once it has folded it. Redis orders and
//! carries; the rules stay in `room/`.
//!
//! Redis pub/sub is at-most-once, so a replica never trusts it for completeness: an
//! entry whose index is not the next one, a resubscription, a reconnect or an append
//! that timed out all make the replica read the stream from its own index on. A
//! replica that falls behind the stream's start reloads the latest snapshot and asks
//! its local members to resume. An instance that loses Redis keeps its sockets,
//! reports not ready until Redis answers again and answers every command `internal`
//! in a bounded time, never to be applied after that answer (`submit`: each append
//! carries its last moment on Redis's clock), then restates its connections; a
//! Redis that comes back empty is given every room back from the catalog this
//! instance knows, under a new epoch. A Redis that comes back with only part of its
//! data, or a log entry no instance can read, moves the room to a new epoch too
//! (`recovery`), so no seq is ever served with two contents under one epoch; an
//! append that reaches Redis twice is applied once.
//!
//! A room's log begins with its creation, and every change after it, the operator's
//! included, is an entry; a fold after which the room's catalog record differs is
//! what stores the record (`catalog`), as the in-memory broker rewrites its file.
//!
//! The jobs are split by file: `log` (the entries and the replica that folds them, no
//! IO), `recent` (the entries a replica folded last, by who appended them), `store`
//! (connections, keys, and the Lua scripts of `scripts`), `echo` (the published copies of
//! this instance's own entries, folded from the script's answer), `seal` (everything given to
//! Redis is sealed with keys from the server's secret, so Redis, its files and its
//! replicas hold no readable words), `durability` (what an ack
//! waits for beyond the primary's answer), `intake` (what arrives on the
//! subscription connection, and the fold), `submit` (serving a room and appending a
//! member's command), `recovery` (catch-up reads, reloads, snapshots, a room given
//! back), `catalog` (the records this instance keeps and stores), `ticker` (the one
//! instance that keeps a room's clock, on Redis's clock), `beat` (the heartbeat, on a
//! thread of its own), `maintenance` (everything else done once a second). This file holds the engine's state,
//! its narrow surface (the room's log, [`RoomLog`]; the catalog, [`Catalog`]; its own
//! life, [`Engine`]), and what keeps a served room's subscription and presence true:
//! subscribing again when Redis drops a subscription unasked (a slot moved), and
//! restating this instance's connections when the room counts more of them than it
//! holds (an end lost while Redis was away).

mod beat;
mod catalog;
mod durability;
mod echo;
mod intake;
mod links;
mod log;
mod maintenance;
mod recent;
mod recovery;
mod scripts;
mod seal;
mod store;
mod submit;
mod ticker;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dashmap::DashMap;
use kindred_protocol::{Epoch, Millis, RoomId};
use parking_lot::Mutex;
use tokio::sync::oneshot;

use self::intake::listen;
use self::log::{Entry, InstanceId, Op, Replica};
pub use self::seal::Seal;
use self::store::Store;
use super::{
    BrokerError, Catalog, Engine, Look, Reading, RelayIf, RoomLog, Round, View, new_epoch,
};
use crate::broker::hub::{Audience, Effect, Hub};
use crate::config::Durability;
use crate::metrics::Metrics;
use crate::room::{Applied, Command, Limits, Rejection, Room};
use crate::wire::Encoded;

/// How long a member's command waits for its entry to come back on pub/sub before
/// the instance reads the stream itself.
const PUBSUB_PATIENCE: Duration = Duration::from_millis(200);
/// How long a wait for another's work on the room (a subscription, a catch-up) may
/// take before it is answered `internal` (the client retries; the retry is
/// de-duplicated by its `client_id`).
const APPLY_PATIENCE: Duration = Duration::from_secs(3);
/// How long a command waits in all, from the broker's first look at it, before it is
/// answered `internal`: inside the 2 s PROTOCOL.md promises from the frame. Its
/// append carries Redis's time at that moment (less [`CLOCK_MARGIN`]), after which
/// Redis refuses it, so nothing answered `internal` is applied later (`submit`).
const ANSWER_WITHIN: Duration = Duration::from_millis(1500);
/// What the appends' last moment leaves for a Redis clock that runs slower than this
/// instance's between two readings (`Inner::redis_clock`).
const CLOCK_MARGIN: Duration = Duration::from_millis(50);
/// Tries to subscribe again to a room whose subscription Redis dropped, the first
/// pause between them, doubled each time (about 6 s in all).
const RESUBSCRIBE_TRIES: u32 = 6;
const RESUBSCRIBE_PAUSE: Duration = Duration::from_millis(100);
/// How long a deleted room's state stays for instances still catching up.
const DELETE_LINGER: Duration = Duration::from_secs(60);
/// How often the catalog is re-read.
const CATALOG_EVERY: Duration = Duration::from_secs(10);

/// A command's answer, as the fold of its entry gave it, and the epoch of that fold.
type Answer = (Result<Applied, Rejection>, Epoch);

/// One room as this instance holds it.
struct Slot {
    replica: Mutex<Option<Replica>>,
    /// Subscribed to the room's channel; changed only under `subscribing`, so an
    /// unsubscribe for a room that emptied never lands after a new member's subscribe.
    subscribed: AtomicBool,
    subscribing: tokio::sync::Mutex<()>,
    /// Local members have been fed from this replica since it was last caught up: a
    /// reload must ask them to resume.
    live: AtomicBool,
    /// One catch-up read at a time; a request that arrives meanwhile sets `again`.
    catching_up: tokio::sync::Mutex<()>,
    again: AtomicBool,
    /// The highest index seen on pub/sub.
    seen: AtomicU64,
    /// This instance's entries folded from the append script's answer, whose
    /// published copies are skipped unread when they come back.
    echoes: Mutex<echo::Echoes>,
    /// Held (shared) by a member's `Connect` or `Disconnect` from its append until
    /// its fold, and (alone) by a restatement of this instance's connections from
    /// their count until its fold: a connection is counted in the restatement or
    /// folded after it, never lost between the two.
    presence: tokio::sync::RwLock<()>,
    /// A restatement is on its way.
    restating: AtomicBool,
}

impl Slot {
    fn new() -> Self {
        Self {
            replica: Mutex::new(None),
            subscribed: AtomicBool::new(false),
            subscribing: tokio::sync::Mutex::new(()),
            live: AtomicBool::new(false),
            catching_up: tokio::sync::Mutex::new(()),
            again: AtomicBool::new(false),
            seen: AtomicU64::new(0),
            echoes: Mutex::new(echo::Echoes::default()),
            presence: tokio::sync::RwLock::new(()),
            restating: AtomicBool::new(false),
        }
    }

    fn index(&self) -> Option<(u64, Epoch)> {
        self.replica.lock().as_ref().map(|r| (r.index, r.epoch))
    }
}

struct Inner {
    store: Store,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    limits: Limits,
    history_len: usize,
    me: InstanceId,
    rooms: DashMap<RoomId, Arc<Slot>>,
    waiters: DashMap<u64, oneshot::Sender<Answer>>,
    next_id: AtomicU64,
    ready: AtomicBool,
    /// A command (or the probe) did not reach Redis: commands are answered
    /// `internal` at once, without asking, until a probe reaches it again (one tried
    /// at once, then `maintain`'s every second).
    away: AtomicBool,
    /// Redis's clock (ms) as last read, and when this instance had the answer: Redis's
    /// clock was at least that much then (`submit`'s deadlines).
    redis_clock: Mutex<(Millis, Instant)>,
    /// Each room's catalog record as this instance's fold last left it (or as Redis's
    /// catalog had it, for a room it does not serve): what a Redis that lost its data
    /// is given back.
    catalog: Mutex<HashMap<RoomId, String>>,
    /// Rooms whose record this instance changed and has not stored in Redis yet.
    catalog_unstored: Mutex<HashSet<RoomId>>,
    /// Wakes the task that stores them.
    catalog_wake: tokio::sync::mpsc::UnboundedSender<()>,
    catalog_read: Mutex<Option<Instant>>,
    boot: Mutex<String>,
    /// Since when Redis has answered without a break. A heartbeat missing while Redis
    /// itself was away is no evidence that its instance died: only once every live
    /// instance has had a whole heartbeat's lifetime to write one again is a missing
    /// one taken for a death.
    up_since: Mutex<Instant>,
}

/// Rooms shared through Redis.
#[derive(Clone)]
pub struct RedisBroker {
    inner: Arc<Inner>,
}

impl RedisBroker {
    /// Connect to Redis (`cluster`: a Redis Cluster, or implied by a `redis+cluster://`
    /// URL) and start listening; an ack waits for `durability` (at most its timeout),
    /// and a Redis that cannot give it is refused here. What it stores and relays is
    /// sealed with keys from `secret` (`seal`).
    #[allow(clippy::too_many_arguments)]
    pub async fn connect(
        url: &str,
        cluster: bool,
        secret: &[u8],
        hub: Arc<Hub>,
        metrics: Arc<Metrics>,
        limits: Limits,
        history_len: usize,
        durability: (Durability, Duration),
    ) -> anyhow::Result<Self> {
        let (store, pushes) = Store::connect(url, cluster, Seal::new(secret), durability)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot reach Redis at {} (REDIS_URL, --redis-url): {e}",
                    store::shown(url)
                )
            })?;
        let mine = format!("{:016x}", rand::random::<u64>());
        let (boot, _) = store
            .boot(&mine)
            .await
            .map_err(|e| anyhow::anyhow!("Redis: {e}"))?;
        let redis_now = store
            .time()
            .await
            .map_err(|e| anyhow::anyhow!("Redis: {e}"))?;
        let same = store
            .same_secret()
            .await
            .map_err(|e| anyhow::anyhow!("Redis: {e}"))?;
        anyhow::ensure!(
            same,
            "Redis holds rooms sealed with another KINDRED_SECRET than this instance's: \
             every instance sharing a Redis needs the same secret (README: Upgrading)"
        );
        let (catalog_wake, unstored) = tokio::sync::mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            store,
            hub,
            metrics,
            limits,
            history_len: history_len.max(1),
            me: rand::random::<u64>() >> 11,
            rooms: DashMap::new(),
            waiters: DashMap::new(),
            next_id: AtomicU64::new(1),
            ready: AtomicBool::new(true),
            away: AtomicBool::new(false),
            redis_clock: Mutex::new((redis_now, Instant::now())),
            catalog: Mutex::new(HashMap::new()),
            catalog_unstored: Mutex::new(HashSet::new()),
            catalog_wake,
            catalog_read: Mutex::new(None),
            boot: Mutex::new(boot),
            up_since: Mutex::new(Instant::now()),
        });
        inner.refresh_catalog().await;
        inner.check_formats().await?;
        let _ = inner.store.heartbeat(inner.me).await;
        inner.metrics.broker_up.set(1);
        beat::start(url, inner.store.cluster(), inner.me, Arc::downgrade(&inner))
            .map_err(|e| anyhow::anyhow!("starting the heartbeat's thread: {e}"))?;
        tokio::spawn(listen(Arc::downgrade(&inner), pushes));
        tokio::spawn(catalog::store_catalog(Arc::downgrade(&inner), unstored));
        Ok(Self { inner })
    }
}

impl Inner {
    /// Refuse to join a deployment whose rooms are written in a newer format than this
    /// build reads (an older build started during or after an upgrade): it could fold
    /// none of their new entries. Read from the newest entry of every room's log.
    async fn check_formats(&self) -> anyhow::Result<()> {
        let rooms: Vec<RoomId> = self.catalog.lock().keys().copied().collect();
        for room in rooms {
            let format = self
                .store
                .newest_format(room)
                .await
                .map_err(|e| anyhow::anyhow!("Redis: {e}"))?;
            if let Some(format) = format.filter(|f| *f > log::ENTRY_FORMAT) {
                anyhow::bail!(
                    "room {room} holds log entries of format {format}, newer than this \
                     Kindred reads (up to {}): run the newer release (README: Upgrading)",
                    log::ENTRY_FORMAT
                );
            }
        }
        Ok(())
    }

    pub(super) fn slot(&self, room: RoomId) -> Arc<Slot> {
        self.rooms
            .entry(room)
            .or_insert_with(|| Arc::new(Slot::new()))
            .clone()
    }

    /// The room's channel was unsubscribed. If this instance did not ask (it still
    /// serves the room: a Redis Cluster moved the room's slot to another node, which
    /// drops its shard channel's subscribers), subscribe again, on the node that owns
    /// the slot now, and read from the stream what was published meanwhile. Under
    /// `subscribing`, the lock an unsubscribe of ours holds until it has marked the
    /// room unsubscribed, so our own is never undone.
    pub(super) fn spawn_resubscribe(self: &Arc<Self>, room: RoomId) {
        let Some(slot) = self.rooms.get(&room).map(|s| s.clone()) else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            let _one = slot.subscribing.lock().await;
            let mut pause = RESUBSCRIBE_PAUSE;
            for _ in 0..RESUBSCRIBE_TRIES {
                if !slot.subscribed.load(Ordering::Acquire) || !this.hub.has_room(room) {
                    return;
                }
                match this.store.subscribe(room).await {
                    Ok(()) => {
                        tracing::info!(%room, "Redis dropped the room's subscription; subscribed again");
                        this.spawn_catch_up(room);
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(%room, error = %e, "subscribing again failed");
                        tokio::time::sleep(pause).await;
                        pause *= 2;
                    }
                }
            }
            // Out of tries: the next member's arrival or command subscribes afresh.
            slot.subscribed.store(false, Ordering::Release);
            slot.live.store(false, Ordering::Release);
        });
    }

    /// Restate this instance's connections to a room (back from an outage, or when
    /// the room counts more here than it holds): a `Disconnect` it could not append
    /// while Redis was away would leave the member counted here, present to the room,
    /// until this instance dies. Through the log, so every replica agrees
    /// ([`Op::Restate`]); alone against arrivals and departures (`Slot::presence`).
    pub(super) fn spawn_restate(self: &Arc<Self>, room: RoomId, now: Millis) {
        let slot = self.slot(room);
        if slot.restating.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            {
                let _alone = slot.presence.write().await;
                let held = this.hub.held(room);
                if let Err(e) = this.submit(room, Op::Restate(held), now, None).await {
                    tracing::warn!(%room, error = %e, "restating this instance's connections failed");
                }
            }
            slot.restating.store(false, Ordering::Release);
        });
    }

    /// Whether the room counts more connections of a member on this instance than it
    /// holds: an end it could not append (Redis was away) is missing from the log.
    /// (Never the reverse for long: a connection joins the hub before its `Connect`
    /// and leaves it after its `Disconnect`.)
    pub(super) fn overcounted(&self, room: RoomId, slot: &Slot) -> bool {
        let counted = slot
            .replica
            .lock()
            .as_ref()
            .filter(|r| !r.deleted())
            .map(|r| r.counted_on(self.me))
            .unwrap_or_default();
        if counted.is_empty() {
            return false;
        }
        let held = self.hub.held(room);
        counted
            .iter()
            .any(|(user, n)| held.get(user).copied().unwrap_or(0) < *n)
    }

    pub(super) fn unavailable(e: impl std::fmt::Display) -> BrokerError {
        BrokerError::Unavailable(e.to_string())
    }

    /// Publish a frame that is not the room's (typing, an alert the room could not
    /// keep) on the room's channel, beside its log: every other instance hands it to
    /// its connections in `audience`, and this one to its own, at most once (nothing
    /// reads it again).
    async fn relay(
        &self,
        room: RoomId,
        audience: Audience,
        frame: &Encoded,
    ) -> Result<(), BrokerError> {
        if self.away.load(Ordering::Acquire) {
            return Err(Inner::unavailable("Redis is out of reach"));
        }
        // Sealed under the key of the session this instance holds the room in (the
        // payload names it); a room it does not hold yet has its first.
        let session = self
            .rooms
            .get(&room)
            .and_then(|slot| slot.replica.lock().as_ref().map(|r| r.room.session()))
            .unwrap_or(0);
        self.store
            .relay(
                room,
                (&log::audience_code(audience), self.me),
                session,
                frame.bytes.as_str(),
            )
            .await
            .map_err(Inner::unavailable)?;
        // This instance's own connections have it from here, not from its copy on the
        // channel: before anything the same member does next, whose entry this instance
        // may fold from the append's answer before that copy comes back.
        self.hub.deliver(room, audience, frame, Effect::None);
        Ok(())
    }
}

#[async_trait]
impl RoomLog for RedisBroker {
    /// Append the command to the room's log and answer once this instance has folded
    /// it: a member's, the clock's or the operator's (`Configure`, `Delete`) alike.
    async fn append(
        &self,
        room: RoomId,
        cmd: Command,
        now: Millis,
        seen: Option<Epoch>,
    ) -> Result<Applied, BrokerError> {
        let appended = self.inner.submit(room, Op::Command(cmd), now, seen).await;
        if let Err(BrokerError::Unavailable(_) | BrokerError::Unconfirmed(_)) = &appended {
            self.inner.metrics.redis_append_failures.inc();
        }
        appended
    }

    async fn read(
        &self,
        id: RoomId,
        reading: Reading,
        look: &mut Look<'_>,
    ) -> Result<(), BrokerError> {
        let slot = match reading {
            Reading::Current => self.inner.fresh(id).await?,
            Reading::Served => self.inner.serve(id).await?,
            Reading::Held => self
                .inner
                .rooms
                .get(&id)
                .map(|s| s.clone())
                .ok_or(BrokerError::NoRoom)?,
        };
        let guard = slot.replica.lock();
        let r = guard.as_ref().ok_or(BrokerError::NoRoom)?;
        look(View {
            room: &r.room,
            timeline: &r.timeline,
            epoch: r.epoch,
        });
        Ok(())
    }

    async fn relay(
        &self,
        room: RoomId,
        audience: Audience,
        frame: &Encoded,
        only_if: Option<&RelayIf<'_>>,
    ) -> Result<bool, BrokerError> {
        if let Some(only_if) = only_if {
            // This instance's replica, as it stands: a fold behind is close enough for
            // what passes beside the log.
            let Some(slot) = self.inner.rooms.get(&room).map(|s| s.clone()) else {
                return Ok(false);
            };
            let may = {
                let guard = slot.replica.lock();
                guard.as_ref().is_some_and(|r| only_if(&r.room))
            };
            if !may {
                return Ok(false);
            }
        }
        self.inner.relay(room, audience, frame).await?;
        Ok(true)
    }
}

#[async_trait]
impl Catalog for RedisBroker {
    /// The room's log begins with its creation (`Op::Create`), written by one script
    /// with the room's head and epoch; its record is stored before the operator is
    /// answered.
    async fn create(&self, room: Room, now: Millis) -> Result<(), BrokerError> {
        let inner = &self.inner;
        if inner.away.load(Ordering::Acquire) {
            return Err(Inner::unavailable("Redis is out of reach; try again"));
        }
        let id = room.id;
        let epoch = new_epoch();
        let first = Entry::new(
            inner.me,
            inner.next_id.fetch_add(1, Ordering::Relaxed),
            now,
            Op::Create {
                room: Box::new(room.clone()),
                epoch,
            },
        );
        let created = inner
            .store
            .create(id, epoch, &first)
            .await
            .map_err(Inner::unavailable)?;
        if !created {
            return Err(BrokerError::Unavailable(
                "a room with this id exists".into(),
            ));
        }
        // A room that did not exist has a record now: stored before the operator is
        // answered, so every instance's directory lists it from then on.
        inner.remember(id, &room, false);
        let record = inner.catalog.lock().get(&id).cloned();
        if let Some(record) = record {
            inner
                .store
                .put_catalog(id, &record, false)
                .await
                .map_err(Inner::unavailable)?;
        }
        Ok(())
    }

    async fn list(&self) -> Result<Vec<RoomId>, BrokerError> {
        self.inner.refresh_catalog().await;
        Ok(self.inner.catalog.lock().keys().copied().collect())
    }
}

/// Redis has a life of its own that the in-memory engine does not: a heartbeat that
/// tells the other instances this one is alive, a store that can be out of reach
/// (not ready) and come back empty (every room given back), subscriptions to let go
/// when a room's last local member leaves, and instances that die. The heartbeat is
/// `beat`, on a thread of its own; the rest is `Inner::maintain`, once a second,
/// before the clock's round.
#[async_trait]
impl Engine for RedisBroker {
    fn ready(&self) -> bool {
        self.inner.ready.load(Ordering::Acquire)
    }

    fn catalog_stored(&self) -> bool {
        self.inner.catalog_unstored.lock().is_empty()
    }

    fn instance(&self) -> Option<u64> {
        Some(self.inner.me)
    }

    /// The rooms whose ticker lease this instance holds keep their clock here, on
    /// Redis's clock (`ticker`).
    async fn upkeep(&self, now: Millis) -> Option<Round> {
        self.inner.maintain(now).await?;
        let (now, tick) = self.inner.leases().await?;
        Some(Round { now, tick })
    }
}
