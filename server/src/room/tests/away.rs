//! Away is not gone: a member whose connection dropped is shown away after the grace
//! period, keeps their seat and place until the away limit, and comes back to the
//! same seat; a facilitator away no longer keeps the room.

use super::*;

fn grace() -> Millis {
    Limits::default().presence_grace_ms
}

fn away_limit() -> Millis {
    Limits::default().away_limit_ms
}

fn shown_away(s: &Scene, user: UserId) -> bool {
    s.room
        .member_infos()
        .iter()
        .find(|m| m.user == user)
        .expect("still listed")
        .away
}

/// A facilitator who is already a member connects again.
fn facilitator_back(s: &mut Scene, user: UserId, name: &str) -> Applied {
    let session = s.room.session();
    s.apply(Command::Connect {
        first_time: false,
        user,
        name: name.into(),
        role: Role::Facilitator,
        session,
        origin: Origin::default(),
    })
    .expect("back in their seat")
}

#[test]
fn a_member_away_past_the_grace_period_keeps_their_seat_and_comes_back_to_it() {
    let mut s = Scene::new(12);
    let bob = s.join("Bob");
    let alice = s.join("Alice");
    let her_joined = s.room.member(alice).unwrap().joined_seq;
    // Alice's bus goes into a tunnel.
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(grace() - 1);
    assert!(
        s.tick().is_empty(),
        "nobody is told within the grace period"
    );
    assert!(!shown_away(&s, alice));
    s.advance(1);
    assert_eq!(s.tick(), vec![EventKind::Away { user: alice }]);
    assert!(shown_away(&s, alice), "the member list says she is away");
    assert_eq!(s.room.member_count(), 2, "her seat is kept");
    assert!(!s.room.tick_due(s.now), "nothing more until the away limit");
    // The room goes on without her; 80 seconds after the drop she is back.
    let said = s.say(bob, "I hope Alice is alright").unwrap();
    s.advance(80_000 - grace());
    let back = s.reconnect(alice, "Alice").unwrap();
    assert_eq!(kinds(&back), vec![EventKind::Back { user: alice }]);
    assert!(!shown_away(&s, alice));
    // The same seat: her place in the room (where her history starts) did not move,
    // so her resume reaches back over what Bob said.
    assert_eq!(s.room.member(alice).unwrap().joined_seq, her_joined);
    assert!(her_joined < said);
    // A second drop, short this time, tells nobody anything.
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(1_000);
    assert!(s.reconnect(alice, "Alice").unwrap().events.is_empty());
}

#[test]
fn past_the_away_limit_an_away_member_is_gone_and_their_return_is_a_new_join() {
    let mut s = Scene::new(12);
    let alice = s.join("Alice");
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(grace());
    assert_eq!(s.tick(), vec![EventKind::Away { user: alice }]);
    // The away limit counts from the drop, not from being shown away.
    s.advance(away_limit() - grace() - 1);
    assert!(!s.room.tick_due(s.now));
    s.advance(1);
    assert!(s.room.tick_due(s.now));
    let gone = s.apply(Command::Tick).unwrap();
    assert_eq!(
        kinds(&gone),
        vec![EventKind::Left {
            user: alice,
            reason: LeftReason::Disconnected
        }]
    );
    assert_eq!(departures(&gone), [(alice, Parting::Disconnected)]);
    assert!(s.room.member(alice).is_none());
    // Her token still works: she joins again, a new arrival.
    let again = s.reconnect(alice, "Alice").unwrap();
    assert!(matches!(kinds(&again)[..], [EventKind::Joined { .. }]));
}

#[test]
fn an_away_limit_equal_to_the_grace_period_makes_a_dropped_member_leave_at_its_end() {
    let limits = Limits {
        away_limit_ms: grace(),
        ..Limits::default()
    };
    let mut s = Scene::new(12);
    s.room = Room::new(s.room.id, s.room.config.clone(), limits);
    s.room.set_open(true, s.now);
    let alice = s.join("Alice");
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(grace());
    assert_eq!(
        s.tick(),
        vec![EventKind::Left {
            user: alice,
            reason: LeftReason::Disconnected
        }],
        "never shown away"
    );
}

#[test]
fn leaving_or_a_removal_ends_an_away_members_stay_at_once() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let (alice, bob) = (s.join("Alice"), s.join("Bob"));
    for user in [alice, bob] {
        s.apply(Command::Disconnect { user }).unwrap();
    }
    s.advance(grace());
    assert_eq!(
        s.tick(),
        vec![
            EventKind::Away { user: alice },
            EventKind::Away { user: bob }
        ]
    );
    let left = s.apply(Command::Leave { user: alice }).unwrap();
    assert_eq!(
        kinds(&left),
        vec![EventKind::Left {
            user: alice,
            reason: LeftReason::Left
        }]
    );
    let removed = s.moderate(fac, ModAction::Remove, Some(bob), None).unwrap();
    assert_eq!(
        removed,
        vec![EventKind::Left {
            user: bob,
            reason: LeftReason::Removed
        }]
    );
    assert_eq!(s.room.member_count(), 1);
    s.advance(away_limit());
    assert!(s.tick().is_empty(), "nobody left twice");
}

#[test]
fn an_away_member_keeps_their_seat_toward_capacity_and_their_networks_share() {
    let mut s = Scene::new(2);
    let alice = s.join("Alice");
    s.join("Bob");
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(grace());
    s.tick();
    assert_eq!(s.join_as_participant_err("Cat"), Rejection::RoomFull);
    // One network's share counts its away members too.
    let mut s = Scene::new(12);
    let home = Origin {
        device: None,
        address: Some(crate::room::Mark("one-home".into())),
    };
    let share = Limits::default().members_per_address;
    let mut from_home = Vec::new();
    for n in 0..share {
        let user = UserId::new();
        let session = s.room.session();
        s.apply(Command::Connect {
            first_time: false,
            user,
            name: format!("Kin{n}"),
            role: Role::Participant,
            session,
            origin: home.clone(),
        })
        .unwrap();
        from_home.push(user);
    }
    s.apply(Command::Disconnect { user: from_home[0] }).unwrap();
    s.advance(grace());
    s.tick();
    assert_eq!(
        s.room.admits(Role::Participant, "Kin9", &home),
        Err(Rejection::TooManyFromAddress)
    );
}

#[test]
fn the_floor_does_not_wait_for_someone_away() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.moderate(fac, ModAction::Floor, Some(alice), Some(600))
        .unwrap();
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(grace());
    assert_eq!(
        s.tick(),
        vec![
            EventKind::Away { user: alice },
            EventKind::Floor {
                user: None,
                until: None
            }
        ]
    );
    assert_eq!(s.room.state().floor, None);
}

#[test]
fn a_facilitator_away_holds_the_room_while_keeping_their_seat_and_their_return_unholds_it() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.apply(Command::Disconnect { user: fran }).unwrap();
    s.advance(grace());
    assert_eq!(
        s.tick(),
        vec![EventKind::Away { user: fran }, EventKind::Held]
    );
    assert!(shown_away(&s, fran), "Fran is in the list, away");
    assert_eq!(s.say(alice, "hello?"), Err(Rejection::Held));
    // A participant away meanwhile stays seated; the room stays held.
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(grace());
    assert_eq!(s.tick(), vec![EventKind::Away { user: alice }]);
    assert!(s.room.member(alice).is_some());
    let back = facilitator_back(&mut s, fran, "Fran");
    assert_eq!(
        kinds(&back),
        vec![EventKind::Back { user: fran }, EventKind::Unheld]
    );
    assert!(
        back.briefing.is_some(),
        "a returning facilitator is briefed"
    );
    s.reconnect(alice, "Alice").unwrap();
    assert!(s.say(alice, "you're back").is_ok());
}

#[test]
fn a_room_with_another_facilitator_connected_is_not_held_when_one_is_away() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    s.facilitator("Gus");
    let alice = s.join("Alice");
    s.apply(Command::Disconnect { user: fran }).unwrap();
    s.advance(grace());
    assert_eq!(s.tick(), vec![EventKind::Away { user: fran }]);
    assert!(s.say(alice, "Gus is still here").is_ok());
}

#[test]
fn an_away_member_comes_back_to_the_whispers_and_the_mute_of_their_absence() {
    let mut s = Scene::new(12);
    let fac = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.apply(Command::Disconnect { user: alice }).unwrap();
    s.advance(grace());
    s.tick();
    s.apply(Command::Whisper {
        user: fac,
        to: Some(alice),
        text: "take your time, we're here".into(),
        crisis: None,
    })
    .unwrap();
    s.moderate(fac, ModAction::Mute, Some(alice), Some(300))
        .unwrap();
    let back = s.reconnect(alice, "Alice").unwrap();
    assert_eq!(back.whispers.len(), 1);
    assert_eq!(back.whispers[0].to, Some(alice));
    assert!(
        back.mute_notice.is_some(),
        "told she is muted, and until when"
    );
}

#[test]
fn the_away_limit_travels_with_the_room_and_an_older_room_takes_the_default() {
    let limits = Limits {
        away_limit_ms: 45_000,
        ..Limits::default()
    };
    let s = Scene::new(12);
    let room = Room::new(s.room.id, s.room.config.clone(), limits);
    let stored = serde_json::to_value(&room).unwrap();
    let read: Room = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(read.limits().away_limit_ms, 45_000);
    // A room stored before the away limit was kept with it.
    let mut older = stored;
    older["limits"]
        .as_object_mut()
        .unwrap()
        .remove("away_limit_ms");
    let read: Room = serde_json::from_value(older).unwrap();
    assert_eq!(read.limits().away_limit_ms, 10 * MIN);
}
