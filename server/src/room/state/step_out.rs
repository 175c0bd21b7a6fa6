//! Stepping out: a facilitator asks a participant out of the room for a quiet word,
//! instead of removing them. They go back to the waiting room (whether or not the
//! room has it switched on) with their connections open, the facilitator's note kept
//! for them alone, and the private word with the facilitators that anyone waiting
//! has (`private.rs`). The room sees only that they stepped out. A facilitator's
//! `admit` lets them back in, as a member arriving now; turning the waiting room off
//! or admitting everyone waiting does not, since someone asked them out on purpose.

use kindred_protocol::{Millis, SteppedOut, UserId};

use super::waiting::Waiter;
use super::{Applied, EventKind, Rejection, Room};

impl Room {
    /// Ask `user` (a participant, checked by the caller) out of the room: the room
    /// sees `stepped_out`, they wait outside with `note`, the floor and their turn
    /// pass on, and the facilitators are given the waiting list. Their hand, a mute and
    /// their place in a go-around do not come back with them: admitted again, they are
    /// a member arriving now.
    pub(super) fn step_out(
        &mut self,
        user: UserId,
        note: Option<String>,
        now: Millis,
        out: &mut Applied,
    ) -> Result<(), Rejection> {
        let member = self.members.remove(&user).ok_or(Rejection::NotFound)?;
        self.push(out, now, EventKind::SteppedOut { user });
        let order = self
            .waiting
            .values()
            .map(|w| w.order + 1)
            .max()
            .unwrap_or(0);
        self.waiting.insert(
            user,
            Waiter {
                user,
                name: member.name,
                since: now,
                order,
                presence: member.presence,
                look: member.look,
                origin: member.origin,
                stepped_out: Some(SteppedOut { note }),
            },
        );
        self.open_floor_of(user, now, out);
        self.left_structure(user, now, out);
        out.waiting_list = Some(self.waiting_list());
        Ok(())
    }

    /// Why `user` waits, if a facilitator asked them out of the room: the note they
    /// are shown on their waiting screen.
    pub fn stepped_out(&self, user: UserId) -> Option<&SteppedOut> {
        self.waiting.get(&user)?.stepped_out.as_ref()
    }
}
