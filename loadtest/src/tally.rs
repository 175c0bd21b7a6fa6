//! A room's totals over all its members, for the report: what each member's
//! [`ConnCounts`] add up to, with the gaps the server's refusals left excused (a
//! refused message never existed in the room). Pure, no IO.

use serde::Serialize;

use crate::accounting::{ConnCounts, SeqCounts};

/// Per-room totals over all its members, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoomTally {
    pub room: u32,
    pub receivers: u64,
    pub timeline: SeqCounts,
    pub messages: SeqCounts,
    /// Indexed by sender: that sender's messages as all receivers saw them.
    pub senders: Vec<SeqCounts>,
    pub tail_missing: u64,
    pub misrouted: u64,
    pub resets: u64,
    /// Gaps left by messages the server refused (not counted as missing).
    pub refused_gaps: u64,
}

/// How many of the sorted numbers in `refused` lie strictly between `first` and `last`.
pub fn refused_within(refused: &[u64], first: u64, last: u64) -> u64 {
    if last <= first + 1 {
        return 0;
    }
    let lo = refused.partition_point(|&n| n <= first);
    let hi = refused.partition_point(|&n| n < last);
    hi.saturating_sub(lo) as u64
}

impl RoomTally {
    /// Adds one member's counts. `refused[s]` lists, sorted, the numbers of sender
    /// `s`'s messages that the server refused: they never existed in the room, so
    /// the gaps they leave are not loss.
    pub fn add(&mut self, c: &ConnCounts, refused: &[Vec<u64>]) {
        self.receivers += 1;
        self.timeline += c.timeline;
        if self.senders.len() < c.senders.len() {
            self.senders.resize(c.senders.len(), SeqCounts::default());
        }
        for (s, counts) in c.senders.iter().enumerate() {
            let mut counts = *counts;
            if let (Some(Some((first, last))), Some(refused)) =
                (c.sender_ranges.get(s), refused.get(s))
            {
                let excused = refused_within(refused, *first, *last).min(counts.missing);
                counts.missing -= excused;
                self.refused_gaps += excused;
            }
            self.senders[s] += counts;
            self.messages += counts;
        }
        self.misrouted += c.misrouted;
        self.resets += c.resets;
    }

    /// True when every member of the room saw every message once, in order.
    pub fn clean(&self) -> bool {
        self.timeline.clean()
            && self.messages.clean()
            && self.tail_missing == 0
            && self.misrouted == 0
            && self.resets == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounting::ConnAccount;
    use crate::payload::Payload;

    fn counts(received: u64, missing: u64, duplicates: u64, reordered: u64) -> SeqCounts {
        SeqCounts {
            received,
            missing,
            duplicates,
            reordered,
        }
    }

    fn ours(room: u32, sender: u32, n: u64, sent_nanos: u64) -> Option<Payload> {
        Some(Payload {
            room,
            sender,
            n,
            sent_nanos,
        })
    }

    #[test]
    fn room_tally_sums_members_and_senders() {
        let mut a = ConnAccount::joined(4, 0);
        a.message(1, ours(4, 1, 1, 0), 0);
        a.message(3, ours(4, 1, 3, 0), 0);
        let mut b = ConnAccount::joined(4, 0);
        b.message(1, ours(4, 1, 1, 0), 0);
        b.message(1, ours(4, 1, 1, 0), 0);
        let mut t = RoomTally {
            room: 4,
            ..RoomTally::default()
        };
        t.add(&a.counts(), &[]);
        t.add(&b.counts(), &[]);
        assert_eq!(t.receivers, 2);
        assert_eq!(t.senders.len(), 2);
        assert_eq!(t.senders[0], SeqCounts::default());
        assert_eq!(t.senders[1], counts(4, 1, 1, 0));
        assert_eq!(t.timeline, counts(4, 1, 1, 0));
        assert!(!t.clean());
    }

    #[test]
    fn refused_messages_are_not_loss() {
        // Sender 0's n = 3 and 5 were refused; this member saw 1, 2, 4, 6 and 8.
        let mut a = ConnAccount::joined(0, 0);
        for (seq, n) in [(1, 1), (2, 2), (3, 4), (4, 6), (5, 8)] {
            a.message(seq, ours(0, 0, n, 0), 0);
        }
        let c = a.counts();
        assert_eq!(c.sender_ranges, vec![Some((1, 8))]);
        assert_eq!(c.senders[0].missing, 3);
        let mut t = RoomTally::default();
        t.add(&c, &[vec![3, 5, 9]]);
        assert_eq!(t.messages.missing, 1, "n = 7 is really lost");
        assert_eq!(t.refused_gaps, 2);
        assert!(t.timeline.clean());
    }

    #[test]
    fn refused_within_counts_strictly_inside() {
        let r = [2, 3, 5, 9];
        assert_eq!(refused_within(&r, 1, 10), 4);
        assert_eq!(refused_within(&r, 2, 9), 2);
        assert_eq!(refused_within(&r, 3, 4), 0);
        assert_eq!(refused_within(&r, 9, 9), 0);
        assert_eq!(refused_within(&[], 0, 100), 0);
    }
}
