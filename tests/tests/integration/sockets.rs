//! Every socket accounted for: when someone's stay in a room ends, for any reason,
//! every connection of theirs is closed, and nothing said after reaches any of them.
//! Someone waiting or turned away is shown nothing of inside, and who is inside cannot
//! be learned from the door.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kindred_protocol::client::{ClientError, Connection, Received};
use kindred_protocol::http::{CreateRoom, JoinRequest, JoinResponse};
use kindred_protocol::{
    AlertKind, ClientFrame, ErrorCode, LeftReason, ModAction, RoomId, ServerFrame, UserId,
    close_code,
};
use kindred_tests::{ADMIN, Member, ModArgs, TestServer};

/// Everything a connection is given until the server closes it: the raw frames and
/// the close code.
async fn until_closed(conn: &mut Connection) -> (Vec<String>, u16) {
    let deadline = tokio::time::Instant::now() + kindred_tests::WAIT;
    let mut frames = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, conn.recv())
            .await
            .expect("the server closes this connection in time")
        {
            Ok(Received::Text(t)) => frames.push(t),
            Ok(Received::Closed { code, .. }) => return (frames, code),
            Err(_) => return (frames, 1006),
        }
    }
}

/// Whether any of the frames is the message `text`.
fn heard(frames: &[String], text: &str) -> bool {
    frames.iter().any(|f| {
        matches!(serde_json::from_str::<ServerFrame>(f),
            Ok(ServerFrame::Message { text: t, .. }) if t == text)
    })
}

/// `who`'s other tab: a second connection with the same token.
async fn second_tab(server: &TestServer, joined: &JoinResponse) -> Member {
    server.connect(joined.clone()).await
}

/// Wait until `watcher` sees `user` leave the room, for this reason.
async fn sees_leave(watcher: &mut Member, user: UserId, why: LeftReason) {
    watcher
        .until(|f| match f {
            ServerFrame::Left {
                user: u, reason, ..
            } if *u == user && *reason == why => Some(()),
            _ => None,
        })
        .await;
}

#[tokio::test]
async fn a_second_tab_is_closed_and_hears_nothing_after_its_member_leaves() {
    let server = TestServer::start().await;
    let room = server.room(10).await;
    let mut robin = server.member(room, "Robin").await;
    let alice = server.join(room, "Alice").await.expect("Alice joins");
    let mut laptop = server.connect(alice.clone()).await;
    let mut phone = second_tab(&server, &alice).await;
    robin.say_acked("welcome, Alice").await;

    laptop.send(ClientFrame::Leave).await;
    sees_leave(&mut robin, alice.user_id, LeftReason::Left).await;
    robin.say_acked("now that Alice has gone").await;

    let (frames, code) = until_closed(&mut phone.conn).await;
    assert_eq!(code, close_code::NORMAL, "the phone is told she left");
    assert!(
        !heard(&frames, "now that Alice has gone"),
        "the phone heard the room after Alice left: {frames:?}"
    );
    let (_, code) = until_closed(&mut laptop.conn).await;
    assert_eq!(code, close_code::NORMAL);
    // The room agrees: Alice is not a member, so there is nothing left to remove.
    let rooms = server.http.rooms().await.expect("the directory").rooms;
    let here = rooms.iter().find(|r| r.id == room).expect("the room");
    assert_eq!(here.members, 1, "only Robin is in the room");
    server.stop().await;
}

#[tokio::test]
async fn a_facilitator_who_leaves_hears_no_alert_and_no_whisper_on_another_tab() {
    let server = TestServer::start().await;
    let room = server.room(10).await;
    let mut sam = server.facilitator(room, "Sam").await;
    let fran = server.join_facilitator(room, "Fran").await;
    let mut fran_desk = server.connect(fran.clone()).await;
    let mut fran_phone = second_tab(&server, &fran).await;
    let mut willow = server.member(room, "Willow").await;

    fran_desk.send(ClientFrame::Leave).await;
    sees_leave(&mut willow, fran.user_id, LeftReason::Left).await;
    willow.say_acked("i want to end it all tonight").await;
    willow
        .send(ClientFrame::Whisper {
            to: None,
            text: "can someone talk to me privately".into(),
        })
        .await;
    // Sam, still here, is given both: they were sent after Fran left.
    sam.until(|f| {
        matches!(
            f,
            ServerFrame::Alert {
                kind: AlertKind::Crisis,
                ..
            }
        )
        .then_some(())
    })
    .await;
    sam.until(|f| matches!(f, ServerFrame::Whisper { .. }).then_some(()))
        .await;

    let (frames, code) = until_closed(&mut fran_phone.conn).await;
    assert_eq!(code, close_code::NORMAL);
    for f in &frames {
        assert!(
            !f.contains("end it all") && !f.contains("privately"),
            "Fran's other tab was given {f}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn every_tab_goes_when_a_member_is_removed_banned_or_their_invite_revoked() {
    let server = TestServer::start().await;
    let room = server.room(10).await;
    let mut sam = server.facilitator(room, "Sam").await;

    // Removed through the admin API.
    let river = server.join(room, "River").await.expect("River joins");
    let mut river_tabs = [
        server.connect(river.clone()).await,
        second_tab(&server, &river).await,
    ];
    server
        .http
        .remove_member(ADMIN, room, river.user_id)
        .await
        .expect("the operator removes River");
    sees_leave(&mut sam, river.user_id, LeftReason::Removed).await;
    sam.say_acked("after River").await;
    for tab in &mut river_tabs {
        let (frames, code) = until_closed(&mut tab.conn).await;
        assert_eq!(code, close_code::REMOVED);
        assert!(!heard(&frames, "after River"));
    }

    // Banned by a facilitator.
    let ash = server.join(room, "Ash").await.expect("Ash joins");
    let mut ash_tabs = [
        server.connect(ash.clone()).await,
        second_tab(&server, &ash).await,
    ];
    sam.moderate(ModAction::Ban, ModArgs::user(ash.user_id))
        .await
        .expect("Sam bans Ash");
    sam.say_acked("after Ash").await;
    for tab in &mut ash_tabs {
        let (frames, code) = until_closed(&mut tab.conn).await;
        assert_eq!(code, close_code::REMOVED);
        assert!(!heard(&frames, "after Ash"));
    }

    // A co-facilitator whose invite is revoked: both tabs go, and a tab that had
    // already left the room is no exception.
    let invite = server
        .http
        .invite(ADMIN, room, &Default::default())
        .await
        .expect("invite minted");
    let kit = server
        .http
        .join(
            room,
            &JoinRequest {
                name: "Kit".into(),
                accept_guidelines: true,
                invite: invite.token,
                ..JoinRequest::default()
            },
        )
        .await
        .expect("Kit joins with the invite");
    let mut kit_tabs = [
        server.connect(kit.clone()).await,
        second_tab(&server, &kit).await,
    ];
    server
        .http
        .revoke_invite(ADMIN, room, invite.id)
        .await
        .expect("the operator revokes Kit's invite");
    sees_leave(&mut sam, kit.user_id, LeftReason::Removed).await;
    sam.say_acked("after Kit").await;
    for tab in &mut kit_tabs {
        let (frames, code) = until_closed(&mut tab.conn).await;
        assert_eq!(code, close_code::REMOVED);
        assert!(!heard(&frames, "after Kit"));
    }
    server.stop().await;
}

/// Connect with `token` again and again until `stop`, as a tab that keeps reloading,
/// keeping every frame each of those connections was given (the welcome and its
/// backlog included).
async fn reconnect_loop(
    ws_url: String,
    token: String,
    stop: Arc<AtomicBool>,
    attempts: Arc<AtomicUsize>,
) -> Vec<Vec<String>> {
    let mut seen = Vec::new();
    while !stop.load(Ordering::Acquire) {
        attempts.fetch_add(1, Ordering::Relaxed);
        let Ok(mut conn) = Connection::open(&ws_url).await else {
            continue;
        };
        let hello = ClientFrame::Hello {
            first_time: false,
            token: token.clone(),
            last_seq: None,
            epoch: None,
        };
        if conn.send(&hello).await.is_err() {
            continue;
        }
        let mut frames = Vec::new();
        // Whatever it is given until the server closes it, or a moment passes and
        // this tab reloads.
        let reload = tokio::time::Instant::now() + std::time::Duration::from_millis(5);
        while let Ok(Ok(Received::Text(t))) = tokio::time::timeout_at(reload, conn.recv()).await {
            frames.push(t);
        }
        seen.push(frames);
    }
    seen
}

// On several threads, as the server runs: a connection's arrival and the ban's
// delivery really do happen at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ban_racing_reconnecting_tabs_leaves_them_nothing_to_hear() {
    let server = TestServer::start().await;
    let room = server.room(50).await;
    let mut sam = server.facilitator(room, "Sam").await;
    let mut connections = 0;
    // Each round, a member's tabs keep reconnecting while a facilitator bans them:
    // a connection arriving as the ban lands must not be let in after it.
    for round in 0..8 {
        let quinn = server
            .join(room, &format!("Quinn {round}"))
            .await
            .expect("Quinn joins");
        let _first = server.connect(quinn.clone()).await;
        let stop = Arc::new(AtomicBool::new(false));
        let attempts = Arc::new(AtomicUsize::new(0));
        let loops: Vec<_> = (0..4)
            .map(|_| {
                tokio::spawn(reconnect_loop(
                    server.ws_url(),
                    quinn.token.clone(),
                    stop.clone(),
                    attempts.clone(),
                ))
            })
            .collect();
        while attempts.load(Ordering::Relaxed) < 20 {
            tokio::task::yield_now().await;
        }
        let banned_at = sam
            .moderate(ModAction::Ban, ModArgs::user(quinn.user_id))
            .await
            .expect("Sam bans Quinn");
        sam.say_acked("said after the ban").await;
        let after = attempts.load(Ordering::Relaxed);
        while attempts.load(Ordering::Relaxed) < after + 20 {
            tokio::task::yield_now().await;
        }
        stop.store(true, Ordering::Release);
        for l in loops {
            for frames in l.await.expect("the loop ran") {
                connections += 1;
                for f in &frames {
                    let Ok(frame) = serde_json::from_str::<ServerFrame>(f) else {
                        panic!("not a frame: {f}");
                    };
                    // Their own `left` (at the ban's seq) may reach a tab that was
                    // in the room; a welcome at or after it, or anything later, not.
                    let late = match &frame {
                        ServerFrame::Welcome(w) => w.seq >= banned_at,
                        other => other.seq().is_some_and(|s| s > banned_at),
                    };
                    assert!(
                        !late,
                        "a tab of Quinn {round}'s was given {f} after the ban"
                    );
                }
            }
        }
    }
    assert!(
        connections > 300,
        "only {connections} connections were tried"
    );
    server.stop().await;
}

/// An open drop-in room with the waiting room on.
async fn with_waiting_room(server: &TestServer) -> RoomId {
    server
        .room_with(CreateRoom {
            open: Some(true),
            facilitated: Some(false),
            waiting_room: Some(true),
            ..CreateRoom::default()
        })
        .await
}

#[tokio::test]
async fn someone_waiting_or_turned_away_is_shown_nothing_of_inside() {
    let server = TestServer::start().await;
    let room = with_waiting_room(&server).await;
    let mut sam = server.facilitator(room, "Sam").await;
    let mut willow = server.member(room, "Willow").await;
    sam.moderate(ModAction::Admit, ModArgs::user(willow.user()))
        .await
        .expect("Sam lets Willow in");
    kindred_tests::conversation_continues(&mut sam, &mut willow, "welcome in").await;
    sam.moderate(
        ModAction::Announce,
        ModArgs {
            text: Some("Pinned: tonight we talk about sleep".into()),
            ..ModArgs::default()
        },
    )
    .await
    .expect("Sam pins an announcement");
    sam.moderate(ModAction::Floor, ModArgs::user(willow.user()))
        .await
        .expect("Sam gives Willow the floor");

    let rue = server.join(room, "Rue").await.expect("Rue joins");
    let mut door = Connection::open(&server.ws_url()).await.expect("socket");
    door.send(&ClientFrame::Hello {
        first_time: false,
        token: rue.token.clone(),
        last_seq: None,
        epoch: None,
    })
    .await
    .expect("hello sent");
    // Sam knows Rue is waiting once the list names her.
    sam.until(|f| match f {
        ServerFrame::Waiting { members } => members.iter().any(|m| m.name == "Rue").then_some(()),
        _ => None,
    })
    .await;
    sam.moderate(ModAction::Deny, ModArgs::user(rue.user_id))
        .await
        .expect("Sam turns Rue away");
    let (frames, code) = until_closed(&mut door).await;
    assert_eq!(code, close_code::REMOVED);
    assert!(
        frames.iter().any(|f| f.contains("\"denied\"")),
        "Rue is told: {frames:?}"
    );
    let inside = [
        "Pinned".to_owned(),
        "sleep".to_owned(),
        willow.user().to_string(),
        sam.user().to_string(),
        "welcome in".to_owned(),
    ];
    for f in &frames {
        for secret in &inside {
            assert!(
                !f.contains(secret.as_str()),
                "Rue was shown {secret} in {f}"
            );
        }
    }
    let welcome = frames
        .iter()
        .find_map(|f| match serde_json::from_str::<ServerFrame>(f) {
            Ok(ServerFrame::Welcome(w)) => Some(w),
            _ => None,
        })
        .expect("a waiting welcome");
    assert!(welcome.you.waiting);
    assert_eq!(welcome.state.floor, None);
    assert_eq!(welcome.state.announcement, None);
    assert!(welcome.members.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn turned_away_and_banned_in_one_step_holds_like_any_ban() {
    let server = TestServer::start().await;
    let room = with_waiting_room(&server).await;
    let mut sam = server.facilitator(room, "Sam").await;
    let device = "rue-browser-0123456789abcdef".to_owned();
    let join = |name: &str| JoinRequest {
        name: name.into(),
        accept_guidelines: true,
        device: Some(device.clone()),
        ..JoinRequest::default()
    };
    let rue = server
        .http
        .join(room, &join("Rue"))
        .await
        .expect("Rue joins");
    let mut rue = server.connect(rue).await;
    assert!(rue.welcome.you.waiting);
    sam.until(|f| match f {
        ServerFrame::Waiting { members } => members.iter().any(|m| m.name == "Rue").then_some(()),
        _ => None,
    })
    .await;
    sam.moderate(
        ModAction::Deny,
        ModArgs {
            ban: Some(true),
            ..ModArgs::user(rue.user())
        },
    )
    .await
    .expect("Sam turns Rue away and bans her");
    rue.error(ErrorCode::Denied).await;
    assert_eq!(rue.closed().await.0, close_code::REMOVED);
    // The same browser under another name is refused at the door.
    match server.http.join(room, &join("Someone new")).await {
        Err(ClientError::Http { status, body }) => {
            assert_eq!(status, 403);
            assert_eq!(body.expect("a body").code, ErrorCode::Banned);
        }
        other => panic!("a banned device joined again: {other:?}"),
    }
    // And the log says what holds: a ban.
    let entry = sam
        .until(|f| match f {
            ServerFrame::ModLog { entries } => entries
                .iter()
                .find(|e| e.name.as_deref() == Some("Rue"))
                .cloned(),
            _ => None,
        })
        .await;
    assert_eq!(entry.action, ModAction::Ban);
    server.stop().await;
}

/// What a join under `name` is answered: the HTTP status and the error code.
async fn door(server: &TestServer, room: RoomId, name: &str) -> (u16, Option<ErrorCode>) {
    match server.join(room, name).await {
        Ok(_) => (200, None),
        Err(ClientError::Http { status, body }) => (status, body.map(|b| b.code)),
        Err(e) => panic!("join failed: {e}"),
    }
}

#[tokio::test]
async fn the_door_does_not_tell_who_is_inside() {
    let server = TestServer::start().await;
    let room = server.room(10).await;
    let mut sam = server.facilitator(room, "Sam").await;
    let _robin = server.member(room, "Robin").await;

    // Locked: a look-alike of Robin's name and any other name are answered alike.
    sam.moderate(ModAction::Lock, ModArgs::default())
        .await
        .expect("Sam locks the room");
    let lookalike = door(&server, room, "ROBIN").await;
    assert_eq!(lookalike, (403, Some(ErrorCode::Locked)));
    assert_eq!(door(&server, room, "Zed").await, lookalike);
    sam.moderate(ModAction::Unlock, ModArgs::default())
        .await
        .expect("Sam unlocks");
    // Let in, the look-alike is refused: it would be mistaken for Robin.
    assert_eq!(
        door(&server, room, "ROBIN").await,
        (400, Some(ErrorCode::BadRequest))
    );

    // Closed between sessions: the same answer for Sam's look-alike and for anyone.
    sam.moderate(ModAction::Close, ModArgs::default())
        .await
        .expect("Sam closes the session");
    let closed = door(&server, room, "Sam").await;
    assert_eq!(closed, (403, Some(ErrorCode::Closed)));
    assert_eq!(door(&server, room, "Zed").await, closed);
    server.stop().await;
}

#[tokio::test]
async fn a_waiting_room_lets_a_look_alike_knock_and_tells_the_facilitator_at_the_door() {
    let server = TestServer::start().await;
    let room = with_waiting_room(&server).await;
    let mut sam = server.facilitator(room, "Sam").await;
    let mut robin = server.member(room, "Robin").await;
    sam.moderate(ModAction::Admit, ModArgs::user(robin.user()))
        .await
        .expect("Sam lets Robin in");
    kindred_tests::conversation_continues(&mut sam, &mut robin, "hello Robin").await;

    // Outside, a look-alike is answered as anyone is: come in and wait.
    let other = server.member(room, "ROBIN").await;
    assert!(other.welcome.you.waiting);
    let refused = sam
        .moderate(ModAction::Admit, ModArgs::user(other.user()))
        .await
        .expect_err("a look-alike of a member is not let in");
    assert_eq!(refused.code, ErrorCode::BadRequest);
    assert!(
        refused.message.contains("looks like"),
        "{}",
        refused.message
    );
    server.stop().await;
}
