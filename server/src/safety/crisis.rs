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
//! - a few long keywords also accept any single typo (`[fuzzy]`: `suicdal`, `overdsoe`).
//!
//! Patterns are sequences of words, alternatives and short gaps; `[except]` patterns
//! (idioms such as "killing myself laughing") cancel any match that overlaps them.

use std::collections::HashMap;
use std::sync::LazyLock;

use kindred_protocol::CrisisCategory;

/// The phrases Kindred ships with. Operators add to them with [`CrisisMatcher::parse`] and
/// [`CrisisMatcher::extend`]; they cannot remove them.
const BUILTIN_PHRASES: &str = include_str!("crisis_phrases.txt");

/// How many arbitrary tokens a `*` in a pattern may stand for. Small on purpose: a gap
/// that can swallow half a sentence turns "he said the ball hit me" into a disclosure.
pub const MAX_GAP: usize = 3;

/// Typo-tolerant keywords shorter than this would collide with ordinary words.
pub const MIN_FUZZY_LEN: usize = 5;

type Id = u32;
/// A word that appears in no pattern: it can only be skipped by a gap.
const UNKNOWN: Id = u32::MAX;
/// The end of a sentence or of the message: `$` in a pattern. Gaps never cross it.
const BOUNDARY: Id = u32::MAX - 1;

/// One fewer than this many one-letter tokens in a row are left alone ("i a m" is rare,
/// "s u i c i d e" is evasion).
const SPELLED_OUT_MIN: usize = 3;

/// A line of the data file that could not be understood. The builtin file is checked by
/// a test; these errors are for an operator's extension file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrisisDataError {
    #[error("line {line}: unknown section [{name}]")]
    UnknownSection { line: usize, name: String },
    #[error("line {line}: a pattern must come after a [section] header")]
    OutsideSection { line: usize },
    #[error("line {line}: unbalanced or nested parentheses")]
    Parentheses { line: usize },
    #[error("line {line}: the pattern has no words")]
    EmptyPattern { line: usize },
    #[error("line {line}: a pattern must start with a word (not a gap, `$` or an optional group)")]
    BadStart { line: usize },
    #[error("line {line}: a pattern cannot end with a gap")]
    TrailingGap { line: usize },
    #[error("line {line}: two gaps in a row")]
    DoubleGap { line: usize },
    #[error("line {line}: an alias looks like `misspelling other-misspelling = word [word…]`")]
    BadAlias { line: usize },
    #[error("line {line}: `{word}` must be one word of at least {MIN_FUZZY_LEN} letters")]
    BadFuzzy { line: usize, word: String },
}

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

    /// The most severe crisis category the text expresses, if any.
    pub fn detect(&self, text: &str) -> Option<CrisisCategory> {
        let c = &self.compiled;
        let tokens = c.tokenize(text);
        let mut best: Option<CrisisCategory> = None;
        // Idioms are rare, so their mask is only computed once something has matched.
        let mut excepted: Option<Vec<bool>> = None;
        for start in 0..tokens.len() {
            let Some(candidates) = c.positive_by_first.get(&tokens[start]) else {
                continue;
            };
            for &index in candidates {
                let rule = &c.rules[index];
                let Some(category) = rule.category else {
                    continue;
                };
                if best.is_some_and(|b| severity(b) >= severity(category)) {
                    continue;
                }
                let Some(end) = match_elems(&rule.elems, &tokens, start) else {
                    continue;
                };
                let mask = excepted.get_or_insert_with(|| c.exception_mask(&tokens));
                if mask[start..end].iter().any(|&covered| covered) {
                    continue;
                }
                best = Some(category);
                if category == CrisisCategory::ImmediateDanger {
                    return best;
                }
            }
        }
        best
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

// ---- the data file ---------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct Source {
    rules: Vec<SourceRule>,
    aliases: Vec<(String, Vec<String>)>,
    fuzzy: Vec<String>,
}

/// A pattern as written, with each word already normalised (but not yet aliased).
#[derive(Debug, Clone)]
struct SourceRule {
    /// `None` for an `[except]` pattern.
    category: Option<CrisisCategory>,
    elems: Vec<SourceElem>,
}

#[derive(Debug, Clone)]
enum SourceElem {
    Word(String),
    /// `(a|b c|)`: one of the alternatives, each a sequence of words (empty = optional).
    Alt(Vec<Vec<String>>),
    /// `*`: up to [`MAX_GAP`] tokens of anything within the sentence.
    Gap,
    /// `$`: end of sentence or message.
    Boundary,
}

#[derive(Debug, Clone, Copy)]
enum Section {
    Rules(Option<CrisisCategory>),
    Alias,
    Fuzzy,
}

impl Source {
    fn parse(data: &str) -> Result<Self, CrisisDataError> {
        let mut source = Source::default();
        let mut section: Option<Section> = None;
        for (index, raw) in data.lines().enumerate() {
            let line = index + 1;
            let text = raw.split('#').next().unwrap_or_default().trim();
            if text.is_empty() {
                continue;
            }
            if let Some(name) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                section = Some(parse_section(name.trim(), line)?);
                continue;
            }
            match section {
                None => return Err(CrisisDataError::OutsideSection { line }),
                Some(Section::Rules(category)) => source.rules.push(SourceRule {
                    category,
                    elems: parse_pattern(text, line)?,
                }),
                Some(Section::Alias) => {
                    let (from, to) = text
                        .split_once('=')
                        .ok_or(CrisisDataError::BadAlias { line })?;
                    let target = basic_words(to);
                    if target.is_empty() || from.trim().is_empty() {
                        return Err(CrisisDataError::BadAlias { line });
                    }
                    for variant in from.split_whitespace() {
                        match basic_words(variant).as_slice() {
                            [one] => source.aliases.push((one.clone(), target.clone())),
                            _ => return Err(CrisisDataError::BadAlias { line }),
                        }
                    }
                }
                Some(Section::Fuzzy) => {
                    for raw_word in text.split_whitespace() {
                        match basic_words(raw_word).as_slice() {
                            [one] if one.chars().count() >= MIN_FUZZY_LEN => {
                                source.fuzzy.push(one.clone());
                            }
                            _ => {
                                return Err(CrisisDataError::BadFuzzy {
                                    line,
                                    word: raw_word.to_owned(),
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(source)
    }
}

fn parse_section(name: &str, line: usize) -> Result<Section, CrisisDataError> {
    Ok(match name {
        "suicidal_ideation" => Section::Rules(Some(CrisisCategory::SuicidalIdeation)),
        "self_harm" => Section::Rules(Some(CrisisCategory::SelfHarm)),
        "overdose" => Section::Rules(Some(CrisisCategory::Overdose)),
        "immediate_danger" => Section::Rules(Some(CrisisCategory::ImmediateDanger)),
        "abuse_disclosure" => Section::Rules(Some(CrisisCategory::AbuseDisclosure)),
        "except" => Section::Rules(None),
        "alias" => Section::Alias,
        "fuzzy" => Section::Fuzzy,
        other => {
            return Err(CrisisDataError::UnknownSection {
                line,
                name: other.to_owned(),
            });
        }
    })
}

fn parse_pattern(text: &str, line: usize) -> Result<Vec<SourceElem>, CrisisDataError> {
    let mut elems = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['(', ')']) {
        let (before, after) = rest.split_at(open);
        push_plain(&mut elems, before);
        let inner_and_more = after
            .strip_prefix('(')
            .ok_or(CrisisDataError::Parentheses { line })?;
        let close = inner_and_more
            .find(')')
            .ok_or(CrisisDataError::Parentheses { line })?;
        let inner = &inner_and_more[..close];
        if inner.contains('(') {
            return Err(CrisisDataError::Parentheses { line });
        }
        let alternatives: Vec<Vec<String>> = inner.split('|').map(basic_words).collect();
        if alternatives.iter().all(Vec::is_empty) {
            return Err(CrisisDataError::EmptyPattern { line });
        }
        elems.push(SourceElem::Alt(alternatives));
        rest = &inner_and_more[close + 1..];
    }
    push_plain(&mut elems, rest);

    if !elems
        .iter()
        .any(|e| matches!(e, SourceElem::Word(_) | SourceElem::Alt(_)))
    {
        return Err(CrisisDataError::EmptyPattern { line });
    }
    match elems.first() {
        Some(SourceElem::Word(_)) => {}
        Some(SourceElem::Alt(alts)) if alts.iter().all(|a| !a.is_empty()) => {}
        _ => return Err(CrisisDataError::BadStart { line }),
    }
    if matches!(elems.last(), Some(SourceElem::Gap)) {
        return Err(CrisisDataError::TrailingGap { line });
    }
    if elems
        .windows(2)
        .any(|w| matches!(w, [SourceElem::Gap, SourceElem::Gap]))
    {
        return Err(CrisisDataError::DoubleGap { line });
    }
    Ok(elems)
}

/// Words, `*` and `$` outside parentheses.
fn push_plain(elems: &mut Vec<SourceElem>, text: &str) {
    for piece in text.split_whitespace() {
        match piece {
            "*" => elems.push(SourceElem::Gap),
            "$" => elems.push(SourceElem::Boundary),
            word => elems.extend(basic_words(word).into_iter().map(SourceElem::Word)),
        }
    }
}

// ---- compiled form ---------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Elem {
    Word(Id),
    Alt(Vec<Vec<Id>>),
    Gap,
    Boundary,
}

#[derive(Debug, Clone)]
struct Rule {
    category: Option<CrisisCategory>,
    elems: Vec<Elem>,
}

#[derive(Debug, Clone, Default)]
struct Compiled {
    vocab: HashMap<String, Id>,
    aliases: HashMap<String, Vec<Id>>,
    fuzzy: Vec<(String, Id)>,
    rules: Vec<Rule>,
    /// Rule indices by the token ids they can start with.
    positive_by_first: HashMap<Id, Vec<usize>>,
    exception_by_first: HashMap<Id, Vec<usize>>,
}

impl Compiled {
    fn build(source: &Source) -> Self {
        let mut c = Compiled::default();
        // Aliases first: pattern words are expanded through them too ("i'm" → "i am").
        for (from, to) in &source.aliases {
            let ids = to.iter().map(|w| c.intern(w)).collect();
            c.aliases.insert(from.clone(), ids);
        }
        for word in &source.fuzzy {
            let id = c.intern(word);
            c.fuzzy.push((word.clone(), id));
        }
        for rule in &source.rules {
            let mut elems = Vec::with_capacity(rule.elems.len());
            for elem in &rule.elems {
                match elem {
                    SourceElem::Word(w) => elems.extend(c.expand(w).into_iter().map(Elem::Word)),
                    SourceElem::Alt(alternatives) => {
                        let alts = alternatives
                            .iter()
                            .map(|words| words.iter().flat_map(|w| c.expand(w)).collect())
                            .collect();
                        elems.push(Elem::Alt(alts));
                    }
                    SourceElem::Gap => elems.push(Elem::Gap),
                    SourceElem::Boundary => elems.push(Elem::Boundary),
                }
            }
            let index = c.rules.len();
            let firsts: Vec<Id> = match elems.first() {
                Some(Elem::Word(id)) => vec![*id],
                Some(Elem::Alt(alts)) => alts.iter().filter_map(|a| a.first().copied()).collect(),
                _ => Vec::new(),
            };
            let by_first = if rule.category.is_some() {
                &mut c.positive_by_first
            } else {
                &mut c.exception_by_first
            };
            for id in firsts {
                let list = by_first.entry(id).or_default();
                if list.last() != Some(&index) {
                    list.push(index);
                }
            }
            c.rules.push(Rule {
                category: rule.category,
                elems,
            });
        }
        c
    }

    fn intern(&mut self, word: &str) -> Id {
        let next = Id::try_from(self.vocab.len()).unwrap_or(UNKNOWN - 2);
        *self.vocab.entry(word.to_owned()).or_insert(next)
    }

    /// A pattern word through the aliases, interned.
    fn expand(&mut self, word: &str) -> Vec<Id> {
        match self.aliases.get(word) {
            Some(ids) => ids.clone(),
            None => vec![self.intern(word)],
        }
    }

    /// The ids a word of a message stands for (usually one; aliases may give more).
    fn lookup(&self, word: &str, out: &mut Vec<Id>) {
        if let Some(ids) = self.aliases.get(word) {
            out.extend_from_slice(ids);
        } else if let Some(&id) = self.vocab.get(word) {
            out.push(id);
        } else if let Some(id) = self.fuzzy_lookup(word) {
            out.push(id);
        } else {
            out.push(UNKNOWN);
        }
    }

    fn fuzzy_lookup(&self, word: &str) -> Option<Id> {
        if word.len() < MIN_FUZZY_LEN - 1 {
            return None;
        }
        self.fuzzy
            .iter()
            .find(|(keyword, _)| within_one_edit(word.as_bytes(), keyword.as_bytes()))
            .map(|&(_, id)| id)
    }

    /// Which tokens an `[except]` pattern covers.
    fn exception_mask(&self, tokens: &[Id]) -> Vec<bool> {
        let mut mask = vec![false; tokens.len()];
        for start in 0..tokens.len() {
            let Some(candidates) = self.exception_by_first.get(&tokens[start]) else {
                continue;
            };
            for &index in candidates {
                if let Some(end) = match_elems(&self.rules[index].elems, tokens, start) {
                    mask[start..end].iter_mut().for_each(|m| *m = true);
                }
            }
        }
        mask
    }

    /// The message as token ids, always ending with a [`BOUNDARY`].
    fn tokenize(&self, text: &str) -> Vec<Id> {
        let mut tokens = Vec::with_capacity(text.len() / 4 + 2);
        let mut spelled_out = String::new();
        let mut spelled_count = 0usize;
        let flush_spelled = |tokens: &mut Vec<Id>, spelled: &mut String, count: &mut usize| {
            if *count >= SPELLED_OUT_MIN {
                let joined = collapse_repeats(spelled);
                self.lookup(&joined, tokens);
            } else {
                for c in spelled.chars() {
                    self.lookup(c.encode_utf8(&mut [0; 4]), tokens);
                }
            }
            spelled.clear();
            *count = 0;
        };
        let push_boundary = |tokens: &mut Vec<Id>| {
            if tokens.last() != Some(&BOUNDARY) && !tokens.is_empty() {
                tokens.push(BOUNDARY);
            }
        };

        for_each_word(text, |piece| match piece {
            Piece::Word(word) => {
                if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
                    spelled_out.push_str(word);
                    spelled_count += 1;
                } else {
                    flush_spelled(&mut tokens, &mut spelled_out, &mut spelled_count);
                    self.lookup(word, &mut tokens);
                }
            }
            Piece::Boundary => {
                flush_spelled(&mut tokens, &mut spelled_out, &mut spelled_count);
                push_boundary(&mut tokens);
            }
        });
        flush_spelled(&mut tokens, &mut spelled_out, &mut spelled_count);
        if tokens.last() != Some(&BOUNDARY) {
            tokens.push(BOUNDARY);
        }
        tokens
    }
}

/// Where `elems` matched starting at `pos`: the end of the match (exclusive).
fn match_elems(elems: &[Elem], tokens: &[Id], pos: usize) -> Option<usize> {
    let Some((first, rest)) = elems.split_first() else {
        return Some(pos);
    };
    match first {
        Elem::Word(id) => {
            if tokens.get(pos) == Some(id) {
                match_elems(rest, tokens, pos + 1)
            } else {
                None
            }
        }
        Elem::Boundary => {
            if tokens.get(pos) == Some(&BOUNDARY) {
                match_elems(rest, tokens, pos + 1)
            } else {
                None
            }
        }
        Elem::Alt(alternatives) => alternatives.iter().find_map(|alt| {
            let end = pos + alt.len();
            if tokens.get(pos..end) == Some(alt.as_slice()) {
                match_elems(rest, tokens, end)
            } else {
                None
            }
        }),
        Elem::Gap => {
            for skip in 0..=MAX_GAP {
                if skip > 0 && tokens.get(pos + skip - 1).is_none_or(|&t| t == BOUNDARY) {
                    break;
                }
                if let Some(end) = match_elems(rest, tokens, pos + skip) {
                    return Some(end);
                }
            }
            None
        }
    }
}

// ---- normalisation ---------------------------------------------------------------------

enum Piece<'a> {
    /// A normalised word: lower case, leetspeak undone, repeated letters collapsed.
    Word(&'a str),
    Boundary,
}

/// The single normalisation pass shared by the data file and messages, so that both sides
/// of a comparison are always spelled the same way.
fn for_each_word(text: &str, mut emit: impl FnMut(Piece<'_>)) {
    let mut raw = String::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let finish = |raw: &mut String, word: &mut String, emit: &mut dyn FnMut(Piece<'_>)| {
        if raw.is_empty() {
            return;
        }
        let has_letter = raw.chars().any(char::is_alphabetic);
        word.clear();
        let mut last = None;
        for c in raw.chars() {
            let c = if has_letter { unleet(c) } else { c };
            if Some(c) != last || !c.is_alphabetic() {
                word.push(c);
            }
            last = Some(c);
        }
        raw.clear();
        emit(Piece::Word(word));
    };
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let next_is_wordy = next.is_some_and(char::is_alphanumeric);
        if c.is_alphanumeric() {
            raw.extend(c.to_lowercase());
        } else if matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`') {
            // Apostrophes join: "don't" and "dont" are one word.
        } else if is_leet_symbol(c, !raw.is_empty(), next_is_wordy) {
            raw.push(c);
        } else {
            finish(&mut raw, &mut word, &mut emit);
            let ends_sentence = matches!(c, '.' | '!' | '?' | ';' | '…')
                && next.is_none_or(|n| n.is_whitespace() || matches!(n, '.' | '!' | '?'));
            if ends_sentence || c == '\n' {
                emit(Piece::Boundary);
            }
        }
    }
    finish(&mut raw, &mut word, &mut emit);
}

/// Whether a symbol is standing in for a letter: `$uicide`, `h@te`, `k!ll`; but not the
/// `!` that ends "die!".
fn is_leet_symbol(c: char, inside_word: bool, next_is_wordy: bool) -> bool {
    match c {
        '@' | '$' => inside_word || next_is_wordy,
        '!' | '|' => inside_word && next_is_wordy,
        _ => false,
    }
}

/// Leetspeak inside a word that has at least one letter ("10" stays a number).
fn unleet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        other => other,
    }
}

fn collapse_repeats(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    for c in word.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

/// A data-file fragment as normalised words (no aliases).
fn basic_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for_each_word(text, |piece| {
        if let Piece::Word(w) = piece {
            words.push(w.to_owned());
        }
    });
    words
}

/// Optimal-string-alignment distance ≤ 1: one substitution, insertion, deletion or swap of
/// neighbours. Bytes, not chars: keywords are ASCII, and a non-ASCII word only gets
/// further away.
fn within_one_edit(word: &[u8], keyword: &[u8]) -> bool {
    let (a, b) = (word, keyword);
    match a.len().abs_diff(b.len()) {
        0 => {
            let mut diffs = (0..a.len()).filter(|&i| a[i] != b[i]);
            match (diffs.next(), diffs.next(), diffs.next()) {
                (None, _, _) | (Some(_), None, _) => true,
                (Some(i), Some(j), None) => j == i + 1 && a[i] == b[j] && a[j] == b[i],
                _ => false,
            }
        }
        1 => {
            let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
            let split = short
                .iter()
                .zip(long)
                .position(|(x, y)| x != y)
                .unwrap_or(short.len());
            short[split..] == long[split + 1..]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CrisisCategory::*;

    /// Crisis phrasings that must alert, with the category a facilitator should see.
    const MUST_ALERT: &[(&str, CrisisCategory)] = &[
        // suicidal ideation, direct and indirect
        ("I want to kill myself", SuicidalIdeation),
        ("i just want to die", SuicidalIdeation),
        ("I don't want to be here anymore", SuicidalIdeation),
        ("Everyone would be better off without me", SuicidalIdeation),
        ("I want to end it all", SuicidalIdeation),
        ("there's no reason to live", SuicidalIdeation),
        ("I have nothing left to live for", SuicidalIdeation),
        ("I wish I was dead", SuicidalIdeation),
        (
            "I wish I could go to sleep and never wake up",
            SuicidalIdeation,
        ),
        ("I can't go on anymore", SuicidalIdeation),
        ("life isn't worth living", SuicidalIdeation),
        ("I feel like such a burden to everyone", SuicidalIdeation),
        ("I've been thinking about ending my life", SuicidalIdeation),
        ("I keep having suicidal thoughts", SuicidalIdeation),
        ("I'm feeling suicidal tonight", SuicidalIdeation),
        (
            "honestly I've been thinking about suicide a lot",
            SuicidalIdeation,
        ),
        ("I want to take my own life", SuicidalIdeation),
        ("kms", SuicidalIdeation),
        ("I want to unalive myself", SuicidalIdeation),
        ("what's the point of living", SuicidalIdeation),
        ("I'm so tired of being alive", SuicidalIdeation),
        ("I don't want to exist", SuicidalIdeation),
        // misspellings, leetspeak, spacing and stretched letters
        ("i want to kil myself", SuicidalIdeation),
        ("I keep thinking about sucide", SuicidalIdeation),
        ("im suicdal", SuicidalIdeation),
        ("feeling suicidle again", SuicidalIdeation),
        ("I want to k1ll mys3lf", SuicidalIdeation),
        ("having su1c1dal thoughts", SuicidalIdeation),
        ("I WANT TO DIIIIE", SuicidalIdeation),
        ("i want to k.i.l.l myself", SuicidalIdeation),
        ("I am s u i c i d a l", SuicidalIdeation),
        ("wanna die", SuicidalIdeation),
        ("i want 2 die", SuicidalIdeation),
        // self-harm
        ("I've been cutting again", SelfHarm),
        ("I cut myself last night", SelfHarm),
        ("I want to hurt myself", SelfHarm),
        ("I relapsed on self-harm", SelfHarm),
        ("I've been self harming for months", SelfHarm),
        ("I burned myself on purpose", SelfHarm),
        ("the urge to cut is really strong", SelfHarm),
        ("I have been cutting", SelfHarm),
        // overdose
        ("I took too many pills", Overdose),
        ("I swallowed a whole bottle of paracetamol", Overdose),
        ("i think i overdosed", Overdose),
        ("I took an overdose", Overdose),
        ("I OD'd last night", Overdose),
        (
            "I took too many of my sleeping pills and I want to die",
            Overdose,
        ),
        // immediate danger
        ("I'm going to do it tonight", ImmediateDanger),
        ("I'm gonna do it tonight", ImmediateDanger),
        ("I have the pills in front of me", ImmediateDanger),
        ("this is my last message", ImmediateDanger),
        ("He threatened to kill me", ImmediateDanger),
        ("I'm not safe at home right now", ImmediateDanger),
        ("I'm going to kill myself tonight", ImmediateDanger),
        // abuse disclosure
        ("he hits me", AbuseDisclosure),
        ("my husband still hits me when he drinks", AbuseDisclosure),
        ("I was raped", AbuseDisclosure),
        ("I was sexually abused as a child", AbuseDisclosure),
        ("my stepdad molested me", AbuseDisclosure),
        ("I'm in an abusive relationship", AbuseDisclosure),
        ("she beats me", AbuseDisclosure),
        ("I was sexually assaulted last year", AbuseDisclosure),
    ];

    /// Ordinary sentences that must not alert.
    const MUST_NOT_ALERT: &[&str] = &[
        "this traffic is killing me",
        "I'd die for a coffee",
        "my phone died",
        "I killed it at my presentation",
        "that show's finale killed me",
        "I'm dying to see the new film",
        "the plant died",
        "I cut my hair",
        "I took my pills this morning",
        "kill the lights",
        "my mom is going to kill me when she sees this",
        "I nearly died laughing",
        "I'm dead tired",
        "this workout is going to be the death of me",
        "did you watch the episode where he dies?",
        "the show killed off my favourite character",
        "in the film the villain tries to kill himself",
        "13 Reasons Why has a lot of scenes about suicide",
        "Suicide Squad was a terrible film",
        "the character overdosed in season two",
        "that scene where she cuts herself was hard to watch",
        "I cut myself shaving",
        "I hurt myself at the gym",
        "I've been cutting back on sugar",
        "we've been cutting costs at work",
        "my dad beat me at chess",
        "he hit me up on whatsapp yesterday",
        "she kicked me out of the game",
        "I had odd dreams last night",
        "I took a lot of pictures",
        "my doctor said the pills might make me sleepy",
        "my therapist helped me make a safety plan",
        "I have a plan for the weekend",
        "I'm going to do it tomorrow after work",
        "I'm going to do my homework tonight",
        "I don't want to be here, this meeting is boring", // no "anymore"
        "I could eat a horse",
        "I'm so tired today",
        "I'm feeling much better this week",
        "my grandmother passed away last year",
        "my friend lost someone to suicide",
        "I was so hurt by what she said",
        "my cat keeps hitting me with her paw",
        "the pain is killing me but the physio helps",
        "I murdered that karaoke song",
        "break a leg tonight!",
        "I'm killing myself laughing at this",
        "life is hard sometimes but I'm hanging in there",
        "I read an article about overdose prevention",
        "I'm dying of embarrassment",
        "I want to die laughing at this meme",
        "I want to die my hair blue", // sic, and still not a crisis
        "hello everyone, glad to be here",
        "goodbye everyone, see you next week",
        "the battery is dead",
        "the end of the book made me cry",
    ];

    fn matcher() -> &'static CrisisMatcher {
        builtin_ref()
    }

    #[test]
    fn crisis_phrasings_alert_with_their_category() {
        let failures: Vec<String> = MUST_ALERT
            .iter()
            .filter_map(|&(text, expected)| {
                let got = matcher().detect(text);
                (got != Some(expected))
                    .then(|| format!("{text:?}: expected {expected:?}, got {got:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "misses:\n{}", failures.join("\n"));
        assert!(MUST_ALERT.len() >= 45);
    }

    #[test]
    fn ordinary_sentences_do_not_alert() {
        let failures: Vec<String> = MUST_NOT_ALERT
            .iter()
            .filter_map(|&text| {
                let got = matcher().detect(text)?;
                Some(format!("{text:?}: false alarm {got:?}"))
            })
            .collect();
        assert!(
            failures.is_empty(),
            "false alarms:\n{}",
            failures.join("\n")
        );
        assert!(MUST_NOT_ALERT.len() >= 45);
    }

    #[test]
    fn builtin_data_parses() {
        assert!(CrisisMatcher::parse(BUILTIN_PHRASES).is_ok());
    }

    #[test]
    fn the_most_severe_category_wins() {
        let text = "he hits me and I want to die and I'm going to do it tonight";
        assert_eq!(matcher().detect(text), Some(ImmediateDanger));
        assert_eq!(
            matcher().detect("I was raped and I've been cutting again"),
            Some(SelfHarm)
        );
    }

    #[test]
    fn empty_and_odd_input_is_harmless() {
        for text in [
            "",
            " ",
            "!!!",
            "$$$",
            "@",
            "...",
            "\n\n",
            "1 2 3",
            "ＩＩＩ",
            "🙂🙂",
        ] {
            assert_eq!(matcher().detect(text), None, "{text:?}");
        }
    }

    #[test]
    fn an_extension_file_adds_phrases_aliases_and_exceptions() {
        let mut m = CrisisMatcher::builtin();
        assert_eq!(m.detect("I want to go to sleep forever"), None);
        let extra = CrisisMatcher::parse(
            "# operator additions\n\
             [suicidal_ideation]\n\
             (want|going) to * sleep forever\n\
             [alias]\n\
             k1lla = kill\n\
             [except]\n\
             want to die (my|her|his) hair\n",
        )
        .expect("valid extension");
        m.extend(extra);
        assert_eq!(
            m.detect("I want to go to sleep forever"),
            Some(SuicidalIdeation)
        );
        assert_eq!(m.detect("I want to k1lla myself"), Some(SuicidalIdeation));
        // The builtin phrases still work after the rebuild.
        assert_eq!(m.detect("I took too many pills"), Some(Overdose));
    }

    #[test]
    fn gaps_do_not_cross_sentences() {
        let m = CrisisMatcher::parse("[self_harm]\nwant * hurt myself\n").expect("valid");
        assert_eq!(m.detect("I want to hurt myself"), Some(SelfHarm));
        assert_eq!(m.detect("I want it. Hurt myself on the stairs"), None);
    }

    #[test]
    fn typo_tolerance_is_one_edit() {
        assert!(within_one_edit(b"suicde", b"suicide"));
        assert!(within_one_edit(b"siucide", b"suicide"));
        assert!(within_one_edit(b"suicidr", b"suicide"));
        assert!(within_one_edit(b"suiccide", b"suicide"));
        assert!(!within_one_edit(b"sucde", b"suicide"));
        assert!(!within_one_edit(b"decide", b"suicide"));
    }

    fn parse_err(data: &str) -> CrisisDataError {
        match CrisisMatcher::parse(data) {
            Ok(_) => panic!("expected an error for {data:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parse_errors_name_the_line_and_the_rule() {
        use CrisisDataError as E;
        assert_eq!(
            parse_err("# hi\n[sadness]\nfoo\n"),
            E::UnknownSection {
                line: 2,
                name: "sadness".into()
            }
        );
        assert_eq!(parse_err("want to die\n"), E::OutsideSection { line: 1 });
        assert_eq!(
            parse_err("[self_harm]\ncut (myself\n"),
            E::Parentheses { line: 2 }
        );
        assert_eq!(
            parse_err("[self_harm]\ncut myself)\n"),
            E::Parentheses { line: 2 }
        );
        assert_eq!(
            parse_err("[self_harm]\ncut ((a|b))\n"),
            E::Parentheses { line: 2 }
        );
        assert_eq!(parse_err("[self_harm]\n* $\n"), E::EmptyPattern { line: 2 });
        assert_eq!(
            parse_err("[self_harm]\ncut (|)\n"),
            E::EmptyPattern { line: 2 }
        );
        assert_eq!(
            parse_err("[self_harm]\n* cut myself\n"),
            E::BadStart { line: 2 }
        );
        assert_eq!(
            parse_err("[self_harm]\n(|really) cut\n"),
            E::BadStart { line: 2 }
        );
        assert_eq!(parse_err("[self_harm]\n$ cut\n"), E::BadStart { line: 2 });
        assert_eq!(
            parse_err("[self_harm]\ncut myself *\n"),
            E::TrailingGap { line: 2 }
        );
        assert_eq!(
            parse_err("[self_harm]\ncut * * myself\n"),
            E::DoubleGap { line: 2 }
        );
        assert_eq!(
            parse_err("[alias]\nsucide suicide\n"),
            E::BadAlias { line: 2 }
        );
        assert_eq!(parse_err("[alias]\n= suicide\n"), E::BadAlias { line: 2 });
        assert_eq!(parse_err("[alias]\nsucide =\n"), E::BadAlias { line: 2 });
        assert_eq!(
            parse_err("[alias]\nself-harm = sh\n"),
            E::BadAlias { line: 2 }
        );
        assert_eq!(
            parse_err("[fuzzy]\ndie\n"),
            E::BadFuzzy {
                line: 2,
                word: "die".into()
            }
        );
    }

    #[test]
    fn comments_blank_lines_and_empty_files_are_fine() {
        let m = CrisisMatcher::parse("").expect("empty is valid");
        assert_eq!(m.detect("I want to die"), None);
        let m = CrisisMatcher::parse("\n# only a comment\n\n[overdose]\n\n  took it all # why\n")
            .expect("valid");
        assert_eq!(m.detect("I took it all"), Some(Overdose));
    }

    #[test]
    fn errors_read_well() {
        let e = CrisisDataError::UnknownSection {
            line: 3,
            name: "x".into(),
        };
        assert_eq!(e.to_string(), "line 3: unknown section [x]");
    }
}
