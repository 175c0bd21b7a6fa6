//! The last entries a replica folded, by who appended them: how a replica knows an
//! entry it has already applied when the same append reaches the log twice (a client
//! that resent a script after a dropped connection), and how it knows the log changed
//! under it (an index it folded now holds another entry: Redis lost writes and numbered
//! new ones with the same indexes).
//!
//! Part of the replica's state, kept in its snapshots, so a replica started from a
//! snapshot ignores the same repeats as one that folded the whole log. No IO.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// The instance that appended an entry (`log::InstanceId`; named here as a number so
/// this module stays below `log`, which keeps a [`Recent`] in every replica).
type InstanceId = u64;

/// Entries remembered: far more than a retried append can lag behind its first run.
pub const REMEMBERED: usize = 1_024;

/// One folded entry: its index and who appended it with which request id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folded {
    pub index: u64,
    pub origin: InstanceId,
    pub id: u64,
}

/// The last [`REMEMBERED`] folded entries, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Recent(VecDeque<Folded>);

impl Recent {
    /// Whether the append `(origin, id)` was folded already (at another index).
    pub fn repeats(&self, origin: InstanceId, id: u64) -> bool {
        self.0.iter().any(|f| f.origin == origin && f.id == id)
    }

    /// Whether `index`, folded here, held another append than `(origin, id)`.
    pub fn differs(&self, index: u64, origin: InstanceId, id: u64) -> bool {
        self.0
            .iter()
            .find(|f| f.index == index)
            .is_some_and(|f| (f.origin, f.id) != (origin, id))
    }

    pub fn push(&mut self, folded: Folded) {
        if self.0.len() == REMEMBERED {
            self.0.pop_front();
        }
        self.0.push_back(folded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_and_a_changed_index_are_told_apart_and_memory_is_bounded() {
        let mut recent = Recent::default();
        for index in 1..=(REMEMBERED as u64 + 10) {
            recent.push(Folded {
                index,
                origin: 7,
                id: index * 2,
            });
        }
        assert_eq!(recent.0.len(), REMEMBERED);
        assert!(recent.repeats(7, 40));
        assert!(!recent.repeats(8, 40), "another instance's request id");
        assert!(!recent.repeats(7, 2), "forgotten: older than the window");
        assert!(!recent.differs(20, 7, 40), "the same entry read again");
        assert!(recent.differs(20, 9, 1), "another entry at a folded index");
        assert!(!recent.differs(1, 9, 1), "an index no longer remembered");
    }
}
