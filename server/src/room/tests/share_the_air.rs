//! Share the air: each participant's share of the session's conversation, counted in
//! the fold for the facilitators, and the watch that tells a facilitator's connection
//! of a change at most once every few seconds, and never of nothing.

use kindred_protocol::AirShare;

use super::*;

fn first_timer(s: &mut Scene, name: &str) -> UserId {
    let user = UserId::new();
    let session = s.room.session();
    s.apply(Command::Connect {
        user,
        name: name.into(),
        role: Role::Participant,
        session,
        origin: Origin::default(),
        first_time: true,
    })
    .expect("joins");
    user
}

fn figures_of(s: &Scene, user: UserId) -> AirShare {
    s.room
        .share_the_air()
        .into_iter()
        .find(|a| a.user == user)
        .expect("a participant is listed")
}

#[test]
fn each_participant_is_counted_as_the_room_sees_their_messages() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    let ash = first_timer(&mut s, "Ash");

    s.say(alice, "hello everyone").unwrap();
    s.advance(MIN);
    let spoke = s.now;
    s.say(alice, "this week was hard").unwrap();
    s.say(fran, "thank you, Alice").unwrap();
    s.apply(Command::Hand {
        user: bob,
        raised: true,
    })
    .unwrap();

    let air = s.room.share_the_air();
    // Participants only, in order of arrival.
    let listed: Vec<UserId> = air.iter().map(|a| a.user).collect();
    assert_eq!(listed, [alice, bob, ash], "facilitators are not listed");
    assert_eq!(
        figures_of(&s, alice),
        AirShare {
            user: alice,
            messages: 2,
            chars: ("hello everyone".len() + "this week was hard".len()) as u32,
            last_spoke: Some(spoke),
            hand: false,
            queued: false,
            first_time: false,
        }
    );
    let bob_now = figures_of(&s, bob);
    assert_eq!(
        (bob_now.messages, bob_now.last_spoke),
        (0, None),
        "hasn't spoken yet"
    );
    assert!(bob_now.hand);
    assert!(figures_of(&s, ash).first_time, "said so joining");
    assert!(!bob_now.first_time);

    // Characters, not bytes: a message in another script counts as it reads.
    s.say(bob, "ça va, merci").unwrap();
    assert_eq!(figures_of(&s, bob).chars, 12);

    // A new session starts with nobody counted and nobody new.
    s.moderate(fran, ModAction::Close, None, None).unwrap();
    let fran = s.facilitator("Fran");
    s.moderate(fran, ModAction::Open, None, None).unwrap();
    let alice = s.join("Alice");
    assert_eq!(figures_of(&s, alice).messages, 0);
}

#[test]
fn a_message_held_for_review_counts_only_once_released() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.apply(Command::Moderate {
        actor: fran,
        request: ModRequest {
            on: Some(true),
            ..ModRequest::new(ModAction::Shield)
        },
    })
    .unwrap();
    let held = s
        .apply(Command::Send {
            user: alice,
            client_id: "c1".into(),
            text: "first words".into(),
            cw: None,
            crisis: None,
            screened: None,
            guard: Default::default(),
        })
        .unwrap()
        .held
        .expect("the shield holds a first message");
    assert_eq!(
        figures_of(&s, alice).messages,
        0,
        "the room has not seen it"
    );
    s.advance(MIN);
    s.apply(Command::Moderate {
        actor: fran,
        request: ModRequest {
            held: Some(held.id),
            ..ModRequest::new(ModAction::Release)
        },
    })
    .unwrap();
    let after = figures_of(&s, alice);
    assert_eq!((after.messages, after.chars), (1, 11));
    assert_eq!(after.last_spoke, Some(s.now), "spoke when the room saw it");
}

#[test]
fn the_watch_gives_a_change_at_most_every_interval_and_never_nothing() {
    let mut s = Scene::new(12);
    s.facilitator("Fran");
    let alice = s.join("Alice");
    let mut watch = AirWatch::default();

    let first = watch.due(s.now, s.room.share_the_air());
    assert_eq!(
        first.map(|f| f.len()),
        Some(1),
        "the first look gives the figures"
    );
    // Nothing changed: nothing, however long it has been.
    s.advance(10 * AIR_INTERVAL_MS);
    assert_eq!(watch.due(s.now, s.room.share_the_air()), None);

    // A change is given at once when the interval has passed since the last frame…
    s.say(alice, "hi").unwrap();
    let given = watch.due(s.now, s.room.share_the_air()).expect("changed");
    assert_eq!(given[0].messages, 1);
    // …and a change within the interval waits for its end.
    s.advance(1_000);
    s.say(alice, "again").unwrap();
    assert_eq!(watch.due(s.now, s.room.share_the_air()), None, "too soon");
    s.advance(AIR_INTERVAL_MS - 1_001);
    assert_eq!(
        watch.due(s.now, s.room.share_the_air()),
        None,
        "still too soon"
    );
    s.advance(1);
    let later = watch.due(s.now, s.room.share_the_air()).expect("its turn");
    assert_eq!(later[0].messages, 2);
    // Given, it is not given twice.
    s.advance(AIR_INTERVAL_MS);
    assert_eq!(watch.due(s.now, s.room.share_the_air()), None);
}
