//! The result of a run: what it measured, the JSON lines (one per step when rates are
//! stepped, then one for the whole run), and the verdict that sets the exit code. The
//! human summary is `summary`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Scenario;
use crate::latency::LatencySummary;
use crate::live::Counters;
use crate::procfs::CpuUse;
use crate::tally::RoomTally;

/// The highest p99 a saturation step may have to count as sustained.
pub const SUSTAINED_P99_MS: f64 = 100.0;
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
    /// `member` or `room` (`--spread`).
    pub spread: crate::cli::Spread,
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
                spread: scn.spread,
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
