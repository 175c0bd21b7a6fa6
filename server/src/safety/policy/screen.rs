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
//! - a new match starts at every character.
//!
//! What rustrict adds on top only ever takes a match away: false positives ("push it"
//! cancels "sh*t"), safe words, the confidence of a match (spaces, replacements, word
//! edges), the per-match counters. A word the screen reaches is "look" whatever its
//! confidence would be. The policy screens each segment of the analysed copy
//! (`analysed::segments`) just as rustrict reads it, so a match the screen cannot see
//! is one rustrict cannot make. The tests run both side by side over the crisis
//! corpus, the policy's lists and generated obfuscations.

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
    pub(super) fn looks(&self, segment: &str, threshold: Type) -> bool {
        let mut walk = Walk {
            screen: self,
            threshold,
            alive: Vec::with_capacity(16),
            next: Vec::with_capacity(16),
            previous: Vec::new(),
        };
        let found = if segment.is_ascii() {
            segment
                .bytes()
                .filter(|&b| !self.ascii_banned[usize::from(b)])
                .any(|b| walk.step(char::from(b)))
        } else {
            segment
                .chars()
                .nfd()
                .filter(|&c| self.kept(c))
                .nfc()
                .any(|c| walk.step(c))
        };
        // rustrict reads one space after the text.
        found || walk.step(' ')
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
        reach,
    });
    Some((nodes.len() - 1) as u32)
}

/// One pass of the screen over a text: the partial matches alive after each
/// character.
struct Walk<'a> {
    screen: &'a Screen,
    threshold: Type,
    alive: Vec<u32>,
    next: Vec<u32>,
    /// What the previous character may have stood for.
    previous: Vec<char>,
}

impl Walk<'_> {
    /// Reads one prepared character; `true` when a counted word may end here (or the
    /// matches alive are too many to follow).
    fn step(&mut self, c: char) -> bool {
        let screen = self.screen;
        let alternatives = screen.alternatives(&c);
        let skippable = !c.is_alphabetic() || rustrict::is_whitespace(c);
        self.next.clear();
        // A new match starts at every character: the root is always alive.
        let root = screen.root;
        for &n in self.alive.iter().chain(std::iter::once(&root)) {
            let node = &screen.nodes[n as usize];
            let survives = n != root
                && (skippable
                    || alternatives.contains(&node.last)
                    || alternatives.iter().any(|a| self.previous.contains(a)));
            if survives && !self.next.contains(&n) {
                self.next.push(n);
            }
            for &a in alternatives {
                let Some(child) = node.child(a) else {
                    continue;
                };
                let child_node = &screen.nodes[child as usize];
                if child_node.word.is(self.threshold) {
                    return true;
                }
                if child_node.reach.is(self.threshold) && !self.next.contains(&child) {
                    self.next.push(child);
                }
            }
        }
        if self.next.len() > MAX_ALIVE {
            return true;
        }
        std::mem::swap(&mut self.alive, &mut self.next);
        self.previous.clear();
        self.previous.extend_from_slice(alternatives);
        false
    }
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
