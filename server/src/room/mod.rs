//! The room: Kindred's pure domain.
//!
//! A [`Room`] is a deterministic state machine. It does no IO, reads no clock (the
//! instant is an argument) and knows nothing of JSON: commands go in, timeline
//! [`Event`]s or a [`Rejection`] come out. Brokers own rooms and decide where the
//! events go; `wire` turns them into frames. Everything a facilitator can do and
//! every rule a message must pass lives here, so it is tested without sockets.

mod authz;
mod event;
mod state;

pub use authz::{Action, authorize};
pub use event::{Event, EventKind};
pub use state::{
    Applied, Command, Held, Limits, MAX_HELD, Member, ModRequest, ModStatus, Presence, Rejection,
    Room, RoomConfig, Screened,
};

#[cfg(test)]
mod tests;
