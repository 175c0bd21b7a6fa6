//! Bodies of the HTTP API. Errors come as [`HttpError`] with a stable [`ErrorCode`].

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::ids::{Millis, RoomId, UserId};
use crate::policy::ContentPolicy;
use crate::server_frame::{Role, RoomSummary, Visibility};

/// `POST /api/rooms` (admin). Absent fields take the server's defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateRoom {
    pub title: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub description: String,
    /// The group's guidelines; every member accepts them before joining. Absent: the
    /// server's default guidelines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidelines: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub visibility: Visibility,
    /// The content policy; absent: flag slurs and harassment to facilitators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<ContentPolicy>,
}

/// `PATCH /api/rooms/{id}` (admin): only the fields present change.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<ContentPolicy>,
}

/// `GET /api/rooms`: the public directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomList {
    pub rooms: Vec<RoomSummary>,
}

/// `POST /api/rooms/{id}/invites` (admin): mint a facilitator invite.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateInvite {
    /// How long the invite may be used; absent: the server's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
}

/// A facilitator invite: pass `token` as `invite` when joining.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    pub token: String,
    pub role: Role,
    pub expires_at: Millis,
    /// A path for the web client that carries the invite.
    pub url: String,
}

/// `POST /api/rooms/{id}/join`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The pseudonym to show (1–32 characters).
    pub name: String,
    /// Must be `true`: the member has read and accepts the group's guidelines.
    pub accept_guidelines: bool,
    /// A facilitator invite token, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
}

/// The answer to a join: a session token for `hello`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinResponse {
    pub token: String,
    pub user_id: UserId,
    pub role: Role,
    pub room: RoomId,
    pub expires_at: Millis,
    /// The WebSocket path to connect to, relative to the server.
    pub ws_path: String,
}

/// Every HTTP error body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}
