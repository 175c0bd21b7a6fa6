//! One run's configuration: the command line (`cli`) over a preset (`preset`),
//! resolved into one checked [`Scenario`], and what the run asks of it (who is where,
//! who reads slowly, how long it lasts).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use clap::Parser;

use crate::cli::{Args, Spread};
use crate::net::{self, Target};
use crate::preset::Preset;

/// Upper bound on one run's planned length: the tool always stops by itself.
const MAX_RUN: Duration = Duration::from_secs(2 * 3600);
/// File descriptors kept free for the runtime, HTTP pool, /proc reads and stdio.
const FD_HEADROOM: usize = 300;

/// Slow readers: who and when.
#[derive(Debug, Clone, PartialEq)]
pub struct SlowPlan {
    pub share: f64,
    /// After the measurement starts.
    pub after: Duration,
    pub stall: Duration,
    pub rcvbuf: Option<u32>,
}

/// One run, fully resolved and checked.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub preset: Preset,
    pub label: Option<String>,
    pub targets: Vec<Target>,
    pub spread: Spread,
    pub admin_token: String,
    pub members: usize,
    pub rooms: usize,
    pub room_size: usize,
    pub senders: usize,
    /// Messages per second per room, one measurement each.
    pub steps: Vec<f64>,
    pub message_size: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub settle: Duration,
    pub drain: Duration,
    pub connect_rate: f64,
    pub sources: Vec<Ipv4Addr>,
    pub slow: Option<SlowPlan>,
    pub churn: f64,
    pub server_pids: Vec<u32>,
    pub broker_pids: Vec<u32>,
    pub json_out: Option<PathBuf>,
    pub quiet: bool,
    pub keep_rooms: bool,
    pub policy: Option<kindred_protocol::policy::PolicyMode>,
}

fn secs(what: &str, v: f64) -> anyhow::Result<Duration> {
    ensure!(
        v.is_finite() && v >= 0.0,
        "--{what} must be a non-negative number of seconds"
    );
    Ok(Duration::from_secs_f64(v))
}

impl Scenario {
    /// Applies the flags over the preset and checks the result. `open_files` is this
    /// process's file limit (see [`open_files_limit`]), when known.
    pub fn resolve(a: Args, open_files: Option<usize>) -> anyhow::Result<Self> {
        let d = a.preset.defaults();
        let room_size = a.room_size.unwrap_or(d.room_size);
        ensure!(room_size >= 1, "--room-size must be at least 1");
        let (rooms, members) = match (a.connections, a.rooms) {
            (Some(c), _) => (c.div_ceil(room_size), c),
            (None, r) => {
                let r = r.unwrap_or(d.rooms);
                (r, r * room_size)
            }
        };
        ensure!(members >= 1, "no members: check --rooms / --connections");
        let senders = a.senders.unwrap_or(d.senders);
        ensure!(
            senders <= room_size,
            "--senders ({senders}) exceeds --room-size ({room_size})"
        );
        let steps = match (a.steps, a.rate) {
            (Some(s), _) => s,
            (None, Some(r)) => vec![r],
            (None, None) => d.steps,
        };
        ensure!(!steps.is_empty(), "--steps is empty");
        for &r in &steps {
            ensure!(r.is_finite() && r >= 0.0, "rates must be non-negative");
            ensure!(
                r <= 100_000.0,
                "rate {r}/s per room is beyond any sensible test"
            );
            ensure!(
                r == 0.0 || senders > 0,
                "a rate needs at least one sender per room"
            );
        }
        let message_size = a.message_size.unwrap_or(d.message_size);
        ensure!(message_size <= 64 * 1024, "--message-size is over 64 KiB");

        let targets = a
            .urls
            .iter()
            .map(|u| net::target(u))
            .collect::<anyhow::Result<Vec<_>>>()?;
        ensure!(!targets.is_empty(), "no --url");
        if a.preset == Preset::TwoInstances && targets.len() < 2 {
            bail!("the two-instances preset needs two or more --url (instances sharing Redis)");
        }

        let mut sources = a.sources;
        if let Some(n) = a.source_count {
            ensure!(n >= 1, "--source-count must be at least 1");
            sources.extend((1..=n).map(|i| Ipv4Addr::new(127, 0, 0, i)));
        }
        for s in &sources {
            ensure!(
                s.is_loopback(),
                "--source {s} is not a loopback address (127.0.0.0/8)"
            );
        }

        let slow_share = a.slow_share.unwrap_or(d.slow_share);
        ensure!(
            (0.0..1.0).contains(&slow_share),
            "--slow-share must be in [0, 1)"
        );
        let slow = (slow_share > 0.0)
            .then(|| -> anyhow::Result<SlowPlan> {
                Ok(SlowPlan {
                    share: slow_share,
                    after: secs("slow-after", a.slow_after.unwrap_or(d.slow_after))?,
                    stall: secs("slow-for", a.slow_for.unwrap_or(d.slow_for))?,
                    rcvbuf: a.slow_rcvbuf,
                })
            })
            .transpose()?;
        let churn = a.churn.unwrap_or(d.churn);
        ensure!(
            churn.is_finite() && churn >= 0.0,
            "--churn must be non-negative"
        );
        ensure!(
            churn == 0.0 || senders < room_size,
            "churn needs members that are not senders"
        );
        let connect_rate = a.connect_rate.unwrap_or(d.connect_rate);
        ensure!(
            connect_rate > 0.0 && connect_rate.is_finite(),
            "--connect-rate must be positive"
        );

        let s = Self {
            preset: a.preset,
            label: a.label,
            targets,
            spread: a.spread,
            admin_token: a.admin_token,
            members,
            rooms,
            room_size,
            senders,
            steps,
            message_size,
            duration: secs("duration", a.duration.unwrap_or(d.duration))?,
            warmup: secs("warmup", a.warmup.unwrap_or(d.warmup))?,
            settle: secs("settle", a.settle.unwrap_or(d.settle))?,
            drain: secs("drain", a.drain.unwrap_or(d.drain))?,
            connect_rate,
            sources,
            slow,
            churn,
            server_pids: a.server_pids,
            broker_pids: a.broker_pids,
            json_out: a.json_out,
            quiet: a.quiet,
            keep_rooms: a.keep_rooms,
            policy: match a.policy.as_deref() {
                None => None,
                Some(name) => Some(
                    serde_json::from_value(serde_json::Value::String(name.to_owned()))
                        .map_err(|_| anyhow::anyhow!("--policy: off, flag, censor or hold"))?,
                ),
            },
        };
        ensure!(
            s.planned() <= MAX_RUN,
            "the run would last {:?}, over the {:?} limit",
            s.planned(),
            MAX_RUN
        );
        if let Some(limit) = open_files {
            ensure!(
                s.members + FD_HEADROOM <= limit,
                "{} members need about {} open files; this process may open {limit}",
                s.members,
                s.members + FD_HEADROOM
            );
        }
        if s.members > 28_000 * s.sources.len().max(1) {
            bail!(
                "{} connections from {} source address(es) would exhaust ephemeral ports: add --source-count",
                s.members,
                s.sources.len().max(1)
            );
        }
        Ok(s)
    }

    /// The planned length of the run, connecting included.
    pub fn planned(&self) -> Duration {
        let connect = Duration::from_secs_f64(self.members as f64 / self.connect_rate);
        let steps = self.steps.len() as u32;
        connect
            + self.warmup
            + self.duration * steps
            + self.settle * steps.saturating_sub(1)
            + self.drain
    }

    /// The member's room, and its index within the room.
    pub fn place(&self, member: usize) -> (usize, usize) {
        (member / self.room_size, member % self.room_size)
    }

    /// The instance (index into `targets`) member `member` connects to.
    pub fn target(&self, member: usize) -> usize {
        let by = match self.spread {
            Spread::Member => member,
            Spread::Room => self.place(member).0,
        };
        by % self.targets.len()
    }

    /// Room `room`'s member count (the last room may be partial).
    pub fn room_members(&self, room: usize) -> usize {
        (self.members - room * self.room_size).min(self.room_size)
    }

    /// Senders in room `room`.
    pub fn room_senders(&self, room: usize) -> usize {
        self.senders.min(self.room_members(room))
    }

    /// Whether member `member` is a slow reader: an even spread over non-senders.
    pub fn is_slow(&self, member: usize) -> bool {
        let Some(slow) = &self.slow else {
            return false;
        };
        let (_, idx) = self.place(member);
        if idx < self.senders {
            return false;
        }
        // Number the non-senders 0, 1, 2, … and pick where floor(k × share) steps.
        let per_room = self.room_size - self.senders;
        let (room, _) = self.place(member);
        let k = (room * per_room + (idx - self.senders)) as f64;
        ((k + 1.0) * slow.share).floor() > (k * slow.share).floor()
    }
}

/// `Max open files` (soft limit) from `/proc/self/limits`.
pub fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&limits)
}

fn parse_open_files(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Parses the command line (for `main`).
pub fn from_args() -> anyhow::Result<Scenario> {
    Scenario::resolve(Args::parse(), open_files_limit()).context("invalid scenario")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut v = vec!["kindred-loadtest", "--admin-token", "t"];
        v.extend_from_slice(extra);
        Args::try_parse_from(v).unwrap()
    }

    fn resolve(extra: &[&str]) -> anyhow::Result<Scenario> {
        Scenario::resolve(args(extra), Some(20_000))
    }

    #[test]
    fn presets_match_the_benchmark_scenarios() {
        let idle = resolve(&["-p", "idle"]).unwrap();
        assert_eq!(
            (idle.members, idle.rooms, idle.room_size),
            (15_000, 1250, 12)
        );
        assert_eq!(idle.steps, vec![0.0]);
        let evening = resolve(&["-p", "evening"]).unwrap();
        assert_eq!(
            (evening.rooms, evening.room_size, evening.steps.clone()),
            (500, 12, vec![1.0])
        );
        assert_eq!(evening.message_size, 200);
        let sat = resolve(&["-p", "saturation"]).unwrap();
        assert_eq!((sat.rooms, sat.room_size, sat.senders), (100, 50, 1));
        assert_eq!(sat.steps, vec![2.0, 5.0, 10.0, 20.0, 30.0, 40.0]);
        let large = resolve(&["-p", "large-room"]).unwrap();
        assert_eq!(
            (large.rooms, large.room_size, large.steps.clone()),
            (1, 1000, vec![20.0])
        );
        let slow = resolve(&["-p", "slow-readers"]).unwrap();
        assert_eq!(slow.slow.unwrap().stall, Duration::from_secs(30));
        assert_eq!(resolve(&["-p", "churn"]).unwrap().churn, 100.0);
        assert!(resolve(&["-p", "two-instances"]).is_err());
        let two = resolve(&[
            "-p",
            "two-instances",
            "--url",
            "http://127.0.0.1:1,http://127.0.0.1:2",
        ]);
        assert_eq!(two.unwrap().targets.len(), 2);
    }

    #[test]
    fn members_are_spread_over_the_instances_by_member_or_all_of_a_room_to_one() {
        let two = [
            "-p",
            "two-instances",
            "--url",
            "http://127.0.0.1:1,http://127.0.0.1:2",
        ];
        let by_member = resolve(&two).unwrap();
        // Room 0 is members 0..12: on both instances, alternately.
        let room0: Vec<usize> = (0..12).map(|m| by_member.target(m)).collect();
        assert_eq!(room0, [0, 1].repeat(6));
        let by_room = resolve(&[&two[..], &["--spread", "room"]].concat()).unwrap();
        assert!(
            (0..12).all(|m| by_room.target(m) == 0),
            "room 0 on the first"
        );
        assert!(
            (12..24).all(|m| by_room.target(m) == 1),
            "room 1 on the second"
        );
        assert!(
            (24..36).all(|m| by_room.target(m) == 0),
            "room 2 on the first"
        );
    }

    #[test]
    fn flags_override_presets() {
        let s = resolve(&[
            "-p",
            "saturation",
            "--rooms",
            "3",
            "--steps",
            "1,2",
            "--message-size",
            "64",
            "--duration",
            "1.5",
            "--source-count",
            "3",
        ])
        .unwrap();
        assert_eq!((s.rooms, s.members), (3, 150));
        assert_eq!(s.steps, vec![1.0, 2.0]);
        assert_eq!(s.message_size, 64);
        assert_eq!(s.duration, Duration::from_millis(1500));
        assert_eq!(s.sources.len(), 3);
        assert_eq!(s.sources[2], Ipv4Addr::new(127, 0, 0, 3));
        let r = resolve(&["-p", "saturation", "--rate", "7"]).unwrap();
        assert_eq!(r.steps, vec![7.0]);
    }

    #[test]
    fn connections_fill_rooms_in_order() {
        let s = resolve(&["--connections", "30", "--room-size", "12"]).unwrap();
        assert_eq!((s.rooms, s.members), (3, 30));
        assert_eq!(s.place(29), (2, 5));
        assert_eq!(s.room_members(2), 6);
        assert_eq!(s.room_senders(2), 3);
    }

    #[test]
    fn refuses_what_would_misbehave() {
        assert!(resolve(&["--url", "http://10.0.0.1:8080"]).is_err());
        assert!(resolve(&["--source", "10.0.0.2"]).is_err());
        assert!(resolve(&["--senders", "13"]).is_err());
        assert!(resolve(&["--senders", "0", "--rate", "1"]).is_err());
        assert!(resolve(&["--duration=-1"]).is_err());
        assert!(resolve(&["--duration", "100000"]).is_err());
        assert!(resolve(&["--slow-share", "1"]).is_err());
        assert!(resolve(&["--churn", "5", "--senders", "12"]).is_err());
        // Too many connections for the file limit.
        assert!(Scenario::resolve(args(&["-p", "idle"]), Some(15_000)).is_err());
    }

    #[test]
    fn slow_readers_are_an_even_share_of_non_senders() {
        let s = resolve(&["-p", "slow-readers"]).unwrap();
        let slow: Vec<usize> = (0..s.members).filter(|&m| s.is_slow(m)).collect();
        // 5% of 500 × 9 non-senders.
        assert_eq!(slow.len(), 225);
        assert!(slow.iter().all(|&m| s.place(m).1 >= s.senders));
        assert!(!resolve(&["-p", "evening"]).unwrap().is_slow(100));
    }

    #[test]
    fn open_files_from_proc_limits() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max cpu time              unlimited            unlimited            seconds\n\
                      Max open files            20000                20000                files\n";
        assert_eq!(parse_open_files(limits), Some(20_000));
        assert_eq!(parse_open_files("nothing"), None);
    }
}
