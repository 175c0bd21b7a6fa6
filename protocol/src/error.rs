//! Stable error codes (the `code` of an `error` frame and of HTTP error bodies) and
//! the WebSocket close codes the server uses.

use serde::{Deserialize, Serialize};

/// Why a request was refused. The snake_case names are part of the protocol and
/// never change meaning; new codes may be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame or body is malformed: invalid JSON, unknown type, missing field.
    BadRequest,
    /// No valid token: missing, forged, expired, or for another room.
    Unauthorized,
    /// The caller's role may not do this (e.g. a participant sending `mod`).
    Forbidden,
    /// The room, member or message does not exist.
    NotFound,
    /// The sender is muted.
    Muted,
    /// The room is paused: only facilitators may post.
    Paused,
    /// The session has been closed.
    Closed,
    /// Slow mode is on and the sender posted too recently (`retry_after_ms`).
    SlowMode,
    /// Too many frames or requests (`retry_after_ms`).
    RateLimited,
    /// Text or frame over the configured limit.
    TooLarge,
    /// The content policy refused the text.
    Filtered,
    /// The room is at capacity.
    RoomFull,
    /// The room is locked: no new members.
    Locked,
    /// The member is banned from this room.
    Banned,
    /// Another member has the floor.
    NotYourTurn,
    /// The room is held: no facilitator is here, so participants' messages wait
    /// until one comes back.
    Held,
    /// A facilitator's warning waits to be acknowledged (`ack_warning`) before the
    /// member may post again.
    Warned,
    /// The member is in the waiting room: a facilitator will let them in.
    Waiting,
    /// A facilitator did not admit the member from the waiting room.
    Denied,
    /// No `hello` arrived in time.
    Timeout,
    /// The connection could not keep up with the room and was closed; resume with `last_seq`.
    SlowConsumer,
    /// Something went wrong on our side; the request may be retried.
    Internal,
    /// A facilitator invite already seats a facilitator who opened it in another
    /// browser: it seats only them, in that browser or on a device they add.
    InviteInUse,
    /// The room's guardrail found means, method, graphic detail or a dose in the
    /// message: nothing reached the room, and the author chooses what to do
    /// (`guard`, `choices`).
    Consider,
}

impl ErrorCode {
    /// The wire name, e.g. `"room_full"`. Used for logs and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Muted => "muted",
            ErrorCode::Paused => "paused",
            ErrorCode::Closed => "closed",
            ErrorCode::SlowMode => "slow_mode",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Filtered => "filtered",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::Locked => "locked",
            ErrorCode::Banned => "banned",
            ErrorCode::Held => "held",
            ErrorCode::Warned => "warned",
            ErrorCode::NotYourTurn => "not_your_turn",
            ErrorCode::Waiting => "waiting",
            ErrorCode::Denied => "denied",
            ErrorCode::Timeout => "timeout",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::Internal => "internal",
            ErrorCode::InviteInUse => "invite_in_use",
            ErrorCode::Consider => "consider",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// WebSocket close codes. 1000–1011 are RFC 6455's; 4000–4999 are Kindred's own.
pub mod close_code {
    /// The member left, or the server finished the conversation normally.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down; reconnect (to another instance) and resume.
    pub const GOING_AWAY: u16 = 1001;
    /// A protocol violation such as a binary frame or a first frame that is not `hello`.
    pub const POLICY: u16 = 1008;
    /// A frame over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// The token was refused; do not retry with the same token.
    pub const UNAUTHORIZED: u16 = 4001;
    /// No `hello` arrived in time, or the connection went silent.
    pub const TIMEOUT: u16 = 4002;
    /// The member was removed or banned by a facilitator, removed by the organiser
    /// (the admin API), or turned away from the waiting room; the reason says which.
    pub const REMOVED: u16 = 4003;
    /// The session was closed by a facilitator or the room was deleted.
    pub const ROOM_CLOSED: u16 = 4004;
    /// The room is full or locked, or the member's network already seats its share
    /// of the room's participants.
    pub const ROOM_UNAVAILABLE: u16 = 4005;
    /// The connection fell behind the room; resume with `last_seq` to catch up.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// This member already has as many connections open as the server allows; close
    /// another tab or window, then reconnect.
    pub const TOO_MANY_CONNECTIONS: u16 = 4009;
}
