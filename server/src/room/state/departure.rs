//! Leaving: a member's stay ending (every way it can), and time passing (grace
//! periods, mutes and the floor running out).

use kindred_protocol::{LeftReason, Millis, Role, Seq, UserId};

use super::{Applied, ModStatus, Parting, Presence, Room};
use crate::room::event::EventKind;

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
            // The last facilitator has gone (after the grace period, or for good):
            // the room is held at once.
            self.facilitator_left(now, out);
        }
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
        self.left_structure(user, now, out);
    }

    pub(super) fn tick(&mut self, now: Millis) -> Applied {
        let mut out = Applied::none();
        let grace = self.limits().presence_grace_ms;
        let mut gone: Vec<(Seq, UserId)> = Vec::new();
        let mut unmuted: Vec<(Seq, UserId)> = Vec::new();
        for m in self.members.values_mut() {
            if let Presence::Away { since } = m.presence
                && now >= since + grace
            {
                gone.push((m.joined_seq, m.user));
            }
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
        gone.sort_unstable();
        for (_, user) in unmuted {
            self.push(&mut out, now, EventKind::Unmuted { user });
        }
        for (_, user) in gone {
            self.remove_member(user, LeftReason::Disconnected, now, &mut out);
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
