//! CPU time and resident memory of a process, from `/proc` (Linux).
//!
//! Server CPU per delivery is the figure the benchmarks compare: on a 2-core box
//! the load tester, not the server, is often the limit, and CPU time divided by
//! deliveries stays comparable when latency and throughput do not.

use std::time::Instant;

/// One reading of a process.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Instant,
    /// user + system time, in microseconds.
    pub cpu_us: u64,
    pub rss_kib: u64,
}

impl Sample {
    /// Two readings taken together, as one (e.g. the servers plus their broker).
    pub fn plus(&self, other: &Sample) -> Sample {
        Sample {
            at: self.at.max(other.at),
            cpu_us: self.cpu_us + other.cpu_us,
            rss_kib: self.rss_kib + other.rss_kib,
        }
    }
}

/// Reads `/proc/<pid>/…` of one or more processes (summed: several server
/// instances count as one server), or `/proc/self/…`.
#[derive(Debug, Clone)]
pub struct Probe {
    dirs: Vec<String>,
    us_per_tick: u64,
}

impl Probe {
    /// A probe of processes `pids`, or of this process when empty. Fails if a
    /// process cannot be read now.
    pub fn new(pids: &[u32]) -> std::io::Result<Self> {
        let dirs = if pids.is_empty() {
            vec!["/proc/self".to_owned()]
        } else {
            pids.iter().map(|p| format!("/proc/{p}")).collect()
        };
        let probe = Self {
            dirs,
            us_per_tick: 1_000_000 / clock_ticks_per_second(),
        };
        probe.sample()?;
        Ok(probe)
    }

    pub fn sample(&self) -> std::io::Result<Sample> {
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let mut total = Sample {
            at: Instant::now(),
            cpu_us: 0,
            rss_kib: 0,
        };
        for dir in &self.dirs {
            let stat = std::fs::read_to_string(format!("{dir}/stat"))?;
            let status = std::fs::read_to_string(format!("{dir}/status"))?;
            let ticks = cpu_ticks(&stat).ok_or_else(|| bad("unreadable /proc stat"))?;
            total.cpu_us += ticks * self.us_per_tick;
            total.rss_kib += rss_kib(&status).ok_or_else(|| bad("no VmRSS in /proc status"))?;
        }
        Ok(total)
    }
}

/// `getconf CLK_TCK`, or 100 (the value on every common Linux build).
fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&t| t > 0 && t <= 1_000_000)
        .unwrap_or(100)
}

/// utime + stime (fields 14 and 15) from `/proc/PID/stat`. The command name (field
/// 2) is in parentheses and may contain spaces and parentheses, so fields are
/// counted from the last `)`.
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_ascii_whitespace();
    // `after` starts at field 3 (state): utime is field 14, 11 further on.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS` in KiB from `/proc/PID/status`.
pub fn rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU use between two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct CpuUse {
    pub cpu_ms: f64,
    /// CPU time over wall time: 1.0 is one core fully busy.
    pub share: f64,
    /// Microseconds of CPU per delivery, when there were deliveries.
    pub us_per_delivery: Option<f64>,
    /// Microseconds of CPU per message sent (see [`CpuUse::per_message`]): for a
    /// broker, which every message crosses once however many members receive it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub us_per_message: Option<f64>,
}

impl CpuUse {
    pub fn between(a: &Sample, b: &Sample, deliveries: u64) -> Self {
        let cpu_us = b.cpu_us.saturating_sub(a.cpu_us) as f64;
        let wall_us = b.at.saturating_duration_since(a.at).as_micros() as f64;
        Self {
            cpu_ms: cpu_us / 1000.0,
            share: if wall_us > 0.0 { cpu_us / wall_us } else { 0.0 },
            us_per_delivery: (deliveries > 0).then(|| cpu_us / deliveries as f64),
            us_per_message: None,
        }
    }

    /// The same, with CPU per message over `messages` messages sent.
    pub fn per_message(mut self, messages: u64) -> Self {
        self.us_per_message = (messages > 0).then(|| self.cpu_ms * 1000.0 / messages as f64);
        self
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn stat_fields_counted_from_the_last_parenthesis() {
        let stat = "4242 (kindred (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    250 37 0 0 20 0 3 0 123456 1000000 500 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some(287));
        assert_eq!(cpu_ticks("garbage"), None);
        assert_eq!(cpu_ticks("1 (x) S 1 2"), None);
    }

    #[test]
    fn vm_rss() {
        let status = "Name:\tkindred\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(rss_kib(status), Some(12345));
        assert_eq!(rss_kib("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let probe = Probe::new(&[]).unwrap();
        let s = probe.sample().unwrap();
        assert!(s.rss_kib > 0);
        assert!(Probe::new(&[u32::MAX]).is_err());
    }

    #[test]
    fn several_processes_are_summed() {
        // A process whose memory holds still while it is read (this test binary's
        // other tests allocate and free while they run, so its own RSS does not).
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep runs");
        std::thread::sleep(Duration::from_millis(50));
        let pid = sleeper.id();
        let (once, both) = (
            Probe::new(&[pid]).unwrap(),
            Probe::new(&[pid, pid]).unwrap(),
        );
        // Read between two single reads, in case it was still starting (it only grows
        // then).
        let before = once.sample().unwrap().rss_kib;
        let twice = both.sample().unwrap().rss_kib;
        let after = once.sample().unwrap().rss_kib;
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        assert!(before > 0);
        assert!(
            (2 * before..=2 * after).contains(&twice),
            "summed over both: {twice} KiB from {before}..{after} KiB"
        );
    }

    #[test]
    fn cpu_per_delivery_and_share() {
        let t0 = Instant::now();
        let a = Sample {
            at: t0,
            cpu_us: 1_000_000,
            rss_kib: 0,
        };
        let b = Sample {
            at: t0 + Duration::from_secs(2),
            cpu_us: 1_500_000,
            rss_kib: 0,
        };
        let u = CpuUse::between(&a, &b, 100_000);
        assert_eq!(u.cpu_ms, 500.0);
        assert!((u.share - 0.25).abs() < 1e-9);
        assert_eq!(u.us_per_delivery, Some(5.0));
        assert_eq!(CpuUse::between(&a, &b, 0).us_per_delivery, None);
        assert_eq!(u.us_per_message, None);
        assert_eq!(u.per_message(1_000).us_per_message, Some(500.0));
        assert_eq!(u.per_message(0).us_per_message, None);
        let both = a.plus(&b);
        assert_eq!((both.at, both.cpu_us), (b.at, 2_500_000));
    }
}
