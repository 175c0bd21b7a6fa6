//! A facilitator's seat bound to the browsers they chose: found by a bound key and no
//! other, one more device by a one-time code, unbound when the seat ends, and kept in
//! the catalog record without a pseudonym.

use kindred_protocol::{ErrorCode, ModAction, Role, UserId};

use super::*;

fn mark(value: &str) -> crate::room::Mark {
    crate::room::Mark(value.into())
}

/// Fran redeems a single-use invite from her laptop, whose seat key's mark is "laptop".
fn fran_seated_on_her_laptop(s: &mut Scene) -> (InviteRecord, UserId) {
    let record = invite(s, 1, 60 * MIN);
    s.apply(Command::Invite {
        invite: record.clone(),
    })
    .unwrap();
    let fran = UserId::new();
    s.apply(Command::Redeem {
        invite: record.id,
        user: fran,
        seat: Some(("Fran".into(), mark("laptop"))),
    })
    .unwrap();
    (record, fran)
}

#[test]
fn a_seat_is_found_by_the_key_of_the_browser_that_took_it_and_no_other() {
    let mut s = Scene::new(12);
    let (record, fran) = fran_seated_on_her_laptop(&mut s);
    let seat = s
        .room
        .bound_seat(&mark("laptop"))
        .expect("her laptop holds it");
    assert_eq!((seat.user, seat.name.as_deref()), (fran, Some("Fran")));
    assert_eq!(s.room.bound_seat(&mark("stranger")), None);
    // Another browser with the same link: told it is in use, not that it is of no use;
    // a client that sends no key is answered as before.
    let redeem = |s: &mut Scene, seat| {
        s.apply(Command::Redeem {
            invite: record.id,
            user: UserId::new(),
            seat,
        })
    };
    assert_eq!(
        redeem(&mut s, Some(("Sam".into(), mark("stranger")))),
        Err(Rejection::InviteInUse)
    );
    assert_eq!(redeem(&mut s, None), Err(Rejection::InviteInvalid));
    assert_eq!(Rejection::InviteInUse.code(), ErrorCode::InviteInUse);
    // Her seat's connection still works after her tab closed and she left.
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
    s.apply(Command::Leave { user: fran }).unwrap();
    assert!(s.room.member(fran).is_none());
    assert!(s.apply(connect).is_ok(), "back in her own seat");
}

#[test]
fn a_seat_code_binds_one_more_device_once_and_only_while_it_lasts() {
    let mut s = Scene::new(12);
    let (_, fran) = fran_seated_on_her_laptop(&mut s);
    let open = |s: &mut Scene, code: &str, until| {
        s.apply(Command::OpenSeatCode {
            user: fran,
            name: "Fran".into(),
            code: mark(code),
            expires_at: until,
        })
    };
    let take = |s: &mut Scene, code: &str, key: &str| {
        s.apply(Command::TakeSeatCode {
            code: mark(code),
            key: mark(key),
        })
    };
    let until = s.now + 10 * MIN;
    open(&mut s, "code-1", until).unwrap();
    assert_eq!(
        take(&mut s, "guess", "phone"),
        Err(Rejection::SeatCodeInvalid)
    );
    take(&mut s, "code-1", "phone").unwrap();
    assert_eq!(s.room.bound_seat(&mark("phone")).unwrap().user, fran);
    assert_eq!(s.room.bound_seat(&mark("laptop")).unwrap().user, fran);
    // Spent: a second device cannot use the same code.
    assert_eq!(
        take(&mut s, "code-1", "tablet"),
        Err(Rejection::SeatCodeInvalid)
    );
    // A code nobody used stops working when it expires.
    let soon = s.now + MIN;
    open(&mut s, "code-2", soon).unwrap();
    s.advance(MIN);
    assert_eq!(
        take(&mut s, "code-2", "tablet"),
        Err(Rejection::SeatCodeInvalid)
    );
    assert_eq!(s.room.bound_seat(&mark("tablet")), None);
    // Someone who holds no seat cannot open a code.
    assert_eq!(
        s.apply(Command::OpenSeatCode {
            user: UserId::new(),
            name: "Troll".into(),
            code: mark("code-3"),
            expires_at: s.now + MIN,
        }),
        Err(Rejection::InviteInvalid)
    );
}

#[test]
fn a_seat_comes_unbound_when_revoked_dismissed_or_the_session_closes() {
    for end in ["revoke", "dismiss", "close"] {
        let mut s = Scene::new(12);
        let (record, fran) = fran_seated_on_her_laptop(&mut s);
        let sam = s.facilitator("Sam");
        match end {
            "revoke" => drop(s.apply(Command::Revoke { invite: record.id }).unwrap()),
            "dismiss" => drop(s.apply(Command::Dismiss { user: fran }).unwrap()),
            _ => drop(s.moderate(sam, ModAction::Close, None, None).unwrap()),
        }
        assert_eq!(s.room.bound_seat(&mark("laptop")), None, "{end}");
    }
}

#[test]
fn the_catalog_record_keeps_a_seats_keys_but_not_its_pseudonym_or_code() {
    let mut s = Scene::new(12);
    let (_, fran) = fran_seated_on_her_laptop(&mut s);
    s.apply(Command::OpenSeatCode {
        user: fran,
        name: "Fran".into(),
        code: mark("code-1"),
        expires_at: s.now + MIN,
    })
    .unwrap();
    let stored = serde_json::to_string(&s.room.catalog_record().unwrap()).unwrap();
    assert!(!stored.contains("Fran"), "{stored}");
    assert!(!stored.contains("code-1"), "{stored}");
    let back = s.room.catalog_record().unwrap();
    let seat = back.bound_seat(&mark("laptop")).expect("still bound");
    assert_eq!((seat.user, seat.name), (fran, None));
}

#[test]
fn a_seat_is_bound_to_at_most_five_browsers() {
    let mut s = Scene::new(12);
    let (_, fran) = fran_seated_on_her_laptop(&mut s);
    let add = |s: &mut Scene, n: usize| {
        let code = format!("code-{n}");
        let until = s.now + MIN;
        s.apply(Command::OpenSeatCode {
            user: fran,
            name: "Fran".into(),
            code: mark(&code),
            expires_at: until,
        })
        .unwrap();
        s.apply(Command::TakeSeatCode {
            code: mark(&code),
            key: mark(&format!("device-{n}")),
        })
    };
    for n in 2..=crate::room::MAX_SEAT_DEVICES {
        add(&mut s, n).expect("one more device of hers");
    }
    assert!(matches!(add(&mut s, 99), Err(Rejection::BadRequest(_))));
    assert_eq!(s.room.bound_seat(&mark("device-99")), None);
}
