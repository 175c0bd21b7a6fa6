//! This instance's own entries, folded from the append script's answer: the copy Redis
//! publishes of each comes back on the room's channel a moment later, and is known
//! here by its epoch, its index and its bytes, so it is skipped before it is opened
//! or parsed. Anything else (another instance's entry, a copy whose bytes differ, an
//! entry whose answer was not folded) goes the whole way: opened, parsed, and folded
//! or found stale or diverged by the replica.
//!
//! No IO.

use std::collections::VecDeque;
use std::hash::Hasher;

use kindred_protocol::Epoch;

/// Copies expected at most: an entry whose copy was lost on pub/sub is let go after
/// this many more of this instance's appends to the room.
const EXPECTED: usize = 32;

/// The published copies of entries this instance folded from the script's answer and
/// has not seen come back yet, oldest first: (epoch, index, the stored bytes' hash).
#[derive(Debug, Default)]
pub struct Echoes(VecDeque<(Epoch, u64, u64)>);

impl Echoes {
    /// The entry at `index` in `epoch`, stored in Redis as `stored`, was folded from
    /// the script's answer: its published copy is a repeat.
    pub fn expect(&mut self, epoch: Epoch, index: u64, stored: u64) {
        if self.0.len() == EXPECTED {
            self.0.pop_front();
        }
        self.0.push_back((epoch, index, stored));
    }

    /// Whether a published entry is the copy of one folded from the script's answer
    /// (it is then no longer expected).
    pub fn is_echo(&mut self, epoch: Epoch, index: u64, stored: &str) -> bool {
        let Some(at) = self
            .0
            .iter()
            .position(|&(e, i, _)| e == epoch && i == index)
        else {
            return false;
        };
        let (_, _, hash) = self.0.remove(at).unwrap_or_default();
        hash == stored_hash([stored])
    }
}

/// The hash of an entry as Redis stores and publishes it, given in pieces (the append
/// script puts Redis's time before the sealed entry the instance sent).
pub fn stored_hash<'a>(pieces: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    for piece in pieces {
        hasher.write(piece.as_bytes());
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::{EXPECTED, Echoes, stored_hash};

    const STORED: &str = r#"{"ts":1765000000000,"v":2,"k":1,"s":"bm9uY2U"}"#;

    fn expecting(epoch: u64, index: u64) -> Echoes {
        let mut echoes = Echoes::default();
        let hash = stored_hash([r#"{"ts":"#, "1765000000000", ",", &STORED[20..]]);
        echoes.expect(epoch, index, hash);
        echoes
    }

    #[test]
    fn the_published_copy_of_an_entry_folded_from_the_answer_is_skipped_once() {
        let mut echoes = expecting(7, 42);
        assert!(echoes.is_echo(7, 42, STORED));
        // Once: a second copy (a catch-up, a resent publish) is read as any entry is.
        assert!(!echoes.is_echo(7, 42, STORED));
    }

    #[test]
    fn a_copy_with_other_bytes_another_index_or_epoch_is_read_whole() {
        let other = STORED.replace("bm9uY2U", "b3RoZXI");
        assert!(!expecting(7, 42).is_echo(7, 42, &other));
        assert!(!expecting(7, 42).is_echo(7, 43, STORED));
        assert!(!expecting(7, 42).is_echo(8, 42, STORED));
    }

    #[test]
    fn copies_lost_on_pub_sub_are_let_go() {
        let mut echoes = Echoes::default();
        for index in 0..(EXPECTED as u64 + 8) {
            echoes.expect(1, index, stored_hash([STORED]));
        }
        assert_eq!(echoes.0.len(), EXPECTED);
        assert!(!echoes.is_echo(1, 0, STORED));
        assert!(echoes.is_echo(1, EXPECTED as u64 + 7, STORED));
    }
}
