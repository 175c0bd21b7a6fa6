//! The copy of a message that rustrict reads, and the way its stars are put back onto
//! what the member wrote. This is where the policy's cost per message is bounded.
//!
//! rustrict walks a trie and keeps every partial match alive for as long as the text
//! lets it. A letter ends the matches it does not continue; any other character is
//! "skippable" and keeps them all, and a character it reads as leetspeak (`@` for a or
//! g, `(` for c, i or l, `*` for any vowel, digits, many symbols and emoji: a
//! *wildcard* here) also moves each of them one step further down every branch it
//! stands for. A run of wildcards with no letter between them therefore multiplies the
//! live matches: with rustrict 0.7.39 in a release build, 32 random ASCII symbols took
//! 2.7 ms and 4,000 took 2.5 s, while prose costs about 0.25 µs a character. So the
//! analysed copy keeps the shape of the text and rations the wildcards:
//! - a run of one character is cut to three, and a number of three or more digits to
//!   one space ([`collapse_runs_mapped`]);
//! - in each gap between two letters at most [`MAX_GAP_WILDCARDS`] wildcards are kept,
//!   and in the whole message at most [`MAX_WILDCARDS`], words first: a word with a few
//!   wildcards in it ("a$$hole", "f*cking", "k1ll") keeps them before symbol clutter,
//!   emoji strings and garbage do ([`thin_wildcards`]).
//!
//! A wildcard that is not kept is read as `~`, a character rustrict skips without
//! reading it as any letter, so the copy stays char for char the length of the
//! collapsed text and a match still sees a separator where the symbol was. Abuse
//! written in ordinary text, leetspeak words included, reads as before; what is given
//! up is spotting a word spelled out of symbols inside a long run of symbol garbage.
//!
//! Each pass then costs at most what prose of the same length costs (the figures are
//! in the tests' comments); the tests count the work in characters handed to rustrict
//! and in wildcards kept, not in time.

use rustrict::{Censor, Type};

use super::KINDRED_TRIE;

/// Wildcards kept in one gap between two letters (a run of anything but letters,
/// whitespace included, since rustrict reads through spaces too). Three keeps "$#!t"
/// and "@$$"; 32 in a row cost 2.7 ms.
pub(super) const MAX_GAP_WILDCARDS: usize = 3;

/// A gap between letters longer than this is clutter, not part of a word: rustrict
/// reads it in separate segments, and only the wildcards within [`GAP_EDGE`] of its
/// ends are kept.
pub(super) const MAX_GAP_SPAN: usize = 8;

/// How much of a long gap stays with the word on either side of it.
const GAP_EDGE: usize = 4;

/// Wildcards a word (a run of non-whitespace) may hold and still have its wildcards
/// kept first: leetspeak spells a word with a few ("@$$h0le" has four).
const MAX_WORD_WILDCARDS: usize = 4;

/// Wildcards kept in one message. Ordinary messages hold far fewer (emoji included);
/// each one kept costs rustrict about a microsecond more at worst.
pub(super) const MAX_WILDCARDS: usize = 128;

/// What a wildcard that is not kept is read as: skippable, and no letter.
const SKIPPED: char = '~';

/// The longest token, in characters, handed to rustrict again when its censored copy of
/// the analysed text does not line up with it char for char (rare: the text is in NFC).
const MAX_CENSOR_SPAN: usize = 64;

#[cfg(test)]
thread_local! {
    /// Characters handed to rustrict by [`rustrict_pass`] on this thread, for tests.
    pub(super) static RUSTRICT_CHARS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// The shape of what [`rustrict_pass`] was handed on this thread, for tests.
    pub(super) static RUSTRICT_WORK: std::cell::Cell<Work> = const {
        std::cell::Cell::new(Work { wildcards: 0, gap_wildcards: 0, carried: 0 })
    };
}

/// What drives rustrict's cost beyond one step per character, in the texts it was
/// handed: the live partial matches multiply at each wildcard read between two
/// letters, and every one of them is carried over each non-letter until a letter
/// ends it.
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Work {
    /// Wildcards read, in all.
    pub wildcards: usize,
    /// The most wildcards read between two letters.
    pub gap_wildcards: usize,
    /// The most non-letters read after a wildcard before a letter (or the end).
    pub carried: usize,
}

#[cfg(test)]
impl Work {
    fn record(text: &str) {
        let mut work = RUSTRICT_WORK.with(std::cell::Cell::get);
        let (mut in_gap, mut carried) = (0, None::<usize>);
        for c in text.chars() {
            if c.is_alphabetic() {
                (in_gap, carried) = (0, None);
                continue;
            }
            carried = carried.map(|n| n + 1);
            if is_wildcard(c) {
                work.wildcards += 1;
                in_gap += 1;
                work.gap_wildcards = work.gap_wildcards.max(in_gap);
                carried = carried.or(Some(0));
            }
            work.carried = work.carried.max(carried.unwrap_or(0));
        }
        RUSTRICT_WORK.with(|w| w.set(work));
    }
}

/// Punctuation that rustrict reads as a separator and never as a letter.
fn is_inert(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | '?'
            | ';'
            | ':'
            | '-'
            | '_'
            | '\''
            | '"'
            | '~'
            | '%'
            | '='
            | '>'
            | '`'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201C}'
            | '\u{201D}'
            | '\u{2026}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{00B7}'
            | '\u{2022}'
    )
}

/// A character rustrict may read as a letter while skipping it: anything but letters,
/// whitespace and inert punctuation. Deliberately wide (every emoji and symbol counts),
/// so the bound does not depend on rustrict's replacement table.
pub(super) fn is_wildcard(c: char) -> bool {
    !c.is_alphabetic() && !c.is_whitespace() && !is_inert(c)
}

/// The analysed copy and everything its making works in, kept from one message to the
/// next so that screening an ordinary message allocates nothing.
#[derive(Default)]
pub(super) struct AnalysedCopy {
    /// The analysed copy, char by char.
    pub(super) chars: Vec<char>,
    /// The char range of the masked text each char of the copy stands for.
    pub(super) origin: Vec<(usize, usize)>,
    /// Where each segment starts ([`segment_starts`]), then the copy's length.
    pub(super) bounds: Vec<usize>,
    collapsed: String,
    digits: String,
    thinning: Thinning,
}

/// What [`thin_wildcards`] works in.
#[derive(Default)]
struct Thinning {
    gaps: Vec<std::ops::Range<usize>>,
    gap_of: Vec<usize>,
    eligible: Vec<bool>,
    words_first: Vec<usize>,
    the_rest: Vec<usize>,
    in_gap_kept: Vec<usize>,
    kept: Vec<bool>,
}

impl AnalysedCopy {
    /// Makes the analysed copy of `masked` and its segments' bounds, in the buffers
    /// already held.
    pub(super) fn make(&mut self, masked: &str) {
        collapse_runs_into(
            masked,
            &mut self.collapsed,
            &mut self.origin,
            &mut self.digits,
        );
        self.chars.clear();
        self.chars.extend(self.collapsed.chars());
        thin_wildcards(&mut self.chars, &mut self.thinning);
        segment_starts(&self.chars, &mut self.bounds, &mut self.thinning.gaps);
        self.bounds.push(self.chars.len());
    }

    /// The segments of the copy, each one text handed to rustrict.
    pub(super) fn segments(&self) -> impl Iterator<Item = &[char]> {
        self.bounds.windows(2).map(|b| &self.chars[b[0]..b[1]])
    }
}

/// The copy of `masked` that rustrict analyses: [`collapse_runs_mapped`], then
/// [`thin_wildcards`]. Returned with the char range of `masked` each char stands for.
pub(super) fn analysed_copy(masked: &str) -> (String, Vec<(usize, usize)>) {
    let mut copy = AnalysedCopy::default();
    copy.make(masked);
    (copy.chars.iter().collect(), copy.origin)
}

/// The gaps of `chars`: maximal runs of anything but letters, as char ranges, into
/// `gaps`.
fn gaps(chars: &[char], gaps: &mut Vec<std::ops::Range<usize>>) {
    gaps.clear();
    let mut start = None;
    for (k, c) in chars.iter().enumerate() {
        match (c.is_alphabetic(), start) {
            (false, None) => start = Some(k),
            (true, Some(s)) => {
                gaps.push(s..k);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        gaps.push(s..chars.len());
    }
}

/// Replaces by [`SKIPPED`] every wildcard beyond the rations: at most
/// [`MAX_GAP_WILDCARDS`] in a gap between letters, and in a gap longer than
/// [`MAX_GAP_SPAN`] only within [`GAP_EDGE`] of its ends (next to the words it may
/// belong to), and [`MAX_WILDCARDS`] in all, handed out to words with at most
/// [`MAX_WORD_WILDCARDS`] first, then to the rest, each in reading order.
fn thin_wildcards(chars: &mut [char], buffers: &mut Thinning) {
    let Thinning {
        gaps: gaps_found,
        gap_of,
        eligible,
        words_first,
        the_rest,
        in_gap_kept,
        kept,
    } = buffers;
    gap_of.clear();
    gap_of.resize(chars.len(), usize::MAX);
    eligible.clear();
    eligible.resize(chars.len(), false);
    gaps(chars, gaps_found);
    for (g, gap) in gaps_found.iter().enumerate() {
        for k in gap.clone() {
            gap_of[k] = g;
            eligible[k] =
                gap.len() <= MAX_GAP_SPAN || k < gap.start + GAP_EDGE || k >= gap.end - GAP_EDGE;
        }
    }
    words_first.clear();
    the_rest.clear();
    let mut k = 0;
    while k < chars.len() {
        if chars[k].is_whitespace() {
            k += 1;
            continue;
        }
        let start = k;
        while k < chars.len() && !chars[k].is_whitespace() {
            k += 1;
        }
        let wild = (start..k).filter(|&j| is_wildcard(chars[j]));
        let word = wild.clone().count() <= MAX_WORD_WILDCARDS
            && chars[start..k].iter().any(|c| c.is_alphabetic());
        if word {
            words_first.extend(wild);
        } else {
            the_rest.extend(wild);
        }
    }
    in_gap_kept.clear();
    in_gap_kept.resize(gaps_found.len(), 0);
    kept.clear();
    kept.resize(chars.len(), false);
    let mut total = 0;
    for &j in words_first.iter().chain(the_rest.iter()) {
        if total < MAX_WILDCARDS && eligible[j] && in_gap_kept[gap_of[j]] < MAX_GAP_WILDCARDS {
            kept[j] = true;
            in_gap_kept[gap_of[j]] += 1;
            total += 1;
        }
    }
    for (c, &kept) in chars.iter_mut().zip(kept.iter()) {
        if !kept && is_wildcard(*c) {
            *c = SKIPPED;
        }
    }
}

/// Where rustrict's reading of `analysed` starts afresh: inside every gap longer than
/// [`MAX_GAP_SPAN`], [`GAP_EDGE`] chars from either end. rustrict would otherwise carry
/// every partial match through the whole gap (it stops one only at a letter that does
/// not continue it), and no word is spelled across that much clutter.
fn segment_starts(
    analysed: &[char],
    starts: &mut Vec<usize>,
    found: &mut Vec<std::ops::Range<usize>>,
) {
    starts.clear();
    starts.push(0);
    gaps(analysed, found);
    for gap in found.iter() {
        if gap.len() > MAX_GAP_SPAN {
            starts.extend([gap.start + GAP_EDGE, gap.end - GAP_EDGE]);
        }
    }
}

/// The analysed copy cut where rustrict's reading starts afresh ([`segment_starts`]):
/// each segment is one text handed to rustrict, and together they are the analysed
/// copy, each char once.
pub(super) fn segments(analysed: &str) -> Vec<String> {
    let chars: Vec<char> = analysed.chars().collect();
    let mut starts = Vec::new();
    segment_starts(&chars, &mut starts, &mut Vec::new());
    starts.push(chars.len());
    starts
        .windows(2)
        .map(|bounds| chars[bounds[0]..bounds[1]].iter().collect())
        .collect()
}

/// rustrict's analysis of the analysed copy's [`segments`], one at a time, and its
/// censored copy when `censoring` (an empty string otherwise).
pub(super) fn analyse(segments: &[String], threshold: Type, censoring: bool) -> (String, Type) {
    let mut starred = String::new();
    let mut analysis = Type::NONE;
    for segment in segments {
        let (out, typ) = rustrict_pass(segment, threshold, censoring);
        starred.push_str(&out);
        analysis |= typ;
    }
    (starred, analysis)
}

/// rustrict's analysis of `text` with the customised trie, and its censored copy when
/// `censoring` (an empty string otherwise). Every call to rustrict goes through here,
/// so tests can count the work.
pub(super) fn rustrict_pass(text: &str, threshold: Type, censoring: bool) -> (String, Type) {
    #[cfg(test)]
    {
        RUSTRICT_CHARS.with(|c| c.set(c.get() + text.chars().count()));
        Work::record(text);
    }
    let mut censor = Censor::from_str(text);
    censor
        .with_trie(&KINDRED_TRIE)
        .with_censor_threshold(threshold);
    if censoring {
        censor.censor_and_analyze()
    } else {
        (String::new(), censor.analyze())
    }
}

/// `text` with the abuse the analysis pass matched starred out. `starred` is rustrict's
/// censored copy of `analysed`, and `origin` maps each char of `analysed` to the char
/// range of `text` (and `masked`) it stands for; a starred char stars its whole range
/// (the rest of a stretched word). Text outside the starred chars is unchanged, and so
/// are protected (masked) words, whitespace and the digits of a cut number.
pub(super) fn censor_flagged(
    text: &str,
    masked: &str,
    analysed: &str,
    starred: &str,
    origin: &[(usize, usize)],
    threshold: Type,
) -> String {
    const STAR: char = '*';
    let mut chars: Vec<char> = text.chars().collect();
    let masked_chars: Vec<char> = masked.chars().collect();
    let mut star = |(s, e): (usize, usize)| {
        for k in s..e {
            if !chars[k].is_whitespace() && masked_chars[k] == chars[k] {
                chars[k] = STAR;
            }
        }
    };
    let analysed: Vec<char> = analysed.chars().collect();
    if analysed.len() == starred.chars().count() {
        for ((&range, c), &o) in origin.iter().zip(starred.chars()).zip(&analysed) {
            if c == STAR && o != STAR && !o.is_whitespace() {
                star(range);
            }
        }
        return chars.into_iter().collect();
    }
    // rustrict's output does not line up (it dropped or merged a character): censor
    // each short whitespace-separated token of the analysed copy on its own, which
    // costs at most one more pass. A token that still does not line up is starred
    // whole if rustrict starred any of it.
    let mut i = 0;
    while i < analysed.len() {
        if analysed[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < analysed.len() && !analysed[i].is_whitespace() {
            i += 1;
        }
        if i - start > MAX_CENSOR_SPAN {
            continue;
        }
        let token: String = analysed[start..i].iter().collect();
        let (out, _) = rustrict_pass(&token, threshold, true);
        let out: Vec<char> = out.chars().collect();
        let stars = |s: &[char]| s.iter().filter(|c| **c == STAR).count();
        let whole = out.len() != i - start && stars(&out) > stars(&analysed[start..i]);
        for (k, &o) in (start..i).zip(&analysed[start..i]) {
            let starred = whole || (out.len() == i - start && out[k - start] == STAR);
            if starred && o != STAR {
                star(origin[k]);
            }
        }
    }
    chars.into_iter().collect()
}

/// The copy of `text` with every run of one character cut to at most three, and every
/// run of three or more digits (numbers, times, phone numbers) replaced by one space.
/// rustrict reads digits as leetspeak and its cost explodes on them (280 digits took
/// 49 ms, 4,000 "x" 76 ms); leetspeak abuse mixes single digits into letters ("k1ll"),
/// and those stay.
///
/// Returned with the char range of `text` each output char stands for: a cut run's last
/// kept char stands for the rest of the run, a run of digits' space for the digits.
#[cfg(test)]
pub(super) fn collapse_runs_mapped(text: &str) -> (String, Vec<(usize, usize)>) {
    let (mut out, mut origin) = (String::new(), Vec::new());
    collapse_runs_into(text, &mut out, &mut origin, &mut String::new());
    (out, origin)
}

/// [`collapse_runs_mapped`] into `out` and `origin`, with a buffer for digits lent.
fn collapse_runs_into(
    text: &str,
    out: &mut String,
    origin: &mut Vec<(usize, usize)>,
    digits: &mut String,
) {
    fn flush(out: &mut String, origin: &mut Vec<(usize, usize)>, digits: &mut String, end: usize) {
        let from = end - digits.len();
        if digits.len() >= 3 {
            out.push(' ');
            origin.push((from, end));
        } else {
            out.push_str(digits);
            origin.extend((from..end).map(|k| (k, k + 1)));
        }
        digits.clear();
    }
    out.clear();
    out.reserve(text.len());
    origin.clear();
    origin.reserve(text.len());
    digits.clear();
    let mut last = None;
    let mut run = 0;
    let mut end = 0;
    for (k, c) in text.chars().enumerate() {
        end = k + 1;
        if c.is_ascii_digit() {
            digits.push(c);
            last = None;
            continue;
        }
        flush(out, origin, digits, k);
        if Some(c) == last {
            run += 1;
        } else {
            last = Some(c);
            run = 1;
        }
        if run <= 3 {
            out.push(c);
            origin.push((k, k + 1));
        } else if let Some(o) = origin.last_mut() {
            o.1 = k + 1;
        }
    }
    flush(out, origin, digits, end);
}
