//! Kindred: a real-time chat server for moderated peer-support rooms.
//!
//! Map (see ARCHITECTURE.md for the path of one message and the invariants):
//! - [`room`]: the pure domain — a room's state machine, roles, moderation rules.
//! - [`broker`]: the seam to shared state (`Broker` trait) and its in-memory engine.
//! - [`hub`]: this instance's connections by room; fan-out of shared bytes.
//! - [`session`]: one WebSocket connection's event loop.
//! - [`safety`]: crisis matcher, content policy (rustrict), text normalisation.
//! - [`wire`]: the one conversion from domain values to wire frames.
//! - [`http`]: axum handlers — admission, admin API, health, metrics, `/ws`.
//! - [`schedule`]: a room's weekly schedule: its next session and its calendar feed.
//! - [`auth`]: signed session tokens and facilitator invites.
//! - [`catalog`]: the catalog file that keeps rooms across a restart (`--catalog-file`).
//! - [`invite`]: minting a facilitator invite (its record in the room, its token).
//! - [`state`]: what every request and session shares ([`state::AppState`]).
//! - [`clock`]: the one read of the wall clock.
//! - [`config`], [`metrics`]: configuration, Prometheus metrics.
//! - [`app`]: building the state, start and stop; on top of everything, imported by
//!   nothing (`tests/tests/layers` checks that no module imports another in a circle).

pub mod app;
pub mod auth;
pub mod broker;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod http;
pub mod hub;
pub mod invite;
pub mod metrics;
pub mod room;
pub mod safety;
pub mod schedule;
pub mod session;
pub mod state;
pub mod wire;

pub use app::{Running, start};
pub use config::Config;
