//! The room state machine: the room's state, the one entry point for commands
//! ([`Room::apply`], after [`Room::permit`]), and what a store keeps of it. Its
//! vocabulary, its behaviours and its queries are files of their own:
//! - vocabulary: `command` (what can be asked), `outcome` (what a command did, or why
//!   it was refused), `member` (who is in the room and what is kept about them),
//!   `config` (what configures a room);
//! - behaviours: `arrival` (the door and a connection), `posting` (a message),
//!   `private` (alerts, reports, whispers), `moderate` (a facilitator's `mod`, the end
//!   of a session), `waiting` (the waiting room), `attendance` (the held room),
//!   `settings` (the operator's changes), `departure` (leaving, and time passing),
//!   `shield` (one switch for a bad night), `oncall` (an alert escalated to the on-call
//!   supervisor, and their seat), `structure` (the session script, a
//!   go-around, the sharing queue), `air` (share the air: each participant's share of
//!   the conversation, for the facilitators);
//!   `shield` (one switch for a bad night), `structure` (the session script, a
//!   go-around, the sharing queue), `checkin` (a participant's mood at check-in and
//!   check-out for the facilitators, and the session's counts for its debrief);
//! - queries: `queries` (what the room tells those who ask, changing nothing).

mod air;
mod arrival;
mod attendance;
mod checkin;
mod command;
mod config;
mod departure;
pub(crate) mod member;
mod moderate;
mod oncall;
pub(crate) mod outcome;
mod posting;
mod private;
mod queries;
mod settings;
mod shield;
mod step_out;
mod structure;
mod waiting;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kindred_protocol::{LeftReason, MemberMood, Millis, Reaction, Role, RoomId, Seq, UserId};
use serde::{Deserialize, Serialize};

pub use self::air::{AIR_INTERVAL_MS, AirWatch};
pub use self::command::{Command, Concern, Guarded, ModRequest, Screened};
pub use self::config::{
    DEFAULT_CW_TOPICS, DEFAULT_GUIDELINES, Limits, RoomConfig, UpdateRoom, check_cw_topics,
    default_cw_topics,
};
pub use self::member::{Held, Member, ModStatus, Presence, Warning};
pub use self::oncall::Escalation;
pub use self::outcome::{
    Applied, Briefing, Departure, MoodNotice, MuteNotice, Parting, Rejection, Settled,
};
use super::alerts::OpenAlerts;
use super::authz::{Action, authorize};
use super::bans::Bans;
use super::event::{Event, EventKind};
use super::invites::Invites;
use super::log::ModLog;
use super::script::Structure;
use super::sent::SendMemory;
use super::tally::Tally;
use super::whispers::Whispers;

/// The most messages a room holds for review at once; more are refused (`filtered`).
pub const MAX_HELD: usize = 100;
/// The most reactions, and the most reports, a room remembers to recognise a repeat;
/// past it the ones about the oldest messages are forgotten first.
pub const MAX_REMEMBERED_MARKS: usize = 16_384;

/// One room's live state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub config: RoomConfig,
    /// The rules' numbers (presence grace, seats per address, how long a session may be
    /// held…): the creating instance's flags, kept and replicated with the room so that
    /// every instance folds its log alike whatever its own flags say. `None` only in a
    /// room stored before they travelled with it ([`Room::adopt_limits`]).
    #[serde(default)]
    limits: Option<Limits>,
    /// The last seq handed out.
    seq: Seq,
    /// Which session of the room this is; a close starts the next one, and tokens
    /// minted for an earlier session are refused.
    session: u32,
    /// A session is on: participants may join. Between sessions (a new room, or after
    /// a close) only facilitators may enter. Rooms stored before sessions were opened
    /// and closed were always in session.
    #[serde(default = "config::in_session")]
    open: bool,
    /// Since when no facilitator has been present in this open, facilitated session.
    #[serde(default)]
    unattended_since: Option<Millis>,
    /// Since when the room has been held: participants cannot post until a facilitator
    /// is back.
    #[serde(default)]
    held_since: Option<Millis>,
    members: HashMap<UserId, Member>,
    bans: Bans,
    /// Facilitator invites and the seats they gave.
    #[serde(default)]
    invites: Invites,
    paused: bool,
    locked: bool,
    slow_mode_seconds: u32,
    floor: Option<(UserId, Millis)>,
    announcement: Option<String>,
    held: BTreeMap<u64, Held>,
    /// The next id of a held message or an alert (one count for both).
    #[serde(alias = "next_held")]
    next_id: u64,
    /// Crisis alerts and reports no facilitator has handled yet.
    #[serde(default)]
    alerts: OpenAlerts,
    /// Recent sends by user id, for idempotent `send`; outlives membership.
    #[serde(default)]
    sent: SendMemory,
    /// Reactions given, to recognise a repeat: (target, user, emoji).
    #[serde(default)]
    reactions: BTreeSet<(Seq, UserId, Reaction)>,
    /// Reports made, to recognise a repeat: (target, reporter).
    #[serde(default)]
    reports: BTreeSet<(Seq, UserId)>,
    /// The seqs of the session's messages still shown (not withdrawn), so a
    /// facilitator's content warning finds its message (`mod cw`).
    #[serde(default)]
    messages: BTreeSet<Seq>,
    /// Warnings not yet acknowledged, by the member warned.
    #[serde(default)]
    warnings: BTreeMap<UserId, Warning>,
    /// Participants in the waiting room.
    #[serde(default)]
    waiting: BTreeMap<UserId, waiting::Waiter>,
    /// The session's private messages.
    #[serde(default)]
    whispers: Whispers,
    /// What the facilitators did this session.
    #[serde(default)]
    log: ModLog,
    /// The operator deleted the room ([`Command::Delete`]): it refuses everything.
    /// Stored with the room (in Redis's snapshots) only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
    /// The session script, the phase the group is in, its round and queue.
    #[serde(default)]
    structure: Structure,
    /// What each participant has shared this session, and who is here for the first
    /// time (share the air).
    #[serde(default)]
    air: air::Air,
    /// The shield is up: what it changed, to be put back when it comes down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shield: Option<shield::Shielded>,
    /// Alerts a facilitator escalated to the on-call supervisor this session.
    #[serde(default)]
    escalations: oncall::Escalations,
    /// The session's check-ins and check-outs, by participant, for the facilitators.
    #[serde(default)]
    moods: BTreeMap<UserId, MemberMood>,
    /// What the session amounts to so far, for its debrief.
    #[serde(default)]
    tally: Tally,
}

impl Room {
    pub fn new(id: RoomId, config: RoomConfig, limits: Limits) -> Self {
        Self {
            id,
            config,
            limits: Some(limits),
            seq: 0,
            session: 0,
            open: false,
            unattended_since: None,
            held_since: None,
            members: HashMap::new(),
            bans: Bans::default(),
            invites: Invites::default(),
            paused: false,
            locked: false,
            slow_mode_seconds: 0,
            floor: None,
            announcement: None,
            held: BTreeMap::new(),
            next_id: 1,
            alerts: OpenAlerts::default(),
            sent: SendMemory::default(),
            reactions: BTreeSet::new(),
            reports: BTreeSet::new(),
            messages: BTreeSet::new(),
            warnings: BTreeMap::new(),
            waiting: BTreeMap::new(),
            whispers: Whispers::default(),
            shield: None,
            escalations: oncall::Escalations::default(),
            log: ModLog::default(),
            deleted: false,
            structure: Structure::default(),
            air: air::Air::default(),
            moods: BTreeMap::new(),
            tally: Tally::default(),
        }
    }

    /// The room's catalog record: what a store that loses the room's state gives back
    /// ([`Room::reopened`]), and nothing once the room is deleted. A function of the
    /// room alone, so a broker decides when to store it by comparing it before and
    /// after a change (`broker::catalog_change`), never by a list of commands.
    pub fn catalog_record(&self) -> Option<Room> {
        (!self.deleted).then(|| {
            // A store's readable part holds no pseudonym and no open code.
            let mut record = self.reopened();
            record.invites = record.invites.for_catalog();
            record
        })
    }

    /// Whether the operator deleted the room.
    pub fn is_deleted(&self) -> bool {
        self.deleted
    }

    /// The room as it stands between sessions, for a store that lost the room's state:
    /// its settings, bans, invites with their seats, session number (so members'
    /// tokens stay valid) and whether a session is open are kept; members, the
    /// timeline and everything else of the session are gone.
    pub fn reopened(&self) -> Room {
        let mut room = Room::new(self.id, self.config.clone(), self.limits());
        room.session = self.session;
        room.open = self.open;
        room.bans = self.bans.clone();
        room.invites = self.invites.clone();
        room.structure = self.structure.between_sessions();
        room
    }

    /// The numbers the room's rules use: its own, from its creation.
    pub fn limits(&self) -> Limits {
        self.limits.unwrap_or_default()
    }

    /// A room stored before its limits were kept with it takes `instance`'s flags (on
    /// Redis, every instance that loads such a snapshot takes its own, so their flags
    /// must agree until the room is stored again); any other room keeps its own.
    pub fn adopt_limits(&mut self, instance: Limits) {
        self.limits.get_or_insert(instance);
    }

    /// Whether the command's sender may give it at all: they are in the room (or, to
    /// arrive, drop or leave, waiting outside it) in a role that allows it. It reads
    /// nothing that changes from one moment to the next for the sender (mutes, pauses,
    /// the floor are the room's to decide in [`Room::apply`]), so a replica a few
    /// entries behind answers as the log would: both brokers ask it before a command
    /// reaches anything shared, and `apply` asks it first, so a refusal costs nothing.
    pub fn permit(&self, cmd: &Command) -> Result<(), Rejection> {
        if self.deleted {
            return Err(Rejection::Gone);
        }
        // Someone in the waiting room can only wait, drop or leave.
        if let Some(user) = waiting_actor(cmd)
            && self.waiting.contains_key(&user)
        {
            return Err(Rejection::Waiting);
        }
        let (user, action) = match cmd {
            Command::Send { user, .. } => (*user, Action::Send),
            Command::Hand { user, .. }
            | Command::Pass { user }
            | Command::Queue { user, .. }
            | Command::StepAway { user, .. } => (*user, Action::Hand),
            Command::React { user, .. } => (*user, Action::React),
            Command::Report { user, .. } | Command::Concern { user, .. } => (*user, Action::Report),
            // Someone waiting may write to the facilitators (`waiting_actor` let only
            // that through): a word before they are let in.
            Command::Whisper { user, .. } if self.waiting.contains_key(user) => return Ok(()),
            Command::Whisper { user, to, .. } => match (self.role_of(*user)?, to) {
                (Role::Facilitator, Some(_)) => (*user, Action::WhisperAnyone),
                _ => (*user, Action::WhisperFacilitators),
            },
            Command::Moderate { actor, request } => (*actor, Action::Moderate(request.action)),
            Command::WaitingNote { user, .. } => (*user, Action::NoteWaiting),
            Command::Mood { user, .. } => (*user, Action::CheckIn),
            Command::AckWarning { user, .. } => {
                self.role_of(*user)?;
                return Ok(());
            }
            Command::Leave { user } => {
                if self.members.contains_key(user) || self.waiting.contains_key(user) {
                    return Ok(());
                }
                return Err(Rejection::NotMember);
            }
            Command::Connect { .. }
            | Command::Disconnect { .. }
            | Command::Tick
            | Command::Invite { .. }
            | Command::Redeem { .. }
            | Command::OpenSeatCode { .. }
            | Command::TakeSeatCode { .. }
            | Command::OnCallSeat { .. }
            | Command::Revoke { .. }
            | Command::Dismiss { .. }
            | Command::Configure(_)
            | Command::Delete => return Ok(()),
        };
        if authorize(self.role_of(user)?, action) {
            Ok(())
        } else {
            Err(Rejection::Forbidden)
        }
    }

    /// Apply one command at instant `now`.
    pub fn apply(&mut self, cmd: Command, now: Millis) -> Result<Applied, Rejection> {
        self.permit(&cmd)?;
        let out = self.decide(cmd, now)?;
        self.count(&out);
        Ok(out)
    }

    fn decide(&mut self, cmd: Command, now: Millis) -> Result<Applied, Rejection> {
        match cmd {
            Command::Connect {
                user,
                name,
                role,
                session,
                origin,
                first_time,
            } => {
                let out = self.connect(user, (name, role, origin), session, now)?;
                if first_time {
                    self.first_time_here(user);
                }
                Ok(out)
            }
            Command::Disconnect { user } => {
                if let Some(m) = self.members.get_mut(&user) {
                    m.presence = m.presence.dropped(now);
                    return Ok(Applied::none());
                }
                Ok(self.waiter_dropped(user, now))
            }
            Command::Leave { user } => {
                let mut out = Applied::none();
                if self.waiting.contains_key(&user) {
                    self.waiter_left(user, Parting::Left, &mut out);
                    return Ok(out);
                }
                self.remove_member(user, LeftReason::Left, now, &mut out);
                Ok(out)
            }
            Command::Send {
                user,
                client_id,
                text,
                cw,
                crisis,
                screened,
                guard,
            } => self.send(user, client_id, text, cw, (crisis, screened, guard), now),
            Command::Hand { user, raised } => {
                let m = self.members.get_mut(&user).ok_or(Rejection::NotMember)?;
                let mut out = Applied::none();
                if m.hand_raised != raised {
                    m.hand_raised = raised;
                    self.push(&mut out, now, EventKind::Hand { user, raised });
                }
                self.hand_moved(user, raised, now, &mut out);
                Ok(out)
            }
            Command::Pass { user } => self.pass(user, now),
            Command::Queue { user, on } => self.ask_to_share(user, on, now),
            Command::StepAway { user, on } => self.step_away(user, on, now),
            Command::Mood {
                user,
                checkout,
                mood,
                words,
            } => self.give_mood(user, checkout, (mood, words), now),
            Command::React {
                user,
                target,
                emoji,
            } => {
                if target == 0 || target > self.seq {
                    return Err(Rejection::NotFound);
                }
                // The same reaction again by the same member is not news.
                if !remember_mark(&mut self.reactions, (target, user, emoji)) {
                    return Ok(Applied {
                        duplicate: true,
                        ..Applied::none()
                    });
                }
                let mut out = Applied::none();
                self.push(
                    &mut out,
                    now,
                    EventKind::Reaction {
                        user,
                        target,
                        emoji,
                    },
                );
                Ok(out)
            }
            Command::Report {
                user,
                target,
                reason,
                context,
            } => self.report(user, target, reason, context, now),
            Command::Whisper {
                user,
                to,
                text,
                crisis,
            } => self.whisper(user, (to, text, crisis), now),
            Command::WaitingNote { user, text } => Ok(self.note_waiting(user, text, now)),
            Command::Concern {
                user,
                subject,
                seq,
                quote,
            } => self.concern(user, subject, (seq, quote), now),
            Command::AckWarning { user, alert } => self.ack_warning(user, alert, now),
            Command::Moderate { actor, request } => {
                // Written before the action (a removed member's name goes with them),
                // kept only if it succeeds.
                let entry = self.log_entry(actor, &request, now);
                let mut out = self.moderate(actor, request, now)?;
                self.log_action(entry, &mut out);
                Ok(out)
            }
            Command::Tick => Ok(self.tick(now)),
            Command::Invite { invite } => {
                self.invites.add(invite, now)?;
                Ok(Applied::none())
            }
            Command::Redeem { invite, user, seat } => {
                self.invites.redeem(invite, user, seat, now)?;
                Ok(Applied::none())
            }
            Command::OpenSeatCode {
                user,
                name,
                code,
                expires_at,
            } => {
                self.invites.open_code(user, name, code, expires_at)?;
                Ok(Applied::none())
            }
            Command::TakeSeatCode { code, key } => {
                self.invites.take_code(&code, key, now)?;
                Ok(Applied::none())
            }
            Command::OnCallSeat { user, name, seat } => self.on_call_seat((user, name, seat), now),
            Command::Revoke { invite } => {
                let record = self.invites.revoke(invite).ok_or(Rejection::NotFound)?;
                let mut out = Applied::none();
                for user in record.seats {
                    // Gone from the room or not, a seat that ends closes their tabs,
                    // saying it was the organiser (the first departure recorded wins).
                    out.depart(user, Parting::Dismissed);
                    self.remove_member(user, LeftReason::Removed, now, &mut out);
                }
                Ok(out)
            }
            Command::Dismiss { user } => {
                if !self.members.contains_key(&user) && !self.invites.seated(user) {
                    return Err(Rejection::NotFound);
                }
                self.invites.unseat(user);
                let mut out = Applied::none();
                out.depart(user, Parting::Dismissed);
                self.remove_member(user, LeftReason::Removed, now, &mut out);
                Ok(out)
            }
            Command::Configure(update) => Ok(self.configure(*update, now)),
            Command::Delete => Ok(self.delete(now)),
        }
    }

    fn role_of(&self, user: UserId) -> Result<Role, Rejection> {
        self.members
            .get(&user)
            .map(|m| m.role)
            .ok_or(Rejection::NotMember)
    }

    fn push(&mut self, out: &mut Applied, now: Millis, kind: EventKind) -> Seq {
        self.seq += 1;
        // What is shown where: a message a facilitator may put a warning on, until
        // it is withdrawn.
        match kind {
            EventKind::Message { .. } => {
                remember_mark(&mut self.messages, self.seq);
            }
            EventKind::Redacted { target } => {
                self.messages.remove(&target);
            }
            _ => {}
        }
        out.events.push(Event {
            seq: self.seq,
            ts: now,
            kind,
        });
        self.seq
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}

/// The member a command is from, for the commands someone in the waiting room may
/// not give (they may arrive, drop, leave and write to the facilitators).
fn waiting_actor(cmd: &Command) -> Option<UserId> {
    match cmd {
        Command::Send { user, .. }
        | Command::Hand { user, .. }
        | Command::Pass { user }
        | Command::Queue { user, .. }
        | Command::StepAway { user, .. }
        | Command::React { user, .. }
        | Command::Report { user, .. }
        | Command::Concern { user, .. }
        | Command::Whisper {
            user, to: Some(_), ..
        }
        | Command::WaitingNote { user, .. }
        | Command::Mood { user, .. }
        | Command::AckWarning { user, .. } => Some(*user),
        Command::Whisper { to: None, .. } => None,
        Command::Moderate { actor, .. } => Some(*actor),
        Command::Connect { .. }
        | Command::Disconnect { .. }
        | Command::Leave { .. }
        | Command::Tick
        | Command::Invite { .. }
        | Command::Redeem { .. }
        | Command::OpenSeatCode { .. }
        | Command::TakeSeatCode { .. }
        | Command::OnCallSeat { .. }
        | Command::Revoke { .. }
        | Command::Dismiss { .. }
        | Command::Configure(_)
        | Command::Delete => None,
    }
}

/// Remember a mark (a reaction, a report) in a bounded set; false if it was there.
/// Past [`MAX_REMEMBERED_MARKS`] the marks about the oldest messages go first.
fn remember_mark<T: Ord>(marks: &mut BTreeSet<T>, mark: T) -> bool {
    if !marks.insert(mark) {
        return false;
    }
    while marks.len() > MAX_REMEMBERED_MARKS {
        marks.pop_first();
    }
    true
}
