//! Latency math: every latency in whole microseconds into one histogram, and its
//! percentiles in milliseconds for the report. Pure, no IO.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in whole microseconds, rounded up, at least 1.
pub fn micros(latency_nanos: u64) -> u64 {
    latency_nanos.div_ceil(1000).max(1)
}

/// The histogram every latency goes into: 1 µs to 10 minutes, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Percentiles of a latency histogram (recorded in µs), in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl LatencySummary {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_up() {
        assert_eq!(micros(0), 1);
        assert_eq!(micros(1), 1);
        assert_eq!(micros(1000), 1);
        assert_eq!(micros(1001), 2);
        assert_eq!(micros(250_400), 251);
    }

    #[test]
    fn percentiles_in_milliseconds() {
        let mut h = latency_histogram();
        for us in 1..=1000u64 {
            h.record(us).unwrap();
        }
        h.record(50_000).unwrap();
        let s = LatencySummary::of(&h);
        assert_eq!(s.count, 1001);
        assert!((s.p50_ms - 0.5).abs() < 0.002, "{s:?}");
        assert!((s.p90_ms - 0.9).abs() < 0.002, "{s:?}");
        assert!((s.p99_ms - 0.99).abs() < 0.002, "{s:?}");
        assert!((s.p999_ms - 1.0).abs() < 0.002, "{s:?}");
        assert!((s.max_ms - 50.0).abs() < 0.05, "{s:?}");
        assert_eq!(
            LatencySummary::of(&latency_histogram()),
            LatencySummary::default()
        );
    }
}
