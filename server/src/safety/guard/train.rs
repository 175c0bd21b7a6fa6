//! Training the guardrail's model: the corpus in, a model out, the same bytes every
//! time. The crisis classifier's pieces, split and typing forms are reused
//! ([`classifier::train`](crate::safety::classifier::train)), and its training
//! ([`Linear::fit`]) over four classes.
//!
//! The threshold is chosen on the validation split: where at most
//! [`FALSE_ALARMS`] of the messages that describe nothing to ask about would reach it.

use kindred_protocol::GuardCategory;

use super::model::{CLASSES, DIM, GuardModel, pieces};
use crate::safety::classifier::corpus::Example;
use crate::safety::classifier::train::{Split, examples};
use crate::safety::linear::{Linear, Schedule};

/// The share of validation's ordinary messages allowed to reach the threshold.
pub const FALSE_ALARMS: f32 = 0.01;
const SCHEDULE: Schedule = Schedule {
    epochs: 10,
    learning_rate: 0.5,
    weight_decay: 1e-5,
    seed: 0x0067_7561_7264_7261,
};

/// What a corpus file name (without `.txt`) or a fresh set's kind column says its
/// messages are: a category, or `not_…` / `calm` for nothing to ask about.
pub fn class_of(kind: &str) -> Option<usize> {
    let category = match kind {
        "method" => GuardCategory::Method,
        "graphic" => GuardCategory::Graphic,
        "dose" => GuardCategory::Dose,
        k if k.starts_with("not_") || k == "calm" => return Some(0),
        _ => return None,
    };
    CLASSES.iter().position(|c| *c == Some(category))
}

/// The corpus's messages from its files, each `(name, contents)`: `kind.txt` files one
/// message a line (`#` comments), `*.tsv` fresh sets ([`read_fresh`]).
pub fn load(files: &[(String, String)]) -> Result<Vec<Example>, String> {
    let mut out = Vec::new();
    for (name, text) in files {
        if let Some(stem) = name.strip_suffix(".txt") {
            let kind = stem.split('.').next().unwrap_or(stem);
            let class = class_of(kind).ok_or_else(|| format!("{name}: unknown kind"))?;
            out.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(|l| Example {
                        text: l.to_owned(),
                        class,
                        kind: kind.to_owned(),
                    }),
            );
        } else {
            out.extend(read_fresh(text).map_err(|e| format!("{name}: {e}"))?);
        }
    }
    Ok(out)
}

/// The corpus's files under `dir` and `dir/fresh`, as `(file name, contents)` in
/// name order (the training command and the tests read them; the server never does:
/// it ships the trained model).
pub fn read_corpus(dir: &std::path::Path) -> std::io::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("fresh")] {
        let entries = match std::fs::read_dir(&sub) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for e in entries {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".txt") || name.ends_with(".tsv") {
                files.push((name, std::fs::read_to_string(e.path())?));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A fresh set, written by someone who has seen none of the guardrail: a line is
/// `LABEL<TAB>TEXT`, the label `method`, `graphic` or `dose` (must catch) or `calm`
/// (must not catch); blank lines skipped.
pub fn read_fresh(text: &str) -> Result<Vec<Example>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let Some((label, text)) = line.split_once('\t') else {
            return Err(format!("line {}: expected a label and a text", i + 1));
        };
        let class =
            class_of(label).ok_or_else(|| format!("line {}: unknown label {label}", i + 1))?;
        out.push(Example {
            text: text.trim().to_owned(),
            class,
            kind: label.to_owned(),
        });
    }
    Ok(out)
}

/// Train on `train`, choose the threshold on `validation`.
pub fn train(split: &Split, corpus: [u8; 32]) -> GuardModel {
    // Ordinary messages weigh as much as the categories together (`Linear::fit`).
    let examples = examples(&split.train, pieces);
    let model = GuardModel {
        linear: Linear::fit(DIM, &examples, &SCHEDULE),
        ..GuardModel::empty(corpus)
    };
    let mut model = model.quantized();
    let mut calm: Vec<f32> = split
        .validation
        .iter()
        .filter(|e| e.class == 0)
        .map(|e| 1.0 - model.scores(&pieces(&e.text))[0])
        .collect();
    calm.sort_by(f32::total_cmp);
    let allowed = (calm.len() as f32 * FALSE_ALARMS).floor() as usize;
    let at = calm.len().saturating_sub(allowed + 1);
    model.threshold = calm
        .get(at)
        .map_or(0.5, |v| f32::from_bits(v.to_bits() + 1))
        .max(0.5);
    model
}
