//! A room's weekly meeting time, and the next session it gives.
//!
//! The schedule is what an operator writes (a weekday, a local start time, a length
//! and an IANA time zone); the server works out the instants. A schedule never opens
//! a room by itself: a facilitator still does.

use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::Millis;

/// When a group meets: every `weekday` at `start` local time in `timezone`, for
/// `minutes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub weekday: Weekday,
    /// Local start time, `HH:MM` on a 24-hour clock (`"19:00"`).
    pub start: String,
    /// How long a session lasts: 15 to 720.
    pub minutes: u32,
    /// An IANA time zone name (`"Europe/London"`), never a fixed offset, so a
    /// session keeps its local time across daylight-saving changes.
    pub timezone: String,
}

/// A day of the week, by its English name in lower case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

/// The next scheduled session whose end is still ahead (during a session, the
/// current one), in UTC milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextSession {
    pub starts_at: Millis,
    pub ends_at: Millis,
}

/// For a field that distinguishes absent (`None`: leave it as it is) from `null`
/// (`Some(None)`: remove it) from a value (`Some(Some(v))`: set it). Use with
/// `#[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]`;
/// serde calls this only when the field is present, so `null` arrives as `Some(None)`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
