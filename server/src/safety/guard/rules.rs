//! The guardrail's rules: cues that, found together in one sentence, make a message
//! describe what groups ask members not to share. A rule names a means **and** the
//! detail that makes it usable or graphic (a quantity, a place's particulars, an
//! instruction, a wound's depth); a means named alone, a feeling, or crisis words
//! alone are left to crisis detection.
//!
//! Where the line is drawn for medication: a dose in treatment ("my sertraline went up
//! to 100mg", "I take 2 tablets a day", "the doctor halved my dose") is ordinary life
//! and never counts; a quantity gathered, to be taken at once, or asked about as
//! enough to harm ("I've saved up 40", "all 30 at once", "how many would it take")
//! does. A treatment word in the sentence keeps a quantity of medication from counting
//! unless a word of harm is there too ("I stopped my meds and saved them up" still
//! counts).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use kindred_protocol::GuardCategory;

use super::cues::*;

/// The longest text read, in characters: the cost of a message stays bounded.
const MAX_CHARS: usize = 4_000;

/// What one rule needs: a cue from every set, none from `unless` (if any).
struct Rule {
    category: GuardCategory,
    all: &'static [Cues],
    /// A quantity too: a cue of [`QUANTITY`] or a number in digits.
    quantity: bool,
    unless: Option<(Cues, Cues)>,
}

/// The rules, in the order they are asked.
const RULES: &[Rule] = &[
    // A quantity of medication gathered or to be taken to harm.
    Rule {
        category: GuardCategory::Dose,
        all: &[MEDS, HOARD],
        quantity: true,
        unless: Some((TREATMENT, HARM)),
    },
    Rule {
        category: GuardCategory::Dose,
        all: &[MEDS, HARM],
        quantity: true,
        unless: Some((TREATMENT, HARM_ACT)),
    },
    // A substance in a quantity taken to feel nothing, or any drink counted out so.
    Rule {
        category: GuardCategory::Dose,
        all: &[MEDS, COPING],
        quantity: true,
        unless: None,
    },
    Rule {
        category: GuardCategory::Dose,
        all: &[DRINK, COPING],
        quantity: true,
        unless: None,
    },
    // Several boxes of a medication at hand.
    Rule {
        category: GuardCategory::Dose,
        all: &[MEDS, CONTAINERS],
        quantity: false,
        unless: Some((TREATMENT, HARM)),
    },
    // Asking or telling how much of a medication, then how at all.
    Rule {
        category: GuardCategory::Dose,
        all: &[HOWTO, MEDS, HARM],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[HOWTO, HARM_ACT],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[PLACES, PLACE_DETAIL, FALL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[LIGATURE, LIGATURE_DETAIL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[BLADE, BLADE_DETAIL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[GAS, GAS_DETAIL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[GUN, GUN_DETAIL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Graphic,
        all: &[BLOOD, BLOOD_DETAIL],
        quantity: false,
        unless: Some((FICTION, &[])),
    },
    Rule {
        category: GuardCategory::Graphic,
        all: &[WOUND, WOUND_DETAIL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Graphic,
        all: &[VIOLENCE, BODY],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Graphic,
        all: &[GORE],
        quantity: false,
        unless: None,
    },
];

/// What the rules find in a message: the first rule that matches in one of its
/// sentences.
pub fn detect(text: &str) -> Option<GuardCategory> {
    let text: String = text.chars().take(MAX_CHARS).collect();
    let index = &*INDEX;
    for sentence in sentences(&text) {
        let present = index.present(&sentence);
        if present == 0 {
            continue;
        }
        for rule in &index.rules {
            if rule.matches(present, sentence.number) {
                return Some(rule.category);
            }
        }
    }
    None
}

/// A rule as the index reads it: each set of cues one bit.
struct Masks {
    category: GuardCategory,
    /// A bit for each set in `all`.
    all: u64,
    /// [`QUANTITY`]'s bit, when the rule needs a quantity (or a number in digits).
    quantity: Option<u64>,
    unless: Option<(u64, u64)>,
}

impl Masks {
    fn matches(&self, present: u64, number: bool) -> bool {
        if present & self.all != self.all {
            return false;
        }
        if self.quantity.is_some_and(|q| !number && present & q == 0) {
            return false;
        }
        match self.unless {
            // A word of treatment keeps it out, unless a word of harm is there too.
            Some((unless, but)) => present & unless == 0 || present & but != 0,
            None => true,
        }
    }
}

/// Every cue of every set the rules ask about, in one automaton, so that a sentence is
/// read once and each set found in it is a bit, whatever the number of cues.
struct Index {
    automaton: AhoCorasick,
    /// For each of the automaton's patterns, the sets it is a cue of.
    sets_of: Vec<u64>,
    rules: Vec<Masks>,
}

static INDEX: LazyLock<Index> = LazyLock::new(Index::new);

impl Index {
    fn new() -> Self {
        // The sets, by content (a constant's address is not its identity).
        let mut sets: Vec<Cues> = Vec::new();
        let mut bit = |cues: Cues| -> u64 {
            let at = sets.iter().position(|s| *s == cues).unwrap_or_else(|| {
                sets.push(cues);
                sets.len() - 1
            });
            assert!(
                at < 64,
                "the guardrail's rules ask about more than 64 sets of cues"
            );
            1 << at
        };
        let quantities = bit(QUANTITY);
        let rules: Vec<Masks> = RULES
            .iter()
            .map(|r| Masks {
                category: r.category,
                all: r.all.iter().fold(0, |m, c| m | bit(c)),
                quantity: r.quantity.then_some(quantities),
                unless: r.unless.map(|(u, b)| (bit(u), bit(b))),
            })
            .collect();
        let mut patterns: Vec<&'static str> = Vec::new();
        let mut sets_of: Vec<u64> = Vec::new();
        for (at, set) in sets.iter().enumerate() {
            for cue in set.iter() {
                // A cue written with a space first means a word's start: every match
                // is taken at one.
                let cue = cue.trim_start();
                match patterns.iter().position(|p| *p == cue) {
                    Some(i) => sets_of[i] |= 1 << at,
                    None => {
                        patterns.push(cue);
                        sets_of.push(1 << at);
                    }
                }
            }
        }
        let automaton =
            AhoCorasick::new(&patterns).expect("the guardrail's cues make one automaton");
        Self {
            automaton,
            sets_of,
            rules,
        }
    }

    /// The sets with a cue at a word's start in the sentence, a bit each.
    fn present(&self, s: &Sentence) -> u64 {
        let bytes = s.padded.as_bytes();
        self.automaton
            .find_overlapping_iter(&s.padded)
            .filter(|m| m.start() == 0 || bytes[m.start() - 1] == b' ')
            .fold(0, |present, m| {
                present | self.sets_of[m.pattern().as_usize()]
            })
    }
}

/// One sentence as the rules read it: its words, lower case, apostrophes read as a
/// space ("don't" is "don t"), joined by single spaces with one at the end. A cue (a
/// word's start, or several words) is found in it where it begins a word.
struct Sentence {
    padded: String,
    /// It holds a number in digits ("40", "2g", "100mg").
    number: bool,
}

/// The message split at sentence ends (`.`, `!`, `?`, a line break; ", and" does
/// not end one).
fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    for part in text.split(['.', '!', '?', '\n', ';']) {
        let mut padded = String::new();
        let mut number = false;
        let mut last_space = true;
        for c in part.chars() {
            if c.is_alphanumeric() {
                for l in c.to_lowercase() {
                    padded.push(l);
                }
                number |= c.is_ascii_digit();
                last_space = false;
            } else if !last_space {
                padded.push(' ');
                last_space = true;
            }
        }
        if !last_space {
            padded.push(' ');
        }
        if padded.trim().is_empty() {
            continue;
        }
        // A digit stuck to its unit ("100mg", "2g") is still the unit.
        let padded = split_units(&padded);
        out.push(Sentence { padded, number });
    }
    out
}

/// "100mg" read as "100 mg".
fn split_units(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev_digit = false;
    for c in s.chars() {
        if prev_digit && c.is_alphabetic() {
            out.push(' ');
        }
        prev_digit = c.is_ascii_digit();
        out.push(c);
    }
    out
}
