//! The human summary of a run: what a person reads at the end (the JSON lines are
//! `report`'s).

use std::fmt::Write;

use crate::accounting::SeqCounts;
use crate::latency::LatencySummary;
use crate::report::{RunReport, SUSTAINED_P99_MS};

impl RunReport {
    /// The human summary.
    pub fn summary(&self) -> String {
        let mut o = String::new();
        let cfg = &self.config;
        let verdict = if self.ok { "OK" } else { "FAILED" };
        let label = self
            .label
            .as_deref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        let _ = writeln!(o, "== kindred-loadtest {}{label}: {verdict}", self.preset);
        let _ = writeln!(
            o,
            "members      {} in {} rooms of {} ({} sender(s)/room) over {} target(s), {} source address(es)",
            cfg.members,
            cfg.rooms,
            cfg.room_size,
            cfg.senders_per_room,
            cfg.urls.len(),
            cfg.sources
        );
        let _ = writeln!(
            o,
            "connect      {} connected, {} failed, in {:.1} s",
            self.connected, self.connect_failed, self.connect_s
        );
        let _ = writeln!(
            o,
            "traffic      {:?} msg/s/room, {} B text, measured {:.1} s",
            cfg.rates_per_room, cfg.message_size, self.measured_s
        );
        let _ = writeln!(
            o,
            "sent         {} (acked {}, refused {}, unanswered {}, re-sent after resume {})",
            self.sent, self.acked, self.refused, self.unacked, self.resent
        );
        let _ = writeln!(
            o,
            "deliveries   {} measured ({:.0}/s), {} in all",
            self.deliveries, self.deliveries_per_s, self.deliveries_total
        );
        let _ = writeln!(o, "latency      {}", latency_line(&self.latency));
        if self.slow_latency.count > 0 {
            let _ = writeln!(o, "slow readers {}", latency_line(&self.slow_latency));
        }
        let l = &self.loss;
        let _ = writeln!(
            o,
            "loss         lost {}, timeline gaps {}, tail {}, duplicates {}, reordered {}, misrouted {}, resets {}",
            l.lost_messages,
            l.timeline_gaps,
            l.tail_missing,
            l.duplicates,
            l.reordered,
            l.misrouted,
            l.resets
        );
        let _ = writeln!(
            o,
            "connections  disconnects {}, resumed {}, churn joins {} / leaves {}",
            self.disconnects, self.resumes, self.churn_joins, self.churn_leaves
        );
        if let Some(cpu) = &self.server_cpu {
            let _ = writeln!(
                o,
                "server cpu   {:.1}% of a core while measuring, {}",
                cpu.share * 100.0,
                cpu.us_per_delivery
                    .map_or("no deliveries".to_owned(), |u| format!(
                        "{u:.2} µs per delivery"
                    ))
            );
        }
        if let Some(cpu) = &self.broker_cpu {
            let _ = writeln!(
                o,
                "broker cpu   {:.1}% of a core while measuring, {}",
                cpu.share * 100.0,
                cpu.us_per_message
                    .map_or("no messages".to_owned(), |u| format!(
                        "{u:.2} µs per message sent"
                    ))
            );
        }
        if let Some(cpu) = &self.system_cpu {
            let _ = writeln!(
                o,
                "servers + broker {:.1}% of a core, {}",
                cpu.share * 100.0,
                cpu.us_per_delivery
                    .map_or("no deliveries".to_owned(), |u| format!(
                        "{u:.2} µs per delivery"
                    ))
            );
        }
        if let Some(m) = &self.server_memory {
            let _ = writeln!(
                o,
                "server rss   {:.1} MiB before, {:.1} connected, {:.1} at end, {:.1} max{}",
                m.rss_kib_before as f64 / 1024.0,
                m.rss_kib_connected as f64 / 1024.0,
                m.rss_kib_end as f64 / 1024.0,
                m.rss_kib_max as f64 / 1024.0,
                m.rss_per_member_kib
                    .map_or(String::new(), |k| format!("; {k:.2} KiB per member"))
            );
        }
        if self.steps.len() > 1 {
            let _ = writeln!(
                o,
                "steps        rate/room  deliv/s    p50 ms   p99 ms   max ms  gaps  refused  srv cpu  µs/deliv  lt cpu"
            );
            for s in &self.steps {
                let (share, per) = s.server_cpu.map_or(("-".to_owned(), "-".to_owned()), |c| {
                    (
                        format!("{:.0}%", c.share * 100.0),
                        c.us_per_delivery
                            .map_or("-".to_owned(), |u| format!("{u:.2}")),
                    )
                });
                let lt = s
                    .loadtest_cpu
                    .map_or("-".to_owned(), |c| format!("{:.0}%", c.share * 100.0));
                let _ = writeln!(
                    o,
                    "             {:>9} {:>8.0} {:>9.2} {:>8.2} {:>8.1} {:>5} {:>8} {:>8} {:>9} {:>7}",
                    s.rate_per_room,
                    s.deliveries_per_s,
                    s.latency.p50_ms,
                    s.latency.p99_ms,
                    s.latency.max_ms,
                    s.timeline_gaps,
                    s.refused,
                    share,
                    per,
                    lt
                );
            }
            match &self.best_step {
                Some(b) => {
                    let _ = writeln!(
                        o,
                        "sustained    {} msg/s/room ({:.0} deliveries/s) with p99 {:.2} ms and no loss",
                        b.rate_per_room, b.deliveries_per_s, b.p99_ms
                    );
                }
                None => {
                    let _ = writeln!(
                        o,
                        "sustained    no step had p99 < {SUSTAINED_P99_MS} ms without loss"
                    );
                }
            }
        }
        if !self.loss.worst_rooms.is_empty() {
            let _ = writeln!(o, "rooms with problems: {}", self.loss.rooms_with_problems);
            for t in &self.loss.worst_rooms {
                let _ = writeln!(
                    o,
                    "  room {:>5}: {} receivers, lost {}, gaps {}, tail {}, dup {}, reord {}, misrouted {}, resets {}",
                    t.room,
                    t.receivers,
                    t.messages.missing,
                    t.timeline.missing,
                    t.tail_missing,
                    t.messages.duplicates,
                    t.messages.reordered,
                    t.misrouted,
                    t.resets
                );
                for (s, c) in t.senders.iter().enumerate().filter(|(_, c)| !c.clean()) {
                    let _ = writeln!(o, "      sender {s}: {}", seq_line(c));
                }
            }
        }
        if !self.problems.is_empty() {
            let _ = writeln!(o, "events:");
            for (what, n) in &self.problems {
                let _ = writeln!(o, "  {n:>8}  {what}");
            }
        }
        for f in &self.failures {
            let _ = writeln!(o, "FAIL: {f}");
        }
        o
    }
}

fn latency_line(l: &LatencySummary) -> String {
    if l.count == 0 {
        return "no samples".to_owned();
    }
    format!(
        "p50 {:.3} ms, p90 {:.3}, p99 {:.3}, p99.9 {:.3}, max {:.3} (mean {:.3}, n = {})",
        l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, l.mean_ms, l.count
    )
}

fn seq_line(c: &SeqCounts) -> String {
    format!(
        "received {}, missing {}, duplicates {}, reordered {}",
        c.received, c.missing, c.duplicates, c.reordered
    )
}
