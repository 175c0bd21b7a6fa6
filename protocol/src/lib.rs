//! Kindred wire protocol, version 1.
//!
//! This crate is the contract between the server, the web client, the load tester
//! and third-party clients. It holds serde types only: no tokio, axum or redis
//! (the optional `client` feature adds a small async client for Rust callers).
//! `PROTOCOL.md` beside this crate documents every frame with a JSON example, and
//! `tests/fixtures/*.json` pins each frame's exact JSON shape.
//!
//! Map:
//! - [`ids`]: newtype identifiers (`RoomId`, `UserId`) and scalar aliases.
//! - [`client_frame`]: frames a client sends over the WebSocket.
//! - [`server_frame`]: frames the server sends; timeline events carry a `seq`.
//! - [`notices`]: what those private frames carry (alert kinds, quotes, the waiting
//!   list, the moderation log's entries, help lines).
//! - [`error`]: stable error codes and WebSocket close codes.
//! - [`http`]: request and response bodies of the HTTP API.
//! - [`oncall`]: the on-call supervisor's links and board (HTTP bodies).
//! - [`policy`]: a room's content policy.
//! - [`schedule`]: a room's weekly meeting time and its next session.
//! - [`script`]: the structured group: a session script, rounds and the sharing queue.
//! - [`checkin`]: a member's mood at check-in and check-out (for the facilitators
//!   alone) and the session's debrief.
//! - `client` (feature `client`): join over HTTP, then speak the WebSocket protocol.

pub mod checkin;
pub mod client_frame;
pub mod error;
pub mod help_lines;
pub mod http;
pub mod ids;
pub mod notices;
pub mod oncall;
pub mod policy;
pub mod schedule;
pub mod script;
pub mod server_frame;
pub mod welcome;

#[cfg(feature = "client")]
pub mod client;

pub use checkin::{ActionCount, AlertCount, Debrief, MemberMood, MoodBoard, MoodGiven, MoodSpread};
pub use client_frame::{ClientFrame, ModAction, Reaction};
pub use error::{ErrorCode, close_code};
pub use ids::{ClientId, Epoch, InviteId, Millis, OnCallId, RoomId, Seq, UserId};
pub use policy::{GuardCategory, GuardChoice, GuardMode, GuardOffer};
pub use schedule::{NextSession, Schedule, Weekday};
pub use script::{
    Phase, PhaseEvent, PhaseKind, PhaseNow, QueueEvent, Queued, RoundEvent, RoundNow, ScriptEvent,
    ScriptView, Turn, TurnDone,
};
pub use server_frame::{
    AirShare, AlertKind, CountryLines, CrisisCategory, ErrorFrame, HelpLine, LeftReason, LogEntry,
    Me, MemberInfo, Quote, ResumeKind, Role, RoomState, RoomSummary, ServerFrame, SteppedOut,
    Visibility, WaitingMember, Welcome,
};

/// The protocol version this crate speaks. A server announces it in `welcome`.
pub const PROTOCOL_VERSION: u32 = 1;
