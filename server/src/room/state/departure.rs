//! Leaving: a member's stay ending (every way it can), and time passing (grace
//! periods, away limits, mutes and the floor running out).
//!
//! A dropped connection is not a choice to leave. A member with no connection is
//! present for the presence grace period, nobody told; then *away* (the room sees
//! `away`, their seat and place kept, the floor opened if they held it, and a
//! facilitator no longer keeps the room: it is held); and only at the away limit,
//! counted from the drop, *gone* (`left`, `disconnected`). Their return before that
//! is `back` (`arrival.rs`).

use kindred_protocol::{LeftReason, Millis, Role, Seq, UserId};

use super::{Applied, ModStatus, Parting, Presence, Room};
use crate::room::event::EventKind;

/// What time passing does to a member with no connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Absence {
    /// The grace period is over: the room is told they are away.
    Away,
    /// The away limit is over: they leave.
    Gone,
}

impl Room {
    pub(super) fn remove_member(
        &mut self,
        user: UserId,
        reason: LeftReason,
        now: Millis,
        out: &mut Applied,
    ) {
        let Some(gone) = self.members.remove(&user) else {
            return;
        };
        self.warnings.remove(&user);
        self.push(out, now, EventKind::Left { user, reason });
        let why = match reason {
            LeftReason::Left => Parting::Left,
            LeftReason::Disconnected => Parting::Disconnected,
            LeftReason::Removed => Parting::Removed,
            LeftReason::Banned => Parting::Banned,
        };
        out.depart(user, why);
        if gone.role == Role::Facilitator {
            // The last facilitator has gone: the room is held at once.
            self.facilitator_left(now, out);
        }
        self.open_floor_of(user, now, out);
        self.left_structure(user, now, out);
    }

    /// The floor does not wait for someone who is not here: it opens.
    pub(super) fn open_floor_of(&mut self, user: UserId, now: Millis, out: &mut Applied) {
        if self.floor.is_some_and(|(holder, _)| holder == user) {
            self.floor = None;
            self.push(
                out,
                now,
                EventKind::Floor {
                    user: None,
                    until: None,
                },
            );
        }
    }

    /// What a tick at `now` does to a member whose presence is `presence`, if anything.
    pub(super) fn absence(&self, presence: Presence, now: Millis) -> Option<Absence> {
        let Presence::Away { since, shown } = presence else {
            return None;
        };
        let limits = self.limits();
        if now >= since.saturating_add(limits.away_limit_ms.max(limits.presence_grace_ms)) {
            Some(Absence::Gone)
        } else if !shown && now >= since.saturating_add(limits.presence_grace_ms) {
            Some(Absence::Away)
        } else {
            None
        }
    }

    /// The grace period of a member with no connection is over: the room is told they
    /// are away, keeps their seat, opens the floor they held, and is held if they were
    /// the last facilitator connected.
    fn show_away(&mut self, user: UserId, now: Millis, out: &mut Applied) {
        let Some(m) = self.members.get_mut(&user) else {
            return;
        };
        let Presence::Away { since, .. } = m.presence else {
            return;
        };
        m.presence = Presence::Away { since, shown: true };
        let role = m.role;
        self.push(out, now, EventKind::Away { user });
        self.open_floor_of(user, now, out);
        self.away_structure(user, now, out);
        if role == Role::Facilitator {
            self.facilitator_left(now, out);
        }
    }

    pub(super) fn tick(&mut self, now: Millis) -> Applied {
        let mut out = Applied::none();
        let mut absent: Vec<(Seq, UserId, Absence)> = self
            .members
            .values()
            .filter_map(|m| Some((m.joined_seq, m.user, self.absence(m.presence, now)?)))
            .collect();
        let mut unmuted: Vec<(Seq, UserId)> = Vec::new();
        for m in self.members.values_mut() {
            if let ModStatus::Muted { until: Some(t) } = m.status
                && t <= now
            {
                m.status = ModStatus::Active;
                m.mute_reason = None;
                unmuted.push((m.joined_seq, m.user));
            }
        }
        // HashMap order is arbitrary; the timeline must not be.
        unmuted.sort_unstable();
        absent.sort_unstable();
        for (_, user) in unmuted {
            self.push(&mut out, now, EventKind::Unmuted { user });
        }
        for (_, user, absence) in absent {
            match absence {
                Absence::Away => self.show_away(user, now, &mut out),
                Absence::Gone => {
                    self.remove_member(user, LeftReason::Disconnected, now, &mut out);
                }
            }
        }
        // A go-around's turn that ran out passes on before the floor is found open.
        self.structure_tick(now, &mut out);
        if self.floor.is_some_and(|(_, until)| until <= now) {
            self.floor = None;
            self.push(
                &mut out,
                now,
                EventKind::Floor {
                    user: None,
                    until: None,
                },
            );
        }
        self.expire_waiters(now, &mut out);
        self.watch(now, &mut out);
        out
    }
}
