//! What the server tells members privately besides the frames themselves: the kinds
//! of a facilitator's alert, a quoted message, who is waiting, the moderation log's
//! entries. Used by [`crate::server_frame`]; a card's help lines and the crisis
//! categories are in [`crate::help_lines`].

use serde::{Deserialize, Serialize};

use crate::ids::{Millis, Seq, UserId};

/// What a facilitator's alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A message sounds like a crisis.
    Crisis,
    /// A message may be a reason to check in with its author: the classifier leans
    /// that way without being sure. Ranked below a crisis; its author gets no card.
    CheckIn,
    /// A member reported a message.
    Report,
    /// The content policy flagged a message.
    Flagged,
    /// A message is held for review.
    Held,
    /// A participant is in the waiting room (see the `waiting` frame for the list).
    Knock,
    /// A member is worried about another (`user`; `by` is who is worried).
    Concern,
}

/// One message as a report's alert quotes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub seq: Seq,
    pub ts: Millis,
    pub user: UserId,
    pub name: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cw: Option<String>,
}

/// A participant in the waiting room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingMember {
    pub user: UserId,
    pub name: String,
    /// When they knocked.
    pub since: Millis,
    /// Whether one of their connections is open now.
    pub online: bool,
    /// A facilitator asked them out of the room for a quiet word (`step_out`): they
    /// were a member a moment ago, and `admit` lets them back in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stepped_out: bool,
}

/// Why someone is in the waiting room when a facilitator asked them out of the room
/// for a quiet word (`welcome.you.stepped_out`): the facilitator's note, if they wrote
/// one. Nobody else in the room reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SteppedOut {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One participant's share of the conversation, as a facilitator's `share_the_air`
/// shows it: what they have shared this session, when they last spoke (the client
/// counts the time since), and whether they wait to speak or are here for the first
/// time. Never shown to participants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AirShare {
    pub user: UserId,
    /// Messages of theirs the room has seen this session (a held one once released).
    pub messages: u32,
    /// The characters of those messages.
    pub chars: u32,
    /// When their last message reached the room; absent while they have not spoken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_spoke: Option<Millis>,
    /// Their hand is raised.
    #[serde(default, skip_serializing_if = "is_false")]
    pub hand: bool,
    /// They wait in the sharing queue.
    #[serde(default, skip_serializing_if = "is_false")]
    pub queued: bool,
    /// They said, joining, that this is their first time here.
    #[serde(default, skip_serializing_if = "is_false")]
    pub first_time: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One entry of the session's moderation log: who did what, to whom, why and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its place in the log, from 1 in each session.
    pub id: u64,
    pub ts: Millis,
    /// The facilitator who acted.
    pub by: UserId,
    pub by_name: String,
    pub action: crate::client_frame::ModAction,
    /// The member acted on, and their name at the time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The message acted on (redact; a release's new message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
    /// A mute's, slow mode's or floor's length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u32>,
    /// The held message released or declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<u64>,
    /// The alert resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<u64>,
    /// For waiting_room, lock and the like: the new setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<bool>,
}
