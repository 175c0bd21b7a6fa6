//! The session's private messages: a participant's whispers to the facilitators, a
//! facilitator's check-ins with one member (in the room or waiting to be let in), and
//! a facilitator's notes to everyone in the waiting room. The room keeps them for the session so a
//! reload or a dropped connection loses none of the conversation (each member is given
//! their own again after `welcome`, a facilitator all of them), and so a whisper
//! written while no facilitator is connected waits for one. Dropped at close, like
//! everything else the session said.

use std::collections::VecDeque;

use kindred_protocol::{Millis, UserId};
use serde::{Deserialize, Serialize};

/// The most whispers a session keeps; past it the oldest goes first.
pub const MAX_WHISPERS: usize = 500;

/// One private message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Whisper {
    /// Unique in the session (the room's count of alerts and held messages).
    pub id: u64,
    pub ts: Millis,
    pub from: UserId,
    pub name: String,
    /// The member a facilitator wrote to; `None`: to the facilitators.
    pub to: Option<UserId>,
    pub text: String,
    /// Written while no facilitator was connected: it waited for one.
    pub kept: bool,
    /// A facilitator's note to everyone in the waiting room.
    #[serde(default)]
    pub waiting: bool,
}

impl Whisper {
    /// Whether `user` wrote it or it was written to them.
    fn concerns(&self, user: UserId) -> bool {
        self.from == user || self.to == Some(user)
    }
}

/// The session's whispers, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Whispers(VecDeque<Whisper>);

impl Whispers {
    pub fn keep(&mut self, whisper: Whisper) {
        self.0.push_back(whisper);
        while self.0.len() > MAX_WHISPERS {
            self.0.pop_front();
        }
    }

    /// What a member is given again on arrival: a facilitator every whisper of the
    /// session, a participant the ones they wrote or were written.
    pub fn for_member(&self, user: UserId, facilitator: bool) -> Vec<Whisper> {
        self.0
            .iter()
            .filter(|w| facilitator || w.concerns(user))
            .cloned()
            .collect()
    }

    /// What someone in the waiting room is given again on arrival: the private line
    /// between them and the facilitators, and the notes to everyone waiting.
    pub fn for_waiting(&self, user: UserId) -> Vec<Whisper> {
        self.0
            .iter()
            .filter(|w| w.waiting || w.concerns(user))
            .cloned()
            .collect()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}
