//! The wall clock, read in one place: the domain never reads it (time is an argument),
//! so every instant a room sees comes from here or, in tests, from a fake clock.

use std::time::{SystemTime, UNIX_EPOCH};

use kindred_protocol::Millis;

/// Wall-clock milliseconds: the only clock read outside tests, passed into the domain.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
