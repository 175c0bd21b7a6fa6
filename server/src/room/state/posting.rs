//! A member's message: the room's rules for who may post now, the guardrail (asked
//! about or held before anything reaches the room), the content policy's verdict, a
//! message held for review, and the crisis words that bring help whatever else is
//! decided.

use kindred_protocol::{ClientId, Millis, Role, UserId};

use kindred_protocol::policy::{GuardChoice, GuardMode};

use super::{Applied, Concern, Guarded, Held, MAX_HELD, ModStatus, Rejection, Room, Screened};
use crate::room::event::EventKind;
use crate::safety::{Evaluate, Verdict};

impl Room {
    pub(super) fn send(
        &mut self,
        user: UserId,
        client_id: ClientId,
        text: String,
        cw: Option<String>,
        (crisis, screened, guard): (Option<Concern>, Option<Screened>, Guarded),
        now: Millis,
    ) -> Result<Applied, Rejection> {
        if !self.members.contains_key(&user) {
            return Err(Rejection::NotMember);
        }
        // A retry is answered as the original was. A crisis message whose author
        // never confirmed the card brings help again: it may never have gone out.
        if let Some(sent) = self.sent.find(user, &client_id) {
            let (seq, card) = (sent.seq, sent.card);
            let alert = card.then(|| self.alerts.crisis_of(user).cloned()).flatten();
            return Ok(Applied {
                ack: Some(seq),
                duplicate: true,
                card,
                alert,
                told: card && self.facilitator_online(),
                ..Applied::none()
            });
        }
        if let Some(held) = self
            .held
            .values()
            .find(|h| h.user == user && h.client_id == client_id)
        {
            return Ok(Applied {
                duplicate: true,
                held: Some(held.clone()),
                ..Applied::none()
            });
        }
        if let Err(refused) = self.may_post(user, now) {
            return self.refused_send(user, refused, crisis, text, now);
        }
        let Some(role) = self.members.get(&user).map(|m| m.role) else {
            return Err(Rejection::NotMember);
        };
        // The guardrail: a participant's means, method, graphic detail or dose is
        // asked about or held as the room says. Facilitators are never refused by it:
        // their words (a guideline read out, a member's words quoted back kindly) are
        // theirs to answer for, as with the content policy.
        let mut cw = cw;
        let mut guard_kinds = Vec::new();
        let mut guard_holds = false;
        if let (Role::Participant, Some(category)) = (role, guard.found) {
            match (self.config.policy.guard, guard.choice) {
                (GuardMode::Off, _) => {}
                (GuardMode::Ask, None) => {
                    let refused = Rejection::Consider {
                        category,
                        facilitators: self.config.facilitated,
                    };
                    return self.refused_send(user, refused, crisis, text, now);
                }
                (GuardMode::Ask, Some(GuardChoice::Cw)) => {
                    if cw.is_none() {
                        cw = Some(category.warning().to_owned());
                    }
                }
                // Sent as it is, by the author's choice: the facilitators are told
                // what was found, as a flagged message.
                (GuardMode::Ask, Some(GuardChoice::AsIs)) => guard_kinds.push(category.as_str()),
                (GuardMode::Hold, _) => {
                    guard_kinds.push(category.as_str());
                    guard_holds = true;
                }
            }
        }
        let policy = self.config.policy;
        let held_count = self.held.len();
        let shielded = crisis.is_none() && self.shield_holds(user);
        let crisis_quote = (guard_holds && crisis.is_some()).then(|| text.clone());
        let Some(m) = self.members.get_mut(&user) else {
            return Err(Rejection::NotMember);
        };
        // Facilitators' words are theirs to answer for; crisis language is never
        // altered or held (the policy returns Clean for it).
        let verdict = match m.role {
            Role::Facilitator => Verdict::Clean,
            Role::Participant => match screened {
                Some(s) if s.policy == policy => s.verdict,
                _ => policy.evaluate_with_crisis(&text, crisis.is_some()),
            },
        };
        // With the shield up, a participant's first message waits for a facilitator
        // (as the policy would have it shown, with what it found).
        // The guardrail's hold keeps even a crisis message from the room: what it
        // holds is what groups ask not to be read. Help is not held with it: the
        // facilitators' alert and the author's card go out now, below.
        let verdict = match verdict {
            v if !guard_holds => v,
            Verdict::Flag { mut kinds } | Verdict::Hold { mut kinds } => {
                kinds.append(&mut guard_kinds);
                Verdict::Hold { kinds }
            }
            Verdict::Clean | Verdict::Censored { .. } => Verdict::Hold {
                kinds: std::mem::take(&mut guard_kinds),
            },
        };
        let (text, verdict) = match verdict {
            Verdict::Clean if shielded => (text, Verdict::Hold { kinds: Vec::new() }),
            Verdict::Flag { kinds } if shielded => (text, Verdict::Hold { kinds }),
            Verdict::Censored { text } if shielded => (text, Verdict::Hold { kinds: Vec::new() }),
            other => (text, other),
        };
        let (text, mut flagged) = match verdict {
            Verdict::Clean => (text, Vec::new()),
            Verdict::Flag { kinds } => (text, kinds),
            Verdict::Censored { text } => (text, Vec::new()),
            Verdict::Hold { kinds } => {
                if held_count >= MAX_HELD {
                    return Err(Rejection::TooManyHeld);
                }
                m.last_post = Some(now);
                let name = m.name.clone();
                // Fields, not `next_id()`: `m` still borrows the members.
                let id = self.next_id;
                self.next_id += 1;
                let held = Held {
                    id,
                    ts: now,
                    user,
                    name,
                    client_id,
                    text,
                    cw,
                    kinds,
                };
                self.held.insert(held.id, held.clone());
                let mut out = Applied {
                    held: Some(held),
                    ..Applied::none()
                };
                if let Some((concern, quote)) = crisis.zip(crisis_quote) {
                    let name = out
                        .held
                        .as_ref()
                        .map(|h| h.name.clone())
                        .unwrap_or_default();
                    self.raise_concern(user, name, concern, (None, Some(quote)), now, &mut out);
                }
                return Ok(out);
            }
        };
        m.last_post = Some(now);
        // Posting is being back from "I need a minute": the room sees it first.
        let back = std::mem::take(&mut m.stepping_away);
        let name = m.name.clone();
        flagged.extend(guard_kinds);
        let chars = text.chars().count();
        let mut out = Applied {
            flagged,
            ..Applied::none()
        };
        if back {
            self.push(&mut out, now, EventKind::SteppingAway { user, on: false });
        }
        let seq = self.push(
            &mut out,
            now,
            EventKind::Message {
                user,
                name: name.clone(),
                text,
                cw,
            },
        );
        let card = crisis.is_some_and(|c| !c.check_in);
        self.remember_send(user, client_id, seq, card);
        self.count_share(user, chars, now);
        out.ack = Some(seq);
        if let Some(concern) = crisis {
            self.raise_concern(user, name, concern, (Some(seq), None), now, &mut out);
        }
        Ok(out)
    }

    /// A message the room will not take (a rule, or the guardrail asking first). Crisis
    /// words in it are not missed: the facilitators' alert carries them and stays open
    /// until one of them handles it, and the author is shown the card.
    fn refused_send(
        &mut self,
        user: UserId,
        refused: Rejection,
        crisis: Option<Concern>,
        text: String,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let Some(concern) = crisis else {
            return Err(refused);
        };
        let name = self.members.get(&user).map(|m| m.name.clone());
        let mut out = Applied {
            refused: Some(refused),
            ..Applied::none()
        };
        let quote = (None, Some(text));
        self.raise_concern(
            user,
            name.unwrap_or_default(),
            concern,
            quote,
            now,
            &mut out,
        );
        Ok(out)
    }

    /// Whether the member may post now: mute, pause, floor and slow mode. An expired
    /// mute is lifted on the way.
    pub(super) fn may_post(&mut self, user: UserId, now: Millis) -> Result<(), Rejection> {
        if let Some(m) = self.members.get_mut(&user)
            && matches!(m.status, ModStatus::Muted { until: Some(t) } if t <= now)
        {
            m.status = ModStatus::Active;
            m.mute_reason = None;
        }
        self.check_post(user, now)
    }

    /// Whether the member's typing is news for the room: they could post now, or as
    /// soon as slow mode lets them. Someone muted, paused, held, warned, off the floor
    /// or waiting outside is not shown typing.
    pub fn may_type(&self, user: UserId, now: Millis) -> bool {
        matches!(
            self.check_post(user, now),
            Ok(()) | Err(Rejection::SlowMode { .. })
        )
    }

    /// [`Room::may_post`] without changing anything (an expired mute counts as lifted).
    pub(super) fn check_post(&self, user: UserId, now: Millis) -> Result<(), Rejection> {
        let (paused, held) = (self.paused, self.held_since.is_some());
        let warned = self.warnings.contains_key(&user);
        let floor = self.floor;
        let slow_ms = u64::from(self.slow_mode_seconds) * 1000;
        let m = self.members.get(&user).ok_or(Rejection::NotMember)?;
        match m.status {
            ModStatus::Active => {}
            ModStatus::Muted { until: Some(t) } if t <= now => {}
            ModStatus::Muted { until } => return Err(Rejection::Muted { until }),
        }
        match m.role {
            Role::Facilitator => Ok(()),
            Role::Participant => {
                if warned {
                    return Err(Rejection::Warned);
                }
                if held {
                    return Err(Rejection::Held);
                }
                if paused {
                    return Err(Rejection::Paused);
                }
                if let Some((holder, until)) = floor
                    && holder != user
                    && now < until
                {
                    return Err(Rejection::NotYourTurn);
                }
                if let Some(last) = m.last_post
                    && slow_ms > 0
                    && now < last + slow_ms
                {
                    return Err(Rejection::SlowMode {
                        retry_after_ms: last + slow_ms - now,
                    });
                }
                Ok(())
            }
        }
    }
}
