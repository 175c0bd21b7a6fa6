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
//! Nothing here does IO.

use std::collections::BTreeMap;

use kindred_protocol::{Epoch, Millis, ModAction, RoomId, Seq, UserId};
use serde::{Deserialize, Serialize};

use crate::broker::timeline::Timeline;
use crate::hub::{Audience, Hub};
use crate::room::{Applied, Command, EventKind, Limits, Rejection, Room, UpdateRoom};

/// Which Kindred process appended an entry (random per start).
pub type InstanceId = u64;

/// One entry of a room's log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// The instance that appended it and its own number for the request, so that
    /// instance can answer the member who asked once it folds the entry.
    pub origin: InstanceId,
    pub id: u64,
    /// The instant the command happened: the fold never reads a clock.
    pub ts: Millis,
    pub op: Op,
}

/// What an entry asks of the room.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Op {
    /// A member's or the clock's command, exactly as the in-memory broker applies it.
    Command(Command),
    /// The operator changed the room's settings.
    Configure(UpdateRoom),
    /// An instance stopped answering: its members' connections are gone (each gets
    /// the presence grace period, as after any dropped connection).
    InstanceGone(InstanceId),
    /// The operator deleted the room: the session closes for good.
    Delete,
}

impl Op {
    /// Whether folding this changes what the room's catalog record holds (settings,
    /// bans, invites and their seats, session number).
    pub fn touches_catalog(&self) -> bool {
        match self {
            Op::Configure(_) | Op::Delete => true,
            Op::Command(
                Command::Invite { .. }
                | Command::Redeem { .. }
                | Command::Revoke { .. }
                | Command::Dismiss { .. },
            ) => true,
            Op::Command(Command::Moderate { request, .. }) => matches!(
                request.action,
                ModAction::Ban | ModAction::Close | ModAction::SetPolicy
            ),
            Op::Command(_) | Op::InstanceGone(_) => false,
        }
    }
}

/// What folding one entry did.
#[derive(Debug)]
pub enum Fold {
    /// The entry was applied; the result is the asking member's answer.
    Applied(Box<Result<Applied, Rejection>>),
    /// Already folded (a pub/sub message after a catch-up read, or the reverse).
    Stale,
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
    /// A `Delete` was folded: the room is gone.
    pub deleted: bool,
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
            deleted: false,
        }
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
        }
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
            return Fold::Stale;
        }
        if index > self.index + 1 {
            return Fold::Gap;
        }
        self.index = index;
        let Entry { origin, ts, op, .. } = entry;
        let result = match op {
            Op::Command(cmd) => {
                let presence = match &cmd {
                    Command::Connect { user, .. } => Some((*user, true)),
                    Command::Disconnect { user } => Some((*user, false)),
                    _ => None,
                };
                let result = self.room.apply(cmd, ts);
                if let (Some((user, arrived)), Ok(_)) = (presence, &result) {
                    self.count(origin, user, arrived);
                }
                result
            }
            Op::Configure(update) => Ok(self.room.configure(update, ts)),
            Op::InstanceGone(instance) => {
                let gone = self.connections.remove(&instance).unwrap_or_default();
                for (user, n) in gone {
                    for _ in 0..n {
                        let _ = self.room.apply(Command::Disconnect { user }, ts);
                    }
                }
                Ok(Applied::default())
            }
            Op::Delete => {
                self.deleted = true;
                Ok(self
                    .room
                    .close_session(Some("this room has been removed".to_owned()), ts))
            }
        };
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
        Fold::Applied(Box::new(result))
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

/// Redis key of a room's latest snapshot (`index`, `image`).
pub fn snapshot_key(room: RoomId) -> String {
    format!("kindred:{{{room}}}:snapshot")
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
mod tests {
    use super::*;

    #[test]
    fn audiences_survive_the_trip_through_redis() {
        let u = UserId::new();
        for a in [
            Audience::Room,
            Audience::Facilitators,
            Audience::Others(u),
            Audience::User(u),
            Audience::UserAndFacilitators(u),
        ] {
            assert_eq!(parse_audience(&audience_code(a)), Some(a));
        }
        assert_eq!(parse_audience("x"), None);
        assert_eq!(parse_audience(""), None);
        assert_eq!(parse_audience("unot-a-uuid"), None);
    }

    #[test]
    fn a_channel_names_its_room() {
        let room = RoomId::new();
        assert_eq!(room_of_channel(channel(room).as_bytes()), Some(room));
        assert_eq!(room_of_channel(b"kindred:{nope}:events"), None);
        assert!(meta_key(room).contains(&format!("{{{room}}}")));
    }
}
