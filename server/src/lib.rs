//! Kindred: a real-time chat server for moderated peer-support rooms.
//!
//! Map (see ARCHITECTURE.md for the path of one message and the invariants):
//! - [`room`]: the pure domain — a room's state machine, roles, moderation rules.
//! - [`broker`]: the seam to shared state: the rooms as the server asks for them
//!   (`broker::Rooms`), over an engine's narrow surface (a room's log and the
//!   catalog); the one delivery step (`broker::timeline`) and the connections it
//!   delivers to, by room, with the fan-out of shared bytes (`broker::hub`); its two
//!   engines: in memory, and Redis as a replicated log (`broker::redis`, Cluster
//!   included).
//! - [`session`]: one WebSocket connection's event loop.
//! - [`safety`]: crisis detection (phrase rules and a classifier), content policy
//!   (rustrict), text normalisation, a member's budgets.
//! - [`wire`]: the one conversion from domain values to wire frames.
//! - [`http`]: the edge (accept loop, connection caps, deadlines, the client's address)
//!   and axum handlers — admission, admin API, health, metrics, `/ws`, the web client.
//! - [`schedule`]: a room's weekly schedule: its next session and its calendar feed.
//! - [`auth`]: signed session tokens and facilitator invites.
//! - [`catalog`]: the catalog file that keeps rooms across a restart (`--catalog-file`).
//! - [`invite`]: minting a facilitator invite (its record in the room, its token).
//! - [`oncall`]: the on-call supervisor: a link minted, its token checked, the board.
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
pub mod invite;
pub mod metrics;
pub mod oncall;
pub mod room;
pub mod safety;
pub mod schedule;
pub mod session;
pub mod state;
pub mod wire;

pub use app::{Running, start};
pub use config::Config;
