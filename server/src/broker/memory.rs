//! The in-memory broker: one instance, nothing to install, nothing on disk unless
//! the operator names a catalog file.
//!
//! Each room is a domain [`Room`] plus its history behind one mutex. `apply` holds
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
//! ([`catalog_change`](super::catalog_change)), marks the file dirty; a background
//! writer rewrites it at most every [`CATALOG_DEBOUNCE`], off the room locks, and
//! [`Broker::flush`] writes the last changes at a clean shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dashmap::{DashMap, DashSet};
use kindred_protocol::{Epoch, Millis, RoomId, RoomSummary, UserId};
use parking_lot::Mutex;

use super::hub::{Audience, Effect, Hub, Peer};
use super::timeline::Timeline;
use super::{
    Broker, BrokerError, Reading, ResumeFrom, Snapshot, catalog_change, new_epoch, summary,
};
use crate::catalog::CatalogFile;
use crate::metrics::Metrics;
use crate::room::{Applied, Command, Limits, Room, RoomConfig};
use crate::wire::{self, Encoded};

struct RoomCell {
    room: Room,
    epoch: Epoch,
    timeline: Timeline,
}

/// How long the catalog writer waits after a change before it writes, so a burst of
/// changes (a facilitator's busy minute) is one write.
pub const CATALOG_DEBOUNCE: Duration = Duration::from_millis(250);

type Rooms = DashMap<RoomId, Arc<Mutex<RoomCell>>>;

/// Rooms in this process's memory.
pub struct MemoryBroker {
    rooms: Arc<Rooms>,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    limits: Limits,
    history_len: usize,
    catalog: Option<Arc<CatalogWriter>>,
}

/// Keeps the catalog file in step with the rooms.
struct CatalogWriter {
    file: CatalogFile,
    rooms: Arc<Rooms>,
    /// Rooms that are not kept across a restart (the demo room).
    transient: DashSet<RoomId>,
    dirty: AtomicBool,
    wake: tokio::sync::Notify,
    /// One write at a time (the background writer and a flush).
    writing: tokio::sync::Mutex<()>,
    metrics: Arc<Metrics>,
}

impl CatalogWriter {
    fn touch(&self) {
        self.dirty.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Write the file if anything changed since the last write.
    async fn write_if_dirty(&self) {
        let _one = self.writing.lock().await;
        if !self.dirty.swap(false, Ordering::AcqRel) {
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
        let written = tokio::task::spawn_blocking(move || file.store(&records)).await;
        match written {
            Ok(Ok(())) => {
                tracing::debug!(rooms = count, "catalog file written");
            }
            Ok(Err(e)) => {
                // Try again at the next change or flush; the rooms themselves are fine.
                self.dirty.store(true, Ordering::Release);
                self.metrics.catalog_write_failures.inc();
                tracing::error!(path = %self.file.path().display(), error = %e, "could not write the catalog file");
            }
            Err(e) => {
                self.dirty.store(true, Ordering::Release);
                self.metrics.catalog_write_failures.inc();
                tracing::error!(error = %e, "the catalog writer failed");
            }
        }
    }

    /// Write each burst of changes, [`CATALOG_DEBOUNCE`] after its first.
    async fn run(self: Arc<Self>) {
        loop {
            self.wake.notified().await;
            tokio::time::sleep(CATALOG_DEBOUNCE).await;
            self.write_if_dirty().await;
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
            dirty: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
            writing: tokio::sync::Mutex::new(()),
            metrics: self.metrics.clone(),
        });
        tokio::spawn(writer.clone().run());
        self.catalog = Some(writer);
        Ok((self, count))
    }

    fn catalog_changed(&self) {
        if let Some(writer) = &self.catalog {
            writer.touch();
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
        Metrics::set_gauge(&self.metrics.rooms, self.rooms.len());
    }
}

#[async_trait]
impl Broker for MemoryBroker {
    async fn create_room(
        &self,
        id: RoomId,
        config: RoomConfig,
        _now: Millis,
    ) -> Result<RoomSummary, BrokerError> {
        let cell = RoomCell {
            room: Room::new(id, config, self.limits),
            epoch: new_epoch(),
            timeline: Timeline::new(self.history_len),
        };
        let summary = summary(&cell.room);
        self.rooms.insert(id, Arc::new(Mutex::new(cell)));
        self.refresh_gauges();
        // A new room: its record is new.
        self.catalog_changed();
        Ok(summary)
    }

    async fn rooms(&self) -> Result<Vec<RoomSummary>, BrokerError> {
        let cells: Vec<_> = self.rooms.iter().map(|e| e.value().clone()).collect();
        Ok(cells.iter().map(|c| summary(&c.lock().room)).collect())
    }

    async fn read(
        &self,
        id: RoomId,
        _reading: Reading,
        look: &mut (dyn for<'r> FnMut(&'r Room, &'r Timeline) + Send),
    ) -> Result<(), BrokerError> {
        let cell = self.cell(id)?;
        let cell = cell.lock();
        look(&cell.room, &cell.timeline);
        Ok(())
    }

    async fn typing(&self, id: RoomId, user: UserId, name: &str, now: Millis) -> bool {
        let Ok(cell) = self.cell(id) else {
            return false;
        };
        let cell = cell.lock();
        if !cell.room.may_type(user, now) {
            return false;
        }
        let frame = wire::encode(&wire::typing(user, name));
        self.hub
            .deliver(id, Audience::Others(user), &frame, Effect::None);
        true
    }

    async fn unkept_alert(&self, room: RoomId, alert: Encoded) -> Result<(), BrokerError> {
        self.hub
            .deliver(room, Audience::Facilitators, &alert, Effect::None);
        Ok(())
    }

    async fn apply(&self, id: RoomId, cmd: Command, now: Millis) -> Result<Applied, BrokerError> {
        let started = Instant::now();
        let cell = self.cell(id)?;
        let mut guard = cell.lock();
        let (applied, recorded) = catalog_change(&mut guard.room, |room| room.apply(cmd, now));
        let applied = applied?;
        self.publish(id, &mut guard, &applied);
        let deleted = guard.room.is_deleted();
        drop(guard);
        if deleted {
            // Its close is delivered; a command that took the cell before this refuses.
            self.rooms.remove_if(&id, |_, c| Arc::ptr_eq(c, &cell));
            self.refresh_gauges();
        }
        if recorded {
            self.catalog_changed();
        }
        self.metrics
            .broker_publish_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(applied)
    }

    async fn snapshot(
        &self,
        id: RoomId,
        peer: &Peer,
        resume: Option<ResumeFrom>,
        recent: usize,
    ) -> Result<Snapshot, BrokerError> {
        let cell = self.cell(id)?;
        let cell = cell.lock();
        Ok(cell
            .timeline
            .arrival(&cell.room, peer, cell.epoch, resume, recent)?)
    }

    fn ready(&self) -> bool {
        true
    }

    fn transient(&self, room: RoomId) {
        if let Some(writer) = &self.catalog {
            writer.transient.insert(room);
        }
    }

    async fn flush(&self) {
        if let Some(writer) = &self.catalog {
            writer.write_if_dirty().await;
        }
    }

    async fn tick(&self, now: Millis) {
        let cells: Vec<_> = self
            .rooms
            .iter()
            .map(|e| (*e.key(), e.value().clone()))
            .collect();
        let mut members = 0;
        for (id, cell) in cells {
            let mut cell = cell.lock();
            let (applied, recorded) =
                catalog_change(&mut cell.room, |room| room.apply(Command::Tick, now));
            if let Ok(applied) = applied {
                self.publish(id, &mut cell, &applied);
            }
            // A held session that closed itself starts the next session.
            if recorded {
                self.catalog_changed();
            }
            members += cell.room.member_count();
        }
        Metrics::set_gauge(&self.metrics.members, members);
    }
}
