//! What the classifier sees of a message: hashed word and character n-grams.
//!
//! Words carry meaning ("want to die"); character n-grams carry what people do to
//! words when they type fast or in slang ("wnt 2 dieee", "unaliving", "od'd"), so a
//! misspelling still shares most of its pieces with the word. Every piece is hashed
//! (FNV-1a, fixed here so that a model trained today reads the same features on any
//! machine and Rust version) into [`DIM`] buckets; a message is the set of its
//! buckets, each weighted `1/√n` so a long message does not shout louder than a short
//! one. Training and inference call the same [`pieces`].

/// The hashed feature space.
pub const DIM: usize = 1 << 17;

/// The longest text read (in characters): a crisis clause is a sentence, and the cost
/// of a message must stay bounded whatever its length.
const MAX_CHARS: usize = 2_000;

/// A message as the classifier reads it: its buckets (sorted, without repeats) and the
/// weight each carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    pub buckets: Vec<u32>,
    pub weight: f32,
}

/// The message's pieces, hashed.
pub fn pieces(text: &str) -> Features {
    let words = words(text);
    let mut buckets = Vec::with_capacity(words.len() * 12);
    let mut prev: Option<&str> = None;
    for w in &words {
        buckets.push(hash(b'w', w.as_bytes(), &[]));
        if let Some(p) = prev {
            buckets.push(hash(b'b', p.as_bytes(), w.as_bytes()));
        }
        prev = Some(w);
        // Character n-grams of the word with its edges marked: "<die>" gives "<di",
        // "die", "ie>", "<die", "die>", …
        let marked: Vec<char> = std::iter::once('<')
            .chain(w.chars())
            .chain(std::iter::once('>'))
            .collect();
        if marked.len() < 5 {
            continue;
        }
        for n in 3..=5 {
            for gram in marked.windows(n) {
                let s: String = gram.iter().collect();
                buckets.push(hash(b'c', s.as_bytes(), &[]));
            }
        }
    }
    buckets.sort_unstable();
    buckets.dedup();
    let weight = if buckets.is_empty() {
        0.0
    } else {
        1.0 / (buckets.len() as f32).sqrt()
    };
    Features { buckets, weight }
}

/// The message's words: lower case, apostrophes dropped ("don't" is "dont"), a letter
/// repeated more than twice kept twice ("soooo" is "soo"), numbers kept, and every
/// emoji or other symbol a word of its own.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut run = (None, 0usize);
    for c in text.chars().take(MAX_CHARS) {
        if c.is_alphanumeric() {
            for c in c.to_lowercase() {
                run = if run.0 == Some(c) {
                    (Some(c), run.1 + 1)
                } else {
                    (Some(c), 1)
                };
                if run.1 <= 2 {
                    word.push(c);
                }
            }
            continue;
        }
        if matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`') {
            continue;
        }
        run = (None, 0);
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        // Emoji and symbols speak too (💀, 🔪, 🩹); spaces and punctuation do not.
        if !c.is_whitespace() && !c.is_ascii_punctuation() && !is_joiner(c) {
            words.push(c.to_string());
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Characters that only shape an emoji (variation selectors, the zero-width joiner,
/// skin tones): not words of their own.
fn is_joiner(c: char) -> bool {
    matches!(
        c,
        '\u{200d}' | '\u{fe0e}' | '\u{fe0f}' | '\u{1f3fb}'..='\u{1f3ff}'
    )
}

/// FNV-1a over a kind tag and one or two strings, into [`DIM`] buckets.
fn hash(kind: u8, a: &[u8], b: &[u8]) -> u32 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for &byte in std::iter::once(&kind).chain(a).chain(b" ").chain(b) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(PRIME);
    }
    (h % DIM as u64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_read_as_people_type_them() {
        assert_eq!(
            words("I DON'T want to be here anymoooore 😔🫠"),
            [
                "i", "dont", "want", "to", "be", "here", "anymoore", "😔", "🫠"
            ]
        );
        assert_eq!(words("od'd... on 30"), ["odd", "on", "30"]);
        assert_eq!(words("👍🏽 ok"), ["👍", "ok"]);
    }

    /// How many buckets two texts share.
    fn shared(a: &str, b: &str) -> usize {
        let (a, b) = (pieces(a), pieces(b));
        a.buckets
            .iter()
            .filter(|x| b.buckets.binary_search(x).is_ok())
            .count()
    }

    #[test]
    fn slang_and_slips_share_their_pieces_with_the_word() {
        // Character n-grams carry what typing does to a word.
        assert!(
            shared("unaliving myself", "unalive myself")
                > 3 * shared("unaliving myself", "walking the dog")
        );
        assert!(shared("overdosd", "overdosed") > 3 * shared("overdosd", "ordered food"));
        assert!(pieces("").buckets.is_empty());
    }

    #[test]
    fn the_pieces_of_a_text_are_the_same_every_time() {
        // Fixed hashing: a model trained on one machine reads the same buckets on another.
        assert_eq!(pieces("end it all").buckets, pieces("end it all").buckets);
        assert_eq!(hash(b'w', b"die", &[]), hash(b'w', b"die", &[]));
        assert_ne!(hash(b'w', b"die", &[]), hash(b'c', b"die", &[]));
    }
}
