//! What the room keeps for its facilitators until one of them handles it: crisis
//! alerts, reports and held messages. They are room state, so every replica keeps
//! them alike, and a facilitator who connects (or resumes) is given the ones still
//! open, whether or not a facilitator was there when they were raised.

use std::collections::BTreeMap;

use kindred_protocol::{CrisisCategory, Millis, Quote, Seq, UserId};
use serde::{Deserialize, Serialize};

use super::state::member::Held;

/// The most crisis and report alerts a room keeps open at once. Past it the oldest
/// report is let go first, then the oldest check-in, and a crisis alert only when
/// neither is left (held
/// messages have their own bound, [`MAX_HELD`](super::MAX_HELD)). A member has one
/// open crisis alert at a time, so crisis alerts are at most one per member who
/// wrote crisis words this session.
pub const MAX_OPEN_ALERTS: usize = 200;

/// An alert kept until a facilitator handles it (`ack_warning {alert: id}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique in the room's session; held messages take their ids from the same count.
    pub id: u64,
    /// When it was raised (the command's instant).
    pub ts: Millis,
    /// Who caused it: the author of a crisis message, the member who reported.
    pub user: UserId,
    pub name: String,
    pub about: About,
    /// How many crisis messages of this member it stands for (1 for a report).
    #[serde(default = "one")]
    pub count: u32,
    /// When it was first raised (`ts` is the latest message's).
    #[serde(default)]
    pub since: Millis,
}

fn one() -> u32 {
    1
}

/// What an [`Alert`] is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum About {
    /// A message that sounds like a crisis (or, `check_in`, like a reason to check
    /// in): delivered at `seq`, or, when the room refused it (muted, paused…) or it
    /// was a whisper, its words in `text`, since nobody else saw them. `likelihood`:
    /// how sure the classifier was, when it (not a phrase rule) found it.
    Crisis {
        category: CrisisCategory,
        seq: Option<Seq>,
        text: Option<String>,
        #[serde(default)]
        check_in: bool,
        #[serde(default)]
        likelihood: Option<u8>,
    },
    /// A member reported the message at `seq`; `context` is that message and up to
    /// three before it, as they read when the report was made.
    Report {
        seq: Seq,
        reason: Option<String>,
        #[serde(default)]
        context: Vec<Quote>,
    },
    /// A member is worried about `subject` (the alert's `user` is who is worried),
    /// with the subject's message at a seq they named, as it read then.
    Concern {
        subject: UserId,
        subject_name: String,
        quote: Option<Quote>,
    },
}

impl Alert {
    fn is_report(&self) -> bool {
        // A concern is let go with the reports, before any crisis alert.
        matches!(self.about, About::Report { .. } | About::Concern { .. })
    }

    /// The member's crisis alert (`tier` false) or check-in alert (`tier` true).
    fn is_concern_of(&self, user: UserId, tier: bool) -> bool {
        self.user == user
            && matches!(self.about, About::Crisis { check_in, .. } if check_in == tier)
    }

    fn is_crisis(&self) -> bool {
        matches!(
            self.about,
            About::Crisis {
                check_in: false,
                ..
            }
        )
    }

    fn is_check_in(&self) -> bool {
        matches!(self.about, About::Crisis { check_in: true, .. })
    }
}

/// Something open for the facilitators, as a facilitator who arrives is given it.
#[derive(Clone, Debug, PartialEq)]
pub enum Kept {
    Alert(Alert),
    Held(Held),
}

impl Kept {
    pub fn id(&self) -> u64 {
        match self {
            Kept::Alert(a) => a.id,
            Kept::Held(h) => h.id,
        }
    }
}

/// Open alerts by id, bounded by [`MAX_OPEN_ALERTS`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAlerts(BTreeMap<u64, Alert>);

impl OpenAlerts {
    /// Keep an alert; past the bound the oldest report goes first, then the oldest
    /// check-in, and a crisis alert only when nothing else is left.
    pub fn keep(&mut self, alert: Alert) {
        self.0.insert(alert.id, alert);
        while self.0.len() > MAX_OPEN_ALERTS {
            let oldest = self
                .0
                .values()
                .find(|a| a.is_report())
                .or_else(|| self.0.values().find(|a| a.is_check_in()))
                .or_else(|| self.0.values().next())
                .map(|a| a.id);
            match oldest {
                Some(id) => {
                    self.0.remove(&id);
                }
                None => break,
            }
        }
    }

    /// A facilitator handled it.
    pub fn handle(&mut self, id: u64) -> Option<Alert> {
        self.0.remove(&id)
    }

    /// The member's open crisis alert, if any.
    pub fn crisis_of(&self, user: UserId) -> Option<&Alert> {
        self.0.values().find(|a| a.is_concern_of(user, false))
    }

    /// A member's crisis words again while their alert of that tier is open: it
    /// stands for one more message, and shows the latest. The updated alert; `None`
    /// if they have none open.
    pub fn recur(
        &mut self,
        user: UserId,
        name: String,
        about: About,
        now: Millis,
    ) -> Option<Alert> {
        let About::Crisis { check_in, .. } = about else {
            return None;
        };
        let alert = self
            .0
            .values_mut()
            .find(|a| a.is_concern_of(user, check_in))?;
        alert.count = alert.count.saturating_add(1);
        alert.ts = now;
        alert.name = name;
        alert.about = about;
        Some(alert.clone())
    }

    /// Open crisis alerts (check-ins and reports not counted).
    pub fn crises(&self) -> usize {
        self.0.values().filter(|a| a.is_crisis()).count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Alert> {
        self.0.values()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}
