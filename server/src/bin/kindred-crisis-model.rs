//! `kindred-crisis-model`: trains the crisis classifier from its corpus, scores a set
//! of messages with what Kindred ships, and measures what detection costs.
//!
//! ```text
//! cargo run --release -p kindred-server --bin kindred-crisis-model -- train
//! cargo run --release -p kindred-server --bin kindred-crisis-model -- score FILE.tsv
//! cargo run --release -p kindred-server --bin kindred-crisis-model -- classify "some words"
//! cargo run --release -p kindred-server --bin kindred-crisis-model -- bench
//! ```
//!
//! `train` reads `server/src/safety/corpus/` (its `*.txt` files and `fresh/*.tsv`),
//! writes `server/src/safety/classifier/model.bin` and prints the validation figures;
//! run the build again to ship the new file. `score` reads a fresh set
//! (`alert<TAB>kind<TAB>text` or `calm<TAB>calm<TAB>text` a line) and prints the
//! figures `HISTORY.md` records; score a set before adding it to the corpus. `bench`
//! times crisis detection over the corpus, then the default content policy over the
//! corpus's calm and crisis messages and the load tester's texts, with how often its
//! screen hands a message to rustrict.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use kindred::safety::classifier::corpus::{Example, load, read_fresh};
use kindred::safety::classifier::framing;
use kindred::safety::classifier::model::digest;
use kindred::safety::classifier::report::Score;
use kindred::safety::classifier::train::{split, train};
use kindred::safety::policy::reaches_rustrict;
use kindred::safety::{Basis, ContentPolicy, CrisisMatcher, Detection, Detector, Evaluate, Tier};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/safety");
    match args.first().map(String::as_str) {
        Some("train") => {
            let (examples, files) = read_corpus(&root.join("corpus"))?;
            let corpus = digest(files.iter().map(|(n, t)| (n.as_str(), t.as_str())));
            let split = split(examples);
            let started = Instant::now();
            let model = train(&split, corpus);
            let out = root.join("classifier/model.bin");
            std::fs::write(&out, model.to_bytes())
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "trained on {} messages ({} held out for validation) in {:.1?}; wrote {}",
                split.train.len(),
                split.validation.len(),
                started.elapsed(),
                out.display()
            );
            println!(
                "thresholds: crisis {:.3}, check_in {:.3}",
                model.thresholds.crisis, model.thresholds.check_in
            );
            println!(
                "rebuild to ship it; validation with the rules beside it follows after a rebuild:"
            );
            println!(
                "  cargo run --release -p kindred-server --bin kindred-crisis-model -- validate"
            );
        }
        Some("validate") => {
            let (examples, _) = read_corpus(&root.join("corpus"))?;
            report(&split(examples).validation)?;
        }
        Some("score") => {
            let Some(file) = args.get(1) else {
                bail!("score FILE.tsv");
            };
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
            let set = read_fresh(&text).map_err(anyhow::Error::msg)?;
            report(&set)?;
        }
        Some("classify") => {
            let detector = Detector::new(CrisisMatcher::builtin());
            for text in &args[1..] {
                let scores = detector.scores(text);
                match detector.detect(text) {
                    Some(d) => println!(
                        "{:?} {:?} ({:?}), concern {:.3}: {text}",
                        d.tier,
                        d.category,
                        d.basis,
                        scores.concern()
                    ),
                    None => println!("nothing, concern {:.3}: {text}", scores.concern()),
                }
            }
        }
        Some("bench") => bench(&root.join("corpus"))?,
        _ => bail!(
            "usage: kindred-crisis-model train | validate | score FILE.tsv | classify TEXT… | bench"
        ),
    }
    Ok(())
}

/// A set's figures with the rules and the model together (what Kindred does), the
/// model alone, the rules alone, and the rules with their framing (a match the framing
/// distances left out: what the rules add to the model's alerts).
fn report(set: &[Example]) -> anyhow::Result<()> {
    let both = Detector::new(CrisisMatcher::builtin());
    let model = Detector::new(CrisisMatcher::parse("")?);
    let rules = CrisisMatcher::builtin();
    println!("rules and model: {}", Score::of(set, |t| both.detect(t)));
    println!("model alone: {}", Score::of(set, |t| model.detect(t)));
    let rules_only = Score::of(set, |t| {
        rules.detect(t).map(|category| Detection {
            tier: Tier::Crisis,
            category,
            basis: Basis::Rule,
        })
    });
    println!("rules alone: {rules_only}");
    // The rules as they stand in Kindred: a match the framing distances is not theirs.
    let framed = Score::of(set, |t| {
        rules
            .detect(t)
            .filter(|_| !framing::distanced(&rules, t))
            .map(|category| Detection {
                tier: Tier::Crisis,
                category,
                basis: Basis::Rule,
            })
    });
    println!("rules with their framing: {framed}");
    // Where the rules and the model disagree: a rule's match the model finds calm.
    let mut disagree = [[0usize; 2]; 4];
    for e in set {
        if rules.detect(&e.text).is_some() {
            let concern = model.scores(&e.text).concern();
            let band = [0.05, 0.2, 0.4, 1.01]
                .iter()
                .position(|b| concern < *b)
                .unwrap_or(3);
            disagree[band][usize::from(e.class != 0)] += 1;
        }
    }
    println!(
        "rule matches by the model's concern (<0.05, <0.2, <0.4, rest) as [calm, must alert]: {disagree:?}"
    );
    Ok(())
}

/// A corpus's files: (name, contents).
type Files = Vec<(String, String)>;

/// The corpus's messages, and its files (name, contents) for the digest: its `*.txt`
/// and `fresh/*.tsv`.
fn read_corpus(dir: &Path) -> anyhow::Result<(Vec<Example>, Files)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .chain(std::fs::read_dir(dir.join("fresh")).into_iter().flatten())
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt" || e == "tsv"))
        .collect();
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        files.push((name, std::fs::read_to_string(&path)?));
    }
    let examples = load(&files).map_err(anyhow::Error::msg)?;
    Ok((examples, files))
}

/// What detection costs per message (rules and model), over the corpus's messages.
fn bench(dir: &Path) -> anyhow::Result<()> {
    let (examples, _) = read_corpus(dir)?;
    let detector = Detector::new(CrisisMatcher::builtin());
    let mut times: Vec<f64> = Vec::with_capacity(examples.len());
    let mut found = 0usize;
    for round in 0..5 {
        for e in &examples {
            let started = Instant::now();
            let d = detector.detect(&e.text);
            let us = started.elapsed().as_secs_f64() * 1e6;
            if round > 0 {
                times.push(us);
                found += usize::from(d.is_some());
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{} detections over {} messages: median {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} alerted)",
        times.len(),
        examples.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        found / 4
    );
    bench_policy(&examples, &detector);
    Ok(())
}

/// The prose the load tester pads its texts with (`loadtest/src/payload.rs`).
const LOAD_TESTER_PADDING: &str = "thank you for sharing, I hear you and I am glad you are here. ";

/// What the default content policy (`flag`) costs per message, after crisis detection
/// as the session runs it, and how often its screen hands a message to rustrict: over
/// the corpus's calm messages (ordinary chat), its crisis messages (which the policy
/// leaves alone) and 10,000 of the load tester's 200-byte texts (a header of numbers,
/// then its padding).
fn bench_policy(examples: &[Example], detector: &Detector) {
    let policy = ContentPolicy::default();
    let calm: Vec<&str> = examples
        .iter()
        .filter(|e| e.class == 0)
        .map(|e| e.text.as_str())
        .collect();
    let crisis: Vec<&str> = examples
        .iter()
        .filter(|e| e.class != 0)
        .map(|e| e.text.as_str())
        .collect();
    let generated: Vec<String> = (0..10_000u64)
        .map(|n| {
            let mut text = format!(
                "lt|{}|{}|{n}|{}|",
                n % 500,
                n % 3,
                1_764_157_000_123_456_789 + n * 1_000_003
            );
            while text.len() < 200 {
                text.push_str(LOAD_TESTER_PADDING);
            }
            text.truncate(200);
            text
        })
        .collect();
    let load_tester: Vec<&str> = generated.iter().map(String::as_str).collect();
    for (name, texts) in [
        ("calm messages", &calm),
        ("crisis messages", &crisis),
        ("load tester's texts", &load_tester),
    ] {
        let flagged: Vec<bool> = texts.iter().map(|t| detector.detect(t).is_some()).collect();
        let reached = texts
            .iter()
            .zip(&flagged)
            .filter(|(t, crisis)| !**crisis && reaches_rustrict(&policy, t))
            .count();
        let mut times: Vec<f64> = Vec::with_capacity(texts.len() * 4);
        for round in 0..5 {
            for (text, &is_crisis) in texts.iter().zip(&flagged) {
                let started = Instant::now();
                let verdict = policy.evaluate_with_crisis(text, is_crisis);
                let us = started.elapsed().as_secs_f64() * 1e6;
                std::hint::black_box(verdict);
                if round > 0 {
                    times.push(us);
                }
            }
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "policy `flag` on {} {name}: {reached} handed to rustrict ({:.1}%); median {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
            texts.len(),
            100.0 * reached as f64 / texts.len().max(1) as f64,
            at(0.5),
            at(0.9),
            at(0.99),
            at(1.0),
        );
    }
}
