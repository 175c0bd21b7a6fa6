//! The one place where domain values become wire frames. Each event is encoded
//! once here; the resulting bytes are shared by every recipient.

use axum::extract::ws::Utf8Bytes;
use kindred_protocol::{
    AlertKind, ClientId, ErrorCode, ErrorFrame, MemberInfo, Millis, Seq, ServerFrame, UserId,
    WaitingMember, Welcome,
};

use crate::room::{
    About, Alert, Concern, Event, EventKind, Held, Kept, MuteNotice, Rejection, Warning, Whisper,
};

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

/// The `alert` for an alert the room keeps open until a facilitator handles it.
pub fn alert(alert: &Alert) -> ServerFrame {
    let (kind, seq, category, reason, text) = match &alert.about {
        About::Crisis {
            category,
            seq,
            text,
            check_in,
            ..
        } => {
            let kind = if *check_in {
                AlertKind::CheckIn
            } else {
                AlertKind::Crisis
            };
            (kind, *seq, Some(*category), None, text.clone())
        }
        About::Report { seq, reason, .. } => {
            (AlertKind::Report, Some(*seq), None, reason.clone(), None)
        }
    };
    let context = match &alert.about {
        About::Report { context, .. } => context.clone(),
        About::Crisis { .. } => Vec::new(),
    };
    ServerFrame::Alert {
        ts: alert.ts,
        kind,
        id: Some(alert.id),
        seq,
        user: alert.user,
        name: alert.name.clone(),
        category,
        reason,
        held: None,
        text,
        context,
        count: (alert.count > 1).then_some(alert.count),
        since: (alert.count > 1).then_some(alert.since),
        likelihood: match &alert.about {
            About::Crisis { likelihood, .. } => *likelihood,
            About::Report { .. } => None,
        },
    }
}

/// The `alert` for a message held for review: only facilitators see its text.
pub fn held_alert(held: &Held) -> ServerFrame {
    ServerFrame::Alert {
        ts: held.ts,
        kind: AlertKind::Held,
        id: Some(held.id),
        seq: None,
        user: held.user,
        name: held.name.clone(),
        category: None,
        reason: Some(held.kinds.join(", ")),
        held: Some(held.id),
        text: Some(held.text.clone()),
        context: Vec::new(),
        count: None,
        since: None,
        likelihood: None,
    }
}

/// A facilitator's warning, as its member and the facilitators see it.
pub fn warning(w: &Warning, acknowledged: bool) -> ServerFrame {
    ServerFrame::Warning {
        id: w.id,
        ts: w.ts,
        user: w.user,
        name: w.name.clone(),
        reason: w.reason.clone(),
        acknowledged,
    }
}

/// What is open for the facilitators, as one who arrives receives it.
pub fn kept(kept: &Kept) -> ServerFrame {
    match kept {
        Kept::Alert(a) => alert(a),
        Kept::Held(h) => held_alert(h),
    }
}

/// The `alert` that someone is in the waiting room.
pub fn knock_alert(ts: Millis, w: &WaitingMember) -> ServerFrame {
    ServerFrame::Alert {
        ts,
        kind: AlertKind::Knock,
        id: None,
        seq: None,
        user: w.user,
        name: w.name.clone(),
        category: None,
        reason: None,
        held: None,
        text: None,
        context: Vec::new(),
        count: None,
        since: None,
        likelihood: None,
    }
}

/// A private message, live or given again after `welcome`.
/// A whisper, as written now or (`replayed`) given again after a `welcome`.
pub fn whisper(w: &Whisper, replayed: bool) -> ServerFrame {
    ServerFrame::Whisper {
        id: Some(w.id),
        ts: w.ts,
        from: w.from,
        name: w.name.clone(),
        to: w.to,
        text: w.text.clone(),
        kept: w.kept,
        replayed,
    }
}

/// Why and until when a member is muted, for them alone.
pub fn mute_notice(n: &MuteNotice) -> ServerFrame {
    ServerFrame::MuteNotice {
        until: n.until,
        reason: n.reason.clone(),
    }
}

/// The `alert` for a message the content policy flagged (delivered as written, so not
/// kept: a live notice only).
pub fn flagged_alert(
    ts: Millis,
    seq: Seq,
    user: UserId,
    name: &str,
    kinds: &[&str],
) -> ServerFrame {
    ServerFrame::Alert {
        ts,
        kind: AlertKind::Flagged,
        id: None,
        seq: Some(seq),
        user,
        name: name.to_owned(),
        category: None,
        reason: Some(kinds.join(", ")),
        held: None,
        text: None,
        context: Vec::new(),
        count: None,
        since: None,
        likelihood: None,
    }
}

/// A crisis `alert` the room could not keep (the author was no longer a member, or the
/// shared store was out of reach): sent live, without an id.
pub fn unkept_crisis_alert(
    ts: Millis,
    user: UserId,
    name: &str,
    concern: Concern,
    text: String,
) -> ServerFrame {
    ServerFrame::Alert {
        ts,
        kind: if concern.check_in {
            AlertKind::CheckIn
        } else {
            AlertKind::Crisis
        },
        id: None,
        seq: None,
        user,
        name: name.to_owned(),
        category: Some(concern.category),
        reason: None,
        held: None,
        text: Some(text),
        context: Vec::new(),
        count: None,
        since: None,
        likelihood: concern.likelihood,
    }
}

/// A `welcome` encoded in frames of at most `budget` bytes where it can be: when the
/// member list does not fit, the welcome carries its first part and says how many
/// `members` frames follow with the rest (`member_parts`). The other fields are never
/// split, so a welcome with an outsized room description may still exceed the budget.
pub fn welcome(mut welcome: Welcome, budget: usize) -> Vec<Encoded> {
    welcome.member_parts = 0;
    let whole = encode(&ServerFrame::Welcome(welcome.clone()));
    if whole.bytes.len() <= budget {
        return vec![whole];
    }
    let members = std::mem::take(&mut welcome.members);
    // Each member costs its JSON and a comma; a part costs its frame around them.
    let size = |m: &MemberInfo| serde_json::to_string(m).map_or(0, |t| t.len()) + 1;
    let empty_welcome = encode(&ServerFrame::Welcome(welcome.clone())).bytes.len()
        // `member_parts` itself, at most ten digits.
        + r#","member_parts":4294967295"#.len();
    let empty_part = encode(&ServerFrame::Members {
        members: Vec::new(),
    })
    .bytes
    .len();
    let mut parts: Vec<Vec<MemberInfo>> = vec![Vec::new()];
    let mut used = empty_welcome;
    for m in members {
        let cost = size(&m);
        let current = parts.last().map_or(0, Vec::len);
        if current > 0 && used + cost > budget {
            parts.push(Vec::new());
            used = empty_part;
        }
        used += cost;
        if let Some(part) = parts.last_mut() {
            part.push(m);
        }
    }
    let mut parts = parts.into_iter();
    welcome.members = parts.next().unwrap_or_default();
    let rest: Vec<Vec<MemberInfo>> = parts.collect();
    welcome.member_parts = u32::try_from(rest.len()).unwrap_or(u32::MAX);
    let mut frames = Vec::with_capacity(rest.len() + 1);
    frames.push(encode(&ServerFrame::Welcome(welcome)));
    frames.extend(
        rest.into_iter()
            .map(|members| encode(&ServerFrame::Members { members })),
    );
    frames
}

#[cfg(test)]
mod tests {
    use kindred_protocol::policy::ContentPolicy;
    use kindred_protocol::{
        Me, ResumeKind, Role, RoomId, RoomState, RoomSummary, UserId, Visibility,
    };

    use super::*;

    fn welcome_with(members: usize, name: &str) -> Welcome {
        let me = Me {
            user: UserId::new(),
            name: name.to_owned(),
            role: Role::Participant,
            waiting: false,
        };
        Welcome {
            protocol: 1,
            you: me,
            room: RoomSummary {
                id: RoomId::new(),
                title: "Thursday circle".into(),
                topic: String::new(),
                description: String::new(),
                guidelines: "Be kind.".into(),
                capacity: 2_000,
                visibility: Visibility::Public,
                members: u32::try_from(members).unwrap(),
                open: true,
                facilitated: true,
                waiting_room: false,
                schedule: None,
                next_session: None,
            },
            members: (0..members)
                .map(|_| MemberInfo {
                    user: UserId::new(),
                    name: name.to_owned(),
                    role: Role::Participant,
                    hand_raised: false,
                    muted: false,
                    muted_until: None,
                })
                .collect(),
            state: RoomState::default(),
            policy: ContentPolicy::default(),
            seq: 1_500,
            epoch: 7,
            resume: ResumeKind::Fresh,
            backlog: 100,
            member_parts: 0,
        }
    }

    #[test]
    fn a_welcome_that_fits_is_one_frame() {
        let frames = welcome(welcome_with(20, "Willow"), 64 * 1024);
        assert_eq!(frames.len(), 1);
        let ServerFrame::Welcome(w) = serde_json::from_str(&frames[0].bytes).unwrap() else {
            panic!("not a welcome");
        };
        assert_eq!((w.members.len(), w.member_parts), (20, 0));
    }

    #[test]
    fn a_large_member_list_comes_in_parts_that_each_fit() {
        let long = "🌷".repeat(32);
        let original = welcome_with(1_500, &long);
        let budget = 32 * 1024;
        let frames = welcome(original.clone(), budget);
        assert!(frames.len() > 1);
        assert!(frames.iter().all(|f| f.bytes.len() <= budget));
        assert!(frames.iter().all(|f| f.seq.is_none()), "private frames");
        let mut decoded = frames
            .iter()
            .map(|f| serde_json::from_str::<ServerFrame>(&f.bytes).unwrap());
        let Some(ServerFrame::Welcome(mut w)) = decoded.next() else {
            panic!("the welcome comes first");
        };
        assert_eq!(w.member_parts as usize, frames.len() - 1);
        for f in decoded {
            let ServerFrame::Members { members } = f else {
                panic!("then members frames: {f:?}");
            };
            w.members.extend(members);
        }
        assert_eq!(w.members, original.members, "every member, in order");
    }
}
