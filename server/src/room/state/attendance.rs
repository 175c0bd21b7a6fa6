//! A facilitated room is never left to itself: while a session is open and no
//! facilitator is present, the room is *held*. Participants cannot post (their crisis
//! messages still raise alerts and bring them the resources card), a facilitator's
//! return ends it, and a session held for too long closes itself.
//!
//! When the room is held: at once when the last facilitator leaves, or when the last
//! one connected has had no connection for the presence grace period (they are shown
//! away and keep their seat, but an away facilitator keeps nobody safe), or, in a
//! session the operator opened, when no facilitator has arrived within the grace
//! period. A facilitator's return (`back`, or a new arrival) ends it.

use kindred_protocol::{Millis, Role};

use super::{Applied, EventKind, Room};

/// What a session held for too long says as it closes.
const HELD_TOO_LONG: &str = "No facilitator was able to come back, so this session has closed. \
                             Thank you for being here. If you need to talk to someone now, \
                             please contact a crisis line.";

impl Room {
    /// A session is on and a facilitator should be keeping it.
    pub(super) fn watched(&self) -> bool {
        self.open && self.config.facilitated
    }

    /// A facilitator is connected, or dropped within the grace period.
    fn facilitator_present(&self) -> bool {
        self.members
            .values()
            .any(|m| m.role == Role::Facilitator && !m.presence.shown_away())
    }

    /// The last facilitator present left, or is away: hold the room now.
    pub(super) fn facilitator_left(&mut self, now: Millis, out: &mut Applied) {
        if self.watched() && !self.facilitator_present() {
            self.unattended_since.get_or_insert(now);
            self.hold(now, out);
        }
    }

    /// Membership or the session changed: a facilitator's arrival ends a hold; an
    /// open session with none starts counting.
    pub(super) fn attend(&mut self, now: Millis, out: &mut Applied) {
        if self.watched() && !self.facilitator_present() {
            self.unattended_since.get_or_insert(now);
            return;
        }
        // A facilitator is here, or nobody needs to be.
        self.unattended_since = None;
        if self.held_since.take().is_some() {
            self.push(out, now, EventKind::Unheld);
        }
    }

    fn hold(&mut self, now: Millis, out: &mut Applied) {
        if self.held_since.is_none() {
            self.held_since = Some(now);
            self.push(out, now, EventKind::Held);
        }
    }

    /// Whether the room is held now.
    pub fn is_held(&self) -> bool {
        self.held_since.is_some()
    }

    /// Whether [`Room::watch`] at `now` would change anything.
    pub(super) fn watch_due(&self, now: Millis) -> bool {
        let grace = self.limits().presence_grace_ms;
        match (self.held_since, self.unattended_since) {
            (Some(since), _) => now >= since + self.limits().held_close_ms,
            (None, Some(since)) => self.watched() && now >= since + grace,
            (None, None) => false,
        }
    }

    /// Time passed: hold a session nobody has facilitated for the grace period, and
    /// close one held for too long.
    pub(super) fn watch(&mut self, now: Millis, out: &mut Applied) {
        if !self.watch_due(now) {
            return;
        }
        if self.held_since.is_some() {
            let closed = self.close_session(Some(HELD_TOO_LONG.to_owned()), now);
            out.events.extend(closed.events);
        } else {
            self.hold(now, out);
        }
    }

    /// A session ended: nothing to watch until the next one opens.
    pub(super) fn stop_watching(&mut self) {
        self.unattended_since = None;
        self.held_since = None;
    }
}
