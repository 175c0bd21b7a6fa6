//! The catalog this instance knows: each room's catalog record as this instance's fold
//! last left it (what it gives back to a Redis that lost its data), and the records it
//! stores in Redis's catalog.
//!
//! When a record is stored is decided in one place for both brokers: a fold after
//! which the room's record differs ([`catalog_change`](crate::broker::catalog_change),
//! reported by [`Replica::fold`](super::log::Replica::fold)). Every instance that folds
//! such an entry keeps the new record here; the instance that appended it also stores
//! it in Redis. One writer task per instance stores them, always the latest this
//! instance holds, so two changes folded in order are never stored out of order; a
//! write that fails is tried again once a second until Redis answers.

use std::sync::{Arc, Weak};
use std::time::Instant;

use kindred_protocol::RoomId;
use tokio::sync::mpsc::UnboundedReceiver;

use super::{DELETE_LINGER, Inner};
use crate::metrics::Metrics;
use crate::room::Room;

impl Inner {
    /// The room's catalog record changed in this instance's fold: keep the new one
    /// (none once the room is deleted), and with `store`, store it in Redis.
    pub(super) fn remember(&self, room: RoomId, state: &Room, store: bool) {
        match state.catalog_record().map(|r| serde_json::to_string(&r)) {
            Some(Ok(record)) => {
                self.catalog.lock().insert(room, record);
            }
            Some(Err(e)) => {
                tracing::error!(%room, error = %e, "could not encode the room's catalog record");
                return;
            }
            None => {
                self.catalog.lock().remove(&room);
            }
        }
        self.count_rooms();
        if store {
            self.catalog_unstored.lock().insert(room);
            let _ = self.catalog_wake.send(());
        }
    }

    /// Store every record this instance changed and has not stored yet (each as this
    /// instance holds it now; a deleted room's is dropped).
    pub(super) async fn store_catalog(&self) {
        let rooms: Vec<RoomId> = self.catalog_unstored.lock().drain().collect();
        for room in rooms {
            let record = self.catalog.lock().get(&room).cloned();
            let stored = match &record {
                Some(record) => self.store.put_catalog(room, record, false).await,
                None => self.store.drop_catalog(room).await,
            };
            if let Err(e) = stored {
                tracing::warn!(%room, error = %e, "could not store the room's catalog record; trying again");
                self.catalog_unstored.lock().insert(room);
            }
        }
    }

    /// Once a second: try again what could not be stored.
    pub(super) fn retry_catalog(&self) {
        if !self.catalog_unstored.lock().is_empty() {
            let _ = self.catalog_wake.send(());
        }
    }

    /// A deleted room's state leaves Redis after [`DELETE_LINGER`].
    pub(super) fn spawn_forget(self: &Arc<Self>, room: RoomId) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.store.forget(room, DELETE_LINGER).await {
                tracing::warn!(%room, error = %e, "could not let a deleted room's state expire");
            }
        });
    }

    /// Read Redis's catalog: rooms created on other instances, and records other
    /// instances stored. A room whose replica this instance keeps current (it serves
    /// it) keeps the record of its own fold.
    pub(super) async fn refresh_catalog(&self) {
        if let Ok(records) = self.store.catalog().await {
            let mut catalog = self.catalog.lock();
            for (id, record) in records {
                let Ok(id) = id.parse::<RoomId>() else {
                    continue;
                };
                let served = self.rooms.get(&id).is_some_and(|slot| {
                    slot.live.load(std::sync::atomic::Ordering::Acquire)
                        && slot.replica.lock().is_some()
                });
                if !(served && catalog.contains_key(&id)) {
                    catalog.insert(id, record);
                }
            }
        }
        *self.catalog_read.lock() = Some(Instant::now());
        self.count_rooms();
    }

    pub(super) fn count_rooms(&self) {
        Metrics::set_gauge(&self.metrics.catalog_rooms, self.catalog.lock().len());
    }
}

/// Store the records this instance changed, in the order it changed them, until the
/// broker is dropped.
pub(super) async fn store_catalog(inner: Weak<Inner>, mut wake: UnboundedReceiver<()>) {
    while wake.recv().await.is_some() {
        let Some(inner) = inner.upgrade() else { return };
        inner.store_catalog().await;
    }
}
