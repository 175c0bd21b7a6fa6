//! Who is in a room and what the room keeps about them: their standing, presence,
//! a facilitator's warning to them, and a message of theirs held for review.

use kindred_protocol::{ClientId, Millis, Role, Seq, UserId};
use serde::{Deserialize, Serialize};

use crate::room::bans::Origin;
use crate::safety::NameLook;

/// A member's standing with the facilitators. Removal and bans take a member out of
/// the room altogether (see [`Room::bans`]), so they are not states of a present member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModStatus {
    Active,
    /// Muted until the instant, or until lifted when `None`.
    Muted {
        until: Option<Millis>,
    },
}

/// Whether a member has a live connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Presence {
    Online {
        connections: u32,
    },
    /// Every connection dropped at `since`. Within the presence grace period nobody is
    /// told; past it the room is told they are away (`shown`) and keeps their seat
    /// until the away limit, counted from `since`, when they leave.
    Away {
        since: Millis,
        /// The room was told (an `away` event): their return is news (`back`).
        #[serde(default)]
        shown: bool,
    },
}

impl Presence {
    /// One more connection.
    pub(super) fn arrived(self) -> Self {
        match self {
            Presence::Online { connections } => Presence::Online {
                connections: connections + 1,
            },
            Presence::Away { .. } => Presence::Online { connections: 1 },
        }
    }

    /// One connection fewer: away from `now` when it was the last (a member the room
    /// already shows as away stays shown).
    pub(super) fn dropped(self, now: Millis) -> Self {
        match self {
            Presence::Online { connections } if connections > 1 => Presence::Online {
                connections: connections - 1,
            },
            Presence::Online { .. } => Presence::Away {
                since: now,
                shown: false,
            },
            Presence::Away { shown, .. } => Presence::Away { since: now, shown },
        }
    }

    /// Shown to the room as away (past the grace period, the seat kept).
    pub fn shown_away(self) -> bool {
        matches!(self, Presence::Away { shown: true, .. })
    }
}

/// A member of the room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    pub status: ModStatus,
    pub presence: Presence,
    pub hand_raised: bool,
    /// When they last posted, for slow mode.
    pub last_post: Option<Millis>,
    /// Order of arrival, so member lists are stable.
    pub joined_seq: Seq,
    /// What the name looks like, so no newcomer takes a name mistaken for this one.
    #[serde(default)]
    pub look: NameLook,
    /// Where they joined from (marks, never the device id or address itself).
    #[serde(default)]
    pub origin: Origin,
    /// Why a facilitator muted them, told to them alone.
    #[serde(default)]
    pub mute_reason: Option<String>,
    /// "I need a minute": shown beside their name, and a go-around or the queue
    /// passes over them (their place kept) until they are back.
    #[serde(default)]
    pub stepping_away: bool,
}

/// A facilitator's private warning to a participant, waiting for them to acknowledge
/// it; until they do, they cannot post.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub id: u64,
    pub ts: Millis,
    pub user: UserId,
    pub name: String,
    pub reason: Option<String>,
}

/// A message the content policy holds for a facilitator's review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub id: u64,
    /// When it was held (the send's instant).
    #[serde(default)]
    pub ts: Millis,
    pub user: UserId,
    pub name: String,
    pub client_id: ClientId,
    pub text: String,
    pub cw: Option<String>,
    /// The kinds of content the policy found.
    #[serde(with = "crate::safety::kind_names")]
    pub kinds: Vec<&'static str>,
}
