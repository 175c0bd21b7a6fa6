//! Share the air: what each participant has shared this session (messages,
//! characters, when they last spoke), who said they are here for the first time, and
//! the watch a facilitator's session keeps so that it is told of a change at most
//! once every [`AIR_INTERVAL_MS`]. The figures are room state, counted in the fold,
//! so every instance that serves the room gives its facilitators the same ones; only
//! facilitators are ever given them (`share_the_air`).

use std::collections::{BTreeMap, BTreeSet};

use kindred_protocol::{AirShare, Millis, Role, UserId};
use serde::{Deserialize, Serialize};

use super::Room;

/// The least time between two `share_the_air` frames to one facilitator's connection.
pub const AIR_INTERVAL_MS: Millis = 5_000;

/// Past this many people counted in one session, those no longer in the room are let
/// go (a drop-in room that is never closed meets many).
const MAX_COUNTED: usize = 4_096;

/// The session's figures, by member; dropped at the session's close.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Air {
    shared: BTreeMap<UserId, Shared>,
    first_time: BTreeSet<UserId>,
}

/// What one member has shared this session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Shared {
    messages: u32,
    chars: u32,
    last: Option<Millis>,
}

impl Room {
    /// `user`'s message of `chars` characters reached the room at `now`.
    pub(super) fn count_share(&mut self, user: UserId, chars: usize, now: Millis) {
        if self.air.shared.len() >= MAX_COUNTED && !self.air.shared.contains_key(&user) {
            let members = &self.members;
            self.air.shared.retain(|u, _| members.contains_key(u));
        }
        let shared = self.air.shared.entry(user).or_default();
        shared.messages = shared.messages.saturating_add(1);
        shared.chars = shared
            .chars
            .saturating_add(u32::try_from(chars).unwrap_or(u32::MAX));
        shared.last = Some(now);
    }

    /// `user` said, joining, that this is their first time here.
    pub(super) fn first_time_here(&mut self, user: UserId) {
        if self.air.first_time.len() >= MAX_COUNTED {
            let (members, waiting) = (&self.members, &self.waiting);
            self.air
                .first_time
                .retain(|u| members.contains_key(u) || waiting.contains_key(u));
        }
        self.air.first_time.insert(user);
    }

    /// A new session starts with nobody counted.
    pub(super) fn clear_air(&mut self) {
        self.air = Air::default();
    }

    /// Every participant's share of the conversation this session, in order of
    /// arrival: what a facilitator's `share_the_air` shows.
    pub fn share_the_air(&self) -> Vec<AirShare> {
        let mut participants: Vec<_> = self
            .members
            .values()
            .filter(|m| m.role == Role::Participant)
            .collect();
        participants.sort_by_key(|m| m.joined_seq);
        participants
            .into_iter()
            .map(|m| {
                let shared = self.air.shared.get(&m.user).copied().unwrap_or_default();
                AirShare {
                    user: m.user,
                    messages: shared.messages,
                    chars: shared.chars,
                    last_spoke: shared.last,
                    hand: m.hand_raised,
                    queued: self.structure.queue.contains(&m.user),
                    first_time: self.air.first_time.contains(&m.user),
                }
            })
            .collect()
    }
}

/// What one facilitator's connection was last given of the figures, and when: it is
/// given them again only when they changed, and not before [`AIR_INTERVAL_MS`] has
/// passed since.
#[derive(Debug, Default)]
pub struct AirWatch {
    sent: Option<(Millis, Vec<AirShare>)>,
}

impl AirWatch {
    /// The figures to give now, if any: the first look always, then a change once the
    /// interval has passed (a change within it waits for a later look).
    pub fn due(&mut self, now: Millis, figures: Vec<AirShare>) -> Option<Vec<AirShare>> {
        match &self.sent {
            Some((_, last)) if *last == figures => return None,
            Some((at, _)) if now < at.saturating_add(AIR_INTERVAL_MS) => return None,
            _ => {}
        }
        self.sent = Some((now, figures.clone()));
        Some(figures)
    }
}
