//! The conductor of one run: creates the rooms, brings members in at the connect
//! rate, drives the phases (warm-up, one measurement per rate step, drain), prints
//! progress every second, stops everything, and gathers the members' reports into a
//! [`RunReport`].

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use kindred_protocol::client::Http;
use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout_at};
use tokio_util::sync::CancellationToken;

use crate::accounting::tail_missing;
use crate::config::Scenario;
use crate::ctx::{Ctx, SendPlan};
use crate::latency::{LatencySummary, latency_histogram};
use crate::live::{Counters, Live, MemberCell, RoomCell};
use crate::member::{self, MemberReport};
use crate::procfs::{CpuUse, Probe, Sample};
use crate::report::{RunReport, ServerMemory, StepReport};
use crate::rooms::{churn, create_rooms, delete_rooms};
use crate::tally::RoomTally;

/// Handshakes (join + hello, or a resume) in flight at once.
const MAX_HANDSHAKES: usize = 128;
/// How long members get to stop once told to.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// Totals of one measured phase, filled by [`Conductor::phase`].
struct Acc {
    started: Instant,
    counters: Counters,
    server: Option<Sample>,
    this: Option<Sample>,
    latency: Histogram<u64>,
    slow_latency: Histogram<u64>,
}

struct Conductor {
    ctx: Arc<Ctx>,
    server: Option<Probe>,
    /// The broker the servers share (`--broker-pid`), read while measuring.
    broker: Option<Probe>,
    this: Option<Probe>,
    started: Instant,
    /// Server RSS once a second: (seconds since start, KiB).
    rss_series: Vec<(f64, u64)>,
    rss_max: u64,
    last_tick: (Instant, Counters),
    quiet: bool,
}

/// Runs a scenario to the end and reports.
pub async fn run(scn: Scenario) -> anyhow::Result<RunReport> {
    let server = (!scn.server_pids.is_empty())
        .then(|| Probe::new(&scn.server_pids))
        .transpose()
        .context("cannot read the --server-pid process(es) in /proc")?;
    let broker = (!scn.broker_pids.is_empty())
        .then(|| Probe::new(&scn.broker_pids))
        .transpose()
        .context("cannot read the --broker-pid process(es) in /proc")?;
    let this = Probe::new(&[]).ok();
    let http: Vec<Http> = scn
        .targets
        .iter()
        .map(|t| Http::new(t.base.clone()))
        .collect();

    let quiet = scn.quiet;
    if !quiet {
        eprintln!(
            "kindred-loadtest: {} — {} members in {} rooms of {}, {} sender(s)/room, rates {:?}/s/room, {} B, {} target(s)",
            scn.preset.name(),
            scn.members,
            scn.rooms,
            scn.room_size,
            scn.senders,
            scn.steps,
            scn.message_size,
            scn.targets.len()
        );
    }
    let room_ids = create_rooms(&http[0], &scn).await?;
    let ctx = Arc::new(Ctx {
        rooms: (0..scn.rooms).map(|_| RoomCell::default()).collect(),
        members: (0..scn.members).map(|_| MemberCell::default()).collect(),
        live: Live::default(),
        handshakes: Semaphore::new(MAX_HANDSHAKES),
        plan: Mutex::new(SendPlan::default()),
        plan_changed: Notify::new(),
        stop: CancellationToken::new(),
        scn,
        http,
        room_ids,
    });
    let now = Instant::now();
    let mut c = Conductor {
        ctx,
        server,
        broker,
        this,
        started: now,
        rss_series: Vec::new(),
        rss_max: 0,
        last_tick: (now, Counters::default()),
        quiet,
    };
    c.run().await
}

impl Conductor {
    async fn run(&mut self) -> anyhow::Result<RunReport> {
        let scn = self.ctx.scn.clone();
        let before = self.sample_server();
        let connect_started = Instant::now();
        let handles = self.connect().await;
        let connect_secs = connect_started.elapsed().as_secs_f64();
        let ready = self.ctx.live.ready.load(Relaxed);
        if ready == 0 {
            self.ctx.stop.cancel();
            bail!("no member could connect: {:?}", self.ctx.live.problems());
        }
        // Let the server settle before taking its idle memory.
        self.phase("settle", Duration::from_secs(1), None).await;
        let connected = self.sample_server();

        // Warm-up: traffic and churn start, nothing is measured.
        self.set_rate(scn.steps[0]);
        let churn_stop = CancellationToken::new();
        if scn.churn > 0.0 {
            tokio::spawn(churn(self.ctx.clone(), churn_stop.clone()));
        }
        self.phase("warm-up", scn.warmup, None).await;

        if let Some(slow) = &scn.slow {
            let ctx = self.ctx.clone();
            let after = slow.after;
            tokio::spawn(async move {
                tokio::select! {
                    _ = sleep(after) => {}
                    _ = ctx.stop.cancelled() => return,
                }
                for (i, cell) in ctx.members.iter().enumerate() {
                    if ctx.scn.is_slow(i) {
                        cell.stall.notify_one();
                    }
                }
            });
        }

        let mut steps = Vec::new();
        let mut total_latency = latency_histogram();
        let mut total_slow = latency_histogram();
        let measure_started = (Instant::now(), self.ctx.live.counters());
        let measure_server = self.sample_server();
        let measure_broker = self.sample_broker();
        for (i, &rate) in scn.steps.iter().enumerate() {
            if i > 0 {
                self.set_rate(rate);
                self.phase("settle", scn.settle, None).await;
            }
            let mut acc = self.start_acc();
            let label = if scn.steps.len() > 1 {
                format!("step {}/{} {rate}/s", i + 1, scn.steps.len())
            } else {
                "measure".to_owned()
            };
            self.phase(&label, scn.duration, Some(&mut acc)).await;
            let _ = total_latency.add(&acc.latency);
            let _ = total_slow.add(&acc.slow_latency);
            steps.push(self.finish(i, rate, acc));
        }
        let measure_end = (Instant::now(), self.ctx.live.counters());
        let measure_server_end = self.sample_server();
        let measure_broker_end = self.sample_broker();

        // Drain: senders stop; wait for acks and for every member to catch up.
        self.set_rate(0.0);
        churn_stop.cancel();
        let mut drain = self.start_acc();
        let drained = self.drain(&mut drain).await;
        let _ = total_latency.add(&drain.latency);
        let _ = total_slow.add(&drain.slow_latency);

        self.ctx.stop.cancel();
        let reports = self.collect(handles).await;
        let end = self.sample_server();
        if !scn.keep_rooms {
            delete_rooms(&self.ctx).await;
        }

        let measured = measure_end.1.since(&measure_started.1);
        let measured_secs = measure_end
            .0
            .duration_since(measure_started.0)
            .as_secs_f64();
        let server_cpu = match (measure_server, measure_server_end) {
            (Some(a), Some(b)) => Some(CpuUse::between(&a, &b, measured.deliveries)),
            _ => None,
        };
        // The broker per message sent (each crosses it once), and servers + broker
        // per delivery: the whole system's cost.
        let broker_cpu = match (measure_broker, measure_broker_end) {
            (Some(a), Some(b)) => {
                Some(CpuUse::between(&a, &b, measured.deliveries).per_message(measured.sent))
            }
            _ => None,
        };
        let system_cpu = match (
            measure_server,
            measure_server_end,
            measure_broker,
            measure_broker_end,
        ) {
            (Some(sa), Some(sb), Some(ba), Some(bb)) => Some(
                CpuUse::between(&sa.plus(&ba), &sb.plus(&bb), measured.deliveries)
                    .per_message(measured.sent),
            ),
            _ => None,
        };
        let memory = before.map(|b| ServerMemory {
            rss_kib_before: b.rss_kib,
            rss_kib_connected: connected.map_or(0, |s| s.rss_kib),
            rss_kib_end: end.map_or(0, |s| s.rss_kib),
            rss_kib_max: self.rss_max,
            rss_per_member_kib: connected
                .map(|c| c.rss_kib.saturating_sub(b.rss_kib) as f64 / ready.max(1) as f64),
            series: self.rss_series.clone(),
        });
        let (tallies, unacked, failed_members) = self.tally(&reports);
        Ok(RunReport::build(
            &scn,
            crate::report::RunInputs {
                connect_secs,
                ready,
                counters: self.ctx.live.counters(),
                measured,
                measured_secs,
                latency: LatencySummary::of(&total_latency),
                slow_latency: LatencySummary::of(&total_slow),
                server_cpu,
                broker_cpu,
                system_cpu,
                memory,
                steps,
                tallies,
                unacked,
                failed_members,
                drained,
                problems: self.ctx.live.problems(),
                missing_reports: scn.members - reports.len(),
            },
        ))
    }

    /// Spawns the members at the connect rate and waits until each is in or failed.
    async fn connect(&mut self) -> Vec<JoinHandle<MemberReport>> {
        let n = self.ctx.scn.members;
        let rate = self.ctx.scn.connect_rate;
        let mut handles = Vec::with_capacity(n);
        let start = Instant::now();
        let mut next_tick = start + Duration::from_secs(1);
        while handles.len() < n {
            let due = ((start.elapsed().as_secs_f64() * rate) as usize + 1).min(n);
            while handles.len() < due {
                let id = handles.len();
                handles.push(tokio::spawn(member::run(self.ctx.clone(), id)));
            }
            if Instant::now() >= next_tick {
                self.tick("connect", None);
                next_tick += Duration::from_secs(1);
            }
            sleep(Duration::from_millis(1)).await;
        }
        // Each handshake is bounded; allow for the queue in front of the semaphore.
        let deadline = Instant::now()
            + crate::net::HANDSHAKE_TIMEOUT * 3
            + Duration::from_secs_f64(n as f64 / MAX_HANDSHAKES as f64 * 0.05);
        loop {
            let c = self.ctx.live.counters();
            if c.ready + c.connect_failed >= n as u64 || Instant::now() >= deadline {
                break;
            }
            sleep_until(next_tick.min(Instant::now() + Duration::from_millis(50))).await;
            if Instant::now() >= next_tick {
                self.tick("connect", None);
                next_tick += Duration::from_secs(1);
            }
        }
        handles
    }

    fn set_rate(&self, rate_per_room: f64) {
        let senders = self.ctx.scn.senders.max(1) as f64;
        {
            let mut p = self.ctx.plan.lock();
            p.period_per_sender =
                (rate_per_room > 0.0).then(|| Duration::from_secs_f64(senders / rate_per_room));
            p.generation += 1;
        }
        self.ctx.plan_changed.notify_waiters();
    }

    fn start_acc(&self) -> Acc {
        // Whatever was recorded before this instant belongs to the previous phase.
        let (mut a, mut b) = (latency_histogram(), latency_histogram());
        self.ctx.live.drain_latency(&mut a, &mut b);
        Acc {
            started: Instant::now(),
            counters: self.ctx.live.counters(),
            server: self.sample_server(),
            this: self.this.as_ref().and_then(|p| p.sample().ok()),
            latency: latency_histogram(),
            slow_latency: latency_histogram(),
        }
    }

    fn finish(&self, index: usize, rate: f64, acc: Acc) -> StepReport {
        let now_counters = self.ctx.live.counters();
        let d = now_counters.since(&acc.counters);
        let secs = acc.started.elapsed().as_secs_f64();
        let server_cpu = match (&acc.server, self.sample_server()) {
            (Some(a), Some(b)) => Some(CpuUse::between(a, &b, d.deliveries)),
            _ => None,
        };
        let loadtest_cpu = match (&acc.this, self.this.as_ref().and_then(|p| p.sample().ok())) {
            (Some(a), Some(b)) => Some(CpuUse::between(a, &b, d.deliveries)),
            _ => None,
        };
        StepReport {
            step: index + 1,
            rate_per_room: rate,
            seconds: secs,
            sent: d.sent,
            acked: d.acked,
            refused: d.refused,
            deliveries: d.deliveries,
            deliveries_per_s: d.deliveries as f64 / secs.max(1e-9),
            timeline_gaps: d.gaps,
            duplicates: d.duplicates,
            reordered: d.reordered,
            disconnects: d.disconnects,
            latency: LatencySummary::of(&acc.latency),
            slow_latency: LatencySummary::of(&acc.slow_latency),
            server_cpu,
            loadtest_cpu,
        }
    }

    /// Runs for `dur`, printing progress once a second; latencies recorded meanwhile
    /// go into `acc` when it is given.
    async fn phase(&mut self, label: &str, dur: Duration, mut acc: Option<&mut Acc>) {
        let end = Instant::now() + dur;
        loop {
            let now = Instant::now();
            if now >= end {
                break;
            }
            sleep_until((now + Duration::from_secs(1)).min(end)).await;
            self.tick(label, acc.as_deref_mut());
        }
    }

    /// Senders have stopped: wait until every ack is in and every connected member
    /// has seen its room's last acknowledged seq, or the drain time is up.
    async fn drain(&mut self, acc: &mut Acc) -> bool {
        let deadline = Instant::now() + self.ctx.scn.drain;
        let mut next_tick = Instant::now() + Duration::from_secs(1);
        // Let the last sends leave their sockets before judging.
        sleep(Duration::from_millis(100)).await;
        loop {
            let (pending, behind) = self.behind();
            if pending == 0 && behind == 0 {
                self.tick("drain", Some(acc));
                return true;
            }
            if Instant::now() >= deadline {
                self.tick("drain", Some(acc));
                if !self.quiet {
                    eprintln!(
                        "drain timed out: {pending} sends unanswered, {behind} members behind their room"
                    );
                }
                return false;
            }
            if Instant::now() >= next_tick {
                self.tick("drain", Some(acc));
                next_tick += Duration::from_secs(1);
            }
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// (sends not yet answered, connected members behind their room's last ack).
    fn behind(&self) -> (u64, usize) {
        let c = self.ctx.live.counters();
        let pending = c.sent.saturating_sub(c.acked + c.refused);
        let behind = self
            .ctx
            .members
            .iter()
            .enumerate()
            .filter(|(i, m)| {
                let room = &self.ctx.rooms[self.ctx.scn.place(*i).0];
                m.connected.load(Relaxed)
                    && m.last_seq.load(Relaxed) < room.last_acked.load(Relaxed)
            })
            .count();
        (pending, behind)
    }

    async fn collect(&mut self, handles: Vec<JoinHandle<MemberReport>>) -> Vec<MemberReport> {
        let deadline = Instant::now() + STOP_GRACE;
        let mut reports = Vec::with_capacity(handles.len());
        let mut stuck = 0usize;
        for mut h in handles {
            match timeout_at(deadline, &mut h).await {
                Ok(Ok(r)) => reports.push(r),
                Ok(Err(_)) => self.ctx.live.problem("member task panicked"),
                Err(_) => {
                    h.abort();
                    stuck += 1;
                }
            }
        }
        if stuck > 0 {
            self.ctx
                .live
                .problem(format!("{stuck} member tasks did not stop in time"));
        }
        reports
    }

    /// Per-room totals, tail loss, unacknowledged sends and failed members.
    fn tally(&self, reports: &[MemberReport]) -> (Vec<RoomTally>, u64, u64) {
        let mut tallies: Vec<RoomTally> = (0..self.ctx.scn.rooms)
            .map(|room| RoomTally {
                room: room as u32,
                ..RoomTally::default()
            })
            .collect();
        let (mut unacked, mut failed) = (0, 0);
        let refused: Vec<Vec<Vec<u64>>> = self
            .ctx
            .rooms
            .iter()
            .map(RoomCell::refused_by_sender)
            .collect();
        for r in reports {
            let t = &mut tallies[r.room];
            let last_acked = self.ctx.rooms[r.room].last_acked.load(Relaxed);
            for (k, inc) in r.incarnations.iter().enumerate() {
                t.add(inc, &refused[r.room]);
                if r.connected_at_end && k + 1 == r.incarnations.len() {
                    t.tail_missing += tail_missing(inc.last_seq, last_acked);
                }
            }
            unacked += r.unacked;
            failed += u64::from(r.failed);
        }
        (tallies, unacked, failed)
    }

    fn sample_server(&self) -> Option<Sample> {
        self.server.as_ref().and_then(|p| p.sample().ok())
    }

    fn sample_broker(&self) -> Option<Sample> {
        self.broker.as_ref().and_then(|p| p.sample().ok())
    }

    /// One progress line; moves recorded latencies into `acc`.
    fn tick(&mut self, label: &str, acc: Option<&mut Acc>) {
        let (mut h, mut s) = (latency_histogram(), latency_histogram());
        self.ctx.live.drain_latency(&mut h, &mut s);
        if let Some(acc) = acc {
            let _ = acc.latency.add(&h);
            let _ = acc.slow_latency.add(&s);
        }
        let now = Instant::now();
        let server = self.sample_server();
        if let Some(s) = server {
            self.rss_max = self.rss_max.max(s.rss_kib);
            self.rss_series
                .push((now.duration_since(self.started).as_secs_f64(), s.rss_kib));
        }
        let c = self.ctx.live.counters();
        let (then, prev) = self.last_tick;
        let secs = now.duration_since(then).as_secs_f64().max(1e-3);
        let d = c.since(&prev);
        self.last_tick = (now, c);
        if self.quiet {
            return;
        }
        let lat = LatencySummary::of(&h);
        let mut line = format!(
            "[{:>6.1}s] {label:<14} conn {}/{} | sent {:.0}/s | deliv {:.0}/s | p50 {:.2}ms p99 {:.2}ms max {:.1}ms | gaps {} dup {} reord {} | disc {} resumed {}",
            now.duration_since(self.started).as_secs_f64(),
            c.ready,
            self.ctx.scn.members,
            d.sent as f64 / secs,
            d.deliveries as f64 / secs,
            lat.p50_ms,
            lat.p99_ms,
            lat.max_ms,
            c.gaps,
            c.duplicates,
            c.reordered,
            c.disconnects,
            c.resumes,
        );
        if c.connect_failed > 0 {
            line += &format!(" | connect failed {}", c.connect_failed);
        }
        if c.stalled > 0 {
            line += &format!(" | stalled {}", c.stalled);
        }
        if c.churn_joins > 0 {
            line += &format!(" | churn {}/{}", c.churn_joins, c.churn_leaves);
        }
        if c.refused > 0 {
            line += &format!(" | refused {}", c.refused);
        }
        if let Some(s) = server {
            line += &format!(" | server rss {} MiB", s.rss_kib / 1024);
        }
        eprintln!("{line}");
    }
}
