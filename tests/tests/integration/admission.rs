//! Finding a group and getting in: the directory, guidelines, names, invites, and
//! the operator's admin API.

use kindred_protocol::client::ClientError;
use kindred_protocol::http::{CreateRoom, JoinRequest, UpdateRoom};
use kindred_protocol::{ErrorCode, Role, ServerFrame, Visibility, close_code};
use kindred_tests::{ADMIN, TestServer};

fn refused(r: Result<impl std::fmt::Debug, ClientError>) -> (u16, ErrorCode) {
    match r {
        Err(ClientError::Http { status, body }) => (status, body.expect("an error body").code),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_directory_lists_public_rooms_with_live_member_counts() {
    let server = TestServer::start().await;
    let public = server.room(12).await;
    server
        .http
        .create_room(
            ADMIN,
            &CreateRoom {
                title: "Invite only".into(),
                visibility: Visibility::Unlisted,
                ..CreateRoom::default()
            },
        )
        .await
        .unwrap();
    let _alice = server.member(public, "Alice").await;
    let _bob = server.member(public, "Bob").await;
    let rooms = server.http.rooms().await.unwrap().rooms;
    assert_eq!(rooms.len(), 1, "unlisted rooms stay out of the directory");
    assert_eq!(
        (rooms[0].id, rooms[0].members, rooms[0].capacity),
        (public, 2, 12)
    );
    assert!(
        !rooms[0].guidelines.is_empty(),
        "default guidelines to read before joining"
    );
    server.stop().await;
}

#[tokio::test]
async fn joining_needs_accepted_guidelines_and_a_reasonable_name() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let join = |name: &str, accept| JoinRequest {
        name: name.into(),
        accept_guidelines: accept,
        invite: None,
        device: None,
        seat_key: None,
    };
    assert_eq!(
        refused(server.http.join(room, &join("Robin", false)).await),
        (400, ErrorCode::BadRequest)
    );
    assert_eq!(
        refused(server.http.join(room, &join("   ", true)).await),
        (400, ErrorCode::BadRequest)
    );
    assert_eq!(
        refused(server.http.join(room, &join(&"n".repeat(33), true)).await),
        (400, ErrorCode::BadRequest)
    );
    assert_eq!(
        refused(server.http.join(room, &join("two\nlines", true)).await),
        (400, ErrorCode::BadRequest)
    );
    let missing = kindred_protocol::RoomId::new();
    assert_eq!(
        refused(server.http.join(missing, &join("Robin", true)).await),
        (404, ErrorCode::NotFound)
    );
    let ok = server
        .http
        .join(room, &join("  Robin  ", true))
        .await
        .unwrap();
    assert_eq!(ok.role, Role::Participant);
    let robin = server.connect(ok).await;
    assert_eq!(robin.welcome.you.name, "Robin", "names are trimmed");
    // A malformed body is a typed error too.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/rooms/{room}/join", server.base()))
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: kindred_protocol::http::HttpError = resp.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::BadRequest);
    server.stop().await;
}

#[tokio::test]
async fn a_facilitator_invite_makes_a_facilitator() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let fran = server.facilitator(room, "Fran").await;
    assert_eq!(fran.welcome.you.role, Role::Facilitator);
    assert!(
        fran.welcome
            .members
            .iter()
            .any(|m| m.name == "Fran" && m.role == Role::Facilitator)
    );
    server.stop().await;
}

#[tokio::test]
async fn the_admin_api_creates_updates_and_deletes_rooms() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let updated = reqwest::Client::new()
        .patch(format!("{}/api/rooms/{room}", server.base()))
        .bearer_auth(ADMIN)
        .json(&UpdateRoom {
            title: Some("Wednesday group".into()),
            capacity: Some(8),
            ..UpdateRoom::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status().as_u16(), 200);
    let summary = server.http.rooms().await.unwrap().rooms.remove(0);
    assert_eq!(
        (summary.title.as_str(), summary.capacity),
        ("Wednesday group", 8)
    );
    // Bad settings are refused.
    let bad = reqwest::Client::new()
        .post(format!("{}/api/rooms", server.base()))
        .bearer_auth(ADMIN)
        .json(&CreateRoom {
            title: "x".into(),
            capacity: Some(0),
            ..CreateRoom::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    // Deleting the room ends the session for everyone in it.
    let deleted = reqwest::Client::new()
        .delete(format!("{}/api/rooms/{room}", server.base()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    alice
        .until(|f| matches!(f, ServerFrame::Closed { .. }).then_some(()))
        .await;
    assert_eq!(alice.closed().await.0, close_code::ROOM_CLOSED);
    assert!(server.http.rooms().await.unwrap().rooms.is_empty());
    let gone = reqwest::get(format!("{}/api/rooms/{room}", server.base()))
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 404);
    server.stop().await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    kindred_tests::conversation_continues(&mut alice, &mut bob, "hi").await;
    let get = |path: &str| reqwest::get(format!("{}{path}", server.base()));
    assert_eq!(get("/healthz").await.unwrap().status().as_u16(), 200);
    assert_eq!(get("/readyz").await.unwrap().status().as_u16(), 200);
    // Metrics are on their own (loopback) address, not the public one.
    let metrics = reqwest::get(format!("http://{}/metrics", server.running.metrics_addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "kindred_connections 2",
        // Both set at once, on either broker (`kindred_rooms`, set by the clock's
        // round, is read in `metrics::`).
        "kindred_catalog_rooms 1",
        "kindred_members 2",
        "kindred_messages_in_total 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(metrics.contains("kindred_deliveries_total"));
    assert!(metrics.contains("kindred_broker_apply_seconds_bucket"));
    server.stop().await;
}
