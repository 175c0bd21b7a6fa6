//! The room state machine.

use std::collections::{HashMap, HashSet, VecDeque};

use std::collections::BTreeMap;

use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{
    ClientId, ErrorCode, LeftReason, MemberInfo, Millis, ModAction, Reaction, Role, RoomId,
    RoomState, Seq, UserId, Visibility,
};

use serde::{Deserialize, Serialize};

use super::authz::{Action, authorize};
use super::event::{Event, EventKind};
use crate::safety::{Evaluate, Verdict};

/// The most messages a room holds for review at once; more are refused (`filtered`).
pub const MAX_HELD: usize = 100;

/// What an operator sets for a room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomConfig {
    pub title: String,
    pub topic: String,
    pub description: String,
    pub guidelines: String,
    pub capacity: u32,
    pub visibility: Visibility,
    pub policy: ContentPolicy,
}

/// Rules that come from configuration rather than from the room's own state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a member whose connection dropped stays present (ms).
    pub presence_grace_ms: u64,
    /// How many recent `send` client ids per member are remembered for de-duplication.
    pub dedupe_window: usize,
    /// The longest mute, slow mode or floor a facilitator may set (seconds).
    pub max_moderation_seconds: u32,
    /// The floor's length when the facilitator gives none (seconds).
    pub default_floor_seconds: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            presence_grace_ms: 30_000,
            dedupe_window: 64,
            max_moderation_seconds: 24 * 3600,
            default_floor_seconds: 180,
        }
    }
}

/// A member's standing with the facilitators. Removal and bans take a member out of
/// the room altogether (see [`Room::bans`]), so they are not states of a present member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModStatus {
    Active,
    /// Muted until the instant, or until lifted when `None`.
    Muted {
        until: Option<Millis>,
    },
}

/// Whether a member has a live connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Presence {
    Online {
        connections: u32,
    },
    /// Every connection dropped at `since`; they leave when the grace period ends.
    Away {
        since: Millis,
    },
}

/// A member of the room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    pub status: ModStatus,
    pub presence: Presence,
    pub hand_raised: bool,
    /// When they last posted, for slow mode.
    pub last_post: Option<Millis>,
    /// Order of arrival, so member lists are stable.
    pub joined_seq: Seq,
    /// Recent `send` client ids and the seq each got, oldest first.
    recent_sends: VecDeque<(ClientId, Seq)>,
}

/// A command to the room. Each names its actor; the actor's role is the one the
/// room recorded when they connected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// A connection with a valid token arrives (first connection or another one).
    Connect {
        user: UserId,
        name: String,
        role: Role,
        session: u32,
    },
    /// A connection dropped without `leave`.
    Disconnect {
        user: UserId,
    },
    /// The member leaves for good.
    Leave {
        user: UserId,
    },
    Send {
        user: UserId,
        client_id: ClientId,
        text: String,
        cw: Option<String>,
        /// The crisis matcher recognised the text: no policy may alter or hold it.
        crisis: bool,
        /// The content policy's verdict, reached outside the room's lock (rustrict
        /// is slow) under the policy named here. Used when that is still the room's
        /// policy; otherwise the room decides again.
        screened: Option<Screened>,
    },
    Hand {
        user: UserId,
        raised: bool,
    },
    React {
        user: UserId,
        target: Seq,
        emoji: Reaction,
    },
    Moderate {
        actor: UserId,
        request: ModRequest,
    },
    /// Time passed: expire grace periods, mutes and the floor.
    Tick,
}

/// A facilitator's moderation command; which fields each action uses is listed on
/// [`ModAction`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModRequest {
    pub action: ModAction,
    pub user: Option<UserId>,
    pub seq: Option<Seq>,
    pub seconds: Option<u32>,
    pub reason: Option<String>,
    pub text: Option<String>,
    pub held: Option<u64>,
    pub policy: Option<ContentPolicy>,
}

impl ModRequest {
    /// A request with only the action set.
    pub fn new(action: ModAction) -> Self {
        Self {
            action,
            user: None,
            seq: None,
            seconds: None,
            reason: None,
            text: None,
            held: None,
            policy: None,
        }
    }
}

/// A content-policy verdict and the policy it was reached under.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Screened {
    pub policy: ContentPolicy,
    pub verdict: Verdict,
}

/// A message the content policy holds for a facilitator's review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub id: u64,
    pub user: UserId,
    pub name: String,
    pub client_id: ClientId,
    pub text: String,
    pub cw: Option<String>,
    /// The kinds of content the policy found.
    #[serde(with = "crate::safety::kind_names")]
    pub kinds: Vec<&'static str>,
}

/// Why the room refused a command. Values, not errors: the caller maps them to
/// wire codes with [`Rejection::code`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("you are not a member of this room")]
    NotMember,
    #[error("your role does not allow that")]
    Forbidden,
    #[error("{0}")]
    BadRequest(&'static str),
    #[error("no such member or message")]
    NotFound,
    #[error("you are muted for now")]
    Muted { until: Option<Millis> },
    #[error("the room is paused: only facilitators can post for a moment")]
    Paused,
    #[error("this session has ended")]
    Closed,
    #[error("slow mode is on: please wait a moment before posting again")]
    SlowMode { retry_after_ms: u64 },
    #[error("the room is full")]
    RoomFull,
    #[error("the room is locked")]
    Locked,
    #[error("you cannot rejoin this room")]
    Banned,
    #[error("someone else has the floor right now")]
    NotYourTurn,
    #[error("too many messages are waiting for review; please try again later")]
    TooManyHeld,
}

impl Rejection {
    pub fn code(&self) -> ErrorCode {
        match self {
            Rejection::NotMember => ErrorCode::Forbidden,
            Rejection::Forbidden => ErrorCode::Forbidden,
            Rejection::BadRequest(_) => ErrorCode::BadRequest,
            Rejection::NotFound => ErrorCode::NotFound,
            Rejection::Muted { .. } => ErrorCode::Muted,
            Rejection::Paused => ErrorCode::Paused,
            Rejection::Closed => ErrorCode::Closed,
            Rejection::SlowMode { .. } => ErrorCode::SlowMode,
            Rejection::RoomFull => ErrorCode::RoomFull,
            Rejection::Locked => ErrorCode::Locked,
            Rejection::Banned => ErrorCode::Banned,
            Rejection::NotYourTurn => ErrorCode::NotYourTurn,
            Rejection::TooManyHeld => ErrorCode::Filtered,
        }
    }

    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Rejection::SlowMode { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }
}

/// What a command did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// New timeline events, in order, already numbered.
    pub events: Vec<Event>,
    /// The seq to name in the `ack` (the message's seq for a send).
    pub ack: Option<Seq>,
    /// The command repeated an earlier `send`: nothing new happened.
    pub duplicate: bool,
    /// The content policy flagged the message (delivered as written): these kinds.
    pub flagged: Vec<&'static str>,
    /// The message held for review by this send, or released or declined by this
    /// moderation.
    pub held: Option<Held>,
}

impl Applied {
    fn none() -> Self {
        Self::default()
    }
}

/// One room's live state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub config: RoomConfig,
    /// Configuration, not state: a replica restored from a snapshot takes its own.
    #[serde(skip)]
    limits: Limits,
    /// The last seq handed out.
    seq: Seq,
    /// Which session of the room this is; a close starts the next one, and tokens
    /// minted for an earlier session are refused.
    session: u32,
    members: HashMap<UserId, Member>,
    bans: HashSet<UserId>,
    paused: bool,
    locked: bool,
    slow_mode_seconds: u32,
    floor: Option<(UserId, Millis)>,
    announcement: Option<String>,
    held: BTreeMap<u64, Held>,
    next_held: u64,
}

impl Room {
    pub fn new(id: RoomId, config: RoomConfig, limits: Limits) -> Self {
        Self {
            id,
            config,
            limits,
            seq: 0,
            session: 0,
            members: HashMap::new(),
            bans: HashSet::new(),
            paused: false,
            locked: false,
            slow_mode_seconds: 0,
            floor: None,
            announcement: None,
            held: BTreeMap::new(),
            next_held: 1,
        }
    }

    /// The last seq handed out.
    pub fn head(&self) -> Seq {
        self.seq
    }

    /// The current session number (see [`Command::Connect`]).
    pub fn session(&self) -> u32 {
        self.session
    }

    pub fn member(&self, user: UserId) -> Option<&Member> {
        self.members.get(&user)
    }

    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// Whether a new member could join now (used by the HTTP join before a token is minted).
    pub fn admits(&self, role: Role) -> Result<(), Rejection> {
        match role {
            Role::Facilitator => Ok(()),
            Role::Participant if self.locked => Err(Rejection::Locked),
            Role::Participant if self.members.len() >= self.config.capacity as usize => {
                Err(Rejection::RoomFull)
            }
            Role::Participant => Ok(()),
        }
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
                }
            })
            .collect()
    }

    pub fn state(&self) -> RoomState {
        RoomState {
            paused: self.paused,
            locked: self.locked,
            slow_mode_seconds: self.slow_mode_seconds,
            floor: self.floor.map(|f| f.0),
            floor_until: self.floor.map(|f| f.1),
            announcement: self.announcement.clone(),
        }
    }

    /// Whether a [`Command::Tick`] at `now` would change anything: a grace period, a
    /// mute or the floor has run out. Several instances serve one room; they issue a
    /// tick only when one is due, and the room's log orders them (the later ones find
    /// nothing left to expire).
    pub fn tick_due(&self, now: Millis) -> bool {
        let grace = self.limits.presence_grace_ms;
        self.floor.is_some_and(|(_, until)| until <= now)
            || self.members.values().any(|m| {
                matches!(m.presence, Presence::Away { since } if now >= since + grace)
                    || matches!(m.status, ModStatus::Muted { until: Some(t) } if t <= now)
            })
    }

    /// The room as it stands between sessions, for a store that lost the room's state:
    /// its settings, bans and session number (so members' tokens stay valid) are kept;
    /// members, the timeline and everything of the session are gone.
    pub fn reopened(&self) -> Room {
        let mut room = Room::new(self.id, self.config.clone(), self.limits);
        room.session = self.session;
        room.bans = self.bans.clone();
        room
    }

    /// Use these limits (a room restored from a snapshot takes this instance's).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Apply one command at instant `now`.
    pub fn apply(&mut self, cmd: Command, now: Millis) -> Result<Applied, Rejection> {
        match cmd {
            Command::Connect {
                user,
                name,
                role,
                session,
            } => self.connect(user, name, role, session, now),
            Command::Disconnect { user } => {
                if let Some(m) = self.members.get_mut(&user) {
                    m.presence = match m.presence {
                        Presence::Online { connections } if connections > 1 => Presence::Online {
                            connections: connections - 1,
                        },
                        Presence::Online { .. } | Presence::Away { .. } => {
                            Presence::Away { since: now }
                        }
                    };
                }
                Ok(Applied::none())
            }
            Command::Leave { user } => {
                if !self.members.contains_key(&user) {
                    return Err(Rejection::NotMember);
                }
                let mut out = Applied::none();
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
            } => self.send(user, client_id, text, cw, (crisis, screened), now),
            Command::Hand { user, raised } => {
                let m = self.members.get_mut(&user).ok_or(Rejection::NotMember)?;
                let mut out = Applied::none();
                if m.hand_raised != raised {
                    m.hand_raised = raised;
                    self.push(&mut out, now, EventKind::Hand { user, raised });
                }
                Ok(out)
            }
            Command::React {
                user,
                target,
                emoji,
            } => {
                let role = self.role_of(user)?;
                if !authorize(role, Action::React) {
                    return Err(Rejection::Forbidden);
                }
                if target == 0 || target > self.seq {
                    return Err(Rejection::NotFound);
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
            Command::Moderate { actor, request } => {
                let role = self.role_of(actor)?;
                if !authorize(role, Action::Moderate(request.action)) {
                    return Err(Rejection::Forbidden);
                }
                self.moderate(request, now)
            }
            Command::Tick => Ok(self.tick(now)),
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
        out.events.push(Event {
            seq: self.seq,
            ts: now,
            kind,
        });
        self.seq
    }

    fn connect(
        &mut self,
        user: UserId,
        name: String,
        role: Role,
        session: u32,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        if session != self.session {
            return Err(Rejection::Closed);
        }
        if self.bans.contains(&user) {
            return Err(Rejection::Banned);
        }
        if let Some(m) = self.members.get_mut(&user) {
            m.presence = match m.presence {
                Presence::Online { connections } => Presence::Online {
                    connections: connections + 1,
                },
                Presence::Away { .. } => Presence::Online { connections: 1 },
            };
            return Ok(Applied::none());
        }
        self.admits(role)?;
        let mut out = Applied::none();
        let seq = self.push(
            &mut out,
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
                name,
                role,
                status: ModStatus::Active,
                presence: Presence::Online { connections: 1 },
                hand_raised: false,
                last_post: None,
                joined_seq: seq,
                recent_sends: VecDeque::new(),
            },
        );
        Ok(out)
    }

    fn send(
        &mut self,
        user: UserId,
        client_id: ClientId,
        text: String,
        cw: Option<String>,
        (crisis, screened): (bool, Option<Screened>),
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let paused = self.paused;
        let floor = self.floor;
        let slow_ms = u64::from(self.slow_mode_seconds) * 1000;
        let window = self.limits.dedupe_window;
        let policy = self.config.policy;
        let held_already: Vec<&Held> = self.held.values().collect();
        let m = self.members.get_mut(&user).ok_or(Rejection::NotMember)?;
        if let Some((_, seq)) = m.recent_sends.iter().find(|(id, _)| *id == client_id) {
            return Ok(Applied {
                ack: Some(*seq),
                duplicate: true,
                ..Applied::none()
            });
        }
        if let Some(held) = held_already
            .iter()
            .find(|h| h.user == user && h.client_id == client_id)
        {
            return Ok(Applied {
                duplicate: true,
                held: Some((*held).clone()),
                ..Applied::none()
            });
        }
        match m.status {
            ModStatus::Active => {}
            ModStatus::Muted { until: Some(t) } if t <= now => m.status = ModStatus::Active,
            ModStatus::Muted { until } => return Err(Rejection::Muted { until }),
        }
        match m.role {
            Role::Facilitator => {}
            Role::Participant => {
                if paused {
                    return Err(Rejection::Paused);
                }
                if let Some((holder, until)) = floor
                    && holder != user
                    && now < until
                {
                    return Err(Rejection::NotYourTurn);
                }
                if let Some(last) = m.last_post
                    && slow_ms > 0
                    && now < last + slow_ms
                {
                    return Err(Rejection::SlowMode {
                        retry_after_ms: last + slow_ms - now,
                    });
                }
            }
        }
        // Facilitators' words are theirs to answer for; crisis language is never
        // altered or held (the policy returns Clean for it).
        let verdict = match m.role {
            Role::Facilitator => Verdict::Clean,
            Role::Participant => match screened {
                Some(s) if s.policy == policy => s.verdict,
                _ => policy.evaluate_with_crisis(&text, crisis),
            },
        };
        let (text, flagged) = match verdict {
            Verdict::Clean => (text, Vec::new()),
            Verdict::Flag { kinds } => (text, kinds),
            Verdict::Censored { text } => (text, Vec::new()),
            Verdict::Hold { kinds } => {
                if self.held.len() >= MAX_HELD {
                    return Err(Rejection::TooManyHeld);
                }
                m.last_post = Some(now);
                let id = self.next_held;
                self.next_held += 1;
                let held = Held {
                    id,
                    user,
                    name: m.name.clone(),
                    client_id,
                    text,
                    cw,
                    kinds,
                };
                self.held.insert(id, held.clone());
                return Ok(Applied {
                    held: Some(held),
                    ..Applied::none()
                });
            }
        };
        m.last_post = Some(now);
        let name = m.name.clone();
        let seq = self.seq + 1;
        m.recent_sends.push_back((client_id, seq));
        if m.recent_sends.len() > window {
            m.recent_sends.pop_front();
        }
        let mut out = Applied {
            flagged,
            ..Applied::none()
        };
        let pushed = self.push(
            &mut out,
            now,
            EventKind::Message {
                user,
                name,
                text,
                cw,
            },
        );
        debug_assert_eq!(pushed, seq);
        out.ack = Some(seq);
        Ok(out)
    }

    /// Change the content policy (admin API or a facilitator).
    pub fn set_policy(&mut self, policy: ContentPolicy, now: Millis) -> Applied {
        let mut out = Applied::none();
        if policy != self.config.policy {
            self.config.policy = policy;
            self.push(&mut out, now, EventKind::Policy { policy });
        }
        out
    }

    /// The messages waiting for review, oldest first.
    pub fn held(&self) -> impl Iterator<Item = &Held> {
        self.held.values()
    }

    fn remove_member(&mut self, user: UserId, reason: LeftReason, now: Millis, out: &mut Applied) {
        if self.members.remove(&user).is_none() {
            return;
        }
        self.push(out, now, EventKind::Left { user, reason });
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

    fn bounded_seconds(&self, seconds: Option<u32>) -> Result<Option<u32>, Rejection> {
        match seconds {
            Some(s) if s > self.limits.max_moderation_seconds => {
                Err(Rejection::BadRequest("seconds is longer than allowed"))
            }
            other => Ok(other),
        }
    }

    fn moderate(&mut self, request: ModRequest, now: Millis) -> Result<Applied, Rejection> {
        let ModRequest {
            action,
            user,
            seq,
            seconds,
            reason,
            text,
            held,
            policy,
        } = request;
        let seconds = self.bounded_seconds(seconds)?;
        let mut out = Applied::none();
        // The participant a member-directed action aims at; facilitators are not
        // muted, removed or banned by each other.
        let target = |room: &Room| -> Result<UserId, Rejection> {
            let user = user.ok_or(Rejection::BadRequest("this action needs `user`"))?;
            match room.members.get(&user).map(|m| m.role) {
                None => Err(Rejection::NotFound),
                Some(Role::Facilitator) => Err(Rejection::Forbidden),
                Some(Role::Participant) => Ok(user),
            }
        };
        match action {
            ModAction::Mute => {
                let user = target(self)?;
                let until = seconds.map(|s| now + u64::from(s) * 1000);
                if let Some(m) = self.members.get_mut(&user) {
                    m.status = ModStatus::Muted { until };
                }
                self.push(&mut out, now, EventKind::Muted { user, until });
            }
            ModAction::Unmute => {
                let user = target(self)?;
                if let Some(m) = self.members.get_mut(&user)
                    && m.status != ModStatus::Active
                {
                    m.status = ModStatus::Active;
                    self.push(&mut out, now, EventKind::Unmuted { user });
                }
            }
            ModAction::Pause => {
                if !self.paused {
                    self.paused = true;
                    self.push(&mut out, now, EventKind::Paused { reason });
                }
            }
            ModAction::Resume => {
                if self.paused {
                    self.paused = false;
                    self.push(&mut out, now, EventKind::Resumed);
                }
            }
            ModAction::Close => return Ok(self.close_session(reason, now)),
            ModAction::Remove => {
                let user = target(self)?;
                self.remove_member(user, LeftReason::Removed, now, &mut out);
            }
            ModAction::Ban => {
                let user = target(self)?;
                self.bans.insert(user);
                self.remove_member(user, LeftReason::Banned, now, &mut out);
            }
            ModAction::Redact => {
                let target = seq.ok_or(Rejection::BadRequest("redact needs `seq`"))?;
                if target == 0 || target > self.seq {
                    return Err(Rejection::NotFound);
                }
                self.push(&mut out, now, EventKind::Redacted { target });
            }
            ModAction::SlowMode => {
                let seconds = seconds.unwrap_or(0);
                if seconds != self.slow_mode_seconds {
                    self.slow_mode_seconds = seconds;
                    self.push(&mut out, now, EventKind::SlowMode { seconds });
                }
            }
            ModAction::Lock | ModAction::Unlock => {
                let locked = action == ModAction::Lock;
                if locked != self.locked {
                    self.locked = locked;
                    self.push(&mut out, now, EventKind::Locked { locked });
                }
            }
            ModAction::Floor => {
                let user = user.ok_or(Rejection::BadRequest("floor needs `user`"))?;
                if !self.members.contains_key(&user) {
                    return Err(Rejection::NotFound);
                }
                let secs = seconds.unwrap_or(self.limits.default_floor_seconds);
                let until = now + u64::from(secs) * 1000;
                self.floor = Some((user, until));
                if let Some(m) = self.members.get_mut(&user) {
                    m.hand_raised = false;
                }
                self.push(
                    &mut out,
                    now,
                    EventKind::Floor {
                        user: Some(user),
                        until: Some(until),
                    },
                );
            }
            ModAction::ClearFloor => {
                if self.floor.take().is_some() {
                    self.push(
                        &mut out,
                        now,
                        EventKind::Floor {
                            user: None,
                            until: None,
                        },
                    );
                }
            }
            ModAction::LowerHand => {
                let user = user.ok_or(Rejection::BadRequest("lower_hand needs `user`"))?;
                let m = self.members.get_mut(&user).ok_or(Rejection::NotFound)?;
                if m.hand_raised {
                    m.hand_raised = false;
                    self.push(
                        &mut out,
                        now,
                        EventKind::Hand {
                            user,
                            raised: false,
                        },
                    );
                }
            }
            ModAction::Announce => {
                let text = text
                    .filter(|t| !t.trim().is_empty())
                    .ok_or(Rejection::BadRequest("announce needs `text`"))?;
                self.announcement = Some(text.clone());
                self.push(&mut out, now, EventKind::Announcement { text });
            }
            ModAction::Release => {
                let id = held.ok_or(Rejection::BadRequest("release needs `held`"))?;
                let message = self.held.remove(&id).ok_or(Rejection::NotFound)?;
                let Some(m) = self.members.get_mut(&message.user) else {
                    // The author has gone: there is nobody to answer for it.
                    return Err(Rejection::NotFound);
                };
                let seq = self.seq + 1;
                m.recent_sends.push_back((message.client_id.clone(), seq));
                if m.recent_sends.len() > self.limits.dedupe_window {
                    m.recent_sends.pop_front();
                }
                self.push(
                    &mut out,
                    now,
                    EventKind::Message {
                        user: message.user,
                        name: message.name.clone(),
                        text: message.text.clone(),
                        cw: message.cw.clone(),
                    },
                );
                out.ack = Some(seq);
                out.held = Some(message);
            }
            ModAction::Decline => {
                let id = held.ok_or(Rejection::BadRequest("decline needs `held`"))?;
                out.held = Some(self.held.remove(&id).ok_or(Rejection::NotFound)?);
            }
            ModAction::SetPolicy => {
                let policy = policy.ok_or(Rejection::BadRequest("set_policy needs `policy`"))?;
                return Ok(self.set_policy(policy, now));
            }
        }
        Ok(out)
    }

    /// End the session: everyone is told and leaves; the next session starts empty.
    /// Bans and the room's settings stay. Used by a facilitator's `close` and by the
    /// admin API when a room is deleted.
    pub fn close_session(&mut self, reason: Option<String>, now: Millis) -> Applied {
        let mut out = Applied::none();
        let seq = self.push(&mut out, now, EventKind::Closed { reason });
        out.ack = Some(seq);
        self.session += 1;
        self.members.clear();
        self.paused = false;
        self.locked = false;
        self.slow_mode_seconds = 0;
        self.floor = None;
        self.announcement = None;
        self.held.clear();
        out
    }

    fn tick(&mut self, now: Millis) -> Applied {
        let mut out = Applied::none();
        let grace = self.limits.presence_grace_ms;
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
        out
    }
}
