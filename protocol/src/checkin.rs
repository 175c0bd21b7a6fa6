//! How members arrive and leave, told to the facilitators alone, and the session's
//! debrief. A participant's `checkin` and `checkout` (a mood from 1 to 5 and a few
//! optional words) reach the facilitators as a `mood` frame and, for a facilitator
//! who arrives, in `welcome.moods`; no other member is ever given them. When a
//! session closes, each facilitator connected is given a `debrief`: its counts, never
//! anyone's words.

use serde::{Deserialize, Serialize};

use crate::client_frame::ModAction;
use crate::ids::{Millis, UserId};
use crate::notices::AlertKind;

/// The lowest mood: struggling.
pub const MIN_MOOD: u8 = 1;
/// The highest mood: doing well.
pub const MAX_MOOD: u8 = 5;
/// The longest a check-in's or check-out's words may be, in characters.
pub const MAX_MOOD_WORDS_CHARS: usize = 80;

/// Whether a mood is one Kindred takes: from [`MIN_MOOD`] to [`MAX_MOOD`].
pub fn is_mood(mood: u8) -> bool {
    (MIN_MOOD..=MAX_MOOD).contains(&mood)
}

/// One check-in or check-out: the mood and the words a member gave with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoodGiven {
    pub mood: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<String>,
    pub ts: Millis,
}

/// A member's check-in and check-out this session, as the facilitators see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberMood {
    pub user: UserId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkin: Option<MoodGiven>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<MoodGiven>,
}

/// The room's anonymous spread: how many members gave each mood, at check-in and at
/// check-out. The first number counts mood 1, the last mood 5.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoodSpread {
    pub checkin: [u32; 5],
    pub checkout: [u32; 5],
}

/// Every check-in and check-out of the session and their spread: a facilitator's
/// `welcome.moods`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoodBoard {
    pub members: Vec<MemberMood>,
    pub spread: MoodSpread,
}

/// The `debrief` frame: what a session was, in counts, for the facilitators at its
/// close. Computed from the room as the session ends and kept nowhere after.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Debrief {
    /// When the session opened, if the room knows (a room stored before sessions
    /// were counted does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened: Option<Millis>,
    pub closed: Millis,
    /// How long it lasted, in whole minutes (0 when `opened` is unknown).
    pub minutes: u32,
    /// Participants: the most at once, and how many different ones came.
    pub peak: u32,
    pub members: u32,
    /// Messages shared with the room (a held message once released).
    pub messages: u32,
    /// Go-arounds begun, turns taken in them and turns passed.
    pub rounds: u32,
    pub shared: u32,
    pub passes: u32,
    /// Alerts by kind (a report is kind `report`): raised, and handled by a
    /// facilitator (released or declined, for a held message); the rest were open
    /// at the close. Kinds with none are left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<AlertCount>,
    /// The facilitators' actions, by kind, as the moderation log kept them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionCount>,
    /// The check-in and check-out spread.
    pub moods: MoodSpread,
}

/// Alerts of one kind in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertCount {
    pub kind: AlertKind,
    pub raised: u32,
    pub handled: u32,
}

/// A facilitator's action, and how often it was taken in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionCount {
    pub action: ModAction,
    pub count: u32,
}
