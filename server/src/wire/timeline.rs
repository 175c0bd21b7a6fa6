//! The timeline's events on the wire: an `Event` as the frame every member is given,
//! the history form of a message withdrawn since, a report's quote of one, and a
//! kept frame read again as its event (a Redis replica restored from a snapshot,
//! which stores the frames).

use kindred_protocol::{
    MemberInfo, PhaseEvent, QueueEvent, Quote, RoundEvent, ScriptEvent, ServerFrame,
};

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
                away: false,
                stepping_away: false,
            },
        },
        EventKind::SteppedOut { user } => ServerFrame::SteppedOut {
            seq,
            ts,
            user: *user,
        },
        EventKind::Left { user, reason } => ServerFrame::Left {
            seq,
            ts,
            user: *user,
            reason: *reason,
        },
        EventKind::Away { user } => ServerFrame::Away {
            seq,
            ts,
            user: *user,
        },
        EventKind::Back { user } => ServerFrame::Back {
            seq,
            ts,
            user: *user,
        },
        EventKind::SteppingAway { user, on } => ServerFrame::SteppingAway {
            seq,
            ts,
            user: *user,
            on: *on,
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
        EventKind::Shield {
            on,
            waiting_room,
            seconds,
        } => ServerFrame::Shield {
            seq,
            ts,
            on: *on,
            waiting_room: *waiting_room,
            slow_mode_seconds: *seconds,
        },
        EventKind::Announcement { text } => ServerFrame::Announcement {
            seq,
            ts,
            text: text.clone(),
        },
        EventKind::Cw { target, cw } => ServerFrame::Cw {
            seq,
            ts,
            target: *target,
            cw: cw.clone(),
        },
        EventKind::Closed { reason } => ServerFrame::Closed {
            seq,
            ts,
            reason: reason.clone(),
        },
        EventKind::Phase(phase) => ServerFrame::Phase(PhaseEvent {
            seq,
            ts,
            phase: phase.clone(),
        }),
        EventKind::Round(round) => ServerFrame::Round(RoundEvent {
            seq,
            ts,
            round: round.clone(),
        }),
        EventKind::Queue { members } => ServerFrame::Queue(QueueEvent {
            seq,
            ts,
            members: members.clone(),
        }),
        EventKind::Script { phases } => ServerFrame::Script(ScriptEvent {
            seq,
            ts,
            phases: phases.clone(),
        }),
    }
}

/// The history form of a message a facilitator withdrew: the same seq, no text.
/// `None` for any other event, which cannot be withdrawn.
pub fn redacted_message(event: &Event) -> Option<ServerFrame> {
    match &event.kind {
        EventKind::Message { user, name, .. } => Some(ServerFrame::Message {
            seq: event.seq,
            ts: event.ts,
            user: *user,
            name: name.clone(),
            text: String::new(),
            cw: None,
            redacted: true,
        }),
        _ => None,
    }
}

/// A message as a report quotes it; `None` for any other event.
pub fn quote(event: &Event) -> Option<Quote> {
    match &event.kind {
        EventKind::Message {
            user,
            name,
            text,
            cw,
        } => Some(Quote {
            seq: event.seq,
            ts: event.ts,
            user: *user,
            name: name.clone(),
            text: text.clone(),
            cw: cw.clone(),
        }),
        _ => None,
    }
}

/// A kept timeline frame read again as the event it was made from, once, where a
/// timeline is restored from stored frames. `None` for a message withdrawn since
/// (kept as its frame only: there is nothing left to quote or withdraw), for a
/// private frame, and for text that is no frame at all.
pub fn read_event(text: &str) -> Option<Event> {
    let frame = serde_json::from_str::<ServerFrame>(text).ok()?;
    let (seq, ts, kind) = match frame {
        ServerFrame::Message { redacted: true, .. } => return None,
        ServerFrame::Message {
            seq,
            ts,
            user,
            name,
            text,
            cw,
            redacted: false,
        } => (
            seq,
            ts,
            EventKind::Message {
                user,
                name,
                text,
                cw,
            },
        ),
        ServerFrame::Joined { seq, ts, member } => (
            seq,
            ts,
            EventKind::Joined {
                user: member.user,
                name: member.name,
                role: member.role,
            },
        ),
        ServerFrame::Left {
            seq,
            ts,
            user,
            reason,
        } => (seq, ts, EventKind::Left { user, reason }),
        ServerFrame::SteppedOut { seq, ts, user } => (seq, ts, EventKind::SteppedOut { user }),
        ServerFrame::Away { seq, ts, user } => (seq, ts, EventKind::Away { user }),
        ServerFrame::Back { seq, ts, user } => (seq, ts, EventKind::Back { user }),
        ServerFrame::SteppingAway { seq, ts, user, on } => {
            (seq, ts, EventKind::SteppingAway { user, on })
        }
        ServerFrame::Muted {
            seq,
            ts,
            user,
            until,
        } => (seq, ts, EventKind::Muted { user, until }),
        ServerFrame::Unmuted { seq, ts, user } => (seq, ts, EventKind::Unmuted { user }),
        ServerFrame::Paused { seq, ts, reason } => (seq, ts, EventKind::Paused { reason }),
        ServerFrame::Resumed { seq, ts } => (seq, ts, EventKind::Resumed),
        ServerFrame::Opened { seq, ts } => (seq, ts, EventKind::Opened),
        ServerFrame::Held { seq, ts } => (seq, ts, EventKind::Held),
        ServerFrame::Unheld { seq, ts } => (seq, ts, EventKind::Unheld),
        ServerFrame::Redacted { seq, ts, target } => (seq, ts, EventKind::Redacted { target }),
        ServerFrame::SlowMode { seq, ts, seconds } => (seq, ts, EventKind::SlowMode { seconds }),
        ServerFrame::Locked { seq, ts, locked } => (seq, ts, EventKind::Locked { locked }),
        ServerFrame::Floor {
            seq,
            ts,
            user,
            until,
        } => (seq, ts, EventKind::Floor { user, until }),
        ServerFrame::Hand {
            seq,
            ts,
            user,
            raised,
        } => (seq, ts, EventKind::Hand { user, raised }),
        ServerFrame::Reaction {
            seq,
            ts,
            user,
            target,
            emoji,
        } => (
            seq,
            ts,
            EventKind::Reaction {
                user,
                target,
                emoji,
            },
        ),
        ServerFrame::Policy { seq, ts, policy } => (seq, ts, EventKind::Policy { policy }),
        ServerFrame::WaitingRoom { seq, ts, on } => (seq, ts, EventKind::WaitingRoom { on }),
        ServerFrame::Cw {
            seq,
            ts,
            target,
            cw,
        } => (seq, ts, EventKind::Cw { target, cw }),
        ServerFrame::Shield {
            seq,
            ts,
            on,
            waiting_room,
            slow_mode_seconds,
        } => (
            seq,
            ts,
            EventKind::Shield {
                on,
                waiting_room,
                seconds: slow_mode_seconds,
            },
        ),
        ServerFrame::Announcement { seq, ts, text } => (seq, ts, EventKind::Announcement { text }),
        ServerFrame::Closed { seq, ts, reason } => (seq, ts, EventKind::Closed { reason }),
        ServerFrame::Phase(e) => (e.seq, e.ts, EventKind::Phase(e.phase)),
        ServerFrame::Round(e) => (e.seq, e.ts, EventKind::Round(e.round)),
        ServerFrame::Queue(e) => (e.seq, e.ts, EventKind::Queue { members: e.members }),
        ServerFrame::Script(e) => (e.seq, e.ts, EventKind::Script { phases: e.phases }),
        ServerFrame::Welcome(_)
        | ServerFrame::Members { .. }
        | ServerFrame::Ack { .. }
        | ServerFrame::Error(_)
        | ServerFrame::Typing { .. }
        | ServerFrame::Whisper { .. }
        | ServerFrame::Warning { .. }
        | ServerFrame::MuteNotice { .. }
        | ServerFrame::CrisisResources { .. }
        | ServerFrame::Alert { .. }
        | ServerFrame::ConcernNoted { .. }
        | ServerFrame::Waiting { .. }
        | ServerFrame::ModLog { .. }
        | ServerFrame::ShareTheAir { .. }
        | ServerFrame::Mood { .. }
        | ServerFrame::Debrief(_) => return None,
    };
    Some(Event { seq, ts, kind })
}

#[cfg(test)]
mod tests {
    use kindred_protocol::policy::ContentPolicy;
    use kindred_protocol::{LeftReason, Reaction, Role, UserId};

    use super::*;
    use crate::wire::encode;

    /// One event of every kind, with the optional parts both present and absent.
    fn every_kind() -> Vec<Event> {
        let (alice, bea) = (UserId::new(), UserId::new());
        let kinds = vec![
            EventKind::Message {
                user: alice,
                name: "Alice".into(),
                text: "hi \"all\" 🌷".into(),
                cw: Some("grief".into()),
            },
            EventKind::Message {
                user: bea,
                name: "Bea".into(),
                text: "hello".into(),
                cw: None,
            },
            EventKind::Joined {
                user: alice,
                name: "Alice".into(),
                role: Role::Facilitator,
            },
            EventKind::Left {
                user: bea,
                reason: LeftReason::Removed,
            },
            EventKind::SteppedOut { user: bea },
            EventKind::Away { user: bea },
            EventKind::Back { user: bea },
            EventKind::SteppingAway {
                user: bea,
                on: true,
            },
            EventKind::SteppingAway {
                user: bea,
                on: false,
            },
            EventKind::Muted {
                user: bea,
                until: Some(60_000),
            },
            EventKind::Muted {
                user: bea,
                until: None,
            },
            EventKind::Unmuted { user: bea },
            EventKind::Paused {
                reason: Some("a breath".into()),
            },
            EventKind::Paused { reason: None },
            EventKind::Resumed,
            EventKind::Opened,
            EventKind::Held,
            EventKind::Unheld,
            EventKind::Redacted { target: 1 },
            EventKind::Cw {
                target: 2,
                cw: "self-harm".into(),
            },
            EventKind::SlowMode { seconds: 30 },
            EventKind::Locked { locked: true },
            EventKind::Floor {
                user: Some(alice),
                until: Some(90_000),
            },
            EventKind::Floor {
                user: None,
                until: None,
            },
            EventKind::Hand {
                user: bea,
                raised: true,
            },
            EventKind::Reaction {
                user: alice,
                target: 2,
                emoji: Reaction::Hug,
            },
            EventKind::Policy {
                policy: ContentPolicy::default(),
            },
            EventKind::WaitingRoom { on: true },
            EventKind::Announcement {
                text: "we close at nine".into(),
            },
            EventKind::Closed {
                reason: Some("thank you all".into()),
            },
            EventKind::Closed { reason: None },
            // The structured group's events, which a restored Redis replica reads too.
            EventKind::Phase(kindred_protocol::PhaseNow {
                index: 1,
                name: "Check-in".into(),
                prompt: "How are you arriving tonight?".into(),
                kind: kindred_protocol::PhaseKind::Round,
                until: Some(900_000),
                time_up: true,
            }),
            EventKind::Round(kindred_protocol::RoundNow {
                turns: vec![kindred_protocol::Turn {
                    user: bea,
                    name: "Bea".into(),
                    done: Some(kindred_protocol::TurnDone::Passed),
                }],
                ended: true,
            }),
            EventKind::Queue {
                members: vec![kindred_protocol::Queued {
                    user: alice,
                    name: "Alice".into(),
                }],
            },
            EventKind::Script {
                phases: crate::room::script::default_script(),
            },
        ];
        kinds
            .into_iter()
            .zip(1..)
            .map(|(kind, seq)| Event {
                seq,
                ts: 1_700_000_000_000 + seq,
                kind,
            })
            .collect()
    }

    #[test]
    fn a_kept_frame_reads_again_as_the_event_it_was_made_from() {
        for event in every_kind() {
            let bytes = encode(&event_frame(&event)).bytes;
            assert_eq!(read_event(&bytes), Some(event), "{bytes}");
        }
    }

    #[test]
    fn a_withdrawn_message_keeps_its_place_without_its_words_and_reads_as_no_event() {
        let events = every_kind();
        let message = &events[0];
        let frame = redacted_message(message).expect("a message can be withdrawn");
        assert_eq!(frame.seq(), Some(message.seq));
        let ServerFrame::Message {
            text, cw, redacted, ..
        } = &frame
        else {
            panic!("still a message: {frame:?}");
        };
        assert_eq!((text.as_str(), cw, redacted), ("", &None, &true));
        assert_eq!(read_event(&encode(&frame).bytes), None);
        assert_eq!(
            quote(message).map(|q| q.text),
            Some("hi \"all\" 🌷".to_owned())
        );
        for other in &events[2..] {
            assert_eq!(redacted_message(other), None, "{other:?}");
            assert_eq!(quote(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_private_frame_or_other_text_is_no_event() {
        let typing = encode(&crate::wire::typing(UserId::new(), "Alice")).bytes;
        assert_eq!(read_event(&typing), None);
        assert_eq!(read_event("{}"), None);
        assert_eq!(read_event("not json"), None);
    }
}
