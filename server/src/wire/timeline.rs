//! The timeline's events on the wire: an `Event` as the frame every member is given,
//! and the history form of a message withdrawn since.

use kindred_protocol::{MemberInfo, ServerFrame};

use crate::room::{Event, EventKind};

/// The wire form of a timeline event.
pub fn event_frame(event: &Event) -> ServerFrame {
    let (seq, ts) = (event.seq, event.ts);
    match &event.kind {
        EventKind::Message {
            user,
            name,
            text,
            cw,
        } => ServerFrame::Message {
            seq,
            ts,
            user: *user,
            name: name.clone(),
            text: text.clone(),
            cw: cw.clone(),
            redacted: false,
        },
        EventKind::Joined { user, name, role } => ServerFrame::Joined {
            seq,
            ts,
            member: MemberInfo {
                user: *user,
                name: name.clone(),
                role: *role,
                hand_raised: false,
                muted: false,
                muted_until: None,
            },
        },
        EventKind::Left { user, reason } => ServerFrame::Left {
            seq,
            ts,
            user: *user,
            reason: *reason,
        },
        EventKind::Muted { user, until } => ServerFrame::Muted {
            seq,
            ts,
            user: *user,
            until: *until,
        },
        EventKind::Unmuted { user } => ServerFrame::Unmuted {
            seq,
            ts,
            user: *user,
        },
        EventKind::Paused { reason } => ServerFrame::Paused {
            seq,
            ts,
            reason: reason.clone(),
        },
        EventKind::Resumed => ServerFrame::Resumed { seq, ts },
        EventKind::Opened => ServerFrame::Opened { seq, ts },
        EventKind::Held => ServerFrame::Held { seq, ts },
        EventKind::Unheld => ServerFrame::Unheld { seq, ts },
        EventKind::Redacted { target } => ServerFrame::Redacted {
            seq,
            ts,
            target: *target,
        },
        EventKind::SlowMode { seconds } => ServerFrame::SlowMode {
            seq,
            ts,
            seconds: *seconds,
        },
        EventKind::Locked { locked } => ServerFrame::Locked {
            seq,
            ts,
            locked: *locked,
        },
        EventKind::Floor { user, until } => ServerFrame::Floor {
            seq,
            ts,
            user: *user,
            until: *until,
        },
        EventKind::Hand { user, raised } => ServerFrame::Hand {
            seq,
            ts,
            user: *user,
            raised: *raised,
        },
        EventKind::Reaction {
            user,
            target,
            emoji,
        } => ServerFrame::Reaction {
            seq,
            ts,
            user: *user,
            target: *target,
            emoji: *emoji,
        },
        EventKind::Policy { policy } => ServerFrame::Policy {
            seq,
            ts,
            policy: *policy,
        },
        EventKind::WaitingRoom { on } => ServerFrame::WaitingRoom { seq, ts, on: *on },
        EventKind::Announcement { text } => ServerFrame::Announcement {
            seq,
            ts,
            text: text.clone(),
        },
        EventKind::Closed { reason } => ServerFrame::Closed {
            seq,
            ts,
            reason: reason.clone(),
        },
    }
}

/// The history form of a redacted message: the same seq, no text.
pub fn redacted_message(original: &ServerFrame) -> Option<ServerFrame> {
    match original {
        ServerFrame::Message {
            seq,
            ts,
            user,
            name,
            ..
        } => Some(ServerFrame::Message {
            seq: *seq,
            ts: *ts,
            user: *user,
            name: name.clone(),
            text: String::new(),
            cw: None,
            redacted: true,
        }),
        _ => None,
    }
}
