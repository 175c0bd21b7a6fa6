//! The shield: one switch turns on the waiting room, slow mode and a hold on each
//! participant's first message; lowering it puts back exactly what was set before.

use super::*;

fn shield(s: &mut Scene, fac: UserId, on: bool) -> Vec<EventKind> {
    let applied = s
        .apply(Command::Moderate {
            actor: fac,
            request: ModRequest {
                on: Some(on),
                ..ModRequest::new(ModAction::Shield)
            },
        })
        .expect("a facilitator may raise and lower the shield");
    applied.events.into_iter().map(|e| e.kind).collect()
}

fn send(s: &mut Scene, user: UserId, text: &str) -> Applied {
    s.apply(Command::Send {
        user,
        client_id: format!("{text}@{}", s.now),
        text: text.into(),
        cw: None,
        crisis: None,
        guard: Default::default(),
        screened: None,
    })
    .expect("taken")
}

#[test]
fn the_shield_tightens_the_room_in_one_event_and_lowering_it_restores_what_was_set() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.say(alice, "hello all").unwrap();
    s.moderate(fran, ModAction::SlowMode, None, Some(10))
        .unwrap();

    let raised = shield(&mut s, fran, true);
    assert_eq!(
        raised,
        [EventKind::Shield {
            on: true,
            waiting_room: true,
            seconds: 30
        }],
        "one event for the room"
    );
    let state = s.room.state();
    assert!(state.shield && state.waiting_room);
    assert_eq!(state.slow_mode_seconds, 30);
    assert!(
        shield(&mut s, fran, true).is_empty(),
        "raised twice: nothing new"
    );

    // A newcomer waits; admitted, their first message waits for a facilitator.
    let bob = s.join("Bob");
    assert!(s.room.is_waiting(bob));
    s.moderate(fran, ModAction::Admit, Some(bob), None).unwrap();
    let first = send(&mut s, bob, "hi, I'm new");
    assert!(first.ack.is_none() && first.events.is_empty(), "not shown");
    let held = first.held.expect("held for a facilitator");
    assert_eq!(s.room.held().count(), 1);
    // Alice has spoken this session: her words go out, slowed to the shield's pace.
    s.advance(30_000);
    assert!(send(&mut s, alice, "welcome Bob").ack.is_some());
    s.advance(10_000);
    assert_eq!(
        s.say(alice, "again"),
        Err(Rejection::SlowMode {
            retry_after_ms: 20_000
        })
    );
    // Released, Bob's message reaches the room; his next one is not held.
    s.apply(Command::Moderate {
        actor: fran,
        request: ModRequest {
            held: Some(held.id),
            ..ModRequest::new(ModAction::Release)
        },
    })
    .unwrap();
    s.advance(30_000);
    assert!(send(&mut s, bob, "thanks").ack.is_some());

    // Carol arrives while it is up, and is let in when it comes down.
    let carol = s.join("Carol");
    assert!(s.room.is_waiting(carol));
    let lowered = shield(&mut s, fran, false);
    assert_eq!(
        lowered[0],
        EventKind::Shield {
            on: false,
            waiting_room: false,
            seconds: 10
        }
    );
    assert!(
        lowered
            .iter()
            .any(|e| matches!(e, EventKind::Joined { user, .. } if *user == carol)),
        "{lowered:?}"
    );
    let state = s.room.state();
    assert!(!state.shield && !state.waiting_room);
    assert_eq!(
        state.slow_mode_seconds, 10,
        "the room's own slow mode again"
    );
    assert!(
        send(&mut s, carol, "hello").ack.is_some(),
        "no hold once down"
    );
    assert!(
        shield(&mut s, fran, false).is_empty(),
        "lowered twice: nothing new"
    );
}

#[test]
fn the_shield_keeps_a_longer_slow_mode_and_an_open_waiting_room_and_never_holds_crisis_words() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    s.room.config.waiting_room = true;
    s.moderate(fran, ModAction::SlowMode, None, Some(120))
        .unwrap();
    assert_eq!(
        shield(&mut s, fran, true),
        [EventKind::Shield {
            on: true,
            waiting_room: true,
            seconds: 120
        }]
    );
    let dana = s.join("Dana");
    s.moderate(fran, ModAction::Admit, Some(dana), None)
        .unwrap();
    // Crisis words are never held: they reach the room and bring help at once.
    let crisis = s
        .apply(Command::Send {
            user: dana,
            client_id: "c1".into(),
            text: "I want to end it all".into(),
            cw: None,
            crisis: Some(Concern::rule(CrisisCategory::SuicidalIdeation)),
            guard: Default::default(),
            screened: None,
        })
        .unwrap();
    assert!(crisis.ack.is_some() && crisis.held.is_none());
    let eve = s.join("Eve");
    let lowered = shield(&mut s, fran, false);
    assert_eq!(
        lowered,
        [EventKind::Shield {
            on: false,
            waiting_room: true,
            seconds: 120
        }],
        "the waiting room was on before: Eve still waits"
    );
    assert!(s.room.is_waiting(eve));
    // A participant cannot raise it.
    let refused = s.apply(Command::Moderate {
        actor: dana,
        request: ModRequest {
            on: Some(true),
            ..ModRequest::new(ModAction::Shield)
        },
    });
    assert!(refused.is_err());
    // Without `on`: a clear refusal.
    let refused = s.apply(Command::Moderate {
        actor: fran,
        request: ModRequest::new(ModAction::Shield),
    });
    assert_eq!(
        refused.err(),
        Some(Rejection::BadRequest("shield needs `on`"))
    );
}

#[test]
fn a_session_that_ends_under_the_shield_puts_the_waiting_room_back_for_the_next() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    shield(&mut s, fran, true);
    s.moderate(fran, ModAction::Close, None, None).unwrap();
    assert!(!s.room.state().waiting_room && !s.room.state().shield);
}
