//! Concern, not accusation: a member's worry about another becomes an alert for the
//! facilitators, kept like a report's; it is about someone else, who is here.

use super::*;

fn concern(s: &mut Scene, user: UserId, subject: UserId) -> Result<Applied, Rejection> {
    s.apply(Command::Concern {
        user,
        subject,
        seq: None,
        quote: None,
    })
}

#[test]
fn a_concern_is_an_alert_about_someone_else_who_is_here() {
    let mut s = Scene::new(12);
    let _fran = s.facilitator("Fran");
    let alice = s.join("Alice");
    let bob = s.join("Bob");
    let raised = concern(&mut s, alice, bob).expect("raised");
    let alert = raised.alert.expect("an alert");
    assert_eq!((alert.user, alert.name.as_str()), (alice, "Alice"));
    assert!(matches!(alert.about, About::Concern { subject, .. } if subject == bob));
    assert!(raised.told && raised.events.is_empty());
    assert_eq!(s.room.kept().len(), 1, "kept open for the facilitators");
    assert!(matches!(
        concern(&mut s, alice, alice),
        Err(Rejection::BadRequest(_))
    ));
    assert_eq!(
        concern(&mut s, alice, UserId::new()),
        Err(Rejection::NotFound)
    );
    let err = s.apply(Command::Concern {
        user: alice,
        subject: bob,
        seq: Some(99),
        quote: None,
    });
    assert_eq!(err, Err(Rejection::NotFound));
}
