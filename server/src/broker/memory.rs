//! The in-memory broker: one instance, nothing to install, nothing on disk unless
//! the operator names a catalog file.
//!
//! Each room is a domain [`Room`] plus its history behind one mutex. `append` holds
//! that mutex while it checks, numbers, stores and hands the encoded frames to the
//! hub, so seqs reach every connection in order. The lock is never held across an
//! await: hub delivery is `try_send` only.
//!
//! Every change to a room, the operator's `PATCH` and deletion included, is a
//! [`Command`] given to [`Room::apply`] under the room's mutex; a deleted room leaves
//! the map once its close is delivered.
//!
//! With `--catalog-file`, rooms start from the file, and a room created, or a command
//! or tick after which the room's catalog record differs
//! ([`catalog_change`](super::catalog_change)), is answered only once the file holds
//! it, written and fsynced: an operator's 2xx and a facilitator's `ack` survive a
//! `kill -9` the instant after. One writer task does the writing, off the room locks,
//! one write at a time; every change that arrives while a write runs shares the next
//! write (group commit), so a busy minute costs a few writes, not one per change. A
//! write that fails answers each change that waited for it `internal`
//! ([`BrokerError::Unconfirmed`]) and counts in `catalog_write_failures`. Messages,
//! and every command that leaves the record as it was, never wait for the file.
//! [`Catalog::flush`] writes whatever a failed write left at a clean shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use dashmap::{DashMap, DashSet};
use kindred_protocol::{Epoch, Millis, OnCallId, RoomId};
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::hub::{Audience, Effect, Hub};
use super::timeline::Timeline;
use super::{
    BrokerError, Catalog, Engine, LinkRecord, Look, OnCallLinks, Reading, RelayIf, RoomLog, Round,
    View, catalog_change, new_epoch,
};
use crate::catalog::CatalogFile;
use crate::metrics::Metrics;
use crate::room::{Applied, Command, Limits, Room};
use crate::wire::Encoded;

struct RoomCell {
    room: Room,
    epoch: Epoch,
    timeline: Timeline,
}

type Rooms = DashMap<RoomId, Arc<Mutex<RoomCell>>>;

/// Rooms in this process's memory.
pub struct MemoryBroker {
    rooms: Arc<Rooms>,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    limits: Limits,
    history_len: usize,
    catalog: Option<Arc<CatalogWriter>>,
    /// The on-call links: in memory only, never in the catalog file.
    links: Mutex<std::collections::BTreeMap<OnCallId, LinkRecord>>,
}

/// Keeps the catalog file in step with the rooms: one write at a time, and every
/// change that arrived while one ran shares the next (group commit).
struct CatalogWriter {
    file: CatalogFile,
    rooms: Arc<Rooms>,
    /// Rooms that are not kept across a restart (the demo room).
    transient: DashSet<RoomId>,
    /// Whoever waits for the next write, each told whether it reached the disk.
    queued: Mutex<Vec<oneshot::Sender<bool>>>,
    /// A change the file does not hold yet (queued, or a write that failed).
    dirty: AtomicBool,
    wake: tokio::sync::Notify,
    /// One write at a time (the writer task and a flush).
    writing: tokio::sync::Mutex<()>,
    /// Writes made since the start (in the debug log: how well changes share them).
    writes: AtomicU64,
    metrics: Arc<Metrics>,
}

impl CatalogWriter {
    /// A change is made (in memory, its room's lock let go): it is on disk when the
    /// answer is true, and will not be when it is false.
    async fn written(&self) -> bool {
        let (done, wait) = oneshot::channel();
        self.queued.lock().push(done);
        self.dirty.store(true, Ordering::Release);
        self.wake.notify_one();
        // A writer gone (the runtime shutting down) wrote nothing for it.
        wait.await.unwrap_or(false)
    }

    /// Write the file once for every change queued so far (and for a write that
    /// failed before), then tell each of them how it went.
    async fn write_queued(&self) {
        let _one = self.writing.lock().await;
        // Taken before the rooms are read: every change queued here was made before,
        // so this write holds it. Whatever is queued from now on waits for the next.
        let waiting = std::mem::take(&mut *self.queued.lock());
        if !self.dirty.swap(false, Ordering::AcqRel) && waiting.is_empty() {
            return;
        }
        let cells: Vec<_> = self
            .rooms
            .iter()
            .filter(|e| !self.transient.contains(e.key()))
            .map(|e| e.value().clone())
            .collect();
        let mut records: Vec<Room> = cells
            .iter()
            .filter_map(|c| c.lock().room.catalog_record())
            .collect();
        records.sort_by_key(|r| r.id);
        let file = self.file.clone();
        let count = records.len();
        let stored = tokio::task::spawn_blocking(move || file.store(&records)).await;
        let ok = match stored {
            Ok(Ok(())) => {
                let writes = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::debug!(
                    rooms = count,
                    changes = waiting.len(),
                    writes,
                    "catalog file written"
                );
                true
            }
            Ok(Err(e)) => {
                // The rooms themselves are fine; the next change or flush writes them all.
                tracing::error!(path = %self.file.path().display(), error = %e, changes = waiting.len(), "could not write the catalog file; the changes waiting for it are answered `internal`");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, changes = waiting.len(), "the catalog writer failed; the changes waiting for it are answered `internal`");
                false
            }
        };
        if !ok {
            self.dirty.store(true, Ordering::Release);
            self.metrics.catalog_write_failures.inc();
        }
        for done in waiting {
            let _ = done.send(ok);
        }
    }

    /// Write whenever a change is queued: the first at once, and those that come
    /// while a write runs together, right after it.
    async fn run(self: Arc<Self>) {
        loop {
            self.wake.notified().await;
            self.write_queued().await;
        }
    }
}

impl MemoryBroker {
    pub fn new(hub: Arc<Hub>, metrics: Arc<Metrics>, limits: Limits, history_len: usize) -> Self {
        Self {
            rooms: Arc::new(DashMap::new()),
            hub,
            metrics,
            limits,
            history_len: history_len.max(1),
            catalog: None,
            links: Mutex::default(),
        }
    }

    /// Keep the catalog in `file`: start from the rooms it holds (under a new epoch,
    /// in the session they were in, with nobody present), and write every change to
    /// it from now on. Spawns the writer, so call it inside the runtime. Returns how
    /// many rooms were restored.
    pub fn with_catalog(
        mut self,
        file: CatalogFile,
    ) -> Result<(Self, usize), crate::catalog::CatalogError> {
        let restored = file.load()?;
        let count = restored.len();
        for mut room in restored {
            room.adopt_limits(self.limits);
            let cell = RoomCell {
                room,
                epoch: new_epoch(),
                timeline: Timeline::new(self.history_len),
            };
            self.rooms.insert(cell.room.id, Arc::new(Mutex::new(cell)));
        }
        self.refresh_gauges();
        let writer = Arc::new(CatalogWriter {
            file,
            rooms: self.rooms.clone(),
            transient: DashSet::new(),
            queued: Mutex::new(Vec::new()),
            writes: AtomicU64::new(0),
            dirty: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
            writing: tokio::sync::Mutex::new(()),
            metrics: self.metrics.clone(),
        });
        tokio::spawn(writer.clone().run());
        self.catalog = Some(writer);
        Ok((self, count))
    }

    /// `room`'s catalog record changed: answer once the file holds it. A room the
    /// file does not keep (the demo room), and every room without a catalog file,
    /// waits for nothing.
    async fn catalog_changed(&self, room: RoomId) -> Result<(), BrokerError> {
        let Some(writer) = &self.catalog else {
            return Ok(());
        };
        if writer.transient.contains(&room) || writer.written().await {
            Ok(())
        } else {
            Err(BrokerError::Unconfirmed(
                "the catalog file could not be written".to_owned(),
            ))
        }
    }

    fn cell(&self, id: RoomId) -> Result<Arc<Mutex<RoomCell>>, BrokerError> {
        self.rooms
            .get(&id)
            .map(|c| c.value().clone())
            .ok_or(BrokerError::NoRoom)
    }

    /// Store and deliver the events of one applied command, in order.
    fn publish(&self, id: RoomId, cell: &mut RoomCell, applied: &Applied) {
        cell.timeline.record(Some(&self.hub), id, applied);
    }

    fn refresh_gauges(&self) {
        Metrics::set_gauge(&self.metrics.catalog_rooms, self.rooms.len());
        // One instance keeps every room's clock: counted at once, not a round later.
        Metrics::set_gauge(&self.metrics.rooms, self.rooms.len());
    }
}

#[async_trait]
impl RoomLog for MemoryBroker {
    async fn append(
        &self,
        id: RoomId,
        cmd: Command,
        now: Millis,
        seen: Option<Epoch>,
    ) -> Result<Applied, BrokerError> {
        let cell = self.cell(id)?;
        let (applied, recorded, deleted) = {
            let mut guard = cell.lock();
            // One epoch for a room's life here; a connection welcomed in another was
            // welcomed by another process, and resumes.
            if seen.is_some_and(|epoch| epoch != guard.epoch) {
                return Err(BrokerError::Moved);
            }
            let (applied, recorded) = catalog_change(&mut guard.room, |room| room.apply(cmd, now));
            let applied = applied?;
            self.publish(id, &mut guard, &applied);
            (applied, recorded, guard.room.is_deleted())
        };
        if deleted {
            // Its close is delivered; a command that took the cell before this refuses.
            self.rooms.remove_if(&id, |_, c| Arc::ptr_eq(c, &cell));
            self.refresh_gauges();
        }
        // Its record changed (the operator's change, a facilitator's ban or opening of
        // the session, a held session that closed itself on a tick): answered once the
        // file holds it. A message never changes it, so never waits here.
        if recorded {
            self.catalog_changed(id).await?;
        }
        Ok(applied)
    }

    async fn read(
        &self,
        id: RoomId,
        _reading: Reading,
        look: &mut Look<'_>,
    ) -> Result<(), BrokerError> {
        let cell = self.cell(id)?;
        let cell = cell.lock();
        look(View {
            room: &cell.room,
            timeline: &cell.timeline,
            epoch: cell.epoch,
        });
        Ok(())
    }

    async fn relay(
        &self,
        id: RoomId,
        audience: Audience,
        frame: &Encoded,
        only_if: Option<&RelayIf<'_>>,
    ) -> Result<bool, BrokerError> {
        let Some(only_if) = only_if else {
            self.hub.deliver(id, audience, frame, Effect::None);
            return Ok(true);
        };
        let Ok(cell) = self.cell(id) else {
            return Ok(false);
        };
        // Asked and delivered under the lock every event is delivered under: a frame
        // the room refuses (typing after a mute) never follows the event that made it
        // so.
        let cell = cell.lock();
        if !only_if(&cell.room) {
            return Ok(false);
        }
        self.hub.deliver(id, audience, frame, Effect::None);
        Ok(true)
    }
}

#[async_trait]
impl Catalog for MemoryBroker {
    async fn create(&self, room: Room, _now: Millis) -> Result<(), BrokerError> {
        let id = room.id;
        let cell = RoomCell {
            room,
            epoch: new_epoch(),
            timeline: Timeline::new(self.history_len),
        };
        self.rooms.insert(id, Arc::new(Mutex::new(cell)));
        self.refresh_gauges();
        // A new room: its record is new, and the operator hears of the room only once
        // the file holds it. If it cannot, the room stays (as every change the file
        // could not take does: `Unconfirmed` says the change was made) and is listed.
        self.catalog_changed(id).await
    }

    async fn list(&self) -> Result<Vec<RoomId>, BrokerError> {
        Ok(self.rooms.iter().map(|e| *e.key()).collect())
    }

    fn transient(&self, room: RoomId) {
        if let Some(writer) = &self.catalog {
            writer.transient.insert(room);
        }
    }

    async fn flush(&self) {
        if let Some(writer) = &self.catalog {
            writer.write_queued().await;
        }
    }
}

#[async_trait]
impl OnCallLinks for MemoryBroker {
    async fn keep_link(&self, link: LinkRecord) -> Result<(), BrokerError> {
        self.links.lock().insert(link.id, link);
        Ok(())
    }

    async fn links(&self, now: Millis) -> Result<Vec<LinkRecord>, BrokerError> {
        let mut links = self.links.lock();
        links.retain(|_, l| l.expires_at > now);
        let mut all: Vec<LinkRecord> = links.values().cloned().collect();
        all.sort_by_key(|l| l.created_at);
        Ok(all)
    }

    async fn link_kept(&self, id: OnCallId) -> Result<bool, BrokerError> {
        Ok(self.links.lock().contains_key(&id))
    }

    async fn drop_link(&self, id: OnCallId) -> Result<bool, BrokerError> {
        Ok(self.links.lock().remove(&id).is_some())
    }
}

#[async_trait]
impl Engine for MemoryBroker {
    fn ready(&self) -> bool {
        true
    }

    /// Nothing of its own to keep up: this instance keeps every room's clock.
    async fn upkeep(&self, now: Millis) -> Option<Round> {
        Some(Round {
            now,
            tick: self.rooms.iter().map(|e| *e.key()).collect(),
        })
    }
}

#[cfg(test)]
mod tests;
