//! Arriving: who the door lets in (and in what order it says no), a connection of a
//! member or a newcomer, a seat taken, and what a facilitator is told on arrival.

use kindred_protocol::{Millis, Role, UserId};

use super::{Applied, Briefing, Member, ModStatus, MuteNotice, Presence, Rejection, Room};
use crate::room::bans::Origin;
use crate::room::event::EventKind;
use crate::safety::NameLook;

impl Room {
    /// Whether a new member could join now (used by the HTTP join before a token is
    /// minted, and again when they connect): a session is on, they come from no banned
    /// member's device or (this session) address, the room is not locked, has a seat,
    /// and their network does not already hold its share of the seats; then nobody in
    /// it goes by a name that looks like theirs.
    ///
    /// The order leaks nothing: every refusal that does not depend on who is inside
    /// comes first, so a name that looks like a present member's is refused only to
    /// someone who would otherwise be let in. In a room with a waiting room, where
    /// the answer would tell an outsider who is inside, the name is not compared at
    /// all: the facilitator who admits them is told of a clash instead
    /// ([`Rejection::NameClash`]).
    pub fn admits(&self, role: Role, name: &str, origin: &Origin) -> Result<(), Rejection> {
        if role == Role::Participant {
            if !self.open {
                return Err(Rejection::NotOpen);
            }
            if self.bans.origin(origin) {
                return Err(Rejection::Banned);
            }
            if self.locked {
                return Err(Rejection::Locked);
            }
            // Someone waiting holds a seat: admitting them never overfills the room.
            if self.members.len() + self.waiting.len() >= self.config.capacity as usize {
                return Err(Rejection::RoomFull);
            }
            if let Some(address) = &origin.address {
                let here = self
                    .members
                    .values()
                    .filter(|m| m.role == Role::Participant)
                    .map(|m| &m.origin);
                let same = here
                    .chain(self.waiting.values().map(|w| &w.origin))
                    .filter(|o| o.address.as_ref() == Some(address))
                    .count();
                if same >= self.limits().members_per_address {
                    return Err(Rejection::TooManyFromAddress);
                }
            }
            if self.config.waiting_room {
                return Ok(());
            }
        }
        if self.name_clashes(name) {
            return Err(Rejection::NameInUse);
        }
        Ok(())
    }

    /// Whether someone present or waiting goes by a name that looks like `name`.
    fn name_clashes(&self, name: &str) -> bool {
        let look = NameLook::of(name);
        self.members
            .values()
            .map(|m| &m.look)
            .chain(self.waiting.values().map(|w| &w.look))
            .any(|l| l.clashes(&look))
    }

    pub(super) fn connect(
        &mut self,
        user: UserId,
        (name, role, origin): (String, Role, Origin),
        session: u32,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        if session != self.session {
            return Err(Rejection::Closed);
        }
        if self.bans.user(user) {
            return Err(Rejection::Banned);
        }
        // A facilitator's token is good while the invite's seat it was minted with is.
        if role == Role::Facilitator && !self.invites.seated(user) {
            return Err(Rejection::InviteInvalid);
        }
        if let Some(m) = self.members.get_mut(&user) {
            let was_away = m.presence.shown_away();
            m.presence = m.presence.arrived();
            let (role, status, reason) = (m.role, m.status, m.mute_reason.clone());
            let mute_notice = match status {
                ModStatus::Muted { until } if until.is_none_or(|t| t > now) => Some(MuteNotice {
                    user,
                    until,
                    reason,
                }),
                _ => None,
            };
            let mut out = Applied {
                briefing: self.brief(role),
                pending_warning: self.warnings.get(&user).cloned(),
                whispers: self.whispers.for_member(user, role == Role::Facilitator),
                mute_notice,
                ..Applied::none()
            };
            if was_away {
                // Back in the seat that was kept; a facilitator's return ends a hold.
                self.push(&mut out, now, EventKind::Back { user });
                if role == Role::Facilitator {
                    self.attend(now, &mut out);
                }
            }
            return Ok(out);
        }
        if role == Role::Participant && (self.config.waiting_room || self.is_waiting(user)) {
            if !self.is_waiting(user) {
                self.admits(role, &name, &origin)?;
            }
            return Ok(self.knock(user, (name, origin), now));
        }
        self.admits(role, &name, &origin)?;
        let mut out = Applied {
            briefing: self.brief(role),
            whispers: self.whispers.for_member(user, role == Role::Facilitator),
            ..Applied::none()
        };
        let online = Presence::Online { connections: 1 };
        self.seat(user, (name, role, origin), online, now, &mut out);
        Ok(out)
    }

    /// Make someone a member: the room sees them join.
    pub(super) fn seat(
        &mut self,
        user: UserId,
        (name, role, origin): (String, Role, Origin),
        presence: Presence,
        now: Millis,
        out: &mut Applied,
    ) {
        let seq = self.push(
            out,
            now,
            EventKind::Joined {
                user,
                name: name.clone(),
                role,
            },
        );
        self.members.insert(
            user,
            Member {
                user,
                look: NameLook::of(&name),
                name,
                role,
                status: ModStatus::Active,
                presence,
                hand_raised: false,
                last_post: None,
                joined_seq: seq,
                origin,
                mute_reason: None,
                stepping_away: false,
            },
        );
        if role == Role::Facilitator {
            self.attend(now, out);
        } else {
            self.joined_round(user, now, out);
        }
    }

    /// What a facilitator who arrives is given (nothing for a participant).
    pub(super) fn brief(&self, role: Role) -> Option<Box<Briefing>> {
        if role != Role::Facilitator {
            return None;
        }
        Some(Box::new(Briefing {
            kept: self.kept(),
            warnings: self.warnings.values().cloned().collect(),
            waiting: self.waiting_list(),
            log: self.log.entries(),
            air: self.share_the_air(),
        }))
    }
}
