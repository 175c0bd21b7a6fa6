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
//! its local members to resume. An instance that loses Redis keeps its sockets and
//! reports not ready until Redis answers again; a Redis that comes back empty is given
//! every room back from the catalog this instance knows, under a new epoch.

mod log;
mod store;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dashmap::DashMap;
use kindred_protocol::http::UpdateRoom;
use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{Epoch, Millis, Quote, Role, RoomId, RoomSummary, Seq, UserId};
use parking_lot::Mutex;
use redis::{PushInfo, PushKind, Value};
use tokio::sync::{mpsc::UnboundedReceiver, oneshot};

use self::log::{Entry, Fold, Image, InstanceId, Op, Replica, parse_audience, room_of_channel};
use self::store::{Appended, INSTANCE_TTL, SNAPSHOT_EVERY, Store};
use super::{Broker, BrokerError, REPORT_CONTEXT, ResumeFrom, Snapshot, new_epoch, summary};
use crate::hub::{Audience, Effect, Hub, Kick, Peer};
use crate::metrics::Metrics;
use crate::room::{Applied, Command, InviteRecord, Limits, Origin, Rejection, Room, RoomConfig};
use crate::wire::Encoded;

/// How long a member's command waits for its entry to come back on pub/sub before
/// the instance reads the stream itself.
const PUBSUB_PATIENCE: Duration = Duration::from_millis(200);
/// How long it waits in all before answering `internal` (the client retries; the
/// retry is de-duplicated by its `client_id`).
const APPLY_PATIENCE: Duration = Duration::from_secs(3);
/// How long a deleted room's state stays for instances still catching up.
const DELETE_LINGER: Duration = Duration::from_secs(60);
/// How often the catalog is re-read.
const CATALOG_EVERY: Duration = Duration::from_secs(10);

type Answer = Result<Applied, Rejection>;

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
    /// Each room's catalog record as last seen: what a Redis that lost its data is
    /// given back.
    catalog: Mutex<HashMap<RoomId, String>>,
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
    /// URL) and start listening.
    pub async fn connect(
        url: &str,
        cluster: bool,
        hub: Arc<Hub>,
        metrics: Arc<Metrics>,
        limits: Limits,
        history_len: usize,
    ) -> anyhow::Result<Self> {
        let (store, pushes) = Store::connect(url, cluster)
            .await
            .map_err(|e| anyhow::anyhow!("connecting to Redis: {e}"))?;
        let mine = format!("{:016x}", rand::random::<u64>());
        let (boot, _) = store
            .boot(&mine)
            .await
            .map_err(|e| anyhow::anyhow!("Redis: {e}"))?;
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
            catalog: Mutex::new(HashMap::new()),
            catalog_read: Mutex::new(None),
            boot: Mutex::new(boot),
            up_since: Mutex::new(Instant::now()),
        });
        inner.refresh_catalog().await;
        let _ = inner.store.heartbeat(inner.me).await;
        inner.metrics.broker_up.set(1);
        tokio::spawn(listen(Arc::downgrade(&inner), pushes));
        Ok(Self { inner })
    }
}

/// Read pushes from the subscription connection until the broker is dropped.
async fn listen(inner: std::sync::Weak<Inner>, mut pushes: UnboundedReceiver<PushInfo>) {
    while let Some(push) = pushes.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        inner.on_push(push);
    }
}

/// Log entries as read from the stream; an unreadable one is skipped (and then shows
/// as a gap, so the replica reloads rather than folds past it).
fn parse(entries: Vec<(u64, String)>) -> Vec<(u64, Entry)> {
    entries
        .into_iter()
        .map_while(|(i, json)| serde_json::from_str::<Entry>(&json).ok().map(|e| (i, e)))
        .collect()
}

fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

impl Inner {
    fn slot(&self, room: RoomId) -> Arc<Slot> {
        self.rooms
            .entry(room)
            .or_insert_with(|| Arc::new(Slot::new()))
            .clone()
    }

    fn unavailable(e: impl std::fmt::Display) -> BrokerError {
        BrokerError::Unavailable(e.to_string())
    }

    fn on_push(self: &Arc<Self>, push: PushInfo) {
        match push.kind {
            PushKind::Message | PushKind::SMessage => {
                let (Some(channel), Some(payload)) = (
                    push.data.first().and_then(bytes),
                    push.data.get(1).and_then(bytes),
                ) else {
                    return;
                };
                let Some(room) = room_of_channel(channel) else {
                    return;
                };
                let Ok(payload) = std::str::from_utf8(payload) else {
                    return;
                };
                self.on_message(room, payload);
            }
            PushKind::Subscribe | PushKind::SSubscribe => {
                // Also sent after the library resubscribes following a reconnect:
                // whatever was published meanwhile is read from the stream.
                if let Some(room) = push.data.first().and_then(bytes).and_then(room_of_channel) {
                    self.spawn_catch_up(room);
                }
            }
            PushKind::Disconnection => {
                tracing::warn!("lost the Redis subscription connection; reconnecting");
                self.set_ready(false);
            }
            _ => {}
        }
    }

    fn on_message(self: &Arc<Self>, room: RoomId, payload: &str) {
        if let Some(notice) = payload.strip_prefix('N') {
            let Some((audience, frame)) = notice.split_once('\n') else {
                return;
            };
            if let Some(audience) = parse_audience(audience) {
                let frame = Encoded {
                    seq: None,
                    bytes: frame.to_owned().into(),
                };
                self.hub.deliver(room, audience, &frame, Effect::None);
            }
            return;
        }
        let Some(entry) = payload.strip_prefix('L') else {
            return;
        };
        let mut parts = entry.splitn(3, ' ');
        let (Some(epoch), Some(index), Some(json)) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let (Ok(epoch), Ok(index)) = (epoch.parse::<Epoch>(), index.parse::<u64>()) else {
            return;
        };
        let Some(slot) = self.rooms.get(&room).map(|s| s.clone()) else {
            return;
        };
        let Ok(entry) = serde_json::from_str::<Entry>(json) else {
            tracing::error!(%room, index, "unreadable log entry");
            return;
        };
        let in_step = slot.index().is_some_and(|(_, e)| e == epoch);
        if in_step {
            slot.seen.fetch_max(index, Ordering::Relaxed);
        }
        if !in_step || self.fold(room, &slot, vec![(index, entry)]) {
            self.spawn_catch_up(room);
        }
    }

    /// Fold entries into the room's replica and answer the members who asked. True
    /// if a gap was found (the caller reads the stream).
    fn fold(self: &Arc<Self>, room: RoomId, slot: &Slot, entries: Vec<(u64, Entry)>) -> bool {
        let mut guard = slot.replica.lock();
        let Some(replica) = guard.as_mut() else {
            return true;
        };
        self.fold_into(room, replica, entries, true)
    }

    /// Fold entries into `replica`; `deliver` hands the events to local members (not
    /// while a replica is rebuilt out of their sight).
    fn fold_into(
        self: &Arc<Self>,
        room: RoomId,
        replica: &mut Replica,
        entries: Vec<(u64, Entry)>,
        deliver: bool,
    ) -> bool {
        let hub = deliver.then_some(&*self.hub);
        for (index, entry) in entries {
            let mine = entry.origin == self.me;
            let (id, touches_catalog) = (entry.id, entry.op.touches_catalog());
            let deleting = matches!(entry.op, Op::Delete);
            // Another instance took this one for dead (it was stopped, or cut off from
            // Redis): the room no longer counts its connections here, so they go and
            // come back to be counted again.
            let taken_for_dead = matches!(entry.op, Op::InstanceGone(i) if i == self.me);
            match replica.fold(index, entry, hub) {
                Fold::Stale => continue,
                Fold::Gap => return true,
                Fold::Applied(answer) => {
                    if deleting {
                        self.catalog.lock().remove(&room);
                    }
                    if taken_for_dead && deliver {
                        self.hub.kick_room(room, Kick::Resync);
                    }
                    if !mine {
                        continue;
                    }
                    let closed = answer.as_ref().as_ref().is_ok_and(log::closes);
                    if touches_catalog && !replica.deleted {
                        self.remember(room, &replica.room);
                    }
                    if index % SNAPSHOT_EVERY == 0 || closed {
                        self.spawn_snapshot(room, replica, closed);
                    }
                    if let Some((_, waiter)) = self.waiters.remove(&id) {
                        let _ = waiter.send(*answer);
                    }
                }
            }
        }
        false
    }

    /// Keep a room's catalog record (here, and in Redis in the background).
    fn remember(self: &Arc<Self>, room: RoomId, state: &Room) {
        let Ok(record) = serde_json::to_string(&state.reopened()) else {
            return;
        };
        self.catalog.lock().insert(room, record.clone());
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.store.put_catalog(room, &record, false).await {
                tracing::warn!(%room, error = %e, "could not store the room's catalog record");
            }
        });
    }

    fn spawn_snapshot(self: &Arc<Self>, room: RoomId, replica: &Replica, trim: bool) {
        let (epoch, index) = (replica.epoch, replica.index);
        let Ok(image) = serde_json::to_string(&replica.image()) else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this
                .store
                .save_snapshot(room, epoch, index, &image, trim)
                .await
            {
                tracing::warn!(%room, index, error = %e, "could not store a snapshot");
            }
        });
    }

    fn spawn_catch_up(self: &Arc<Self>, room: RoomId) {
        let this = self.clone();
        tokio::spawn(async move {
            let slot = this.slot(room);
            if let Err(e) = this.catch_up(room, &slot).await {
                tracing::debug!(%room, error = %e, "catch-up failed; retried on the next entry");
            }
        });
    }

    /// Bring the room's replica up to Redis's head: load the snapshot if there is no
    /// replica (or it fell behind the stream), then fold the stream from its index on.
    async fn catch_up(self: &Arc<Self>, room: RoomId, slot: &Slot) -> Result<(), BrokerError> {
        slot.again.store(true, Ordering::Release);
        let Ok(_one) = slot.catching_up.try_lock() else {
            // The running catch-up goes round again.
            return self.wait_caught_up(slot).await;
        };
        while slot.again.swap(false, Ordering::AcqRel) {
            // An empty read while Redis's head is ahead is usually an append that
            // landed between the two reads: read again before deciding it was trimmed.
            let mut empty_reads = 0;
            loop {
                let Some((index, epoch)) = slot.index() else {
                    self.load(room, slot).await?;
                    continue;
                };
                let entries = self
                    .store
                    .read(room, index + 1)
                    .await
                    .map_err(Self::unavailable)?;
                if entries.first().is_some_and(|(i, _)| *i != index + 1) {
                    // The stream no longer reaches back to this replica.
                    self.reload(room, slot).await?;
                    continue;
                }
                if entries.is_empty() {
                    match self.store.meta(room).await.map_err(Self::unavailable)? {
                        None => return self.lost(room, slot).await,
                        Some(m) if m.epoch != epoch => {
                            // The room lives on under another epoch.
                            self.reload(room, slot).await?;
                            continue;
                        }
                        Some(m) if m.head > index && empty_reads < 3 => {
                            empty_reads += 1;
                            continue;
                        }
                        Some(m) if m.head > index => {
                            // Trimmed past us (a close): the snapshot has it.
                            self.reload(room, slot).await?;
                            continue;
                        }
                        Some(_) => break,
                    }
                }
                let full = entries.len() >= store::READ_BATCH;
                self.fold(room, slot, parse(entries));
                if !full {
                    break;
                }
            }
            if slot.seen.load(Ordering::Relaxed) > slot.index().map_or(0, |(i, _)| i) {
                slot.again.store(true, Ordering::Release);
            }
        }
        Ok(())
    }

    /// Replace a replica that can no longer be caught up entry by entry; members fed
    /// from it resume (from the reloaded history, or with a reset in a new epoch).
    async fn reload(self: &Arc<Self>, room: RoomId, slot: &Slot) -> Result<(), BrokerError> {
        self.load(room, slot).await?;
        if slot.live.load(Ordering::Acquire) {
            self.hub.kick_room(room, Kick::Resync);
        }
        Ok(())
    }

    async fn wait_caught_up(&self, slot: &Slot) -> Result<(), BrokerError> {
        let _one = slot.catching_up.lock().await;
        Ok(())
    }

    /// Replace the replica with the room's latest snapshot and the log after it,
    /// folded out of local members' sight (they get the result in their welcome, or
    /// resume from it), then swapped in.
    async fn load(self: &Arc<Self>, room: RoomId, slot: &Slot) -> Result<(), BrokerError> {
        let Some(image) = self.store.snapshot(room).await.map_err(Self::unavailable)? else {
            return Err(BrokerError::NoRoom);
        };
        let image: Image = serde_json::from_str(&image)
            .map_err(|e| BrokerError::Unavailable(format!("unreadable snapshot: {e}")))?;
        let mut replica = Replica::from_image(image, self.limits, self.history_len);
        loop {
            let entries = self
                .store
                .read(room, replica.index + 1)
                .await
                .map_err(Self::unavailable)?;
            if entries
                .first()
                .is_some_and(|(i, _)| *i != replica.index + 1)
            {
                return Err(BrokerError::Unavailable(
                    "the room's log no longer reaches its snapshot".into(),
                ));
            }
            let full = entries.len() >= store::READ_BATCH;
            self.fold_into(room, &mut replica, parse(entries), false);
            if !full {
                break;
            }
        }
        // Indexes seen on pub/sub under an earlier epoch mean nothing now.
        slot.seen.store(replica.index, Ordering::Relaxed);
        *slot.replica.lock() = Some(replica);
        Ok(())
    }

    /// Redis has no state for a room we hold: deleted, or Redis lost its data. Give it
    /// back (fresh epoch) if the catalog still lists it.
    async fn lost(self: &Arc<Self>, room: RoomId, slot: &Slot) -> Result<(), BrokerError> {
        let record = self.catalog.lock().get(&room).cloned();
        let Some(record) = record else {
            // Deleted (every serving instance folded the `Delete`), or created on an
            // instance whose record has not reached this one: either way not ours to
            // give back.
            return Err(BrokerError::NoRoom);
        };
        self.give_back(room, &record).await?;
        self.reload(room, slot).await
    }

    async fn give_back(&self, room: RoomId, record: &str) -> Result<(), BrokerError> {
        let state: Room = serde_json::from_str(record)
            .map_err(|e| BrokerError::Unavailable(format!("unreadable catalog record: {e}")))?;
        let epoch = new_epoch();
        let image = serde_json::to_string(&Image::new(state, epoch))
            .map_err(|e| BrokerError::Unavailable(e.to_string()))?;
        if self
            .store
            .create(room, epoch, 0, &image)
            .await
            .map_err(Self::unavailable)?
        {
            tracing::warn!(%room, "Redis had lost this room; it continues under a new epoch");
        }
        self.store
            .put_catalog(room, record, true)
            .await
            .map_err(Self::unavailable)
    }

    /// The room's slot, subscribed and with a replica, for a member of this instance.
    async fn serve(self: &Arc<Self>, room: RoomId) -> Result<Arc<Slot>, BrokerError> {
        let slot = self.slot(room);
        if !slot.subscribed.load(Ordering::Acquire) {
            let _one = slot.subscribing.lock().await;
            if !slot.subscribed.load(Ordering::Acquire) {
                self.store
                    .subscribe(room)
                    .await
                    .map_err(Self::unavailable)?;
                slot.subscribed.store(true, Ordering::Release);
                // Subscribed first, then read: nothing published in between is missed.
                self.catch_up(room, &slot).await?;
                slot.live.store(true, Ordering::Release);
                if !self.catalog.lock().contains_key(&room) {
                    // Created on another instance: learn its record, so this instance
                    // too can give the room back to a Redis that loses it.
                    self.refresh_catalog().await;
                }
            }
        }
        if slot.index().is_none() {
            self.catch_up(room, &slot).await?;
        }
        Ok(slot)
    }

    /// A replica read fresh from Redis, for a room this instance may not serve. A room
    /// it serves is kept current by its subscription: no read. (What this answers —
    /// a summary, whether a join would be admitted — is advice; the fold of the
    /// member's `Connect` decides.)
    async fn fresh(self: &Arc<Self>, room: RoomId) -> Result<Arc<Slot>, BrokerError> {
        let slot = self.slot(room);
        let live = slot.live.load(Ordering::Acquire) && slot.index().is_some();
        if !live {
            self.catch_up(room, &slot).await?;
        }
        if slot.replica.lock().as_ref().is_none_or(|r| r.deleted) {
            return Err(BrokerError::NoRoom);
        }
        Ok(slot)
    }

    /// Append an op to the room's log and wait until this instance has folded it.
    async fn submit(
        self: &Arc<Self>,
        room: RoomId,
        op: Op,
        now: Millis,
    ) -> Result<Applied, BrokerError> {
        let slot = self.serve(room).await?;
        let epoch = {
            let guard = slot.replica.lock();
            let Some(replica) = guard.as_ref().filter(|r| !r.deleted) else {
                return Err(BrokerError::NoRoom);
            };
            // Rules before the log: a command its sender may not give is refused here,
            // at the cost of a lookup, and never costs the other instances a fold.
            if let Op::Command(cmd) = &op {
                replica.room.permit(cmd)?;
            }
            replica.epoch
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, mut rx) = oneshot::channel();
        self.waiters.insert(id, tx);
        let entry = Entry {
            origin: self.me,
            id,
            ts: now,
            op,
        };
        let appended = self.store.append(room, epoch, &entry).await;
        let settle = |this: &Self| {
            this.waiters.remove(&id);
        };
        match appended {
            Ok(Appended::At(_)) => {}
            Ok(Appended::Missing) => {
                settle(self);
                self.lost(room, &slot).await?;
                return Err(BrokerError::Unavailable(
                    "the room was restored after a storage failure; try again".into(),
                ));
            }
            Ok(Appended::Epoch(_)) => {
                settle(self);
                self.spawn_catch_up(room);
                return Err(BrokerError::Unavailable(
                    "the room's history was reset; try again".into(),
                ));
            }
            Err(e) => {
                // The script may have run: read the stream, so a retry finds its
                // own message (the member's client_id) in the replica.
                tracing::warn!(%room, error = %e, "append failed");
                let _ = self.catch_up(room, &slot).await;
                if let Ok(answer) = rx.try_recv() {
                    return answer.map_err(BrokerError::Rejected);
                }
                settle(self);
                self.set_ready(false);
                return Err(Self::unavailable(e));
            }
        }
        if let Ok(Ok(answer)) = tokio::time::timeout(PUBSUB_PATIENCE, &mut rx).await {
            return answer.map_err(BrokerError::Rejected);
        }
        let _ = self.catch_up(room, &slot).await;
        match tokio::time::timeout(APPLY_PATIENCE, rx).await {
            Ok(Ok(answer)) => answer.map_err(BrokerError::Rejected),
            _ => {
                settle(self);
                Err(BrokerError::Unavailable(
                    "the room did not confirm in time; try again".into(),
                ))
            }
        }
    }

    fn set_ready(&self, ready: bool) {
        if self.ready.swap(ready, Ordering::AcqRel) != ready {
            self.metrics.broker_up.set(i64::from(ready));
            if ready {
                tracing::info!("Redis is reachable again");
            }
        }
    }

    async fn refresh_catalog(&self) {
        if let Ok(records) = self.store.catalog().await {
            let mut catalog = self.catalog.lock();
            for (id, record) in records {
                if let Ok(id) = id.parse::<RoomId>() {
                    catalog.insert(id, record);
                }
            }
        }
        *self.catalog_read.lock() = Some(Instant::now());
        self.count_rooms();
    }

    fn count_rooms(&self) {
        Metrics::set_gauge(&self.metrics.rooms, self.catalog.lock().len());
    }

    /// Once a second: heartbeat, health, a Redis that lost its data, rooms to let go,
    /// timers that ran out, instances that died.
    async fn maintain(self: &Arc<Self>, now: Millis) {
        let healthy = self.store.ping().await && self.store.heartbeat(self.me).await.is_ok();
        let was_ready = self.ready.load(Ordering::Acquire);
        self.set_ready(healthy);
        if !healthy {
            return;
        }
        if !was_ready {
            *self.up_since.lock() = Instant::now();
        }
        let heartbeats_fresh =
            self.up_since.lock().elapsed() > INSTANCE_TTL + Duration::from_secs(1);
        let mine = format!("{:016x}", rand::random::<u64>());
        if let Ok((boot, set_now)) = self.store.boot(&mine).await {
            let previous = std::mem::replace(&mut *self.boot.lock(), boot.clone());
            if set_now || previous != boot {
                tracing::warn!("Redis lost its data; giving every known room back");
                let records: Vec<_> = self.catalog.lock().clone().into_iter().collect();
                for (room, record) in records {
                    let _ = self.give_back(room, &record).await;
                }
            }
        }
        let stale = self
            .catalog_read
            .lock()
            .is_none_or(|t| t.elapsed() > CATALOG_EVERY);
        if stale {
            self.refresh_catalog().await;
        }
        let slots: Vec<(RoomId, Arc<Slot>)> = self
            .rooms
            .iter()
            .map(|e| (*e.key(), e.value().clone()))
            .collect();
        let mut members = 0;
        let mut others: HashSet<InstanceId> = HashSet::new();
        let mut due = Vec::new();
        for (room, slot) in &slots {
            if !self.hub.has_room(*room) {
                if slot.subscribed.load(Ordering::Acquire) {
                    // The last local member left: stop listening. Under the lock, and
                    // only if nobody arrived meanwhile.
                    let _one = slot.subscribing.lock().await;
                    if !self.hub.has_room(*room) && self.store.unsubscribe(*room).await.is_ok() {
                        slot.subscribed.store(false, Ordering::Release);
                        slot.live.store(false, Ordering::Release);
                    }
                }
                continue;
            }
            if !was_ready {
                // Back from an outage: re-issue the subscription, read what we missed.
                let _ = self.store.subscribe(*room).await;
                self.spawn_catch_up(*room);
            }
            let guard = slot.replica.lock();
            if let Some(r) = guard.as_ref() {
                members += r.room.member_count();
                others.extend(r.other_instances(self.me));
                if r.room.tick_due(now) {
                    due.push(*room);
                }
            }
        }
        Metrics::set_gauge(&self.metrics.members, members);
        for room in due {
            let this = self.clone();
            tokio::spawn(async move {
                let _ = this.submit(room, Op::Command(Command::Tick), now).await;
            });
        }
        for instance in others.into_iter().filter(|_| heartbeats_fresh) {
            if let Ok(false) = self.store.alive(instance).await {
                tracing::info!(
                    instance,
                    "an instance stopped answering; its members' connections are gone"
                );
                for (room, slot) in &slots {
                    let holds = slot
                        .replica
                        .lock()
                        .as_ref()
                        .is_some_and(|r| r.other_instances(self.me).any(|i| i == instance));
                    if holds && slot.subscribed.load(Ordering::Acquire) {
                        let this = self.clone();
                        let room = *room;
                        tokio::spawn(async move {
                            let _ = this.submit(room, Op::InstanceGone(instance), now).await;
                        });
                    }
                }
            }
        }
    }
}

#[async_trait]
impl Broker for RedisBroker {
    async fn create_room(
        &self,
        id: RoomId,
        config: RoomConfig,
    ) -> Result<RoomSummary, BrokerError> {
        let inner = &self.inner;
        let room = Room::new(id, config, inner.limits);
        let record = serde_json::to_string(&room.reopened())
            .map_err(|e| BrokerError::Unavailable(e.to_string()))?;
        let epoch = new_epoch();
        let summary = summary(&room);
        let image = serde_json::to_string(&Image::new(room, epoch))
            .map_err(|e| BrokerError::Unavailable(e.to_string()))?;
        inner
            .store
            .create(id, epoch, 0, &image)
            .await
            .map_err(Inner::unavailable)?;
        inner
            .store
            .put_catalog(id, &record, false)
            .await
            .map_err(Inner::unavailable)?;
        inner.catalog.lock().insert(id, record);
        inner.count_rooms();
        Ok(summary)
    }

    async fn update_room(
        &self,
        id: RoomId,
        update: UpdateRoom,
        now: Millis,
    ) -> Result<RoomSummary, BrokerError> {
        self.inner.submit(id, Op::Configure(update), now).await?;
        self.room(id).await
    }

    async fn delete_room(&self, id: RoomId, now: Millis) -> Result<(), BrokerError> {
        self.inner.submit(id, Op::Delete, now).await?;
        self.inner.catalog.lock().remove(&id);
        self.inner.count_rooms();
        self.inner
            .store
            .forget(id, DELETE_LINGER)
            .await
            .map_err(Inner::unavailable)
    }

    async fn room(&self, id: RoomId) -> Result<RoomSummary, BrokerError> {
        let slot = self.inner.fresh(id).await?;
        let guard = slot.replica.lock();
        guard
            .as_ref()
            .map(|r| summary(&r.room))
            .ok_or(BrokerError::NoRoom)
    }

    async fn rooms(&self) -> Result<Vec<RoomSummary>, BrokerError> {
        self.inner.refresh_catalog().await;
        let ids: Vec<RoomId> = self.inner.catalog.lock().keys().copied().collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Ok(s) = self.room(id).await {
                out.push(s);
            }
        }
        Ok(out)
    }

    async fn policy(&self, id: RoomId) -> Result<ContentPolicy, BrokerError> {
        let slot = self.inner.serve(id).await?;
        let guard = slot.replica.lock();
        guard
            .as_ref()
            .map(|r| r.room.config.policy)
            .ok_or(BrokerError::NoRoom)
    }

    async fn admits(
        &self,
        id: RoomId,
        role: Role,
        name: &str,
        origin: &Origin,
    ) -> Result<u32, BrokerError> {
        let slot = self.inner.fresh(id).await?;
        let guard = slot.replica.lock();
        let r = guard.as_ref().ok_or(BrokerError::NoRoom)?;
        r.room.admits(role, name, origin)?;
        Ok(r.room.session())
    }

    async fn invites(&self, id: RoomId) -> Result<Vec<InviteRecord>, BrokerError> {
        let slot = self.inner.fresh(id).await?;
        let guard = slot.replica.lock();
        let r = guard.as_ref().ok_or(BrokerError::NoRoom)?;
        Ok(r.room.invites())
    }

    async fn may_type(&self, room: RoomId, user: UserId, now: Millis) -> bool {
        // This instance's replica: typing is a hint, a fold behind is close enough.
        let Some(slot) = self.inner.rooms.get(&room).map(|s| s.clone()) else {
            return false;
        };
        let guard = slot.replica.lock();
        guard.as_ref().is_some_and(|r| r.room.may_type(user, now))
    }

    async fn quotes(&self, room: RoomId, target: Seq) -> Result<Vec<Quote>, BrokerError> {
        let slot = self.inner.serve(room).await?;
        let guard = slot.replica.lock();
        let r = guard.as_ref().ok_or(BrokerError::NoRoom)?;
        Ok(r.timeline.quotes(target, REPORT_CONTEXT)?)
    }

    async fn apply(&self, room: RoomId, cmd: Command, now: Millis) -> Result<Applied, BrokerError> {
        let started = Instant::now();
        let applied = self.inner.submit(room, Op::Command(cmd), now).await;
        self.inner
            .metrics
            .broker_publish_seconds
            .observe(started.elapsed().as_secs_f64());
        applied
    }

    async fn snapshot(
        &self,
        room: RoomId,
        peer: &Peer,
        resume: Option<ResumeFrom>,
        recent: usize,
    ) -> Result<Snapshot, BrokerError> {
        let slot = self.inner.serve(room).await?;
        let guard = slot.replica.lock();
        let r = guard.as_ref().ok_or(BrokerError::NoRoom)?;
        Ok(r.timeline.arrival(&r.room, peer, r.epoch, resume, recent)?)
    }

    async fn notify(
        &self,
        room: RoomId,
        audience: Audience,
        frame: Encoded,
    ) -> Result<(), BrokerError> {
        let payload = format!(
            "N{}\n{}",
            log::audience_code(audience),
            frame.bytes.as_str()
        );
        self.inner
            .store
            .notify(room, payload)
            .await
            .map_err(Inner::unavailable)
    }

    fn ready(&self) -> bool {
        self.inner.ready.load(Ordering::Acquire)
    }

    async fn tick(&self, now: Millis) {
        self.inner.maintain(now).await;
    }
}
