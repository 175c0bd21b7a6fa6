//! `kindred-guard-model`: trains the guardrail's classifier from its corpus, scores a
//! set of messages with what Kindred ships, and measures what the guardrail costs.
//!
//! ```text
//! cargo run --release -p kindred-server --bin kindred-guard-model -- train
//! cargo run --release -p kindred-server --bin kindred-guard-model -- score FILE.tsv
//! cargo run --release -p kindred-server --bin kindred-guard-model -- classify "some words"
//! cargo run --release -p kindred-server --bin kindred-guard-model -- bench [ROUNDS]
//! ```
//!
//! `train` reads `server/src/safety/guard/corpus/` (its `*.txt` files and
//! `fresh/*.tsv`), writes `server/src/safety/guard/guard.bin` and prints the
//! validation figures of the model alone and of the rules beside it. `score` reads a
//! fresh set (`LABEL<TAB>TEXT` a line: `method`, `graphic`, `dose` or `calm`) and prints
//! the figures `guard/corpus/HISTORY.md` records: score a set before adding it to the
//! corpus.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use kindred::safety::Guard;
use kindred::safety::classifier::model::digest;
use kindred::safety::classifier::train::split;
use kindred::safety::guard::train::{load, read_corpus, read_fresh, train};
use kindred::safety::guard::{GuardScore, rules};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/safety/guard");
    match args.first().map(String::as_str) {
        Some("train") => {
            let files = read_corpus(&root.join("corpus")).context("reading the corpus")?;
            let corpus = digest(files.iter().map(|(n, t)| (n.as_str(), t.as_str())));
            let split = split(load(&files).map_err(anyhow::Error::msg)?);
            let started = Instant::now();
            let model = train(&split, corpus);
            let out = root.join("guard.bin");
            std::fs::write(&out, model.to_bytes())
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "trained on {} messages ({} held out) in {:.1?}; threshold {:.3}; wrote {}",
                split.train.len(),
                split.validation.len(),
                started.elapsed(),
                model.threshold,
                out.display()
            );
            let model: &'static _ = Box::leak(Box::new(model));
            let v = &split.validation;
            println!(
                "validation, model alone:  {}",
                GuardScore::of(v, |t| model.find(t))
            );
            println!(
                "validation, rules alone:  {}",
                GuardScore::of(v, rules::detect)
            );
            let guard = Guard::with(model);
            println!(
                "validation, both:         {}",
                GuardScore::of(v, |t| guard.detect(t))
            );
        }
        Some("score") => {
            let Some(file) = args.get(1) else {
                bail!("score FILE.tsv");
            };
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
            let set = read_fresh(&text).map_err(anyhow::Error::msg)?;
            let guard = Guard::default();
            println!("rules alone: {}", GuardScore::of(&set, rules::detect));
            println!("shipped:     {}", GuardScore::of(&set, |t| guard.detect(t)));
            if args.iter().any(|a| a == "--misses") {
                for e in &set {
                    let found = guard.detect(&e.text);
                    if found.is_some() != (e.class != 0) {
                        println!("{}\t{:?}\t{}", e.kind, found, e.text);
                    }
                }
            }
        }
        Some("classify") => {
            let guard = Guard::default();
            for text in &args[1..] {
                println!("{:?}: {text}", guard.detect(text));
            }
        }
        Some("bench") => {
            let files = read_corpus(&root.join("corpus")).context("reading the corpus")?;
            let texts: Vec<String> = load(&files)
                .map_err(anyhow::Error::msg)?
                .into_iter()
                .map(|e| e.text)
                .collect();
            let guard = Guard::default();
            let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(200);
            // CPU time, not the wall clock: on a shared machine the wall clock counts
            // the other processes' turns too.
            let started = cpu_seconds();
            let mut found = 0usize;
            for _ in 0..rounds {
                for t in &texts {
                    found += usize::from(guard.detect(std::hint::black_box(t)).is_some());
                }
            }
            let per = (cpu_seconds() - started) * 1e6 / (rounds * texts.len()) as f64;
            println!(
                "{per:.2} µs a message over {} corpus messages ({found} found in {rounds} rounds)",
                texts.len()
            );
        }
        _ => bail!(
            "usage: kindred-guard-model train | score FILE.tsv [--misses] | classify TEXT… | bench [ROUNDS]"
        ),
    }
    Ok(())
}

/// This process's CPU time in seconds (user and system, from `/proc/self/stat`, in
/// the kernel's ticks of 10 ms: run enough rounds for a few seconds).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = stat.rfind(')').map_or("", |i| &stat[i + 2..]);
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
