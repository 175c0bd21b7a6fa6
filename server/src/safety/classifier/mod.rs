//! Crisis detection that reaches the words nobody wrote down: a learned classifier
//! beside the phrase rules ([`super::crisis`]).
//!
//! The rules are precise and explain themselves; on sentences nobody here has seen
//! they miss most of what people write. The classifier is trained on a corpus written
//! for the purpose (`safety/corpus/`, thousands of messages in many voices, and as many
//! hard negatives), over word and character n-grams, and shipped as a small weights
//! file (`model.bin`) that `kindred-crisis-model train` writes from the corpus with a
//! fixed seed; a test checks the shipped file is what the command produces.
//!
//! [`Detector`] asks both: a rule's match in the author's own words, now, or the
//! model's concern at or above its crisis threshold, is a **crisis** (the card to the
//! author, the alert to the facilitators, as always); a concern between the two
//! thresholds is a **check-in** (an alert ranked below crisis, "may need a check-in",
//! and no card). A rule's match that [`framing`] finds distanced (a story told as the
//! past, someone else's, a thought that came and went, denied in answer to a question,
//! said to be a joke, a figure of speech, or a topic asked about or taught) is the
//! model's to judge, like any other message: on every
//! fresh set, most calm messages that alerted were such matches. A match the framing does not distance stays a
//! crisis whatever the model thinks: the model was tried as a doubter of every rule,
//! and took "i want to die 201" for calm (a number like a year reads as a story told
//! in the past). Either way the message is delivered as written: the tier changes who
//! is told, never the words.
//!
//! Nothing of the text leaves this module but the verdict; nothing is logged.

pub mod corpus;
pub mod features;
pub mod framing;
pub mod model;
pub mod report;
#[cfg(test)]
mod tests;
pub mod train;

use std::sync::LazyLock;

use kindred_protocol::CrisisCategory;

use self::model::{Model, Scores};
use super::crisis::CrisisMatcher;

/// The model Kindred ships, trained from `safety/corpus/`.
const SHIPPED: &[u8] = include_bytes!("model.bin");

/// The shipped model, read once per process.
pub fn shipped() -> &'static Model {
    static MODEL: LazyLock<Model> = LazyLock::new(|| {
        // The file is part of the source tree and a test reads it: a failure here is a
        // build mistake, not bad input.
        Model::from_bytes(SHIPPED).expect("model.bin is a Kindred crisis model")
    });
    &MODEL
}

/// How urgently the facilitators are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// They may want to check in with the member: an alert, no card.
    CheckIn,
    /// Someone may be at risk: the card to the author, the alert to the facilitators.
    Crisis,
}

/// Why a message was taken for what it is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Basis {
    /// A phrase rule matched.
    Rule,
    /// The classifier's concern, as a percentage (how sure it is that this is of
    /// concern at all).
    Model { likelihood: u8 },
}

/// What the detector found in a message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Detection {
    pub tier: Tier,
    pub category: CrisisCategory,
    pub basis: Basis,
}

/// The rules and the model together. Cheap to share; build one at start-up.
#[derive(Clone, Debug)]
pub struct Detector {
    rules: CrisisMatcher,
    model: &'static Model,
}

impl Detector {
    /// The shipped model beside these rules (the builtin phrases and an operator's).
    pub fn new(rules: CrisisMatcher) -> Self {
        Self {
            rules,
            model: shipped(),
        }
    }

    /// What the text says of its author's safety, if anything.
    pub fn detect(&self, text: &str) -> Option<Detection> {
        if let Some(category) = self.rules.detect(text)
            && !framing::distanced(&self.rules, text)
        {
            return Some(Detection {
                tier: Tier::Crisis,
                category,
                basis: Basis::Rule,
            });
        }
        let scores = self.scores(text);
        let concern = scores.concern();
        let t = self.model.thresholds;
        let tier = if concern >= t.crisis {
            Tier::Crisis
        } else if concern >= t.check_in {
            Tier::CheckIn
        } else {
            return None;
        };
        Some(Detection {
            tier,
            category: scores.category(),
            basis: Basis::Model {
                likelihood: (concern * 100.0).round().clamp(0.0, 100.0) as u8,
            },
        })
    }

    /// The model's scores for a text (for the benchmark and the reports).
    pub fn scores(&self, text: &str) -> Scores {
        self.model.scores(&features::pieces(text))
    }

    /// The category of a crisis, the rules' or the model's (the crisis tier only).
    pub fn crisis(&self, text: &str) -> Option<CrisisCategory> {
        self.detect(text)
            .filter(|d| d.tier == Tier::Crisis)
            .map(|d| d.category)
    }
}

impl Default for Detector {
    fn default() -> Self {
        Self::new(CrisisMatcher::builtin())
    }
}
