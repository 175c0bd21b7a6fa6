//! A word before admission: a facilitator and someone in the waiting room write to
//! each other privately, a note reaches everyone waiting, and none of it is the
//! room's.

use super::*;

fn whisper(s: &mut Scene, user: UserId, to: Option<UserId>, text: &str) -> Applied {
    s.apply(Command::Whisper {
        user,
        to,
        text: text.into(),
        crisis: None,
    })
    .expect("written")
}

#[test]
fn a_facilitator_and_someone_waiting_write_to_each_other_and_the_waiting_are_given_the_notes() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let bob = s.join("Bob");
    s.room.config.waiting_room = true;
    let alice = s.join("Alice");
    let carol = s.join("Carol");
    assert!(s.room.is_waiting(alice) && s.room.is_waiting(carol));

    // Fran writes to Alice, waiting; Alice answers the facilitators.
    let to_alice = whisper(&mut s, fran, Some(alice), "is this your first time?");
    let w = to_alice.whisper.expect("delivered");
    assert_eq!((w.to, w.waiting), (Some(alice), false));
    assert!(to_alice.events.is_empty(), "the room is told nothing");
    let reply = whisper(&mut s, alice, None, "yes, it is");
    let w = reply.whisper.expect("delivered");
    assert_eq!((w.from, w.name.as_str(), w.to), (alice, "Alice", None));
    // Someone waiting writes to the facilitators only, never to one person.
    let err = s.apply(Command::Whisper {
        user: alice,
        to: Some(carol),
        text: "hi Carol".into(),
        crisis: None,
    });
    assert_eq!(err.unwrap_err(), Rejection::Waiting);

    // A note to everyone waiting goes to Alice and Carol, not Bob.
    let note = s
        .apply(Command::WaitingNote {
            user: fran,
            text: "we start at 7:05".into(),
        })
        .expect("noted");
    assert!(note.whisper.expect("kept").waiting);
    let mut audience = note.waiting_audience.clone();
    audience.sort();
    let mut waiting = vec![alice, carol];
    waiting.sort();
    assert_eq!(audience, waiting);
    assert!(note.events.is_empty());
    // Only a facilitator leaves one.
    let err = s.apply(Command::WaitingNote {
        user: bob,
        text: "come in".into(),
    });
    assert_eq!(err.unwrap_err(), Rejection::Forbidden);

    // Carol's second tab is given the note and nothing of Alice's conversation;
    // Bob, in the room, is given none of it when he comes back.
    let texts = |a: &Applied| {
        a.whispers
            .iter()
            .map(|w| w.text.clone())
            .collect::<Vec<_>>()
    };
    let session = s.room.session();
    let carol_tab = s
        .apply(Command::Connect {
            first_time: false,
            user: carol,
            name: "Carol".into(),
            role: Role::Participant,
            session,
            origin: Origin::default(),
        })
        .expect("waiting again");
    assert!(carol_tab.waiting);
    assert_eq!(texts(&carol_tab), ["we start at 7:05"]);
    let bob_tab = s
        .apply(Command::Connect {
            first_time: false,
            user: bob,
            name: "Bob".into(),
            role: Role::Participant,
            session,
            origin: Origin::default(),
        })
        .expect("back");
    assert!(texts(&bob_tab).is_empty());
}
