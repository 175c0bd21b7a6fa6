//! Training: the corpus in, a model out, the same bytes every time.
//!
//! Multinomial logistic regression over the hashed pieces ([`super::features`]),
//! trained by stochastic gradient descent with a fixed seed. The linear-model crates
//! of the ecosystem (linfa, smartcore) take dense matrices; a message touches a few
//! hundred of 131,072 buckets, so the dense form of this corpus would not fit in a
//! test's memory, and the sparse loop below is the whole of what is needed.
//!
//! The corpus is split once, by a hash of each message, into training (85%) and
//! validation (15%). Training messages are also learned in four other forms people
//! type them in (lower case without apostrophes, with a typo, after a line of ordinary
//! news, before one), so that a buried clause or a slip of the thumb is not new; the
//! validation messages are scored as written. The thresholds are chosen on validation:
//! `check_in` where at most [`CHECK_IN_FALSE_ALARMS`] of calm messages would reach it,
//! `crisis` where at most [`CRISIS_FALSE_ALARMS`] would.

use super::corpus::Example;
use super::features::{DIM, Features, pieces};
use super::model::{Model, Thresholds};
pub use crate::safety::linear::SplitMix;
use crate::safety::linear::{Linear, Schedule};

/// The share of validation's calm messages allowed to reach the check-in tier.
pub const CHECK_IN_FALSE_ALARMS: f32 = 0.03;
/// The share allowed to reach the crisis tier.
pub const CRISIS_FALSE_ALARMS: f32 = 0.01;
/// Passes over the training set.
const SCHEDULE: Schedule = Schedule {
    epochs: 12,
    learning_rate: 0.6,
    weight_decay: 1e-5,
    seed: 0x006b_696e_6472_6564,
};

/// The corpus split in two.
pub struct Split {
    pub train: Vec<Example>,
    pub validation: Vec<Example>,
}

/// Split by a hash of each message: the same message is always on the same side.
pub fn split(examples: Vec<Example>) -> Split {
    let (validation, train) = examples
        .into_iter()
        .partition(|e| fnv(e.text.as_bytes()) % 100 < 15);
    Split { train, validation }
}

/// Train on `train`, choose the thresholds on `validation`, for a corpus whose digest
/// is `corpus`. The model is quantized as its file holds it before the thresholds are
/// chosen, so the figures measured are the shipped model's.
pub fn train(split: &Split, corpus: [u8; 32]) -> Model {
    // Calm messages weigh as much as all the kinds of crisis together, and the kinds
    // of crisis alike, however many messages each has: most of what a room says is
    // calm, and no kind of crisis may drown another (`Linear::fit`).
    let examples = examples(&split.train, pieces);
    let no_thresholds = Thresholds {
        crisis: 1.0,
        check_in: 1.0,
    };
    let model = Model::trained(
        corpus,
        no_thresholds,
        Linear::fit(DIM, &examples, &SCHEDULE),
    );
    let mut model = model.quantized();
    model.thresholds = choose_thresholds(&model, &split.validation);
    model
}

/// The thresholds that keep validation's calm messages under the allowed shares.
fn choose_thresholds(model: &Model, validation: &[Example]) -> Thresholds {
    let mut calm: Vec<f32> = validation
        .iter()
        .filter(|e| e.class == 0)
        .map(|e| model.scores(&pieces(&e.text)).concern())
        .collect();
    calm.sort_by(f32::total_cmp);
    // The smallest threshold above all but `share` of the calm messages.
    let above = |share: f32, floor: f32| {
        let allowed = (calm.len() as f32 * share).floor() as usize;
        let at = calm.len().saturating_sub(allowed + 1);
        calm.get(at).map_or(floor, |v| next_up(*v)).max(floor)
    };
    let check_in = above(CHECK_IN_FALSE_ALARMS, 0.2);
    let crisis = above(CRISIS_FALSE_ALARMS, 0.5).max(check_in);
    Thresholds { crisis, check_in }
}

/// The smallest f32 above `v` (so a calm message scoring exactly `v` stays below).
fn next_up(v: f32) -> f32 {
    f32::from_bits(v.to_bits() + 1)
}

/// The training examples of these messages: each in its typing forms ([`forms`]), as
/// `pieces` cuts them, with its class.
pub fn examples(messages: &[Example], pieces: fn(&str) -> Features) -> Vec<(Features, usize)> {
    messages
        .iter()
        .flat_map(|e| {
            forms(&e.text)
                .into_iter()
                .map(move |t| (pieces(&t), e.class))
        })
        .collect()
}

/// The forms a training message is learned in.
pub fn forms(text: &str) -> Vec<String> {
    let mut rng = SplitMix(fnv(text.as_bytes()));
    let plain: String = text
        .chars()
        .filter(|c| !matches!(c, '\'' | '\u{2019}'))
        .flat_map(char::to_lowercase)
        .collect();
    let plain = plain.trim_end_matches(['.', '!', '?', ' ']).to_owned();
    vec![
        text.to_owned(),
        plain.clone(),
        typo(&plain, &mut rng),
        format!("{} {}", NEWS[rng.below(NEWS.len())], text),
        format!("{} {}", plain, AFTER[rng.below(AFTER.len())]),
    ]
}

/// One slip of the thumb in a longer word: two letters swapped, or one dropped.
fn typo(text: &str, rng: &mut SplitMix) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let long: Vec<usize> = (0..words.len())
        .filter(|&i| words[i].chars().count() >= 4 && words[i].chars().all(char::is_alphabetic))
        .collect();
    if long.is_empty() {
        return text.to_owned();
    }
    let at = long[rng.below(long.len())];
    let mut chars: Vec<char> = words[at].chars().collect();
    let i = 1 + rng.below(chars.len() - 2);
    if rng.below(2) == 0 {
        chars.swap(i, i + 1);
    } else {
        chars.remove(i);
    }
    let changed: String = chars.into_iter().collect();
    words
        .iter()
        .enumerate()
        .map(|(j, w)| if j == at { changed.as_str() } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ordinary news a message may start with (calm and crisis messages alike, so it
/// says nothing either way).
const NEWS: &[&str] = &[
    "long day at work today.",
    "kids are finally asleep.",
    "so the bus was late again, anyway",
    "hi all, sorry i missed last week.",
    "weather has been grim here all week.",
    "had my gp appointment this morning.",
    "football was rubbish tonight lol.",
    "just got back from my mums.",
    "made pasta for dinner, first proper meal in days.",
    "work was ok i guess.",
    "evening everyone.",
    "ngl today was a lot.",
    "quick update from me:",
    "my cat knocked my tea over this morning haha.",
    "been a weird week tbh.",
    "hey guys, first time posting in a while.",
    "finished my shift at 6.",
    "it's been raining non stop.",
    "went for a walk like my therapist said.",
    "so exams start monday.",
];

/// What a message may end with.
const AFTER: &[&str] = &[
    "anyway how was everyones week",
    "sorry for rambling",
    "idk",
    "thats all really",
    "thanks for listening",
    "sorry this is long",
    "just needed to say it somewhere",
    "anyway",
    "x",
    "lol",
];

/// FNV-1a: a split and a seed that stay the same on every machine.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
