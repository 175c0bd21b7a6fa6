use std::time::{Duration, Instant};

use super::{CLOCK_MARGIN, last_moment};

#[test]
fn an_appends_last_moment_is_redis_s_clock_at_the_answer_less_the_margin() {
    let when = Instant::now();
    let read = 1_765_000_000_000;
    let margin = u64::try_from(CLOCK_MARGIN.as_millis()).unwrap();
    // Answered 1.5 s after the reading arrived: Redis's clock has run at least as far.
    let at = when + Duration::from_millis(1_500);
    assert_eq!(last_moment(read, when, at), read + 1_500 - margin);
    // Never later than Redis's clock can be at the answer, whatever the sub-ms rest.
    let at = when + Duration::from_micros(1_500_999);
    assert_eq!(last_moment(read, when, at), read + 1_500 - margin);
    // A moment before the reading (no such answer is given) is not moved forward.
    assert_eq!(last_moment(read, at, when), read - margin);
}
