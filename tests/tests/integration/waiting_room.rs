//! The waiting room: while it is on, a participant waits outside until a facilitator
//! lets them in; they see nothing of the room until then, and the room nothing of them.

use kindred_protocol::http::CreateRoom;
use kindred_protocol::{
    AlertKind, ErrorCode, ModAction, ResumeKind, RoomId, ServerFrame, UserId, WaitingMember,
    close_code,
};
use kindred_tests::{ADMIN, Member, ModArgs, TestServer, conversation_continues};

/// An open drop-in room with the waiting room on.
async fn waiting_room(server: &TestServer) -> RoomId {
    server
        .room_with(CreateRoom {
            description: "A gentle group for anyone living with anxiety.".into(),
            open: Some(true),
            facilitated: Some(false),
            waiting_room: Some(true),
            ..CreateRoom::default()
        })
        .await
}

/// The next waiting list a facilitator is given.
async fn waiting_list(fran: &mut Member) -> Vec<WaitingMember> {
    fran.until(|f| match f {
        ServerFrame::Waiting { members } => Some(members.clone()),
        _ => None,
    })
    .await
}

/// Wait for the waiting list to name exactly these people, in this order.
async fn waiting_are(fran: &mut Member, names: &[&str]) {
    loop {
        let list = waiting_list(fran).await;
        let now: Vec<&str> = list.iter().map(|w| w.name.as_str()).collect();
        if now == names {
            return;
        }
    }
}

/// The room's welcome that follows an admission.
async fn let_in(member: &mut Member) -> kindred_protocol::Welcome {
    let (welcome, _backlog) = tokio::time::timeout(kindred_tests::WAIT, member.conn.read_welcome())
        .await
        .expect("the room's welcome arrives in time")
        .expect("the room's welcome");
    member.last_seq = welcome.seq;
    welcome
}

fn admit(user: UserId) -> ModArgs {
    ModArgs::user(user)
}

#[tokio::test]
async fn a_participant_waits_outside_until_a_facilitator_lets_them_in() {
    let server = TestServer::start().await;
    let room = waiting_room(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    assert!(!fran.welcome.you.waiting, "facilitators never wait");
    assert!(fran.welcome.state.waiting_room && fran.welcome.room.waiting_room);
    assert_eq!(waiting_list(&mut fran).await, vec![]);
    fran.say_acked("before anyone arrives").await;

    let mut alice = server.member(room, "Alice").await;
    // Alice reads the room's description and guidelines, and nothing of inside.
    let w = &alice.welcome;
    assert!(w.you.waiting);
    assert_eq!(
        w.room.description,
        "A gentle group for anyone living with anxiety."
    );
    assert!(!w.room.guidelines.is_empty());
    assert!(w.members.is_empty() && alice.backlog.is_empty() && w.seq == 0);
    // Fran hears the knock and sees Alice in the list.
    let (user, name) = fran
        .until(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Knock,
                user,
                name,
                ..
            } => Some((*user, name.clone())),
            _ => None,
        })
        .await;
    assert_eq!((user, name.as_str()), (alice.user(), "Alice"));
    waiting_are(&mut fran, &["Alice"]).await;
    // While waiting, Alice can only wait.
    alice.say("hello?").await;
    let refused = alice.error(ErrorCode::Waiting).await;
    assert!(
        refused.message.contains("waiting room"),
        "{}",
        refused.message
    );
    fran.say_acked("still just us").await;

    let admitted_at = fran
        .moderate(ModAction::Admit, admit(alice.user()))
        .await
        .expect("Fran lets Alice in");
    // The first thing Alice receives after her waiting welcome is the room: nothing
    // said while she waited reached her outside.
    let welcome = let_in(&mut alice).await;
    assert!(!welcome.you.waiting);
    assert_eq!(welcome.resume, ResumeKind::Fresh);
    assert!(welcome.seq >= admitted_at);
    let names: Vec<&str> = welcome.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Fran", "Alice"]);
    // The room sees her arrive; the list is empty again; the log says who let her in.
    let joined = fran
        .until(|f| match f {
            ServerFrame::Joined { seq, member, .. } if member.name == "Alice" => Some(*seq),
            _ => None,
        })
        .await;
    assert_eq!(joined, admitted_at);
    waiting_are(&mut fran, &[]).await;
    let entry = fran
        .until(|f| match f {
            ServerFrame::ModLog { entries } => entries
                .iter()
                .find(|e| e.action == ModAction::Admit)
                .cloned(),
            _ => None,
        })
        .await;
    assert_eq!(entry.by_name, "Fran");
    assert_eq!(entry.name.as_deref(), Some("Alice"));
    conversation_continues(&mut fran, &mut alice, "welcome, Alice").await;
    conversation_continues(&mut alice, &mut fran, "thank you").await;
    server.stop().await;
}

#[tokio::test]
async fn admit_all_lets_everyone_in_in_the_order_they_arrived() {
    let server = TestServer::start().await;
    let room = waiting_room(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    waiting_are(&mut fran, &["Alice"]).await;
    let mut bob = server.member(room, "Bob").await;
    waiting_are(&mut fran, &["Alice", "Bob"]).await;
    fran.moderate(ModAction::AdmitAll, ModArgs::default())
        .await
        .expect("Fran lets everyone in");
    let (a, b) = (let_in(&mut alice).await, let_in(&mut bob).await);
    assert!(!a.you.waiting && !b.you.waiting);
    let mut arrivals = Vec::new();
    while arrivals.len() < 2 {
        let name = fran
            .until(|f| match f {
                ServerFrame::Joined { member, .. } => Some(member.name.clone()),
                _ => None,
            })
            .await;
        arrivals.push(name);
    }
    assert_eq!(arrivals, ["Alice", "Bob"]);
    conversation_continues(&mut alice, &mut bob, "hi Bob").await;
    server.stop().await;
}

#[tokio::test]
async fn turning_the_waiting_room_off_lets_everyone_waiting_in() {
    let server = TestServer::start().await;
    let room = waiting_room(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    waiting_are(&mut fran, &["Alice"]).await;
    fran.moderate(
        ModAction::WaitingRoom,
        ModArgs {
            on: Some(false),
            ..ModArgs::default()
        },
    )
    .await
    .expect("Fran turns the waiting room off");
    let welcome = let_in(&mut alice).await;
    assert!(!welcome.you.waiting && !welcome.state.waiting_room);
    // The room sees the change; the next participant walks straight in.
    let on = fran
        .until(|f| match f {
            ServerFrame::WaitingRoom { on, .. } => Some(*on),
            _ => None,
        })
        .await;
    assert!(!on);
    let mut bob = server.member(room, "Bob").await;
    assert!(!bob.welcome.you.waiting);
    conversation_continues(&mut bob, &mut alice, "straight in").await;
    // A waiting_room action needs `on`.
    let refused = fran
        .moderate(ModAction::WaitingRoom, ModArgs::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::BadRequest);
    server.stop().await;
}

#[tokio::test]
async fn a_participant_turned_away_is_told_kindly_and_disconnected() {
    let server = TestServer::start().await;
    let room = waiting_room(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    waiting_are(&mut fran, &["Alice"]).await;
    fran.moderate(ModAction::Deny, ModArgs::user(alice.user()))
        .await
        .expect("Fran turns Alice away");
    let denied = alice.error(ErrorCode::Denied).await;
    assert!(denied.message.contains("take care"), "{}", denied.message);
    assert_eq!(alice.closed().await.0, close_code::REMOVED);
    waiting_are(&mut fran, &[]).await;
    // The room never saw her: nobody joined or left. Gus, arriving now, is given the
    // room's history and its members as they are after the knock and the denial.
    let seq = fran.say_acked("carrying on").await;
    let gus = server.facilitator(room, "Gus").await;
    let alice_in_history: Vec<&ServerFrame> = gus
        .backlog
        .iter()
        .filter(|f| match f {
            ServerFrame::Joined { member, .. } => member.user == alice.user(),
            ServerFrame::Left { user, .. } => *user == alice.user(),
            _ => false,
        })
        .collect();
    assert!(alice_in_history.is_empty(), "{alice_in_history:?}");
    assert!(
        gus.backlog
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { seq: s, .. } if *s == seq)),
        "the history reaches what Fran said after the denial"
    );
    let names: Vec<&str> = gus
        .welcome
        .members
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["Fran", "Gus"]);
    let rooms = server.http.rooms().await.expect("directory").rooms;
    let summary = rooms.iter().find(|r| r.id == room).expect("listed");
    assert_eq!(summary.members, 2, "only Fran and Gus are in the room");
    // Admitting or turning away someone who is not waiting is not_found.
    for action in [ModAction::Admit, ModAction::Deny] {
        let err = fran
            .moderate(action, ModArgs::user(alice.user()))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound, "{action:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_waiting_participant_whose_connection_drops_is_still_waiting_on_return() {
    let server = TestServer::start().await;
    let room = waiting_room(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let alice = server.member(room, "Alice").await;
    waiting_are(&mut fran, &["Alice"]).await;
    let joined = alice.joined.clone();
    drop(alice);
    // Fran sees Alice drop: still listed, not online.
    loop {
        let list = waiting_list(&mut fran).await;
        if list.len() == 1 && !list[0].online {
            break;
        }
    }
    // Back on the bus's next stop, offering the waiting welcome's seq and epoch: she
    // is still waiting, not let in by reconnecting.
    let mut alice = server.resume(joined, 0, 0).await;
    assert!(alice.welcome.you.waiting);
    assert!(alice.welcome.members.is_empty() && alice.backlog.is_empty());
    loop {
        let list = waiting_list(&mut fran).await;
        if list.len() == 1 && list[0].online {
            break;
        }
    }
    fran.moderate(ModAction::Admit, ModArgs::user(alice.user()))
        .await
        .expect("Fran lets her in");
    assert!(!let_in(&mut alice).await.you.waiting);
    conversation_continues(&mut alice, &mut fran, "made it").await;
    server.stop().await;
}

#[tokio::test]
async fn a_facilitator_who_arrives_later_sees_who_is_waiting() {
    let server = TestServer::start().await;
    let room = waiting_room(&server).await;
    let _alice = server.member(room, "Alice").await;
    let _bob = server.member(room, "Bob").await;
    let mut gus = server.facilitator(room, "Gus").await;
    waiting_are(&mut gus, &["Alice", "Bob"]).await;
    // Two waiting participants hold two seats: a room of three is full for a third.
    let http = reqwest::Client::builder()
        .timeout(kindred_tests::WAIT)
        .build()
        .unwrap();
    let lowered = http
        .patch(format!("{}/api/rooms/{room}", server.base()))
        .bearer_auth(ADMIN)
        .json(&kindred_protocol::http::UpdateRoom {
            capacity: Some(3),
            ..Default::default()
        })
        .send()
        .await
        .expect("capacity lowered");
    assert_eq!(lowered.status(), 200);
    let refused = server.join(room, "Cleo").await.unwrap_err();
    assert!(
        matches!(
            refused,
            kindred_protocol::client::ClientError::Http { status: 409, .. }
        ),
        "{refused:?}"
    );
    server.stop().await;
}
