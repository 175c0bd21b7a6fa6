//! How much one member may ask of a room: their messages (and everything else that
//! becomes an event or an alert for others: a hand, a reaction, a report, a whisper,
//! a card or warning acknowledged) and, separately, a facilitator's moderation. One
//! budget per member on each instance, shared by all their tabs there, so five
//! sockets buy no more than one. The per-connection frame rate (any frame at all) is
//! the session's own, charged before a frame is even parsed.

use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// One member's budgets on this instance.
#[derive(Debug)]
pub struct Budget {
    messages: DefaultDirectRateLimiter,
    moderation: DefaultDirectRateLimiter,
}

impl Budget {
    pub fn new(messages: Quota, moderation: Quota) -> Self {
        Self {
            messages: RateLimiter::direct(messages),
            moderation: RateLimiter::direct(moderation),
        }
    }

    /// Spend one message, or say how long to wait.
    pub fn message(&self) -> Result<(), Duration> {
        take(&self.messages)
    }

    /// Spend one moderation action, or say how long to wait.
    pub fn moderation(&self) -> Result<(), Duration> {
        take(&self.moderation)
    }
}

/// Take one unit from a limiter, or say how long to wait.
pub fn take(limiter: &DefaultDirectRateLimiter) -> Result<(), Duration> {
    limiter.check().map_err(|not_until| {
        not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    #[test]
    fn messages_and_moderation_are_counted_apart() {
        let per_minute = |n| Quota::per_minute(NonZeroU32::new(n).unwrap());
        let budget = Budget::new(per_minute(2), per_minute(1));
        assert!(budget.message().is_ok());
        assert!(budget.message().is_ok());
        let wait = budget.message().unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(30));
        // Spent messages leave a facilitator's one action untouched.
        assert!(budget.moderation().is_ok());
        assert!(budget.moderation().is_err());
    }
}
