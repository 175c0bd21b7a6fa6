//! A participant's check-in and check-out (how they arrive and how they leave), kept
//! for the session and told to the facilitators alone, and what the session amounts
//! to, counted as it goes (`room::tally`) and given to the facilitators as its
//! debrief when it closes.

use kindred_protocol::checkin::is_mood;
use kindred_protocol::{
    Debrief, MemberMood, Millis, MoodBoard, MoodGiven, MoodSpread, Role, UserId,
};

use super::{Applied, EventKind, MoodNotice, Rejection, Room};

impl Room {
    /// A participant tells the facilitators how they arrive (`checkout` false) or
    /// leave: a mood from 1 to 5 and words the session has normalised. A second one
    /// replaces the first.
    pub(super) fn give_mood(
        &mut self,
        user: UserId,
        checkout: bool,
        (mood, words): (u8, Option<String>),
        now: Millis,
    ) -> Result<Applied, Rejection> {
        if !is_mood(mood) {
            return Err(Rejection::BadRequest("mood is a number from 1 to 5"));
        }
        let name = self
            .members
            .get(&user)
            .map(|m| m.name.clone())
            .ok_or(Rejection::NotMember)?;
        let entry = self.moods.entry(user).or_insert_with(|| MemberMood {
            user,
            name: name.clone(),
            checkin: None,
            checkout: None,
        });
        entry.name = name;
        let given = Some(MoodGiven {
            mood,
            words: words.filter(|w| !w.trim().is_empty()),
            ts: now,
        });
        if checkout {
            entry.checkout = given;
        } else {
            entry.checkin = given;
        }
        let member = entry.clone();
        Ok(Applied {
            mood: Some(MoodNotice {
                member,
                spread: self.mood_spread(),
            }),
            ..Applied::none()
        })
    }

    /// How many gave each mood, in and out.
    pub fn mood_spread(&self) -> MoodSpread {
        let mut spread = MoodSpread::default();
        let slot = |mood: u8| usize::from(mood.saturating_sub(1)).min(4);
        for m in self.moods.values() {
            if let Some(g) = &m.checkin {
                spread.checkin[slot(g.mood)] += 1;
            }
            if let Some(g) = &m.checkout {
                spread.checkout[slot(g.mood)] += 1;
            }
        }
        spread
    }

    /// Every check-in and check-out of the session, in the order members arrived,
    /// and their spread: what a facilitator is given on arrival, and nobody else.
    pub fn mood_board(&self, user: UserId) -> Option<MoodBoard> {
        if self.members.get(&user)?.role != Role::Facilitator {
            return None;
        }
        let mut members: Vec<MemberMood> = self.moods.values().cloned().collect();
        members.sort_by_key(|m| {
            self.members
                .get(&m.user)
                .map_or(u64::MAX, |member| member.joined_seq)
        });
        Some(MoodBoard {
            members,
            spread: self.mood_spread(),
        })
    }

    /// The session's debrief as it closes at `now`: `None` when no session was on.
    pub(super) fn debrief(&self, now: Millis) -> Option<Debrief> {
        self.open
            .then(|| self.tally.debrief(now, self.mood_spread()))
    }

    /// Count what a command did that a debrief tells: a participant coming in, a message, an alert raised, a held
    /// message, a flagged one, an action the moderation log kept. A session's
    /// opening (counting starts afresh), go-arounds and handled alerts are counted
    /// where they happen.
    pub(super) fn count(&mut self, out: &Applied) {
        for event in &out.events {
            match &event.kind {
                EventKind::Message { .. } => self.tally.message(),
                EventKind::Joined {
                    user,
                    role: Role::Participant,
                    ..
                } => {
                    let here = self
                        .members
                        .values()
                        .filter(|m| m.role == Role::Participant)
                        .count();
                    self.tally.came(*user, here);
                }
                _ => {}
            }
        }
        if let Some(alert) = &out.alert {
            self.tally.alert(alert);
        }
        if out.held.is_some() && out.settled.is_none() && !out.duplicate {
            self.tally.raised(kindred_protocol::AlertKind::Held);
        }
        if out.settled.is_some() {
            self.tally.handled(kindred_protocol::AlertKind::Held);
        }
        if !out.flagged.is_empty() && !out.duplicate {
            self.tally.raised(kindred_protocol::AlertKind::Flagged);
        }
        for entry in &out.logged {
            self.tally.action(entry.action);
        }
    }
}
