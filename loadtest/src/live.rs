//! State shared by every connection task and the run's conductor while a run is on:
//! counters, latency histograms, per-room and per-member cells.
//!
//! The receive path touches it once per delivery: a relaxed atomic add and one
//! histogram record under a lock shard picked by member, which with two worker
//! threads is almost never contended. The conductor drains the shards once a second
//! into interval histograms for the progress line and the phase totals.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::latency::{latency_histogram, micros};

const SHARDS: usize = 16;

/// Monotonic counters, readable as a [`Counters`] snapshot.
#[derive(Debug, Default)]
pub struct Live {
    pub ready: AtomicU64,
    pub connect_failed: AtomicU64,
    pub sent: AtomicU64,
    pub resent: AtomicU64,
    pub acked: AtomicU64,
    pub refused: AtomicU64,
    pub deliveries: AtomicU64,
    pub gaps: AtomicU64,
    pub duplicates: AtomicU64,
    pub reordered: AtomicU64,
    pub disconnects: AtomicU64,
    pub resumes: AtomicU64,
    pub resets: AtomicU64,
    pub stalled: AtomicU64,
    pub churn_joins: AtomicU64,
    pub churn_leaves: AtomicU64,
    pub malformed: AtomicU64,
    latency: Shards,
    slow_latency: Shards,
    problems: Mutex<BTreeMap<String, u64>>,
}

/// A snapshot of the counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub ready: u64,
    pub connect_failed: u64,
    pub sent: u64,
    pub resent: u64,
    pub acked: u64,
    pub refused: u64,
    pub deliveries: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub disconnects: u64,
    pub resumes: u64,
    pub resets: u64,
    pub stalled: u64,
    pub churn_joins: u64,
    pub churn_leaves: u64,
    pub malformed: u64,
}

impl Counters {
    /// Growth since `earlier` (gauges such as `stalled` keep their current value).
    pub fn since(&self, e: &Counters) -> Counters {
        Counters {
            ready: self.ready,
            connect_failed: self.connect_failed,
            sent: self.sent - e.sent,
            resent: self.resent - e.resent,
            acked: self.acked - e.acked,
            refused: self.refused - e.refused,
            deliveries: self.deliveries - e.deliveries,
            gaps: self.gaps - e.gaps,
            duplicates: self.duplicates - e.duplicates,
            reordered: self.reordered - e.reordered,
            disconnects: self.disconnects - e.disconnects,
            resumes: self.resumes - e.resumes,
            resets: self.resets - e.resets,
            stalled: self.stalled,
            churn_joins: self.churn_joins - e.churn_joins,
            churn_leaves: self.churn_leaves - e.churn_leaves,
            malformed: self.malformed - e.malformed,
        }
    }
}

#[derive(Debug)]
struct Shards(Vec<Mutex<Histogram<u64>>>);

impl Default for Shards {
    fn default() -> Self {
        Self(
            (0..SHARDS)
                .map(|_| Mutex::new(latency_histogram()))
                .collect(),
        )
    }
}

impl Shards {
    fn record(&self, member: usize, latency_nanos: u64) {
        self.0[member % SHARDS]
            .lock()
            .saturating_record(micros(latency_nanos));
    }

    fn drain_into(&self, into: &mut Histogram<u64>) {
        for shard in &self.0 {
            let mut h = shard.lock();
            // Same bounds everywhere, so adding cannot fail.
            let _ = into.add(&*h);
            h.reset();
        }
    }
}

impl Live {
    pub fn counters(&self) -> Counters {
        Counters {
            ready: self.ready.load(Relaxed),
            connect_failed: self.connect_failed.load(Relaxed),
            sent: self.sent.load(Relaxed),
            resent: self.resent.load(Relaxed),
            acked: self.acked.load(Relaxed),
            refused: self.refused.load(Relaxed),
            deliveries: self.deliveries.load(Relaxed),
            gaps: self.gaps.load(Relaxed),
            duplicates: self.duplicates.load(Relaxed),
            reordered: self.reordered.load(Relaxed),
            disconnects: self.disconnects.load(Relaxed),
            resumes: self.resumes.load(Relaxed),
            resets: self.resets.load(Relaxed),
            stalled: self.stalled.load(Relaxed),
            churn_joins: self.churn_joins.load(Relaxed),
            churn_leaves: self.churn_leaves.load(Relaxed),
            malformed: self.malformed.load(Relaxed),
        }
    }

    /// One end-to-end latency, into the healthy or the slow readers' histogram.
    pub fn record_latency(&self, member: usize, slow: bool, latency_nanos: u64) {
        if slow {
            self.slow_latency.record(member, latency_nanos);
        } else {
            self.latency.record(member, latency_nanos);
        }
    }

    /// Moves what was recorded since the last call into `healthy` and `slow`.
    pub fn drain_latency(&self, healthy: &mut Histogram<u64>, slow: &mut Histogram<u64>) {
        self.latency.drain_into(healthy);
        self.slow_latency.drain_into(slow);
    }

    /// Counts a rare event by name (an error code, a close code, a failure kind).
    pub fn problem(&self, what: impl Into<String>) {
        *self.problems.lock().entry(what.into()).or_default() += 1;
    }

    pub fn problems(&self) -> BTreeMap<String, u64> {
        self.problems.lock().clone()
    }
}

/// Per room: the highest seq any of its senders got acknowledged, and which of its
/// senders' messages the server refused.
#[derive(Debug, Default)]
pub struct RoomCell {
    pub last_acked: AtomicU64,
    /// (sender, message number); rare, so a plain locked list.
    pub refused: Mutex<Vec<(u32, u64)>>,
}

impl RoomCell {
    /// Refused message numbers per sender, sorted.
    pub fn refused_by_sender(&self) -> Vec<Vec<u64>> {
        let mut by: Vec<Vec<u64>> = Vec::new();
        for &(s, n) in self.refused.lock().iter() {
            let s = s as usize;
            if by.len() <= s {
                by.resize(s + 1, Vec::new());
            }
            by[s].push(n);
        }
        for v in &mut by {
            v.sort_unstable();
        }
        by
    }
}

/// Per member: signals from the conductor and where the member is.
#[derive(Debug, Default)]
pub struct MemberCell {
    /// Churn: leave now (and join again as someone new).
    pub leave: Notify,
    /// Slow reader: stop reading now.
    pub stall: Notify,
    /// The last timeline seq seen.
    pub last_seq: AtomicU64,
    /// Connected and past `welcome`.
    pub connected: AtomicBool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_shards_drain_once() {
        let live = Live::default();
        for m in 0..40 {
            live.record_latency(m, false, 1_500_000);
        }
        live.record_latency(3, true, 30_000_000_000);
        let (mut h, mut s) = (latency_histogram(), latency_histogram());
        live.drain_latency(&mut h, &mut s);
        assert_eq!((h.len(), s.len()), (40, 1));
        assert_eq!(h.value_at_quantile(0.5), 1500);
        live.drain_latency(&mut h, &mut s);
        assert_eq!((h.len(), s.len()), (40, 1));
    }

    #[test]
    fn counters_since() {
        let live = Live::default();
        live.sent.fetch_add(5, Relaxed);
        let a = live.counters();
        live.sent.fetch_add(3, Relaxed);
        live.stalled.fetch_add(2, Relaxed);
        let d = live.counters().since(&a);
        assert_eq!((d.sent, d.stalled), (3, 2));
        live.problem("close:4008");
        live.problem("close:4008");
        assert_eq!(live.problems()["close:4008"], 2);
    }
}
