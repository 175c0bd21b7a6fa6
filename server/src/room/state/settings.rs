//! The operator's and the facilitators' settings of a room: the admin API's changes,
//! the room's deletion, opening and closing a session, and the content policy.

use kindred_protocol::Millis;
use kindred_protocol::policy::ContentPolicy;

use super::{Applied, Room, RoomConfig, UpdateRoom};
use crate::room::event::EventKind;

impl Room {
    /// The operator changed the room's settings: the policy through [`Room::set_policy`],
    /// the session through [`Room::set_open`] and the waiting room through its own
    /// setter, so members hear of all three.
    pub(in crate::room) fn configure(&mut self, update: UpdateRoom, now: Millis) -> Applied {
        let (policy, open, waiting_room) = (update.policy, update.open, update.waiting_room);
        let script = update.script.clone();
        apply_update(&mut self.config, update);
        let mut out = policy.map_or_else(Applied::none, |p| self.set_policy(p, now));
        // Checked at the HTTP edge, which answers a bad script before it is logged; an
        // entry that still carries one (it cannot come from the edge) changes nothing.
        if let Some(phases) = script {
            self.set_script(phases, now, &mut out).ok();
        }
        if let Some(on) = waiting_room {
            self.set_waiting_room(on, now, &mut out);
        }
        if let Some(open) = open {
            let opened = self.set_open(open, now);
            out.ack = opened.ack.or(out.ack);
            out.events.extend(opened.events);
        }
        // A room made unfacilitated is no longer held; one made facilitated starts
        // counting.
        self.attend(now, &mut out);
        out
    }

    /// The operator deleted the room: its session closes (members are told and
    /// disconnected), and the room refuses every command from now on
    /// ([`Room::permit`]); its catalog record is gone ([`Room::catalog_record`]).
    pub(super) fn delete(&mut self, now: Millis) -> Applied {
        self.deleted = true;
        self.close_session(Some("this room has been removed".to_owned()), now)
    }

    /// Open a session, or close the one that is on ([`Room::close_session`]).
    pub(in crate::room) fn set_open(&mut self, open: bool, now: Millis) -> Applied {
        match (self.open, open) {
            (false, true) => {
                self.open = true;
                self.tally = crate::room::tally::Tally::opened(now);
                let mut out = Applied::none();
                out.ack = Some(self.push(&mut out, now, EventKind::Opened));
                self.attend(now, &mut out);
                out
            }
            (true, false) => self.close_session(None, now),
            _ => Applied::none(),
        }
    }

    /// Change the content policy (admin API or a facilitator).
    pub(in crate::room) fn set_policy(&mut self, policy: ContentPolicy, now: Millis) -> Applied {
        let mut out = Applied::none();
        if policy != self.config.policy {
            self.config.policy = policy;
            self.push(&mut out, now, EventKind::Policy { policy });
        }
        out
    }
}

/// Apply a partial update to a room's settings, except the policy and the session
/// (which go through [`Room::configure`] so members hear of them).
fn apply_update(config: &mut RoomConfig, update: UpdateRoom) {
    let UpdateRoom {
        title,
        topic,
        description,
        guidelines,
        capacity,
        visibility,
        policy: _,
        open: _,
        waiting_room: _,
        script: _,
        facilitated,
        schedule,
        cw_topics,
    } = update;
    if let Some(v) = cw_topics {
        config.cw_topics = v;
    }
    if let Some(v) = schedule {
        config.schedule = v;
    }
    if let Some(v) = facilitated {
        config.facilitated = v;
    }
    if let Some(v) = title {
        config.title = v;
    }
    if let Some(v) = topic {
        config.topic = v;
    }
    if let Some(v) = description {
        config.description = v;
    }
    if let Some(v) = guidelines {
        config.guidelines = v;
    }
    if let Some(v) = capacity {
        config.capacity = v;
    }
    if let Some(v) = visibility {
        config.visibility = v;
    }
}
