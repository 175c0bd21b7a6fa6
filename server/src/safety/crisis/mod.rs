//! The crisis matcher: notices when someone in a room may be at risk, so that the
//! author can be offered a resources card and the facilitators can be alerted.
//!
//! It is deliberately separate from the profanity filter ([`super::policy`]): crisis
//! language is never censored, blocked or delayed, it is *answered*. A miss leaves a
//! person alone with it; a false alarm sends a helpline card to someone who was talking
//! about traffic. So detection is a curated list of phrases in a data file
//! (`crisis_phrases.txt`, which documents its own format) that an operator can extend,
//! and both kinds of mistake are pinned by the case tables in this module's tests.
//!
//! # How a message is read
//! It runs on every message, so the work is one pass that turns the text into a vector of
//! interned token ids, then a lookup of the patterns that can start at each token:
//! - case, punctuation and spacing are dropped; apostrophes join (`don't` → `dont`);
//!   `k.i.l.l` and `s u i c i d e` are rejoined (three or more one-letter tokens in a row);
//! - leetspeak inside words is undone (`k1ll`, `su1c1de`, `$uicide`, `h@te`);
//! - runs of a repeated letter collapse to one (`diiiie` → `die`, and `kill` → `kil`, so
//!   `kil myself` matches too: patterns are normalised the same way);
//! - aliases map common misspellings and contractions (`sucide` → `suicide`,
//!   `im` → `i am`, `kms` → `kill myself`);
//! - a few long keywords also accept any single typo (`[fuzzy]`: `suicdal`, `overdsoe`);
//! - a number of ten or more is one token, `<n>` in a pattern ("took 30 pills", and
//!   "twenty" through an alias), so that a count does not need a rule per number.
//!
//! Patterns are sequences of words, alternatives and short gaps; `[except]` patterns
//! (idioms such as "killing myself laughing") cancel any match that overlaps them.
//!
//! # Where things are
//! - `data`: the file format, read into a `Source` (patterns as written), and its errors;
//! - `normalize`: the one pass that turns text (a message or a pattern) into words, and
//!   what number counts as many;
//! - `compile`: the source compiled into token ids, and a message into tokens;
//! - `matcher`: the rules run over a message's tokens;
//! - `tests`: the case tables (what must alert, what must not) and the format's tests.

use std::sync::LazyLock;

use kindred_protocol::CrisisCategory;

mod compile;
mod data;
mod matcher;
mod normalize;
#[cfg(test)]
mod tests;

use compile::Compiled;
use data::Source;
pub use data::{CrisisDataError, MIN_FUZZY_LEN};
pub use normalize::MANY_FROM;

/// The phrases Kindred ships with. Operators add to them with [`CrisisMatcher::parse`] and
/// [`CrisisMatcher::extend`]; they cannot remove them.
const BUILTIN_PHRASES: &str = include_str!("../crisis_phrases.txt");

/// How many arbitrary tokens a `*` in a pattern may stand for. Small on purpose: a gap
/// that can swallow half a sentence turns "he said the ball hit me" into a disclosure.
pub const MAX_GAP: usize = 3;

/// How urgent a category is, so that one message with several matches reports the one a
/// facilitator must act on first. Someone in danger right now, or who has already taken
/// an overdose, needs help before someone disclosing past abuse.
pub fn severity(category: CrisisCategory) -> u8 {
    match category {
        CrisisCategory::ImmediateDanger => 5,
        CrisisCategory::Overdose => 4,
        CrisisCategory::SuicidalIdeation => 3,
        CrisisCategory::SelfHarm => 2,
        CrisisCategory::AbuseDisclosure => 1,
    }
}

/// Detects crisis language in chat messages. Cheap to share (`&self` only); build one at
/// start-up and keep it.
#[derive(Debug, Clone)]
pub struct CrisisMatcher {
    /// What it was built from, kept so that [`CrisisMatcher::extend`] can rebuild with the
    /// aliases of both files applied to the patterns of both.
    source: Source,
    compiled: Compiled,
}

impl CrisisMatcher {
    /// The phrases shipped with Kindred.
    pub fn builtin() -> Self {
        builtin_ref().clone()
    }

    /// Reads phrases in the format of `crisis_phrases.txt`.
    pub fn parse(data: &str) -> Result<Self, CrisisDataError> {
        let source = Source::parse(data)?;
        let compiled = Compiled::build(&source);
        Ok(Self { source, compiled })
    }

    /// Adds another matcher's phrases, aliases and exceptions to this one (an operator's
    /// extension file on top of the builtin list).
    pub fn extend(&mut self, other: CrisisMatcher) {
        self.source.rules.extend(other.source.rules);
        self.source.aliases.extend(other.source.aliases);
        self.source.fuzzy.extend(other.source.fuzzy);
        self.compiled = Compiled::build(&self.source);
    }

    /// How many crisis phrases (patterns of a category) it matches; exceptions, aliases
    /// and fuzzy words not counted: what start-up reports for an operator's file.
    pub fn phrases(&self) -> usize {
        self.source
            .rules
            .iter()
            .filter(|r| r.category.is_some())
            .count()
    }

    /// The most severe crisis category the text expresses, if any.
    pub fn detect(&self, text: &str) -> Option<CrisisCategory> {
        self.compiled.detect(text)
    }
}

impl Default for CrisisMatcher {
    fn default() -> Self {
        Self::builtin()
    }
}

/// The builtin matcher, built once per process.
pub fn builtin_ref() -> &'static CrisisMatcher {
    static BUILTIN: LazyLock<CrisisMatcher> = LazyLock::new(|| {
        // The builtin file is part of the source tree and `builtin_data_parses` checks it,
        // so a failure here is a build mistake, not bad input.
        CrisisMatcher::parse(BUILTIN_PHRASES).expect("crisis_phrases.txt is valid")
    });
    &BUILTIN
}
