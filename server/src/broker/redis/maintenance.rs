//! Once a second: readiness (and whether commands reach Redis at all,
//! `Inner::away`), a Redis that lost its data, rooms to let go, and instances that
//! stopped answering; then the rooms this instance serves, for the clock's round above the engine (`broker::Rooms::tick`), which asks `ticker`
//! for the rooms whose clock it keeps.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kindred_protocol::{Millis, RoomId};

use super::log::{InstanceId, Op};
use super::store::INSTANCE_TTL;
use super::{CATALOG_EVERY, Inner, Slot};

impl Inner {
    /// Whether commands reach Redis: a `PING` on the commands' connection, tried once
    /// more at once if the connection had dropped (it is made again: a Redis that
    /// restarted answers the second). Commands are answered at once while they do
    /// not (`Inner::away`: not while only the subscription reconnects). The
    /// heartbeat is not written here but on a thread of its own (`beat`).
    pub(super) async fn probe(&self) -> bool {
        let beat = match self.store.answers().await {
            Err(e) if !e.is_timeout() => self.store.answers().await,
            beat => beat,
        };
        self.away.store(beat.is_err(), Ordering::Release);
        beat.is_ok()
    }

    pub(super) fn set_ready(&self, ready: bool) {
        if self.ready.swap(ready, Ordering::AcqRel) != ready {
            self.metrics.broker_up.set(i64::from(ready));
            if ready {
                self.metrics.redis_reconnects.inc();
                tracing::info!("Redis is reachable again");
            }
        }
    }

    /// Once a second: health, a Redis that lost its data, rooms to let go, instances
    /// that died. `None` while Redis is out of reach.
    pub(super) async fn maintain(self: &Arc<Self>, now: Millis) -> Option<()> {
        let reached = self.probe().await;
        let healthy = reached && self.store.ping().await;
        let was_ready = self.ready.load(Ordering::Acquire);
        self.set_ready(healthy);
        if !healthy {
            return None;
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
                let _ = self.store.same_secret().await;
                let records: Vec<_> = self.catalog.lock().clone().into_iter().collect();
                for (room, record) in records {
                    let _ = self.give_back(room, &record).await;
                }
            }
        }
        self.retry_catalog();
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
        let mut others: HashSet<InstanceId> = HashSet::new();
        for (room, slot) in &slots {
            let overcounted = self.overcounted(*room, slot);
            if overcounted {
                self.spawn_restate(*room, now);
            }
            if !self.hub.has_room(*room) {
                // Not let go before the room has been told what this instance holds.
                if slot.subscribed.load(Ordering::Acquire) && !overcounted {
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
                // Back from an outage: re-issue the subscription, read what we missed,
                // and say which connections this instance still holds; each room on a
                // task of its own, so that a thousand rooms do not hold up the round.
                let this = self.clone();
                let room = *room;
                tokio::spawn(async move {
                    let _ = this.store.subscribe(room).await;
                    this.spawn_catch_up(room);
                    this.spawn_restate(room, now);
                });
            }
            let guard = slot.replica.lock();
            if let Some(r) = guard.as_ref() {
                others.extend(r.other_instances(self.me));
            }
        }
        for instance in others.into_iter().filter(|_| heartbeats_fresh) {
            if let Ok(false) = self.store.alive(instance).await {
                self.metrics.instances_gone.inc();
                tracing::warn!(
                    instance,
                    me = self.me,
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
                            let _ = this
                                .submit(room, Op::InstanceGone(instance), now, None)
                                .await;
                        });
                    }
                }
            }
        }
        Some(())
    }
}
