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
//! ([`catalog_change`](super::catalog_change)), marks the file dirty; a background
//! writer rewrites it at most every [`CATALOG_DEBOUNCE`], off the room locks, and
//! [`Catalog::flush`] writes the last changes at a clean shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use dashmap::{DashMap, DashSet};
use kindred_protocol::{Epoch, Millis, RoomId};
use parking_lot::Mutex;

use super::hub::{Audience, Effect, Hub};
use super::timeline::Timeline;
use super::{
    BrokerError, Catalog, Engine, Look, Reading, RelayIf, RoomLog, Round, View, catalog_change,
    new_epoch,
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
        Metrics::set_gauge(&self.metrics.catalog_rooms, self.rooms.len());
        // One instance keeps every room's clock: counted at once, not a round later.
        Metrics::set_gauge(&self.metrics.rooms, self.rooms.len());
    }
}

#[async_trait]
impl RoomLog for MemoryBroker {
    async fn append(&self, id: RoomId, cmd: Command, now: Millis) -> Result<Applied, BrokerError> {
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
        // Its record changed (the operator's change, a facilitator opening the session,
        // a held session that closed itself on a tick): the file is written again.
        if recorded {
            self.catalog_changed();
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
        // A new room: its record is new.
        self.catalog_changed();
        Ok(())
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
            writer.write_if_dirty().await;
        }
    }
}

#[async_trait]
impl Engine for MemoryBroker {
    fn ready(&self) -> bool {
        true
    }

    /// Nothing of its own to keep up: this instance keeps every room's clock.
    async fn upkeep(&self, now: Millis) -> Option<Round> {
        let rooms: Vec<RoomId> = self.rooms.iter().map(|e| *e.key()).collect();
        Some(Round {
            now,
            tick: rooms.clone(),
            served: rooms,
        })
    }
}
