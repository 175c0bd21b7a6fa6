//! Share the air: each facilitator's connection is given every participant's share of
//! the session's conversation (`share_the_air`) after its welcome and when a figure
//! changes; a participant never is. The figures are the room's own, so a facilitator
//! on another instance of a Redis deployment is given the same ones.

use kindred_protocol::client::Connection;
use kindred_protocol::http::CreateRoom;
use kindred_protocol::{AirShare, ClientFrame, RoomId, ServerFrame, UserId};
use kindred_tests::redis::RedisServer;
use kindred_tests::{Member, TestServer, WAIT};

async fn open_room(server: &TestServer) -> RoomId {
    server
        .room_with(CreateRoom {
            open: Some(true),
            facilitated: Some(false),
            ..CreateRoom::default()
        })
        .await
}

/// A participant who says, joining, that this is their first time here.
async fn first_timer(server: &TestServer, ws_url: &str, room: RoomId, name: &str) -> Member {
    let joined = server.join(room, name).await.expect("join accepted");
    let mut conn = Connection::open(ws_url).await.expect("socket opens");
    conn.send(&ClientFrame::Hello {
        token: joined.token.clone(),
        last_seq: None,
        epoch: None,
        first_time: true,
    })
    .await
    .expect("hello sent");
    let (welcome, backlog) = tokio::time::timeout(WAIT, conn.read_welcome())
        .await
        .expect("the welcome arrives in time")
        .expect("welcome");
    Member::new(conn, welcome, backlog, joined)
}

/// The next `share_the_air` a facilitator is given whose figures satisfy `settled`.
async fn air_where(fac: &mut Member, settled: impl Fn(&[AirShare]) -> bool) -> Vec<AirShare> {
    fac.until(|f| match f {
        ServerFrame::ShareTheAir { members } if settled(members) => Some(members.clone()),
        _ => None,
    })
    .await
}

fn of(air: &[AirShare], user: UserId) -> &AirShare {
    air.iter()
        .find(|a| a.user == user)
        .expect("every participant is listed")
}

#[tokio::test]
async fn a_facilitator_is_given_each_participants_share_and_a_participant_never_is() {
    let server = TestServer::start().await;
    let room = open_room(&server).await;
    let mut alice = first_timer(&server, &server.ws_url(), room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let mut fran = server.facilitator(room, "Fran").await;

    // Arriving, Fran is given the figures as they stand: nobody has spoken yet.
    let arrival = air_where(&mut fran, |_| true).await;
    let listed: Vec<UserId> = arrival.iter().map(|a| a.user).collect();
    assert_eq!(
        listed,
        [alice.user(), bob.user()],
        "participants, in order of arrival"
    );
    assert!(
        arrival
            .iter()
            .all(|a| a.messages == 0 && a.last_spoke.is_none())
    );
    assert!(
        of(&arrival, alice.user()).first_time,
        "Alice said so joining"
    );
    assert!(!of(&arrival, bob.user()).first_time);

    let first = alice.say_acked("hello everyone").await;
    alice.say_acked("it has been a long week").await;
    let spoke = fran
        .until(|f| match f {
            ServerFrame::Message { seq, ts, .. } if *seq > first => Some(*ts),
            _ => None,
        })
        .await;
    let air = air_where(&mut fran, |air| of(air, alice.user()).messages == 2).await;
    let alices = of(&air, alice.user());
    assert_eq!(
        alices.chars as usize,
        "hello everyone".chars().count() + "it has been a long week".chars().count()
    );
    assert_eq!(
        alices.last_spoke,
        Some(spoke),
        "the instant the room saw it"
    );
    let bobs = of(&air, bob.user());
    assert_eq!(
        (bobs.messages, bobs.last_spoke),
        (0, None),
        "hasn't spoken yet"
    );

    // Neither participant was given any of it: Bob nothing from his welcome on,
    // Alice nothing after her own messages, up to a word said after Fran was given
    // the new figures.
    fran.say_acked("thank you both").await;
    for member in [&mut bob, &mut alice] {
        let frames = member.frames_before("thank you both").await;
        let given = frames
            .iter()
            .chain(&member.backlog)
            .any(|f| matches!(f, ServerFrame::ShareTheAir { .. }));
        assert!(!given, "{frames:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_facilitator_on_another_instance_is_given_the_same_figures() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = open_room(&a).await;
    let mut alice = first_timer(&a, &a.ws_url(), room, "Alice").await;
    let joined = b.join_facilitator(room, "Fran").await;
    let mut fran = Member::connect_to(&b.ws_url(), joined).await;
    air_where(&mut fran, |_| true).await;

    alice.say_acked("said on one instance").await;
    let air = air_where(&mut fran, |air| of(air, alice.user()).messages == 1).await;
    let alices = of(&air, alice.user());
    assert_eq!(alices.chars as usize, "said on one instance".len());
    assert!(
        alices.first_time,
        "said to the other instance, known on this one"
    );
    a.stop().await;
    b.stop().await;
}
