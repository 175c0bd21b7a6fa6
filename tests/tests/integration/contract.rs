//! PROTOCOL.md tested as written, over real sockets: every admin route refuses a
//! missing or wrong token; the admin API's directory, strict bodies and empty bodies;
//! the error codes and close codes no other scenario produces on the wire (`slow_mode`,
//! `locked` at `hello`, `closed` for a command between sessions, `internal` as a frame
//! and as HTTP 503); the HTTP errors and the metrics an operator watches; and the token
//! prefix the documentation shows.

use kindred_protocol::http::{AdminRoom, AdminRoomList, CreateRoom};
use kindred_protocol::{ClientFrame, ErrorCode, ModAction, RoomId, ServerFrame, close_code};
use kindred_tests::redis::RedisServer;
use kindred_tests::{ADMIN, ModArgs, TestServer, WAIT, closed, config, next_error};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// One HTTP call with an optional `Authorization` header and JSON body: status and body.
async fn call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    authorization: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", server.base()))
        .timeout(WAIT);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn metrics(server: &TestServer) -> String {
    reqwest::get(format!("http://{}/metrics", server.running.metrics_addr))
        .await
        .expect("metrics answer")
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_admin_route_refuses_a_missing_or_wrong_token_and_changes_nothing() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let invite = server
        .http
        .invite(ADMIN, room, &Default::default())
        .await
        .unwrap();
    let member = server.member(room, "Alice").await.user();
    use reqwest::Method;
    let routes = [
        (
            Method::POST,
            "/api/rooms".to_owned(),
            Some(r#"{"title":"x"}"#),
        ),
        (
            Method::PATCH,
            format!("/api/rooms/{room}"),
            Some(r#"{"capacity":2}"#),
        ),
        (Method::DELETE, format!("/api/rooms/{room}"), None),
        (
            Method::POST,
            format!("/api/rooms/{room}/invites"),
            Some("{}"),
        ),
        (Method::GET, format!("/api/rooms/{room}/invites"), None),
        (
            Method::GET,
            format!("/api/rooms/{room}/invites/{}", invite.id),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/rooms/{room}/invites/{}", invite.id),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/rooms/{room}/members/{member}"),
            None,
        ),
    ];
    let wrong = format!("Bearer {ADMIN}x");
    let truncated = format!("Bearer {}", &ADMIN[..ADMIN.len() - 1]);
    let basic = format!("Basic {ADMIN}");
    let lower = format!("bearer {ADMIN}");
    let presented: [Option<&str>; 6] = [
        None,
        Some(""),
        Some(&wrong),
        Some(&truncated),
        Some(&basic),
        Some(&lower),
    ];
    for (method, path, body) in &routes {
        for authorization in presented {
            let (status, answer) = call(&server, method.clone(), path, authorization, *body).await;
            assert_eq!(
                (status, answer["code"].as_str()),
                (401, Some("unauthorized")),
                "{method} {path} with {authorization:?}: {answer}"
            );
        }
    }
    // The directory and a room's summary are public, but a wrong token there is
    // refused too, not silently read as no token.
    for path in ["/api/rooms".to_owned(), format!("/api/rooms/{room}")] {
        let (status, _) = call(&server, Method::GET, &path, Some(&wrong), None).await;
        assert_eq!(status, 401, "{path}");
    }
    // Nothing changed: the room, its capacity, its invite and its member are there.
    let summary = server.http.rooms().await.unwrap().rooms;
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].capacity, 12);
    let invites = server.http.invites(ADMIN, room).await.unwrap().invites;
    assert_eq!(invites.len(), 1);
    server
        .http
        .remove_member(ADMIN, room, member)
        .await
        .expect("the member was still there");
    // Every refusal was counted by its route.
    let text = metrics(&server).await;
    assert!(
        text.contains(
            r#"kindred_http_errors_total{code="unauthorized",route="/api/rooms/{id}/members/{user}"} 6"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"kindred_http_errors_total{code="unauthorized",route="/api/rooms"} 7"#),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_admin_directory_lists_every_room_with_its_policy_and_admin_bodies_are_strict() {
    let server = TestServer::start().await;
    let public = server.room(12).await;
    let (status, created) = call(
        &server,
        reqwest::Method::POST,
        "/api/rooms",
        Some(&format!("Bearer {ADMIN}")),
        Some(r#"{"title": "Quiet room", "visibility": "unlisted", "policy": {"mode": "hold"}}"#),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let unlisted: AdminRoom = serde_json::from_value(created).unwrap();
    assert_eq!(
        unlisted.policy.mode,
        kindred_protocol::policy::PolicyMode::Hold,
        "the answer shows the policy that was set"
    );
    // The public directory hides the unlisted room; the operator's shows both, with
    // their policies.
    let listed = server.http.rooms().await.unwrap().rooms;
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<RoomId>>(),
        [public]
    );
    let auth = format!("Bearer {ADMIN}");
    let (status, all) = call(
        &server,
        reqwest::Method::GET,
        "/api/rooms",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let all: AdminRoomList = serde_json::from_value(all).unwrap();
    assert_eq!(all.rooms.len(), 2);
    let quiet = all
        .rooms
        .iter()
        .find(|r| r.room.id == unlisted.room.id)
        .expect("the unlisted room is listed to the operator");
    assert_eq!(quiet.policy, unlisted.policy);
    let (status, one) = call(
        &server,
        reqwest::Method::GET,
        &format!("/api/rooms/{}", unlisted.room.id),
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["policy"]["mode"], "hold");
    // Unknown fields are refused, by name, and create nothing.
    let (status, refused) = call(
        &server,
        reqwest::Method::POST,
        "/api/rooms",
        Some(&auth),
        Some(r#"{"title": "Typo", "capcity": 5}"#),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("bad_request"))
    );
    assert!(
        refused["message"].as_str().unwrap().contains("capcity"),
        "{refused}"
    );
    let (status, refused) = call(
        &server,
        reqwest::Method::PATCH,
        &format!("/api/rooms/{public}"),
        Some(&auth),
        Some(r#"{"titel": "Typo"}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert!(refused["message"].as_str().unwrap().contains("titel"));
    let (status, refused) = call(
        &server,
        reqwest::Method::POST,
        &format!("/api/rooms/{public}/invites"),
        Some(&auth),
        Some(r#"{"ttl": 60}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert!(refused["message"].as_str().unwrap().contains("ttl"));
    // Where every field is optional, no body at all is fine.
    let (status, same) = call(
        &server,
        reqwest::Method::PATCH,
        &format!("/api/rooms/{public}"),
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(same["capacity"], 12);
    let (status, invite) = call(
        &server,
        reqwest::Method::POST,
        &format!("/api/rooms/{public}/invites"),
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(status, 201, "{invite}");
    assert!(invite["token"].as_str().unwrap().starts_with("k1."));
    // A title over 100 characters is a bad request, not a body over the size limit.
    let (status, refused) = call(
        &server,
        reqwest::Method::POST,
        "/api/rooms",
        Some(&auth),
        Some(&json!({"title": "x".repeat(101)}).to_string()),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("bad_request")),
        "{refused}"
    );
    assert_eq!(
        server
            .http
            .create_room(
                ADMIN,
                &CreateRoom {
                    title: "x".repeat(100),
                    ..CreateRoom::default()
                }
            )
            .await
            .unwrap()
            .title
            .len(),
        100
    );
    // A body over the size limit is 413 `too_large`.
    let (status, refused) = call(
        &server,
        reqwest::Method::POST,
        "/api/rooms",
        Some(&auth),
        Some(&json!({"title": "x", "description": "y".repeat(70_000)}).to_string()),
    )
    .await;
    assert_eq!((status, refused["code"].as_str()), (413, Some("too_large")));
    let text = metrics(&server).await;
    for line in [
        r#"kindred_http_errors_total{code="bad_request",route="/api/rooms"} 2"#,
        r#"kindred_http_errors_total{code="too_large",route="/api/rooms"} 1"#,
        r#"kindred_http_errors_total{code="bad_request",route="/api/rooms/{id}/invites"} 1"#,
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_metrics_name_fanout_drops_build_and_memory_and_not_found_is_counted_by_route() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    kindred_tests::conversation_continues(&mut alice, &mut bob, "hello").await;
    let missing = RoomId::new();
    let refused = server.join(missing, "Carol").await.unwrap_err();
    assert!(refused.to_string().contains("404"), "{refused}");
    let text = metrics(&server).await;
    let broker = if kindred_tests::redis_broker_selected() {
        "redis"
    } else {
        "memory"
    };
    for line in [
        "kindred_fanout_seconds_count ".to_owned(),
        "kindred_dropped_deliveries_total 0".to_owned(),
        format!(
            "kindred_build_info{{version=\"{}\",broker=\"{broker}\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
        "kindred_process_resident_memory_bytes ".to_owned(),
        r#"kindred_http_errors_total{code="not_found",route="/api/rooms/{id}/join"} 1"#.to_owned(),
    ] {
        assert!(text.contains(&line), "{line} in:\n{text}");
    }
    let fanouts: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("kindred_fanout_seconds_count "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(fanouts >= 1.0, "the fan-out of the conversation was timed");
    let memory: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("kindred_process_resident_memory_bytes "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(memory > 1_000_000.0, "a real process's memory: {memory}");
    // No room id in any label.
    assert!(!text.contains(&room.to_string()) && !text.contains(&missing.to_string()));
    server.stop().await;
}

#[tokio::test]
async fn slow_mode_refuses_a_second_message_on_the_wire_with_when_to_retry() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    fran.moderate(
        ModAction::SlowMode,
        ModArgs {
            seconds: Some(30),
            ..ModArgs::default()
        },
    )
    .await
    .expect("slow mode on");
    alice.say_acked("first thought").await;
    let id = alice.say("second thought").await;
    let refused = alice.ack(&id).await.expect_err("too soon");
    assert_eq!(refused.code, ErrorCode::SlowMode);
    let wait = refused.retry_after_ms.expect("says when to retry");
    assert!(wait > 20_000 && wait <= 30_000, "{wait}");
    // The connection lives: a facilitator is not slowed.
    fran.say_acked("take your time").await;
    alice.hears("take your time").await;
    server.stop().await;
}

#[tokio::test]
async fn hello_while_the_room_is_locked_is_refused_with_locked_and_4005() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    // Bob joined over HTTP before the lock, and connects after it.
    let bob = server.join(room, "Bob").await.unwrap();
    fran.moderate(ModAction::Lock, ModArgs::default())
        .await
        .expect("locked");
    let (error, code) = server.hello_refused(&bob.token).await;
    assert_eq!(
        (error.code, code),
        (ErrorCode::Locked, close_code::ROOM_UNAVAILABLE)
    );
    fran.moderate(ModAction::Unlock, ModArgs::default())
        .await
        .expect("unlocked");
    server.connect(bob).await;
    server.stop().await;
}

#[tokio::test]
async fn after_a_close_a_members_token_is_refused_with_closed_and_4004() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    fran.moderate(ModAction::Close, ModArgs::default())
        .await
        .expect("closed");
    // Everyone in the session is told and disconnected: no command can follow it.
    assert_eq!(alice.closed().await.0, close_code::ROOM_CLOSED);
    assert_eq!(fran.closed().await.0, close_code::ROOM_CLOSED);
    // Coming back with the closed session's token: `closed`, then 4004.
    let (error, code) = server.hello_refused(&alice.joined.token).await;
    assert_eq!(
        (error.code, code),
        (ErrorCode::Closed, close_code::ROOM_CLOSED)
    );
    // A facilitator may come into the room between sessions to prepare, and open
    // the next one.
    let mut sam = server.facilitator(room, "Sam").await;
    sam.moderate(ModAction::Open, ModArgs::default())
        .await
        .expect("a new session");
    sam.say_acked("welcome, everyone").await;
    server.stop().await;
}

/// `internal` is what a member sees when the server cannot serve a command: here its
/// Redis is gone. As a frame, and as HTTP 503 (as `/readyz` answers).
#[tokio::test]
async fn internal_is_a_frame_and_a_503_when_the_store_is_gone() {
    let mut redis = RedisServer::start().await;
    let mut c = config();
    c.storage.redis_url = Some(redis.url());
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    redis.kill();
    let id = alice.say("during the outage").await;
    let refused = alice.ack(&id).await.expect_err("no store, no message");
    assert_eq!(refused.code, ErrorCode::Internal);
    // HTTP: 503 with `internal`, never 500: the operator's new room cannot be stored.
    let refused = server
        .http
        .create_room(
            ADMIN,
            &CreateRoom {
                title: "During the outage".into(),
                ..CreateRoom::default()
            },
        )
        .await
        .expect_err("no store, no room");
    match refused {
        kindred_protocol::client::ClientError::Http { status, body } => {
            assert_eq!((status, body.unwrap().code), (503, ErrorCode::Internal));
        }
        other => panic!("{other}"),
    }
    // The instance says it cannot serve: the balancer takes it out.
    let ready = reqwest::get(format!("{}/readyz", server.base()))
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(ready, 503);
    server.stop().await;
}

#[tokio::test]
async fn a_binary_frame_after_the_handshake_is_a_bad_request_and_first_it_closes_1008() {
    let server = TestServer::start().await;
    let mut raw = server.raw().await;
    raw.send_raw(Message::binary(vec![1u8, 2, 3]))
        .await
        .unwrap();
    assert_eq!(next_error(&mut raw).await.code, ErrorCode::BadRequest);
    assert_eq!(closed(&mut raw).await.0, close_code::POLICY);
    // After the handshake: one `bad_request`, and the connection carries on.
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    alice
        .conn
        .send_raw(Message::binary(vec![1u8, 2, 3]))
        .await
        .unwrap();
    assert_eq!(
        errors_in(&alice.frames_until_said("still here").await),
        [(ErrorCode::BadRequest, None)]
    );
    bob.hears("still here").await;
    server.stop().await;
}

/// The errors among `frames`: code and `client_id`.
fn errors_in(frames: &[ServerFrame]) -> Vec<(ErrorCode, Option<String>)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Error(e) => Some((e.code, e.client_id.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_second_hello_is_a_bad_request_and_the_connection_stays_open() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let hello = ClientFrame::Hello {
        first_time: false,
        token: alice.joined.token.clone(),
        last_seq: None,
        epoch: None,
    };
    alice.send(hello).await;
    let given = alice.frames_until_said("as I was saying").await;
    assert_eq!(errors_in(&given), [(ErrorCode::BadRequest, None)]);
    assert!(
        !given.iter().any(|f| matches!(f, ServerFrame::Welcome(_))),
        "no second welcome: {given:?}"
    );
    bob.hears("as I was saying").await;
    server.stop().await;
}

#[tokio::test]
async fn a_client_id_over_64_bytes_a_label_over_100_characters_and_a_reason_over_500_are_refused() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let send = |client_id: String, cw: Option<String>| ClientFrame::Send {
        client_id,
        guard: None,
        text: "a thought".into(),
        cw,
    };

    // `client_id`: 64 bytes (in two-byte characters) is the most; one more is refused
    // without being named, since it is not a valid id.
    let longest = "é".repeat(32);
    alice.send(send(longest.clone(), None)).await;
    assert!(alice.ack(&longest).await.is_ok(), "64 bytes are fine");
    alice.send(send(format!("{longest}x"), None)).await;
    assert_eq!(
        errors_in(&alice.frames_until_said("after the long id").await),
        [(ErrorCode::BadRequest, None)]
    );

    // `cw`: 100 characters, however many bytes, is the most.
    alice
        .send(send("cw-100".into(), Some("é".repeat(100))))
        .await;
    assert!(alice.ack("cw-100").await.is_ok(), "100 characters are fine");
    alice
        .send(send("cw-101".into(), Some("a".repeat(101))))
        .await;
    let refused = alice.ack("cw-101").await.expect_err("a label too long");
    assert_eq!(refused.code, ErrorCode::TooLarge);

    // A report's `reason`: 500 characters is the most; the report has no id, so its
    // refusal names none.
    let seq = alice.say_acked("something to report").await;
    bob.send(ClientFrame::Report {
        seq,
        reason: Some("a".repeat(501)),
    })
    .await;
    assert_eq!(
        errors_in(&bob.frames_until_said("after the long reason").await),
        [(ErrorCode::TooLarge, None)]
    );
    bob.send(ClientFrame::Report {
        seq,
        reason: Some("é".repeat(500)),
    })
    .await;
    assert!(
        errors_in(&bob.frames_until_said("after the reason").await).is_empty(),
        "500 characters are fine"
    );
    let reasons: Vec<usize> = fran
        .frames_before("after the reason")
        .await
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Alert { reason, .. } => reason.as_ref().map(|r| r.chars().count()),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [500],
        "only the report within the limit reached Fran"
    );

    // A `mod`'s `reason` likewise.
    let mute = |chars: usize| ModArgs {
        seconds: Some(60),
        reason: Some("a".repeat(chars)),
        ..ModArgs::user(alice.user())
    };
    let refused = fran
        .moderate(ModAction::Mute, mute(501))
        .await
        .expect_err("a reason too long");
    assert_eq!(refused.code, ErrorCode::TooLarge);
    fran.moderate(ModAction::Mute, mute(500))
        .await
        .expect("500 characters are fine");
    server.stop().await;
}

#[tokio::test]
async fn hello_for_a_deleted_room_is_refused_with_not_found_and_4004() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let alice = server.join(room, "Alice").await.unwrap();
    let mut bob = server.member(room, "Bob").await;
    let deleted = reqwest::Client::new()
        .delete(format!("{}/api/rooms/{room}", server.base()))
        .bearer_auth(ADMIN)
        .timeout(WAIT)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(deleted.status(), 204);
    // Bob, inside, is told the room is gone.
    assert_eq!(bob.closed().await.0, close_code::ROOM_CLOSED);
    // Alice joined before the deletion and arrives after it.
    let (error, code) = server.hello_refused(&alice.token).await;
    assert_eq!(
        (error.code, code),
        (ErrorCode::NotFound, close_code::ROOM_CLOSED)
    );
    server.stop().await;
}

/// The tokens PROTOCOL.md and its fixtures show start as the server's do.
#[tokio::test]
async fn the_documented_tokens_have_the_prefix_the_server_gives() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let joined = server.join(room, "Alice").await.unwrap();
    let prefix = format!("{}.", joined.token.split('.').next().unwrap());
    let invite = server
        .http
        .invite(ADMIN, room, &Default::default())
        .await
        .unwrap()
        .token
        .unwrap();
    assert!(invite.starts_with(&prefix), "invites share it: {invite}");

    // Every fixture that carries a token.
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocol/tests/fixtures");
    let mut with_token = Vec::new();
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if let Some(token) = value["token"].as_str() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                token.starts_with(&prefix),
                "{name}: {token} vs the server's {prefix}"
            );
            with_token.push(name);
        }
    }
    with_token.sort();
    assert_eq!(
        with_token,
        [
            "client_hello.first_time.json",
            "client_hello.json",
            "http_invite.json",
            "http_join_response.json",
            "http_on_call_link.json"
        ],
        "the fixtures that show a token"
    );

    // Every token PROTOCOL.md writes out in its examples (a placeholder in angle
    // brackets aside).
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../protocol/PROTOCOL.md"
    ))
    .unwrap();
    let shown: Vec<&str> = doc
        .match_indices("\"token\": \"")
        .map(|(at, key)| {
            let rest = &doc[at + key.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .filter(|token| !token.starts_with('<'))
        .collect();
    assert!(!shown.is_empty(), "PROTOCOL.md shows a token");
    for token in shown {
        assert!(
            token.starts_with(&prefix),
            "PROTOCOL.md shows {token}, the server gives {prefix}"
        );
    }
    server.stop().await;
}
