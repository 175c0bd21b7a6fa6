//! The guardrail: what peer-support groups ask members not to share, because reading
//! it harms others in the room — the means or method of suicide or self-harm with the
//! detail that makes it usable (a quantity, a place's particulars, an instruction),
//! graphic detail of self-harm or trauma, and a substance with a dose meant to harm.
//!
//! Built as crisis detection is: precise rules ([`rules`]) beside a classifier trained
//! on a corpus written for the purpose (`guard/corpus/`, its history in
//! `guard/corpus/HISTORY.md`), shipped as `guard.bin`, which `kindred-guard-model
//! train` writes. [`Guard::detect`] asks the rules, then the model. Neither is crisis
//! detection's replacement: a feeling, a wish to die, crisis words alone are not the
//! guardrail's (the crisis card and the facilitators' alert answer those, whatever the
//! guardrail decides); nor is a recovery told without detail, nor a medication in
//! ordinary use ("my sertraline went up to 100mg": a dose in treatment).
//!
//! What the room does with what is found is its policy's `guard` (off, ask, hold);
//! the session asks here outside any lock. Nothing of the text leaves this module but
//! the category; nothing is logged.

mod cues;
pub mod model;
pub mod rules;
#[cfg(test)]
mod tests;
pub mod train;

use std::sync::LazyLock;

use kindred_protocol::GuardCategory;

use self::model::GuardModel;
use crate::safety::classifier::corpus::Example;

/// The model Kindred ships, trained from `safety/guard/corpus/`.
const SHIPPED: &[u8] = include_bytes!("guard.bin");

/// The shipped model, read once per process.
pub fn shipped() -> &'static GuardModel {
    static MODEL: LazyLock<GuardModel> = LazyLock::new(|| {
        // The file is part of the source tree and a test reads it: a failure here is
        // a build mistake, not bad input.
        GuardModel::from_bytes(SHIPPED).expect("guard.bin is a Kindred guardrail model")
    });
    &MODEL
}

/// The rules and the model together. Cheap to copy; build one at start-up.
#[derive(Clone, Copy, Debug)]
pub struct Guard {
    model: &'static GuardModel,
}

impl Default for Guard {
    fn default() -> Self {
        Self { model: shipped() }
    }
}

impl Guard {
    /// With another model (the training command's, before it is shipped).
    pub fn with(model: &'static GuardModel) -> Self {
        Self { model }
    }

    /// What the guardrail finds in a text, if anything.
    pub fn detect(&self, text: &str) -> Option<GuardCategory> {
        rules::detect(text).or_else(|| self.model.find(text))
    }
}

/// How a detector does on a set: must-catch messages caught, must-not-catch messages
/// caught.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GuardScore {
    pub must_catch: usize,
    pub caught: usize,
    pub must_pass: usize,
    pub wrongly_caught: usize,
}

impl GuardScore {
    pub fn of(examples: &[Example], detect: impl Fn(&str) -> Option<GuardCategory>) -> Self {
        let mut s = Self::default();
        for e in examples {
            let found = detect(&e.text).is_some();
            if e.class == 0 {
                s.must_pass += 1;
                s.wrongly_caught += usize::from(found);
            } else {
                s.must_catch += 1;
                s.caught += usize::from(found);
            }
        }
        s
    }

    /// The share of must-catch messages caught.
    pub fn recall(&self) -> f64 {
        self.caught as f64 / self.must_catch.max(1) as f64
    }

    /// The share of must-not-catch messages caught.
    pub fn false_alarm_rate(&self) -> f64 {
        self.wrongly_caught as f64 / self.must_pass.max(1) as f64
    }
}

impl std::fmt::Display for GuardScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "caught {}/{} must-catch ({:.1}%), caught {}/{} must-not-catch ({:.1}%)",
            self.caught,
            self.must_catch,
            100.0 * self.recall(),
            self.wrongly_caught,
            self.must_pass,
            100.0 * self.false_alarm_rate()
        )
    }
}
