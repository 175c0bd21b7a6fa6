//! Scenario tests for the room, on a fake clock: "alice joins; the facilitator
//! mutes alice for 5 minutes; alice says hi → muted; 6 minutes pass; alice says
//! hi → delivered".

use kindred_protocol::{LeftReason, Millis, ModAction, Reaction, Role, RoomId, UserId, Visibility};

use super::*;

const MIN: Millis = 60_000;

/// A room with a clock, and named members.
struct Scene {
    room: Room,
    now: Millis,
}

impl Scene {
    fn new(capacity: u32) -> Self {
        let config = RoomConfig {
            title: "Thursday circle".into(),
            topic: String::new(),
            description: String::new(),
            guidelines: "Be kind.".into(),
            capacity,
            visibility: Visibility::Public,
            policy: Default::default(),
        };
        Self {
            room: Room::new(RoomId::new(), config, Limits::default()),
            now: 1_700_000_000_000,
        }
    }

    fn advance(&mut self, ms: Millis) {
        self.now += ms;
    }

    fn apply(&mut self, cmd: Command) -> Result<Applied, Rejection> {
        self.room.apply(cmd, self.now)
    }

    fn arrive(&mut self, name: &str, role: Role) -> Result<UserId, Rejection> {
        let user = UserId::new();
        let session = self.room.session();
        self.apply(Command::Connect {
            user,
            name: name.into(),
            role,
            session,
        })?;
        Ok(user)
    }

    /// A member who is already in the room connects again (another tab, a resume).
    fn reconnect(&mut self, user: UserId, name: &str) -> Result<Applied, Rejection> {
        let session = self.room.session();
        self.apply(Command::Connect {
            user,
            name: name.into(),
            role: Role::Participant,
            session,
        })
    }

    fn join(&mut self, name: &str) -> UserId {
        self.arrive(name, Role::Participant).expect("joins")
    }

    fn facilitator(&mut self, name: &str) -> UserId {
        self.arrive(name, Role::Facilitator).expect("joins")
    }

    fn say(&mut self, user: UserId, text: &str) -> Result<u64, Rejection> {
        let applied = self.apply(Command::Send {
            user,
            client_id: format!("{text}@{}", self.now),
            text: text.into(),
            cw: None,
            crisis: false,
            screened: None,
        })?;
        Ok(applied.ack.expect("a send is acked with its seq"))
    }

    fn moderate(
        &mut self,
        actor: UserId,
        action: ModAction,
        user: Option<UserId>,
        seconds: Option<u32>,
    ) -> Result<Vec<EventKind>, Rejection> {
        let applied = self.apply(Command::Moderate {
            actor,
            request: ModRequest {
                user,
                seconds,
                ..ModRequest::new(action)
            },
        })?;
        Ok(applied.events.into_iter().map(|e| e.kind).collect())
    }

    fn tick(&mut self) -> Vec<EventKind> {
        self.apply(Command::Tick)
            .expect("tick never fails")
            .events
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

#[test]
fn every_event_gets_the_next_seq() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    assert_eq!(s.room.head(), 2, "two joins");
    assert_eq!(s.say(alice, "hi"), Ok(3));
    assert_eq!(s.say(bob, "hello"), Ok(4));
    let hand = s
        .apply(Command::Hand {
            user: bob,
            raised: true,
        })
        .unwrap();
    assert_eq!(hand.events[0].seq, 5);
    let react = s
        .apply(Command::React {
            user: alice,
            target: 4,
            emoji: Reaction::Hug,
        })
        .unwrap();
    assert_eq!(react.events[0].seq, 6);
}

#[test]
fn a_muted_member_cannot_post_until_the_mute_ends() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    let events = s
        .moderate(fac, ModAction::Mute, Some(alice), Some(5 * 60))
        .unwrap();
    assert_eq!(
        events,
        vec![EventKind::Muted {
            user: alice,
            until: Some(s.now + 5 * MIN)
        }]
    );
    assert_eq!(
        s.say(alice, "hi"),
        Err(Rejection::Muted {
            until: Some(s.now + 5 * MIN)
        })
    );
    s.advance(6 * MIN);
    assert_eq!(s.tick(), vec![EventKind::Unmuted { user: alice }]);
    assert!(s.say(alice, "hi").is_ok());
}

#[test]
fn a_mute_without_seconds_lasts_until_lifted() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.moderate(fac, ModAction::Mute, Some(alice), None).unwrap();
    s.advance(24 * 60 * MIN);
    assert!(s.tick().is_empty());
    assert_eq!(s.say(alice, "hi"), Err(Rejection::Muted { until: None }));
    assert_eq!(
        s.moderate(fac, ModAction::Unmute, Some(alice), None)
            .unwrap(),
        vec![EventKind::Unmuted { user: alice }]
    );
    assert!(s.say(alice, "hi").is_ok());
}

#[test]
fn a_pause_lets_only_facilitators_post() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.moderate(fac, ModAction::Pause, None, None).unwrap();
    assert_eq!(s.say(alice, "wait"), Err(Rejection::Paused));
    assert!(
        s.say(fac, "Let's take three slow breaths together.")
            .is_ok()
    );
    s.moderate(fac, ModAction::Resume, None, None).unwrap();
    assert!(s.say(alice, "thank you").is_ok());
}

#[test]
fn participants_cannot_moderate_and_facilitators_cannot_be_muted() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let co = s.facilitator("Cory");
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    for action in [
        ModAction::Mute,
        ModAction::Pause,
        ModAction::Close,
        ModAction::Ban,
    ] {
        assert_eq!(
            s.moderate(alice, action, Some(bob), None),
            Err(Rejection::Forbidden)
        );
    }
    assert_eq!(
        s.moderate(fac, ModAction::Mute, Some(co), None),
        Err(Rejection::Forbidden)
    );
    assert_eq!(
        s.moderate(fac, ModAction::Mute, None, None),
        Err(Rejection::BadRequest("this action needs `user`"))
    );
    assert_eq!(
        s.moderate(fac, ModAction::Mute, Some(UserId::new()), None),
        Err(Rejection::NotFound)
    );
}

#[test]
fn the_permission_table() {
    for action in [
        Action::Send,
        Action::Typing,
        Action::Hand,
        Action::React,
        Action::Report,
    ] {
        assert!(authorize(Role::Participant, action));
        assert!(authorize(Role::Facilitator, action));
    }
    assert!(authorize(Role::Participant, Action::WhisperFacilitators));
    assert!(!authorize(Role::Participant, Action::WhisperAnyone));
    assert!(authorize(Role::Facilitator, Action::WhisperAnyone));
    assert!(!authorize(
        Role::Participant,
        Action::Moderate(ModAction::Redact)
    ));
    assert!(authorize(
        Role::Facilitator,
        Action::Moderate(ModAction::Redact)
    ));
}

#[test]
fn a_retried_send_is_applied_once_and_gets_the_original_seq() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    let send = Command::Send {
        user: alice,
        client_id: "abc".into(),
        text: "is anyone there?".into(),
        cw: None,
        crisis: false,
        screened: None,
    };
    let first = s.apply(send.clone()).unwrap();
    assert!(!first.duplicate);
    let head = s.room.head();
    let again = s.apply(send).unwrap();
    assert!(again.duplicate);
    assert!(again.events.is_empty());
    assert_eq!(again.ack, first.ack);
    assert_eq!(s.room.head(), head);
}

#[test]
fn the_room_is_full_at_capacity_but_facilitators_still_get_in() {
    let mut s = Scene::new(2);
    s.join("Alice");
    s.join("Bob");
    assert_eq!(
        s.arrive("Carol", Role::Participant),
        Err(Rejection::RoomFull)
    );
    assert!(s.arrive("Fran", Role::Facilitator).is_ok());
}

#[test]
fn a_locked_room_admits_no_new_participants_but_keeps_its_members() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.moderate(fac, ModAction::Lock, None, None).unwrap();
    assert_eq!(s.arrive("Carol", Role::Participant), Err(Rejection::Locked));
    // Alice's second tab still connects: she is already a member.
    assert!(s.reconnect(alice, "Alice").is_ok());
    s.moderate(fac, ModAction::Unlock, None, None).unwrap();
    assert!(s.arrive("Carol", Role::Participant).is_ok());
}

#[test]
fn a_dropped_connection_keeps_the_seat_for_the_grace_period() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(10_000);
    assert!(s.tick().is_empty(), "no leave/join churn for a short drop");
    // She comes back: no new `joined`.
    let back = s.reconnect(alice, "Alice").unwrap();
    assert!(back.events.is_empty());
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(Limits::default().presence_grace_ms);
    assert_eq!(
        s.tick(),
        vec![EventKind::Left {
            user: alice,
            reason: LeftReason::Disconnected
        }]
    );
    assert!(s.room.member(alice).is_none());
}

#[test]
fn two_tabs_count_as_one_member_until_both_close() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    s.reconnect(alice, "Alice").unwrap();
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(Limits::default().presence_grace_ms * 2);
    assert!(s.tick().is_empty(), "one tab is still open");
    assert_eq!(
        s.room.member(alice).unwrap().presence,
        Presence::Online { connections: 1 }
    );
}

#[test]
fn close_ends_the_session_and_old_tokens_stop_working() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    let old_session = s.room.session();
    s.say(alice, "thank you all").unwrap();
    let events = s.moderate(fac, ModAction::Close, None, None).unwrap();
    assert_eq!(events, vec![EventKind::Closed { reason: None }]);
    assert_eq!(s.room.member_count(), 0);
    assert_eq!(s.say(alice, "wait"), Err(Rejection::NotMember));
    assert_eq!(
        s.apply(Command::Connect {
            user: alice,
            name: "Alice".into(),
            role: Role::Participant,
            session: old_session
        }),
        Err(Rejection::Closed)
    );
    // The next session starts with a clean slate.
    assert!(s.arrive("Alice again", Role::Participant).is_ok());
    assert!(!s.room.state().paused);
}

#[test]
fn remove_and_ban() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let troll = s.join("Troll");
    let alice = s.join("Alice");
    assert_eq!(
        s.moderate(fac, ModAction::Remove, Some(alice), None)
            .unwrap(),
        vec![EventKind::Left {
            user: alice,
            reason: LeftReason::Removed
        }]
    );
    assert_eq!(
        s.moderate(fac, ModAction::Ban, Some(troll), None).unwrap(),
        vec![EventKind::Left {
            user: troll,
            reason: LeftReason::Banned
        }]
    );
    assert_eq!(s.reconnect(troll, "Troll"), Err(Rejection::Banned));
    // Removal is not a ban: Alice may come back.
    assert!(s.reconnect(alice, "Alice").is_ok());
}

#[test]
fn slow_mode_spaces_out_participants_but_not_facilitators() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.moderate(fac, ModAction::SlowMode, None, Some(30))
        .unwrap();
    s.say(alice, "one").unwrap();
    s.advance(10_000);
    assert_eq!(
        s.say(alice, "two"),
        Err(Rejection::SlowMode {
            retry_after_ms: 20_000
        })
    );
    assert!(s.say(fac, "a").is_ok() && s.say(fac, "b").is_ok());
    s.advance(20_000);
    assert!(s.say(alice, "two").is_ok());
    s.moderate(fac, ModAction::SlowMode, None, Some(0)).unwrap();
    assert!(s.say(alice, "three").is_ok());
}

#[test]
fn the_floor_gives_one_person_a_timed_share() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    s.apply(Command::Hand {
        user: alice,
        raised: true,
    })
    .unwrap();
    let events = s
        .moderate(fac, ModAction::Floor, Some(alice), Some(120))
        .unwrap();
    assert_eq!(
        events,
        vec![EventKind::Floor {
            user: Some(alice),
            until: Some(s.now + 120_000)
        }]
    );
    assert!(
        !s.room.member(alice).unwrap().hand_raised,
        "her hand comes down"
    );
    assert!(s.say(alice, "I've had a hard week").is_ok());
    assert_eq!(s.say(bob, "me too"), Err(Rejection::NotYourTurn));
    assert!(s.say(fac, "Thank you, Alice.").is_ok());
    s.advance(120_000);
    assert_eq!(
        s.tick(),
        vec![EventKind::Floor {
            user: None,
            until: None
        }]
    );
    assert!(s.say(bob, "me too").is_ok());
}

#[test]
fn redacting_needs_a_seq_that_exists() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    let seq = s.say(alice, "oops").unwrap();
    let redact = |seq| Command::Moderate {
        actor: fac,
        request: ModRequest {
            seq,
            ..ModRequest::new(ModAction::Redact)
        },
    };
    assert_eq!(
        s.apply(redact(Some(seq))).unwrap().events[0].kind,
        EventKind::Redacted { target: seq }
    );
    assert_eq!(s.apply(redact(Some(999))), Err(Rejection::NotFound));
    assert_eq!(
        s.apply(redact(None)),
        Err(Rejection::BadRequest("redact needs `seq`"))
    );
}

#[test]
fn moderation_seconds_are_bounded() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    assert_eq!(
        s.moderate(fac, ModAction::Mute, Some(alice), Some(u32::MAX)),
        Err(Rejection::BadRequest("seconds is longer than allowed"))
    );
}

#[test]
fn leaving_hands_back_the_floor() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.moderate(fac, ModAction::Floor, Some(alice), None)
        .unwrap();
    let left = s.apply(Command::Leave { user: alice }).unwrap();
    let kinds: Vec<EventKind> = left.events.into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::Left {
                user: alice,
                reason: LeftReason::Left
            },
            EventKind::Floor {
                user: None,
                until: None
            },
        ]
    );
    assert!(s.room.state().floor.is_none());
}

#[test]
fn reactions_point_at_existing_events() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    assert_eq!(
        s.apply(Command::React {
            user: alice,
            target: 42,
            emoji: Reaction::Heart
        }),
        Err(Rejection::NotFound)
    );
    let stranger = UserId::new();
    assert_eq!(
        s.apply(Command::React {
            user: stranger,
            target: 1,
            emoji: Reaction::Heart
        }),
        Err(Rejection::NotMember)
    );
}

#[test]
fn members_are_listed_in_order_of_arrival() {
    let mut s = Scene::new(12);
    let names = ["Alice", "Bob", "Carol", "Dan", "Eve"];
    for n in names {
        s.join(n);
    }
    let listed: Vec<String> = s.room.member_infos().into_iter().map(|m| m.name).collect();
    assert_eq!(listed, names);
}

#[test]
fn a_held_message_waits_for_a_facilitator_and_is_released_as_its_author_wrote_it() {
    use kindred_protocol::policy::{ContentPolicy, Kinds, PolicyMode};
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let bob = s.join("Bob");
    let changed = s.room.set_policy(
        ContentPolicy {
            mode: PolicyMode::Hold,
            kinds: Kinds::default(),
        },
        s.now,
    );
    assert_eq!(changed.events.len(), 1, "members hear of the new policy");
    let head = s.room.head();
    let send = |text: &str, crisis| Command::Send {
        user: bob,
        client_id: text.into(),
        text: text.into(),
        cw: None,
        crisis,
        screened: None,
    };
    let held = s.apply(send("kys you idiot", false)).unwrap();
    assert!(held.events.is_empty() && held.ack.is_none());
    let held = held.held.expect("held for review");
    assert_eq!(s.room.head(), head, "nothing reached the timeline");
    // A retry of the same send is the same held message, not a second one.
    let again = s.apply(send("kys you idiot", false)).unwrap();
    assert!(again.duplicate);
    assert_eq!(s.room.held().count(), 1);
    // Crisis language is never held, whatever the policy.
    assert!(
        s.apply(send("I want to kill myself", true))
            .unwrap()
            .ack
            .is_some()
    );

    let released = s
        .apply(Command::Moderate {
            actor: fac,
            request: ModRequest {
                held: Some(held.id),
                ..ModRequest::new(ModAction::Release)
            },
        })
        .unwrap();
    assert!(matches!(
        &released.events[0].kind,
        EventKind::Message { user, text, .. } if *user == bob && text == "kys you idiot"
    ));
    assert_eq!(
        released.held.map(|h| h.client_id),
        Some("kys you idiot".to_owned())
    );
    // Released once; now the original send's client id dedupes to the released seq.
    let retry = s.apply(send("kys you idiot", false)).unwrap();
    assert_eq!(retry.ack, released.ack);
    assert_eq!(
        s.apply(Command::Moderate {
            actor: fac,
            request: ModRequest {
                held: Some(held.id),
                ..ModRequest::new(ModAction::Decline)
            },
        }),
        Err(Rejection::NotFound)
    );
}

#[test]
fn the_policy_flags_participants_but_not_facilitators() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let bob = s.join("Bob");
    let flagged = |s: &mut Scene, user| {
        s.apply(Command::Send {
            user,
            client_id: format!("{user}"),
            text: "kys you idiot".into(),
            cw: None,
            crisis: false,
            screened: None,
        })
        .unwrap()
        .flagged
    };
    assert!(flagged(&mut s, bob).contains(&"mean"));
    assert!(flagged(&mut s, fac).is_empty());
}

#[test]
fn a_verdict_reached_under_an_old_policy_is_not_trusted() {
    use crate::safety::Verdict;
    use kindred_protocol::policy::{ContentPolicy, Kinds, PolicyMode};
    let mut s = Scene::new(12);
    let bob = s.join("Bob");
    let hold = ContentPolicy {
        mode: PolicyMode::Hold,
        kinds: Kinds::default(),
    };
    s.room.set_policy(hold, s.now);
    let screened_under = |policy| Screened {
        policy,
        verdict: Verdict::Clean,
    };
    // Screened as clean under "off" (the policy changed in between): the room decides again.
    let stale = s
        .apply(Command::Send {
            user: bob,
            client_id: "a".into(),
            text: "kys you idiot".into(),
            cw: None,
            crisis: false,
            screened: Some(screened_under(ContentPolicy {
                mode: PolicyMode::Off,
                kinds: Kinds::default(),
            })),
        })
        .unwrap();
    assert!(stale.held.is_some());
    // Screened under the current policy: the verdict stands.
    let fresh = s
        .apply(Command::Send {
            user: bob,
            client_id: "b".into(),
            text: "a kind word".into(),
            cw: None,
            crisis: false,
            screened: Some(screened_under(hold)),
        })
        .unwrap();
    assert!(fresh.ack.is_some());
}

#[test]
fn a_tick_is_due_only_when_a_mute_a_grace_period_or_the_floor_runs_out() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    assert!(!s.room.tick_due(s.now), "nothing to expire yet");
    s.moderate(fac, ModAction::Mute, Some(alice), Some(60))
        .unwrap();
    assert!(!s.room.tick_due(s.now + 59_000));
    assert!(s.room.tick_due(s.now + 60_000), "the mute ends");
    s.advance(60_000);
    s.tick();
    assert!(!s.room.tick_due(s.now), "the unmute was issued");
    s.apply(Command::Disconnect { user: alice }).unwrap();
    let grace = Limits::default().presence_grace_ms;
    assert!(!s.room.tick_due(s.now + grace - 1));
    assert!(s.room.tick_due(s.now + grace), "alice's seat is given up");
    s.reconnect(alice, "Alice").unwrap();
    s.moderate(fac, ModAction::Floor, Some(alice), Some(30))
        .unwrap();
    assert!(s.room.tick_due(s.now + 30_000), "the floor's time is up");
}

#[test]
fn a_room_replayed_from_its_commands_is_the_same_room() {
    // Every instance that serves a room folds the same log of commands into its own
    // replica: the fold must be a function of the log alone.
    let mut s = Scene::new(12);
    let start = s.room.clone();
    let mut log: Vec<(Command, Millis)> = Vec::new();
    let mut run = |s: &mut Scene, cmd: Command| {
        log.push((cmd.clone(), s.now));
        let _ = s.apply(cmd);
    };
    let fac = UserId::new();
    let alice = UserId::new();
    let bo = UserId::new();
    for (user, name, role) in [
        (fac, "Fran", Role::Facilitator),
        (alice, "Alice", Role::Participant),
        (bo, "Bo", Role::Participant),
    ] {
        run(
            &mut s,
            Command::Connect {
                user,
                name: name.into(),
                role,
                session: 0,
            },
        );
    }
    let send = |user, id: &str| Command::Send {
        user,
        client_id: id.into(),
        text: format!("message {id}"),
        cw: None,
        crisis: false,
        screened: None,
    };
    run(&mut s, send(alice, "a1"));
    run(
        &mut s,
        Command::Moderate {
            actor: fac,
            request: ModRequest {
                user: Some(bo),
                seconds: Some(30),
                ..ModRequest::new(ModAction::Mute)
            },
        },
    );
    run(&mut s, send(bo, "b1"));
    s.advance(31_000);
    run(&mut s, Command::Tick);
    run(&mut s, send(bo, "b2"));
    run(&mut s, Command::Disconnect { user: alice });
    s.advance(40_000);
    run(&mut s, Command::Tick);
    let mut replica = start;
    for (cmd, at) in log {
        let _ = replica.apply(cmd, at);
    }
    assert_eq!(replica, s.room);
    assert_eq!(replica.head(), s.room.head());
}

#[test]
fn a_reopened_room_keeps_its_settings_bans_and_session_but_nothing_said() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    let bo = s.join("Bo");
    s.say(alice, "something personal").unwrap();
    s.moderate(fac, ModAction::Ban, Some(bo), None).unwrap();
    let reopened = s.room.reopened();
    assert_eq!(reopened.config, s.room.config);
    assert_eq!(reopened.session(), s.room.session());
    assert_eq!(reopened.member_count(), 0);
    assert_eq!(reopened.head(), 0);
    let mut again = reopened;
    assert_eq!(
        again.apply(
            Command::Connect {
                user: bo,
                name: "Bo".into(),
                role: Role::Participant,
                session: s.room.session(),
            },
            s.now
        ),
        Err(Rejection::Banned)
    );
}
