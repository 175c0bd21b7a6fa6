//! Bans that hold: a banned person cannot come straight back under a new pseudonym
//! from the same browser or (that evening) the same network, and one network cannot
//! take a room's seats. Joins come through a trusted proxy that names each member's
//! address, as in a deployment behind nginx.

use kindred_protocol::http::{HttpError, JoinRequest, JoinResponse};
use kindred_protocol::{ClientFrame, ErrorCode, LeftReason, ModAction, ServerFrame, close_code};
use kindred_tests::{ModArgs, TestServer, WAIT, config, conversation_continues};

/// A server that believes the loopback proxy's `X-Forwarded-For`.
async fn behind_a_proxy() -> TestServer {
    let mut c = config();
    c.edge.trust_forwarded_for = true;
    TestServer::with(c).await
}

/// Join as `name` from the browser `device`, whose network address is `address`.
async fn join_from(
    server: &TestServer,
    room: kindred_protocol::RoomId,
    name: &str,
    device: &str,
    address: &str,
) -> Result<JoinResponse, (u16, HttpError)> {
    let resp = reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .unwrap()
        .post(format!("{}/api/rooms/{room}/join", server.base()))
        .header("x-forwarded-for", address)
        .json(&JoinRequest {
            name: name.into(),
            accept_guidelines: true,
            invite: None,
            device: Some(device.into()),
            seat_key: None,
        })
        .send()
        .await
        .expect("the server answers");
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        Ok(resp.json().await.expect("a join response"))
    } else {
        Err((status, resp.json().await.expect("an error body")))
    }
}

const PHONE: &str = "phone-0123456789abcdef";
const LAPTOP: &str = "laptop-0123456789abcdef";

#[tokio::test]
async fn a_banned_member_rejoining_from_the_same_device_is_refused() {
    let server = behind_a_proxy().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut robin = server
        .connect(
            join_from(
                &server,
                room,
                "Robin",
                "robin-0123456789abcdef",
                "198.51.100.20",
            )
            .await
            .unwrap(),
        )
        .await;
    let joined = join_from(&server, room, "Troll", PHONE, "203.0.113.7")
        .await
        .expect("joins the first time");
    let mut troll = server.connect(joined.clone()).await;
    fran.moderate(ModAction::Ban, ModArgs::user(troll.user()))
        .await
        .expect("the ban is acked");
    assert_eq!(troll.closed().await.0, close_code::REMOVED);
    let left = robin
        .until(|f| match f {
            ServerFrame::Left { user, reason, .. } => Some((*user, *reason)),
            _ => None,
        })
        .await;
    assert_eq!(left, (troll.user(), LeftReason::Banned));

    // A new pseudonym from the same browser, even from another network: refused.
    let (status, body) = join_from(&server, room, "Sunny", PHONE, "192.0.2.99")
        .await
        .expect_err("the same device is refused");
    assert_eq!((status, body.code), (403, ErrorCode::Banned));
    // A fresh browser on the same network this evening: refused too.
    let (status, body) = join_from(&server, room, "Sky", LAPTOP, "203.0.113.7")
        .await
        .expect_err("the same network is refused this session");
    assert_eq!((status, body.code), (403, ErrorCode::Banned));
    // The old token cannot come back either.
    let (error, code) = server.hello_refused(&joined.token).await;
    assert_eq!((error.code, code), (ErrorCode::Banned, close_code::REMOVED));
    // Someone else, elsewhere, is welcome, and the room talks on.
    let newcomer = join_from(&server, room, "Alex", LAPTOP, "192.0.2.10").await;
    assert!(newcomer.is_ok(), "{newcomer:?}");
    conversation_continues(&mut fran, &mut robin, "thank you all for staying").await;
    server.stop().await;
}

#[tokio::test]
async fn one_network_cannot_fill_a_rooms_seats() {
    let mut c = config();
    c.edge.trust_forwarded_for = true;
    c.rooms.max_members_per_address = 3;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut seated = Vec::new();
    for i in 0..3 {
        let device = format!("device-{i}-0123456789abcdef");
        let joined = join_from(
            &server,
            room,
            &format!("Guest {i}"),
            &device,
            "203.0.113.50",
        )
        .await
        .expect("within the share");
        seated.push(server.connect(joined).await);
    }
    let (status, body) = join_from(
        &server,
        room,
        "Guest 3",
        "device-3-0123456789abcdef",
        "203.0.113.50",
    )
    .await
    .expect_err("one more from the same network is refused");
    assert_eq!((status, body.code), (429, ErrorCode::RateLimited));
    assert!(body.message.contains("network"), "{}", body.message);
    // An IPv6 network counts as its /64: other addresses in it are the same network.
    // Tokens minted while seats were free do not get round the share: it holds again
    // when they connect.
    let mut tokens = Vec::new();
    for i in 0..4 {
        let device = format!("v6-device-{i}-0123456789abcdef");
        let address = format!("2001:db8:7:7::{}", i + 1);
        tokens.push(
            join_from(&server, room, &format!("Six {i}"), &device, &address)
                .await
                .expect("nobody from this network is seated yet"),
        );
    }
    let late = tokens.pop().unwrap();
    for joined in tokens {
        seated.push(server.connect(joined).await);
    }
    let (error, code) = server.hello_refused(&late.token).await;
    assert_eq!(
        (error.code, code),
        (ErrorCode::RateLimited, close_code::ROOM_UNAVAILABLE)
    );
    let refused = join_from(
        &server,
        room,
        "Six 4",
        "v6-device-4-0123456789ab",
        "2001:db8:7:7:ffff::1",
    )
    .await;
    assert_eq!(
        refused.map_err(|(s, b)| (s, b.code)).unwrap_err(),
        (429, ErrorCode::RateLimited)
    );
    // Another network still joins, and when one of the three leaves, a seat frees up.
    assert!(
        join_from(&server, room, "Neighbour", LAPTOP, "198.51.100.3")
            .await
            .is_ok()
    );
    let mut first = seated.remove(0);
    first.send(ClientFrame::Leave).await;
    assert_eq!(first.closed().await.0, close_code::NORMAL);
    let mut again = None;
    for _ in 0..50 {
        match join_from(
            &server,
            room,
            "Guest 3",
            "device-3-0123456789abcdef",
            "203.0.113.50",
        )
        .await
        {
            Ok(j) => {
                again = Some(j);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    assert!(again.is_some(), "a freed seat can be taken");
    server.stop().await;
}

#[tokio::test]
async fn a_join_without_a_proxy_naming_the_address_is_not_counted_against_it() {
    // Every member here comes from loopback: the address names this machine, not a
    // person, so it neither fills seats nor carries a ban to the next newcomer.
    let mut c = config();
    c.rooms.max_members_per_address = 1;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let troll = server.member(room, "Troll").await;
    fran.moderate(ModAction::Ban, ModArgs::user(troll.user()))
        .await
        .unwrap();
    let mut bob = server.member(room, "Bob").await;
    conversation_continues(&mut alice, &mut bob, "glad you made it").await;
    server.stop().await;
}

#[tokio::test]
async fn a_device_id_that_is_not_one_is_a_bad_request() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    for device in ["short", "has spaces and is long enough", &"x".repeat(65)] {
        let (status, body) = join_from(&server, room, "Robin", device, "203.0.113.1")
            .await
            .expect_err("refused");
        assert_eq!(
            (status, body.code),
            (400, ErrorCode::BadRequest),
            "{device}"
        );
    }
    server.stop().await;
}
