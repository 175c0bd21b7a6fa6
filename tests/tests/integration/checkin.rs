//! Check-in and check-out over real sockets, on either broker: a participant's mood
//! reaches the facilitators and nobody else (a late facilitator finds it in the
//! `welcome`, a late participant does not); a bad mood is refused before it reaches
//! the room. At the close, each facilitator connected is given the session's debrief,
//! with the right counts and none of the words said in it; a participant is not.

use kindred_protocol::client::Received;
use kindred_protocol::{ClientFrame, ErrorCode, ModAction, ServerFrame, TurnDone};
use kindred_tests::{Member, ModArgs, TestServer, WAIT};

/// An open room with the default script, not held while no facilitator is there.
async fn group(server: &TestServer) -> kindred_protocol::RoomId {
    server
        .room_with(kindred_protocol::http::CreateRoom {
            open: Some(true),
            facilitated: Some(false),
            ..Default::default()
        })
        .await
}

fn checkin(mood: u8, words: Option<&str>) -> ClientFrame {
    ClientFrame::Checkin {
        mood,
        words: words.map(str::to_owned),
    }
}

fn checkout(mood: u8, words: Option<&str>) -> ClientFrame {
    ClientFrame::Checkout {
        mood,
        words: words.map(str::to_owned),
    }
}

/// The next `mood` frame: who, their check-in and check-out moods, and the spread.
async fn mood_seen(m: &mut Member) -> (String, Option<u8>, Option<u8>, [[u32; 5]; 2]) {
    m.until(|f| match f {
        ServerFrame::Mood { member, spread } => Some((
            member.name.clone(),
            member.checkin.as_ref().map(|g| g.mood),
            member.checkout.as_ref().map(|g| g.mood),
            [spread.checkin, spread.checkout],
        )),
        _ => None,
    })
    .await
}

async fn to_phase(fran: &mut Member, index: u32) {
    fran.moderate(
        ModAction::Phase,
        ModArgs {
            index: Some(index),
            ..ModArgs::default()
        },
    )
    .await
    .expect("the facilitator moves the group");
}

/// Every text frame a connection is given until the server closes it, as sent.
async fn texts_until_closed(m: &mut Member) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut texts = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, m.conn.recv())
            .await
            .expect("the server closes in time")
        {
            Ok(Received::Text(t)) => texts.push(t),
            Ok(Received::Closed { .. }) | Err(_) => return texts,
        }
    }
}

fn kind_of(text: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(text).expect("a JSON frame");
    v["type"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_mood_reaches_the_facilitators_alone_and_a_late_facilitator_finds_it_in_the_welcome() {
    let server = TestServer::start().await;
    let room = group(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    assert_eq!(
        fran.welcome.moods.as_ref().map(|b| b.members.len()),
        Some(0),
        "a facilitator's welcome has the board, empty so far"
    );
    let mut willow = server.member(room, "Willow").await;
    let mut river = server.member(room, "River").await;
    assert!(river.welcome.moods.is_none(), "a participant has no board");

    willow.send(checkin(2, Some("tired, but here"))).await;
    let seen = mood_seen(&mut fran).await;
    assert_eq!(
        seen,
        ("Willow".into(), Some(2), None, [[0, 1, 0, 0, 0], [0; 5]])
    );

    // River, and Willow's own tab, are given nothing of it.
    for (m, marker) in [
        (&mut river, "River is here"),
        (&mut willow, "Willow is here"),
    ] {
        let frames = m.frames_until_said(marker).await;
        assert!(
            !frames.iter().any(|f| matches!(f, ServerFrame::Mood { .. })),
            "a participant was given a mood: {frames:?}"
        );
    }

    // A facilitator arriving late finds it in the welcome; a participant does not.
    let sage = server.facilitator(room, "Sage").await;
    let board = sage.welcome.moods.clone().expect("the facilitator's board");
    assert_eq!(board.members.len(), 1);
    let given = board.members[0].checkin.clone().expect("Willow's check-in");
    assert_eq!(
        (
            board.members[0].name.as_str(),
            given.mood,
            given.words.as_deref()
        ),
        ("Willow", 2, Some("tired, but here"))
    );
    let ash = server.member(room, "Ash").await;
    assert!(ash.welcome.moods.is_none());
    assert!(
        !serde_json::to_string(&ash.backlog)
            .unwrap()
            .contains("tired"),
        "a participant's history holds no one's words"
    );

    // Refused before it reaches the room: a mood out of range, words too long, a
    // facilitator's own.
    river.send(checkin(0, None)).await;
    river.error(ErrorCode::BadRequest).await;
    river.send(checkout(6, None)).await;
    river.error(ErrorCode::BadRequest).await;
    river.send(checkin(3, Some(&"long ".repeat(40)))).await;
    river.error(ErrorCode::TooLarge).await;
    fran.send(checkin(3, None)).await;
    fran.error(ErrorCode::Forbidden).await;
    // River's next, good check-in is the one the facilitators are given next.
    river.send(checkin(4, None)).await;
    let seen = mood_seen(&mut fran).await;
    assert_eq!(seen.0, "River");
    assert_eq!(seen.3[0], [0, 1, 0, 1, 0]);
}

#[tokio::test]
async fn the_debrief_at_close_counts_the_session_and_holds_no_words() {
    let server = TestServer::start().await;
    let room = group(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut willow = server.member(room, "Willow").await;
    let mut river = server.member(room, "River").await;

    // The check-in round: Willow checks in and shares; River passes.
    to_phase(&mut fran, 1).await;
    willow.send(checkin(2, Some("rough week"))).await;
    mood_seen(&mut fran).await;
    fran.moderate(ModAction::NextTurn, ModArgs::default())
        .await
        .unwrap();
    let rivers = river.user();
    river
        .until(|f| {
            matches!(f, ServerFrame::Floor { user: Some(u), .. } if *u == rivers).then_some(())
        })
        .await;
    river.send(ClientFrame::Pass).await;
    fran.until(|f| match f {
        ServerFrame::Round(r)
            if r.round
                .turns
                .iter()
                .any(|t| t.done == Some(TurnDone::Passed)) =>
        {
            Some(())
        }
        _ => None,
    })
    .await;

    // Open sharing: something only Willow would say, and River's thanks.
    to_phase(&mut fran, 2).await;
    let secret = "the lighthouse keeper's blue notebook 7741";
    willow.say_acked(secret).await;
    river.say_acked("thank you for sharing").await;

    // The check-out round: both check out and share.
    to_phase(&mut fran, 3).await;
    willow.send(checkout(4, None)).await;
    river.send(checkout(3, Some("calmer"))).await;
    mood_seen(&mut fran).await;
    mood_seen(&mut fran).await;
    for _ in 0..2 {
        fran.moderate(ModAction::NextTurn, ModArgs::default())
            .await
            .unwrap();
    }

    fran.send(ModArgs::default().frame("close", ModAction::Close))
        .await;
    let texts = texts_until_closed(&mut fran).await;
    let kinds: Vec<String> = texts.iter().map(|t| kind_of(t)).collect();
    let at = kinds
        .iter()
        .position(|k| k == "debrief")
        .unwrap_or_else(|| panic!("no debrief among {kinds:?}"));
    assert!(
        kinds[at..].iter().any(|k| k == "closed"),
        "the debrief comes before the close: {kinds:?}"
    );
    let text = &texts[at];
    for words in [
        secret,
        "lighthouse",
        "rough week",
        "calmer",
        "Willow",
        "River",
    ] {
        assert!(!text.contains(words), "the debrief holds {words:?}: {text}");
    }
    let ServerFrame::Debrief(d) = serde_json::from_str::<ServerFrame>(text).expect("a frame")
    else {
        panic!("not a debrief: {text}");
    };
    assert_eq!((d.peak, d.members), (2, 2));
    assert_eq!(d.messages, 2);
    assert_eq!((d.rounds, d.shared, d.passes), (2, 3, 1));
    assert!(d.alerts.is_empty(), "nothing was raised: {:?}", d.alerts);
    assert_eq!(d.moods.checkin, [0, 1, 0, 0, 0]);
    assert_eq!(d.moods.checkout, [0, 0, 1, 1, 0]);
    let phases = d.actions.iter().find(|a| a.action == ModAction::Phase);
    assert_eq!(phases.map(|a| a.count), Some(3));

    // A participant hears the close and nothing of the debrief.
    let willows = texts_until_closed(&mut willow).await;
    assert!(willows.iter().any(|t| kind_of(t) == "closed"));
    assert!(!willows.iter().any(|t| kind_of(t) == "debrief"));
}
