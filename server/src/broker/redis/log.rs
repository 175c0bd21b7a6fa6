//! A room's replicated log, and the replica each instance folds from it.
//!
//! Redis orders and carries; the rules stay in the domain. Every change to a room is
//! one [`Entry`] appended to the room's stream, numbered by Redis (`index`), and every
//! instance that serves the room folds the entries in index order into its own
//! [`Replica`] by calling the same [`Room::apply`] with the entry's own `ts`. The fold
//! is a function of the log alone, so every replica numbers the same events with the
//! same seqs and refuses the same commands: a send appended after an acknowledged mute
//! is refused by every instance, whichever one the sender is on.
//!
//! The first entry of a room's log creates it ([`Op::Create`]: the room as it starts,
//! and the epoch of this log); the operator's changes and the room's deletion are
//! commands like any other ([`Command::Configure`], [`Command::Delete`]), and a
//! deleted room says so in its snapshots. Each fold says whether the room's catalog
//! record changed ([`catalog_change`]), the one test of when it is stored.
//!
//! Each entry carries the format it is written in ([`ENTRY_FORMAT`]): an entry of a
//! newer format, or one that does not parse, is not folded at all ([`read_entry`]);
//! the broker contains it (`recovery`). An append that reaches the log twice is folded
//! once ([`Fold::Repeat`]), and an index that held another entry when it was folded
//! here says the log went backwards ([`Fold::Diverged`]).
//!
//! Nothing here does IO.

use std::collections::BTreeMap;

use kindred_protocol::{Epoch, Millis, RoomId, Seq, UserId};
use serde::{Deserialize, Serialize};

use super::recent::{Folded, Recent};
use crate::broker::catalog_change;
use crate::broker::hub::{Audience, Hub};
use crate::broker::timeline::Timeline;
use crate::room::{Applied, Command, EventKind, Limits, Rejection, Room, UpdateRoom};

/// Which Kindred process appended an entry (random per start).
pub type InstanceId = u64;

/// The format this build writes its entries in, and the newest it reads. Raised only
/// when an older build could not fold the new form; README's "Upgrading" says how a
/// deployment moves to a new one. Format 2 is sealed (`seal`): in Redis an entry is
/// its format, the session whose key sealed it, Redis's time and the sealed rest;
/// format 1 was the entry as plain JSON.
pub const ENTRY_FORMAT: u32 = 2;

/// Entries written before formats were numbered are format 1.
fn first_format() -> u32 {
    1
}

/// One entry of a room's log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// The format it is written in (see [`ENTRY_FORMAT`]).
    #[serde(rename = "v", default = "first_format")]
    pub format: u32,
    /// The instance that appended it and its own number for the request, so that
    /// instance can answer the member who asked once it folds the entry.
    pub origin: InstanceId,
    pub id: u64,
    /// The instant the entry was appended, by Redis's clock (the append script puts
    /// it in: whatever the appending instance wrote is replaced), so an instance whose
    /// clock is wrong cannot move a mute's end or a held session's close. The fold
    /// never reads a clock.
    pub ts: Millis,
    pub op: Op,
}

impl Entry {
    /// An entry in this build's format.
    pub fn new(origin: InstanceId, id: u64, ts: Millis, op: Op) -> Self {
        Self {
            format: ENTRY_FORMAT,
            origin,
            id,
            ts,
            op,
        }
    }
}

/// An entry as stored, if this build can fold it: it parses and its format is not
/// newer than [`ENTRY_FORMAT`].
pub fn read_entry(json: &str) -> Option<Entry> {
    serde_json::from_str::<Entry>(json)
        .ok()
        .filter(|e| e.format <= ENTRY_FORMAT)
}

/// An entry's JSON as sent without its time (`plain`, an object), with the time Redis
/// stamped on it put first: the JSON every instance reads back ([`read_entry`]).
pub fn stamped(plain: &str, ts: Millis) -> Option<String> {
    let rest = plain.strip_prefix('{')?;
    Some(if rest.trim_start().starts_with('}') {
        format!("{{\"ts\":{ts}}}")
    } else {
        format!("{{\"ts\":{ts},{rest}")
    })
}

/// The format an entry as stored says it is in (1 if it names none), whether or not
/// this build can read the rest of it.
pub fn format_of(json: &str) -> Option<u32> {
    #[derive(Deserialize)]
    struct Format {
        #[serde(rename = "v", default = "first_format")]
        format: u32,
    }
    serde_json::from_str::<Format>(json).ok().map(|f| f.format)
}

/// What an entry asks of the room.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "StoredOp")]
pub enum Op {
    /// The room begins: the first entry of its log (a new room, or one given back to a
    /// Redis that lost it, from its catalog record), in this epoch.
    Create { room: Box<Room>, epoch: Epoch },
    /// A member's, the clock's or the operator's command, exactly as the in-memory
    /// broker applies it.
    Command(Command),
    /// An instance stopped answering: its members' connections are gone (each gets
    /// the presence grace period, as after any dropped connection).
    InstanceGone(InstanceId),
    /// The appending instance restates its connections to the room, per member (after
    /// Redis was away, when an end it could not append may be missing): a member it
    /// is counted for with more than it holds loses the difference, as after that
    /// many dropped connections.
    Restate(BTreeMap<UserId, u32>),
}

/// An op as stored: entries written before the operator's changes were commands
/// carried them as ops of their own.
#[derive(Deserialize)]
enum StoredOp {
    Create { room: Box<Room>, epoch: Epoch },
    Command(Command),
    InstanceGone(InstanceId),
    Restate(BTreeMap<UserId, u32>),
    Configure(UpdateRoom),
    Delete,
}

impl From<StoredOp> for Op {
    fn from(stored: StoredOp) -> Self {
        match stored {
            StoredOp::Create { room, epoch } => Op::Create { room, epoch },
            StoredOp::Command(cmd) => Op::Command(cmd),
            StoredOp::InstanceGone(instance) => Op::InstanceGone(instance),
            StoredOp::Restate(held) => Op::Restate(held),
            StoredOp::Configure(update) => Op::Command(Command::Configure(Box::new(update))),
            StoredOp::Delete => Op::Command(Command::Delete),
        }
    }
}

/// What folding one entry did.
#[derive(Debug)]
pub enum Fold {
    /// The entry was applied; `answer` is the asking member's, and `recorded` says
    /// whether the room's catalog record changed.
    Applied {
        answer: Box<Result<Applied, Rejection>>,
        recorded: bool,
    },
    /// Already folded (a pub/sub message after a catch-up read, or the reverse).
    Stale,
    /// The same append again at a new index (its script ran twice): the index is
    /// taken, nothing is applied.
    Repeat,
    /// This index was folded here with another entry: the log went backwards (Redis
    /// lost its latest writes) and numbered new entries with indexes already used.
    Diverged,
    /// Entries before this one are missing here: read them from the stream first.
    Gap,
}

/// Connections per member, per instance: who must be let go when an instance dies.
type Connections = BTreeMap<InstanceId, BTreeMap<UserId, u32>>;

/// This instance's copy of one room, at log index `index`.
#[derive(Debug)]
pub struct Replica {
    pub room: Room,
    pub epoch: Epoch,
    /// The last folded entry.
    pub index: u64,
    pub timeline: Timeline,
    connections: Connections,
    recent: Recent,
}

/// A replica as stored in Redis (every few hundred entries and at each close), so an
/// instance arriving late starts from it instead of the room's whole life.
#[derive(Debug, Serialize, Deserialize)]
pub struct Image {
    pub index: u64,
    pub epoch: Epoch,
    pub room: Room,
    /// The kept timeline frames, oldest first.
    pub history: Vec<(Seq, String)>,
    connections: Connections,
    #[serde(default)]
    recent: Recent,
}

impl Image {
    /// A new room: nothing has happened in it yet.
    pub fn new(room: Room, epoch: Epoch) -> Self {
        Self {
            index: 0,
            epoch,
            room,
            history: Vec::new(),
            connections: Connections::new(),
            recent: Recent::default(),
        }
    }
}

impl Replica {
    pub fn from_image(image: Image, limits: Limits, history_len: usize) -> Self {
        let mut room = image.room;
        room.adopt_limits(limits);
        Self {
            room,
            epoch: image.epoch,
            index: image.index,
            timeline: Timeline::restore(history_len, image.history),
            connections: image.connections,
            recent: image.recent,
        }
    }

    /// A replica from the first entry of a room's log, [`Op::Create`] at `index`
    /// (read when the room has no snapshot yet); `None` for any other entry.
    pub fn begin(index: u64, entry: Entry, limits: Limits, history_len: usize) -> Option<Self> {
        let Op::Create { room, epoch } = entry.op else {
            return None;
        };
        let mut replica = Self::from_image(Image::new(*room, epoch), limits, history_len);
        replica.index = index;
        Some(replica)
    }

    /// The operator deleted the room.
    pub fn deleted(&self) -> bool {
        self.room.is_deleted()
    }

    pub fn image(&self) -> Image {
        Image {
            index: self.index,
            epoch: self.epoch,
            room: self.room.clone(),
            history: self
                .timeline
                .frames()
                .map(|(s, t)| (s, t.to_owned()))
                .collect(),
            connections: self.connections.clone(),
            recent: self.recent.clone(),
        }
    }

    /// The connections the room counts on `instance`, per member.
    pub fn counted_on(&self, instance: InstanceId) -> BTreeMap<UserId, u32> {
        self.connections.get(&instance).cloned().unwrap_or_default()
    }

    /// The instances other than `me` that hold connections to this room.
    pub fn other_instances(&self, me: InstanceId) -> impl Iterator<Item = InstanceId> + '_ {
        self.connections
            .iter()
            .filter(move |(i, users)| **i != me && !users.is_empty())
            .map(|(i, _)| *i)
    }

    /// Fold the entry at `index`, delivering its events to this instance's members
    /// (`hub`), or to nobody while the replica is rebuilt.
    pub fn fold(&mut self, index: u64, entry: Entry, hub: Option<&Hub>) -> Fold {
        if index <= self.index {
            if self.recent.differs(index, entry.origin, entry.id) {
                return Fold::Diverged;
            }
            return Fold::Stale;
        }
        if index > self.index + 1 {
            return Fold::Gap;
        }
        self.index = index;
        let Entry {
            origin, id, ts, op, ..
        } = entry;
        if self.recent.repeats(origin, id) {
            return Fold::Repeat;
        }
        self.recent.push(Folded { index, origin, id });
        let presence = match &op {
            Op::Command(Command::Connect { user, .. }) => Some((*user, true)),
            Op::Command(Command::Disconnect { user }) => Some((*user, false)),
            _ => None,
        };
        let (result, recorded) = catalog_change(&mut self.room, |room| match op {
            // Only ever the first entry, which a replica begins from ([`Replica::begin`]).
            Op::Create { room: created, .. } => {
                *room = *created;
                Ok(Applied::default())
            }
            Op::Command(cmd) => room.apply(cmd, ts),
            Op::InstanceGone(instance) => {
                let gone = self.connections.remove(&instance).unwrap_or_default();
                for (user, n) in gone {
                    for _ in 0..n {
                        let _ = room.apply(Command::Disconnect { user }, ts);
                    }
                }
                Ok(Applied::default())
            }
            Op::Restate(held) => {
                let counted = self.connections.entry(origin).or_default();
                for (user, n) in counted.iter_mut() {
                    let keep = held.get(user).copied().unwrap_or(0);
                    while *n > keep {
                        *n -= 1;
                        let _ = room.apply(Command::Disconnect { user: *user }, ts);
                    }
                }
                counted.retain(|_, n| *n > 0);
                if counted.is_empty() {
                    self.connections.remove(&origin);
                }
                Ok(Applied::default())
            }
        });
        if let (Some((user, arrived)), Ok(_)) = (presence, &result) {
            self.count(origin, user, arrived);
        }
        if let Ok(applied) = &result {
            self.timeline.record(hub, self.room.id, applied);
            for event in &applied.events {
                match event.kind {
                    EventKind::Left { user, .. } => {
                        for users in self.connections.values_mut() {
                            users.remove(&user);
                        }
                    }
                    EventKind::Closed { .. } => self.connections.clear(),
                    _ => {}
                }
            }
        }
        Fold::Applied {
            answer: Box::new(result),
            recorded,
        }
    }

    fn count(&mut self, instance: InstanceId, user: UserId, arrived: bool) {
        let users = self.connections.entry(instance).or_default();
        if arrived {
            *users.entry(user).or_default() += 1;
        } else if let Some(n) = users.get_mut(&user) {
            *n -= 1;
            if *n == 0 {
                users.remove(&user);
            }
        }
        if users.is_empty() {
            self.connections.remove(&instance);
        }
    }
}

/// Whether an applied command ended the session (its snapshot then drops the history
/// and the log before it).
pub fn closes(applied: &Applied) -> bool {
    applied
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Closed { .. }))
}

/// The wire form of an [`Audience`] in a pub/sub notice.
pub fn audience_code(audience: Audience) -> String {
    match audience {
        Audience::Room => "r".to_owned(),
        Audience::Others(u) => format!("o{u}"),
        Audience::User(u) => format!("u{u}"),
        Audience::Facilitators => "f".to_owned(),
        Audience::UserAndFacilitators(u) => format!("b{u}"),
    }
}

/// Read back an [`audience_code`].
pub fn parse_audience(code: &str) -> Option<Audience> {
    let (kind, rest) = code.split_at_checked(1)?;
    let user = || rest.parse::<UserId>().ok();
    match kind {
        "r" => Some(Audience::Room),
        "f" => Some(Audience::Facilitators),
        "o" => user().map(Audience::Others),
        "u" => user().map(Audience::User),
        "b" => user().map(Audience::UserAndFacilitators),
        _ => None,
    }
}

/// Redis key of a room's metadata (`head`: the last index, `epoch`).
pub fn meta_key(room: RoomId) -> String {
    format!("kindred:{{{room}}}:meta")
}

/// Redis key of a room's log (a stream, entry ids `index-1`).
pub fn log_key(room: RoomId) -> String {
    format!("kindred:{{{room}}}:log")
}

/// Redis key of the mark an append leaves (the index it got), so a repeat of the same
/// append is answered with that index; in the room's slot.
pub fn appended_key(room: RoomId, origin: InstanceId, id: u64) -> String {
    format!("kindred:{{{room}}}:appended:{origin}:{id}")
}

/// Redis key of a room's latest snapshot (`index`, `image`).
pub fn snapshot_key(room: RoomId) -> String {
    format!("kindred:{{{room}}}:snapshot")
}

/// Redis key of the lease on a room's ticks: the instance that appends them.
pub fn ticker_key(room: RoomId) -> String {
    format!("kindred:{{{room}}}:ticker")
}

/// The room's pub/sub channel. Like its keys it carries the room id as a hash tag, so
/// on a Redis Cluster a room's keys, script and shard channel live in one slot.
pub fn channel(room: RoomId) -> String {
    format!("kindred:{{{room}}}:events")
}

/// The room a channel name belongs to.
pub fn room_of_channel(channel: &[u8]) -> Option<RoomId> {
    let text = std::str::from_utf8(channel).ok()?;
    let inner = text.strip_prefix("kindred:{")?.strip_suffix("}:events")?;
    inner.parse::<RoomId>().ok()
}

#[cfg(test)]
mod tests;
