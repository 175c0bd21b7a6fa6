//! Timeline events as the domain sees them: what happened, in order. `wire`
//! turns each into the `ServerFrame` that clients receive.

use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{
    LeftReason, Millis, Phase, PhaseNow, Queued, Reaction, Role, RoundNow, Seq, UserId,
};

/// One entry of a room's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub seq: Seq,
    pub ts: Millis,
    pub kind: EventKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    Message {
        user: UserId,
        name: String,
        text: String,
        cw: Option<String>,
    },
    Joined {
        user: UserId,
        name: String,
        role: Role,
    },
    Left {
        user: UserId,
        reason: LeftReason,
    },
    /// A facilitator asked a participant out for a quiet word: they wait outside.
    SteppedOut {
        user: UserId,
    },
    /// A member's connection dropped past the grace period: their seat is kept.
    Away {
        user: UserId,
    },
    /// A member who was away is connected again.
    Back {
        user: UserId,
    },
    /// A member said "I need a minute" (`on`), or is back from it.
    SteppingAway {
        user: UserId,
        on: bool,
    },
    Muted {
        user: UserId,
        until: Option<Millis>,
    },
    Unmuted {
        user: UserId,
    },
    Paused {
        reason: Option<String>,
    },
    Resumed,
    /// A session opened: participants may join.
    Opened,
    /// No facilitator is present: participants cannot post until one is back.
    Held,
    /// A facilitator is back.
    Unheld,
    Redacted {
        target: Seq,
    },
    SlowMode {
        seconds: u32,
    },
    Locked {
        locked: bool,
    },
    Floor {
        user: Option<UserId>,
        until: Option<Millis>,
    },
    Hand {
        user: UserId,
        raised: bool,
    },
    Reaction {
        user: UserId,
        target: Seq,
        emoji: Reaction,
    },
    Policy {
        policy: ContentPolicy,
    },
    /// The waiting room was turned on or off.
    WaitingRoom {
        on: bool,
    },
    /// The shield went up or down, with the waiting room and slow mode now in force.
    Shield {
        on: bool,
        waiting_room: bool,
        seconds: u32,
    },
    Announcement {
        text: String,
    },
    /// A facilitator put a content warning on the message at `target`.
    Cw {
        target: Seq,
        cw: String,
    },
    Closed {
        reason: Option<String>,
    },
    /// The group moved to a phase of its script, or its planned time is up.
    Phase(PhaseNow),
    /// A go-around's order, or one of its turns ended.
    Round(RoundNow),
    /// The sharing queue changed.
    Queue {
        members: Vec<Queued>,
    },
    /// A facilitator (or the operator) replaced the session script.
    Script {
        phases: Vec<Phase>,
    },
}
