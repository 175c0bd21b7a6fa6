//! The session's moderation log: every facilitator action (who, what, to whom, why,
//! when) and every alert handled, kept in the room for the facilitators, so one who
//! arrives late knows what happened. It is room state like the alerts (every replica
//! keeps it alike) and is dropped when the session closes.

use std::collections::VecDeque;

use kindred_protocol::{LogEntry, Millis, ModAction, UserId};
use serde::{Deserialize, Serialize};

/// The most entries a session keeps; past it the oldest goes first.
pub const MAX_LOG_ENTRIES: usize = 500;

/// The entries of this session, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModLog {
    entries: VecDeque<LogEntry>,
    /// The id the next entry gets (from 1 in each session).
    next: u64,
}

impl ModLog {
    /// Keep an entry, numbering it; returns it as kept.
    pub fn record(&mut self, mut entry: LogEntry) -> LogEntry {
        self.next += 1;
        entry.id = self.next;
        self.entries.push_back(entry.clone());
        while self.entries.len() > MAX_LOG_ENTRIES {
            self.entries.pop_front();
        }
        entry
    }

    /// Every entry kept, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries.iter().cloned().collect()
    }

    /// The session ended.
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

/// An entry for `action` by the facilitator `by`, its other fields empty; numbered
/// when recorded.
pub fn entry(ts: Millis, (by, by_name): (UserId, String), action: ModAction) -> LogEntry {
    LogEntry {
        id: 0,
        ts,
        by,
        by_name,
        action,
        user: None,
        name: None,
        reason: None,
        seq: None,
        seconds: None,
        held: None,
        alert: None,
        on: None,
    }
}
