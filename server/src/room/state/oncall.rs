//! Care beyond the card: a facilitator calls in the on-call supervisor about an open
//! alert (`mod escalate`), and the on-call person takes a facilitator's seat from the
//! on-call board ([`Command::OnCallSeat`]). Both go through the room's one fold, so
//! every instance's replica keeps the escalations alike and the on-call board reads
//! them from any instance. An escalation is kept until the session ends (handling
//! the alert does not take back a call for help already made).

use std::collections::BTreeMap;

use kindred_protocol::{InviteId, Millis, ModAction, Role, UserId};
use serde::{Deserialize, Serialize};

use super::{Applied, Rejection, Room};
use crate::room::alerts::Alert;
use crate::room::invites::InviteRecord;
use crate::room::log;

/// How long the seat an on-call join gives may wait for its first connection; the
/// session's end takes it anyway.
const ON_CALL_SEAT_MS: Millis = 24 * 3600 * 1000;

/// An alert a facilitator escalated: the alert as it stood then, when, by whom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    pub alert: Alert,
    pub ts: Millis,
    pub by: UserId,
    pub by_name: String,
}

/// The session's escalations, by alert id (one per alert: escalating it again is no
/// news).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Escalations(BTreeMap<u64, Escalation>);

impl Escalations {
    pub fn iter(&self) -> impl Iterator<Item = &Escalation> {
        self.0.values()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl Room {
    /// `mod escalate {alert}`: the open alert is kept as an escalation. An alert that
    /// is not open (unknown, handled, or a held message's id) is `not_found`.
    pub(super) fn escalate(
        &mut self,
        actor: UserId,
        alert: Option<u64>,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let id = alert.ok_or(Rejection::BadRequest("escalate needs `alert`"))?;
        let alert = self
            .alerts
            .iter()
            .find(|a| a.id == id)
            .cloned()
            .ok_or(Rejection::NotFound)?;
        if !self.escalations.0.contains_key(&id) {
            let by_name = self
                .members
                .get(&actor)
                .map(|m| m.name.clone())
                .unwrap_or_default();
            self.escalations.0.insert(
                id,
                Escalation {
                    alert,
                    ts: now,
                    by: actor,
                    by_name,
                },
            );
        }
        Ok(Applied::none())
    }

    /// The on-call supervisor takes a facilitator's seat (`user`, shown as `name`):
    /// one seat of its own (an invite record `seat`, chosen by the caller so every
    /// replica folds the same id), which the session's end or the operator's revoking of it
    /// takes back like any invite's, and the moderation log says they are joining.
    pub(super) fn on_call_seat(
        &mut self,
        (user, name, seat): (UserId, String, InviteId),
        now: Millis,
    ) -> Result<Applied, Rejection> {
        if !self.open {
            return Err(Rejection::Closed);
        }
        let invite = InviteRecord {
            id: seat,
            role: Role::Facilitator,
            created_at: now,
            expires_at: now + ON_CALL_SEAT_MS,
            uses: 1,
            used: 0,
            seats: Default::default(),
            order: 0,
            holders: Default::default(),
        };
        self.invites.add(invite, now)?;
        self.invites.redeem(seat, user, None, now)?;
        let mut out = Applied::none();
        let entry = log::entry(now, (user, name), ModAction::OnCallJoined);
        out.logged.push(self.log.record(entry));
        Ok(out)
    }

    /// The alerts escalated this session, oldest first.
    pub fn escalations(&self) -> Vec<&Escalation> {
        let mut all: Vec<&Escalation> = self.escalations.iter().collect();
        all.sort_by_key(|e| (e.ts, e.alert.id));
        all
    }

    /// Facilitators present now: connected, or dropped within the grace period.
    pub fn facilitators_present(&self) -> usize {
        self.members
            .values()
            .filter(|m| m.role == Role::Facilitator && !m.presence.shown_away())
            .count()
    }

    /// Since when the room has been held, if it is.
    pub fn held_since(&self) -> Option<Millis> {
        self.held_since
    }
}
