//! The room's memory of recent sends, for idempotent `send` (PROTOCOL.md §8).
//!
//! Kept per user id, not per present member: a client that was away longer than the
//! grace period has left the room, but its token still works, and when it comes back
//! and resends its pending messages with their `client_id`s they must not be posted
//! twice. Bounded twice: a window of recent sends per user, and a cap over the whole
//! room, past which the user who posted least recently is forgotten first (those who
//! have left before those still present). Dropped when the session closes, which is
//! when the tokens stop working.

use std::collections::{BTreeMap, HashMap, VecDeque};

use kindred_protocol::{ClientId, Seq, UserId};
use serde::{Deserialize, Serialize};

use super::state::member::Member;

/// The most sends the room remembers over all its users.
pub const MAX_REMEMBERED_SENDS: usize = 16_384;

/// One remembered send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    pub client_id: ClientId,
    /// The seq the message got.
    pub seq: Seq,
    /// A crisis message whose author has not yet confirmed (`ack_warning`) the
    /// resources card: a resend of it brings the card again.
    #[serde(default)]
    pub card: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Sends {
    /// Oldest first, at most the window.
    recent: VecDeque<Sent>,
    /// The seq of the latest remembered send: who posted least recently goes first.
    latest: Seq,
}

/// Recent sends by user id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendMemory {
    users: BTreeMap<UserId, Sends>,
    /// Remembered sends over all users (in step with `users`).
    total: usize,
}

impl SendMemory {
    /// The send this user made with this `client_id`, if it is remembered.
    pub fn find(&self, user: UserId, client_id: &str) -> Option<&Sent> {
        self.users
            .get(&user)?
            .recent
            .iter()
            .find(|s| s.client_id == client_id)
    }

    /// Remember a send: at most `window` per user and `cap` over the room.
    pub fn remember(
        &mut self,
        user: UserId,
        sent: Sent,
        window: usize,
        cap: usize,
        members: &HashMap<UserId, Member>,
    ) {
        let window = window.max(1);
        let cap = cap.max(window);
        let sends = self.users.entry(user).or_default();
        sends.latest = sends.latest.max(sent.seq);
        sends.recent.push_back(sent);
        self.total += 1;
        while sends.recent.len() > window {
            sends.recent.pop_front();
            self.total -= 1;
        }
        while self.total > cap {
            // Those who left before those present, then who posted least recently;
            // the one who just posted last of all.
            let victim = self
                .users
                .iter()
                .filter(|(u, _)| **u != user)
                .min_by_key(|(u, s)| (members.contains_key(u), s.latest))
                .map(|(u, _)| *u);
            match victim {
                Some(v) => self.forget(v),
                None => break,
            }
        }
    }

    /// The user has seen their resources cards: resends no longer bring them.
    pub fn cards_seen(&mut self, user: UserId) {
        if let Some(sends) = self.users.get_mut(&user) {
            for s in &mut sends.recent {
                s.card = false;
            }
        }
    }

    /// Forget one user's sends.
    pub fn forget(&mut self, user: UserId) {
        if let Some(sends) = self.users.remove(&user) {
            self.total -= sends.recent.len();
        }
    }

    pub fn clear(&mut self) {
        self.users.clear();
        self.total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(client_id: &str, seq: Seq) -> Sent {
        Sent {
            client_id: client_id.into(),
            seq,
            card: false,
        }
    }

    #[test]
    fn past_the_room_cap_those_who_left_and_posted_least_recently_go_first() {
        let (gone, here, newest) = (UserId::new(), UserId::new(), UserId::new());
        let members: HashMap<UserId, Member> = HashMap::new();
        let mut memory = SendMemory::default();
        let (window, cap) = (2, 4);
        memory.remember(here, sent("h1", 1), window, cap, &members);
        memory.remember(gone, sent("g1", 2), window, cap, &members);
        memory.remember(gone, sent("g2", 3), window, cap, &members);
        memory.remember(gone, sent("g3", 4), window, cap, &members);
        assert!(memory.find(gone, "g1").is_none(), "the window");
        assert_eq!(memory.total, 3);
        memory.remember(newest, sent("n1", 5), window, cap, &members);
        memory.remember(newest, sent("n2", 6), window, cap, &members);
        // Over the cap: `here` posted least recently.
        assert!(memory.find(here, "h1").is_none());
        assert_eq!(memory.find(gone, "g3").map(|s| s.seq), Some(4));
        assert_eq!(memory.total, 4);
        memory.cards_seen(gone);
        memory.forget(gone);
        assert_eq!(memory.total, 2);
        memory.clear();
        assert_eq!((memory.total, memory.users.len()), (0, 0));
    }
}
