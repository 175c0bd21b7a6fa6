//! What a session amounts to, counted as it goes, for the facilitators' debrief at
//! its close: when it opened, who came, how much was said, the go-arounds, the
//! alerts and how they were handled, the facilitators' actions. Counts only: no
//! words, no names. Cleared with the session.

use std::collections::BTreeSet;

use kindred_protocol::{
    ActionCount, AlertCount, AlertKind, Debrief, Millis, ModAction, MoodSpread, UserId,
};
use serde::{Deserialize, Serialize};

use super::alerts::{About, Alert};

/// The kinds of alert a debrief counts, in the order it lists them.
const KINDS: [AlertKind; 6] = [
    AlertKind::Crisis,
    AlertKind::CheckIn,
    AlertKind::Concern,
    AlertKind::Report,
    AlertKind::Held,
    AlertKind::Flagged,
];

/// A session's counts so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    opened: Option<Millis>,
    /// Every participant who came in this session.
    came: BTreeSet<UserId>,
    peak: u32,
    messages: u32,
    rounds: u32,
    shared: u32,
    passes: u32,
    /// Raised and handled, by the place of their kind in [`KINDS`].
    raised: [u32; 6],
    handled: [u32; 6],
    /// The newest alert counted: a crisis alert that recurs keeps its id and is
    /// counted once.
    last_alert: u64,
    actions: Vec<ActionCount>,
}

impl Tally {
    /// A session opened at `now`: counting starts afresh.
    pub fn opened(now: Millis) -> Self {
        Self {
            opened: Some(now),
            ..Self::default()
        }
    }

    /// A participant is in the room; `here` participants are in it now.
    pub fn came(&mut self, user: UserId, here: usize) {
        self.came.insert(user);
        self.peak = self.peak.max(u32::try_from(here).unwrap_or(u32::MAX));
    }

    pub fn message(&mut self) {
        self.messages += 1;
    }

    pub fn round(&mut self) {
        self.rounds += 1;
    }

    /// A go-around turn ended: shared, or passed.
    pub fn turn(&mut self, passed: bool) {
        if passed {
            self.passes += 1;
        } else {
            self.shared += 1;
        }
    }

    /// An alert was given to the facilitators (a repeat of an open one is not new).
    pub fn alert(&mut self, alert: &Alert) {
        if alert.id > self.last_alert {
            self.last_alert = alert.id;
            self.raised(kind_of(alert));
        }
    }

    pub fn raised(&mut self, kind: AlertKind) {
        if let Some(i) = KINDS.iter().position(|k| *k == kind) {
            self.raised[i] += 1;
        }
    }

    pub fn handled(&mut self, kind: AlertKind) {
        if let Some(i) = KINDS.iter().position(|k| *k == kind) {
            self.handled[i] += 1;
        }
    }

    /// A facilitator's action the moderation log kept.
    pub fn action(&mut self, action: ModAction) {
        match self.actions.iter_mut().find(|a| a.action == action) {
            Some(a) => a.count += 1,
            None => self.actions.push(ActionCount { action, count: 1 }),
        }
    }

    /// The debrief of the session closing at `now`, with its mood spread.
    pub fn debrief(&self, now: Millis, moods: MoodSpread) -> Debrief {
        let minutes = self.opened.map_or(0, |o| {
            u32::try_from(now.saturating_sub(o) / 60_000).unwrap_or(u32::MAX)
        });
        let alerts = KINDS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.raised[*i] > 0 || self.handled[*i] > 0)
            .map(|(i, kind)| AlertCount {
                kind: *kind,
                raised: self.raised[i],
                handled: self.handled[i],
            })
            .collect();
        Debrief {
            opened: self.opened,
            closed: now,
            minutes,
            peak: self.peak,
            members: u32::try_from(self.came.len()).unwrap_or(u32::MAX),
            messages: self.messages,
            rounds: self.rounds,
            shared: self.shared,
            passes: self.passes,
            alerts,
            actions: self.actions.clone(),
            moods,
        }
    }
}

/// The kind of alert a kept alert is given to the facilitators as.
pub fn kind_of(alert: &Alert) -> AlertKind {
    match alert.about {
        About::Crisis { check_in: true, .. } => AlertKind::CheckIn,
        About::Crisis { .. } => AlertKind::Crisis,
        About::Report { .. } => AlertKind::Report,
        About::Concern { .. } => AlertKind::Concern,
    }
}
