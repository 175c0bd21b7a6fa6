//! The data file: sections, patterns, aliases and fuzzy keywords, read into a [`Source`]
//! whose words are normalised but not yet aliased or interned (so that an extension file's
//! aliases can still apply to the builtin patterns).

use kindred_protocol::CrisisCategory;

use super::normalize::basic_words;

/// Typo-tolerant keywords shorter than this would collide with ordinary words.
pub const MIN_FUZZY_LEN: usize = 5;

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

/// How `$` and `<n>` are spelled in a pattern; inside an alternative or an alias target
/// they are kept as these words until [`super::compile`] gives them their ids.
pub(super) const BOUNDARY_WORD: &str = "$";
pub(super) const MANY_WORD: &str = "<n>";

/// A data file as written: its rules, aliases and fuzzy keywords, in order.
#[derive(Debug, Clone, Default)]
pub(super) struct Source {
    pub(super) rules: Vec<SourceRule>,
    pub(super) aliases: Vec<(String, Vec<String>)>,
    pub(super) fuzzy: Vec<String>,
}

/// A pattern as written, with each word already normalised (but not yet aliased).
#[derive(Debug, Clone)]
pub(super) struct SourceRule {
    /// `None` for an `[except]` pattern.
    pub(super) category: Option<CrisisCategory>,
    pub(super) elems: Vec<SourceElem>,
}

#[derive(Debug, Clone)]
pub(super) enum SourceElem {
    Word(String),
    /// `(a|b c|)`: one of the alternatives, each a sequence of words (empty = optional;
    /// `$` and `<n>` stay as written until compiled).
    Alt(Vec<Vec<String>>),
    /// `*`: up to [`super::MAX_GAP`] tokens of anything within the sentence.
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
    pub(super) fn parse(data: &str) -> Result<Self, CrisisDataError> {
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
                    let target = slot_words(to);
                    if target.is_empty()
                        || from.trim().is_empty()
                        || target.iter().any(|w| w == BOUNDARY_WORD)
                    {
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
        let alternatives: Vec<Vec<String>> = inner.split('|').map(slot_words).collect();
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

/// Words, `*`, `$` and `<n>` outside parentheses.
fn push_plain(elems: &mut Vec<SourceElem>, text: &str) {
    for piece in text.split_whitespace() {
        match piece {
            "*" => elems.push(SourceElem::Gap),
            BOUNDARY_WORD => elems.push(SourceElem::Boundary),
            MANY_WORD => elems.push(SourceElem::Word(MANY_WORD.to_owned())),
            word => elems.extend(basic_words(word).into_iter().map(SourceElem::Word)),
        }
    }
}

/// An alternative or an alias target: normalised words, with `$` and `<n>` kept as they
/// are written.
fn slot_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for piece in text.split_whitespace() {
        match piece {
            BOUNDARY_WORD | MANY_WORD => words.push(piece.to_owned()),
            word => words.extend(basic_words(word)),
        }
    }
    words
}
