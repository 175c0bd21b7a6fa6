//! One clock for send instants and receive instants.
//!
//! Latency is measured end to end by putting the send instant into the message text
//! and subtracting it on arrival. Both ends run in this process (or in load testers on
//! the same machine), so a Unix-epoch clock is comparable everywhere; it is derived
//! from a monotonic `Instant` so that a wall-clock step during a run cannot produce a
//! negative or inflated latency.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch, advancing with the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    anchor: Instant,
    anchor_unix_nanos: u64,
}

impl Clock {
    fn new() -> Self {
        let anchor = Instant::now();
        let anchor_unix_nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Self {
            anchor,
            anchor_unix_nanos,
        }
    }

    /// The process-wide clock.
    pub fn global() -> &'static Clock {
        static CLOCK: OnceLock<Clock> = OnceLock::new();
        CLOCK.get_or_init(Clock::new)
    }

    /// Now, in nanoseconds since the Unix epoch.
    pub fn now_nanos(&self) -> u64 {
        self.anchor_unix_nanos + self.anchor.elapsed().as_nanos() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_backwards() {
        let clock = Clock::global();
        let a = clock.now_nanos();
        let b = clock.now_nanos();
        assert!(b >= a);
        // Somewhere after 2020-01-01.
        assert!(a > 1_577_836_800_000_000_000);
    }
}
