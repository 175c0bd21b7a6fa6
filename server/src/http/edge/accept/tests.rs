use std::time::{Duration, Instant};

use super::AcceptBackoff;

#[test]
fn refused_accepts_back_off_to_a_second_and_are_reported_once_per_ten_seconds() {
    let start = Instant::now();
    let mut backoff = AcceptBackoff::default();
    let mut pauses = Vec::new();
    let mut reports = Vec::new();
    // A thousand failures over five minutes: one every 300 ms.
    for i in 0..1000u32 {
        let (pause, report) = backoff.failed(start + Duration::from_millis(300) * i);
        pauses.push(pause);
        reports.extend(report);
    }
    assert_eq!(pauses[0], Duration::from_millis(10));
    assert_eq!(pauses[1], Duration::from_millis(20));
    assert_eq!(*pauses.iter().max().unwrap(), Duration::from_secs(1));
    // Five minutes at one report per ten seconds: 30 lines, not a thousand, and
    // together they count every failure.
    assert_eq!(reports.len(), 30);
    assert_eq!(reports[0], 1);
    assert_eq!(reports.iter().sum::<u64>() + backoff.unreported, 1000);
    // One accept that works starts the pauses again from the shortest.
    backoff.succeeded();
    let (pause, _) = backoff.failed(start + Duration::from_secs(400));
    assert_eq!(pause, Duration::from_millis(10));
}
