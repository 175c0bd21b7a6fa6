//! Kindred ÷ the reference server, from one `bench.sh` invocation's `results.jsonl`:
//! the table BENCHMARKS.md leads with.
//!
//! `bench.sh` labels every run `<scenario>-<server>-<round>`, where the server is
//! `reference` (the naive broadcast server, `kindred-reference`), `kindred`, or
//! `kindred:<policy>` (rooms created with that content policy). Within one round the
//! servers run the same scenario back to back, so a ratio is taken between runs of the
//! same round (measured minutes apart under the same machine state), and the table
//! gives the median of those per-round ratios beside each side's median and the
//! round-by-round figures. Absolute numbers move from hour to hour on a shared machine;
//! the ratio is the figure that holds.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Deserialize;

/// The label of the reference server's runs.
pub const REFERENCE: &str = "reference";

/// The three figures compared: CPU per delivery, p99, memory per member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    CpuPerDelivery,
    P99,
    MemoryPerMember,
}

impl Figure {
    pub const ALL: [Figure; 3] = [Figure::CpuPerDelivery, Figure::P99, Figure::MemoryPerMember];

    fn name(self) -> &'static str {
        match self {
            Figure::CpuPerDelivery => "server CPU µs / delivery",
            Figure::P99 => "p99 ms",
            Figure::MemoryPerMember => "server RSS KiB / member",
        }
    }

    fn of(self, run: &Run) -> Option<f64> {
        match self {
            Figure::CpuPerDelivery => run.server_cpu.as_ref()?.us_per_delivery,
            Figure::P99 => run.latency.as_ref().map(|l| l.p99_ms),
            Figure::MemoryPerMember => run.server_memory.as_ref()?.rss_per_member_kib,
        }
    }
}

/// The part of a `"kind":"run"` line the ratios read.
#[derive(Debug, Deserialize)]
struct Run {
    kind: String,
    label: Option<String>,
    ok: bool,
    latency: Option<Latency>,
    server_cpu: Option<Cpu>,
    server_memory: Option<Memory>,
}

#[derive(Debug, Deserialize)]
struct Latency {
    p99_ms: f64,
}

#[derive(Debug, Deserialize)]
struct Cpu {
    us_per_delivery: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Memory {
    rss_per_member_kib: Option<f64>,
}

/// Where a run belongs: its scenario, server and round, read from its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub scenario: String,
    pub server: String,
    pub round: u32,
}

/// Reads `<scenario>-<server>-<round>`; the scenario itself may contain `-` (a server
/// name never does).
pub fn place(label: &str) -> Option<Place> {
    let (rest, round) = label.rsplit_once('-')?;
    let (scenario, server) = rest.rsplit_once('-')?;
    Some(Place {
        scenario: scenario.to_owned(),
        server: server.to_owned(),
        round: round.parse().ok()?,
    })
}

/// One scenario's figures: by server, by round.
type Figures = BTreeMap<String, BTreeMap<u32, BTreeMap<Figure, f64>>>;

/// One row of the table: a Kindred server's figure against the reference's.
#[derive(Debug, Clone, PartialEq)]
pub struct Ratio {
    pub scenario: String,
    pub server: String,
    pub figure: Figure,
    pub kindred: f64,
    pub reference: f64,
    /// Median of the per-round ratios.
    pub ratio: f64,
    /// (round, Kindred ÷ reference) for every round both ran cleanly.
    pub by_round: Vec<(u32, f64)>,
}

/// The median; the mean of the middle two for an even count.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// Every ratio that `results` (JSON lines) allows: each Kindred server against the
/// reference, per scenario and figure, over the rounds in which both ran cleanly.
/// Lines that are not clean runs with a `<scenario>-<server>-<round>` label are left
/// out, so a failed run never makes a ratio look better.
pub fn ratios(results: &str) -> Vec<Ratio> {
    let mut by_scenario: BTreeMap<String, Figures> = BTreeMap::new();
    for line in results.lines() {
        let Ok(run) = serde_json::from_str::<Run>(line) else {
            continue;
        };
        let Some(place) = run.label.as_deref().and_then(place) else {
            continue;
        };
        if run.kind != "run" || !run.ok {
            continue;
        }
        let figures = by_scenario
            .entry(place.scenario)
            .or_default()
            .entry(place.server)
            .or_default()
            .entry(place.round)
            .or_default();
        for figure in Figure::ALL {
            if let Some(v) = figure.of(&run).filter(|v| v.is_finite() && *v > 0.0) {
                figures.insert(figure, v);
            }
        }
    }
    let mut out = Vec::new();
    for (scenario, servers) in &by_scenario {
        let Some(reference) = servers.get(REFERENCE) else {
            continue;
        };
        for (server, rounds) in servers.iter().filter(|(s, _)| *s != REFERENCE) {
            for figure in Figure::ALL {
                let mut by_round = Vec::new();
                let (mut ours, mut theirs) = (Vec::new(), Vec::new());
                for (round, figures) in rounds {
                    let pair = (
                        figures.get(&figure),
                        reference.get(round).and_then(|r| r.get(&figure)),
                    );
                    if let (Some(&k), Some(&r)) = pair {
                        by_round.push((*round, k / r));
                        ours.push(k);
                        theirs.push(r);
                    }
                }
                let ratios: Vec<f64> = by_round.iter().map(|(_, r)| *r).collect();
                if let (Some(ratio), Some(kindred), Some(reference)) =
                    (median(&ratios), median(&ours), median(&theirs))
                {
                    out.push(Ratio {
                        scenario: scenario.clone(),
                        server: server.clone(),
                        figure,
                        kindred,
                        reference,
                        ratio,
                        by_round,
                    });
                }
            }
        }
    }
    out
}

/// The ratios as a Markdown table.
pub fn table(ratios: &[Ratio]) -> String {
    let mut out = String::from(
        "| scenario | server | figure | Kindred (median) | reference (median) | Kindred ÷ reference (median of rounds) | round by round |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in ratios {
        let rounds: Vec<String> = r
            .by_round
            .iter()
            .map(|(n, x)| format!("{n}: {x:.2}×"))
            .collect();
        // Writing into a String cannot fail.
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.3} | {:.3} | **{:.2}×** | {} |",
            r.scenario,
            r.server,
            r.figure.name(),
            r.kindred,
            r.reference,
            r.ratio,
            rounds.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(label: &str, ok: bool, us: f64, p99: f64, kib: f64) -> String {
        serde_json::json!({
            "kind": "run", "preset": "evening", "label": label, "ok": ok,
            "latency": {"p50_ms": 0.3, "p99_ms": p99},
            "server_cpu": {"cpu_ms": 1.0, "share": 0.1, "us_per_delivery": us},
            "server_memory": {"rss_per_member_kib": kib},
        })
        .to_string()
    }

    #[test]
    fn labels_name_the_server_and_the_round() {
        assert_eq!(
            place("evening-kindred:off-2"),
            Some(Place {
                scenario: "evening".into(),
                server: "kindred:off".into(),
                round: 2
            })
        );
        assert_eq!(
            place("two-instances-reference-10"),
            Some(Place {
                scenario: "two-instances".into(),
                server: "reference".into(),
                round: 10
            })
        );
        assert_eq!(place("evening-1"), None);
        assert_eq!(place("evening-kindred-x"), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }

    /// Three rounds of Kindred and the reference: the ratio is the median of the
    /// per-round ratios, not the ratio of the medians, so a round that was slow for
    /// both (another build on the machine) is compared with itself.
    #[test]
    fn ratios_pair_runs_of_the_same_round() {
        let lines = [
            run("evening-reference-1", true, 10.0, 1.0, 6.0),
            run("evening-kindred-1", true, 25.0, 1.5, 9.0),
            // A noisy round: both slower.
            run("evening-reference-2", true, 30.0, 4.0, 6.0),
            run("evening-kindred-2", true, 45.0, 6.0, 9.0),
            run("evening-reference-3", true, 12.0, 1.0, 6.0),
            run("evening-kindred-3", true, 24.0, 1.2, 9.0),
        ]
        .join("\n");
        let all = ratios(&lines);
        assert_eq!(all.len(), 3);
        let cpu = &all[0];
        assert_eq!(
            (cpu.figure, cpu.server.as_str()),
            (Figure::CpuPerDelivery, "kindred")
        );
        assert_eq!(cpu.by_round, vec![(1, 2.5), (2, 1.5), (3, 2.0)]);
        assert_eq!(cpu.ratio, 2.0);
        assert_eq!((cpu.kindred, cpu.reference), (25.0, 12.0));
        let p99 = &all[1];
        assert_eq!(p99.figure, Figure::P99);
        assert_eq!(p99.ratio, 1.5);
        let memory = &all[2];
        assert_eq!(memory.ratio, 1.5);
        let table = table(&all);
        assert!(
            table.contains("| evening | kindred | server CPU µs / delivery | 25.000 | 12.000 | **2.00×** | 1: 2.50×, 2: 1.50×, 3: 2.00× |"),
            "{table}"
        );
    }

    /// A failed run leaves its round out of the comparison, on both sides; a policy
    /// variant is its own row; a scenario without the reference has no ratio.
    #[test]
    fn failed_runs_and_unmatched_rounds_are_left_out() {
        let lines = [
            run("evening-reference-1", true, 10.0, 1.0, 6.0),
            run("evening-kindred-1", true, 20.0, 2.0, 9.0),
            run("evening-kindred:off-1", true, 15.0, 1.0, 9.0),
            run("evening-reference-2", false, 1.0, 1.0, 6.0),
            run("evening-kindred-2", true, 90.0, 9.0, 9.0),
            run("evening-kindred-3", true, 90.0, 9.0, 9.0),
            r#"{"kind":"step","preset":"evening","label":"evening-kindred-1"}"#.to_owned(),
            "not json".to_owned(),
            r#"{"kind":"run","preset":"idle","label":"idle-kindred-1","ok":true}"#.to_owned(),
        ]
        .join("\n");
        let all = ratios(&lines);
        let cpu: Vec<_> = all
            .iter()
            .filter(|r| r.figure == Figure::CpuPerDelivery)
            .map(|r| (r.server.as_str(), r.ratio, r.by_round.len()))
            .collect();
        assert_eq!(cpu, vec![("kindred", 2.0, 1), ("kindred:off", 1.5, 1)]);
        assert!(all.iter().all(|r| r.scenario == "evening"));
    }

    /// A scenario is named by its label, not by the load tester's preset: a variant
    /// of a preset (`two-instances-by-room` runs the `two-instances` preset) is its
    /// own scenario and never takes the place of the preset's own runs.
    #[test]
    fn variants_of_one_preset_are_kept_apart() {
        let lines = [
            run("evening-reference-1", true, 10.0, 1.0, 6.0),
            run("evening-kindred-1", true, 20.0, 2.0, 9.0),
            run("evening-by-room-kindred-1", true, 90.0, 9.0, 9.0),
        ]
        .join("\n");
        let all = ratios(&lines);
        let cpu: Vec<_> = all
            .iter()
            .filter(|r| r.figure == Figure::CpuPerDelivery)
            .map(|r| (r.scenario.as_str(), r.ratio))
            .collect();
        assert_eq!(cpu, vec![("evening", 2.0)]);
    }
}
