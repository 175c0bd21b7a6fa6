//! The deployment under test and what is done to it: three `kindred` processes on one
//! persistent `redis-server` (or the three-master cluster), and a seeded schedule of
//! faults against them ([`Deployment::run_schedule`]), then [`Deployment::heal`].

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kindred_protocol::RoomId;

use super::member::Shared;
use super::{FaultKind, Rng, Topology};
use crate::process::Instance;
use crate::redis::{RedisCluster, RedisServer, key_slot};

/// Instances in every run.
pub const INSTANCES: usize = 3;

/// Where the rooms live.
pub enum Backend {
    Single(RedisServer),
    Cluster(RedisCluster),
}

/// Three instances and their Redis, and the schedule's own account of what it did.
pub struct Deployment {
    pub backend: Backend,
    pub url: String,
    pub instances: Vec<Instance>,
    /// Killed instances, kept for their logs.
    pub dead: Vec<Instance>,
    /// Which instance is stopped, and when it is due to be continued.
    stopped: Vec<Option<tokio::time::Instant>>,
    /// What the schedule did, with the time since the run began.
    pub log: Vec<(Duration, String)>,
    started: Instant,
    /// Whether a copy of Redis's files is kept for a restore.
    saved: bool,
    /// The longest a Redis restart keeps Redis away, in milliseconds.
    pub redis_down_ms: u64,
}

/// The environment of every instance: moderation as fast as the facilitator acts,
/// warnings only, and logs kept for the failure report.
///
/// The presence grace and the away limit (how long a member whose connection dropped
/// stays in the room) are 10 s instead of 30 s and 10 minutes: longer than the longest stall the schedule injects (7 s),
/// so a stalled instance's members are back before it runs out, as they are with the
/// default; short enough that a member wrongly removed is removed within the run,
/// where the checker sees it. (With 1.5 s, a 7 s stall removes its members, who join
/// again as new members: unmuted, and without what was said meanwhile, by design.)
const ENV: [(&str, &str); 4] = [
    ("KINDRED_MODERATION_PER_MINUTE", "100000"),
    ("KINDRED_MODERATION_BURST", "10000"),
    ("KINDRED_PRESENCE_GRACE_MS", "10000"),
    ("KINDRED_AWAY_LIMIT_MS", "10000"),
];

fn launch(url: &str) -> Instance {
    let mut env = vec![("REDIS_URL", url)];
    env.extend_from_slice(&ENV);
    tokio::task::block_in_place(|| Instance::launch(&env, true))
}

impl Deployment {
    pub async fn start(topology: Topology, started: Instant) -> Deployment {
        let (backend, url) = match topology {
            Topology::Single => {
                let redis = RedisServer::persistent().await;
                let url = redis.url();
                (Backend::Single(redis), url)
            }
            Topology::Cluster => {
                let cluster = RedisCluster::start().await;
                let url = cluster.url();
                (Backend::Cluster(cluster), url)
            }
        };
        let instances = (0..INSTANCES).map(|_| launch(&url)).collect();
        Deployment {
            backend,
            url,
            instances,
            dead: Vec::new(),
            stopped: vec![None; INSTANCES],
            log: Vec::new(),
            started,
            saved: false,
            redis_down_ms: 7000,
        }
    }

    fn note(&mut self, what: String) {
        self.log.push((self.started.elapsed(), what));
    }

    /// The WebSocket URL of each instance that is up.
    pub fn urls(&self) -> Vec<Option<String>> {
        self.instances
            .iter()
            .zip(&self.stopped)
            .map(|(i, s)| s.is_none().then(|| i.ws_url()))
            .collect()
    }

    fn publish(&self, shared: &Shared) {
        *shared.urls.lock().unwrap() = self.urls();
    }

    /// Inject faults of the enabled kinds, one every 0.3–0.9 s, for `length`.
    pub async fn run_schedule(
        &mut self,
        rng: &mut Rng,
        kinds: &[FaultKind],
        length: Duration,
        room: RoomId,
        shared: &Arc<Shared>,
    ) {
        let end = tokio::time::Instant::now() + length;
        if kinds.contains(&FaultKind::RedisOlder) {
            // The copy a later restore goes back to, a little way into the load.
            tokio::time::sleep(Duration::from_millis(300)).await;
            self.save();
        }
        while tokio::time::Instant::now() < end {
            tokio::time::sleep(rng.between_ms(300, 900)).await;
            self.continue_due(shared);
            if kinds.is_empty() {
                continue;
            }
            let kind = kinds[rng.below(kinds.len() as u64) as usize];
            self.inject(kind, rng, room, shared).await;
        }
    }

    async fn inject(&mut self, kind: FaultKind, rng: &mut Rng, room: RoomId, shared: &Shared) {
        match kind {
            FaultKind::Kill => {
                let i = rng.below(INSTANCES as u64) as usize;
                self.instances[i].kill();
                self.stopped[i] = None;
                self.note(format!("SIGKILL instance {i}; a replacement starts"));
                let fresh = launch(&self.url);
                let old = std::mem::replace(&mut self.instances[i], fresh);
                self.dead.push(old);
            }
            FaultKind::Stop => {
                let i = rng.below(INSTANCES as u64) as usize;
                if self.stopped[i].is_none() {
                    let pause = rng.between_ms(1000, 7000);
                    self.instances[i].pause();
                    self.stopped[i] = Some(tokio::time::Instant::now() + pause);
                    self.note(format!("SIGSTOP instance {i} for {} ms", pause.as_millis()));
                }
            }
            FaultKind::RedisRestart => {
                let down = rng.between_ms(100, self.redis_down_ms);
                if let Backend::Single(redis) = &mut self.backend {
                    redis.kill();
                    tokio::time::sleep(down).await;
                    redis.restart_with_data().await;
                    self.note(format!(
                        "Redis killed, down {} ms, restarted with its data",
                        down.as_millis()
                    ));
                }
            }
            FaultKind::RedisOlder => {
                let down = rng.between_ms(100, self.redis_down_ms);
                if std::mem::take(&mut self.saved) {
                    if let Backend::Single(redis) = &mut self.backend {
                        redis.kill();
                        tokio::time::sleep(down).await;
                        redis.restart_from_copy().await;
                        self.note(format!(
                            "Redis killed, down {} ms, restarted from the older copy",
                            down.as_millis()
                        ));
                    }
                } else {
                    self.save();
                }
            }
            FaultKind::Pubsub => {
                let n = match &self.backend {
                    Backend::Single(redis) => redis.kill_pubsub().await,
                    Backend::Cluster(cluster) => cluster.kill_pubsub().await,
                };
                self.note(format!("CLIENT KILL TYPE pubsub: {n} connections dropped"));
            }
            FaultKind::Migrate => {
                if let Backend::Cluster(cluster) = &self.backend {
                    let slot = key_slot(&format!("{{{room}}}"));
                    let to = cluster.migrate_slot(slot).await;
                    self.note(format!("slot {slot} of the room migrated to port {to}"));
                }
            }
            FaultKind::Corrupt => {
                self.corrupt(room);
                self.note("an entry that does not parse appended to the room's log".to_owned());
            }
        }
        self.publish(shared);
    }

    fn save(&mut self) {
        if let Backend::Single(redis) = &self.backend {
            redis.save_copy();
            self.saved = true;
            self.note("a copy of Redis's files taken".to_owned());
        }
    }

    /// Append to the room's stream, at the next index, an entry no instance can read
    /// (the layout of `server/src/broker/redis/store.rs`: the head in the meta hash,
    /// entry `INDEX-1` with field `e`).
    fn corrupt(&self, room: RoomId) {
        const SCRIPT: &str = "local idx = redis.call('HINCRBY', KEYS[1], 'head', 1) \
             redis.call('XADD', KEYS[2], idx .. '-1', 'e', ARGV[1]) return idx";
        let port = match &self.backend {
            Backend::Single(redis) => redis.port(),
            Backend::Cluster(cluster) => cluster.ports()[0],
        };
        let out = Command::new("redis-cli")
            .args(["-c", "-p", &port.to_string(), "EVAL", SCRIPT, "2"])
            .arg(format!("kindred:{{{room}}}:meta"))
            .arg(format!("kindred:{{{room}}}:log"))
            .arg("{\"not\":\"an entry\"}")
            .output()
            .expect("redis-cli runs");
        assert!(out.status.success(), "redis-cli EVAL ran");
    }

    /// `SIGCONT` the stopped instances whose time has come.
    fn continue_due(&mut self, shared: &Shared) {
        let now = tokio::time::Instant::now();
        for i in 0..INSTANCES {
            if self.stopped[i].is_some_and(|at| at <= now) {
                self.instances[i].resume();
                self.stopped[i] = None;
                self.note(format!("SIGCONT instance {i}"));
            }
        }
        self.publish(shared);
    }

    /// Undo every fault still in force: stopped instances continue (at their time, so
    /// a pause is as long as the schedule said), Redis is up (every restart above
    /// waited for it).
    pub async fn heal(&mut self, shared: &Shared) {
        while self.stopped.iter().any(Option::is_some) {
            self.continue_due(shared);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.note("healed".to_owned());
    }

    /// The last lines each instance logged, for a failure report.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        let all = self
            .instances
            .iter()
            .enumerate()
            .map(|(i, inst)| (format!("instance {i}"), inst))
            .chain(
                self.dead
                    .iter()
                    .map(|inst| ("a killed instance".to_owned(), inst)),
            );
        for (name, inst) in all {
            let logs = inst.logs();
            let tail = &logs[logs.len().saturating_sub(lines)..];
            if !tail.is_empty() {
                out.push_str(&format!("  --- {name} ({}):\n", inst.addr));
                for line in tail {
                    out.push_str(&format!("    {line}\n"));
                }
            }
        }
        out
    }
}
