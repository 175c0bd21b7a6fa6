//! The policy's first look at a message: one pass over the copy rustrict would read,
//! which says whether anything in it could be a word the room's policy counts. Most
//! messages hold nothing of the kind, and for them the full analysis (a millisecond's
//! fraction of rustrict per message) is skipped.
//!
//! The screen may say "look" for nothing, never "clear" for something rustrict would
//! find. It is rustrict's own matcher with its bookkeeping taken out, run over
//! rustrict's own data (its trie, with Kindred's safe words, and its table of
//! replacements, read once through the crate's `serde` feature):
//! - the text is prepared as rustrict prepares it (decomposed, its accents, unassigned
//!   and private-use characters and rustrict's banned characters dropped, recomposed;
//!   nothing to do for ASCII), with the space rustrict appends at the end;
//! - each character stands for every replacement rustrict reads it as (`@` for a or o,
//!   `1` for i or l, a Cyrillic `а` for a, …), or for itself;
//! - a partial match advances along every child its characters lead to, and survives a
//!   character that rustrict lets it survive: a skippable one (anything but a letter,
//!   whitespace included), one that repeats the node's own character, or one that
//!   repeats a replacement of the character before it (rustrict keeps the match's
//!   last character; the screen allows any the previous character could have been);
//! - a new match starts at every character, and is kept, as rustrict keeps it, once per
//!   node and per whether a separator came before it, with the earliest start;
//! - a word reached counts when rustrict's confidence in it could be above zero: its
//!   length, its span, the separators before and after it (known at the next
//!   character, as rustrict knows them when it commits) and its type, with the spaces,
//!   skips and replacements that lower it taken as none. So "nig" inside "tonight"
//!   (no separator on either side) is not looked at, as rustrict rejects it; "night",
//!   which rustrict lets off as a false positive, still is.
//!
//! What rustrict adds on top only ever takes a match away: false positives ("push it"
//! cancels "sh*t"), safe words, the penalties the screen takes as none. The policy
//! screens each segment of the analysed copy (`analysed::segments`) just as rustrict
//! reads it, so a match the screen cannot see is one rustrict cannot make. The tests
//! run both side by side over the crisis corpus, the policy's lists and generated
//! obfuscations.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use rustrict::{Banned, Replacements, Trie, Type};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use super::KINDRED_TRIE;

/// Partial matches alive at once beyond which the screen stops counting and says
/// "look": only symbol clutter gets there, and the full analysis is bounded for it.
const MAX_ALIVE: usize = 256;

/// Every type of content some policy counts: the screen keeps the words of these
/// types and is asked about one policy's threshold at a time.
fn any_threshold() -> Type {
    Type::PROFANE | Type::SEXUAL | Type::OFFENSIVE | Type::MEAN
}

/// One node of the screen's trie, a pruned copy of rustrict's.
struct Node {
    /// Children by the character that leads to each, sorted by character.
    children: Vec<(char, u32)>,
    /// The character that leads here from the parent ('\0' at the root).
    last: char,
    /// The type of the word that ends here (`NONE` if none, or one no policy counts).
    word: Type,
    /// That word's whole type as rustrict has it (evasive and spam included), for its
    /// confidence.
    typ: Type,
    /// Characters from the root (rustrict's `depth`).
    depth: u8,
    /// The word has a space in it.
    contains_space: bool,
    /// The types of every word at or below this node: a match that cannot reach the
    /// threshold is not followed.
    reach: Type,
}

impl Node {
    fn child(&self, c: char) -> Option<u32> {
        self.children
            .binary_search_by_key(&c, |(k, _)| *k)
            .ok()
            .map(|i| self.children[i].1)
    }
}

/// The screen: rustrict's words that some policy counts, its replacements and its
/// banned characters.
pub(super) struct Screen {
    nodes: Vec<Node>,
    root: u32,
    /// What each ASCII character may stand for.
    ascii: Vec<Vec<char>>,
    ascii_banned: [bool; 128],
    /// What other characters with a replacement may stand for.
    other: HashMap<char, Vec<char>>,
    banned: HashSet<char>,
}

/// The shape of rustrict's trie as its `serde` feature writes it (fields not read
/// here are skipped).
#[derive(Deserialize)]
struct TrieData {
    root: NodeData,
}

#[derive(Deserialize)]
struct NodeData {
    children: HashMap<char, NodeData>,
    word: bool,
    typ: Type,
    depth: u8,
    contains_space: bool,
}

pub(super) static SCREEN: LazyLock<Screen> = LazyLock::new(|| Screen::new(&KINDRED_TRIE));

impl Screen {
    /// Reads rustrict's data through its `serde` feature. Panics only if rustrict's
    /// serialised form changes shape, which the tests would show first.
    fn new(trie: &Trie) -> Self {
        let trie: TrieData = serde_json::to_vec(trie)
            .and_then(|json| serde_json::from_slice(&json))
            .expect("rustrict's trie reads back through serde");
        let replacements: HashMap<char, String> = serde_json::to_value(Replacements::default())
            .and_then(serde_json::from_value)
            .expect("rustrict's replacements read back through serde");
        let banned: HashSet<char> = serde_json::to_value(Banned::default())
            .and_then(serde_json::from_value)
            .expect("rustrict's banned characters read back through serde");
        let mut nodes = Vec::new();
        let root = prune(&trie.root, '\0', &mut nodes).unwrap_or_else(|| {
            nodes.push(Node {
                children: Vec::new(),
                last: '\0',
                word: Type::NONE,
                typ: Type::NONE,
                depth: 0,
                contains_space: false,
                reach: Type::NONE,
            });
            (nodes.len() - 1) as u32
        });
        let alternatives = |c: char| -> Vec<char> {
            match replacements.get(&c) {
                Some(r) => r.chars().collect(),
                None => vec![c],
            }
        };
        let ascii = (0u8..128).map(|b| alternatives(char::from(b))).collect();
        let mut ascii_banned = [false; 128];
        for c in &banned {
            if c.is_ascii() {
                ascii_banned[*c as usize] = true;
            }
        }
        let other = replacements
            .keys()
            .filter(|c| !c.is_ascii())
            .map(|&c| (c, alternatives(c)))
            .collect();
        Screen {
            nodes,
            root,
            ascii,
            ascii_banned,
            other,
            banned,
        }
    }

    /// What rustrict may read `c` as: its replacements, or itself.
    fn alternatives<'a>(&'a self, c: &'a char) -> &'a [char] {
        if c.is_ascii() {
            &self.ascii[*c as usize]
        } else {
            self.other
                .get(c)
                .map_or(std::slice::from_ref(c), Vec::as_slice)
        }
    }

    /// Whether rustrict keeps `c` when it prepares a text (its `filter_char`).
    fn kept(&self, c: char) -> bool {
        use finl_unicode::categories::{CharacterCategories, MinorCategory};
        let dropped = matches!(
            c.get_minor_category(),
            MinorCategory::Cn | MinorCategory::Co | MinorCategory::Mn
        ) && !matches!(c, '\u{3099}' | '\u{309A}');
        !(dropped || self.banned.contains(&c))
    }

    /// Whether rustrict, reading `segment` on its own, could find a word of
    /// `threshold`'s types: `false` means it cannot.
    #[cfg(test)]
    pub(super) fn looks(&self, segment: &str, threshold: Type) -> bool {
        let chars: Vec<char> = segment.chars().collect();
        self.looks_at(&chars, threshold, &mut Trail::default())
    }

    /// [`Screen::looks`] at a segment's chars, following the matches in `trail`'s
    /// buffers, which are kept for the next segment.
    pub(super) fn looks_at(&self, segment: &[char], threshold: Type, trail: &mut Trail) -> bool {
        let Trail {
            mut alive,
            mut next,
            mut ended,
            mut previous,
        } = std::mem::take(trail);
        alive.clear();
        next.clear();
        ended.clear();
        previous.clear();
        let mut walk = Walk {
            screen: self,
            threshold,
            alive,
            next,
            ended,
            previous,
            previous_char: None,
            separate: true,
            at: 0,
        };
        let found = if segment.iter().all(char::is_ascii) {
            segment
                .iter()
                .filter(|&&c| !self.ascii_banned[c as usize])
                .any(|&c| walk.step(c))
        } else {
            segment
                .iter()
                .copied()
                .nfd()
                .filter(|&c| self.kept(c))
                .nfc()
                .any(|c| walk.step(c))
        };
        // rustrict reads one space after the text; a word that space would complete
        // has no character after it to decide it.
        let found = found || walk.step(' ') || !walk.ended.is_empty();
        *trail = Trail {
            alive: walk.alive,
            next: walk.next,
            ended: walk.ended,
            previous: walk.previous,
        };
        found
    }
}

/// Copies the part of rustrict's trie under `data` that leads to a word some policy
/// counts into `nodes`; its index, or `None` if nothing below counts.
fn prune(data: &NodeData, last: char, nodes: &mut Vec<Node>) -> Option<u32> {
    let word = if data.word {
        data.typ & any_threshold()
    } else {
        Type::NONE
    };
    let mut reach = word;
    let mut children = Vec::new();
    for (&c, child) in &data.children {
        if let Some(i) = prune(child, c, nodes) {
            reach |= nodes[i as usize].reach;
            children.push((c, i));
        }
    }
    if reach == Type::NONE {
        return None;
    }
    children.sort_unstable_by_key(|(c, _)| *c);
    nodes.push(Node {
        children,
        last,
        word,
        typ: data.typ,
        depth: data.depth,
        contains_space: data.contains_space,
        reach,
    });
    Some((nodes.len() - 1) as u32)
}

/// A partial match as the screen follows it: like rustrict, one per node and per
/// whether a separator came before its start, with the earliest start.
#[derive(Clone, Copy)]
struct Alive {
    node: u32,
    separate: bool,
    start: u32,
}

/// A counted word the last character completed, at `end`: rustrict decides it once
/// it knows whether a separator follows.
#[derive(Clone, Copy)]
struct Ended {
    node: u32,
    separate: bool,
    start: u32,
    end: u32,
}

/// The buffers a pass of the screen follows its matches in, lent from one pass to the
/// next.
#[derive(Default)]
pub(super) struct Trail {
    alive: Vec<Alive>,
    next: Vec<Alive>,
    ended: Vec<Ended>,
    previous: Vec<char>,
}

/// One pass of the screen over a text: the partial matches alive after each
/// character.
struct Walk<'a> {
    screen: &'a Screen,
    threshold: Type,
    alive: Vec<Alive>,
    next: Vec<Alive>,
    ended: Vec<Ended>,
    /// What the previous character may have stood for.
    previous: Vec<char>,
    previous_char: Option<char>,
    /// The previous character was a separator (rustrict's `separate`; true at the
    /// start).
    separate: bool,
    /// The position of the next character.
    at: u32,
}

/// Keeps `m`, or the earlier start of the match already kept for its node and
/// separator (rustrict's `Match::combine`).
fn keep(alive: &mut Vec<Alive>, m: Alive) {
    match alive
        .iter_mut()
        .find(|a| a.node == m.node && a.separate == m.separate)
    {
        Some(a) => a.start = a.start.min(m.start),
        None => alive.push(m),
    }
}

impl Walk<'_> {
    /// Reads one prepared character; `true` when a counted word may be found (or the
    /// matches alive are too many to follow).
    fn step(&mut self, c: char) -> bool {
        let screen = self.screen;
        let alternatives = screen.alternatives(&c);
        let skippable = !c.is_alphabetic() || rustrict::is_whitespace(c);
        // The words the previous character completed, now that rustrict would know
        // whether a separator follows them.
        for e in self.ended.drain(..) {
            if confident(&screen.nodes[e.node as usize], e, skippable) {
                return true;
            }
        }
        // A new match starts at every character.
        let camel =
            c.is_ascii_uppercase() && self.previous_char.is_some_and(|p| !p.is_ascii_uppercase());
        let seed = Alive {
            node: screen.root,
            separate: self.separate || camel,
            start: self.at,
        };
        // A repeat of what the previous character stood for keeps every match.
        let repeats = skippable || alternatives.iter().any(|a| self.previous.contains(a));
        self.next.clear();
        for (k, m) in self.alive.iter().chain(std::iter::once(&seed)).enumerate() {
            let node = &screen.nodes[m.node as usize];
            let seeded = k == self.alive.len();
            let survives = !seeded && (repeats || alternatives.contains(&node.last));
            if survives {
                keep(&mut self.next, *m);
            }
            for &a in alternatives {
                let Some(child) = node.child(a) else {
                    continue;
                };
                let child_node = &screen.nodes[child as usize];
                if child_node.word.is(self.threshold) {
                    self.ended.push(Ended {
                        node: child,
                        separate: m.separate,
                        start: m.start,
                        end: self.at,
                    });
                }
                if child_node.reach.is(self.threshold) {
                    keep(&mut self.next, Alive { node: child, ..*m });
                }
            }
        }
        if self.next.len() > MAX_ALIVE {
            return true;
        }
        std::mem::swap(&mut self.alive, &mut self.next);
        self.previous.clear();
        self.previous.extend_from_slice(alternatives);
        self.previous_char = Some(c);
        self.separate = skippable;
        self.at += 1;
        false
    }
}

/// Whether rustrict's confidence in the word `e` found (its `Match::confidence`) could
/// be above zero, with the spaces, skips and replacements that would lower it taken as
/// none and its span as the longest the screen saw.
fn confident(node: &Node, e: Ended, end_separate: bool) -> bool {
    let typ = node.typ;
    let mut confidence = i64::from(node.depth.max(1).ilog2())
        + i64::from(e.end.saturating_sub(e.start).max(1).ilog2());
    if node.depth == 1 {
        confidence += 1;
    } else {
        if !e.separate {
            confidence -= 2;
            if node.contains_space {
                confidence -= 3;
            }
        }
        if !end_separate {
            confidence -= 1;
        }
        if !e.separate && !end_separate {
            confidence -= 1;
        }
    }
    if typ.is(Type::SEVERE) {
        confidence += 3;
    } else if typ.is(Type::MODERATE_OR_HIGHER)
        && (node.depth == 1 || typ.isnt(Type::EVASIVE & Type::SEVERE))
    {
        confidence += 2;
    } else if typ.is(Type::MILD_OR_HIGHER)
        && (node.depth == 1 || typ.isnt(Type::EVASIVE & Type::MODERATE_OR_HIGHER))
    {
        confidence += 1;
    }
    if typ.is(Type::EVASIVE & Type::SEVERE) {
        confidence -= 3;
    } else if typ.is(Type::EVASIVE & Type::MODERATE_OR_HIGHER) {
        confidence -= 2;
    } else if typ.is(Type::EVASIVE & Type::MILD) {
        confidence -= 1;
    }
    confidence > 0
}

#[cfg(test)]
impl Screen {
    /// Every word the screen holds, with its type: the seeds of the tests' obfuscations.
    fn words(&self) -> Vec<(String, Type)> {
        let mut words = Vec::new();
        let mut stack = vec![(self.root, String::new())];
        while let Some((n, prefix)) = stack.pop() {
            let node = &self.nodes[n as usize];
            if node.word != Type::NONE {
                words.push((prefix.clone(), node.word));
            }
            for &(c, child) in &node.children {
                stack.push((child, format!("{prefix}{c}")));
            }
        }
        words.sort_by(|a, b| a.0.cmp(&b.0));
        words
    }
}

#[cfg(test)]
mod tests;
