//! The guardrail's tables, by category: what it must catch and what it must leave
//! alone, in words written for these tests (not the corpus's), and the shipped model
//! file checked against its corpus.

use kindred_protocol::GuardCategory::{self, Dose, Graphic, Method};

use super::model::GuardModel;
use super::train::{load, read_corpus, train};
use super::{Guard, rules};
use crate::safety::classifier::model::digest;
use crate::safety::classifier::train::split;

fn found(text: &str) -> Option<GuardCategory> {
    Guard::default().detect(text)
}

/// Each must be caught, under its category.
const MUST_CATCH: &[(GuardCategory, &str)] = &[
    // A means with a quantity: gathered or to be taken to harm.
    (Dose, "I've saved up 40 of my sertraline"),
    (
        Dose,
        "got about 60 co-codamol hidden in a sock, been saving them since march",
    ),
    (
        Dose,
        "planning to take the whole box of my sleeping tablets at once",
    ),
    (Dose, "how many of my lithium tablets would be lethal"),
    (Dose, "took 30 paracetamol with a bottle of vodka on friday"),
    // A place and its particulars.
    (Method, "the bridge on Kelso road has no fence"),
    (
        Method,
        "the top floor of the car park on Bank street has a low wall and no cameras, I could jump",
    ),
    (
        Method,
        "I know when the fast train goes past the level crossing, it doesn't stop",
    ),
    // An instruction asked or given.
    (Method, "what's the most painless way to kill myself"),
    (Method, "how do i tie a noose properly"),
    (
        Method,
        "the knot held when I tied the cord to the loft hatch",
    ),
    (
        Method,
        "you need a razor blade out of a sharpener and go along the vein",
    ),
    (
        Method,
        "I've put tape round the garage door for the car exhaust",
    ),
    (
        Method,
        "my brother's gun is loaded and the cabinet key is in the kitchen",
    ),
    // Graphic self-harm or trauma.
    (
        Graphic,
        "the blood soaked right through the towel and dripped onto the floor",
    ),
    (Graphic, "I cut so deep I saw fat and it needed stitches"),
    (
        Graphic,
        "I burned myself with the lighter until it blistered",
    ),
    (
        Graphic,
        "he had his hands around my neck until I passed out",
    ),
    (
        Graphic,
        "he pinned me down and ripped my clothes, I can still feel his weight",
    ),
];

/// None may be caught.
const MUST_NOT_CATCH: &[(&str, &str)] = &[
    // A recovery told without detail.
    ("recovery", "two years ago I tried, I'm glad I'm here"),
    (
        "recovery",
        "it's been 3 years since my attempt and today I got a new job",
    ),
    (
        "recovery",
        "I gave my pills to my brother to hold onto this week, it helps",
    ),
    (
        "recovery",
        "my safety plan worked last night, I called the line instead",
    ),
    // Medication in ordinary use: a dose in treatment is not a method.
    (
        "treatment",
        "my sertraline dose went up to 100mg and I feel flat",
    ),
    (
        "treatment",
        "I take 2 tablets of quetiapine at night and they knock me out",
    ),
    (
        "treatment",
        "the psychiatrist says we'll try 20mg of fluoxetine and review in a month",
    ),
    (
        "treatment",
        "missed a dose of my venlafaxine and the brain zaps are awful",
    ),
    (
        "treatment",
        "how long did citalopram take to work for you all?",
    ),
    // Feelings, and crisis words alone: crisis detection's, not the guardrail's.
    ("feelings", "I feel so empty and tired of everything"),
    ("crisis", "I want to kill myself"),
    ("crisis", "I've been thinking about ending it all"),
    ("crisis", "I hurt myself again last night"),
    (
        "crisis",
        "I was raped when I was 16 and I've never told anyone",
    ),
    // Everyday words the rules look at.
    (
        "everyday",
        "walked over the bridge to the market, lovely morning",
    ),
    (
        "everyday",
        "I cut my thumb on a tin can, just a plaster needed",
    ),
    ("everyday", "had a blood test today and they took 4 tubes"),
    (
        "everyday",
        "I've saved up 30 pounds for my sister's birthday",
    ),
    (
        "everyday",
        "I drank a whole bottle of wine at the wedding and regretted it",
    ),
    (
        "everyday",
        "my building has 15 floors and the lift is broken again",
    ),
    (
        "everyday",
        "what's the best way to ask my GP for a referral?",
    ),
    ("everyday", "I'm so burned out from work"),
    ("everyday", "his words cut deep but I'm ok"),
];

#[test]
fn means_method_graphic_detail_and_doses_are_caught_under_their_category() {
    for (category, text) in MUST_CATCH {
        assert_eq!(found(text), Some(*category), "must catch: {text}");
    }
}

#[test]
fn recovery_treatment_feelings_crisis_words_and_everyday_talk_pass() {
    for (kind, text) in MUST_NOT_CATCH {
        assert_eq!(found(text), None, "must not catch ({kind}): {text}");
    }
}

#[test]
fn a_detail_in_another_sentence_does_not_make_a_method() {
    // The rules read one sentence at a time.
    assert_eq!(
        rules::detect("I walked over the bridge today. There was a fence repair crew and I waved."),
        None
    );
    assert_eq!(
        rules::detect("I walked to the bridge on Kelso road, it has no fence and I want to jump"),
        Some(Method)
    );
}

#[test]
fn a_treatment_word_does_not_excuse_a_word_of_harm() {
    assert_eq!(
        rules::detect("my doctor prescribed the pills but I've saved 40 to take at once"),
        Some(Dose)
    );
    assert_eq!(rules::detect("my doctor increased my dose to 40mg"), None);
}

#[test]
fn a_long_text_costs_a_bounded_read() {
    let long = "the bridge ".repeat(10_000);
    assert_eq!(found(&long), None);
}

#[test]
fn the_shipped_model_is_what_its_corpus_trains() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/safety/guard/corpus");
    let files = read_corpus(&dir).expect("the corpus reads");
    let digest = digest(files.iter().map(|(n, t)| (n.as_str(), t.as_str())));
    let examples = load(&files).expect("the corpus reads");
    let model = train(&split(examples), digest);
    let shipped = GuardModel::from_bytes(include_bytes!("guard.bin")).expect("guard.bin reads");
    assert_eq!(
        shipped.corpus, digest,
        "guard.bin is from another corpus: run `kindred-guard-model train`"
    );
    assert!(
        model.to_bytes() == shipped.to_bytes(),
        "guard.bin differs from what its corpus trains"
    );
}
