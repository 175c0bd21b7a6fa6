//! What configures a room: the operator's settings, and the limits its rules use
//! (from the creating instance's configuration), both kept with the room.

use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{Schedule, Visibility};
use serde::{Deserialize, Serialize};

/// What an operator sets for a room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomConfig {
    pub title: String,
    pub topic: String,
    pub description: String,
    pub guidelines: String,
    pub capacity: u32,
    pub visibility: Visibility,
    pub policy: ContentPolicy,
    /// A facilitator keeps the room: while none is present in an open session, the
    /// room is held. `false` for a drop-in room nobody watches.
    #[serde(default = "in_session")]
    pub facilitated: bool,
    /// When the group meets each week (checked by the admin API before it gets
    /// here). It only tells people when to come: it never opens the room.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// Participants wait until a facilitator admits them.
    #[serde(default)]
    pub waiting_room: bool,
}

/// The numbers a room's rules use. A new room takes them from the instance that
/// creates it (its flags) and keeps them: they are part of the room its log folds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// How long a member whose connection dropped stays present (ms).
    pub presence_grace_ms: u64,
    /// How many recent `send` client ids per user are remembered for de-duplication
    /// (room-wide at most [`MAX_REMEMBERED_SENDS`]).
    pub dedupe_window: usize,
    /// The longest mute, slow mode or floor a facilitator may set (seconds).
    pub max_moderation_seconds: u32,
    /// The floor's length when the facilitator gives none (seconds).
    pub default_floor_seconds: u32,
    /// How many participants may hold a seat in one room from one network address
    /// (counted only for addresses that name a person's network, see [`Origin`]).
    pub members_per_address: usize,
    /// How long a session may stay held (no facilitator present) before it closes
    /// itself (ms).
    pub held_close_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            presence_grace_ms: 30_000,
            dedupe_window: 64,
            max_moderation_seconds: 24 * 3600,
            default_floor_seconds: 180,
            members_per_address: 4,
            held_close_ms: 15 * 60_000,
        }
    }
}

pub(super) fn in_session() -> bool {
    true
}
