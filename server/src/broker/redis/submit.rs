//! Serving a room to this instance's members: its subscription and replica, a fresh
//! read for a room this instance does not serve, and appending a member's command to
//! the room's log (after the room's rules, [`Room::permit`](crate::room::Room::permit))
//! and waiting until it is folded here, answered within a bound whatever Redis does.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use kindred_protocol::{Epoch, Millis, RoomId};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::log::{Entry, Op};
use super::store::Appended;
use super::{
    ANSWER_WITHIN, APPLY_PATIENCE, Answer, BrokerError, CLOCK_MARGIN, Inner, PUBSUB_PATIENCE, Slot,
};
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

    /// Append an op to the room's log and wait until this instance has folded it,
    /// answered within [`ANSWER_WITHIN`]: at once (`internal`, nothing sent) while
    /// Redis is known to be away, and otherwise by then, whatever Redis does. The
    /// append carries the last moment Redis may run it, on Redis's clock, which comes
    /// before that answer: a command answered `internal` is never applied afterwards
    /// (a script that waited in a stopped Redis's socket, or that the client library
    /// resent after a dropped connection, finds itself late and writes nothing), so a
    /// client's retry lands once, where it is sent. What the command was waiting on (a
    /// subscription, a catch-up) goes on past the answer, on a task of its own.
    ///
    /// `seen`, a member's connection's epoch: a command is appended only while the
    /// replica is in it, and answered only from a fold in it ([`BrokerError::Moved`]
    /// otherwise: that connection is about to be asked to resume, and what the room
    /// numbers now would mean other events to it).
    pub(super) async fn submit(
        self: &Arc<Self>,
        room: RoomId,
        op: Op,
        now: Millis,
        seen: Option<Epoch>,
    ) -> Result<Applied, BrokerError> {
        if self.away.load(Ordering::Acquire) {
            return Err(Self::unavailable("Redis is out of reach; try again"));
        }
        let by = Instant::now() + ANSWER_WITHIN;
        let slot = {
            let this = self.clone();
            until(by, async move { this.serve(room).await }).await?
        };
        // A member's arrival or departure is folded before or after a restatement of
        // this instance's connections, never across it (`Slot::presence`).
        let _presence = match &op {
            Op::Command(Command::Connect { .. } | Command::Disconnect { .. }) => Some(
                tokio::time::timeout_at(by, slot.presence.read())
                    .await
                    .map_err(|_| Self::unavailable("the room is being restated; try again"))?,
            ),
            _ => None,
        };
        let (epoch, folded, session) = {
            let guard = slot.replica.lock();
            let Some(replica) = guard.as_ref().filter(|r| !r.deleted()) else {
                return Err(BrokerError::NoRoom);
            };
            if seen.is_some_and(|seen| seen != replica.epoch) {
                return Err(BrokerError::Moved);
            }
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
        let _waiting = Waiting {
            inner: self.as_ref(),
            id,
        };
        let entry = Entry::new(self.me, id, now, op);
        let not_after = self.redis_time_at(by);
        let appended = tokio::time::timeout_at(
            by,
            self.store
                .append(room, (epoch, folded), session, &entry, not_after),
        )
        .await;
        match appended {
            Ok(Ok(Appended::At(index, stamped))) => {
                // Folded here from the answer when the replica is at the entry before
                // it: the ack and this instance's deliveries need not wait for the
                // published copy, which is then skipped unread.
                if let Some(stamped) = stamped {
                    self.fold_own(room, &slot, (epoch, index), *stamped);
                }
                // In the room now (every instance folds it); the ack also says what
                // `--redis-durability` asks, or the member is told it could not.
                if let Err(why) = self.store.confirm().await {
                    tracing::warn!(%room, reason = %why, "an entry's durability was not confirmed");
                    return Err(BrokerError::Unconfirmed(why));
                }
            }
            Ok(Ok(Appended::Missing)) => {
                let this = self.clone();
                let lost = slot.clone();
                until(by, async move { this.lost(room, &lost).await }).await?;
                return Err(BrokerError::Unavailable(
                    "the room was restored after a storage failure; try again".into(),
                ));
            }
            Ok(Ok(Appended::Behind(head))) => {
                // Redis lost entries this replica folded: nothing was appended, and the
                // room goes on under a new epoch (members resume with a reset). Reloaded
                // before the answer, so the client's retry meets the new epoch.
                tracing::warn!(%room, head, folded, "the room's log went backwards");
                let this = self.clone();
                let behind = slot.clone();
                let _ = until(by, async move {
                    this.went_back(room, epoch).await?;
                    this.catch_up(room, &behind).await
                })
                .await;
                return Err(BrokerError::Unavailable(
                    "the room's history was reset; try again".into(),
                ));
            }
            Ok(Ok(Appended::Epoch(now))) => {
                tracing::debug!(%room, epoch = now, "the room goes on under another epoch");
                let _ = self.caught_up_by(room, &slot, by).await;
                return Err(BrokerError::Unavailable(
                    "the room's history was reset; try again".into(),
                ));
            }
            Ok(Ok(Appended::Late)) => {
                // Redis ran it past its moment: a clock that moved, or a Redis too slow
                // to answer in time. Nothing was written.
                tracing::warn!(%room, "Redis ran an append after its last moment");
                return Err(Self::unavailable("Redis answered too late; try again"));
            }
            Ok(Err(e)) => {
                // The script may have run: read the stream, so a retry finds its
                // own message (the member's client_id) in the replica.
                tracing::warn!(%room, error = %e, "append failed");
                let _ = self.caught_up_by(room, &slot, by).await;
                if let Ok(answer) = rx.try_recv() {
                    return answered(answer, seen);
                }
                self.went_away();
                return Err(Self::unavailable(e));
            }
            Err(_) => {
                // No answer by the deadline: Redis is taken to be away until a ping is
                // answered, and the script, if Redis ever runs it, finds itself late.
                tracing::warn!(%room, "Redis did not answer an append in time");
                self.went_away();
                return Err(Self::unavailable("Redis did not answer in time; try again"));
            }
        }
        let pubsub = (Instant::now() + PUBSUB_PATIENCE).min(by);
        if let Ok(Ok(answer)) = tokio::time::timeout_at(pubsub, &mut rx).await {
            return answered(answer, seen);
        }
        let _ = self.caught_up_by(room, &slot, by).await;
        match tokio::time::timeout_at(by, rx).await {
            Ok(Ok(answer)) => answered(answer, seen),
            _ => Err(BrokerError::Unavailable(
                "the room did not confirm in time; try again".into(),
            )),
        }
    }

    /// [`Inner::catch_up`] on a task of its own, waited for until `by`.
    async fn caught_up_by(
        self: &Arc<Self>,
        room: RoomId,
        slot: &Arc<Slot>,
        by: Instant,
    ) -> Result<(), BrokerError> {
        let this = self.clone();
        let slot = slot.clone();
        until(by, async move { this.catch_up(room, &slot).await }).await
    }

    /// A command did not reach Redis: the next ones are answered at once (each would
    /// otherwise wait its whole bound behind the one before it, and a session's
    /// commands queue behind each other) until a probe reaches Redis, one tried now
    /// (a dropped connection is made again at once when Redis is there: a restart)
    /// and then once a second (`maintain`).
    pub(super) fn went_away(self: &Arc<Self>) {
        self.away.store(true, Ordering::Release);
        self.set_ready(false);
        let this = self.clone();
        tokio::spawn(async move {
            this.probe().await;
        });
    }

    /// Keep a reading of Redis's clock (`now`, ms), just answered.
    pub(super) fn read_redis_clock(&self, now: Millis) {
        *self.redis_clock.lock() = (now, std::time::Instant::now());
    }

    /// The latest Redis's clock is sure to have passed by `at`, less [`CLOCK_MARGIN`]:
    /// Redis read its clock before this instance had the answer, so its clock had
    /// reached the reading by then and has run on since.
    fn redis_time_at(&self, at: Instant) -> Millis {
        let (read, when) = *self.redis_clock.lock();
        last_moment(read, when, at.into_std())
    }
}

/// Redis's clock at `at`, at the least, from a reading `read` (ms) whose answer
/// arrived at `when`, less [`CLOCK_MARGIN`].
fn last_moment(read: Millis, when: std::time::Instant, at: std::time::Instant) -> Millis {
    let since = at.saturating_duration_since(when).as_millis();
    (u128::from(read) + since)
        .saturating_sub(CLOCK_MARGIN.as_millis())
        .try_into()
        .unwrap_or(Millis::MAX)
}

/// What the sender is told of its command's fold: [`BrokerError::Moved`] if it was
/// folded in another epoch than the sender's connection was welcomed in.
fn answered((answer, folded): Answer, seen: Option<Epoch>) -> Result<Applied, BrokerError> {
    if seen.is_some_and(|seen| seen != folded) {
        return Err(BrokerError::Moved);
    }
    answer.map_err(BrokerError::Rejected)
}

/// A command's waiter, taken out of the table however its wait ends.
struct Waiting<'a> {
    inner: &'a Inner,
    id: u64,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.inner.waiters.remove(&self.id);
    }
}

/// Run `work` on a task of its own and wait for it until `by`: the work goes on past
/// the wait (a subscription, a catch-up, a reload another command will want), only
/// the command's answer is bounded.
async fn until<T: Send + 'static>(
    by: Instant,
    work: impl Future<Output = Result<T, BrokerError>> + Send + 'static,
) -> Result<T, BrokerError> {
    match tokio::time::timeout_at(by, tokio::spawn(work)).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => Err(Inner::unavailable(e)),
        Err(_) => Err(Inner::unavailable(
            "Redis did not answer in time; try again",
        )),
    }
}

#[cfg(test)]
mod tests;
