//! The corpus the model learns from: `safety/corpus/`, written for Kindred in many
//! voices (its files' headers say by whom and what each holds), one message a line.
//!
//! A file's name says what its messages are: a kind of crisis (`ideation.txt`,
//! `overdose.txt`, …) or a hard negative (`not_figures.txt`: figures of speech,
//! `not_others.txt`: other people's stories, …); `ideation.2.txt` holds more of the
//! same kind, written in a later round. `fresh/*.tsv` are the sets written by
//! someone who had read neither the rules nor the corpus, scored before any tuning
//! (their scores are in `HISTORY.md`), and added to what the model learns from after.

use kindred_protocol::CrisisCategory;

/// One message of the corpus and what it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub text: String,
    /// The index into [`CLASSES`](super::model::CLASSES).
    pub class: usize,
    /// The finer kind it was written as (`wish_dead`, `not_figures`, …), for reports.
    pub kind: String,
}

/// What a corpus file name (without `.txt`), or a fresh set's category column, says
/// its messages are.
pub fn class_of(kind: &str) -> Option<usize> {
    let category = match kind {
        "wish_dead" | "ideation" | "method" | "intent_plan" | "preparation" | "goodbye"
        | "burden" => CrisisCategory::SuicidalIdeation,
        "self_harm" => CrisisCategory::SelfHarm,
        "overdose" => CrisisCategory::Overdose,
        "imminent_danger" => CrisisCategory::ImmediateDanger,
        "abuse" => CrisisCategory::AbuseDisclosure,
        k if k.starts_with("not_") || k == "calm" => return Some(0),
        _ => return None,
    };
    super::model::CLASSES
        .iter()
        .position(|c| *c == Some(category))
}

/// A corpus file's messages: one a line, `#` comments and blank lines skipped.
pub fn read_lines(kind: &str, text: &str) -> Result<Vec<Example>, String> {
    let class = class_of(kind).ok_or_else(|| format!("{kind}: not a kind the corpus knows"))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| Example {
            text: l.to_owned(),
            class,
            kind: kind.to_owned(),
        })
        .collect())
}

/// A fresh set: `alert<TAB>kind<TAB>text` or `calm<TAB>calm<TAB>text` a line.
pub fn read_fresh(text: &str) -> Result<Vec<Example>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.splitn(3, '\t');
        let (Some(label), Some(kind), Some(text)) = (cols.next(), cols.next(), cols.next()) else {
            return Err(format!("line {}: expected label, kind and text", i + 1));
        };
        let class = class_of(kind).ok_or_else(|| format!("line {}: unknown kind {kind}", i + 1))?;
        if (label == "calm") != (class == 0) || !matches!(label, "calm" | "alert") {
            return Err(format!(
                "line {}: label {label} and kind {kind} disagree",
                i + 1
            ));
        }
        out.push(Example {
            text: text.to_owned(),
            class,
            kind: kind.to_owned(),
        });
    }
    Ok(out)
}

/// The corpus's messages from its files, each `(name, contents)`: `kind.txt` files one
/// message a line, `*.tsv` fresh sets. (The training command and the tests read the
/// files; the server never does: it ships the trained model.)
pub fn load(files: &[(String, String)]) -> Result<Vec<Example>, String> {
    let mut examples = Vec::new();
    for (name, text) in files {
        // `ideation.txt`, and more of the same kind in `ideation.2.txt`.
        let found = match name.strip_suffix(".txt") {
            Some(stem) => read_lines(stem.split('.').next().unwrap_or(stem), text),
            None => read_fresh(text),
        };
        examples.extend(found.map_err(|e| format!("{name}: {e}"))?);
    }
    Ok(examples)
}
