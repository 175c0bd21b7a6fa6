//! Loss, duplicate and reordering accounting per connection: pure, no IO. The room's
//! totals over its members are `tally`; latency math is `latency`.
//!
//! Each connection keeps one [`ConnAccount`]. It checks two sequences:
//! - the room's timeline `seq`, which the server promises strictly increasing by one
//!   for every member: a gap is an event the member never saw;
//! - each sender's own message number `n` (from the message text): this catches a
//!   server that delivers the right count of events but the wrong messages, twice, or
//!   out of order, and names the sender.
//!
//! A member only owes the events after its `welcome.seq`; the backlog before that is
//! skipped. After a resume the replay continues the same sequences, so a resume
//! without loss leaves no trace in the counts. At the end, [`tail_missing`] compares
//! what each member saw last with the room's last acknowledged seq, which catches loss
//! at the very end of a run that no later event would reveal as a gap.

use std::ops::AddAssign;

use serde::Serialize;

use crate::payload::Payload;

/// How one sequence looked to one receiver.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeqCounts {
    /// Numbers observed, duplicates included.
    pub received: u64,
    /// Numbers skipped over and not (yet) seen late.
    pub missing: u64,
    /// Numbers seen more than once (or too late to tell, see [`SeqTracker`]).
    pub duplicates: u64,
    /// Numbers that arrived after a higher one.
    pub reordered: u64,
}

impl SeqCounts {
    /// True when nothing was lost, doubled or reordered.
    pub fn clean(&self) -> bool {
        self.missing == 0 && self.duplicates == 0 && self.reordered == 0
    }
}

impl AddAssign for SeqCounts {
    fn add_assign(&mut self, o: Self) {
        self.received += o.received;
        self.missing += o.missing;
        self.duplicates += o.duplicates;
        self.reordered += o.reordered;
    }
}

/// What one observation meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The next number, or the first one.
    InOrder,
    /// Ahead of the next number: this many were skipped.
    Gap(u64),
    /// Already seen.
    Duplicate,
    /// A skipped number arriving late.
    Late,
}

/// Tracks one increasing sequence with a window of the last [`SeqTracker::WINDOW`]
/// numbers, enough to tell a duplicate from a late arrival. A number older than the
/// window is counted as a duplicate: either way the stream was wrong.
#[derive(Debug, Clone, Default)]
pub struct SeqTracker {
    /// The first number observed (not set by [`SeqTracker::after`]).
    first: Option<u64>,
    last: Option<u64>,
    /// Bit `i` set: `last - i` was seen.
    window: u128,
    counts: SeqCounts,
}

impl SeqTracker {
    pub const WINDOW: u64 = 128;

    /// Starts at the first number observed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Expects `last + 1` next; `last` itself counts as seen.
    pub fn after(last: u64) -> Self {
        let mut t = Self::default();
        t.restart_after(last);
        t
    }

    /// Forgets the window (not the counts) and expects `last + 1` next.
    pub fn restart_after(&mut self, last: u64) {
        self.last = Some(last);
        self.window = 1;
    }

    pub fn last(&self) -> Option<u64> {
        self.last
    }

    pub fn counts(&self) -> SeqCounts {
        self.counts
    }

    /// (first, last) observed, for a tracker that started at its first observation.
    pub fn range(&self) -> Option<(u64, u64)> {
        Some((self.first?, self.last?))
    }

    pub fn observe(&mut self, n: u64) -> Seen {
        self.counts.received += 1;
        let Some(last) = self.last else {
            self.first = Some(n);
            self.last = Some(n);
            self.window = 1;
            return Seen::InOrder;
        };
        if n > last {
            let shift = n - last;
            self.window = if shift >= Self::WINDOW {
                0
            } else {
                self.window << shift
            } | 1;
            self.last = Some(n);
            let skipped = shift - 1;
            self.counts.missing += skipped;
            return if skipped == 0 {
                Seen::InOrder
            } else {
                Seen::Gap(skipped)
            };
        }
        let age = last - n;
        if age >= Self::WINDOW {
            self.counts.duplicates += 1;
            return Seen::Duplicate;
        }
        let bit = 1u128 << age;
        if self.window & bit != 0 {
            self.counts.duplicates += 1;
            Seen::Duplicate
        } else {
            self.window |= bit;
            self.counts.missing = self.counts.missing.saturating_sub(1);
            self.counts.reordered += 1;
            Seen::Late
        }
    }
}

/// What a received message meant for the accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// History from before this member joined: not owed, not counted.
    Backlog,
    /// One of our messages for this room.
    Ours { latency_nanos: u64, seen: Seen },
    /// A message whose text is not a load-test text (another client in the room).
    Foreign,
    /// A load-test message that belongs to another room.
    Misrouted,
}

/// Senders per room above this are treated as garbage rather than allocated.
const MAX_SENDERS: u32 = 100_000;

/// One connection's (one member incarnation's) view of its room.
#[derive(Debug, Clone)]
pub struct ConnAccount {
    room: u32,
    /// Timeline seqs up to this one predate the member and are skipped.
    skip_through: u64,
    timeline: SeqTracker,
    senders: Vec<SeqTracker>,
    foreign: u64,
    misrouted: u64,
    resets: u64,
}

/// The totals of a [`ConnAccount`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnCounts {
    pub room: u32,
    pub timeline: SeqCounts,
    /// Indexed by sender.
    pub senders: Vec<SeqCounts>,
    /// Indexed by sender: the first and last message number seen.
    pub sender_ranges: Vec<Option<(u64, u64)>>,
    pub foreign: u64,
    pub misrouted: u64,
    pub resets: u64,
    /// The last timeline seq seen (or the join point if none was).
    pub last_seq: u64,
}

impl ConnCounts {
    /// All senders together.
    pub fn messages(&self) -> SeqCounts {
        let mut total = SeqCounts::default();
        for s in &self.senders {
            total += *s;
        }
        total
    }
}

impl ConnAccount {
    /// A member of `room` whose `welcome` named `welcome_seq` as the timeline head.
    pub fn joined(room: u32, welcome_seq: u64) -> Self {
        Self {
            room,
            skip_through: welcome_seq,
            timeline: SeqTracker::after(welcome_seq),
            senders: Vec::new(),
            foreign: 0,
            misrouted: 0,
            resets: 0,
        }
    }

    /// The seq to resume from.
    pub fn last_seq(&self) -> u64 {
        self.timeline.last().unwrap_or(self.skip_through)
    }

    /// A resume the server could not honour (`resume: reset`): what was missed shows
    /// up as gaps in the per-sender numbers; the timeline restarts at the snapshot.
    pub fn reset(&mut self, welcome_seq: u64) {
        self.resets += 1;
        self.skip_through = welcome_seq;
        self.timeline.restart_after(welcome_seq);
    }

    /// A timeline event other than a message.
    pub fn event(&mut self, seq: u64) -> Option<Seen> {
        (seq > self.skip_through).then(|| self.timeline.observe(seq))
    }

    /// A message event, with its decoded text if it is ours, received at `now_nanos`.
    pub fn message(&mut self, seq: u64, payload: Option<Payload>, now_nanos: u64) -> Delivery {
        if seq <= self.skip_through {
            return Delivery::Backlog;
        }
        self.timeline.observe(seq);
        let Some(p) = payload else {
            self.foreign += 1;
            return Delivery::Foreign;
        };
        if p.room != self.room || p.sender >= MAX_SENDERS {
            self.misrouted += 1;
            return Delivery::Misrouted;
        }
        let i = p.sender as usize;
        if self.senders.len() <= i {
            self.senders.resize_with(i + 1, SeqTracker::new);
        }
        let seen = self.senders[i].observe(p.n);
        Delivery::Ours {
            latency_nanos: now_nanos.saturating_sub(p.sent_nanos),
            seen,
        }
    }

    /// The timeline's counts alone (cheap: for live progress).
    pub fn counts_timeline(&self) -> SeqCounts {
        self.timeline.counts()
    }

    pub fn counts(&self) -> ConnCounts {
        ConnCounts {
            room: self.room,
            timeline: self.timeline.counts(),
            senders: self.senders.iter().map(SeqTracker::counts).collect(),
            sender_ranges: self.senders.iter().map(SeqTracker::range).collect(),
            foreign: self.foreign,
            misrouted: self.misrouted,
            resets: self.resets,
            last_seq: self.last_seq(),
        }
    }
}

/// Timeline events a member still connected at the end never saw, given the room's
/// highest acknowledged seq once every sender has stopped and been acknowledged.
pub fn tail_missing(member_last_seq: u64, room_last_acked: u64) -> u64 {
    room_last_acked.saturating_sub(member_last_seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(received: u64, missing: u64, duplicates: u64, reordered: u64) -> SeqCounts {
        SeqCounts {
            received,
            missing,
            duplicates,
            reordered,
        }
    }

    /// Feeds `seqs` to a tracker that expects `after + 1` first.
    fn check(after: u64, seqs: &[u64]) -> (Vec<Seen>, SeqCounts) {
        let mut t = SeqTracker::after(after);
        let seen = seqs.iter().map(|&n| t.observe(n)).collect();
        (seen, t.counts())
    }

    #[test]
    fn in_order_is_clean() {
        let (seen, c) = check(10, &[11, 12, 13]);
        assert_eq!(seen, vec![Seen::InOrder; 3]);
        assert_eq!(c, counts(3, 0, 0, 0));
        assert!(c.clean());
    }

    #[test]
    fn a_gap_is_loss() {
        let (seen, c) = check(0, &[1, 2, 5, 6]);
        assert_eq!(
            seen,
            vec![Seen::InOrder, Seen::InOrder, Seen::Gap(2), Seen::InOrder]
        );
        assert_eq!(c, counts(4, 2, 0, 0));
    }

    #[test]
    fn a_late_arrival_is_reordering_not_loss() {
        let (seen, c) = check(0, &[1, 3, 2, 4]);
        assert_eq!(
            seen,
            vec![Seen::InOrder, Seen::Gap(1), Seen::Late, Seen::InOrder]
        );
        assert_eq!(c, counts(4, 0, 0, 1));
    }

    #[test]
    fn duplicates_are_counted_once_each() {
        let (seen, c) = check(0, &[1, 2, 2, 3, 1]);
        assert_eq!(
            seen,
            vec![
                Seen::InOrder,
                Seen::InOrder,
                Seen::Duplicate,
                Seen::InOrder,
                Seen::Duplicate
            ]
        );
        assert_eq!(c, counts(5, 0, 2, 0));
    }

    #[test]
    fn the_starting_point_counts_as_seen() {
        // A resume that replays last_seq itself delivers it twice.
        let (seen, c) = check(7, &[7, 8]);
        assert_eq!(seen, vec![Seen::Duplicate, Seen::InOrder]);
        assert_eq!(c, counts(2, 0, 1, 0));
    }

    #[test]
    fn a_late_duplicate_after_a_late_arrival() {
        let (_, c) = check(0, &[2, 1, 1]);
        assert_eq!(c, counts(3, 0, 1, 1));
    }

    #[test]
    fn beyond_the_window_counts_as_duplicate() {
        let mut t = SeqTracker::after(0);
        t.observe(1);
        t.observe(1 + SeqTracker::WINDOW);
        assert_eq!(t.counts().missing, SeqTracker::WINDOW - 1);
        assert_eq!(t.observe(1), Seen::Duplicate);
        // Just inside the window a missing number is still a late arrival.
        assert_eq!(t.observe(2), Seen::Late);
        assert_eq!(t.counts(), counts(4, SeqTracker::WINDOW - 2, 1, 1));
    }

    #[test]
    fn a_huge_jump_clears_the_window() {
        let mut t = SeqTracker::after(5);
        assert_eq!(t.observe(1_000_000), Seen::Gap(1_000_000 - 6));
        assert_eq!(t.observe(1_000_001), Seen::InOrder);
    }

    #[test]
    fn an_unstarted_tracker_starts_anywhere() {
        let mut t = SeqTracker::new();
        assert_eq!(t.observe(41), Seen::InOrder);
        assert_eq!(t.observe(42), Seen::InOrder);
        assert_eq!(t.observe(41), Seen::Duplicate);
        assert_eq!(t.last(), Some(42));
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
    fn backlog_before_the_join_is_skipped() {
        // welcome.seq = 20; the backlog replays 18..=20, then live events follow.
        let mut a = ConnAccount::joined(3, 20);
        for seq in 18..=20 {
            assert_eq!(a.message(seq, ours(3, 0, seq, 0), 0), Delivery::Backlog);
        }
        assert_eq!(a.event(19), None);
        let d = a.message(21, ours(3, 0, 21, 1_000), 251_000);
        assert_eq!(
            d,
            Delivery::Ours {
                latency_nanos: 250_000,
                seen: Seen::InOrder
            }
        );
        let c = a.counts();
        assert!(c.timeline.clean() && c.messages().clean());
        assert_eq!(c.timeline.received, 1);
        assert_eq!(c.last_seq, 21);
    }

    #[test]
    fn a_missed_event_shows_in_the_timeline_and_the_sender() {
        let mut a = ConnAccount::joined(0, 0);
        a.message(1, ours(0, 0, 1, 0), 0);
        a.event(2); // someone joined
        // seq 3 (sender 0's n=2) never arrives.
        a.message(4, ours(0, 0, 3, 0), 0);
        a.message(5, ours(0, 1, 1, 0), 0);
        let c = a.counts();
        assert_eq!(c.timeline, counts(4, 1, 0, 0));
        assert_eq!(c.senders, vec![counts(2, 1, 0, 0), counts(1, 0, 0, 0)]);
        assert_eq!(c.messages(), counts(3, 1, 0, 0));
    }

    #[test]
    fn a_lossless_resume_leaves_no_trace() {
        let mut a = ConnAccount::joined(1, 100);
        a.message(101, ours(1, 0, 1, 0), 0);
        a.message(102, ours(1, 0, 2, 0), 0);
        // Disconnected as a slow consumer; resume from last_seq = 102.
        assert_eq!(a.last_seq(), 102);
        for (seq, n) in [(103, 3), (104, 4), (105, 5)] {
            a.message(seq, ours(1, 0, n, 0), 0);
        }
        let c = a.counts();
        assert!(c.timeline.clean() && c.messages().clean());
        assert_eq!(c.messages().received, 5);
    }

    #[test]
    fn a_reset_restarts_the_timeline_and_the_senders_show_the_loss() {
        let mut a = ConnAccount::joined(1, 0);
        a.message(1, ours(1, 0, 1, 0), 0);
        // History no longer reaches back: snapshot at seq 50 whose backlog ends at 50.
        a.reset(50);
        assert_eq!(a.message(50, ours(1, 0, 50, 0), 0), Delivery::Backlog);
        a.message(51, ours(1, 0, 51, 0), 0);
        let c = a.counts();
        assert_eq!(c.resets, 1);
        assert!(c.timeline.clean());
        assert_eq!(c.senders[0].missing, 49);
    }

    #[test]
    fn foreign_and_misrouted_messages() {
        let mut a = ConnAccount::joined(2, 0);
        assert_eq!(a.message(1, None, 0), Delivery::Foreign);
        assert_eq!(a.message(2, ours(5, 0, 1, 0), 0), Delivery::Misrouted);
        assert_eq!(
            a.message(3, ours(2, u32::MAX, 1, 0), 0),
            Delivery::Misrouted
        );
        let c = a.counts();
        assert_eq!((c.foreign, c.misrouted), (1, 2));
        assert!(c.timeline.clean());
        assert!(c.senders.is_empty());
    }

    #[test]
    fn latency_from_a_clock_that_looks_backwards_is_zero() {
        let mut a = ConnAccount::joined(0, 0);
        let d = a.message(1, ours(0, 0, 1, 5_000), 4_000);
        assert_eq!(
            d,
            Delivery::Ours {
                latency_nanos: 0,
                seen: Seen::InOrder
            }
        );
    }

    #[test]
    fn tail_loss() {
        assert_eq!(tail_missing(95, 100), 5);
        assert_eq!(tail_missing(100, 100), 0);
        // Joined after the last message, or saw later presence events.
        assert_eq!(tail_missing(130, 100), 0);
    }
}
