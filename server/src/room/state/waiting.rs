//! The waiting room: while it is on, a participant who arrives waits outside until a
//! facilitator admits them. A waiting participant is not a member: the room does not
//! show them, they see none of its members, history or events, and they can do
//! nothing but wait or leave. The facilitators are told of each knock and always have
//! the whole list. A waiting participant whose connection drops is still waiting when
//! they come back within the presence grace period. Before they are let in, a
//! facilitator can have a word with them (a whisper to someone waiting, and theirs
//! back, `private.rs`) and leave a note for everyone waiting; they are given that
//! conversation again when they come back.

use kindred_protocol::{Millis, Role, SteppedOut, UserId, WaitingMember};
use serde::{Deserialize, Serialize};

use super::{Applied, EventKind, Parting, Presence, Rejection, Room};
use crate::room::bans::Origin;
use crate::room::whispers::Whisper;
use crate::safety::NameLook;

/// A participant in the waiting room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Waiter {
    pub user: UserId,
    pub name: String,
    /// When they knocked.
    pub since: Millis,
    /// The order they knocked in (two knocks can share an instant).
    #[serde(default)]
    pub order: u64,
    pub presence: Presence,
    pub look: NameLook,
    pub origin: Origin,
    /// A facilitator asked them out of the room for a quiet word (`step_out.rs`),
    /// with this note for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stepped_out: Option<SteppedOut>,
}

impl Room {
    /// Whether this user is in the waiting room.
    pub fn is_waiting(&self, user: UserId) -> bool {
        self.waiting.contains_key(&user)
    }

    /// The waiting room as the facilitators see it, in the order people arrived.
    pub fn waiting_list(&self) -> Vec<WaitingMember> {
        let mut waiting: Vec<&Waiter> = self.waiting.values().collect();
        waiting.sort_by_key(|w| (w.since, w.order));
        waiting
            .into_iter()
            .map(|w| WaitingMember {
                user: w.user,
                name: w.name.clone(),
                since: w.since,
                online: matches!(w.presence, Presence::Online { .. }),
                stepped_out: w.stepped_out.is_some(),
            })
            .collect()
    }

    /// A participant who is not a member arrives while the waiting room is on (the
    /// room's other checks passed): they wait, or wait again on another connection.
    pub(super) fn knock(
        &mut self,
        user: UserId,
        (name, origin): (String, Origin),
        now: Millis,
    ) -> Applied {
        let mut out = Applied {
            waiting: true,
            whispers: self.whispers.for_waiting(user),
            ..Applied::none()
        };
        if let Some(w) = self.waiting.get_mut(&user) {
            let was_away = matches!(w.presence, Presence::Away { .. });
            w.presence = w.presence.arrived();
            if was_away {
                out.waiting_list = Some(self.waiting_list());
            }
            return out;
        }
        let order = self
            .waiting
            .values()
            .map(|w| w.order + 1)
            .max()
            .unwrap_or(0);
        let waiter = Waiter {
            user,
            look: NameLook::of(&name),
            name,
            since: now,
            order,
            presence: Presence::Online { connections: 1 },
            origin,
            stepped_out: None,
        };
        out.knock = Some(WaitingMember {
            user,
            name: waiter.name.clone(),
            since: now,
            online: true,
            stepped_out: false,
        });
        self.waiting.insert(user, waiter);
        out.waiting_list = Some(self.waiting_list());
        out
    }

    /// A facilitator's note to everyone waiting: kept for the session, so someone
    /// who knocks later reads it too.
    pub(super) fn note_waiting(&mut self, user: UserId, text: String, now: Millis) -> Applied {
        let note = Whisper {
            id: self.next_id(),
            ts: now,
            from: user,
            name: self.writer_name(user),
            to: None,
            text,
            kept: false,
            waiting: true,
        };
        self.whispers.keep(note.clone());
        Applied {
            whisper: Some(note),
            waiting_audience: self.waiting.keys().copied().collect(),
            ..Applied::none()
        }
    }

    /// A waiting participant's connection dropped.
    pub(super) fn waiter_dropped(&mut self, user: UserId, now: Millis) -> Applied {
        let mut out = Applied::none();
        if let Some(w) = self.waiting.get_mut(&user) {
            w.presence = w.presence.dropped(now);
            if matches!(w.presence, Presence::Away { .. }) {
                out.waiting_list = Some(self.waiting_list());
            }
        }
        out
    }

    /// A waiting participant left (`leave`, or the grace period ran out).
    pub(super) fn waiter_left(&mut self, user: UserId, why: Parting, out: &mut Applied) {
        if self.waiting.remove(&user).is_some() {
            out.waiting_list = Some(self.waiting_list());
            out.depart(user, why);
        }
    }

    /// Let a waiting participant in: they become a member (the room sees `joined`),
    /// and their connections are given the room (the hub acts on the `joined`). Their
    /// name was not compared with the members' when they knocked (the answer would
    /// have told an outsider who is inside), so it is here: a look-alike of a present
    /// member's name is not let in ([`Rejection::NameClash`]).
    pub(super) fn admit(
        &mut self,
        user: UserId,
        now: Millis,
        out: &mut Applied,
    ) -> Result<(), Rejection> {
        let Some(w) = self.waiting.get(&user) else {
            return Err(Rejection::NotFound);
        };
        if self.members.values().any(|m| m.look.clashes(&w.look)) {
            return Err(Rejection::NameClash);
        }
        let Some(w) = self.waiting.remove(&user) else {
            return Err(Rejection::NotFound);
        };
        self.seat(
            user,
            (w.name, Role::Participant, w.origin),
            w.presence,
            now,
            out,
        );
        out.waiting_list = Some(self.waiting_list());
        Ok(())
    }

    /// Let everyone waiting in, in the order they arrived; someone whose name looks
    /// like a member's (or like someone's admitted before them) stays waiting, and so
    /// does someone a facilitator asked out for a quiet word (admitted one by one).
    pub(super) fn admit_all(&mut self, now: Millis, out: &mut Applied) {
        for w in self.waiting_list() {
            if !w.stepped_out {
                let _ = self.admit(w.user, now, out);
            }
        }
    }

    /// Turn a waiting participant away: they are told and disconnected. With `ban`,
    /// they are banned too, by their user id and the marks their join carried, as a
    /// member's ban holds.
    pub(super) fn deny(&mut self, user: UserId, ban: bool, out: &mut Applied) -> bool {
        let Some(w) = self.waiting.remove(&user) else {
            return false;
        };
        if ban {
            self.bans.ban(user, &w.origin);
            self.sent.forget(user);
        }
        out.depart(user, Parting::Denied);
        out.waiting_list = Some(self.waiting_list());
        true
    }

    /// Turn the waiting room on or off; off admits everyone waiting.
    pub(super) fn set_waiting_room(&mut self, on: bool, now: Millis, out: &mut Applied) {
        if self.config.waiting_room != on {
            self.config.waiting_room = on;
            self.push(out, now, EventKind::WaitingRoom { on });
        }
        if !on {
            self.admit_all(now, out);
        }
    }

    /// Whether a waiting participant's grace period has run out at `now`.
    pub(super) fn waiters_due(&self, now: Millis) -> bool {
        let grace = self.limits().presence_grace_ms;
        self.waiting
            .values()
            .any(|w| matches!(w.presence, Presence::Away { since, .. } if now >= since + grace))
    }

    /// Forget the waiting participants who have been away for the grace period.
    pub(super) fn expire_waiters(&mut self, now: Millis, out: &mut Applied) {
        let grace = self.limits().presence_grace_ms;
        let gone: Vec<UserId> = self
            .waiting
            .values()
            .filter(|w| matches!(w.presence, Presence::Away { since, .. } if now >= since + grace))
            .map(|w| w.user)
            .collect();
        for user in gone {
            self.waiter_left(user, Parting::Disconnected, out);
        }
    }
}
