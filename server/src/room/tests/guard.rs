//! The guardrail in the room: with `ask`, a participant's means, method, graphic
//! detail or dose reaches nobody until its author chooses; with `hold`, it waits for a
//! facilitator; with `off`, it goes out. Crisis words in it bring help at once
//! whatever the guardrail decides, and facilitators are never refused by it.

use kindred_protocol::policy::{ContentPolicy, GuardCategory, GuardChoice, GuardMode};

use super::*;
use crate::room::{About, Guarded};

const METHOD: &str = "the bridge on mill road has no fence, I could jump";

fn guard(s: &mut Scene, mode: GuardMode) {
    s.room.set_policy(
        ContentPolicy {
            guard: mode,
            ..ContentPolicy::default()
        },
        s.now,
    );
}

fn send(
    s: &mut Scene,
    user: UserId,
    id: &str,
    crisis: bool,
    (cw, choice): (Option<&str>, Option<GuardChoice>),
) -> Result<Applied, Rejection> {
    s.apply(Command::Send {
        user,
        client_id: id.into(),
        text: METHOD.into(),
        cw: cw.map(str::to_owned),
        crisis: crisis.then(|| Concern::rule(CrisisCategory::SuicidalIdeation)),
        screened: None,
        guard: Guarded {
            found: Some(GuardCategory::Method),
            choice,
        },
    })
}

#[test]
fn ask_is_the_default_and_keeps_a_method_from_the_room_until_its_author_chooses() {
    let mut s = Scene::facilitated(12);
    let _fran = s.facilitator("Fran");
    let bob = s.join("Bob");
    assert_eq!(s.room.config.policy.guard, GuardMode::Ask);
    let head = s.room.head();

    let refused = send(&mut s, bob, "m1", false, (None, None));
    assert_eq!(
        refused,
        Err(Rejection::Consider {
            category: GuardCategory::Method,
            facilitators: true
        })
    );
    assert_eq!(s.room.head(), head, "nothing reached the room");

    // With a content warning of Kindred's own words for what was found.
    let sent = send(&mut s, bob, "m2", false, (None, Some(GuardChoice::Cw))).unwrap();
    assert!(matches!(
        &sent.events[0].kind,
        EventKind::Message { cw: Some(cw), .. } if cw == GuardCategory::Method.warning()
    ));
    // Or of the author's.
    s.advance(1_000);
    let own = send(
        &mut s,
        bob,
        "m3",
        false,
        (Some("bridge"), Some(GuardChoice::Cw)),
    )
    .unwrap();
    assert!(matches!(
        &own.events[0].kind,
        EventKind::Message { cw: Some(cw), .. } if cw == "bridge"
    ));
    // As it is: delivered, and the facilitators are told what was found.
    s.advance(1_000);
    let as_is = send(&mut s, bob, "m4", false, (None, Some(GuardChoice::AsIs))).unwrap();
    assert!(as_is.ack.is_some());
    assert_eq!(as_is.flagged, ["method"]);
}

#[test]
fn crisis_words_bring_help_at_the_first_attempt_even_while_ask_keeps_the_message_back() {
    let mut s = Scene::facilitated(12);
    let _fran = s.facilitator("Fran");
    let bob = s.join("Bob");
    let head = s.room.head();
    let applied = send(&mut s, bob, "c1", true, (None, None)).expect("help is raised");
    assert!(matches!(applied.refused, Some(Rejection::Consider { .. })));
    assert!(applied.events.is_empty() && s.room.head() == head);
    assert!(applied.card, "the author's card");
    assert!(applied.told, "a facilitator is here and was told");
    let alert = applied.alert.expect("the facilitators' alert");
    assert!(matches!(
        &alert.about,
        About::Crisis { text: Some(t), seq: None, .. } if t == METHOD
    ));
}

#[test]
fn hold_keeps_it_for_a_facilitator_with_its_reason_and_help_still_goes_out() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let bob = s.join("Bob");
    guard(&mut s, GuardMode::Hold);
    let head = s.room.head();
    // Choosing does not get past a hold.
    let held = send(&mut s, bob, "h1", false, (None, Some(GuardChoice::AsIs))).unwrap();
    let held = held.held.expect("held for a facilitator");
    assert_eq!(held.kinds, ["method"]);
    assert_eq!(s.room.head(), head);

    s.advance(1_000);
    let crisis = send(&mut s, bob, "h2", true, (None, None)).unwrap();
    assert!(crisis.held.is_some(), "held like any other");
    assert!(crisis.card && crisis.alert.is_some(), "help is not held");

    let released = s
        .apply(Command::Moderate {
            actor: fran,
            request: ModRequest {
                held: Some(held.id),
                ..ModRequest::new(ModAction::Release)
            },
        })
        .unwrap();
    assert!(released.ack.is_some(), "released by a facilitator");
}

#[test]
fn off_lets_it_through_and_facilitators_are_never_refused() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let bob = s.join("Bob");
    // A facilitator's own words, under `ask`: theirs to answer for.
    assert!(
        send(&mut s, fran, "f1", false, (None, None))
            .unwrap()
            .ack
            .is_some()
    );
    guard(&mut s, GuardMode::Off);
    let sent = send(&mut s, bob, "o1", false, (None, None)).unwrap();
    assert!(sent.ack.is_some() && sent.flagged.is_empty());
}

#[test]
fn a_drop_in_room_offers_no_facilitators_to_send_it_to() {
    let mut s = Scene::new(12);
    let bob = s.join("Bob");
    assert_eq!(
        send(&mut s, bob, "d1", false, (None, None)),
        Err(Rejection::Consider {
            category: GuardCategory::Method,
            facilitators: false
        })
    );
}
