//! What configures a room: the operator's settings, a change to them, and the limits
//! its rules use (from the creating instance's configuration), all kept with the room.

use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{Phase, Schedule, Visibility};
use serde::{Deserialize, Serialize};

/// The guidelines a room gets when its creator gives none.
pub const DEFAULT_GUIDELINES: &str = "\
1. What is shared here stays here.\n\
2. Speak from your own experience; listen without judging.\n\
3. No advice unless it is asked for; no diagnosing one another.\n\
4. Be kind. Disagree gently. No hate, harassment or slurs.\n\
5. You may pass: nobody has to share.\n\
6. If you are in danger right now, contact your local emergency number or a crisis line.";

/// The content-warning topics a room offers when its operator names none: what a
/// support group most often wants to be warned of.
pub const DEFAULT_CW_TOPICS: [&str; 7] = [
    "self-harm",
    "suicide",
    "abuse",
    "eating",
    "substances",
    "grief",
    "violence",
];

/// The most content-warning topics a room offers.
pub const MAX_CW_TOPICS: usize = 20;
/// The longest content-warning topic, in characters.
pub const MAX_CW_TOPIC_CHARS: usize = 40;

/// [`DEFAULT_CW_TOPICS`] as a room keeps them.
pub fn default_cw_topics() -> Vec<String> {
    DEFAULT_CW_TOPICS.iter().map(|t| (*t).to_owned()).collect()
}

/// The operator's content-warning topics, trimmed, or what is wrong with them: at most
/// `MAX_CW_TOPICS`, each a short line of `MAX_CW_TOPIC_CHARS` characters at most,
/// none empty, none twice (whatever its case). An empty list is allowed: the room then
/// offers no topics (a member may still write their own warning).
pub fn check_cw_topics(topics: Vec<String>) -> Result<Vec<String>, String> {
    if topics.len() > MAX_CW_TOPICS {
        return Err(format!("at most {MAX_CW_TOPICS} topics"));
    }
    let mut seen = std::collections::BTreeSet::new();
    topics
        .into_iter()
        .enumerate()
        .map(|(i, topic)| {
            let topic = topic.trim().to_owned();
            if topic.is_empty() {
                return Err(format!("topic {i} is empty"));
            }
            if topic.chars().count() > MAX_CW_TOPIC_CHARS {
                return Err(format!(
                    "topic {i} is longer than {MAX_CW_TOPIC_CHARS} characters"
                ));
            }
            if topic.chars().any(char::is_control) {
                return Err(format!("topic {i} holds a control character"));
            }
            if !seen.insert(topic.to_lowercase()) {
                return Err(format!("topic {i} ({topic}) is there twice"));
            }
            Ok(topic)
        })
        .collect()
}

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
    /// The content-warning topics members are offered (`welcome.cw_topics`): a room
    /// stored before it had them takes the list Kindred ships.
    #[serde(default = "default_cw_topics")]
    pub cw_topics: Vec<String>,
}

/// A change to a room's settings ([`Room::configure`](super::Room::configure)): only
/// the fields present change. The operator's `PATCH` becomes one at the HTTP edge,
/// checked there; the Redis broker's log carries it as [`Serialize`] writes it, in
/// the same shape the `PATCH` body has, so entries written before and after read
/// alike.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateRoom {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidelines: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// Through [`Room::set_policy`](super::Room::set_policy), so members hear of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<ContentPolicy>,
    /// Open a session (`true`), or close the one that is on (`false`: its members are
    /// told and disconnected, as by a facilitator's `close`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilitated: Option<bool>,
    /// Turning it off admits everyone waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_room: Option<bool>,
    /// Absent: the schedule stays as it is; `Some(None)` (`null`): the room no longer
    /// has one; a schedule: the new one.
    #[serde(
        default,
        deserialize_with = "kindred_protocol::schedule::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub schedule: Option<Option<Schedule>>,
    /// A new session script ([`Room::set_script`](super::Room::set_script)): members
    /// hear of it, and no phase is current after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<Vec<Phase>>,
    /// The content-warning topics members are offered from now on (checked at the
    /// HTTP edge, [`check_cw_topics`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cw_topics: Option<Vec<String>>,
}

/// The numbers a room's rules use. A new room takes them from the instance that
/// creates it (its flags) and keeps them: they are part of the room its log folds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// How long a member whose connection dropped stays present, nobody told (ms).
    pub presence_grace_ms: u64,
    /// How long, from the drop, a member whose connection dropped keeps their seat
    /// (shown as away once the grace period has passed) before they leave (ms). Never
    /// below the grace period; equal to it, a dropped member leaves at its end. A room
    /// stored before it was kept takes the default.
    #[serde(default = "default_away_limit_ms")]
    pub away_limit_ms: u64,
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
            away_limit_ms: default_away_limit_ms(),
            dedupe_window: 64,
            max_moderation_seconds: 24 * 3600,
            default_floor_seconds: 180,
            members_per_address: 4,
            held_close_ms: 15 * 60_000,
        }
    }
}

fn default_away_limit_ms() -> u64 {
    10 * 60_000
}

pub(super) fn in_session() -> bool {
    true
}
