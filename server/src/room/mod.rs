//! The room: Kindred's pure domain.
//!
//! A [`Room`] is a deterministic state machine. It does no IO, reads no clock (the
//! instant is an argument) and knows nothing of JSON: commands go in, timeline
//! [`Event`]s or a [`Rejection`] come out. Brokers own rooms and decide where the
//! events go; `wire` turns them into frames. Everything a facilitator can do and
//! every rule a message must pass lives here, so it is tested without sockets.
//!
//! Besides the timeline, a room keeps what must outlive a connection: the alerts and
//! held messages no facilitator has handled yet (`alerts`), the session's private
//! messages (`whispers`) and moderation log (`log`), and the recent sends of every
//! user for idempotent `send`, members or not (`sent`).

mod alerts;
mod authz;
mod bans;
mod event;
mod invites;
mod log;
pub mod script;
mod sent;
mod state;
mod tally;
mod whispers;

pub use alerts::{About, Alert, Kept, MAX_OPEN_ALERTS};
pub use authz::{Action, authorize};
pub use bans::{Mark, Origin};
pub use event::{Event, EventKind};
pub use invites::{BoundSeat, Holder, InviteRecord, MAX_INVITE_USES, MAX_SEAT_DEVICES};
pub use log::MAX_LOG_ENTRIES;
pub use sent::MAX_REMEMBERED_SENDS;
pub use state::{
    AIR_INTERVAL_MS, AirWatch, Applied, Briefing, Command, Concern, DEFAULT_CW_TOPICS,
    DEFAULT_GUIDELINES, Departure, Escalation, Guarded, Held, Limits, MAX_HELD,
    MAX_REMEMBERED_MARKS, Member, ModRequest, ModStatus, MoodNotice, MuteNotice, Parting, Presence,
    Rejection, Room, RoomConfig, Screened, Settled, UpdateRoom, Warning, check_cw_topics,
    default_cw_topics,
};
pub use whispers::{MAX_WHISPERS, Whisper};

#[cfg(test)]
mod tests;
