//! The hub: this instance's connections, grouped by room, and the fan-out to them.
//!
//! Brokers hand the hub frames that are already encoded; the hub gives each local
//! recipient a clone of the same bytes (a reference count, not a copy) through a
//! bounded queue, without waiting. Fan-out never waits for a peer: a connection
//! whose queue is full is told to leave (`Kick::SlowConsumer`) and can resume.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use dashmap::DashMap;
use kindred_protocol::{Role, RoomId, UserId, close_code};
use std::collections::VecDeque;
use std::task::Poll;

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::safety::Budget;
use crate::wire::Encoded;

/// Who, among a room's local connections, receives a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Everyone in the room.
    Room,
    /// Everyone but this member (typing indicators).
    Others(UserId),
    /// Every connection of this member.
    User(UserId),
    /// Every facilitator.
    Facilitators,
    /// This member and every facilitator (a whisper and its echo).
    UserAndFacilitators(UserId),
}

impl Audience {
    /// Whether the room's own frames (timeline events, typing) go to this audience:
    /// those reach only connections that are in the room.
    fn of_the_room(self) -> bool {
        matches!(self, Audience::Room | Audience::Others(_))
    }

    fn includes(self, user: UserId, role: Role) -> bool {
        match self {
            Audience::Room => true,
            Audience::Others(u) => u != user,
            Audience::User(u) => u == user,
            Audience::Facilitators => role == Role::Facilitator,
            Audience::UserAndFacilitators(u) => u == user || role == Role::Facilitator,
        }
    }
}

/// What delivering a frame does beyond queuing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    /// Disconnect everyone in the room once they have the frame (the waiting room and
    /// connections still arriving too).
    CloseRoom,
    /// This member was let in from the waiting room: their connections are given the
    /// room (a fresh `welcome`), starting with this frame.
    Admit(UserId),
    /// A facilitator asked this member out for a quiet word: their connections stay
    /// open, given the waiting room (a fresh `welcome`) and nothing of the room from
    /// this frame on, this frame included.
    StepOut(UserId),
}

/// Why the server ends a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kick {
    SlowConsumer,
    /// They left the room (from another tab, or their grace period ran out while this
    /// connection was not counted): this connection is no longer in it.
    Left,
    /// A facilitator removed them.
    Removed,
    /// The organiser removed them (the admin API), or ended their facilitator seat.
    Dismissed,
    Banned,
    RoomClosed,
    /// A facilitator turned them away from the waiting room.
    Denied,
    /// This instance's copy of the room had to be reloaded (it fell behind the shared
    /// log, or the room's store lost it): resume with `last_seq` to see no gap.
    Resync,
    /// Another instance took this one for gone, and the room stopped counting this
    /// connection: resume with `last_seq` to be counted again. Its end is not told
    /// to the room a second time.
    Uncounted,
}

impl Kick {
    pub fn close_code(self) -> u16 {
        match self {
            Kick::SlowConsumer | Kick::Resync | Kick::Uncounted => close_code::SLOW_CONSUMER,
            Kick::Left => close_code::NORMAL,
            Kick::Removed | Kick::Dismissed | Kick::Banned | Kick::Denied => close_code::REMOVED,
            Kick::RoomClosed => close_code::ROOM_CLOSED,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Kick::SlowConsumer => "slow consumer: reconnect and resume with last_seq",
            Kick::Left => "you left the room",
            Kick::Removed => "removed by a facilitator",
            Kick::Dismissed => "removed by the organiser",
            Kick::Banned => "banned by a facilitator",
            Kick::RoomClosed => "the session has ended",
            Kick::Denied => "not admitted from the waiting room",
            Kick::Resync => "the server reloaded the room: reconnect and resume with last_seq",
            Kick::Uncounted => "this server was taken for gone: reconnect and resume with last_seq",
        }
    }
}

/// A connection's bounded queue of frames to write. A `VecDeque` behind a mutex
/// rather than a channel: it costs nothing while empty (most members, most of the
/// time), is trimmed after a burst, and the session drains it in one go.
#[derive(Debug)]
pub struct Outbox {
    frames: Mutex<VecDeque<Encoded>>,
    waker: AtomicWaker,
    depth: usize,
    /// Woken with nothing queued: the connection's stage changed and its session owes
    /// its client a `welcome` ([`Peer::owes_waiting_welcome`]).
    nudged: AtomicBool,
}

/// A queue keeps this many slots after a burst; a larger one is given back.
const OUTBOX_KEEP: usize = 16;

impl Outbox {
    fn new(depth: usize) -> Self {
        Self {
            frames: Mutex::new(VecDeque::new()),
            waker: AtomicWaker::new(),
            depth,
            nudged: AtomicBool::new(false),
        }
    }

    /// Queue a frame unless the queue is full. The session is woken only when its
    /// queue was empty: a session with frames queued has been woken already and
    /// writes everything queued before it waits again.
    fn push(&self, frame: &Encoded) -> bool {
        let mut frames = self.frames.lock();
        if frames.len() >= self.depth {
            return false;
        }
        let was_empty = frames.is_empty();
        frames.push_back(frame.clone());
        drop(frames);
        if was_empty {
            self.waker.wake();
        }
        true
    }

    /// The oldest queued frame.
    pub fn pop(&self) -> Option<Encoded> {
        let mut frames = self.frames.lock();
        let frame = frames.pop_front();
        if frames.is_empty() && frames.capacity() > OUTBOX_KEEP {
            frames.shrink_to(OUTBOX_KEEP);
        }
        frame
    }

    /// Wake the session with nothing queued.
    fn nudge(&self) {
        self.nudged.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Resolves when a frame is queued, or the session is nudged.
    pub fn ready(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if self.nudged.swap(false, Ordering::AcqRel) || !self.frames.lock().is_empty() {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if self.nudged.swap(false, Ordering::AcqRel) || !self.frames.lock().is_empty() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }
}

/// Where a connection stands with its room ([`Peer::stage`]).
mod stage {
    /// Connected, not yet let in: the room's frames are not queued for it (its
    /// `welcome` snapshot, taken after it is let in, covers them).
    pub const ARRIVING: u8 = 0;
    /// In the waiting room: the room's frames are not queued for it.
    pub const WAITING: u8 = 1;
    /// Asked out of the room for a quiet word: in the waiting room, the room's frames
    /// not queued for it, and it owes its client the waiting room's `welcome`.
    pub const STEPPED_OUT: u8 = 2;
    /// Let in from the waiting room (or arriving when its own `joined` went out): the
    /// room's frames are queued, and it owes its client a fresh `welcome`.
    pub const ADMITTED: u8 = 3;
    /// In the room.
    pub const IN_ROOM: u8 = 4;
}

/// One local connection as the hub sees it.
#[derive(Debug)]
pub struct Peer {
    pub id: u64,
    pub user: UserId,
    pub role: Role,
    pub outbox: Outbox,
    /// What this member may still send, shared by all their connections here.
    pub budget: Arc<Budget>,
    kicked: CancellationToken,
    kick: OnceLock<Kick>,
    stage: AtomicU8,
}

impl Peer {
    /// Let this connection into the room: the room's frames reach it from now on.
    /// Called by the broker under the room's lock, in the same step that finds the
    /// member in the room, so no event can fall between the check and the admission.
    /// False if the connection was told to go meanwhile (then it never enters).
    pub fn enter(&self) -> bool {
        if self.kicked.is_cancelled() {
            return false;
        }
        let _ = self
            .stage
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s != stage::WAITING && s != stage::STEPPED_OUT).then_some(stage::IN_ROOM)
            });
        self.stage.load(Ordering::Acquire) == stage::IN_ROOM
    }

    /// Put this connection in the waiting room (arriving, or asked out of the room
    /// and about to be told so): it is given nothing of the room. Called like
    /// [`Peer::enter`], under the room's lock. False if it was told to go.
    pub fn wait(&self) -> bool {
        if self.kicked.is_cancelled() {
            return false;
        }
        self.stage
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s == stage::ARRIVING || s == stage::STEPPED_OUT).then_some(stage::WAITING)
            })
            .is_ok()
    }

    /// Whether this connection is in the waiting room.
    pub fn waiting(&self) -> bool {
        let s = self.stage.load(Ordering::Acquire);
        s == stage::WAITING || s == stage::STEPPED_OUT
    }

    /// Whether its member was asked out of the room for a quiet word and it still owes
    /// its client the waiting room's `welcome` (the broker's arrival snapshot puts it
    /// in the waiting room, [`Peer::wait`]).
    pub fn owes_waiting_welcome(&self) -> bool {
        self.stage.load(Ordering::Acquire) == stage::STEPPED_OUT
    }

    /// Out of the room for a quiet word: nothing of the room is queued for it from
    /// now on, and its session is woken to say so. A connection still arriving is
    /// left alone: its arrival finds its member waiting.
    fn step_out(&self) {
        let moved = self
            .stage
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s == stage::ADMITTED || s == stage::IN_ROOM).then_some(stage::STEPPED_OUT)
            })
            .is_ok();
        if moved {
            self.outbox.nudge();
        }
    }

    /// Whether it was let in from the waiting room and still owes its client the
    /// room's `welcome` (the broker's arrival snapshot lets it in, [`Peer::enter`]).
    pub fn owes_welcome(&self) -> bool {
        self.stage.load(Ordering::Acquire) == stage::ADMITTED
    }

    fn admit(&self) {
        let _ = self
            .stage
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s == stage::ARRIVING || s == stage::WAITING || s == stage::STEPPED_OUT)
                    .then_some(stage::ADMITTED)
            });
    }

    fn in_room(&self) -> bool {
        self.stage.load(Ordering::Acquire) >= stage::ADMITTED
    }

    /// Ask the connection to close. The first reason wins.
    pub fn kick(&self, kick: Kick) {
        let _ = self.kick.set(kick);
        self.kicked.cancel();
    }

    /// Cancelled when the connection must stop: a kick (then `kick_reason` is set)
    /// or the server's shutdown (then it is not).
    pub fn kicked(&self) -> &CancellationToken {
        &self.kicked
    }

    pub fn kick_reason(&self) -> Option<Kick> {
        self.kick.get().copied()
    }
}

/// A member already has as many connections on this instance as allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this member already has {open} connections open")]
pub struct TooManyConnections {
    pub open: usize,
}

/// Local rooms and their connections.
#[derive(Debug)]
pub struct Hub {
    rooms: DashMap<RoomId, Vec<Arc<Peer>>>,
    next_id: AtomicU64,
    queue_depth: usize,
    metrics: Arc<Metrics>,
}

impl Hub {
    pub fn new(queue_depth: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            rooms: DashMap::new(),
            next_id: AtomicU64::new(1),
            queue_depth: queue_depth.max(1),
            metrics,
        }
    }

    /// Register a connection; frames for its room start arriving on the receiver.
    /// Its stop token is a child of `parent` (the server's shutdown), so a session
    /// watches one token for both a kick and a shutdown. A member (one token) has at
    /// most `per_member` connections here: one more is refused with the number open.
    /// Their connections share one [`Budget`]: the first makes it (`budget`).
    pub fn attach(
        &self,
        (room, user, role): (RoomId, UserId, Role),
        parent: &CancellationToken,
        per_member: usize,
        budget: impl FnOnce() -> Budget,
    ) -> Result<Arc<Peer>, TooManyConnections> {
        // Counted and added under the room's entry lock: two tabs opening at once
        // cannot both take the last place.
        let mut peers = self.rooms.entry(room).or_default();
        let open = peers.iter().filter(|p| p.user == user).count();
        if open >= per_member {
            let empty = peers.is_empty();
            drop(peers);
            if empty {
                self.rooms.remove_if(&room, |_, peers| peers.is_empty());
            }
            return Err(TooManyConnections { open });
        }
        let budget = peers
            .iter()
            .find(|p| p.user == user)
            .map_or_else(|| Arc::new(budget()), |p| p.budget.clone());
        let peer = Arc::new(Peer {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            user,
            role,
            outbox: Outbox::new(self.queue_depth),
            budget,
            kicked: parent.child_token(),
            kick: OnceLock::new(),
            stage: AtomicU8::new(stage::ARRIVING),
        });
        peers.push(peer.clone());
        Ok(peer)
    }

    /// Forget a connection.
    pub fn detach(&self, room: RoomId, peer_id: u64) {
        if let dashmap::Entry::Occupied(mut e) = self.rooms.entry(room) {
            e.get_mut().retain(|p| p.id != peer_id);
            if e.get().is_empty() {
                e.remove();
            }
        }
    }

    /// The members in a room with a connection here (a member with several tabs
    /// counts once), and the rooms with at least one: what this instance serves, so
    /// a sum over the instances is the deployment's count.
    pub fn local_counts(&self) -> (usize, usize) {
        let (mut members, mut rooms) = (0, 0);
        for entry in self.rooms.iter() {
            let mut users: Vec<UserId> = entry
                .iter()
                .filter(|p| p.in_room() && !p.kicked.is_cancelled())
                .map(|p| p.user)
                .collect();
            users.sort_unstable();
            users.dedup();
            members += users.len();
            rooms += usize::from(!users.is_empty());
        }
        (members, rooms)
    }

    /// Whether any local connection is in the room.
    pub fn has_room(&self, room: RoomId) -> bool {
        self.rooms.contains_key(&room)
    }

    /// Ask every local connection in the room to go.
    pub fn kick_room(&self, room: RoomId, kick: Kick) {
        if let Some(peers) = self.rooms.get(&room) {
            for peer in peers.iter() {
                peer.kick(kick);
            }
        }
    }

    /// This instance's connections to the room, per member, whatever their stage
    /// (the count an instance restates to the room after Redis was away).
    pub fn held(&self, room: RoomId) -> std::collections::BTreeMap<UserId, u32> {
        let mut held = std::collections::BTreeMap::new();
        if let Some(peers) = self.rooms.get(&room) {
            for peer in peers.iter() {
                *held.entry(peer.user).or_default() += 1;
            }
        }
        held
    }

    /// Ask every local connection of the room that the room counted (past arriving:
    /// its `Connect` was folded) to go. One still arriving is left alone: its
    /// `Connect` may land after the kick and count it anew.
    pub fn kick_counted(&self, room: RoomId, kick: Kick) {
        if let Some(peers) = self.rooms.get(&room) {
            for peer in peers.iter() {
                if peer.stage.load(Ordering::Acquire) != stage::ARRIVING {
                    peer.kick(kick);
                }
            }
        }
    }

    /// Ask every local connection of `user` in the room to go, whatever its stage:
    /// in the room, waiting, or still arriving (its arrival then finds it told to go,
    /// [`Peer::enter`]). Frames already queued for it are still written; nothing is
    /// queued for it from now on.
    pub fn evict(&self, room: RoomId, user: UserId, kick: Kick) {
        if let Some(peers) = self.rooms.get(&room) {
            for peer in peers.iter().filter(|p| p.user == user) {
                peer.kick(kick);
            }
        }
    }

    /// Give a frame to every local connection in its audience, without waiting.
    /// A connection already told to go is given nothing more.
    pub fn deliver(&self, room: RoomId, audience: Audience, frame: &Encoded, effect: Effect) {
        let Some(peers) = self.rooms.get(&room) else {
            return;
        };
        let started = std::time::Instant::now();
        let mut delivered = 0u64;
        for peer in peers.iter() {
            if peer.kicked.is_cancelled() {
                continue;
            }
            if let Effect::Admit(user) = effect
                && user == peer.user
            {
                peer.admit();
            }
            if let Effect::StepOut(user) = effect
                && user == peer.user
            {
                peer.step_out();
            }
            // The room's frames reach only those in it, but everyone hears it close.
            let reaches = audience.includes(peer.user, peer.role)
                && (!audience.of_the_room() || peer.in_room() || effect == Effect::CloseRoom);
            if reaches {
                if peer.outbox.push(frame) {
                    delivered += 1;
                } else {
                    self.metrics.dropped.inc();
                    self.metrics.slow_consumer();
                    tracing::info!(peer = peer.id, %room, "slow consumer disconnected");
                    peer.kick(Kick::SlowConsumer);
                }
            }
            if effect == Effect::CloseRoom {
                peer.kick(Kick::RoomClosed);
            }
        }
        drop(peers);
        self.metrics.delivered(delivered);
        self.metrics
            .fanout_seconds
            .observe(started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_has_at_most_so_many_connections_per_instance() {
        let hub = Hub::new(8, Arc::new(Metrics::new()));
        let (room, alice, bob) = (RoomId::new(), UserId::new(), UserId::new());
        let stop = CancellationToken::new();
        let budget = || {
            let q = governor::Quota::per_minute(std::num::NonZeroU32::MIN);
            Budget::new(q, q)
        };
        let attach = |user| hub.attach((room, user, Role::Participant), &stop, 2, budget);
        let first = attach(alice).expect("first tab");
        let second = attach(alice).expect("second tab");
        assert_eq!(attach(alice).unwrap_err(), TooManyConnections { open: 2 });
        // Others are not affected, and a closed tab frees its place.
        // Two tabs of one member share what they may send; another member has their own.
        assert!(Arc::ptr_eq(&first.budget, &second.budget));
        let bobs = attach(bob).expect("bob's tab");
        assert!(!Arc::ptr_eq(&bobs.budget, &first.budget));
        hub.detach(room, first.id);
        attach(alice).expect("a place is free again");
        // A refused attach to an empty room leaves no empty room behind.
        let other = RoomId::new();
        assert!(
            hub.attach((other, alice, Role::Participant), &stop, 0, budget)
                .is_err()
        );
        assert!(!hub.has_room(other));
    }
}
