//! With `--catalog-file`, an acknowledgement is a promise: the operator's 2xx for a
//! room, its settings and an invite, and a facilitator's `ack` for a ban, come only
//! once the catalog file holds the change, so a `kill -9` the instant after loses
//! nothing that was acknowledged. And a file that cannot be written is said, never
//! acknowledged. On the real binary, killed with `SIGKILL`.

use kindred_protocol::client::Connection;
use kindred_protocol::http::{AdminRoomList, CreateInvite, JoinRequest};
use kindred_protocol::{ClientFrame, ErrorCode, ModAction, ServerFrame};
use kindred_tests::process::{Instance, scratch};
use kindred_tests::{ADMIN, ModArgs, WAIT};
use serde_json::json;

fn joining(name: &str, invite: Option<String>, device: Option<&str>) -> JoinRequest {
    JoinRequest {
        name: name.to_owned(),
        accept_guidelines: true,
        invite,
        device: device.map(str::to_owned),
        seat_key: None,
    }
}

fn ban(client_id: &str, user: kindred_protocol::UserId) -> ClientFrame {
    ModArgs::user(user).frame(client_id, ModAction::Ban)
}

/// The answer to `client_id`: its `ack`, or its error.
async fn answer(conn: &mut Connection, client_id: &str) -> Result<(), ErrorCode> {
    tokio::time::timeout(WAIT, async {
        loop {
            match conn.next_frame().await.expect("the connection is open") {
                ServerFrame::Ack { client_id: id, .. } if id == client_id => return Ok(()),
                ServerFrame::Error(e) if e.client_id.as_deref() == Some(client_id) => {
                    return Err(e.code);
                }
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no answer to {client_id} within {WAIT:?}"))
}

#[tokio::test]
async fn a_room_its_settings_and_an_invite_acknowledged_survive_a_kill_the_instant_after() {
    let dir = scratch("acknowledged-admin");
    let file = dir.join("catalog.json");
    let env = [("KINDRED_CATALOG_FILE", file.to_str().unwrap())];
    let mut first = Instance::launch(&env, false);

    let (status, created) = first
        .admin(
            reqwest::Method::POST,
            "/api/rooms",
            Some(json!({"title": "Wednesday group", "open": true, "waiting_room": false})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id: kindred_protocol::RoomId = created["id"].as_str().unwrap().parse().unwrap();
    let (status, patched) = first
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/rooms/{id}"),
            Some(json!({"title": "Wednesday evening group", "capacity": 7})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let invite = first
        .http
        .invite(ADMIN, id, &CreateInvite::default())
        .await
        .expect("the invite is minted");
    // The operator copied the token; the machine dies the same instant.
    first.kill();

    let second = Instance::launch(&env, false);
    let (status, listed) = second.admin(reqwest::Method::GET, "/api/rooms", None).await;
    assert_eq!(status, 200);
    let listed: AdminRoomList = serde_json::from_value(listed).unwrap();
    assert_eq!(listed.rooms.len(), 1, "the acknowledged room is back");
    let room = &listed.rooms[0].room;
    assert_eq!(
        (room.id, room.title.as_str(), room.capacity),
        (id, "Wednesday evening group", 7),
        "with its patched settings"
    );
    let joined = second
        .http
        .join(id, &joining("Fran", invite.token.clone(), None))
        .await
        .expect("the invite shown once still works");
    assert_eq!(joined.role, kindred_protocol::Role::Facilitator);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_ban_acknowledged_holds_after_a_kill_the_instant_after() {
    let dir = scratch("acknowledged-ban");
    let file = dir.join("catalog.json");
    let env = [("KINDRED_CATALOG_FILE", file.to_str().unwrap())];
    let mut first = Instance::launch(&env, false);
    let (status, created) = first
        .admin(
            reqwest::Method::POST,
            "/api/rooms",
            Some(json!({"title": "Friday group", "open": true, "waiting_room": false})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id: kindred_protocol::RoomId = created["id"].as_str().unwrap().parse().unwrap();
    let invite = first
        .http
        .invite(ADMIN, id, &CreateInvite::default())
        .await
        .unwrap();
    let fran = first
        .http
        .join(id, &joining("Fran", invite.token, None))
        .await
        .unwrap();
    const PHONE: &str = "phone-0123456789abcdef";
    let troll = first
        .http
        .join(id, &joining("Troll", None, Some(PHONE)))
        .await
        .unwrap();
    let ws = first.ws_url();
    let (mut fran_ws, _, _) = Connection::hello(&ws, &fran.token, None).await.unwrap();
    let (_troll_ws, _, _) = Connection::hello(&ws, &troll.token, None).await.unwrap();
    fran_ws.send(&ban("b1", troll.user_id)).await.unwrap();
    assert_eq!(answer(&mut fran_ws, "b1").await, Ok(()), "the ban is acked");
    first.kill();

    let second = Instance::launch(&env, false);
    let mut again = Connection::open(&second.ws_url()).await.unwrap();
    again
        .send(&ClientFrame::Hello {
            first_time: false,
            token: troll.token.clone(),
            last_seq: None,
            epoch: None,
        })
        .await
        .unwrap();
    let refused = tokio::time::timeout(WAIT, again.next_frame())
        .await
        .expect("an answer to hello")
        .expect("a frame");
    assert!(
        matches!(&refused, ServerFrame::Error(e) if e.code == ErrorCode::Banned),
        "the banned token is refused, not welcomed: {refused:?}"
    );
    let rejoin = second
        .http
        .join(id, &joining("Sunny", None, Some(PHONE)))
        .await
        .expect_err("the banned device is refused under a new name");
    assert!(rejoin.to_string().contains("403"), "{rejoin}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The value of a counter on `/metrics` at `addr`.
async fn counter(addr: &str, name: &str) -> f64 {
    crate::metrics::metric_at(&format!("http://{addr}/metrics"), name).await
}

#[tokio::test]
async fn a_change_the_file_cannot_take_is_answered_internal_counted_and_logged_without_names() {
    let dir = scratch("acknowledged-fail");
    let file = dir.join("catalog.json");
    let metrics = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let env = [
        ("KINDRED_CATALOG_FILE", file.to_str().unwrap()),
        ("KINDRED_METRICS_BIND", metrics.as_str()),
    ];
    let mut first = Instance::launch(&env, true);
    let (status, created) = first.admin(reqwest::Method::POST,
        "/api/rooms",
        Some(json!({"title": "Zq7title group", "open": true, "facilitated": false, "waiting_room": false})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id: kindred_protocol::RoomId = created["id"].as_str().unwrap().parse().unwrap();
    let alice = first
        .http
        .join(id, &joining("Alice", None, None))
        .await
        .unwrap();
    let (mut alice_ws, _, _) = Connection::hello(&first.ws_url(), &alice.token, None)
        .await
        .unwrap();
    const FAILURES: &str = "kindred_catalog_write_failures_total";
    assert_eq!(counter(&metrics, FAILURES).await, 0.0);

    // The disk goes away under the catalog file (the directory is removed).
    std::fs::remove_dir_all(&dir).unwrap();
    let (status, body) = first
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/rooms/{id}"),
            Some(json!({"capacity": 5})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("internal")),
        "a change the file did not take is not acknowledged: {body}"
    );
    assert_eq!(counter(&metrics, FAILURES).await, 1.0);
    // The room talks on: a message never waits for the file.
    alice_ws
        .send(&ClientFrame::Send {
            client_id: "c1".into(),
            guard: None,
            text: "zq7words still here".into(),
            cw: None,
        })
        .await
        .unwrap();
    assert_eq!(answer(&mut alice_ws, "c1").await, Ok(()));
    // The log says so (its line may be read a moment after the answer).
    let logs = first
        .await_logged("could not write the catalog file")
        .join("\n");
    for word in ["Zq7title", "zq7words", "Alice"] {
        assert!(!logs.contains(word), "the log names {word:?}: {logs}");
    }

    // The disk is back: the next change is acknowledged, and the file holds the
    // room as it stands, the change that was not acknowledged included.
    std::fs::create_dir_all(&dir).unwrap();
    let (status, _) = first
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/rooms/{id}"),
            Some(json!({"title": "Saturday group"})),
        )
        .await;
    assert_eq!(status, 200);
    first.kill();
    let second = Instance::launch(&env[..1], false);
    let (status, room) = second
        .admin(reqwest::Method::GET, &format!("/api/rooms/{id}"), None)
        .await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(
        (room["title"].as_str(), room["capacity"].as_u64()),
        (Some("Saturday group"), Some(5)),
        "{room}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
