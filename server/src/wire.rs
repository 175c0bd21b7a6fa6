//! The one place where domain values become wire frames. Each event is encoded
//! once here; the resulting bytes are shared by every recipient.

use axum::extract::ws::Utf8Bytes;
use kindred_protocol::{ClientId, ErrorCode, ErrorFrame, MemberInfo, Seq, ServerFrame};

use crate::room::{Event, EventKind, Rejection};

/// A frame encoded once, ready for any number of sockets.
#[derive(Clone, Debug)]
pub struct Encoded {
    /// The timeline position, for timeline events.
    pub seq: Option<Seq>,
    pub bytes: Utf8Bytes,
}

/// Encode a frame to JSON text.
pub fn encode(frame: &ServerFrame) -> Encoded {
    // Serialising our own frame types cannot fail: no maps with non-string keys,
    // no custom serialisers that error.
    let text = serde_json::to_string(frame).unwrap_or_else(|_| String::from("{}"));
    Encoded {
        seq: frame.seq(),
        bytes: Utf8Bytes::from(text),
    }
}

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

/// An `error` frame.
pub fn error(
    client_id: Option<ClientId>,
    code: ErrorCode,
    message: impl Into<String>,
    retry_after_ms: Option<u64>,
) -> ServerFrame {
    ServerFrame::Error(ErrorFrame {
        client_id,
        code,
        message: message.into(),
        retry_after_ms,
    })
}

/// The `error` frame for a domain rejection.
pub fn rejection(client_id: Option<ClientId>, r: &Rejection) -> ServerFrame {
    error(client_id, r.code(), r.to_string(), r.retry_after_ms())
}
