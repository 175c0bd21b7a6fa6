//! Stepping out: a facilitator asks a participant out of the room for a quiet word.
//! They wait outside with the facilitator's note (theirs alone), the room sees only
//! that they stepped out, they keep a private word with the facilitators, and an
//! `admit` lets them back in as a member arriving now.

use super::*;

fn step_out(
    s: &mut Scene,
    actor: UserId,
    user: UserId,
    note: Option<&str>,
) -> Result<Applied, Rejection> {
    s.apply(Command::Moderate {
        actor,
        request: ModRequest {
            user: Some(user),
            text: note.map(str::to_owned),
            ..ModRequest::new(ModAction::StepOut)
        },
    })
}

#[test]
fn a_participant_asked_out_waits_with_the_note_and_the_room_sees_only_that_they_stepped_out() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    s.moderate(fran, ModAction::Floor, Some(alice), Some(60))
        .unwrap();

    let note = "Could we talk for a minute about your last message?";
    let applied = step_out(&mut s, fran, alice, Some(note)).expect("asked out");
    let kinds: Vec<EventKind> = applied.events.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            EventKind::SteppedOut { user: alice },
            EventKind::Floor {
                user: None,
                until: None
            },
        ],
        "the room is told she stepped out, and the floor she held opens"
    );
    assert!(
        !format!("{:?}", applied.events).contains("last message"),
        "the note is not the room's"
    );
    assert!(applied.departures.is_empty(), "her connections stay open");

    // She waits outside, not a member, with the note; the room goes on without her.
    assert!(s.room.is_waiting(alice));
    assert!(s.room.member(alice).is_none());
    assert_eq!(
        s.room.stepped_out(alice).and_then(|o| o.note.as_deref()),
        Some(note)
    );
    let list = applied
        .waiting_list
        .expect("the facilitators see who waits");
    assert_eq!(list.len(), 1);
    assert!(list[0].stepped_out && list[0].user == alice && list[0].name == "Alice");
    assert!(!s.room.member_infos().iter().any(|m| m.user == alice));
    assert_eq!(s.say(alice, "still here?"), Err(Rejection::Waiting));
    s.say(bob, "hi all").expect("the room goes on");

    // The moderation log keeps it.
    let entry = applied.logged.last().expect("logged");
    assert_eq!(
        (entry.action, entry.user, entry.name.as_deref()),
        (ModAction::StepOut, Some(alice), Some("Alice"))
    );

    // A private word with the facilitators, both ways.
    let hers = s
        .apply(Command::Whisper {
            user: alice,
            to: None,
            text: "ok, I'm here".into(),
            crisis: None,
        })
        .expect("written");
    assert_eq!(hers.whisper.expect("delivered").from, alice);
    let frans = s
        .apply(Command::Whisper {
            user: fran,
            to: Some(alice),
            text: "thank you".into(),
            crisis: None,
        })
        .expect("written");
    assert_eq!(frans.whisper.expect("delivered").to, Some(alice));

    // Her reload lands in the waiting room, the note still there.
    let back = s.reconnect(alice, "Alice").expect("connects");
    assert!(back.waiting && back.events.is_empty());
    assert!(s.room.stepped_out(alice).is_some());
}

#[test]
fn admitted_back_a_stepped_out_member_joins_afresh_and_the_note_is_gone() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    step_out(&mut s, fran, alice, None).expect("asked out");
    assert_eq!(
        s.room.stepped_out(alice).map(|o| o.note.clone()),
        Some(None),
        "asked out without a note"
    );

    let admitted = s
        .moderate(fran, ModAction::Admit, Some(alice), None)
        .unwrap();
    assert!(matches!(
        admitted.as_slice(),
        [EventKind::Joined { user, role: Role::Participant, .. }] if *user == alice
    ));
    assert!(s.room.member(alice).is_some() && !s.room.is_waiting(alice));
    assert!(s.room.stepped_out(alice).is_none());
    s.say(alice, "thanks, I'm ok").expect("she posts again");
}

#[test]
fn the_waiting_room_switched_off_or_everyone_admitted_leaves_a_stepped_out_member_waiting() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.room.config.waiting_room = true;
    let carol = s.join("Carol");
    step_out(&mut s, fran, alice, None).expect("asked out");

    s.moderate(fran, ModAction::AdmitAll, None, None).unwrap();
    assert!(
        s.room.member(carol).is_some(),
        "Carol, who knocked, comes in"
    );
    assert!(s.room.is_waiting(alice), "Alice waits for her quiet word");

    s.apply(Command::Moderate {
        actor: fran,
        request: ModRequest {
            on: Some(false),
            ..ModRequest::new(ModAction::WaitingRoom)
        },
    })
    .unwrap();
    assert!(
        s.room.is_waiting(alice),
        "still waiting with the waiting room off"
    );
    // Still turned away like anyone waiting.
    let denied = s.moderate(fran, ModAction::Deny, Some(alice), None);
    assert!(denied.is_ok() && !s.room.is_waiting(alice));
}

#[test]
fn only_a_facilitator_asks_a_participant_out_and_only_someone_in_the_room() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let gil = s.facilitator("Gil");
    let alice = s.join("Alice");
    let bob = s.join("Bob");

    assert_eq!(
        step_out(&mut s, bob, alice, None).unwrap_err(),
        Rejection::Forbidden,
        "a participant cannot"
    );
    assert_eq!(
        step_out(&mut s, fran, gil, None).unwrap_err(),
        Rejection::Forbidden,
        "a facilitator is not asked out"
    );
    assert_eq!(
        step_out(&mut s, fran, UserId::new(), None).unwrap_err(),
        Rejection::NotFound,
        "nobody by that id"
    );
    step_out(&mut s, fran, alice, None).expect("asked out");
    assert_eq!(
        step_out(&mut s, fran, alice, None).unwrap_err(),
        Rejection::NotFound,
        "already outside"
    );
    let no_user = s.apply(Command::Moderate {
        actor: fran,
        request: ModRequest::new(ModAction::StepOut),
    });
    assert!(matches!(no_user, Err(Rejection::BadRequest(_))));
    assert!(s.room.member(alice).is_none() && s.room.member(bob).is_some());
}
