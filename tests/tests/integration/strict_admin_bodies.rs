//! Admin bodies are strict all the way down: an unknown field inside `policy`, its
//! `kinds`, or `schedule` is a `400 bad_request` that names its path, on create and on
//! `PATCH` alike, and changes nothing. An operator who writes `{"policy":
//! {"mdoe": "hold"}}` learns of the typo instead of believing messages are held.

use kindred_protocol::ErrorCode;
use kindred_protocol::http::{AdminRoom, AdminRoomList, HttpError};
use kindred_protocol::policy::PolicyMode;
use kindred_tests::{ADMIN, TestServer, WAIT};
use serde_json::{Value, json};

/// An admin call with a JSON body: its status and what it answered.
async fn admin(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", server.base()))
        .timeout(WAIT)
        .bearer_auth(ADMIN)
        .json(body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A schedule with every field right, to put one wrong field into.
fn schedule() -> Value {
    json!({"weekday": "tuesday", "start": "19:00", "minutes": 90, "timezone": "Europe/London"})
}

/// Settings, each with one wrong field nested in it, and the path the refusal names.
fn wrong_settings() -> Vec<(Value, &'static str)> {
    let mut misspelt_schedule = schedule();
    misspelt_schedule["wekday"] = json!("tuesday");
    let mut wrong_day = schedule();
    wrong_day["weekday"] = json!("tuesdy");
    vec![
        (json!({"policy": {"mdoe": "hold"}}), "policy.mdoe"),
        (
            json!({"policy": {"mode": "hold", "mode_": "off"}}),
            "policy.mode_",
        ),
        (
            json!({"policy": {"mode": "censor", "kinds": {"profanty": true}}}),
            "policy.kinds.profanty",
        ),
        (json!({"schedule": misspelt_schedule}), "schedule.wekday"),
        (json!({"schedule": wrong_day}), "schedule.weekday"),
        (json!({"capcity": 8}), "capcity"),
    ]
}

fn refusal(status: u16, body: Value) -> (u16, ErrorCode, String) {
    assert!(status >= 400, "accepted with {status}: {body}");
    let error: HttpError = serde_json::from_value(body).expect("an error body");
    (status, error.code, error.message)
}

#[tokio::test]
async fn every_nested_unknown_admin_field_is_refused_with_its_path_on_create_and_patch() {
    let server = TestServer::start().await;
    let (status, created) = admin(
        &server,
        reqwest::Method::POST,
        "/api/rooms",
        &json!({"title": "Tuesday group", "schedule": schedule()}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let room: AdminRoom = serde_json::from_value(created).unwrap();
    let id = room.room.id;

    for (settings, path) in wrong_settings() {
        let mut create = settings.clone();
        create["title"] = json!("Typo group");
        let (status, body) = admin(&server, reqwest::Method::POST, "/api/rooms", &create).await;
        let (status, code, message) = refusal(status, body);
        assert_eq!(
            (status, code),
            (400, ErrorCode::BadRequest),
            "create {create}"
        );
        assert!(
            message.contains(&format!("{path}:")),
            "create {create}: {message:?} names {path}"
        );

        let (status, body) = admin(
            &server,
            reqwest::Method::PATCH,
            &format!("/api/rooms/{id}"),
            &settings,
        )
        .await;
        let (status, code, message) = refusal(status, body);
        assert_eq!(
            (status, code),
            (400, ErrorCode::BadRequest),
            "PATCH {settings}"
        );
        assert!(
            message.contains(&format!("{path}:")),
            "PATCH {settings}: {message:?} names {path}"
        );
    }

    // Nothing was created and nothing changed: one room, its policy and schedule as
    // they were.
    let listing = reqwest::Client::new()
        .get(format!("{}/api/rooms", server.base()))
        .timeout(WAIT)
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let listed: AdminRoomList = listing.json().await.unwrap();
    assert_eq!(listed.rooms.len(), 1);
    let kept = &listed.rooms[0];
    assert_eq!(kept.policy, room.policy);
    assert_eq!(kept.policy.mode, PolicyMode::Flag);
    assert_eq!(kept.room.schedule, room.room.schedule);
    assert_eq!(kept.room.capacity, room.room.capacity);

    // The right spelling is taken, nested values with it.
    let (status, changed) = admin(
        &server,
        reqwest::Method::PATCH,
        &format!("/api/rooms/{id}"),
        &json!({"policy": {"mode": "hold", "kinds": {"profanity": true}}}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let changed: AdminRoom = serde_json::from_value(changed).unwrap();
    assert_eq!(changed.policy.mode, PolicyMode::Hold);
    assert!(changed.policy.kinds.profanity && changed.policy.kinds.offensive);
    server.stop().await;
}
