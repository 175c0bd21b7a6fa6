//! The compiled form: every word of the patterns interned as a token id, aliases and
//! fuzzy keywords resolved to ids, rules indexed by the ids they can start with; and a
//! message turned into the same ids.

use std::collections::HashMap;

use kindred_protocol::CrisisCategory;

use super::data::{BOUNDARY_WORD, MANY_WORD, MIN_FUZZY_LEN, Source, SourceElem};
use super::normalize::{Piece, collapse_repeats, for_each_word, is_many, within_one_edit};

pub(super) type Id = u32;
/// A word that appears in no pattern: it can only be skipped by a gap.
const UNKNOWN: Id = u32::MAX;
/// The end of a sentence or of the message: `$` in a pattern. Gaps never cross it.
pub(super) const BOUNDARY: Id = u32::MAX - 1;
/// A number of [`super::normalize::MANY_FROM`] or more: `<n>` in a pattern.
const MANY: Id = u32::MAX - 2;
/// The last id an interned word can have (never reached: it would take four billion
/// distinct words).
const LAST_WORD: Id = u32::MAX - 3;

/// One fewer than this many one-letter tokens in a row are left alone ("i a m" is rare,
/// "s u i c i d e" is evasion).
const SPELLED_OUT_MIN: usize = 3;

#[derive(Debug, Clone)]
pub(super) enum Elem {
    Word(Id),
    Alt(Vec<Vec<Id>>),
    Gap,
    Boundary,
}

#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub(super) category: Option<CrisisCategory>,
    pub(super) elems: Vec<Elem>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Compiled {
    vocab: HashMap<String, Id>,
    aliases: HashMap<String, Vec<Id>>,
    /// Each keyword with what it stands for (through an alias, if it is one).
    fuzzy: Vec<(String, Vec<Id>)>,
    pub(super) rules: Vec<Rule>,
    /// Rule indices by the token ids they can start with.
    pub(super) positive_by_first: HashMap<Id, Vec<usize>>,
    pub(super) exception_by_first: HashMap<Id, Vec<usize>>,
}

impl Compiled {
    pub(super) fn build(source: &Source) -> Self {
        let mut c = Compiled::default();
        // Aliases first: pattern words are expanded through them too ("i'm" → "i am").
        for (from, to) in &source.aliases {
            let ids = to.iter().map(|w| c.word_id(w)).collect();
            c.aliases.insert(from.clone(), ids);
        }
        for word in &source.fuzzy {
            let ids = c.expand(word);
            c.fuzzy.push((word.clone(), ids));
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
        let next = Id::try_from(self.vocab.len()).map_or(LAST_WORD, |id| id.min(LAST_WORD));
        *self.vocab.entry(word.to_owned()).or_insert(next)
    }

    /// A word of a pattern or an alias target: the slots, a large number, or interned.
    fn word_id(&mut self, word: &str) -> Id {
        match word {
            BOUNDARY_WORD => BOUNDARY,
            MANY_WORD => MANY,
            _ if is_many(word) => MANY,
            _ => self.intern(word),
        }
    }

    /// A pattern word through the aliases, interned.
    fn expand(&mut self, word: &str) -> Vec<Id> {
        match self.aliases.get(word) {
            Some(ids) => ids.clone(),
            None => vec![self.word_id(word)],
        }
    }

    /// The ids a word of a message stands for (usually one; aliases may give more).
    fn lookup(&self, word: &str, out: &mut Vec<Id>) {
        if let Some(ids) = self.aliases.get(word) {
            out.extend_from_slice(ids);
        } else if is_many(word) {
            out.push(MANY);
        } else if let Some(&id) = self.vocab.get(word) {
            out.push(id);
        } else if let Some(ids) = self.fuzzy_lookup(word) {
            out.extend_from_slice(ids);
        } else {
            out.push(UNKNOWN);
        }
    }

    fn fuzzy_lookup(&self, word: &str) -> Option<&[Id]> {
        if word.len() < MIN_FUZZY_LEN - 1 {
            return None;
        }
        self.fuzzy
            .iter()
            .find(|(keyword, _)| within_one_edit(word.as_bytes(), keyword.as_bytes()))
            .map(|(_, ids)| ids.as_slice())
    }

    /// The message as token ids, always ending with a [`BOUNDARY`].
    pub(super) fn tokenize(&self, text: &str) -> Vec<Id> {
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
