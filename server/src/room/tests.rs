//! Scenario tests for the room, on a fake clock: "alice joins; the facilitator
//! mutes alice for 5 minutes; alice says hi → muted; 6 minutes pass; alice says
//! hi → delivered".

use kindred_protocol::{
    CrisisCategory, ErrorCode, LeftReason, Millis, ModAction, Reaction, Role, RoomId, UserId,
    Visibility,
};

use super::*;

mod seats;

const MIN: Millis = 60_000;

/// A room with a clock, and named members.
/// What seats a facilitator: an invite minted, then spent on `user`.
fn seat_commands(user: UserId, now: Millis) -> [Command; 2] {
    let invite = InviteRecord {
        id: kindred_protocol::InviteId::new(),
        role: Role::Facilitator,
        created_at: now,
        expires_at: now + 3_600_000,
        uses: 1,
        used: 0,
        seats: Default::default(),
        order: 0,
        holders: Default::default(),
    };
    let id = invite.id;
    [
        Command::Invite { invite },
        Command::Redeem {
            invite: id,
            user,
            seat: None,
        },
    ]
}

struct Scene {
    room: Room,
    now: Millis,
}

impl Scene {
    /// A room in session that is not held without a facilitator (the rules of a
    /// session are tested apart from who keeps it; see [`Scene::facilitated`]).
    fn new(capacity: u32) -> Self {
        Self::with(capacity, false)
    }

    /// A room in session that is held whenever no facilitator is present.
    fn facilitated(capacity: u32) -> Self {
        Self::with(capacity, true)
    }

    fn with(capacity: u32, facilitated: bool) -> Self {
        let config = RoomConfig {
            title: "Thursday circle".into(),
            topic: String::new(),
            description: String::new(),
            guidelines: "Be kind.".into(),
            capacity,
            visibility: Visibility::Public,
            policy: Default::default(),
            facilitated,
            schedule: None,
            waiting_room: false,
            cw_topics: crate::room::default_cw_topics(),
        };
        let mut room = Room::new(RoomId::new(), config, Limits::default());
        let now = 1_700_000_000_000;
        // A session is on (its `opened` event is seq 1).
        room.set_open(true, now);
        Self { room, now }
    }

    fn advance(&mut self, ms: Millis) {
        self.now += ms;
    }

    fn apply(&mut self, cmd: Command) -> Result<Applied, Rejection> {
        self.room.apply(cmd, self.now)
    }

    fn arrive(&mut self, name: &str, role: Role) -> Result<UserId, Rejection> {
        let user = UserId::new();
        if role == Role::Facilitator {
            self.seat(user);
        }
        let session = self.room.session();
        self.apply(Command::Connect {
            first_time: false,
            user,
            name: name.into(),
            role,
            session,
            origin: Origin::default(),
        })?;
        Ok(user)
    }

    /// A member who is already in the room connects again (another tab, a resume).
    fn reconnect(&mut self, user: UserId, name: &str) -> Result<Applied, Rejection> {
        let session = self.room.session();
        self.apply(Command::Connect {
            first_time: false,
            user,
            name: name.into(),
            role: Role::Participant,
            session,
            origin: Origin::default(),
        })
    }

    fn join(&mut self, name: &str) -> UserId {
        self.arrive(name, Role::Participant).expect("joins")
    }

    fn join_as_participant_err(&mut self, name: &str) -> Rejection {
        self.arrive(name, Role::Participant)
            .expect_err("the participant is refused")
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
            crisis: None,
            guard: Default::default(),
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
    assert_eq!(s.room.head(), 3, "the session's opening and two joins");
    assert_eq!(s.say(alice, "hi"), Ok(4));
    assert_eq!(s.say(bob, "hello"), Ok(5));
    let hand = s
        .apply(Command::Hand {
            user: bob,
            raised: true,
        })
        .unwrap();
    assert_eq!(hand.events[0].seq, 6);
    let react = s
        .apply(Command::React {
            user: alice,
            target: 5,
            emoji: Reaction::Hug,
        })
        .unwrap();
    assert_eq!(react.events[0].seq, 7);
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
        crisis: None,
        guard: Default::default(),
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
    // Past the grace period the room is told she is away; her seat is kept.
    assert_eq!(s.tick(), vec![EventKind::Away { user: alice }]);
    assert!(s.room.member(alice).is_some());
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
            first_time: false,
            user: alice,
            name: "Alice".into(),
            role: Role::Participant,
            session: old_session,
            origin: Origin::default(),
        }),
        Err(Rejection::Closed)
    );
    // The room stays closed: nobody but a facilitator comes in until one opens it.
    assert!(!s.room.state().open);
    assert_eq!(
        s.arrive("Alice again", Role::Participant),
        Err(Rejection::NotOpen)
    );
    let fac = s.facilitator("Fran again");
    let events = s.moderate(fac, ModAction::Open, None, None).unwrap();
    assert_eq!(events, vec![EventKind::Opened]);
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
            ..ContentPolicy::default()
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
        guard: Default::default(),
        screened: None,
    };
    let held = s.apply(send("kys you idiot", None)).unwrap();
    assert!(held.events.is_empty() && held.ack.is_none());
    let held = held.held.expect("held for review");
    assert_eq!(s.room.head(), head, "nothing reached the timeline");
    // A retry of the same send is the same held message, not a second one.
    let again = s.apply(send("kys you idiot", None)).unwrap();
    assert!(again.duplicate);
    assert_eq!(s.room.held().count(), 1);
    // Crisis language is never held, whatever the policy.
    assert!(
        s.apply(send(
            "I want to kill myself",
            Some(Concern::rule(CrisisCategory::SuicidalIdeation))
        ))
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
    let retry = s.apply(send("kys you idiot", None)).unwrap();
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
            crisis: None,
            guard: Default::default(),
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
        ..ContentPolicy::default()
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
            crisis: None,
            guard: Default::default(),
            screened: Some(screened_under(ContentPolicy {
                mode: PolicyMode::Off,
                kinds: Kinds::default(),
                ..ContentPolicy::default()
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
            crisis: None,
            guard: Default::default(),
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
        if role == Role::Facilitator {
            for cmd in seat_commands(user, s.now) {
                run(&mut s, cmd);
            }
        }
        run(
            &mut s,
            Command::Connect {
                first_time: false,
                user,
                name: name.into(),
                role,
                session: 0,
                origin: Origin::default(),
            },
        );
    }
    let send = |user, id: &str| Command::Send {
        user,
        client_id: id.into(),
        text: format!("message {id}"),
        cw: None,
        crisis: None,
        guard: Default::default(),
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
                first_time: false,
                user: bo,
                name: "Bo".into(),
                role: Role::Participant,
                session: s.room.session(),
                origin: Origin::default(),
            },
            s.now
        ),
        Err(Rejection::Banned)
    );
}

#[test]
fn the_operators_change_and_deletion_are_commands_and_a_deleted_room_refuses_everything() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    let applied = s
        .apply(Command::Configure(Box::new(UpdateRoom {
            title: Some("Friday circle".into()),
            waiting_room: Some(true),
            ..UpdateRoom::default()
        })))
        .unwrap();
    assert_eq!(s.room.config.title, "Friday circle");
    assert!(s.room.config.waiting_room);
    assert!(
        applied
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::WaitingRoom { .. })),
        "the room hears of its waiting room"
    );
    let record = s
        .room
        .catalog_record()
        .expect("a room has a catalog record");
    assert_eq!(record, s.room.reopened());

    let deleted = s.apply(Command::Delete).unwrap();
    assert!(
        matches!(&deleted.events[..], [e] if matches!(&e.kind, EventKind::Closed { reason: Some(_) })),
        "{:?}",
        deleted.events
    );
    assert!(s.room.member(alice).is_none());
    assert!(s.room.is_deleted());
    assert_eq!(s.room.catalog_record(), None, "nothing of it is given back");
    assert_eq!(s.say(alice, "hello?"), Err(Rejection::Gone));
    assert_eq!(s.apply(Command::Tick).unwrap_err(), Rejection::Gone);
    assert_eq!(
        s.apply(Command::Configure(Box::default())),
        Err(Rejection::Gone)
    );
    assert_eq!(s.apply(Command::Delete), Err(Rejection::Gone));
    assert_eq!(Rejection::Gone.code(), ErrorCode::NotFound);
    // Its stored form (a snapshot) keeps the deletion; a live room's never names it.
    let stored: Room = serde_json::from_value(serde_json::to_value(&s.room).unwrap()).unwrap();
    assert!(stored.is_deleted());
    assert!(
        serde_json::to_value(&record)
            .unwrap()
            .get("deleted")
            .is_none()
    );
}

// ---- what must not be lost ------------------------------------------------------

impl Scene {
    fn send(&mut self, user: UserId, client_id: &str, text: &str) -> Result<Applied, Rejection> {
        self.apply(Command::Send {
            user,
            client_id: client_id.into(),
            text: text.into(),
            cw: None,
            crisis: None,
            guard: Default::default(),
            screened: None,
        })
    }

    fn crisis(&mut self, user: UserId, client_id: &str, text: &str) -> Result<Applied, Rejection> {
        self.apply(Command::Send {
            user,
            client_id: client_id.into(),
            text: text.into(),
            cw: None,
            crisis: Some(Concern::rule(CrisisCategory::SuicidalIdeation)),
            guard: Default::default(),
            screened: None,
        })
    }

    fn report(&mut self, user: UserId, target: u64) -> Result<Applied, Rejection> {
        self.apply(Command::Report {
            user,
            target,
            reason: Some("that felt unkind".into()),
            context: Vec::new(),
        })
    }

    fn ack_warning(&mut self, user: UserId, alert: Option<u64>) -> Result<Applied, Rejection> {
        self.apply(Command::AckWarning { user, alert })
    }

    fn hold_policy(&mut self) {
        use kindred_protocol::policy::{ContentPolicy, Kinds, PolicyMode};
        let hold = ContentPolicy {
            mode: PolicyMode::Hold,
            kinds: Kinds::default(),
            ..ContentPolicy::default()
        };
        self.room.set_policy(hold, self.now);
    }

    /// Give `user` a facilitator's seat: an invite minted and spent on them.
    fn seat(&mut self, user: UserId) {
        for cmd in seat_commands(user, self.now) {
            self.apply(cmd).expect("the invite seats them");
        }
    }

    /// A facilitator arrives (or resumes): what is open for them.
    fn facilitator_arrives(&mut self, user: UserId, name: &str) -> Vec<Kept> {
        if !self.room.invites().iter().any(|i| i.seats.contains(&user)) {
            self.seat(user);
        }
        let session = self.room.session();
        self.apply(Command::Connect {
            first_time: false,
            user,
            name: name.into(),
            role: Role::Facilitator,
            session,
            origin: Origin::default(),
        })
        .expect("a facilitator always gets in")
        .kept()
        .to_vec()
    }
}

fn kept_ids(kept: &[Kept]) -> Vec<u64> {
    kept.iter().map(Kept::id).collect()
}

#[test]
fn alerts_and_held_messages_wait_for_a_facilitator_until_one_handles_them() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    // Nobody is there to hear it: a crisis, a report, a held message.
    let crisis = s.crisis(alice, "c1", "I want to end it all").unwrap();
    let seq = crisis.ack.expect("delivered as written");
    let crisis = crisis.alert.expect("kept for the facilitators");
    assert_eq!(
        crisis.about,
        About::Crisis {
            category: CrisisCategory::SuicidalIdeation,
            seq: Some(seq),
            text: None,
            check_in: false,
            likelihood: None,
        }
    );
    let report = s.report(bob, seq).unwrap().alert.expect("a report alert");
    assert_eq!(report.user, bob, "the reporter");
    s.hold_policy();
    let held = s.send(bob, "h1", "kys you idiot").unwrap().held.unwrap();
    assert!(crisis.id < report.id && report.id < held.id, "one count");

    // The first facilitator to arrive is given all three, oldest first.
    let fran = UserId::new();
    let kept = s.facilitator_arrives(fran, "Fran");
    assert_eq!(kept_ids(&kept), vec![crisis.id, report.id, held.id]);
    assert_eq!(kept[0], Kept::Alert(crisis.clone()));
    assert!(matches!(&kept[2], Kept::Held(h) if h.text == "kys you idiot"));
    // A participant's arrival brings nothing of it.
    assert!(s.reconnect(alice, "Alice").unwrap().kept().is_empty());

    // Handling: participants may not; a held message is decided, not acknowledged.
    assert_eq!(
        s.ack_warning(alice, Some(crisis.id)),
        Err(Rejection::Forbidden)
    );
    assert!(matches!(
        s.ack_warning(fran, Some(held.id)),
        Err(Rejection::BadRequest(_))
    ));
    s.ack_warning(fran, Some(crisis.id)).unwrap();
    assert_eq!(
        s.ack_warning(fran, Some(crisis.id)),
        Err(Rejection::NotFound),
        "handled once, for everyone"
    );
    let cora = UserId::new();
    assert_eq!(
        kept_ids(&s.facilitator_arrives(cora, "Cora")),
        vec![report.id, held.id]
    );
    s.apply(Command::Moderate {
        actor: cora,
        request: ModRequest {
            held: Some(held.id),
            ..ModRequest::new(ModAction::Release)
        },
    })
    .unwrap();
    s.ack_warning(cora, Some(report.id)).unwrap();
    assert!(s.facilitator_arrives(fran, "Fran").is_empty());
    // A close takes everything open with it.
    s.report(bob, seq).unwrap();
    s.moderate(fran, ModAction::Close, None, None).unwrap();
    assert!(s.room.kept().is_empty());
}

#[test]
fn a_crisis_message_the_room_refuses_still_raises_an_alert_with_its_words() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.moderate(fac, ModAction::Mute, Some(alice), None).unwrap();
    assert_eq!(
        s.send(alice, "c1", "hello?"),
        Err(Rejection::Muted { until: None })
    );
    let head = s.room.head();
    let refused = s.crisis(alice, "c2", "I took too many pills").unwrap();
    assert_eq!(refused.refused, Some(Rejection::Muted { until: None }));
    assert!(refused.events.is_empty() && refused.ack.is_none());
    assert_eq!(s.room.head(), head, "the room did not take it");
    assert!(refused.card, "the author is shown help");
    let alert = refused.alert.expect("the facilitators are alerted");
    assert!(matches!(
        &alert.about,
        About::Crisis { seq: None, text: Some(t), .. } if t == "I took too many pills"
    ));
    assert_eq!(s.room.kept(), vec![Kept::Alert(alert)]);
    // A refused send is not remembered: a retry is judged afresh.
    s.moderate(fac, ModAction::Unmute, Some(alice), None)
        .unwrap();
    assert!(
        s.crisis(alice, "c2", "I took too many pills")
            .unwrap()
            .ack
            .is_some()
    );
}

#[test]
fn a_resent_crisis_message_brings_help_again_until_its_author_has_seen_the_card() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    let first = s.crisis(alice, "c1", "I want to kill myself").unwrap();
    let alert = first.alert.clone().unwrap();
    // The connection dropped before the card went out; the client resends.
    let again = s.crisis(alice, "c1", "I want to kill myself").unwrap();
    assert!(again.duplicate && again.events.is_empty());
    assert_eq!(again.ack, first.ack, "the original seq");
    assert!(again.card, "help again: it may never have gone out");
    assert_eq!(again.alert, Some(alert.clone()), "the same alert, same id");
    // A facilitator handled the alert: a resend no longer alerts, but the card stays
    // owed to Alice until she says she saw it.
    s.ack_warning(fac, Some(alert.id)).unwrap();
    let again = s.crisis(alice, "c1", "I want to kill myself").unwrap();
    assert!(again.card && again.alert.is_none());
    s.ack_warning(alice, None).unwrap();
    let again = s.crisis(alice, "c1", "I want to kill myself").unwrap();
    assert!(again.duplicate && !again.card && again.alert.is_none());
    assert_eq!(again.ack, first.ack);
}

#[test]
fn a_client_away_longer_than_the_away_limit_does_not_post_its_resends_twice() {
    let mut s = Scene::new(12);
    let bob = s.join("Bob");
    let alice = s.join("Alice");
    let first = s.send(alice, "c1", "is anyone there?").unwrap().ack;
    // The bus enters a long tunnel: Alice leaves the room.
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(Limits::default().away_limit_ms);
    assert_eq!(
        s.tick(),
        vec![EventKind::Left {
            user: alice,
            reason: LeftReason::Disconnected
        }]
    );
    // Her token still works: she comes back and resends what had no ack.
    let back = s.reconnect(alice, "Alice").unwrap();
    assert!(matches!(back.events[0].kind, EventKind::Joined { .. }));
    let head = s.room.head();
    let resent = s.send(alice, "c1", "is anyone there?").unwrap();
    assert!(resent.duplicate);
    assert_eq!(resent.ack, first);
    assert_eq!(s.room.head(), head, "nothing posted twice");
    assert!(
        s.send(bob, "c1", "someone else's c1 is theirs")
            .unwrap()
            .ack
            > first
    );
}

#[test]
fn the_send_memory_is_a_window_per_user_and_ends_with_the_session() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    let window = Limits::default().dedupe_window;
    let first = s.send(alice, "c0", "first").unwrap().ack;
    for i in 1..=window {
        s.send(alice, &format!("c{i}"), "more").unwrap();
    }
    let forgotten = s.send(alice, "c0", "first").unwrap();
    assert!(
        !forgotten.duplicate && forgotten.ack > first,
        "past the window"
    );
    let last = s.send(alice, &format!("c{window}"), "more").unwrap();
    assert!(last.duplicate, "within the window");
    // A close ends the tokens, and the memory with them.
    s.moderate(fac, ModAction::Close, None, None).unwrap();
    s.room.set_open(true, s.now);
    let session = s.room.session();
    s.apply(Command::Connect {
        first_time: false,
        user: alice,
        name: "Alice".into(),
        role: Role::Participant,
        session,
        origin: Origin::default(),
    })
    .unwrap();
    assert!(!s.send(alice, "c0", "next week").unwrap().duplicate);
}

#[test]
fn a_held_message_whose_author_has_left_is_still_released_or_declined() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let bob = s.join("Bob");
    s.hold_policy();
    let one = s.send(bob, "h1", "kys you idiot").unwrap().held.unwrap();
    let two = s
        .send(bob, "h2", "you're all idiots, kys")
        .unwrap()
        .held
        .unwrap();
    s.apply(Command::Leave { user: bob }).unwrap();
    let decide = |s: &mut Scene, action, id| {
        s.apply(Command::Moderate {
            actor: fac,
            request: ModRequest {
                held: Some(id),
                ..ModRequest::new(action)
            },
        })
    };
    let released = decide(&mut s, ModAction::Release, one.id).unwrap();
    assert!(matches!(
        &released.events[0].kind,
        EventKind::Message { user, name, text, .. }
            if *user == bob && name == "Bob" && text == "kys you idiot"
    ));
    let declined = decide(&mut s, ModAction::Decline, two.id).unwrap();
    assert_eq!(declined.held.map(|h| h.id), Some(two.id));
    assert!(s.room.held().next().is_none(), "nothing left waiting");
    // If Bob comes back and resends, he finds the seq his message got.
    s.reconnect(bob, "Bob").unwrap();
    let resent = s.send(bob, "h1", "kys you idiot").unwrap();
    assert!(resent.duplicate);
    assert_eq!(resent.ack, released.ack);
}

#[test]
fn a_repeated_reaction_is_not_a_new_event() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    let seq = s.say(alice, "I made it through the week").unwrap();
    let react = |user, emoji| Command::React {
        user,
        target: seq,
        emoji,
    };
    assert_eq!(s.apply(react(bob, Reaction::Hug)).unwrap().events.len(), 1);
    let again = s.apply(react(bob, Reaction::Hug)).unwrap();
    assert!(again.duplicate && again.events.is_empty());
    assert_eq!(
        s.apply(react(bob, Reaction::Heart)).unwrap().events.len(),
        1
    );
    assert_eq!(
        s.apply(react(alice, Reaction::Hug)).unwrap().events.len(),
        1
    );
}

#[test]
fn a_member_reports_a_message_once() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    let carol = s.join("Carol");
    let seq = s.say(alice, "something unkind").unwrap();
    assert!(s.report(bob, seq).unwrap().alert.is_some());
    let again = s.report(bob, seq).unwrap();
    assert!(again.duplicate && again.alert.is_none(), "no second alert");
    assert!(
        s.report(carol, seq).unwrap().alert.is_some(),
        "another reporter"
    );
    assert_eq!(s.report(bob, 999), Err(Rejection::NotFound));
    assert_eq!(s.report(UserId::new(), seq), Err(Rejection::NotMember));
    assert_eq!(s.room.kept().len(), 2);
}

#[test]
fn a_participants_whisper_needs_a_facilitator_who_is_connected() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    let whisper = |user, to| Command::Whisper {
        user,
        to,
        text: "are you there?".into(),
        crisis: None,
    };
    assert_eq!(s.apply(whisper(alice, None)), Err(Rejection::NoFacilitator));
    assert_eq!(
        Rejection::NoFacilitator.code(),
        kindred_protocol::ErrorCode::NotFound
    );
    let fran = s.facilitator("Fran");
    assert!(s.apply(whisper(alice, None)).is_ok());
    // Fran's connection dropped: she is still a member, but nobody would read it.
    s.apply(Command::Disconnect { user: fran }).unwrap();
    assert_eq!(s.apply(whisper(alice, None)), Err(Rejection::NoFacilitator));
    s.reconnect(fran, "Fran").unwrap();
    assert!(s.apply(whisper(fran, Some(alice))).is_ok());
    assert_eq!(
        s.apply(whisper(fran, Some(UserId::new()))),
        Err(Rejection::NotFound)
    );
}

#[test]
fn what_is_kept_replays_alike_and_survives_a_snapshot() {
    // The new state is folded from the log like the rest, and stored in snapshots.
    let mut s = Scene::new(12);
    let start = s.room.clone();
    let fran = UserId::new();
    let alice = UserId::new();
    let bo = UserId::new();
    let mut log: Vec<(Command, Millis)> = Vec::new();
    let mut run = |s: &mut Scene, cmd: Command| {
        log.push((cmd.clone(), s.now));
        let _ = s.apply(cmd);
        s.advance(1_000);
    };
    for (user, name, role) in [
        (alice, "Alice", Role::Participant),
        (bo, "Bo", Role::Participant),
    ] {
        run(
            &mut s,
            Command::Connect {
                first_time: false,
                user,
                name: name.into(),
                role,
                session: 0,
                origin: Origin::default(),
            },
        );
    }
    let crisis = Command::Send {
        user: alice,
        client_id: "c1".into(),
        text: "I want to end it all".into(),
        cw: None,
        crisis: Some(Concern::rule(CrisisCategory::SuicidalIdeation)),
        guard: Default::default(),
        screened: None,
    };
    run(&mut s, crisis.clone());
    run(&mut s, crisis);
    run(
        &mut s,
        Command::Report {
            user: bo,
            target: 3,
            reason: None,
            context: Vec::new(),
        },
    );
    for _ in 0..2 {
        run(
            &mut s,
            Command::React {
                user: bo,
                target: 3,
                emoji: Reaction::Candle,
            },
        );
    }
    run(
        &mut s,
        Command::Whisper {
            user: bo,
            to: None,
            text: "thank you".into(),
            crisis: None,
        },
    );
    run(&mut s, Command::Disconnect { user: alice });
    s.advance(Limits::default().presence_grace_ms);
    run(&mut s, Command::Tick);
    for cmd in seat_commands(fran, s.now) {
        run(&mut s, cmd);
    }
    run(
        &mut s,
        Command::Connect {
            first_time: false,
            user: fran,
            name: "Fran".into(),
            role: Role::Facilitator,
            session: 0,
            origin: Origin::default(),
        },
    );
    run(
        &mut s,
        Command::AckWarning {
            user: fran,
            alert: Some(2),
        },
    );
    let mut replica = start;
    for (cmd, at) in log {
        let _ = replica.apply(cmd, at);
    }
    assert_eq!(replica, s.room);
    assert_eq!(replica.kept().len(), 1, "the crisis alert is still open");

    let stored = serde_json::to_string(&s.room).unwrap();
    let restored: Room = serde_json::from_str(&stored).unwrap();
    assert_eq!(restored, s.room, "the room's limits travel with it");
}

#[test]
fn a_newcomer_cannot_take_a_name_that_looks_like_a_members() {
    let mut s = Scene::new(12);
    s.join("Robin");
    // A Cyrillic "о", or the same name in another case, would pass for Robin.
    for lookalike in ["R\u{043E}bin", "robin"] {
        assert_eq!(
            s.arrive(lookalike, Role::Participant),
            Err(Rejection::NameInUse),
            "{lookalike:?}"
        );
    }
    assert!(s.arrive("Robyn", Role::Participant).is_ok());
}

// ---- bans that hold, seats per network, invites as records ---------------------------

fn origin(device: Option<&str>, address: Option<&str>) -> Origin {
    Origin {
        device: device.map(|d| Mark(d.into())),
        address: address.map(|a| Mark(a.into())),
    }
}

impl Scene {
    /// A participant arrives from `from`.
    fn arrive_from(&mut self, name: &str, from: Origin) -> Result<UserId, Rejection> {
        let user = UserId::new();
        let session = self.room.session();
        self.room.admits(Role::Participant, name, &from)?;
        self.apply(Command::Connect {
            first_time: false,
            user,
            name: name.into(),
            role: Role::Participant,
            session,
            origin: from,
        })?;
        Ok(user)
    }
}

#[test]
fn a_banned_person_cannot_come_back_under_a_new_name_from_the_same_device() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let troll = s
        .arrive_from("Troll", origin(Some("phone"), Some("home")))
        .unwrap();
    s.moderate(fac, ModAction::Ban, Some(troll), None).unwrap();
    // A new pseudonym, the same browser, another network: refused.
    assert_eq!(
        s.arrive_from("Sunny", origin(Some("phone"), Some("cafe"))),
        Err(Rejection::Banned)
    );
    // A new browser on the same network this evening: refused too.
    assert_eq!(
        s.arrive_from("Sunny", origin(Some("laptop"), Some("home"))),
        Err(Rejection::Banned)
    );
    // Someone else, elsewhere, is welcome; a facilitator is never kept out by marks.
    assert!(
        s.arrive_from("Robin", origin(Some("tablet"), Some("library")))
            .is_ok()
    );
    assert!(
        s.room
            .admits(
                Role::Facilitator,
                "Sam",
                &origin(Some("phone"), Some("home"))
            )
            .is_ok()
    );
    // Next session: the address is free again (addresses change hands), the device
    // stays banned.
    s.moderate(fac, ModAction::Close, None, None).unwrap();
    s.room.set_open(true, s.now);
    assert!(
        s.arrive_from("Sunny", origin(Some("laptop"), Some("home")))
            .is_ok()
    );
    assert_eq!(
        s.arrive_from("Sky", origin(Some("phone"), Some("elsewhere"))),
        Err(Rejection::Banned)
    );
}

#[test]
fn a_ban_takes_every_pseudonym_on_that_device_with_it() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let one = s.arrive_from("One", origin(Some("phone"), None)).unwrap();
    let other = s
        .arrive_from("Robin", origin(Some("tablet"), None))
        .unwrap();
    let two = s.arrive_from("Two", origin(Some("phone"), None)).unwrap();
    let events = s.moderate(fac, ModAction::Ban, Some(one), None).unwrap();
    assert_eq!(
        events,
        vec![
            EventKind::Left {
                user: one,
                reason: LeftReason::Banned
            },
            EventKind::Left {
                user: two,
                reason: LeftReason::Banned
            },
        ]
    );
    assert!(s.room.member(other).is_some());
    assert_eq!(s.reconnect(two, "Two"), Err(Rejection::Banned));
}

#[test]
fn one_network_holds_only_its_share_of_the_seats() {
    let mut s = Scene::new(20);
    let per = Limits::default().members_per_address;
    for i in 0..per {
        s.arrive_from(&format!("Member {i}"), origin(None, Some("flat")))
            .unwrap();
    }
    assert_eq!(
        s.arrive_from("One more", origin(None, Some("flat"))),
        Err(Rejection::TooManyFromAddress)
    );
    assert_eq!(Rejection::TooManyFromAddress.code(), ErrorCode::RateLimited);
    // Other networks, and members with no address mark, still get in.
    assert!(
        s.arrive_from("Neighbour", origin(None, Some("next door")))
            .is_ok()
    );
    assert!(s.arrive_from("Unmarked", origin(None, None)).is_ok());
    // A facilitator on that network is not counted or refused.
    assert!(
        s.room
            .admits(Role::Facilitator, "Fran", &origin(None, Some("flat")))
            .is_ok()
    );
}

fn invite(s: &Scene, uses: u32, ttl: Millis) -> InviteRecord {
    InviteRecord {
        id: kindred_protocol::InviteId::new(),
        role: Role::Facilitator,
        created_at: s.now,
        expires_at: s.now + ttl,
        uses,
        used: 0,
        seats: Default::default(),
        order: 0,
        holders: Default::default(),
    }
}

#[test]
fn an_invite_seats_as_many_facilitators_as_it_allows_and_no_more() {
    let mut s = Scene::new(12);
    let once = invite(&s, 1, 60 * MIN);
    let twice = invite(&s, 2, 60 * MIN);
    let late = invite(&s, 5, MIN);
    for i in [&once, &twice, &late] {
        s.apply(Command::Invite { invite: i.clone() }).unwrap();
    }
    let redeem = |s: &mut Scene, id| {
        s.apply(Command::Redeem {
            invite: id,
            user: UserId::new(),
            seat: None,
        })
    };
    assert!(redeem(&mut s, once.id).is_ok());
    assert_eq!(redeem(&mut s, once.id), Err(Rejection::InviteInvalid));
    assert!(redeem(&mut s, twice.id).is_ok());
    assert!(redeem(&mut s, twice.id).is_ok());
    assert_eq!(redeem(&mut s, twice.id), Err(Rejection::InviteInvalid));
    s.advance(MIN);
    assert_eq!(redeem(&mut s, late.id), Err(Rejection::InviteInvalid));
    assert_eq!(
        redeem(&mut s, kindred_protocol::InviteId::new()),
        Err(Rejection::InviteInvalid)
    );
    let listed = s.room.invites();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed.iter().map(|i| i.used).sum::<u32>(), 3);
    assert_eq!(Rejection::InviteInvalid.code(), ErrorCode::Unauthorized);
}

#[test]
fn revoking_an_invite_ends_the_seats_it_gave() {
    let mut s = Scene::new(12);
    let record = invite(&s, 2, 60 * MIN);
    s.apply(Command::Invite {
        invite: record.clone(),
    })
    .unwrap();
    let fran = UserId::new();
    s.apply(Command::Redeem {
        invite: record.id,
        user: fran,
        seat: None,
    })
    .unwrap();
    let session = s.room.session();
    let connect = Command::Connect {
        first_time: false,
        user: fran,
        name: "Fran".into(),
        role: Role::Facilitator,
        session,
        origin: Origin::default(),
    };
    s.apply(connect.clone()).unwrap();
    let alice = s.join("Alice");
    let applied = s.apply(Command::Revoke { invite: record.id }).unwrap();
    assert_eq!(
        applied
            .events
            .into_iter()
            .map(|e| e.kind)
            .collect::<Vec<_>>(),
        vec![EventKind::Left {
            user: fran,
            reason: LeftReason::Removed
        }]
    );
    // Her token no longer connects; the invite no longer seats anyone.
    assert_eq!(s.apply(connect), Err(Rejection::InviteInvalid));
    assert_eq!(
        s.apply(Command::Redeem {
            invite: record.id,
            user: UserId::new(),
            seat: None,
        }),
        Err(Rejection::InviteInvalid)
    );
    assert!(s.room.member(alice).is_some());
    assert_eq!(
        s.apply(Command::Revoke { invite: record.id }),
        Err(Rejection::NotFound)
    );
}

#[test]
fn the_operator_can_remove_a_facilitator_for_good() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let sam = s.facilitator("Sam");
    let applied = s.apply(Command::Dismiss { user: fran }).unwrap();
    assert_eq!(applied.events.len(), 1);
    assert!(s.room.member(fran).is_none());
    let session = s.room.session();
    assert_eq!(
        s.apply(Command::Connect {
            first_time: false,
            user: fran,
            name: "Fran".into(),
            role: Role::Facilitator,
            session,
            origin: Origin::default(),
        }),
        Err(Rejection::InviteInvalid)
    );
    assert!(s.room.member(sam).is_some());
    assert_eq!(
        s.apply(Command::Dismiss {
            user: UserId::new()
        }),
        Err(Rejection::NotFound)
    );
}

#[test]
fn bans_and_invites_outlive_a_store_that_lost_the_room() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let troll = s.arrive_from("Troll", origin(Some("phone"), None)).unwrap();
    s.moderate(fac, ModAction::Ban, Some(troll), None).unwrap();
    let spare = invite(&s, 3, 60 * MIN);
    s.apply(Command::Invite {
        invite: spare.clone(),
    })
    .unwrap();
    let mut back = s.room.reopened();
    assert_eq!(
        back.admits(Role::Participant, "Sunny", &origin(Some("phone"), None)),
        Err(Rejection::Banned)
    );
    assert_eq!(back.invites(), s.room.invites());
    // The catalog record round-trips through its stored form.
    let stored: Room = serde_json::from_value(serde_json::to_value(&back).unwrap()).unwrap();
    assert_eq!(stored.invites(), back.invites());
    assert!(
        back.apply(
            Command::Redeem {
                invite: spare.id,
                user: UserId::new(),
                seat: None,
            },
            s.now
        )
        .is_ok()
    );
}

#[test]
fn a_closed_session_ends_seats_and_forgets_spent_invites() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let open = invite(&s, 2, 60 * MIN);
    s.apply(Command::Invite {
        invite: open.clone(),
    })
    .unwrap();
    s.moderate(fac, ModAction::Close, None, None).unwrap();
    let left = s.room.invites();
    // Fran's single-use invite is spent and forgotten; the open one stays, seating nobody.
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, open.id);
    assert!(left[0].seats.is_empty());
}

// ---- a session's opening and closing ----------------------------------------------

#[test]
fn a_new_room_is_closed_until_a_facilitator_opens_it() {
    let mut s = Scene::new(12);
    s.room = Room::new(RoomId::new(), s.room.config.clone(), Limits::default());
    assert!(!s.room.state().open);
    assert_eq!(
        s.room
            .admits(Role::Participant, "Alice", &Origin::default()),
        Err(Rejection::NotOpen)
    );
    assert_eq!(Rejection::NotOpen.code(), ErrorCode::Closed);
    // A facilitator may come in beforehand, and opens the session.
    let fac = s.facilitator("Fran");
    assert_eq!(
        s.join_as_participant_err("Alice"),
        Rejection::NotOpen,
        "still closed while the facilitator prepares"
    );
    let events = s.moderate(fac, ModAction::Open, None, None).unwrap();
    assert_eq!(events, vec![EventKind::Opened]);
    // Opening an open room changes nothing.
    assert_eq!(
        s.moderate(fac, ModAction::Open, None, None).unwrap(),
        vec![]
    );
    let alice = s.join("Alice");
    assert!(s.say(alice, "hello everyone").is_ok());
    // A participant cannot open or close.
    assert_eq!(
        s.moderate(alice, ModAction::Open, None, None),
        Err(Rejection::Forbidden)
    );
}

#[test]
fn the_operator_opens_and_closes_a_session_through_the_rooms_settings() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    let update = |open| UpdateRoom {
        open: Some(open),
        ..UpdateRoom::default()
    };
    let closed = s.room.configure(update(false), s.now);
    assert_eq!(
        closed.events.iter().map(|e| &e.kind).collect::<Vec<_>>(),
        vec![&EventKind::Closed { reason: None }]
    );
    assert!(s.room.member(alice).is_none());
    assert!(!s.room.is_open());
    let opened = s.room.configure(update(true), s.now);
    assert_eq!(opened.events[0].kind, EventKind::Opened);
    assert!(s.room.is_open());
    // A stored room from before sessions opened and closed reads as in session.
    let mut stored = serde_json::to_value(&s.room).unwrap();
    stored.as_object_mut().unwrap().remove("open");
    let back: Room = serde_json::from_value(stored).unwrap();
    assert!(back.is_open());
}

// ---- a room held while no facilitator is present --------------------------------------

fn kinds(applied: &Applied) -> Vec<EventKind> {
    applied.events.iter().map(|e| e.kind.clone()).collect()
}

#[test]
fn the_room_is_held_when_the_last_facilitator_leaves_and_unheld_when_one_returns() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    assert!(s.say(alice, "I had a hard week").is_ok());
    let left = s.apply(Command::Leave { user: fran }).unwrap();
    assert_eq!(
        kinds(&left),
        vec![
            EventKind::Left {
                user: fran,
                reason: LeftReason::Left
            },
            EventKind::Held
        ]
    );
    assert!(s.room.state().held);
    assert_eq!(s.say(alice, "hello?"), Err(Rejection::Held));
    assert_eq!(Rejection::Held.code(), ErrorCode::Held);
    // Crisis words still reach the facilitators, kept for whoever comes back.
    let crisis = s
        .apply(Command::Send {
            user: alice,
            client_id: "c-crisis".into(),
            text: "I want to end it all".into(),
            cw: None,
            crisis: Some(Concern::rule(CrisisCategory::SuicidalIdeation)),
            guard: Default::default(),
            screened: None,
        })
        .unwrap();
    assert_eq!(crisis.refused, Some(Rejection::Held));
    assert!(crisis.alert.is_some() && crisis.card);
    // A facilitator comes back: the room is unheld, and what was kept is theirs.
    let sam = UserId::new();
    s.seat(sam);
    let session = s.room.session();
    let back = s
        .apply(Command::Connect {
            first_time: false,
            user: sam,
            name: "Sam".into(),
            role: Role::Facilitator,
            session,
            origin: Origin::default(),
        })
        .unwrap();
    assert_eq!(
        back.events.last().map(|e| &e.kind),
        Some(&EventKind::Unheld)
    );
    assert_eq!(back.kept().len(), 1);
    assert!(!s.room.state().held);
    assert!(s.say(alice, "thank you for coming back").is_ok());
}

#[test]
fn a_facilitator_whose_connection_drops_has_the_grace_period_before_the_room_is_held() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.apply(Command::Disconnect { user: fran }).unwrap();
    assert!(
        !s.room.state().held,
        "a dropped connection is not a departure"
    );
    assert!(s.say(alice, "still here").is_ok());
    s.advance(Limits::default().presence_grace_ms);
    assert!(s.room.tick_due(s.now));
    let events = s.tick();
    // Fran is away, still in the room, but no facilitator keeps it: it is held.
    assert_eq!(
        events,
        vec![EventKind::Away { user: fran }, EventKind::Held]
    );
    assert!(s.room.member(fran).is_some());
}

#[test]
fn a_session_held_too_long_closes_itself_with_a_reason() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.apply(Command::Leave { user: fran }).unwrap();
    s.advance(Limits::default().held_close_ms - 1);
    assert!(!s.room.tick_due(s.now));
    s.advance(1);
    assert!(s.room.tick_due(s.now));
    let events = s.tick();
    assert!(
        matches!(&events[..], [EventKind::Closed { reason: Some(r) }] if r.contains("No facilitator")),
        "{events:?}"
    );
    assert!(!s.room.is_open() && !s.room.is_held());
    assert!(s.room.member(alice).is_none());
}

#[test]
fn a_session_the_operator_opened_is_held_if_no_facilitator_arrives_in_the_grace_period() {
    let mut s = Scene::facilitated(12);
    let alice = s.join("Alice");
    assert!(s.say(alice, "is anyone here?").is_ok());
    s.advance(Limits::default().presence_grace_ms - 1);
    assert!(!s.room.tick_due(s.now));
    s.advance(1);
    assert_eq!(s.tick(), vec![EventKind::Held]);
    assert_eq!(s.say(alice, "hello?"), Err(Rejection::Held));
}

#[test]
fn a_drop_in_room_nobody_facilitates_is_never_held() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    s.advance(Limits::default().held_close_ms * 2);
    assert!(!s.room.tick_due(s.now));
    assert!(s.tick().is_empty());
    assert!(s.say(alice, "just us tonight").is_ok());
    // Made facilitated by the operator: it starts counting, and is held in time.
    let update = UpdateRoom {
        facilitated: Some(true),
        ..UpdateRoom::default()
    };
    s.room.configure(update, s.now);
    s.advance(Limits::default().presence_grace_ms);
    assert_eq!(s.tick(), vec![EventKind::Held]);
    // And made a drop-in again, it is unheld at once.
    let update = UpdateRoom {
        facilitated: Some(false),
        ..UpdateRoom::default()
    };
    let applied = s.room.configure(update, s.now);
    assert_eq!(kinds(&applied), vec![EventKind::Unheld]);
}

// ---- a facilitator's private warning ----------------------------------------------------

#[test]
fn a_warned_member_cannot_post_until_they_acknowledge_the_warning() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    let warned = s
        .apply(Command::Moderate {
            actor: fran,
            request: ModRequest {
                user: Some(alice),
                reason: Some("please speak from your own experience".into()),
                ..ModRequest::new(ModAction::Warn)
            },
        })
        .unwrap();
    // Private: nothing enters the timeline.
    assert!(warned.events.is_empty());
    let warning = warned.warning.expect("the warning to deliver");
    assert_eq!(
        (warning.user, warning.reason.as_deref()),
        (alice, Some("please speak from your own experience"))
    );
    assert_eq!(s.say(alice, "but you should"), Err(Rejection::Warned));
    assert_eq!(Rejection::Warned.code(), ErrorCode::Warned);
    assert!(s.say(bob, "I hear you").is_ok(), "only Alice is held back");
    // Coming back (a resume, another tab) brings the warning again.
    let again = s.reconnect(alice, "Alice").unwrap();
    assert_eq!(
        again.pending_warning.as_ref().map(|w| w.id),
        Some(warning.id)
    );
    // Acknowledging another id changes nothing; hers lifts the block.
    let ack = |s: &mut Scene, id| {
        s.apply(Command::AckWarning {
            user: alice,
            alert: Some(id),
        })
    };
    assert_eq!(ack(&mut s, warning.id + 100), Err(Rejection::Forbidden));
    let acked = ack(&mut s, warning.id).unwrap();
    assert_eq!(acked.acknowledged.map(|w| w.id), Some(warning.id));
    assert!(s.say(alice, "sorry, I meant for me it helped").is_ok());
    assert_eq!(ack(&mut s, warning.id), Err(Rejection::Forbidden));
}

#[test]
fn only_a_facilitator_warns_and_only_a_participant_is_warned() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let sam = s.facilitator("Sam");
    let alice = s.join("Alice");
    assert_eq!(
        s.moderate(fran, ModAction::Warn, Some(alice), None),
        Err(Rejection::BadRequest(
            "warn needs `reason`: a note says why"
        ))
    );
    let warn = |s: &mut Scene, actor, user| {
        s.apply(Command::Moderate {
            actor,
            request: ModRequest {
                user: Some(user),
                reason: Some("please be gentle with each other".into()),
                ..ModRequest::new(ModAction::Warn)
            },
        })
    };
    assert_eq!(warn(&mut s, fran, sam), Err(Rejection::Forbidden));
    assert_eq!(warn(&mut s, alice, fran), Err(Rejection::Forbidden));
    assert!(warn(&mut s, fran, alice).is_ok());
    // A warning ends with the member's stay and with the session.
    s.moderate(fran, ModAction::Close, None, None).unwrap();
    s.room.set_open(true, s.now);
    let session = s.room.session();
    s.apply(Command::Connect {
        first_time: false,
        user: alice,
        name: "Alice".into(),
        role: Role::Participant,
        session,
        origin: Origin::default(),
    })
    .unwrap();
    assert!(s.say(alice, "a new week").is_ok());
}

#[test]
fn a_schedule_is_configuration_that_the_log_and_the_catalog_carry() {
    use kindred_protocol::{Schedule, Weekday};
    let mut s = Scene::new(12);
    s.room.set_open(false, s.now);
    let tuesday = Schedule {
        weekday: Weekday::Tuesday,
        start: "19:00".into(),
        minutes: 90,
        timezone: "Europe/London".into(),
    };
    // The operator sets it through the same update a Redis replica folds from the log.
    let set = UpdateRoom {
        schedule: Some(Some(tuesday.clone())),
        ..UpdateRoom::default()
    };
    let logged: UpdateRoom = serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
    assert_eq!(logged, set);
    let applied = s.room.configure(logged, s.now);
    assert!(
        applied.events.is_empty(),
        "a schedule is not news for the timeline"
    );
    assert_eq!(s.room.config.schedule, Some(tuesday.clone()));
    assert!(!s.room.is_open(), "a schedule never opens the room");
    // A change of anything else leaves it alone.
    let retitle = UpdateRoom {
        title: Some("Tuesday circle".into()),
        ..UpdateRoom::default()
    };
    s.room.configure(retitle, s.now);
    assert_eq!(s.room.config.schedule, Some(tuesday));
    // The catalog keeps it with the rest of the settings.
    let record: Room = serde_json::from_str(&serde_json::to_string(&s.room).unwrap()).unwrap();
    assert_eq!(record.config, s.room.config);
    // `null` removes it, through the log too.
    let remove: UpdateRoom = serde_json::from_str(r#"{"schedule": null}"#).unwrap();
    let logged: UpdateRoom =
        serde_json::from_str(&serde_json::to_string(&remove).unwrap()).unwrap();
    assert_eq!(logged.schedule, Some(None));
    s.room.configure(logged, s.now);
    assert_eq!(s.room.config.schedule, None);
    // A room stored before schedules existed still loads, without one.
    let mut old = serde_json::to_value(&s.room.config).unwrap();
    old.as_object_mut().unwrap().remove("schedule");
    let old: RoomConfig = serde_json::from_value(old).unwrap();
    assert_eq!(old.schedule, None);
}

#[test]
fn a_waiting_participant_away_past_the_grace_period_leaves_the_list() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    s.room.config.waiting_room = true;
    let alice = s.join("Alice");
    assert!(s.room.is_waiting(alice) && s.room.member(alice).is_none());
    let dropped = s.apply(Command::Disconnect { user: alice }).unwrap();
    assert!(!dropped.waiting_list.expect("the list changed")[0].online);
    s.advance(29_000);
    assert!(!s.room.tick_due(s.now));
    s.advance(2_000);
    assert!(s.room.tick_due(s.now));
    let tick = s.apply(Command::Tick).unwrap();
    assert_eq!(tick.waiting_list, Some(vec![]));
    assert!(tick.events.is_empty(), "the room never knew she was there");
    assert!(!s.room.is_waiting(alice));
    // Admitting her now finds nobody.
    let err = s.moderate(fran, ModAction::Admit, Some(alice), None);
    assert_eq!(err, Err(Rejection::NotFound));
}

#[test]
fn the_operator_turning_the_waiting_room_off_lets_everyone_in() {
    let mut s = Scene::new(12);
    s.room.config.waiting_room = true;
    let (alice, bob) = (s.join("Alice"), s.join("Bob"));
    let update = UpdateRoom {
        waiting_room: Some(false),
        ..UpdateRoom::default()
    };
    let applied = s.room.configure(update, s.now);
    let joined: Vec<UserId> = applied
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Joined { user, .. } => Some(*user),
            _ => None,
        })
        .collect();
    assert_eq!(joined, [alice, bob], "in the order they arrived");
    assert!(matches!(
        applied.events[0].kind,
        EventKind::WaitingRoom { on: false }
    ));
    assert!(s.room.member(alice).is_some() && !s.room.state().waiting_room);
}

#[test]
fn a_closed_session_forgets_who_waited_what_was_logged_and_kept_whispers() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.moderate(fran, ModAction::Lock, None, None).unwrap();
    s.moderate(fran, ModAction::Unlock, None, None).unwrap();
    s.room.config.waiting_room = true;
    let bob = s.join("Bob");
    assert!(s.room.is_waiting(bob));
    // Fran steps away: Alice's whisper is kept for whoever comes.
    s.apply(Command::Leave { user: fran }).unwrap();
    let whisper = s
        .apply(Command::Whisper {
            user: alice,
            to: None,
            text: "are you coming back?".into(),
            crisis: None,
        })
        .unwrap();
    assert!(whisper.whisper.expect("kept for the session").kept);
    assert_eq!(s.room.mod_log().len(), 2);
    s.room.close_session(None, s.now);
    assert!(!s.room.is_waiting(bob));
    assert!(s.room.mod_log().is_empty());
    s.room.set_open(true, s.now);
    let gus = UserId::new();
    s.seat(gus);
    let session = s.room.session();
    let arrived = s
        .apply(Command::Connect {
            first_time: false,
            user: gus,
            name: "Gus".into(),
            role: Role::Facilitator,
            session,
            origin: Origin::default(),
        })
        .unwrap();
    let briefing = arrived.briefing.expect("a facilitator is briefed");
    assert!(arrived.whispers.is_empty() && briefing.log.is_empty());
}

#[test]
fn a_facilitator_handling_an_alert_is_logged_as_a_resolve() {
    let mut s = Scene::new(12);
    let (fran, alice) = (s.facilitator("Fran"), s.join("Alice"));
    let seq = s.say(alice, "hello").unwrap();
    let report = s.report(fran, seq).unwrap().alert.expect("a report");
    let handled = s.ack_warning(fran, Some(report.id)).unwrap();
    let entry = &handled.logged[0];
    assert_eq!(entry.action, ModAction::Resolve);
    assert_eq!((entry.alert, entry.by), (Some(report.id), fran));
    assert_eq!(entry.by_name, "Fran");
    // Handled once: a second facilitator's click finds it gone.
    assert_eq!(
        s.ack_warning(fran, Some(report.id)),
        Err(Rejection::NotFound)
    );
}

/// Who a command sent away, in order, with why.
fn departures(applied: &Applied) -> Vec<(UserId, Parting)> {
    applied.departures.iter().map(|d| (d.user, d.why)).collect()
}

#[test]
fn every_way_a_stay_ends_is_a_departure() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let (alice, bob, cat, dan) = (s.join("Alice"), s.join("Bob"), s.join("Cat"), s.join("Dan"));
    let left = s.apply(Command::Leave { user: alice }).unwrap();
    assert_eq!(departures(&left), [(alice, Parting::Left)]);
    let removed = s
        .apply(Command::Moderate {
            actor: fac,
            request: ModRequest {
                user: Some(bob),
                ..ModRequest::new(ModAction::Remove)
            },
        })
        .unwrap();
    assert_eq!(departures(&removed), [(bob, Parting::Removed)]);
    let banned = s
        .apply(Command::Moderate {
            actor: fac,
            request: ModRequest {
                user: Some(cat),
                ..ModRequest::new(ModAction::Ban)
            },
        })
        .unwrap();
    assert_eq!(departures(&banned), [(cat, Parting::Banned)]);
    // Dan's only connection drops; the away limit runs out.
    s.apply(Command::Disconnect { user: dan }).unwrap();
    s.advance(Limits::default().away_limit_ms);
    let gone = s.apply(Command::Tick).unwrap();
    assert_eq!(departures(&gone), [(dan, Parting::Disconnected)]);
    // A facilitator who left the room still has tabs to close when the operator
    // ends their seat: not a member, still a departure.
    s.apply(Command::Leave { user: fac }).unwrap();
    let dismissed = s.apply(Command::Dismiss { user: fac }).unwrap();
    assert!(dismissed.events.is_empty(), "nobody saw Fran leave twice");
    assert_eq!(departures(&dismissed), [(fac, Parting::Dismissed)]);
    // The organiser's removal of a member in the room says it was theirs.
    let eve = s.join("Eve");
    let dismissed = s.apply(Command::Dismiss { user: eve }).unwrap();
    assert_eq!(departures(&dismissed), [(eve, Parting::Dismissed)]);
}

#[test]
fn someone_turned_away_and_banned_cannot_knock_again_from_that_device() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    s.room.config.waiting_room = true;
    let device = Origin {
        device: Some(crate::room::Mark("device-mark".into())),
        address: None,
    };
    let rue = UserId::new();
    let session = s.room.session();
    let knock = s
        .apply(Command::Connect {
            first_time: false,
            user: rue,
            name: "Rue".into(),
            role: Role::Participant,
            session,
            origin: device.clone(),
        })
        .unwrap();
    assert!(knock.waiting);
    let denied = s
        .apply(Command::Moderate {
            actor: fac,
            request: ModRequest {
                user: Some(rue),
                ban: true,
                ..ModRequest::new(ModAction::Deny)
            },
        })
        .unwrap();
    assert_eq!(departures(&denied), [(rue, Parting::Denied)]);
    assert_eq!(
        denied.logged[0].action,
        ModAction::Ban,
        "the log says a ban"
    );
    assert_eq!(
        s.room.admits(Role::Participant, "Someone new", &device),
        Err(Rejection::Banned)
    );
}

#[test]
fn the_door_answers_without_telling_who_is_inside() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    s.join("Robin");
    let nobody = Origin::default();
    s.moderate(fac, ModAction::Lock, None, None).unwrap();
    for name in ["ROBIN", "Zed"] {
        assert_eq!(
            s.room.admits(Role::Participant, name, &nobody),
            Err(Rejection::Locked),
            "{name}"
        );
    }
    s.moderate(fac, ModAction::Unlock, None, None).unwrap();
    assert_eq!(
        s.room.admits(Role::Participant, "ROBIN", &nobody),
        Err(Rejection::NameInUse)
    );
    // With a waiting room, the name is compared when a facilitator admits them.
    s.room.config.waiting_room = true;
    assert_eq!(s.room.admits(Role::Participant, "ROBIN", &nobody), Ok(()));
    let other = UserId::new();
    let session = s.room.session();
    s.apply(Command::Connect {
        first_time: false,
        user: other,
        name: "ROBIN".into(),
        role: Role::Participant,
        session,
        origin: nobody,
    })
    .unwrap();
    assert_eq!(
        s.moderate(fac, ModAction::Admit, Some(other), None),
        Err(Rejection::NameClash)
    );
    // Admit all leaves them waiting, and lets nobody in twice under one look.
    s.moderate(fac, ModAction::AdmitAll, None, None).unwrap();
    assert!(s.room.is_waiting(other));
}

#[test]
fn a_command_its_sender_may_not_give_is_refused_before_anything_changes() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    let before = s.room.clone();
    let announce = Command::Moderate {
        actor: alice,
        request: ModRequest {
            text: Some("hello".into()),
            ..ModRequest::new(ModAction::Announce)
        },
    };
    assert_eq!(s.room.permit(&announce), Err(Rejection::Forbidden));
    assert_eq!(s.apply(announce), Err(Rejection::Forbidden));
    let stranger = Command::Hand {
        user: UserId::new(),
        raised: true,
    };
    assert_eq!(s.room.permit(&stranger), Err(Rejection::NotMember));
    assert_eq!(s.room, before);
}

#[test]
fn a_members_crisis_words_again_update_their_one_open_alert() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let (alice, bob) = (s.join("Alice"), s.join("Bob"));
    let crisis = |user, text: &str, client_id: &str| Command::Send {
        user,
        client_id: client_id.into(),
        text: text.into(),
        cw: None,
        crisis: Some(Concern::rule(CrisisCategory::SuicidalIdeation)),
        guard: Default::default(),
        screened: None,
    };
    let first = s.apply(crisis(alice, "i want to die", "a1")).unwrap();
    let first = first.alert.expect("an alert");
    s.moderate(fac, ModAction::Mute, Some(bob), None).unwrap();
    let start = s.now;
    let mut last = None;
    for i in 0..300 {
        s.advance(1_000);
        let refused = s.apply(crisis(bob, &format!("end it {i}"), &format!("b{i}")));
        last = refused.unwrap().alert;
    }
    let last = last.expect("Bob's alert");
    assert_eq!(last.count, 300);
    assert_eq!(last.since, start + 1_000);
    assert_eq!(last.ts, s.now);
    assert!(matches!(&last.about, About::Crisis { text: Some(t), .. } if t == "end it 299"));
    let kept: Vec<u64> = s.room.kept().iter().map(Kept::id).collect();
    assert_eq!(
        kept,
        [first.id, last.id],
        "Alice's alert was not pushed out"
    );
    // Once a facilitator has handled it, new crisis words are a new alert.
    s.apply(Command::AckWarning {
        user: fac,
        alert: Some(last.id),
    })
    .unwrap();
    s.moderate(fac, ModAction::Unmute, Some(bob), None).unwrap();
    let again = s
        .apply(crisis(bob, "still here, still not ok", "b-after"))
        .unwrap();
    let again = again.alert.expect("a new alert");
    assert_ne!(again.id, last.id);
    assert_eq!(again.count, 1);
}

#[test]
fn invites_minted_in_the_same_millisecond_are_listed_in_the_order_they_were_minted() {
    let mut s = Scene::new(12);
    let mut minted = Vec::new();
    for uses in [1, 2, 3, 4, 5] {
        let record = invite(&s, uses, MIN);
        minted.push(record.id);
        s.apply(Command::Invite { invite: record }).unwrap();
    }
    let listed: Vec<_> = s.room.invites().iter().map(|r| r.id).collect();
    assert_eq!(listed, minted);
}

mod away;
mod checkin;
mod concern;
mod content_warning;
mod guard;
mod oncall;
mod share_the_air;
mod shield;
mod step_out;
mod structure;
mod waiting_word;
