//! Content warnings after the fact: a facilitator covers a member's message with a
//! warning once it is shared; the room hears one `cw` event naming it, and only a
//! message still shown can be covered.

use super::*;

fn warn(
    s: &mut Scene,
    actor: UserId,
    seq: Option<u64>,
    cw: Option<&str>,
) -> Result<Vec<EventKind>, Rejection> {
    let applied = s.apply(Command::Moderate {
        actor,
        request: ModRequest {
            seq,
            cw: cw.map(str::to_owned),
            ..ModRequest::new(ModAction::Cw)
        },
    })?;
    Ok(applied.events.into_iter().map(|e| e.kind).collect())
}

#[test]
fn a_facilitator_covers_a_shared_message_with_a_warning_the_room_hears_of() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    let seq = s
        .say(alice, "the night it happened I hurt myself again")
        .unwrap();

    assert_eq!(
        warn(&mut s, fran, Some(seq), Some("  self-harm ")),
        Ok(vec![EventKind::Cw {
            target: seq,
            cw: "self-harm".into()
        }]),
        "one event, the topic trimmed"
    );
    // Another topic replaces it: a second event, as the room must hear of it.
    assert_eq!(
        warn(&mut s, fran, Some(seq), Some("grief")),
        Ok(vec![EventKind::Cw {
            target: seq,
            cw: "grief".into()
        }])
    );
    // A facilitator's own message can be covered too.
    let own = s.say(fran, "I lost my dad in the spring").unwrap();
    assert!(warn(&mut s, fran, Some(own), Some("grief")).is_ok());
}

#[test]
fn a_warning_needs_a_message_still_shown_a_topic_and_a_facilitator() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    let seq = s.say(alice, "a hard week").unwrap();
    let head = s.room.head();

    // A seq past the head, or 0: no such event.
    assert_eq!(
        warn(&mut s, fran, Some(head + 1), Some("grief")),
        Err(Rejection::NotFound)
    );
    assert_eq!(
        warn(&mut s, fran, Some(0), Some("grief")),
        Err(Rejection::NotFound)
    );
    // Alice's `joined` is an event, not a message.
    let joined = seq - 1;
    assert_eq!(
        warn(&mut s, fran, Some(joined), Some("grief")),
        Err(Rejection::BadRequest(
            "a content warning goes on a message that is still shown"
        ))
    );
    assert_eq!(
        warn(&mut s, fran, None, Some("grief")),
        Err(Rejection::BadRequest("cw needs `seq`"))
    );
    for blank in [None, Some(""), Some("   ")] {
        assert_eq!(
            warn(&mut s, fran, Some(seq), blank),
            Err(Rejection::BadRequest("cw needs `cw`: the topic to warn of")),
            "{blank:?}"
        );
    }
    // A participant may warn only of their own words, as they send them.
    let bob = s.join("Bob");
    assert_eq!(
        warn(&mut s, bob, Some(seq), Some("grief")),
        Err(Rejection::Forbidden)
    );
    // A withdrawn message shows no words to warn of.
    let redact = Command::Moderate {
        actor: fran,
        request: ModRequest {
            seq: Some(seq),
            ..ModRequest::new(ModAction::Redact)
        },
    };
    s.apply(redact).unwrap();
    assert_eq!(
        warn(&mut s, fran, Some(seq), Some("grief")),
        Err(Rejection::BadRequest(
            "a content warning goes on a message that is still shown"
        ))
    );
    // Nothing refused reached the room.
    assert_eq!(
        s.room.head(),
        seq + 2,
        "the redaction and Bob's arrival only"
    );
}

#[test]
fn the_messages_a_warning_may_cover_end_with_the_session_and_survive_a_snapshot() {
    let mut s = Scene::new(12);
    let fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    let seq = s.say(alice, "a hard week").unwrap();
    // A replica restored from a snapshot knows the messages too.
    let stored = serde_json::to_string(&s.room).unwrap();
    s.room = serde_json::from_str(&stored).unwrap();
    assert!(warn(&mut s, fran, Some(seq), Some("grief")).is_ok());
    // After a close the next session starts with nothing said.
    s.moderate(fran, ModAction::Close, None, None).unwrap();
    let fran = s.facilitator("Fran");
    assert!(matches!(
        warn(&mut s, fran, Some(seq), Some("grief")),
        Err(Rejection::BadRequest(_))
    ));
}
