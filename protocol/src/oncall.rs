//! The on-call supervisor: the links the operator mints for them (admin API), the
//! board their page reads (every open session on every instance: who facilitates it,
//! whether it is held, and the alerts a facilitator escalated), and the one-tap join
//! that seats them in a room as a facilitator.

use serde::{Deserialize, Serialize};

use crate::help_lines::CrisisCategory;
use crate::ids::{Millis, OnCallId, RoomId, UserId};

/// `POST /api/oncall` (admin). Strict: an unknown field is refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOnCall {
    /// How long the link works; absent: 12 hours (a shift). At most 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
}

/// An on-call link. `token` and `url` come only in the answer to the `POST` that
/// minted it: the server keeps neither.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnCallLink {
    pub id: OnCallId,
    /// The bearer token the on-call page sends (`Authorization: Bearer …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The page's path, the token in its fragment (`/#oncall=…`), so it never reaches
    /// a server's or a proxy's logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// `GET /api/oncall` (admin): the links that still work, oldest first, without tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnCallList {
    pub links: Vec<OnCallLink>,
}

/// `GET /api/oncall/board` (an on-call token): every open session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Board {
    /// The server's clock as it read the rooms.
    pub now: Millis,
    /// How long a room is held before it asks for on-call (`--oncall-held-after-secs`).
    pub held_after_seconds: u64,
    /// Rooms in session; those that need on-call first (an escalation, then a room
    /// held past `held_after_seconds`), then by title.
    pub rooms: Vec<BoardRoom>,
}

/// One room in session, as the on-call board shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardRoom {
    pub id: RoomId,
    pub title: String,
    /// Facilitators present (connected, or dropped within the grace period).
    pub facilitators: u32,
    /// Members in the room, facilitators included.
    pub members: u32,
    /// Since when the room has been held (no facilitator present), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_since: Option<Millis>,
    /// Held for `held_after_seconds` or more, or an alert escalated: on-call is asked
    /// to come.
    pub needs_on_call: bool,
    /// Alerts a facilitator escalated this session, oldest first.
    pub escalations: Vec<BoardEscalation>,
}

/// An alert a facilitator escalated to on-call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardEscalation {
    /// The alert's id in its room.
    pub alert: u64,
    /// When it was escalated.
    pub ts: Millis,
    /// The facilitator who escalated it.
    pub by: UserId,
    pub by_name: String,
    /// Whom the alert is about: the member who wrote the words (or reported, or is
    /// worried), by their pseudonym.
    pub name: String,
    /// For a crisis alert: what kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<CrisisCategory>,
    /// The words the alert points at, as the facilitators read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

/// `POST /api/oncall/rooms/{id}/join` (an on-call token). Every field is optional, so
/// an empty body joins as "On-call".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnCallJoin {
    /// The pseudonym to show (1–32 characters); absent: "On-call".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
