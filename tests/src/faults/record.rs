//! What one member saw and was told, in the order it happened: the only input of the
//! checker ([`super::checker`]). Every entry carries the time since the run began
//! (one clock for every member: they are tasks of one process), so "after the ack"
//! means the same thing for everyone.

use std::time::Duration;

use kindred_protocol::{Epoch, ErrorCode, ResumeKind, Seq, UserId};

/// One member's record.
#[derive(Debug)]
pub struct Record {
    pub name: String,
    pub user: UserId,
    pub events: Vec<(Duration, Seen)>,
}

/// What a command was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    Message(String),
    Mute(UserId),
    Unmute(UserId),
}

/// A timeline event, as the checker compares them: a message by its text (each is
/// unique in a run), anything else by its kind (`left`, `muted`…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Message { user: UserId, text: String },
    Left { user: UserId },
    Other(String),
}

impl Event {
    pub fn describe(&self) -> String {
        match self {
            Event::Message { text, .. } => format!("message {text:?}"),
            Event::Left { user } => format!("left of {user}"),
            Event::Other(kind) => kind.clone(),
        }
    }
}

/// One thing that happened to a member. `conn` numbers the member's connections.
#[derive(Clone, Debug)]
pub enum Seen {
    /// A `welcome`: how it relates to what the member had, and on which instance.
    Welcome {
        conn: u32,
        epoch: Epoch,
        seq: Seq,
        resume: ResumeKind,
        instance: usize,
    },
    /// A timeline event, in a welcome's backlog or live, under the connection's epoch.
    Timeline {
        conn: u32,
        epoch: Epoch,
        seq: Seq,
        backlog: bool,
        event: Event,
    },
    /// Any other frame (ack and error have their own entries).
    Private { conn: u32, kind: String },
    Sent {
        conn: u32,
        client_id: String,
        what: Sent,
    },
    /// An `ack`; `seq` is absent for a command that changed nothing.
    Acked {
        conn: u32,
        epoch: Epoch,
        client_id: String,
        seq: Option<Seq>,
    },
    Refused {
        conn: u32,
        client_id: String,
        code: ErrorCode,
    },
    /// An error frame naming no command.
    Error { conn: u32, code: ErrorCode },
    /// The connection ended (a close frame, a reset, a read error).
    Closed { conn: u32, how: String },
    /// A connection or `hello` that did not get a `welcome`.
    ConnectFailed { instance: usize, why: String },
    /// The server broke PROTOCOL.md's order of frames, or sent what does not parse.
    Violation { conn: u32, what: String },
}

impl Seen {
    /// The connection an entry happened on, if any.
    pub fn conn(&self) -> Option<u32> {
        match self {
            Seen::Welcome { conn, .. }
            | Seen::Timeline { conn, .. }
            | Seen::Private { conn, .. }
            | Seen::Sent { conn, .. }
            | Seen::Acked { conn, .. }
            | Seen::Refused { conn, .. }
            | Seen::Error { conn, .. }
            | Seen::Closed { conn, .. }
            | Seen::Violation { conn, .. } => Some(*conn),
            Seen::ConnectFailed { .. } => None,
        }
    }
}
