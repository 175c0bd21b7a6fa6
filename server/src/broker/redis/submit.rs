//! Serving a room to this instance's members: its subscription and replica, a fresh
//! read for a room this instance does not serve, and appending a member's command to
//! the room's log (after the room's rules, [`Room::permit`](crate::room::Room::permit))
//! and waiting until it is folded here.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use kindred_protocol::{Millis, RoomId};
use tokio::sync::oneshot;

use super::log::{Entry, Op};
use super::store::Appended;
use super::{APPLY_PATIENCE, BrokerError, Inner, PUBSUB_PATIENCE, Slot};
use crate::room::{Applied, Command};

impl Inner {
    /// The room's slot, subscribed and with a replica, for a member of this instance.
    pub(super) async fn serve(self: &Arc<Self>, room: RoomId) -> Result<Arc<Slot>, BrokerError> {
        let slot = self.slot(room);
        if !slot.subscribed.load(Ordering::Acquire) {
            // Bounded like every wait on Redis: another arrival may be subscribing.
            let _one = tokio::time::timeout(APPLY_PATIENCE, slot.subscribing.lock())
                .await
                .map_err(|_| Self::unavailable("the room is still being opened; try again"))?;
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
    pub(super) async fn fresh(self: &Arc<Self>, room: RoomId) -> Result<Arc<Slot>, BrokerError> {
        let slot = self.slot(room);
        let live = slot.live.load(Ordering::Acquire) && slot.index().is_some();
        if !live {
            self.catch_up(room, &slot).await?;
        }
        if slot.replica.lock().as_ref().is_none_or(|r| r.deleted()) {
            return Err(BrokerError::NoRoom);
        }
        Ok(slot)
    }

    /// Append an op to the room's log and wait until this instance has folded it.
    pub(super) async fn submit(
        self: &Arc<Self>,
        room: RoomId,
        op: Op,
        now: Millis,
    ) -> Result<Applied, BrokerError> {
        let slot = self.serve(room).await?;
        // A member's arrival or departure is folded before or after a restatement of
        // this instance's connections, never across it (`Slot::presence`).
        let _presence = match &op {
            Op::Command(Command::Connect { .. } | Command::Disconnect { .. }) => {
                Some(slot.presence.read().await)
            }
            _ => None,
        };
        let (epoch, folded, session) = {
            let guard = slot.replica.lock();
            let Some(replica) = guard.as_ref().filter(|r| !r.deleted()) else {
                return Err(BrokerError::NoRoom);
            };
            // Rules before the log: a command its sender may not give is refused here,
            // at the cost of a lookup, and never costs the other instances a fold.
            if let Op::Command(cmd) = &op {
                replica.room.permit(cmd)?;
            }
            (replica.epoch, replica.index, replica.room.session())
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, mut rx) = oneshot::channel();
        self.waiters.insert(id, tx);
        let entry = Entry::new(self.me, id, now, op);
        let appended = self
            .store
            .append(room, (epoch, folded), session, &entry)
            .await;
        let settle = |this: &Self| {
            this.waiters.remove(&id);
        };
        match appended {
            Ok(Appended::At(_)) => {
                // In the room now (every instance folds it); the ack also says what
                // `--redis-durability` asks, or the member is told it could not.
                if let Err(why) = self.store.confirm().await {
                    settle(self);
                    tracing::warn!(%room, reason = %why, "an entry's durability was not confirmed");
                    return Err(BrokerError::Unconfirmed(why));
                }
            }
            Ok(Appended::Missing) => {
                settle(self);
                self.lost(room, &slot).await?;
                return Err(BrokerError::Unavailable(
                    "the room was restored after a storage failure; try again".into(),
                ));
            }
            Ok(Appended::Behind(head)) => {
                // Redis lost entries this replica folded: nothing was appended, and the
                // room goes on under a new epoch (members resume with a reset). Reloaded
                // before the answer, so the client's retry meets the new epoch.
                settle(self);
                tracing::warn!(%room, head, folded, "the room's log went backwards");
                self.went_back(room, epoch).await?;
                let _ = self.catch_up(room, &slot).await;
                return Err(BrokerError::Unavailable(
                    "the room's history was reset; try again".into(),
                ));
            }
            Ok(Appended::Epoch(_)) => {
                settle(self);
                let _ = self.catch_up(room, &slot).await;
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
}
