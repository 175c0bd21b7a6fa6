//! The shield: one facilitator switch that tightens the room on a bad night. Up,
//! it turns the waiting room on, sets slow mode to at least [`SHIELD_SLOW_MODE_SECONDS`]
//! and holds a participant's first message of the session for a facilitator; down,
//! it puts the waiting room and slow mode back as they were before it went up. The
//! room hears one `shield` event either way.

use kindred_protocol::{Millis, UserId};
use serde::{Deserialize, Serialize};

use super::{Applied, EventKind, Room};

/// The slow mode the shield sets when the room's own is shorter (or off).
pub const SHIELD_SLOW_MODE_SECONDS: u32 = 30;

/// What the room had before the shield went up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Shielded {
    waiting_room: bool,
    slow_mode_seconds: u32,
}

impl Room {
    /// Raise or lower the shield; nothing happens (and the room hears nothing) when
    /// it is already as asked.
    pub(super) fn set_shield(&mut self, on: bool, now: Millis, out: &mut Applied) {
        let admit = match (on, self.shield.take()) {
            (true, None) => {
                self.shield = Some(Shielded {
                    waiting_room: self.config.waiting_room,
                    slow_mode_seconds: self.slow_mode_seconds,
                });
                self.config.waiting_room = true;
                self.slow_mode_seconds = self.slow_mode_seconds.max(SHIELD_SLOW_MODE_SECONDS);
                false
            }
            (false, Some(before)) => {
                self.config.waiting_room = before.waiting_room;
                self.slow_mode_seconds = before.slow_mode_seconds;
                !before.waiting_room
            }
            (_, unchanged) => {
                self.shield = unchanged;
                return;
            }
        };
        let event = EventKind::Shield {
            on,
            waiting_room: self.config.waiting_room,
            seconds: self.slow_mode_seconds,
        };
        self.push(out, now, event);
        // A waiting room that was off before lets in whoever the shield kept waiting,
        // as turning it off does: after the event, into the room as it now is.
        if admit {
            self.admit_all(now, out);
        }
    }

    /// Whether `user`'s message waits for a facilitator because the shield is up and
    /// it is their first of the session (crisis words are never held: the caller asks
    /// only for a message without them).
    pub(super) fn shield_holds(&self, user: UserId) -> bool {
        self.shield.is_some()
            && self.members.get(&user).is_some_and(|m| {
                m.role == kindred_protocol::Role::Participant && m.last_post.is_none()
            })
    }

    /// A session's end takes the shield down quietly: the settings that outlive the
    /// session (the waiting room) go back to what they were.
    pub(super) fn drop_shield(&mut self) {
        if let Some(before) = self.shield.take() {
            self.config.waiting_room = before.waiting_room;
        }
    }
}
