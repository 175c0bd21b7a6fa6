//! The in-memory broker: one instance, nothing to install, nothing on disk.
//!
//! Each room is a domain [`Room`] plus its history behind one mutex. `apply` holds
//! that mutex while it checks, numbers, stores and hands the encoded frames to the
//! hub, so seqs reach every connection in order. The lock is never held across an
//! await: hub delivery is `try_send` only.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use dashmap::DashMap;
use kindred_protocol::http::UpdateRoom;
use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{Epoch, Millis, Quote, Role, RoomId, RoomSummary, Seq, UserId};
use parking_lot::Mutex;

use super::timeline::Timeline;
use super::{Broker, BrokerError, REPORT_CONTEXT, ResumeFrom, Snapshot, new_epoch, summary};
use crate::hub::{Audience, Hub};
use crate::metrics::Metrics;
use crate::room::{Applied, Command, InviteRecord, Limits, Origin, Room, RoomConfig};
use crate::wire::Encoded;

struct RoomCell {
    room: Room,
    epoch: Epoch,
    timeline: Timeline,
}

/// Rooms in this process's memory.
pub struct MemoryBroker {
    rooms: DashMap<RoomId, Arc<Mutex<RoomCell>>>,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    limits: Limits,
    history_len: usize,
}

impl MemoryBroker {
    pub fn new(hub: Arc<Hub>, metrics: Arc<Metrics>, limits: Limits, history_len: usize) -> Self {
        Self {
            rooms: DashMap::new(),
            hub,
            metrics,
            limits,
            history_len: history_len.max(1),
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
    ) -> Result<RoomSummary, BrokerError> {
        let cell = RoomCell {
            room: Room::new(id, config, self.limits),
            epoch: new_epoch(),
            timeline: Timeline::new(self.history_len),
        };
        let summary = summary(&cell.room);
        self.rooms.insert(id, Arc::new(Mutex::new(cell)));
        self.refresh_gauges();
        Ok(summary)
    }

    async fn update_room(
        &self,
        id: RoomId,
        update: UpdateRoom,
        now: Millis,
    ) -> Result<RoomSummary, BrokerError> {
        let cell = self.cell(id)?;
        let mut cell = cell.lock();
        let applied = cell.room.configure(update, now);
        self.publish(id, &mut cell, &applied);
        Ok(summary(&cell.room))
    }

    async fn delete_room(&self, id: RoomId, now: Millis) -> Result<(), BrokerError> {
        let (_, cell) = self.rooms.remove(&id).ok_or(BrokerError::NoRoom)?;
        let mut cell = cell.lock();
        let applied = cell
            .room
            .close_session(Some("this room has been removed".to_owned()), now);
        self.publish(id, &mut cell, &applied);
        self.refresh_gauges();
        Ok(())
    }

    async fn room(&self, id: RoomId) -> Result<RoomSummary, BrokerError> {
        Ok(summary(&self.cell(id)?.lock().room))
    }

    async fn rooms(&self) -> Result<Vec<RoomSummary>, BrokerError> {
        let cells: Vec<_> = self.rooms.iter().map(|e| e.value().clone()).collect();
        Ok(cells.iter().map(|c| summary(&c.lock().room)).collect())
    }

    async fn policy(&self, id: RoomId) -> Result<ContentPolicy, BrokerError> {
        Ok(self.cell(id)?.lock().room.config.policy)
    }

    async fn admits(
        &self,
        id: RoomId,
        role: Role,
        name: &str,
        origin: &Origin,
    ) -> Result<u32, BrokerError> {
        let cell = self.cell(id)?;
        let cell = cell.lock();
        cell.room.admits(role, name, origin)?;
        Ok(cell.room.session())
    }

    async fn invites(&self, id: RoomId) -> Result<Vec<InviteRecord>, BrokerError> {
        Ok(self.cell(id)?.lock().room.invites())
    }

    async fn may_type(&self, id: RoomId, user: UserId, now: Millis) -> bool {
        self.cell(id)
            .is_ok_and(|cell| cell.lock().room.may_type(user, now))
    }

    async fn quotes(&self, id: RoomId, target: Seq) -> Result<Vec<Quote>, BrokerError> {
        Ok(self
            .cell(id)?
            .lock()
            .timeline
            .quotes(target, REPORT_CONTEXT)?)
    }

    async fn apply(&self, id: RoomId, cmd: Command, now: Millis) -> Result<Applied, BrokerError> {
        let started = Instant::now();
        let cell = self.cell(id)?;
        let mut cell = cell.lock();
        let applied = cell.room.apply(cmd, now)?;
        self.publish(id, &mut cell, &applied);
        drop(cell);
        self.metrics
            .broker_publish_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(applied)
    }

    async fn snapshot(
        &self,
        id: RoomId,
        user: UserId,
        resume: Option<ResumeFrom>,
        recent: usize,
    ) -> Result<Snapshot, BrokerError> {
        let cell = self.cell(id)?;
        let cell = cell.lock();
        Ok(cell
            .timeline
            .snapshot(&cell.room, user, cell.epoch, resume, recent))
    }

    async fn notify(
        &self,
        room: RoomId,
        audience: Audience,
        frame: Encoded,
    ) -> Result<(), BrokerError> {
        self.hub
            .deliver(room, audience, &frame, crate::hub::Effect::None);
        Ok(())
    }

    fn ready(&self) -> bool {
        true
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
            if let Ok(applied) = cell.room.apply(Command::Tick, now) {
                self.publish(id, &mut cell, &applied);
            }
            members += cell.room.member_count();
        }
        Metrics::set_gauge(&self.metrics.members, members);
    }
}
