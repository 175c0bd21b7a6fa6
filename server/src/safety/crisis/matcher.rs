//! Matching: the rules that can start at each token of a message, the idioms that cancel
//! them, and the most severe category that is left.

use kindred_protocol::CrisisCategory;

use super::compile::{BOUNDARY, Compiled, Elem, Id};
use super::{MAX_GAP, severity};

impl Compiled {
    /// The most severe crisis category the text expresses, if any.
    pub(super) fn detect(&self, text: &str) -> Option<CrisisCategory> {
        let tokens = self.tokenize(text);
        let mut best: Option<CrisisCategory> = None;
        // Idioms are rare, so their mask is only computed once something has matched.
        let mut excepted: Option<Vec<bool>> = None;
        for start in 0..tokens.len() {
            let Some(candidates) = self.positive_by_first.get(&tokens[start]) else {
                continue;
            };
            for &index in candidates {
                let rule = &self.rules[index];
                let Some(category) = rule.category else {
                    continue;
                };
                if best.is_some_and(|b| severity(b) >= severity(category)) {
                    continue;
                }
                let Some(end) = match_elems(&rule.elems, &tokens, start) else {
                    continue;
                };
                let mask = excepted.get_or_insert_with(|| self.exception_mask(&tokens));
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
