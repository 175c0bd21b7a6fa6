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
        self.nanos_at(Instant::now())
    }

    /// The monotonic instant `at`, in nanoseconds since the Unix epoch: the wall clock
    /// is read once, when the clock is made, and never again.
    fn nanos_at(&self, at: Instant) -> u64 {
        self.anchor_unix_nanos + at.saturating_duration_since(self.anchor).as_nanos() as u64
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn follows_the_monotonic_clock_from_one_reading_of_the_wall_clock() {
        // A wall-clock reading and a monotonic instant taken together; whatever the
        // wall clock does afterwards, the clock moves exactly as the instants do.
        let anchor = Instant::now();
        let clock = Clock {
            anchor,
            anchor_unix_nanos: 1_700_000_000_000_000_000,
        };
        assert_eq!(clock.nanos_at(anchor), 1_700_000_000_000_000_000);
        let later = anchor + Duration::from_millis(1_500);
        assert_eq!(clock.nanos_at(later), 1_700_000_001_500_000_000);
        let much_later = anchor + Duration::from_secs(3_600);
        assert_eq!(
            clock.nanos_at(much_later) - clock.nanos_at(later),
            (much_later - later).as_nanos() as u64
        );
    }

    #[test]
    fn never_goes_backwards() {
        let clock = Clock::global();
        let first = clock.now_nanos();
        // Somewhere after 2020-01-01.
        assert!(first > 1_577_836_800_000_000_000);
        // Several threads reading at once, each many times in a row.
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut last = clock.now_nanos();
                    for _ in 0..100_000 {
                        let now = clock.now_nanos();
                        assert!(now >= last, "{now} after {last}");
                        last = now;
                    }
                    last
                })
            })
            .collect();
        for thread in threads {
            assert!(thread.join().expect("no reading went backwards") >= first);
        }
    }
}
