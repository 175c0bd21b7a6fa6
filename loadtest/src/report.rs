//! The result of a run: one human summary and JSON lines (one per step when rates
//! are stepped, then one for the whole run), plus the verdict that sets the exit code.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::accounting::{LatencySummary, RoomTally, SeqCounts};
use crate::config::Scenario;
use crate::live::Counters;
use crate::procfs::CpuUse;

/// The highest p99 a saturation step may have to count as sustained.
const SUSTAINED_P99_MS: f64 = 100.0;
/// Rooms listed by name in the report when something went wrong.
const WORST_ROOMS: usize = 5;

/// One measured step (a single-rate run has exactly one).
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub step: usize,
    pub rate_per_room: f64,
    pub seconds: f64,
    pub sent: u64,
    pub acked: u64,
    pub refused: u64,
    pub deliveries: u64,
    pub deliveries_per_s: f64,
    pub timeline_gaps: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub disconnects: u64,
    pub latency: LatencySummary,
    pub slow_latency: LatencySummary,
    pub server_cpu: Option<CpuUse>,
    pub loadtest_cpu: Option<CpuUse>,
}

impl StepReport {
    fn clean(&self) -> bool {
        self.timeline_gaps == 0 && self.duplicates == 0 && self.reordered == 0 && self.refused == 0
    }
}

/// The server's memory over the run (with `--server-pid`).
#[derive(Debug, Clone, Serialize)]
pub struct ServerMemory {
    pub rss_kib_before: u64,
    pub rss_kib_connected: u64,
    pub rss_kib_end: u64,
    pub rss_kib_max: u64,
    /// (RSS once everyone is connected − RSS before) / members connected.
    pub rss_per_member_kib: Option<f64>,
    /// (seconds since start, RSS KiB), once a second.
    pub series: Vec<(f64, u64)>,
}

/// What the conductor hands over to build the report.
#[derive(Debug)]
pub struct RunInputs {
    pub connect_secs: f64,
    pub ready: u64,
    pub counters: Counters,
    pub measured: Counters,
    pub measured_secs: f64,
    pub latency: LatencySummary,
    pub slow_latency: LatencySummary,
    pub server_cpu: Option<CpuUse>,
    pub broker_cpu: Option<CpuUse>,
    pub system_cpu: Option<CpuUse>,
    pub memory: Option<ServerMemory>,
    pub steps: Vec<StepReport>,
    pub tallies: Vec<RoomTally>,
    pub unacked: u64,
    pub failed_members: u64,
    pub drained: bool,
    pub problems: BTreeMap<String, u64>,
    pub missing_reports: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigEcho {
    pub urls: Vec<String>,
    pub members: usize,
    pub rooms: usize,
    pub room_size: usize,
    pub senders_per_room: usize,
    pub rates_per_room: Vec<f64>,
    pub message_size: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub connect_rate: f64,
    pub sources: usize,
    pub slow_share: f64,
    pub slow_for_s: f64,
    pub churn_per_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Loss {
    /// Messages some member never got (per-sender gaps), tail not included.
    pub lost_messages: u64,
    /// Timeline events some member never got (room seq gaps).
    pub timeline_gaps: u64,
    /// Timeline events members connected at the end were still missing.
    pub tail_missing: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub misrouted: u64,
    /// Resumes the server answered with a fresh snapshot instead of the replay.
    pub resets: u64,
    /// Gaps left by refused sends, excluded from `lost_messages`.
    pub refused_gaps: u64,
    pub rooms_with_problems: usize,
    pub worst_rooms: Vec<RoomTally>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BestStep {
    pub rate_per_room: f64,
    pub deliveries_per_s: f64,
    pub p99_ms: f64,
}

/// The whole run, as written on the `"kind":"run"` JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub kind: &'static str,
    pub preset: &'static str,
    pub label: Option<String>,
    pub ok: bool,
    pub failures: Vec<String>,
    pub config: ConfigEcho,
    pub connect_s: f64,
    pub connected: u64,
    pub connect_failed: u64,
    pub measured_s: f64,
    pub sent: u64,
    pub acked: u64,
    pub refused: u64,
    pub resent: u64,
    pub unacked: u64,
    /// Deliveries while measuring (warm-up, settle and drain excluded).
    pub deliveries: u64,
    pub deliveries_per_s: f64,
    pub deliveries_total: u64,
    pub loss: Loss,
    pub disconnects: u64,
    pub resumes: u64,
    pub churn_joins: u64,
    pub churn_leaves: u64,
    /// Healthy members (slow readers excluded), measured steps and drain.
    pub latency: LatencySummary,
    pub slow_latency: LatencySummary,
    pub server_cpu: Option<CpuUse>,
    /// The shared broker (`--broker-pid`) while measuring; `us_per_message` divides
    /// by messages sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_cpu: Option<CpuUse>,
    /// Servers + broker while measuring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_cpu: Option<CpuUse>,
    pub server_memory: Option<ServerMemory>,
    pub best_step: Option<BestStep>,
    pub problems: BTreeMap<String, u64>,
    #[serde(skip)]
    pub steps: Vec<StepReport>,
}

#[derive(Serialize)]
struct StepLine<'a> {
    kind: &'static str,
    preset: &'static str,
    label: &'a Option<String>,
    #[serde(flatten)]
    step: &'a StepReport,
}

impl RunReport {
    pub fn build(scn: &Scenario, i: RunInputs) -> Self {
        let mut total = RoomTally::default();
        let mut problem_rooms: Vec<&RoomTally> = Vec::new();
        for t in &i.tallies {
            total.timeline += t.timeline;
            total.messages += t.messages;
            total.tail_missing += t.tail_missing;
            total.misrouted += t.misrouted;
            total.resets += t.resets;
            total.refused_gaps += t.refused_gaps;
            if !t.clean() {
                problem_rooms.push(t);
            }
        }
        let badness = |t: &RoomTally| {
            t.messages.missing
                + t.timeline.missing
                + t.tail_missing
                + t.messages.duplicates
                + t.messages.reordered
                + t.misrouted
        };
        problem_rooms.sort_by_key(|t| std::cmp::Reverse(badness(t)));
        let loss = Loss {
            lost_messages: total.messages.missing,
            timeline_gaps: total.timeline.missing,
            tail_missing: total.tail_missing,
            duplicates: total.messages.duplicates + total.timeline.duplicates,
            reordered: total.messages.reordered + total.timeline.reordered,
            misrouted: total.misrouted,
            resets: total.resets,
            refused_gaps: total.refused_gaps,
            rooms_with_problems: problem_rooms.len(),
            worst_rooms: problem_rooms
                .iter()
                .take(WORST_ROOMS)
                .map(|t| (*t).clone())
                .collect(),
        };
        let best_step = (i.steps.len() > 1)
            .then(|| {
                i.steps
                    .iter()
                    .filter(|s| {
                        s.clean() && s.latency.count > 0 && s.latency.p99_ms < SUSTAINED_P99_MS
                    })
                    .max_by(|a, b| a.rate_per_room.total_cmp(&b.rate_per_room))
                    .map(|s| BestStep {
                        rate_per_room: s.rate_per_room,
                        deliveries_per_s: s.deliveries_per_s,
                        p99_ms: s.latency.p99_ms,
                    })
            })
            .flatten();
        let c = &i.counters;
        let mut r = RunReport {
            kind: "run",
            preset: scn.preset.name(),
            label: scn.label.clone(),
            ok: false,
            failures: Vec::new(),
            config: ConfigEcho {
                urls: scn.targets.iter().map(|t| t.base.clone()).collect(),
                members: scn.members,
                rooms: scn.rooms,
                room_size: scn.room_size,
                senders_per_room: scn.senders,
                rates_per_room: scn.steps.clone(),
                message_size: scn.message_size,
                duration_s: scn.duration.as_secs_f64(),
                warmup_s: scn.warmup.as_secs_f64(),
                connect_rate: scn.connect_rate,
                sources: scn.sources.len().max(1),
                slow_share: scn.slow.as_ref().map_or(0.0, |s| s.share),
                slow_for_s: scn.slow.as_ref().map_or(0.0, |s| s.stall.as_secs_f64()),
                churn_per_s: scn.churn,
            },
            connect_s: i.connect_secs,
            connected: i.ready,
            connect_failed: c.connect_failed,
            measured_s: i.measured_secs,
            sent: c.sent,
            acked: c.acked,
            refused: c.refused,
            resent: c.resent,
            unacked: i.unacked,
            deliveries: i.measured.deliveries,
            deliveries_per_s: i.measured.deliveries as f64 / i.measured_secs.max(1e-9),
            deliveries_total: c.deliveries,
            loss,
            disconnects: c.disconnects,
            resumes: c.resumes,
            churn_joins: c.churn_joins,
            churn_leaves: c.churn_leaves,
            latency: i.latency,
            slow_latency: i.slow_latency,
            server_cpu: i.server_cpu,
            broker_cpu: i.broker_cpu,
            system_cpu: i.system_cpu,
            server_memory: i.memory,
            best_step,
            problems: i.problems,
            steps: i.steps,
        };
        r.failures = verdict(
            scn,
            &r,
            &i.counters,
            i.failed_members,
            i.drained,
            i.missing_reports,
        );
        r.ok = r.failures.is_empty();
        r
    }

    /// One JSON line per step when rates are stepped, then the run line.
    pub fn json_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.steps.len() > 1 {
            for s in &self.steps {
                let line = StepLine {
                    kind: "step",
                    preset: self.preset,
                    label: &self.label,
                    step: s,
                };
                lines.push(serde_json::to_string(&line).expect("serialisable"));
            }
        }
        lines.push(serde_json::to_string(self).expect("serialisable"));
        lines
    }

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

/// Everything that makes a run fail (non-zero exit).
fn verdict(
    scn: &Scenario,
    r: &RunReport,
    c: &Counters,
    failed_members: u64,
    drained: bool,
    missing_reports: usize,
) -> Vec<String> {
    let mut f = Vec::new();
    let mut check = |bad: bool, msg: String| {
        if bad {
            f.push(msg);
        }
    };
    let l = &r.loss;
    check(
        r.connected < scn.members as u64,
        format!(
            "{} of {} members could not connect",
            scn.members as u64 - r.connected,
            scn.members
        ),
    );
    check(
        l.lost_messages > 0,
        format!("{} messages lost", l.lost_messages),
    );
    check(
        l.timeline_gaps > 0,
        format!("{} timeline events lost", l.timeline_gaps),
    );
    check(
        l.tail_missing > 0,
        format!(
            "{} timeline events never reached members at the end",
            l.tail_missing
        ),
    );
    check(l.duplicates > 0, format!("{} duplicates", l.duplicates));
    check(l.reordered > 0, format!("{} reordered", l.reordered));
    check(
        l.misrouted > 0,
        format!("{} messages delivered to the wrong room", l.misrouted),
    );
    check(
        l.resets > 0,
        format!(
            "{} resumes answered with a reset instead of the replay",
            l.resets
        ),
    );
    check(
        r.refused > 0,
        format!("{} sends refused by the server", r.refused),
    );
    check(r.unacked > 0, format!("{} sends never answered", r.unacked));
    check(c.malformed > 0, format!("{} malformed frames", c.malformed));
    check(
        failed_members > 0,
        format!("{failed_members} members failed to (re)connect"),
    );
    check(
        !drained,
        "members had not caught up when the drain time ran out".to_owned(),
    );
    check(
        missing_reports > 0,
        format!("{missing_reports} members never reported"),
    );
    let healthy_drops: u64 = r
        .problems
        .iter()
        .filter(|(k, _)| k.starts_with("disconnect (member)"))
        .map(|(_, n)| n)
        .sum();
    check(
        healthy_drops > 0,
        format!("{healthy_drops} disconnects of members that were reading"),
    );
    let error_frames: u64 = r
        .problems
        .iter()
        .filter(|(k, _)| {
            k.starts_with("error frame (member)")
                || k.starts_with("ack ")
                || *k == "room closed"
                || *k == "unexpected welcome"
        })
        .map(|(_, n)| n)
        .sum();
    check(
        error_frames > 0,
        format!("{error_frames} unexpected frames (see events)"),
    );
    f
}
