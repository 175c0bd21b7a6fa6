//! The structured group on a fake clock: the script that ships, a go-around with a
//! pass, a member who drops and returns and one admitted during it, the sharing
//! queue with a move-up, a phase whose planned time runs out, and a member who
//! steps away ("I need a minute") and is passed over, their place kept.

use kindred_protocol::{Phase, PhaseKind, TurnDone};

use super::*;

impl Scene {
    /// A facilitator's script action; the events it caused.
    fn steer(&mut self, actor: UserId, request: ModRequest) -> Result<Vec<EventKind>, Rejection> {
        let applied = self.apply(Command::Moderate { actor, request })?;
        Ok(applied.events.into_iter().map(|e| e.kind).collect())
    }

    fn move_to_phase(&mut self, actor: UserId, index: u32) -> Result<Vec<EventKind>, Rejection> {
        self.steer(
            actor,
            ModRequest {
                index: Some(index),
                ..ModRequest::new(ModAction::Phase)
            },
        )
    }

    fn next_turn(&mut self, actor: UserId) -> Result<Vec<EventKind>, Rejection> {
        self.steer(actor, ModRequest::new(ModAction::NextTurn))
    }

    fn events(&mut self, cmd: Command) -> Result<Vec<EventKind>, Rejection> {
        Ok(self
            .apply(cmd)?
            .events
            .into_iter()
            .map(|e| e.kind)
            .collect())
    }

    fn holder(&self) -> Option<UserId> {
        self.room.state().floor
    }

    fn turns(&self) -> Vec<(String, Option<TurnDone>)> {
        let view = self.room.script_view();
        view.round
            .expect("a round is on")
            .turns
            .into_iter()
            .map(|t| (t.name, t.done))
            .collect()
    }

    fn queue_names(&self) -> Vec<String> {
        self.room
            .script_view()
            .queue
            .into_iter()
            .map(|q| q.name)
            .collect()
    }
}

fn floor_to(events: &[EventKind]) -> Option<Option<UserId>> {
    events.iter().rev().find_map(|e| match e {
        EventKind::Floor { user, .. } => Some(*user),
        _ => None,
    })
}

#[test]
fn the_default_script_walks_from_welcome_to_closing_reading() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let view = s.room.script_view();
    let names: Vec<(&str, PhaseKind)> = view
        .phases
        .iter()
        .map(|p| (p.name.as_str(), p.kind))
        .collect();
    assert_eq!(
        names,
        [
            ("Welcome and guidelines", PhaseKind::Open),
            ("Check-in", PhaseKind::Round),
            ("Open sharing", PhaseKind::Queue),
            ("Check-out", PhaseKind::Round),
            ("Closing", PhaseKind::Open),
        ]
    );
    assert!(
        view.phases[1]
            .prompt
            .contains("How are you arriving tonight?")
    );
    assert!(view.phases[3].prompt.contains("One word for how you leave"));
    assert_eq!(
        view.current, None,
        "nothing is current until the facilitator starts"
    );

    // The opening is posted with one tap: the room's announcement.
    let first = s
        .steer(fran, ModRequest::new(ModAction::NextPhase))
        .unwrap();
    let EventKind::Phase(p) = &first[0] else {
        panic!("a phase event first: {first:?}");
    };
    assert_eq!((p.index, p.name.as_str()), (0, "Welcome and guidelines"));
    assert_eq!(p.until, Some(s.now + 5 * MIN));
    let read = s
        .steer(fran, ModRequest::new(ModAction::PostReading))
        .unwrap();
    assert!(
        matches!(&read[..], [EventKind::Announcement { text }] if text.contains("listening is participating")),
        "{read:?}"
    );
    for index in 1..5 {
        let events = s
            .steer(fran, ModRequest::new(ModAction::NextPhase))
            .unwrap();
        assert!(
            matches!(&events[0], EventKind::Phase(p) if p.index == index),
            "phase {index}: {events:?}"
        );
    }
    assert_eq!(
        s.steer(fran, ModRequest::new(ModAction::NextPhase)),
        Err(Rejection::BadRequest("this is the script's last phase"))
    );
    let closing = s
        .steer(fran, ModRequest::new(ModAction::PostReading))
        .unwrap();
    assert!(
        matches!(&closing[..], [EventKind::Announcement { text }] if text.contains("Thank you"))
    );
    // A late joiner's welcome shows where the group is.
    let state = s
        .room
        .state()
        .script
        .expect("the welcome carries the script");
    assert_eq!(state.current.map(|c| c.name), Some("Closing".to_owned()));

    // The session ends; the script stays for the next one, no phase is current.
    s.moderate(fran, ModAction::Close, None, None).unwrap();
    let after = s.room.script_view();
    assert_eq!((after.phases.len(), after.current), (5, None));
}

#[test]
fn a_round_passes_the_floor_with_a_pass_a_dropped_member_and_a_late_arrival() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let [ana, ben, cal, dee, eve] = ["Ana", "Ben", "Cal", "Dee", "Eve"].map(|n| s.join(n));

    // Check-in: the floor goes to the first to arrive, for the phase's turn.
    let start = s.move_to_phase(fran, 1).unwrap();
    assert_eq!(floor_to(&start), Some(Some(ana)));
    assert_eq!(s.room.state().floor_until, Some(s.now + 120_000));
    assert_eq!(s.say(ben, "me first"), Err(Rejection::NotYourTurn));
    s.say(ana, "tired but here").unwrap();
    assert_eq!(
        s.events(Command::Pass { user: ben }),
        Err(Rejection::NotYourTurn),
        "only the member whose turn it is can pass it"
    );

    // Ana's time runs out: the turn passes on by itself.
    s.advance(120_000);
    assert!(s.room.tick_due(s.now));
    let tick = s.tick();
    assert_eq!(floor_to(&tick), Some(Some(ben)));
    assert!(
        !tick.contains(&EventKind::Floor {
            user: None,
            until: None
        }),
        "the floor moves straight from one member to the next"
    );

    // Cal's connection drops; Ben passes: Cal keeps his place and is skipped.
    s.apply(Command::Disconnect { user: cal }).unwrap();
    let passed = s.events(Command::Pass { user: ben }).unwrap();
    assert_eq!(floor_to(&passed), Some(Some(dee)));
    // Someone admitted during the round joins its end.
    let fay = s.join("Fay");
    assert_eq!(
        s.turns().last(),
        Some(&("Fay".to_owned(), None)),
        "a late arrival is added at the end"
    );
    // Cal is back: his turn comes next, before those after him in the order.
    s.reconnect(cal, "Cal").unwrap();
    assert_eq!(floor_to(&s.next_turn(fran).unwrap()), Some(Some(cal)));
    assert_eq!(floor_to(&s.next_turn(fran).unwrap()), Some(Some(eve)));
    assert_eq!(floor_to(&s.next_turn(fran).unwrap()), Some(Some(fay)));
    let last = s.next_turn(fran).unwrap();
    assert_eq!(
        floor_to(&last),
        Some(None),
        "the floor opens when everyone has had a turn"
    );
    assert!(matches!(last.last(), Some(EventKind::Round(r)) if r.ended));
    use TurnDone::{Passed, Shared};
    assert_eq!(
        s.turns(),
        [
            ("Ana".to_owned(), Some(Shared)),
            ("Ben".to_owned(), Some(Passed)),
            ("Cal".to_owned(), Some(Shared)),
            ("Dee".to_owned(), Some(Shared)),
            ("Eve".to_owned(), Some(Shared)),
            ("Fay".to_owned(), Some(Shared)),
        ]
    );
    assert_eq!(s.holder(), None);
    assert_eq!(
        s.next_turn(fran),
        Err(Rejection::BadRequest("everyone has had their turn"))
    );
    s.say(ana, "thank you all").unwrap();
    assert_eq!(
        s.next_turn(dee),
        Err(Rejection::Forbidden),
        "only facilitators move it on"
    );
}

#[test]
fn a_facilitator_moves_someone_up_in_a_round() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let [_ana, _ben, cal] = ["Ana", "Ben", "Cal"].map(|n| s.join(n));
    s.move_to_phase(fran, 1).unwrap();
    let moved = s
        .steer(
            fran,
            ModRequest {
                user: Some(cal),
                ..ModRequest::new(ModAction::MoveUp)
            },
        )
        .unwrap();
    assert!(matches!(&moved[..], [EventKind::Round(_)]));
    let names: Vec<String> = s.turns().into_iter().map(|t| t.0).collect();
    assert_eq!(
        names,
        ["Ana", "Cal", "Ben"],
        "Cal goes next, after Ana's turn"
    );
    assert_eq!(floor_to(&s.next_turn(fran).unwrap()), Some(Some(cal)));
}

#[test]
fn the_sharing_queue_takes_raised_hands_and_a_move_up() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let [ana, ben, cal] = ["Ana", "Ben", "Cal"].map(|n| s.join(n));
    assert_eq!(
        s.events(Command::Queue {
            user: ben,
            on: true
        }),
        Err(Rejection::NoQueue),
        "outside a queue phase a member raises a hand"
    );
    s.events(Command::Hand {
        user: ana,
        raised: true,
    })
    .unwrap();

    // Open sharing: the raised hand becomes the queue.
    let opened = s.move_to_phase(fran, 2).unwrap();
    assert!(matches!(opened.last(), Some(EventKind::Queue { members }) if members.len() == 1));
    let asked = s
        .events(Command::Queue {
            user: ben,
            on: true,
        })
        .unwrap();
    assert!(
        asked.contains(&EventKind::Hand {
            user: ben,
            raised: true
        }),
        "an older client sees a raised hand"
    );
    s.events(Command::Hand {
        user: cal,
        raised: true,
    })
    .unwrap();
    assert_eq!(s.queue_names(), ["Ana", "Ben", "Cal"]);

    // Cal has not spoken yet: the facilitator moves him up.
    s.steer(
        fran,
        ModRequest {
            user: Some(cal),
            ..ModRequest::new(ModAction::MoveUp)
        },
    )
    .unwrap();
    assert_eq!(s.queue_names(), ["Cal", "Ana", "Ben"]);
    let given = s.next_turn(fran).unwrap();
    assert_eq!(floor_to(&given), Some(Some(cal)));
    assert_eq!(s.queue_names(), ["Ana", "Ben"]);
    assert_eq!(s.say(ana, "can I?"), Err(Rejection::NotYourTurn));
    s.say(cal, "my week").unwrap();
    // Cal is done early: the floor opens.
    assert_eq!(
        floor_to(&s.events(Command::Pass { user: cal }).unwrap()),
        Some(None)
    );
    // Ana changes her mind and leaves the queue.
    s.events(Command::Queue {
        user: ana,
        on: false,
    })
    .unwrap();
    assert_eq!(s.queue_names(), ["Ben"]);
    assert_eq!(floor_to(&s.next_turn(fran).unwrap()), Some(Some(ben)));
    assert_eq!(s.next_turn(fran), Err(Rejection::QueueEmpty));
}

#[test]
fn a_phase_whose_time_is_up_says_so_and_changes_nothing_else() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let ana = s.join("Ana");
    s.move_to_phase(fran, 0).unwrap();
    s.advance(5 * MIN - 1);
    assert!(!s.room.tick_due(s.now), "not before its time");
    s.advance(1);
    assert!(s.room.tick_due(s.now));
    let told = s.tick();
    assert!(
        matches!(&told[..], [EventKind::Phase(p)] if p.time_up && p.index == 0),
        "{told:?}"
    );
    assert!(!s.room.tick_due(s.now), "told once");
    assert_eq!(s.room.script_view().current.map(|c| c.index), Some(0));
    s.say(ana, "still talking").unwrap();
}

#[test]
fn a_script_is_checked_before_it_replaces_the_room_s() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let ana = s.join("Ana");
    let phase = |name: &str, minutes| Phase {
        name: name.into(),
        prompt: String::new(),
        minutes,
        kind: PhaseKind::Open,
        reading: None,
        turn_seconds: None,
    };
    let set = |phases: Vec<Phase>| ModRequest {
        script: Some(phases),
        ..ModRequest::new(ModAction::SetScript)
    };
    assert_eq!(
        s.steer(fran, set(Vec::new())),
        Err(Rejection::BadScript("a script needs at least one phase"))
    );
    assert_eq!(
        s.steer(fran, set(vec![phase("x", None); 25])),
        Err(Rejection::BadScript("a script has at most 24 phases"))
    );
    assert_eq!(
        s.steer(fran, set(vec![phase("long", Some(241))])),
        Err(Rejection::BadScript("a phase's minutes are from 1 to 240"))
    );
    assert_eq!(
        s.steer(fran, set(vec![phase(" ", None)])),
        Err(Rejection::BadScript("every phase needs a name"))
    );
    let long = Phase {
        reading: Some("a".repeat(4_000)),
        ..phase("Reading", None)
    };
    assert_eq!(
        s.steer(fran, set(vec![long; 4])),
        Err(Rejection::BadScript(
            "a script's names, prompts and readings hold at most 12000 characters together"
        ))
    );
    assert_eq!(
        s.steer(ana, set(vec![phase("mine", None)])),
        Err(Rejection::Forbidden)
    );
    assert_eq!(s.move_to_phase(fran, 9), Err(Rejection::NoSuchPhase));

    s.move_to_phase(fran, 1).unwrap();
    let replaced = s
        .steer(fran, set(vec![phase("Just talk", Some(60))]))
        .unwrap();
    assert!(
        matches!(replaced.last(), Some(EventKind::Script { phases }) if phases.len() == 1),
        "{replaced:?}"
    );
    assert_eq!(
        floor_to(&replaced),
        Some(None),
        "the round's turn ends with it"
    );
    let view = s.room.script_view();
    assert_eq!((view.current, view.round), (None, None));
    // The script outlives the session.
    s.moderate(fran, ModAction::Close, None, None).unwrap();
    assert_eq!(s.room.reopened().script_view().phases[0].name, "Just talk");
}

#[test]
fn a_member_shown_away_passes_their_turn_and_keeps_their_place_in_the_queue() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let [ana, ben, cal] = ["Ana", "Ben", "Cal"].map(|n| s.join(n));
    let grace = s.room.limits().presence_grace_ms;
    let away_limit = s.room.limits().away_limit_ms;

    // Check-in: Ana's connection drops during her turn. Within the grace period the
    // turn waits for her; once the room shows her away, it passes to Ben.
    s.move_to_phase(fran, 1).unwrap();
    assert_eq!(s.holder(), Some(ana));
    s.apply(Command::Disconnect { user: ana }).unwrap();
    s.advance(grace - 1);
    s.tick();
    assert_eq!(
        s.holder(),
        Some(ana),
        "a dropped connection is not yet away"
    );
    s.advance(1);
    let shown = s.tick();
    assert!(shown.contains(&EventKind::Away { user: ana }), "{shown:?}");
    assert_eq!(floor_to(&shown), Some(Some(ben)));

    // Open sharing: Ana is still away; she keeps her place in the queue, and the
    // floor goes to the first in it who is here.
    s.reconnect(ana, "Ana").unwrap();
    s.move_to_phase(fran, 2).unwrap();
    for user in [ana, ben, cal] {
        s.events(Command::Queue { user, on: true }).unwrap();
    }
    s.apply(Command::Disconnect { user: ana }).unwrap();
    s.advance(grace);
    s.tick();
    assert_eq!(
        s.queue_names(),
        ["Ana", "Ben", "Cal"],
        "away keeps the place"
    );
    assert_eq!(floor_to(&s.next_turn(fran).unwrap()), Some(Some(ben)));
    assert_eq!(s.queue_names(), ["Ana", "Cal"]);
    // At the away limit she is gone, and so is her place.
    s.advance(away_limit);
    s.tick();
    assert_eq!(s.queue_names(), ["Cal"]);
}

fn stepping_away(s: &Scene, user: UserId) -> bool {
    s.room
        .member_infos()
        .iter()
        .find(|m| m.user == user)
        .expect("still listed")
        .stepping_away
}

#[test]
fn a_round_passes_over_a_member_who_steps_away_and_gives_them_their_turn_once_back() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let [ana, ben, cal, dee] = ["Ana", "Ben", "Cal", "Dee"].map(|n| s.join(n));

    // Check-in: Ana has the first turn; Ben needs a minute before his.
    s.move_to_phase(fran, 1).unwrap();
    assert_eq!(s.holder(), Some(ana));
    assert_eq!(
        s.events(Command::StepAway {
            user: ben,
            on: true
        })
        .unwrap(),
        [EventKind::SteppingAway {
            user: ben,
            on: true
        }],
        "the room sees it, and nothing else moves"
    );
    assert!(stepping_away(&s, ben), "the member list says so");
    assert!(!stepping_away(&s, ana));
    assert_eq!(
        s.events(Command::StepAway {
            user: ben,
            on: true
        })
        .unwrap(),
        [],
        "saying it again is not news"
    );

    // Ana passes: Ben is passed over, and the floor goes to Cal.
    let passed = s.events(Command::Pass { user: ana }).unwrap();
    assert_eq!(floor_to(&passed), Some(Some(cal)));
    assert_eq!(
        s.turns(),
        [
            ("Ana".to_owned(), Some(TurnDone::Passed)),
            ("Ben".to_owned(), None),
            ("Cal".to_owned(), None),
            ("Dee".to_owned(), None),
        ],
        "Ben keeps his place"
    );

    // Ben is back: Cal's turn goes on, and when it ends Ben is next, before Dee.
    assert_eq!(
        s.events(Command::StepAway {
            user: ben,
            on: false
        })
        .unwrap(),
        [EventKind::SteppingAway {
            user: ben,
            on: false
        }]
    );
    assert!(!stepping_away(&s, ben));
    assert_eq!(s.holder(), Some(cal));
    assert_eq!(floor_to(&s.next_turn(fran).unwrap()), Some(Some(ben)));
    assert_eq!(floor_to(&s.next_turn(fran).unwrap()), Some(Some(dee)));
    let end = s.next_turn(fran).unwrap();
    assert_eq!(floor_to(&end), Some(None));
    assert!(s.room.script_view().round.unwrap().ended);
}

#[test]
fn stepping_away_during_ones_turn_puts_it_off_and_the_queue_passes_over_them() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let [ana, ben, cal] = ["Ana", "Ben", "Cal"].map(|n| s.join(n));

    // Check-in: Ana steps away during her own turn. It passes to Ben without
    // counting as hers, and she is next once she is back.
    s.move_to_phase(fran, 1).unwrap();
    let stepped = s
        .events(Command::StepAway {
            user: ana,
            on: true,
        })
        .unwrap();
    assert_eq!(
        stepped.first(),
        Some(&EventKind::SteppingAway {
            user: ana,
            on: true
        })
    );
    assert_eq!(floor_to(&stepped), Some(Some(ben)));
    assert_eq!(
        s.turns()[0],
        ("Ana".to_owned(), None),
        "not counted as hers"
    );
    s.events(Command::StepAway {
        user: ana,
        on: false,
    })
    .unwrap();
    assert_eq!(floor_to(&s.next_turn(fran).unwrap()), Some(Some(ana)));

    // Open sharing: all three ask; Ben steps away and keeps his place in the queue,
    // passed over while away.
    s.move_to_phase(fran, 2).unwrap();
    for user in [ben, cal, ana] {
        s.events(Command::Queue { user, on: true }).unwrap();
    }
    s.events(Command::StepAway {
        user: ben,
        on: true,
    })
    .unwrap();
    assert_eq!(floor_to(&s.next_turn(fran).unwrap()), Some(Some(cal)));
    assert_eq!(s.queue_names(), ["Ben", "Ana"], "his place is kept");
}

#[test]
fn posting_a_message_is_being_back_from_stepping_away() {
    let mut s = Scene::facilitated(12);
    s.facilitator("Fran");
    let ana = s.join("Ana");
    s.events(Command::StepAway {
        user: ana,
        on: true,
    })
    .unwrap();
    let posted = s
        .events(Command::Send {
            user: ana,
            client_id: "back-1".into(),
            text: "okay, I'm here again".into(),
            cw: None,
            crisis: None,
            screened: None,
            guard: Default::default(),
        })
        .unwrap();
    assert!(
        matches!(
            &posted[..],
            [
                EventKind::SteppingAway { user, on: false },
                EventKind::Message { .. }
            ] if *user == ana
        ),
        "the room sees her back, then her message: {posted:?}"
    );
    assert!(!stepping_away(&s, ana));
    // Her next message is only a message.
    let again = s
        .events(Command::Send {
            user: ana,
            client_id: "back-2".into(),
            text: "thanks for waiting".into(),
            cw: None,
            crisis: None,
            screened: None,
            guard: Default::default(),
        })
        .unwrap();
    assert!(
        matches!(&again[..], [EventKind::Message { .. }]),
        "{again:?}"
    );
}
