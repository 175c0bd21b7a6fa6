//! Care beyond the card: a facilitator escalates an open alert to the on-call
//! supervisor; the room keeps the escalation for the rest of the session, and the
//! on-call person takes a facilitator's seat of their own.

use super::*;

fn escalate(s: &mut Scene, actor: UserId, alert: Option<u64>) -> Result<Applied, Rejection> {
    s.apply(Command::Moderate {
        actor,
        request: ModRequest {
            alert,
            ..ModRequest::new(ModAction::Escalate)
        },
    })
}

#[test]
fn a_facilitator_escalates_an_open_alert_and_the_room_keeps_it_until_the_session_ends() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    let alert = s
        .crisis(alice, "c1", "I want to end it all")
        .unwrap()
        .alert
        .expect("an alert");
    s.advance(MIN);
    let escalated = escalate(&mut s, fran, Some(alert.id)).expect("escalated");
    assert!(escalated.events.is_empty(), "the room hears nothing of it");
    let logged = &escalated.logged;
    assert_eq!(
        logged.len(),
        1,
        "the facilitators' log says on-call was told"
    );
    assert_eq!(
        (logged[0].action, logged[0].alert, logged[0].by),
        (ModAction::Escalate, Some(alert.id), fran)
    );
    let kept = s.room.escalations();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].by, kept[0].by_name.as_str()), (fran, "Fran"));
    assert_eq!((kept[0].ts, kept[0].alert.id), (s.now, alert.id));
    assert_eq!(kept[0].alert.name, "Alice");

    // Again: no second escalation, and the first keeps its time.
    s.advance(MIN);
    escalate(&mut s, fran, Some(alert.id)).unwrap();
    assert_eq!(s.room.escalations().len(), 1);
    assert_eq!(s.room.escalations()[0].ts, s.now - MIN);

    // Handling the alert does not take back the call for help.
    s.ack_warning(fran, Some(alert.id)).unwrap();
    assert_eq!(s.room.escalations().len(), 1);

    // A replica folding the same log keeps the same escalation.
    let copy: Room = serde_json::from_str(&serde_json::to_string(&s.room).unwrap()).unwrap();
    assert_eq!(copy.escalations(), s.room.escalations());

    s.moderate(fran, ModAction::Close, None, None).unwrap();
    assert!(s.room.escalations().is_empty(), "gone with the session");
}

#[test]
fn escalating_is_refused_for_an_unknown_alert_without_an_alert_and_to_a_participant() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    let alert = s
        .crisis(alice, "c1", "I want to end it all")
        .unwrap()
        .alert
        .unwrap();
    assert_eq!(
        escalate(&mut s, fran, Some(alert.id + 100)).map(|_| ()),
        Err(Rejection::NotFound)
    );
    assert!(matches!(
        escalate(&mut s, fran, None),
        Err(Rejection::BadRequest(_))
    ));
    assert_eq!(
        escalate(&mut s, bob, Some(alert.id)).map(|_| ()),
        Err(Rejection::Forbidden)
    );
    // A held message shares the alerts' count but is not an alert to escalate.
    s.hold_policy();
    let held = s.send(bob, "h1", "kys you idiot").unwrap().held.unwrap();
    assert_eq!(
        escalate(&mut s, fran, Some(held.id)).map(|_| ()),
        Err(Rejection::NotFound)
    );
    // The log's entry for on-call joining is not an action anyone sends.
    assert!(matches!(
        s.moderate(fran, ModAction::OnCallJoined, None, None),
        Err(Rejection::BadRequest(_))
    ));
    assert!(s.room.escalations().is_empty());
}

#[test]
fn on_call_takes_a_facilitators_seat_of_their_own_and_the_log_says_they_are_joining() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    s.apply(Command::Leave { user: fran }).unwrap();
    assert!(s.room.is_held(), "no facilitator: held");
    assert_eq!(s.room.facilitators_present(), 0);

    let sam = UserId::new();
    let seated = s
        .apply(Command::OnCallSeat {
            user: sam,
            name: "Sam".into(),
            seat: kindred_protocol::InviteId::new(),
        })
        .expect("seated");
    assert_eq!(seated.logged.len(), 1);
    assert_eq!(
        (
            seated.logged[0].action,
            seated.logged[0].by,
            seated.logged[0].by_name.as_str()
        ),
        (ModAction::OnCallJoined, sam, "Sam")
    );
    assert_eq!(
        s.room.mod_log().last().map(|e| e.action),
        Some(ModAction::OnCallJoined)
    );
    let session = s.room.session();
    let arrived = s
        .apply(Command::Connect {
            user: sam,
            name: "Sam".into(),
            role: Role::Facilitator,
            session,
            origin: Origin::default(),
            first_time: false,
        })
        .expect("the seat lets them in as a facilitator");
    assert!(arrived.events.iter().any(|e| e.kind == EventKind::Unheld));
    assert!(!s.room.is_held());
    assert_eq!(s.room.facilitators_present(), 1);
    assert!(s.say(alice, "thank you for coming").is_ok());

    // A closed room has no session to join.
    s.moderate(sam, ModAction::Close, None, None).unwrap();
    assert_eq!(
        s.apply(Command::OnCallSeat {
            user: UserId::new(),
            name: "Sam".into(),
            seat: kindred_protocol::InviteId::new(),
        })
        .map(|_| ()),
        Err(Rejection::Closed)
    );
}
