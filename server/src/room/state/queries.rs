//! What the room tells those who ask, changing nothing: its seq and session, its
//! members as the wire shows them, its state, whether a tick is due, its invites and
//! seats, and what is open for the facilitators.

use kindred_protocol::{InviteId, LogEntry, MemberInfo, Millis, RoomState, Seq, UserId};

use super::super::alerts::Kept;
use super::super::bans::Mark;
use super::super::invites::{BoundSeat, InviteRecord};
use super::{Held, Member, ModStatus, Rejection, Room};

impl Room {
    /// The last seq handed out.
    pub fn head(&self) -> Seq {
        self.seq
    }

    /// The current session number (see [`Command::Connect`]).
    pub fn session(&self) -> u32 {
        self.session
    }

    /// Whether a session is on.
    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn member(&self, user: UserId) -> Option<&Member> {
        self.members.get(&user)
    }

    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// Crisis alerts raised that no facilitator has handled yet.
    pub fn unhandled_crises(&self) -> usize {
        self.alerts.crises()
    }

    /// The room's facilitator invites, oldest first.
    pub fn invites(&self) -> Vec<InviteRecord> {
        self.invites.list()
    }

    /// Whether a join could spend a use of the invite `id` now ([`Invites::usable`]).
    pub fn invite_usable(&self, id: InviteId, keyed: bool, now: Millis) -> Result<(), Rejection> {
        self.invites.usable(id, keyed, now)
    }

    /// The facilitator's seat the browser whose key's mark is `key` is bound to.
    pub fn bound_seat(&self, key: &Mark) -> Option<BoundSeat> {
        self.invites.bound(key)
    }

    /// Members in order of arrival, as the wire shows them.
    pub fn member_infos(&self) -> Vec<MemberInfo> {
        let mut members: Vec<&Member> = self.members.values().collect();
        members.sort_by_key(|m| m.joined_seq);
        members
            .into_iter()
            .map(|m| {
                let (muted, muted_until) = match m.status {
                    ModStatus::Active => (false, None),
                    ModStatus::Muted { until } => (true, until),
                };
                MemberInfo {
                    user: m.user,
                    name: m.name.clone(),
                    role: m.role,
                    hand_raised: m.hand_raised,
                    muted,
                    muted_until,
                    away: m.presence.shown_away(),
                    stepping_away: m.stepping_away,
                }
            })
            .collect()
    }

    pub fn state(&self) -> RoomState {
        RoomState {
            open: self.open,
            held: self.held_since.is_some(),
            paused: self.paused,
            locked: self.locked,
            waiting_room: self.config.waiting_room,
            slow_mode_seconds: self.slow_mode_seconds,
            shield: self.shield.is_some(),
            floor: self.floor.map(|f| f.0),
            floor_until: self.floor.map(|f| f.1),
            announcement: self.announcement.clone(),
            script: Some(self.script_view()),
        }
    }

    /// Whether a [`Command::Tick`] at `now` would change anything: a grace period, an
    /// away limit, a mute or the floor has run out. Several instances serve one room;
    /// they issue a tick only when one is due, and the room's log orders them (the
    /// later ones find nothing left to expire).
    pub fn tick_due(&self, now: Millis) -> bool {
        self.watch_due(now)
            || self.waiters_due(now)
            || self.phase_due(now)
            || self.floor.is_some_and(|(_, until)| until <= now)
            || self.members.values().any(|m| {
                self.absence(m.presence, now).is_some()
                    || matches!(m.status, ModStatus::Muted { until: Some(t) } if t <= now)
            })
    }

    /// Everything open for the facilitators, oldest first.
    pub fn kept(&self) -> Vec<Kept> {
        let mut kept: Vec<Kept> = self
            .alerts
            .iter()
            .cloned()
            .map(Kept::Alert)
            .chain(self.held.values().cloned().map(Kept::Held))
            .collect();
        kept.sort_by_key(Kept::id);
        kept
    }

    /// The session's moderation log, oldest first.
    pub fn mod_log(&self) -> Vec<LogEntry> {
        self.log.entries()
    }

    /// The messages waiting for review, oldest first.
    pub fn held(&self) -> impl Iterator<Item = &Held> {
        self.held.values()
    }
}
