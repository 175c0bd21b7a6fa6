//! What passes between a member and the facilitators only: crisis and check-in
//! alerts, reports, whispers, and acknowledgements.

use kindred_protocol::{ClientId, Millis, ModAction, Quote, Role, Seq, UserId};

use super::{Applied, Concern, ModRequest, Presence, Rejection, Room, remember_mark};
use crate::room::alerts::{About, Alert};
use crate::room::sent::{MAX_REMEMBERED_SENDS, Sent};
use crate::room::whispers::Whisper;

impl Room {
    /// What the detector found in a member's words: an alert for the facilitators
    /// (a crisis or a check-in, with the message's seq or, when nobody else saw it,
    /// its words), and for a crisis the card to its author.
    pub(super) fn raise_concern(
        &mut self,
        user: UserId,
        name: String,
        concern: Concern,
        (seq, text): (Option<Seq>, Option<String>),
        now: Millis,
        out: &mut Applied,
    ) {
        let about = About::Crisis {
            category: concern.category,
            seq,
            text,
            check_in: concern.check_in,
            likelihood: concern.likelihood,
        };
        out.alert = Some(self.raise(user, name, about, now));
        out.card = !concern.check_in;
        out.told = self.facilitator_online();
    }

    /// Keep an alert open for the facilitators. A member's crisis words while their
    /// alert of that tier is still open update that alert rather than add one, so
    /// however many they send, nobody else's alert is pushed out and the facilitators
    /// see how often it recurred.
    pub(super) fn raise(&mut self, user: UserId, name: String, about: About, now: Millis) -> Alert {
        if let About::Crisis { .. } = about
            && let Some(alert) = self.alerts.recur(user, name.clone(), about.clone(), now)
        {
            return alert;
        }
        let alert = Alert {
            id: self.next_id(),
            ts: now,
            user,
            name,
            about,
            count: 1,
            since: now,
        };
        self.alerts.keep(alert.clone());
        alert
    }

    pub(super) fn remember_send(
        &mut self,
        user: UserId,
        client_id: ClientId,
        seq: Seq,
        card: bool,
    ) {
        let sent = Sent {
            client_id,
            seq,
            card,
        };
        let window = self.limits().dedupe_window;
        self.sent
            .remember(user, sent, window, MAX_REMEMBERED_SENDS, &self.members);
    }

    pub(super) fn report(
        &mut self,
        user: UserId,
        target: Seq,
        reason: Option<String>,
        context: Vec<Quote>,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let m = self.members.get(&user).ok_or(Rejection::NotMember)?;
        if target == 0 || target > self.seq {
            return Err(Rejection::NotFound);
        }
        let name = m.name.clone();
        // One report per reporter and message: a second is not a second alert.
        if !remember_mark(&mut self.reports, (target, user)) {
            return Ok(Applied {
                duplicate: true,
                ..Applied::none()
            });
        }
        let about = About::Report {
            seq: target,
            reason,
            context,
        };
        Ok(Applied {
            alert: Some(self.raise(user, name, about, now)),
            ..Applied::none()
        })
    }

    /// A member is worried about another: an alert for the facilitators, kept like a
    /// report's. The subject is named in it and told nothing.
    pub(super) fn concern(
        &mut self,
        user: UserId,
        subject: UserId,
        (seq, quote): (Option<Seq>, Option<Quote>),
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let name = self
            .members
            .get(&user)
            .ok_or(Rejection::NotMember)?
            .name
            .clone();
        if subject == user {
            return Err(Rejection::BadRequest(
                "a concern is about someone else: to reach the facilitators yourself, write to them",
            ));
        }
        let subject_name = self
            .members
            .get(&subject)
            .ok_or(Rejection::NotFound)?
            .name
            .clone();
        if let Some(seq) = seq {
            if seq == 0 || seq > self.seq {
                return Err(Rejection::NotFound);
            }
            if quote
                .as_ref()
                .is_some_and(|q| q.seq != seq || q.user != subject)
            {
                return Err(Rejection::BadRequest("that message is not theirs"));
            }
        }
        let about = About::Concern {
            subject,
            subject_name,
            quote: quote.filter(|_| seq.is_some()),
        };
        Ok(Applied {
            alert: Some(self.raise(user, name, about, now)),
            told: self.facilitator_online(),
            ..Applied::none()
        })
    }

    pub(super) fn whisper(
        &mut self,
        user: UserId,
        (to, text, crisis): (Option<UserId>, String, Option<Concern>),
        now: Millis,
    ) -> Result<Applied, Rejection> {
        // Someone waiting writes to the facilitators as a participant does.
        let role = match self.waiting.get(&user) {
            Some(_) => Role::Participant,
            None => self.role_of(user)?,
        };
        let mut kept = false;
        match (role, to) {
            (Role::Facilitator, Some(to)) => {
                if !self.members.contains_key(&to) && !self.waiting.contains_key(&to) {
                    return Err(Rejection::NotFound);
                }
            }
            (Role::Facilitator, None) => {}
            (Role::Participant, _) => {
                // A whisper nobody receives must not look delivered. In a session a
                // facilitator keeps, it waits for the next one who arrives.
                if !self.facilitator_online() {
                    if !self.watched() {
                        return Err(Rejection::NoFacilitator);
                    }
                    kept = true;
                }
            }
        }
        let whisper = Whisper {
            id: self.next_id(),
            ts: now,
            from: user,
            name: self.writer_name(user),
            to: if role == Role::Participant { None } else { to },
            text,
            kept,
            waiting: false,
        };
        let mut out = Applied::none();
        if let (Some(concern), Role::Participant) = (crisis, role) {
            // Help cannot wait for anyone to read it: the card goes to its author now,
            // and the alert stays open until a facilitator handles it.
            let quote = (None, Some(whisper.text.clone()));
            self.raise_concern(user, whisper.name.clone(), concern, quote, now, &mut out);
        }
        self.whispers.keep(whisper.clone());
        out.whisper = Some(whisper);
        Ok(out)
    }

    /// Whether a facilitator has a connection open now.
    pub(super) fn facilitator_online(&self) -> bool {
        self.members
            .values()
            .any(|m| m.role == Role::Facilitator && matches!(m.presence, Presence::Online { .. }))
    }

    pub(super) fn ack_warning(
        &mut self,
        user: UserId,
        alert: Option<u64>,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let role = self.role_of(user)?;
        match alert {
            None => {
                self.sent.cards_seen(user);
                Ok(Applied::none())
            }
            Some(id) if role != Role::Facilitator => {
                // A participant acknowledges the warning given to them, and nothing
                // else: the facilitators' alerts are not theirs to handle.
                match self.warnings.get(&user) {
                    Some(w) if w.id == id => Ok(Applied {
                        acknowledged: self.warnings.remove(&user),
                        ..Applied::none()
                    }),
                    _ => Err(Rejection::Forbidden),
                }
            }
            Some(id) if self.held.contains_key(&id) => Err(Rejection::BadRequest(
                "a held message is released or declined, not acknowledged",
            )),
            Some(id) => {
                // Handling an alert is a resolve, logged for the other facilitators.
                let mut request = ModRequest::new(ModAction::Resolve);
                request.report = Some(id);
                let entry = self.log_entry(user, &request, now);
                let mut out = self.moderate(user, request, now)?;
                self.log_action(entry, &mut out);
                Ok(out)
            }
        }
    }

    /// The name a private word is signed with: a member's, or a waiting person's.
    pub(super) fn writer_name(&self, user: UserId) -> String {
        self.members
            .get(&user)
            .map(|m| m.name.clone())
            .or_else(|| self.waiting.get(&user).map(|w| w.name.clone()))
            .unwrap_or_default()
    }
}
