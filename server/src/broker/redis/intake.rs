//! What arrives from Redis: pushes on the subscription connection (entries of a
//! room's log; the frames relayed beside it, typing and an alert the room could not
//! keep; resubscriptions, a lost connection) and the fold of entries into the room's
//! replica, which delivers what each entry caused to this instance's connections and
//! answers the member who asked.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use kindred_protocol::{Epoch, RoomId};
use redis::{PushInfo, PushKind, Value};
use tokio::sync::mpsc::UnboundedReceiver;

use super::log::{self, Entry, Fold, InstanceId, Op, Replica, parse_audience, room_of_channel};
use super::store::{SNAPSHOT_EVERY, Stamped};
use super::{Inner, Slot};
use crate::broker::hub::{Effect, Kick};
use crate::wire::Encoded;

/// Read pushes from the subscription connection until the broker is dropped.
pub(super) async fn listen(inner: std::sync::Weak<Inner>, mut pushes: UnboundedReceiver<PushInfo>) {
    while let Some(push) = pushes.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        inner.on_push(push);
    }
}

/// Log entries as read from the stream, up to the first this build cannot fold (a
/// newer format, or one that does not parse), whose index comes second: the replica
/// never folds past it entry by entry (`recovery` contains it).
pub(super) fn parse(entries: Vec<(u64, String)>) -> (Vec<(u64, Entry)>, Option<u64>) {
    let mut readable = Vec::with_capacity(entries.len());
    for (index, json) in entries {
        match log::read_entry(&json) {
            Some(entry) => readable.push((index, entry)),
            None => return (readable, Some(index)),
        }
    }
    (readable, None)
}

fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

impl Inner {
    pub(super) fn on_push(self: &Arc<Self>, push: PushInfo) {
        match push.kind {
            PushKind::Message | PushKind::SMessage => {
                let (Some(channel), Some(payload)) = (
                    push.data.first().and_then(bytes),
                    push.data.get(1).and_then(bytes),
                ) else {
                    return;
                };
                let Some(room) = room_of_channel(channel) else {
                    return;
                };
                let Ok(payload) = std::str::from_utf8(payload) else {
                    return;
                };
                self.on_message(room, payload);
            }
            PushKind::Subscribe | PushKind::SSubscribe => {
                // Also sent after the library resubscribes following a reconnect:
                // whatever was published meanwhile is read from the stream.
                if let Some(room) = push.data.first().and_then(bytes).and_then(room_of_channel) {
                    self.spawn_catch_up(room);
                }
            }
            PushKind::Unsubscribe | PushKind::SUnsubscribe => {
                // Ours (the last local member left), or Redis's own: a cluster whose
                // slot moved to another node drops the room's shard channel.
                if let Some(room) = push.data.first().and_then(bytes).and_then(room_of_channel) {
                    self.spawn_resubscribe(room);
                }
            }
            PushKind::Disconnection => {
                tracing::warn!("lost the Redis subscription connection; reconnecting");
                self.set_ready(false);
            }
            _ => {}
        }
    }

    pub(super) fn on_message(self: &Arc<Self>, room: RoomId, payload: &str) {
        if let Some(notice) = payload.strip_prefix('N') {
            let Some((head, frame)) = notice.split_once('\n') else {
                return;
            };
            let (audience, origin) = head.split_once(' ').unwrap_or((head, ""));
            if origin
                .parse::<InstanceId>()
                .is_ok_and(|origin| origin == self.me)
            {
                // Relayed from here: this instance's connections have it already.
                return;
            }
            let (Some(audience), Some(frame)) = (
                parse_audience(audience),
                self.store.open_notice(room, frame),
            ) else {
                return;
            };
            let frame = Encoded {
                seq: None,
                bytes: frame.into(),
            };
            self.hub.deliver(room, audience, &frame, Effect::None);
            return;
        }
        if let Some(epoch) = payload.strip_prefix('R') {
            // The room moved to a new epoch (its log went backwards, or an entry could
            // not be read): a replica still in the old one reloads.
            if epoch.parse::<Epoch>().is_ok() && self.rooms.contains_key(&room) {
                self.spawn_catch_up(room);
            }
            return;
        }
        let Some(entry) = payload.strip_prefix('L') else {
            return;
        };
        let mut parts = entry.splitn(3, ' ');
        let (Some(epoch), Some(index), Some(json)) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let (Ok(epoch), Ok(index)) = (epoch.parse::<Epoch>(), index.parse::<u64>()) else {
            return;
        };
        let Some(slot) = self.rooms.get(&room).map(|s| s.clone()) else {
            return;
        };
        if slot.index().is_some_and(|(i, e)| e == epoch && index <= i)
            && slot.echoes.lock().is_echo(epoch, index, json)
        {
            // The copy of an entry of this instance's, folded from the append's answer.
            slot.seen.fetch_max(index, Ordering::Relaxed);
            return;
        }
        let Some(entry) = self
            .store
            .open_entry(room, json)
            .and_then(|json| log::read_entry(&json))
        else {
            // Read from the stream, where the catch-up contains it.
            self.spawn_catch_up(room);
            return;
        };
        let in_step = slot.index().is_some_and(|(_, e)| e == epoch);
        if in_step {
            slot.seen.fetch_max(index, Ordering::Relaxed);
        }
        if !in_step || self.fold(room, &slot, vec![(index, entry)]) {
            self.spawn_catch_up(room);
        }
    }

    /// This instance's own entry at `index` in `epoch`, as the append script answered
    /// it: folded now if the replica is at the entry before it (the member's ack and
    /// this instance's deliveries then wait for no published copy, and that copy is
    /// skipped unread when it comes, `echo`). Otherwise it is folded as every entry
    /// is, when it comes on pub/sub or a catch-up reads it.
    pub(super) fn fold_own(
        self: &Arc<Self>,
        room: RoomId,
        slot: &Slot,
        (epoch, index): (Epoch, u64),
        own: Stamped,
    ) {
        let mut guard = slot.replica.lock();
        let Some(replica) = guard.as_mut() else {
            return;
        };
        if replica.epoch != epoch || replica.index + 1 != index {
            return;
        }
        self.fold_into(room, replica, vec![(index, own.entry)], true);
        if replica.epoch == epoch && replica.index == index {
            slot.echoes.lock().expect(epoch, index, own.stored);
        }
    }

    /// Fold entries into the room's replica and answer the members who asked. True
    /// if a gap was found (the caller reads the stream).
    pub(super) fn fold(
        self: &Arc<Self>,
        room: RoomId,
        slot: &Slot,
        entries: Vec<(u64, Entry)>,
    ) -> bool {
        let mut guard = slot.replica.lock();
        let Some(replica) = guard.as_mut() else {
            return true;
        };
        self.fold_into(room, replica, entries, true)
    }

    /// Fold entries into `replica`; `deliver` hands the events to local members (not
    /// while a replica is rebuilt out of their sight).
    pub(super) fn fold_into(
        self: &Arc<Self>,
        room: RoomId,
        replica: &mut Replica,
        entries: Vec<(u64, Entry)>,
        deliver: bool,
    ) -> bool {
        let hub = deliver.then_some(&*self.hub);
        for (index, entry) in entries {
            let mine = entry.origin == self.me;
            let (origin, id) = (entry.origin, entry.id);
            // Another instance took this one for dead (it was stopped, or cut off from
            // Redis): the room no longer counts its connections here, so they go and
            // come back to be counted again.
            let taken_for_dead = matches!(entry.op, Op::InstanceGone(i) if i == self.me);
            match replica.fold(index, entry, hub) {
                Fold::Stale | Fold::Repeat => continue,
                Fold::Gap => return true,
                Fold::Diverged => {
                    self.spawn_went_back(room, replica.epoch);
                    return false;
                }
                Fold::Applied { answer, recorded } => {
                    if recorded {
                        // Every instance keeps what its fold says; the one that
                        // appended the entry stores it in Redis as it folds it live
                        // (a replica rebuilt from a snapshot replays entries whose
                        // records were stored when they were new).
                        let store = mine && deliver;
                        self.remember(room, &replica.room, store);
                        if store && replica.deleted() {
                            self.spawn_forget(room);
                        }
                    }
                    if taken_for_dead && deliver {
                        tracing::warn!(
                            %room,
                            by = origin,
                            me = self.me,
                            "another instance took this one for gone; its members here \
                             reconnect to be counted again"
                        );
                        self.hub.kick_counted(room, Kick::Uncounted);
                    }
                    let closed = answer.as_ref().as_ref().is_ok_and(log::closes);
                    if closed {
                        // The session's words leave Redis whoever folds its close
                        // first: not only the instance that appended it, which may die
                        // before it stores anything. The snapshot script keeps the
                        // newest one and trims with it, so the later stores are no-ops.
                        self.spawn_snapshot(room, replica, true);
                    }
                    if !mine {
                        continue;
                    }
                    if index % SNAPSHOT_EVERY == 0 && !closed {
                        self.spawn_snapshot(room, replica, false);
                    }
                    if let Some((_, waiter)) = self.waiters.remove(&id) {
                        // With the epoch it was folded in: the seqs of an answer
                        // folded after the room moved on are the new epoch's.
                        let _ = waiter.send((*answer, replica.epoch));
                    }
                }
            }
        }
        false
    }
}
