//! Per-room content policy: what happens to abuse aimed at others (slurs, harassment such
//! as "kys"), decided with `rustrict`.
//!
//! A filter tuned for games does harm in a support room. Measured with rustrict 0.7.39's
//! default censor, "I want to kill myself" becomes `I want to k**********`, and
//! "suicide", "raped", "sexually abused", "autistic", "lesbian" are starred out. So this
//! module uses rustrict only for what it is good at, and protects members' own words in
//! three layers:
//! 1. words of disclosure and identity ([`PROTECTED_WORDS`]) are registered as safe in a
//!    customised copy of rustrict's trie (`Censor::with_trie`: no `unsafe`, and no global
//!    state shared with any other user of the crate);
//! 2. before rustrict sees a message, those words are blanked out in a copy of it, so a
//!    match that starts in a neighbouring word ("was sexually") cannot reach into them;
//! 3. a message the crisis matcher recognises is left alone by every policy (see
//!    [`Evaluate::evaluate_with_crisis`]): its misspelled or leetspeak forms
//!    ("k1ll mys3lf") are beyond the safe list, and the facilitators are alerted to it
//!    anyway.
//!
//! The default policy flags offensive and severely mean messages to facilitators and
//! changes nothing for the room.
//!
//! A message's cost is bounded by its length: rustrict reads a copy with runs cut short
//! and the symbols that stand for letters rationed ([`analysed`]), which costs no more
//! than prose of the same length (a millisecond or two for the longest message), and the
//! censor mode maps that one pass's stars back onto the member's words. Most messages
//! hold nothing a policy counts, and never reach rustrict: a [`screen`] reads the same
//! copy first, in one pass with rustrict's own words and replacements, and says
//! whether rustrict could find anything there (it may look for nothing, never clear
//! what rustrict would find; its tests run both side by side). The session
//! screens a short message on the member's task and a long one on the blocking pool, so
//! no async worker spends more than a fraction of a millisecond on one.

use std::sync::LazyLock;

use rustrict::{Trie, Type};

use super::crisis;

mod analysed;
mod screen;

use analysed::{AnalysedCopy, analyse, analysed_copy, censor_flagged, segments};
#[cfg(test)]
use analysed::{
    MAX_GAP_SPAN, MAX_GAP_WILDCARDS, MAX_WILDCARDS, RUSTRICT_CHARS, RUSTRICT_WORK, Work,
    collapse_runs_mapped,
};
use screen::{SCREEN, Trail};

pub use kindred_protocol::policy::{ContentPolicy, Kinds, PolicyMode};

/// rustrict's view of the kinds a policy counts.
trait KindsExt {
    fn table(self) -> [(bool, &'static str, Type); 4];
    fn threshold(self) -> Type;
    fn matched(self, analysis: Type) -> Vec<&'static str>;
}

impl KindsExt for Kinds {
    fn table(self) -> [(bool, &'static str, Type); 4] {
        [
            (
                self.profanity,
                "profanity",
                Type::PROFANE & Type::MODERATE_OR_HIGHER,
            ),
            (
                self.sexual,
                "sexual",
                Type::SEXUAL & Type::MODERATE_OR_HIGHER,
            ),
            (self.offensive, "offensive", Type::OFFENSIVE),
            (self.mean, "mean", Type::MEAN & Type::SEVERE),
        ]
    }

    fn threshold(self) -> Type {
        self.table()
            .into_iter()
            .filter(|(on, _, _)| *on)
            .fold(Type::NONE, |acc, (_, _, t)| acc | t)
    }

    fn matched(self, analysis: Type) -> Vec<&'static str> {
        self.table()
            .into_iter()
            .filter(|(on, _, t)| *on && analysis.is(*t))
            .map(|(_, name, _)| name)
            .collect()
    }
}

/// What to do with one message. Serializable because a verdict reached on one instance
/// travels with the message in the room's replicated log, so no other instance runs
/// rustrict on it again.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    /// Deliver as written.
    Clean,
    /// Deliver as written and tell the facilitators which kinds were found.
    Flag {
        #[serde(with = "kind_names")]
        kinds: Vec<&'static str>,
    },
    /// Deliver this text instead.
    Censored { text: String },
    /// Deliver to facilitators only, pending review.
    Hold {
        #[serde(with = "kind_names")]
        kinds: Vec<&'static str>,
    },
}

/// The kinds of content a policy names, as stored: names from a fixed table, so a kind
/// read back is the same `&'static str` the policy hands out, and an unknown name is
/// an error rather than a new kind.
pub mod kind_names {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// The policy's kinds, then what the guardrail finds (a message it holds, or one
    /// sent as it is, carries its category among the kinds).
    const KNOWN: [&str; 7] = [
        "profanity",
        "sexual",
        "offensive",
        "mean",
        "method",
        "graphic",
        "dose",
    ];

    pub fn serialize<S: Serializer>(kinds: &[&'static str], s: S) -> Result<S::Ok, S::Error> {
        kinds.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<&'static str>, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        names
            .iter()
            .map(|n| {
                KNOWN
                    .iter()
                    .find(|k| **k == n.as_str())
                    .copied()
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown content kind {n}")))
            })
            .collect()
    }
}

/// Deciding with a policy (the policy itself is a wire type in `kindred_protocol`).
pub trait Evaluate {
    /// Decides what happens to `text` in this room, running the builtin crisis matcher.
    fn evaluate(&self, text: &str) -> Verdict;
    /// Like [`Evaluate::evaluate`], with the crisis decision made by the caller.
    fn evaluate_with_crisis(&self, text: &str, is_crisis: bool) -> Verdict;
}

impl Evaluate for ContentPolicy {
    /// Decides what happens to `text` in this room. Runs the builtin crisis matcher to
    /// protect crisis messages; a caller that already ran its own (extended) matcher
    /// should use [`Evaluate::evaluate_with_crisis`] instead.
    fn evaluate(&self, text: &str) -> Verdict {
        let is_crisis = crisis::builtin_ref().detect(text).is_some();
        self.evaluate_with_crisis(text, is_crisis)
    }

    /// Like [`Evaluate::evaluate`], with the crisis decision made by the caller.
    ///
    /// A crisis message is never censored, blocked or delayed, so it is always
    /// [`Verdict::Clean`]: the facilitators already receive a crisis alert pointing at it,
    /// which is where their attention belongs, and a flag would only add noise.
    fn evaluate_with_crisis(&self, text: &str, is_crisis: bool) -> Verdict {
        decide(self, text, is_crisis, Screening::On)
    }
}

/// Whether the screen runs before rustrict: always, but for the tests that compare the
/// verdicts reached with and without it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Screening {
    On,
    #[cfg(test)]
    Off,
}

/// The policy's verdict on `text` (see [`Evaluate::evaluate_with_crisis`]).
fn decide(policy: &ContentPolicy, text: &str, is_crisis: bool, screening: Screening) -> Verdict {
    let threshold = policy.kinds.threshold();
    if is_crisis || policy.mode == PolicyMode::Off || threshold == Type::NONE {
        return Verdict::Clean;
    }
    // Most messages hold nothing a policy counts: the screen's one pass over what
    // rustrict would read says so, and rustrict is not run (see `screen`).
    if screening == Screening::On && !screened(text, threshold) {
        return Verdict::Clean;
    }
    let masked = mask_protected(text);
    // rustrict reads a bounded copy (see `analysed`): runs cut short, numbers cut
    // out, symbols that stand for letters rationed, so no message costs more than
    // prose of its length. The same pass stars what it matched; the censor mode maps
    // those stars back onto the original text instead of running rustrict again.
    let (analysed, origin) = analysed_copy(&masked);
    let segments = segments(&analysed);
    let censoring = policy.mode == PolicyMode::Censor;
    let (starred, analysis) = analyse(&segments, threshold, censoring);
    let kinds = policy.kinds.matched(analysis);
    if kinds.is_empty() {
        return Verdict::Clean;
    }
    match policy.mode {
        PolicyMode::Off => Verdict::Clean,
        PolicyMode::Censor => {
            let merged = censor_flagged(text, &masked, &analysed, &starred, &origin, threshold);
            if merged == text {
                Verdict::Clean
            } else {
                Verdict::Censored { text: merged }
            }
        }
        PolicyMode::Flag => Verdict::Flag { kinds },
        PolicyMode::Hold => Verdict::Hold { kinds },
    }
}

/// A message at most this long is screened in buffers its thread keeps (a worker's);
/// a longer one, rare and screened on the blocking pool, in buffers of its own, so no
/// thread keeps buffers sized for the longest message.
const KEPT_BUFFERS_UP_TO: usize = 1024;

/// What screening works in: the masked text, the analysed copy and the screen's trail.
#[derive(Default)]
struct ScreenBuffers {
    mask: MaskBuffers,
    masked: String,
    copy: AnalysedCopy,
    trail: Trail,
}

thread_local! {
    static BUFFERS: std::cell::RefCell<ScreenBuffers> = std::cell::RefCell::default();
}

/// Whether the screen sends `text` on to rustrict: the copy rustrict would read is
/// made, and screened segment by segment, in buffers kept from the last message, so
/// an ordinary message (which the screen clears) costs no allocation.
fn screened(text: &str, threshold: Type) -> bool {
    let screen = |b: &mut ScreenBuffers| {
        mask_protected_into(text, &mut b.mask, &mut b.masked);
        b.copy.make(&b.masked);
        b.copy
            .segments()
            .any(|segment| SCREEN.looks_at(segment, threshold, &mut b.trail))
    };
    if text.len() > KEPT_BUFFERS_UP_TO {
        return screen(&mut ScreenBuffers::default());
    }
    BUFFERS.with(|b| match b.try_borrow_mut() {
        Ok(mut b) => screen(&mut b),
        Err(_) => screen(&mut ScreenBuffers::default()),
    })
}

/// Whether `policy` hands `text` to rustrict (the screen found something there that
/// rustrict could count, see `screen`), for `kindred-crisis-model bench`, which counts
/// how often it does.
pub fn reaches_rustrict(policy: &ContentPolicy, text: &str) -> bool {
    let threshold = policy.kinds.threshold();
    policy.mode != PolicyMode::Off && threshold != Type::NONE && screened(text, threshold)
}

/// Builds the customised rustrict trie now rather than on the first message.
pub fn init() {
    LazyLock::force(&KINDRED_TRIE);
    LazyLock::force(&PROTECTED);
    LazyLock::force(&SCREEN);
}

/// Words of disclosure and identity that no policy may censor or flag, lower case. Single
/// words or phrases of up to [`MAX_PROTECTED_WORDS`] words; hyphens count as spaces.
pub const PROTECTED_WORDS: &[&str] = &[
    // disclosure: suicide and self-harm
    "suicide",
    "suicides",
    "suicidal",
    "suicidality",
    "kill myself",
    "killing myself",
    "killed myself",
    "hang myself",
    "hurt myself",
    "hate myself",
    "end my life",
    "self harm",
    "self harming",
    "self harmed",
    "self injury",
    "cutting",
    "cut myself",
    "overdose",
    "overdosed",
    "overdosing",
    // disclosure: abuse and violence
    "abuse",
    "abused",
    "abuser",
    "abusive",
    "sexual",
    "sexually",
    "sexual abuse",
    "sexually abused",
    "sexual assault",
    "sexually assaulted",
    "assault",
    "assaulted",
    "rape",
    "raped",
    "rapist",
    "molest",
    "molested",
    "molestation",
    "incest",
    "groomed",
    "grooming",
    "trafficked",
    "domestic violence",
    // identity
    "autistic",
    "autism",
    "gay",
    "gays",
    "lesbian",
    "lesbians",
    "trans",
    "transgender",
    "transsexual",
    "bisexual",
    "bi",
    "queer",
    "homosexual",
    "asexual",
    "aromantic",
    "pansexual",
    "nonbinary",
    "non binary",
    "intersex",
    "lgbt",
    "lgbtq",
    "sexuality",
    "jewish",
    "muslim",
    "black",
    // conditions and their effects
    "bipolar",
    "schizophrenia",
    "schizophrenic",
    "schizoaffective",
    "ptsd",
    "cptsd",
    "anorexia",
    "anorexic",
    "bulimia",
    "bulimic",
    "eating disorder",
    "depression",
    "depressed",
    "anxiety",
    "ocd",
    "adhd",
    "bpd",
    "borderline",
    "psychosis",
    "psychotic",
    "dissociation",
    "addiction",
    "addict",
    "alcoholic",
    "sex drive",
    "libido",
    "breast cancer",
    // substances people are in recovery from
    "heroin",
    "cocaine",
    "meth",
    "crack",
    "alcohol",
    // medications
    "sertraline",
    "zoloft",
    "fluoxetine",
    "prozac",
    "citalopram",
    "escitalopram",
    "lexapro",
    "paroxetine",
    "venlafaxine",
    "effexor",
    "duloxetine",
    "mirtazapine",
    "bupropion",
    "wellbutrin",
    "lithium",
    "lamotrigine",
    "lamictal",
    "quetiapine",
    "seroquel",
    "olanzapine",
    "risperidone",
    "aripiprazole",
    "abilify",
    "clozapine",
    "diazepam",
    "valium",
    "lorazepam",
    "ativan",
    "clonazepam",
    "xanax",
    "methadone",
    "buprenorphine",
    "suboxone",
    "naltrexone",
    "adderall",
    "ritalin",
    "propranolol",
    // people in members' stories
    "boyfriend",
    "girlfriend",
];

/// The longest phrase in [`PROTECTED_WORDS`], in words.
pub const MAX_PROTECTED_WORDS: usize = 3;

/// rustrict's default trie with [`PROTECTED_WORDS`] marked safe (its false-positive
/// mechanism: a safe word cancels the matches inside it).
static KINDRED_TRIE: LazyLock<Trie> = LazyLock::new(|| {
    let mut trie = Trie::default();
    for word in PROTECTED_WORDS {
        trie.set(word, Type::SAFE);
        if word.contains(' ') {
            // rustrict also matches across removed spaces ("killmyself").
            trie.set(&word.replace(' ', ""), Type::SAFE);
            trie.set(&word.replace(' ', "-"), Type::SAFE);
        }
    }
    trie
});

/// [`PROTECTED_WORDS`] as word sequences, for [`mask_protected`].
static PROTECTED: LazyLock<std::collections::HashSet<String>> =
    LazyLock::new(|| PROTECTED_WORDS.iter().map(|w| (*w).to_owned()).collect());

/// Word spans of `text`: maximal runs of letters, digits and inner apostrophes, as
/// (byte start, byte end), into `spans`.
fn word_spans(text: &str, spans: &mut Vec<(usize, usize)>) {
    spans.clear();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let wordy = c.is_alphanumeric() || (start.is_some() && matches!(c, '\'' | '\u{2019}'));
        match (wordy, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
}

/// What [`mask_protected_into`] works in, kept from one message to the next.
#[derive(Default)]
struct MaskBuffers {
    spans: Vec<(usize, usize)>,
    masked: Vec<(usize, usize)>,
    key: String,
}

/// A copy of `text` with every protected word or phrase replaced by spaces, char for char,
/// so that rustrict's output lines up with the original.
fn mask_protected(text: &str) -> String {
    let mut out = String::new();
    mask_protected_into(text, &mut MaskBuffers::default(), &mut out);
    out
}

/// [`mask_protected`] into `out`, with the buffers it needs lent.
fn mask_protected_into(text: &str, buffers: &mut MaskBuffers, out: &mut String) {
    let MaskBuffers { spans, masked, key } = buffers;
    word_spans(text, spans);
    masked.clear();
    out.clear();
    let mut i = 0;
    while i < spans.len() {
        let mut matched = 0;
        key.clear();
        for n in 1..=MAX_PROTECTED_WORDS.min(spans.len() - i) {
            let (s, e) = spans[i + n - 1];
            if n > 1 {
                // Only spaces or hyphens may separate the words of a phrase.
                let gap = &text[spans[i + n - 2].1..s];
                if gap.is_empty() || !gap.chars().all(|c| c == ' ' || c == '-') {
                    break;
                }
                key.push(' ');
            }
            key.extend(text[s..e].chars().flat_map(char::to_lowercase));
            if PROTECTED.contains(key.as_str()) {
                matched = n;
            }
        }
        if matched > 0 {
            masked.push((spans[i].0, spans[i + matched - 1].1));
            i += matched;
        } else {
            i += 1;
        }
    }
    let mut last = 0;
    for &mut (s, e) in masked {
        out.push_str(&text[last..s]);
        out.extend(text[s..e].chars().map(|_| ' '));
        last = e;
    }
    out.push_str(&text[last..]);
}

#[cfg(test)]
mod tests;
