//! The shipped model against its corpus: it is what the training command writes, and it
//! scores at least what was recorded on validation and on every fresh set (the
//! figures in `safety/corpus/HISTORY.md`), so a later change cannot quietly lower them.

use std::path::PathBuf;

use kindred_protocol::CrisisCategory;

use super::corpus::{Example, load};
use super::model::{Model, digest};
use super::report::Score;
use super::train::{split, train};
use super::*;

/// The corpus's files as the training command reads them: `(name, contents)`.
fn corpus_files() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/safety/corpus");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the corpus")
        .chain(std::fs::read_dir(dir.join("fresh")).expect("the fresh sets"))
        .map(|e| e.expect("a corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt" || e == "tsv"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            (
                name.to_owned(),
                std::fs::read_to_string(&p).expect("readable"),
            )
        })
        .collect()
}

fn detector() -> Detector {
    Detector::default()
}

#[test]
fn the_shipped_model_is_what_the_training_command_writes() {
    let files = corpus_files();
    let corpus = digest(files.iter().map(|(n, t)| (n.as_str(), t.as_str())));
    let shipped = Model::from_bytes(SHIPPED).expect("model.bin reads");
    assert_eq!(
        shipped.corpus, corpus,
        "the corpus changed since model.bin was trained: run \
         `cargo run --release -p kindred-server --bin kindred-crisis-model -- train`"
    );
    let examples = load(&files).expect("the corpus reads");
    let trained = train(&split(examples), corpus);
    assert!(
        trained.to_bytes() == SHIPPED,
        "model.bin is not what the training command writes from this corpus"
    );
}

/// The figures of the shipped model on a set, against the recorded ones: at least as
/// many alerted and in the crisis tier, at most as many false alarms.
fn at_least(set: &[Example], alerted: usize, crisis: usize, false_alarms: usize, what: &str) {
    let d = detector();
    let score = Score::of(set, |t| d.detect(t));
    assert!(
        score.alerted >= alerted && score.crisis >= crisis && score.false_alarms <= false_alarms,
        "{what}: {score}\nrecorded: alerted {alerted}, crisis {crisis}, false alarms {false_alarms}"
    );
}

#[test]
fn the_shipped_model_scores_at_least_the_recorded_figures() {
    let files = corpus_files();
    let examples = load(&files).expect("the corpus reads");
    let validation = split(examples).validation;
    assert_eq!(validation.len(), 4763, "the validation split moved");
    let what = "validation (3,198 must alert, 1,565 calm)";
    at_least(&validation, 2720, 2298, 66, what);
    for (name, alerted, crisis, false_alarms) in [
        ("set-1.tsv", 43, 42, 2),
        ("set-2.tsv", 48, 45, 1),
        ("set-3.tsv", 49, 47, 2),
        ("set-4.tsv", 48, 44, 2),
        ("set-5.tsv", 54, 54, 1),
        ("set-6.tsv", 55, 53, 0),
        ("set-7.tsv", 54, 53, 1),
        ("set-8.tsv", 55, 52, 1),
        ("set-9.tsv", 55, 53, 2),
        ("set-10.tsv", 52, 50, 1),
        ("set-11.tsv", 54, 54, 0),
        ("set-12.tsv", 54, 50, 1),
        ("set-13.tsv", 55, 49, 1),
        ("set-14.tsv", 53, 49, 4),
        ("set-15.tsv", 53, 51, 0),
        ("set-16.tsv", 53, 50, 1),
        ("set-17.tsv", 51, 47, 0),
        ("set-18.tsv", 55, 51, 1),
        ("set-19.tsv", 54, 48, 0),
        ("set-20.tsv", 50, 46, 0),
        ("set-21.tsv", 54, 48, 1),
        ("set-22.tsv", 52, 48, 1),
    ] {
        let (_, text) = files.iter().find(|(n, _)| n == name).expect("a fresh set");
        let set = corpus::read_fresh(text).expect("the set reads");
        at_least(&set, alerted, crisis, false_alarms, name);
    }
}

#[test]
fn a_rule_is_a_crisis_and_the_model_reaches_what_no_rule_names() {
    let d = detector();
    let rule = d.detect("I want to kill myself").expect("a rule");
    assert_eq!(
        (rule.tier, rule.category, rule.basis),
        (Tier::Crisis, CrisisCategory::SuicidalIdeation, Basis::Rule)
    );
    // Where the person is right now: no phrase names it, the model does.
    let roof = d
        .detect("sitting on the roof of the car park rn")
        .expect("the model");
    assert_eq!(roof.tier, Tier::Crisis);
    assert_eq!(roof.category, CrisisCategory::ImmediateDanger);
    assert!(matches!(roof.basis, Basis::Model { likelihood } if likelihood >= 90));
    // Leaning that way without being sure: a check-in. (The examples here are the
    // shipped model's: a retrained model may place them elsewhere, and then they are
    // chosen again with `kindred-crisis-model classify`.)
    let wonder = d
        .detect("some days i wonder whats the point of any of it")
        .expect("a check-in");
    assert_eq!(wonder.tier, Tier::CheckIn);
    assert!(matches!(wonder.basis, Basis::Model { .. }));
    // A phrase's match in the author's own words, now, is a crisis whatever the model
    // thinks, even of words it takes for a story told in the past.
    let year = d.detect("i want to die 201").expect("the phrase");
    assert_eq!((year.tier, year.basis), (Tier::Crisis, Basis::Rule));
    // The same phrases told as the past, as someone else's, or denied in answer to a
    // facilitator's question are the model's to judge, and it finds them calm.
    for told in [
        "eleven years ago i tried to end my life in the garage. painted it yellow this weekend, it's my pottery studio now",
        "my partner's been self harming again, she told me herself and we're going to her therapist together",
        "no, no thoughts of hurting myself this week",
    ] {
        assert!(d.rules.detect(told).is_some(), "a phrase matches: {told}");
        assert_eq!(d.detect(told), None, "{told}");
    }
    // Ordinary talk is nothing.
    for calm in [
        "made pasta for dinner, first proper meal in days",
        "this commute is killing me lol",
        "two years clean today and honestly proud of myself",
    ] {
        assert_eq!(d.detect(calm), None, "{calm}");
    }
}

#[test]
fn a_damaged_model_file_is_refused() {
    assert!(Model::from_bytes(b"KCM1").is_err());
    assert!(Model::from_bytes(&SHIPPED[..SHIPPED.len() - 2]).is_err());
    let mut other = SHIPPED.to_vec();
    other[0] = b'X';
    assert!(Model::from_bytes(&other).is_err());
    assert_eq!(
        Model::from_bytes(SHIPPED).expect("reads").to_bytes(),
        SHIPPED,
        "written back byte for byte"
    );
}
