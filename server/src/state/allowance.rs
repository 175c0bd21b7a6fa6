//! Per-address allowances: a keyed rate limiter and its one check, which says when
//! the next request is allowed. The HTTP layer turns a refusal into `rate_limited`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// A rate limiter keyed by client IP address (an IPv6 network counts as one key:
/// `http::forwarded::limit_key`).
pub type IpLimiter = governor::DefaultKeyedRateLimiter<IpAddr>;

/// `per_minute` requests a minute for each key (at least one).
pub fn per_minute(per_minute: u32) -> IpLimiter {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute))
}

/// Count one request against `key`'s allowance; over it, how long until the next one
/// is allowed (never zero).
pub fn check(limiter: &IpLimiter, key: IpAddr) -> Result<(), Duration> {
    limiter.check_key(&key).map_err(|not_until| {
        not_until
            .wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
            .max(Duration::from_millis(1))
    })
}
