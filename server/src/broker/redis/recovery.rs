//! Filling gaps: reading a room's log from where the replica stopped, reloading from
//! the latest snapshot when the replica fell behind the capped log, storing snapshots,
//! and giving a room back to a Redis that lost it.
//!
//! Two faults move a room to a new epoch, so nothing is ever served under an epoch
//! whose content changed: a log that went backwards (Redis's head below a replica's
//! index, an append refused as `behind`, an index folded here that now holds another
//! entry: [`Inner::went_back`]), and entries no instance can fold (one that does not
//! parse, a newer format, a hole: [`Inner::contain`], which steps over them from a
//! snapshot past them). Either way every instance reloads and its members resume with
//! a reset. Every read here is bounded: a catch-up or load gives up after a few
//! reloads, and a wait for another's catch-up after [`APPLY_PATIENCE`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use kindred_protocol::{Epoch, RoomId};

use super::intake::parse;
use super::log::{Entry, Image, Op, Replica};
use super::store;
use super::{APPLY_PATIENCE, BrokerError, Inner, Slot, new_epoch};
use crate::broker::hub::Kick;
use crate::room::Room;

/// Reloads within one catch-up, and tries of one load, before giving up for now.
const MAX_RELOADS: usize = 3;

impl Inner {
    /// Store the replica's snapshot (`trim`: and drop the log before it, at a close).
    /// Called under the replica's lock, which every fold and delivery of the room on
    /// this instance waits on (and, through the one listener task, every other room's):
    /// only the copy is taken there; encoding it (hundreds of KB of JSON for a room
    /// with a long history) happens in the spawned task, off the lock.
    pub(super) fn spawn_snapshot(self: &Arc<Self>, room: RoomId, replica: &Replica, trim: bool) {
        let (epoch, index, session) = (replica.epoch, replica.index, replica.room.session());
        let image = replica.image();
        let this = self.clone();
        tokio::spawn(async move {
            let image = match serde_json::to_string(&image) {
                Ok(image) => image,
                Err(e) => {
                    tracing::error!(%room, index, error = %e, "could not encode a snapshot");
                    return;
                }
            };
            if let Err(e) = this
                .store
                .save_snapshot(room, (epoch, index), session, &image, trim)
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
    /// Bounded: each round reads or reloads a bounded number of times, and a round
    /// that moved nothing is not repeated.
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
            let before = slot.index();
            self.catch_up_round(room, slot).await?;
            let after = slot.index();
            if after != before && slot.seen.load(Ordering::Relaxed) > after.map_or(0, |(i, _)| i) {
                slot.again.store(true, Ordering::Release);
            }
        }
        Ok(())
    }

    async fn catch_up_round(
        self: &Arc<Self>,
        room: RoomId,
        slot: &Slot,
    ) -> Result<(), BrokerError> {
        // The head and the entries are read at one instant (the `READ` script), so an
        // empty read while the head is ahead is no race with an append: the stream no
        // longer holds the next entry (trimmed past us at a close; the snapshot has it).
        let mut reloads = 0;
        loop {
            let Some((index, epoch)) = slot.index() else {
                self.load(room, slot, false).await?;
                continue;
            };
            let batch = self
                .store
                .read(room, index + 1)
                .await
                .map_err(Self::unavailable)?;
            let Some(meta) = batch.meta else {
                return self.lost(room, slot).await;
            };
            let (entries, unreadable) = parse(batch.entries);
            let first = entries.first().map(|(i, _)| *i).or(unreadable);
            let reload = if meta.epoch != epoch {
                // The room lives on under another epoch.
                true
            } else if meta.head < index {
                // Redis lost entries this replica folded.
                self.went_back(room, epoch).await?;
                true
            } else if first.is_some_and(|i| i != index + 1) {
                // The stream no longer reaches back to this replica (or has a hole).
                true
            } else if unreadable == Some(index + 1) {
                // The next entry cannot be folded here: the reload contains it.
                true
            } else {
                // Empty while the head is ahead: trimmed past us (a close), and the
                // snapshot has it.
                first.is_none() && meta.head > index
            };
            if reload {
                reloads += 1;
                if reloads > MAX_RELOADS {
                    return Err(BrokerError::Unavailable(
                        "the room's log kept changing while it was read; try again".into(),
                    ));
                }
                self.reload(room, slot).await?;
                continue;
            }
            if first.is_none() {
                return Ok(());
            }
            let full = entries.len() + usize::from(unreadable.is_some()) >= store::READ_BATCH;
            // A gap inside the batch: the next read starts at it, and finds it.
            let gap = self.fold(room, slot, entries);
            if !full && unreadable.is_none() && !gap {
                return Ok(());
            }
        }
    }

    /// Redis lost entries of the room's log that replicas folded (a failover to a
    /// replica that lagged, writes not yet synced, an older backup restored): its
    /// indexes will be used again for other entries, so the room goes on under a new
    /// epoch from what Redis holds, and members resume with a reset. If another
    /// instance moved it first, this one only reloads.
    pub(super) async fn went_back(&self, room: RoomId, epoch: Epoch) -> Result<(), BrokerError> {
        let moved = self
            .store
            .reepoch(room, epoch, new_epoch(), None)
            .await
            .map_err(Self::unavailable)?;
        if moved {
            tracing::warn!(%room, "Redis lost the room's latest entries; it goes on under a new epoch");
        }
        Ok(())
    }

    /// [`Inner::went_back`], then reload, for a fold that found it out.
    pub(super) fn spawn_went_back(self: &Arc<Self>, room: RoomId, epoch: Epoch) {
        let this = self.clone();
        tokio::spawn(async move {
            if this.went_back(room, epoch).await.is_ok() {
                this.spawn_catch_up(room);
            }
        });
    }

    /// Replace a replica that can no longer be caught up entry by entry; members fed
    /// from it resume (from the reloaded history, or with a reset in a new epoch).
    pub(super) async fn reload(
        self: &Arc<Self>,
        room: RoomId,
        slot: &Slot,
    ) -> Result<(), BrokerError> {
        self.load(room, slot, true).await
    }

    /// Wait for the running catch-up, within [`APPLY_PATIENCE`]: a send never waits on
    /// Redis without a bound.
    pub(super) async fn wait_caught_up(&self, slot: &Slot) -> Result<(), BrokerError> {
        match tokio::time::timeout(APPLY_PATIENCE, slot.catching_up.lock()).await {
            Ok(_one) => Ok(()),
            Err(_) => Err(BrokerError::Unavailable(
                "the room's log is still being read; try again".into(),
            )),
        }
    }

    /// Replace the replica with the room's latest snapshot and the log after it,
    /// folded out of local members' sight (they get the result in their welcome, or
    /// resume from it), then swapped in. Tried again if the room changed epoch while it
    /// was read, a bounded number of times. `resync`: the members fed from the replica
    /// it replaces are asked to resume, under the lock of the swap, so none of them is
    /// handed an event of the new replica first (whose seqs may name other events).
    pub(super) async fn load(
        self: &Arc<Self>,
        room: RoomId,
        slot: &Slot,
        resync: bool,
    ) -> Result<(), BrokerError> {
        for attempt in 1..=MAX_RELOADS {
            let Some(replica) = self.load_once(room, attempt == MAX_RELOADS).await? else {
                continue;
            };
            // Indexes seen on pub/sub under an earlier epoch mean nothing now.
            slot.seen.store(replica.index, Ordering::Relaxed);
            // This instance gives back what its replica says, deleted or not.
            self.remember(room, &replica.room, false);
            let mut held = slot.replica.lock();
            *held = Some(replica);
            if resync && slot.live.load(Ordering::Acquire) {
                self.hub.kick_room(room, Kick::Resync);
            }
            return Ok(());
        }
        Err(BrokerError::Unavailable(
            "the room's log kept changing while it was read; try again".into(),
        ))
    }

    /// One reading of the room: `None` if it changed epoch meanwhile (or, unless
    /// `last`, showed a hole that a trim in between could explain). An entry this build
    /// cannot fold, or a hole seen on the `last` try, is contained: the room goes on
    /// from a snapshot past it, in a new epoch ([`Inner::contain`]).
    async fn load_once(
        self: &Arc<Self>,
        room: RoomId,
        last: bool,
    ) -> Result<Option<Replica>, BrokerError> {
        let image = self.store.snapshot(room).await.map_err(Self::unavailable)?;
        let mut epoch = None;
        let mut replica = match image {
            Some(Some(image)) => {
                let image: Image = serde_json::from_str(&image)
                    .map_err(|e| BrokerError::Unavailable(format!("unreadable snapshot: {e}")))?;
                Replica::from_image(image, self.limits, self.history_len)
            }
            // It does not open: sealed with another secret, or changed.
            Some(None) => {
                let Some((replica, moved)) = self.past_snapshot(room).await? else {
                    return Ok(None);
                };
                epoch = Some(moved);
                replica
            }
            // No snapshot yet: the log begins with the room's creation.
            None => {
                let batch = self.store.read(room, 1).await.map_err(Self::unavailable)?;
                let (first, _) = parse(batch.entries);
                let (index, entry) = first.into_iter().next().ok_or(BrokerError::NoRoom)?;
                Replica::begin(index, entry, self.limits, self.history_len).ok_or_else(|| {
                    BrokerError::Unavailable("the room's log does not begin with it".into())
                })?
            }
        };
        loop {
            let batch = self
                .store
                .read(room, replica.index + 1)
                .await
                .map_err(Self::unavailable)?;
            let meta = batch.meta.ok_or(BrokerError::NoRoom)?;
            // The epoch is Redis's: a snapshot or a creation names the one it was
            // written in, and the room may have moved on since.
            if *epoch.get_or_insert(meta.epoch) != meta.epoch {
                return Ok(None);
            }
            replica.epoch = meta.epoch;
            let (mut entries, unreadable) = parse(batch.entries);
            let full = entries.len() + usize::from(unreadable.is_some()) >= store::READ_BATCH;
            // The entries that follow the replica without a gap are folded; what comes
            // after them is an entry this build cannot fold, a hole, or nothing.
            let from = replica.index + 1;
            let run = entries
                .iter()
                .zip(from..)
                .take_while(|((i, _), want)| i == want)
                .count();
            let expected = from + run as u64;
            let after = entries.get(run).map(|(i, _)| *i).or(unreadable);
            entries.truncate(run);
            self.fold_into(room, &mut replica, entries, false);
            let past = match after {
                None if full => continue,
                None => return Ok(Some(replica)),
                Some(bad) if bad == expected => bad,
                // A hole: entries no instance can read any more, unless a trim in
                // between explains it (then the next try finds a newer snapshot).
                Some(_) if !last => return Ok(None),
                Some(next) => next - 1,
            };
            let Some(moved) = self.contain(room, &mut replica, past).await? else {
                return Ok(None);
            };
            epoch = Some(moved);
        }
    }

    /// The room's log holds entries this build cannot fold, up to `past` (one that does
    /// not parse, a newer format, or a hole): never read entry by entry again, they are
    /// stepped over, and the room goes on under a new epoch from a snapshot of
    /// `replica` at `past`, so every instance folds the same from there. Counted and
    /// logged by index only. `None` if another instance moved the room first.
    async fn contain(
        &self,
        room: RoomId,
        replica: &mut Replica,
        past: u64,
    ) -> Result<Option<Epoch>, BrokerError> {
        self.metrics.log_unreadable.inc();
        tracing::error!(
            %room,
            from = replica.index + 1,
            to = past,
            "entries of the room's log cannot be read here; the room goes on from a snapshot past them, in a new epoch"
        );
        let epoch = new_epoch();
        let from = replica.epoch;
        replica.index = past;
        replica.epoch = epoch;
        let image = serde_json::to_string(&replica.image())
            .map_err(|e| BrokerError::Unavailable(format!("encoding a snapshot: {e}")))?;
        let moved = self
            .store
            .reepoch(
                room,
                from,
                epoch,
                Some((past, replica.room.session(), &image)),
            )
            .await
            .map_err(Self::unavailable)?;
        Ok(moved.then_some(epoch))
    }

    /// The room's snapshot cannot be read here (sealed under another secret, or
    /// damaged), and then nothing of its session can be: the room goes on from its
    /// catalog record (settings, bans, invites, session number) past every entry of its
    /// log, in a new epoch, contained as an unreadable entry is ([`Inner::contain`]).
    /// `None` if another instance moved it first (read again).
    async fn past_snapshot(&self, room: RoomId) -> Result<Option<(Replica, Epoch)>, BrokerError> {
        let record = self.catalog.lock().get(&room).cloned();
        let record = record.ok_or_else(|| {
            BrokerError::Unavailable(
                "the room's snapshot cannot be read, and it has no catalog record here".into(),
            )
        })?;
        let state: Room = serde_json::from_str(&record)
            .map_err(|e| BrokerError::Unavailable(format!("unreadable catalog record: {e}")))?;
        // Past the newest index: nothing but the room's position.
        let batch = self
            .store
            .read(room, u64::MAX)
            .await
            .map_err(Self::unavailable)?;
        let meta = batch.meta.ok_or(BrokerError::NoRoom)?;
        let mut replica =
            Replica::from_image(Image::new(state, meta.epoch), self.limits, self.history_len);
        let moved = self.contain(room, &mut replica, meta.head).await?;
        Ok(moved.map(|epoch| (replica, epoch)))
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
        // The fold of a creation reads no instant.
        let first = Entry::new(
            self.me,
            self.next_id.fetch_add(1, Ordering::Relaxed),
            0,
            Op::Create {
                room: Box::new(state),
                epoch,
            },
        );
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
