//! Filling gaps: reading a room's log from where the replica stopped, reloading from
//! the latest snapshot when the replica fell behind the capped log, storing snapshots,
//! and giving a room back to a Redis that lost it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use kindred_protocol::RoomId;

use super::intake::parse;
use super::log::{Entry, Image, Op, Replica};
use super::store;
use super::{BrokerError, Inner, Slot, new_epoch};
use crate::broker::hub::Kick;
use crate::room::Room;

impl Inner {
    pub(super) fn spawn_snapshot(self: &Arc<Self>, room: RoomId, replica: &Replica, trim: bool) {
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

    pub(super) fn spawn_catch_up(self: &Arc<Self>, room: RoomId) {
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
    pub(super) async fn catch_up(
        self: &Arc<Self>,
        room: RoomId,
        slot: &Slot,
    ) -> Result<(), BrokerError> {
        slot.again.store(true, Ordering::Release);
        let Ok(_one) = slot.catching_up.try_lock() else {
            // The running catch-up goes round again.
            return self.wait_caught_up(slot).await;
        };
        while slot.again.swap(false, Ordering::AcqRel) {
            // An empty read while Redis's head is ahead is usually an append that
            // landed between the two reads: read again before deciding it was trimmed.
            // Counted at one index: while appends keep landing, the replica moves on
            // (pub/sub folds them) and each read is a new race, not a trimmed log.
            let mut empty_reads = (0, 0);
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
                        Some(m)
                            if m.head > index && (empty_reads.0 != index || empty_reads.1 < 3) =>
                        {
                            empty_reads = if empty_reads.0 == index {
                                (index, empty_reads.1 + 1)
                            } else {
                                (index, 1)
                            };
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
    pub(super) async fn reload(
        self: &Arc<Self>,
        room: RoomId,
        slot: &Slot,
    ) -> Result<(), BrokerError> {
        self.load(room, slot).await?;
        if slot.live.load(Ordering::Acquire) {
            self.hub.kick_room(room, Kick::Resync);
        }
        Ok(())
    }

    pub(super) async fn wait_caught_up(&self, slot: &Slot) -> Result<(), BrokerError> {
        let _one = slot.catching_up.lock().await;
        Ok(())
    }

    /// Replace the replica with the room's latest snapshot and the log after it,
    /// folded out of local members' sight (they get the result in their welcome, or
    /// resume from it), then swapped in.
    pub(super) async fn load(
        self: &Arc<Self>,
        room: RoomId,
        slot: &Slot,
    ) -> Result<(), BrokerError> {
        let image = self.store.snapshot(room).await.map_err(Self::unavailable)?;
        let mut replica = match image {
            Some(image) => {
                let image: Image = serde_json::from_str(&image)
                    .map_err(|e| BrokerError::Unavailable(format!("unreadable snapshot: {e}")))?;
                Replica::from_image(image, self.limits, self.history_len)
            }
            // No snapshot yet: the log begins with the room's creation.
            None => {
                let first = self.store.read(room, 1).await.map_err(Self::unavailable)?;
                let (index, entry) = parse(first).into_iter().next().ok_or(BrokerError::NoRoom)?;
                Replica::begin(index, entry, self.limits, self.history_len).ok_or_else(|| {
                    BrokerError::Unavailable("the room's log does not begin with it".into())
                })?
            }
        };
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
        // This instance gives back what its replica says, deleted or not.
        self.remember(room, &replica.room, false);
        *slot.replica.lock() = Some(replica);
        Ok(())
    }

    /// Redis has no state for a room we hold: deleted, or Redis lost its data. Give it
    /// back (fresh epoch) if the catalog still lists it.
    pub(super) async fn lost(
        self: &Arc<Self>,
        room: RoomId,
        slot: &Slot,
    ) -> Result<(), BrokerError> {
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

    /// Begin the room's log again in a new epoch, from its catalog record.
    pub(super) async fn give_back(&self, room: RoomId, record: &str) -> Result<(), BrokerError> {
        let state: Room = serde_json::from_str(record)
            .map_err(|e| BrokerError::Unavailable(format!("unreadable catalog record: {e}")))?;
        let epoch = new_epoch();
        let first = Entry {
            origin: self.me,
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            // The fold of a creation reads no instant.
            ts: 0,
            op: Op::Create {
                room: Box::new(state),
                epoch,
            },
        };
        if self
            .store
            .create(room, epoch, &first)
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
}
