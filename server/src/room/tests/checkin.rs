//! Check-in and check-out on a fake clock: a participant's mood reaches the
//! facilitators alone and goes with the session; the debrief of a session run on the
//! default script counts its rounds, passes, messages, alerts and moods, and nothing
//! anyone said.

use kindred_protocol::{AlertCount, AlertKind, Debrief};

use super::*;

impl Scene {
    fn mood(
        &mut self,
        user: UserId,
        checkout: bool,
        mood: u8,
        words: Option<&str>,
    ) -> Result<Applied, Rejection> {
        self.apply(Command::Mood {
            user,
            checkout,
            mood,
            words: words.map(str::to_owned),
        })
    }

    fn begin_phase(&mut self, fran: UserId, index: u32) {
        self.apply(Command::Moderate {
            actor: fran,
            request: ModRequest {
                index: Some(index),
                ..ModRequest::new(ModAction::Phase)
            },
        })
        .expect("the phase begins");
    }

    fn moved_on(&mut self, fran: UserId) {
        self.apply(Command::Moderate {
            actor: fran,
            request: ModRequest::new(ModAction::NextTurn),
        })
        .expect("the turn moves on");
    }

    fn close(&mut self, fran: UserId) -> Option<Debrief> {
        self.apply(Command::Moderate {
            actor: fran,
            request: ModRequest::new(ModAction::Close),
        })
        .expect("the session closes")
        .debrief
        .map(|d| *d)
    }
}

#[test]
fn a_check_in_is_for_the_facilitators_alone_and_goes_with_the_session() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let willow = s.join("Willow");
    let river = s.join("River");

    let told = s.mood(willow, false, 2, Some("tired, but here")).unwrap();
    let notice = told.mood.expect("the facilitators are told");
    assert_eq!(notice.member.name, "Willow");
    assert_eq!(notice.member.checkin.as_ref().map(|c| c.mood), Some(2));
    assert_eq!(notice.spread.checkin, [0, 1, 0, 0, 0]);
    assert!(
        told.events.is_empty(),
        "nothing reaches the room's timeline"
    );

    // A facilitator arriving is given it; a participant is given nobody's mood,
    // not even their own.
    let board = s.room.mood_board(fran).expect("a facilitator's board");
    assert_eq!(board.members.len(), 1);
    assert_eq!(
        board.members[0].checkin.as_ref().unwrap().words.as_deref(),
        Some("tired, but here")
    );
    assert_eq!(s.room.mood_board(river), None);
    assert_eq!(s.room.mood_board(willow), None);

    // A second check-in replaces the first; a check-out stands beside it.
    s.mood(willow, false, 3, None).unwrap();
    let out = s
        .mood(willow, true, 4, Some("lighter"))
        .unwrap()
        .mood
        .unwrap();
    assert_eq!(out.member.checkin.as_ref().map(|c| c.mood), Some(3));
    assert_eq!(out.spread.checkin, [0, 0, 1, 0, 0]);
    assert_eq!(out.spread.checkout, [0, 0, 0, 1, 0]);

    // Only a mood from 1 to 5, and only a participant's.
    for mood in [0, 6, 255] {
        assert!(matches!(
            s.mood(river, false, mood, None),
            Err(Rejection::BadRequest(_))
        ));
    }
    assert_eq!(s.mood(fran, false, 3, None), Err(Rejection::Forbidden));

    // The session closes and its check-ins with it.
    s.close(fran).expect("a debrief");
    s.room.set_open(true, s.now);
    let fran_again = s.facilitator("Fran again");
    assert_eq!(s.room.mood_board(fran_again).unwrap().members, Vec::new());
}

#[test]
fn the_debrief_counts_a_session_run_on_the_default_script() {
    let mut s = Scene::facilitated(12);
    let fran = s.facilitator("Fran");
    let willow = s.join("Willow");
    let river = s.join("River");

    // Check-in: Willow shares and checks in at 2; River passes.
    s.begin_phase(fran, 1);
    s.mood(willow, false, 2, Some("rough week")).unwrap();
    s.moved_on(fran);
    s.apply(Command::Pass { user: river }).unwrap();

    // Open sharing: two messages, a crisis the facilitator handles, a report left open.
    s.begin_phase(fran, 2);
    s.advance(10 * MIN);
    let said = s.say(willow, "a distinctive thing Willow said").unwrap();
    s.say(river, "thank you for sharing").unwrap();
    let crisis = s.crisis(willow, "c1", "I want to end it all").unwrap();
    let alert = crisis.alert.expect("an alert").id;
    // The same words again are the same open alert, counted once.
    s.crisis(willow, "c2", "I want to end it all").unwrap();
    s.ack_warning(fran, Some(alert)).unwrap();
    s.report(river, said).unwrap();

    // Check-out: both share, at 4 and 3.
    s.begin_phase(fran, 3);
    s.mood(willow, true, 4, None).unwrap();
    s.mood(river, true, 3, Some("calmer")).unwrap();
    s.moved_on(fran);
    s.moved_on(fran);
    s.advance(20 * MIN);

    let d = s.close(fran).expect("a session was on: its debrief");
    assert_eq!(d.minutes, 30);
    assert_eq!((d.peak, d.members), (2, 2));
    assert_eq!(
        d.messages, 4,
        "two shares and two crisis messages, as written"
    );
    assert_eq!((d.rounds, d.shared, d.passes), (2, 3, 1));
    assert_eq!(
        d.alerts,
        vec![
            AlertCount {
                kind: AlertKind::Crisis,
                raised: 1,
                handled: 1
            },
            AlertCount {
                kind: AlertKind::Report,
                raised: 1,
                handled: 0
            },
        ]
    );
    let count = |action| {
        d.actions
            .iter()
            .find(|a| a.action == action)
            .map_or(0, |a| a.count)
    };
    assert_eq!(count(ModAction::Phase), 3);
    assert_eq!(count(ModAction::NextTurn), 3);
    assert_eq!(count(ModAction::Resolve), 1);
    assert_eq!(
        count(ModAction::Close),
        0,
        "the close is not an action it lists"
    );
    assert_eq!(d.moods.checkin, [0, 1, 0, 0, 0]);
    assert_eq!(d.moods.checkout, [0, 0, 1, 1, 0]);

    // Counts only: no name, no words, no message text.
    let text = format!("{d:?}");
    for words in [
        "Willow",
        "River",
        "rough week",
        "calmer",
        "distinctive",
        "end it",
    ] {
        assert!(!text.contains(words), "the debrief holds {words:?}");
    }

    // Nothing of it is kept: the next session counts from nothing.
    s.room.set_open(true, s.now);
    let fran = s.facilitator("Fran");
    let next = s.close(fran).expect("the next session's debrief");
    assert_eq!((next.messages, next.rounds, next.members), (0, 0, 0));
    assert!(next.alerts.is_empty());
    assert_eq!(next.moods, kindred_protocol::MoodSpread::default());
}
