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
    for sentence in sentences(&text) {
        for rule in RULES {
            if matches(rule, &sentence) {
                return Some(rule.category);
            }
        }
    }
    None
}

fn matches(rule: &Rule, s: &Sentence) -> bool {
    if !rule.all.iter().all(|cues| s.has(cues)) {
        return false;
    }
    if rule.quantity && !(s.number || s.has(QUANTITY)) {
        return false;
    }
    match rule.unless {
        // A word of treatment keeps it out, unless a word of harm is there too.
        Some((unless, but)) => !s.has(unless) || s.has(but),
        None => true,
    }
}

/// One sentence as the rules read it: its words, lower case, apostrophes read as a
/// space ("don't" is "don t"), joined by single spaces with one at the end; and the
/// text from each word's start, sorted, so that a cue (a word's start, or several
/// words) is found by a binary search rather than a scan.
struct Sentence {
    padded: String,
    /// Where each word starts in `padded`, ordered by the text from there on.
    starts: Vec<usize>,
    /// It holds a number in digits ("40", "2g", "100mg").
    number: bool,
}

impl Sentence {
    fn new(padded: String, number: bool) -> Self {
        let bytes = padded.as_bytes();
        let mut starts: Vec<usize> = (0..bytes.len())
            .filter(|&i| bytes[i] != b' ' && (i == 0 || bytes[i - 1] == b' '))
            .collect();
        starts.sort_unstable_by(|a, b| padded[*a..].cmp(&padded[*b..]));
        Self {
            padded,
            starts,
            number,
        }
    }

    fn has(&self, cues: Cues) -> bool {
        cues.iter().any(|cue| {
            // A cue written with a space first means a word's start: every start is.
            let cue = cue.trim_start();
            let at = self.starts.partition_point(|&p| &self.padded[p..] < cue);
            self.starts
                .get(at)
                .is_some_and(|&p| self.padded[p..].starts_with(cue))
        })
    }
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
        out.push(Sentence::new(padded, number));
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
