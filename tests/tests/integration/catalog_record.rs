//! The catalog record, the part of a room that outlives its store (its settings, bans,
//! invites and their seats, its session and whether the session is open), is one
//! function of the room on both brokers: after a facilitator's `open`, the waiting room
//! switched (by a facilitator and by the operator's `PATCH`) and a held session closing
//! itself, the record Redis keeps is the one the in-memory broker's catalog file keeps
//! for the same room; and a room given back to a Redis that lost its data is in the
//! session it was in, with its waiting room as it was set.

use std::path::PathBuf;
use std::time::Duration;

use kindred_protocol::http::CreateRoom;
use kindred_protocol::{ClientFrame, ErrorCode, ModAction, RoomId, RoomSummary, ServerFrame};
use kindred_tests::kindred::Config;
use kindred_tests::process::scratch;
use kindred_tests::redis::RedisServer;
use kindred_tests::{ADMIN, ModArgs, TestServer, WAIT, config};
use serde_json::{Value, json};

/// The Redis hash the Redis broker keeps its catalog records in (room id → record).
const REDIS_CATALOG: &str = "kindred:catalog";

/// An instance whose rooms close a held session at the first tick after it is held: a
/// room keeps its creator's limits (`Config::limits`), and a configuration built here
/// is not parsed, so it may go below the flag's one minute.
fn quick_to_close() -> Config {
    let mut c = config();
    c.rooms.held_close_minutes = 0;
    c
}

/// Where a broker keeps its catalog records.
#[derive(Debug)]
enum Store {
    /// The in-memory broker's `--catalog-file`.
    File(PathBuf),
    /// The Redis broker's catalog, read from Redis by a Redis client.
    Redis(String),
}

impl Store {
    /// The room's record as the store holds it now, if it holds one.
    async fn record(&self, room: RoomId) -> Option<Value> {
        match self {
            Store::File(path) => {
                let text = std::fs::read_to_string(path).ok()?;
                let file: Value = serde_json::from_str(&text).expect("the catalog file is JSON");
                file["rooms"]
                    .as_array()?
                    .iter()
                    .find(|r| r["id"] == json!(room))
                    .cloned()
            }
            Store::Redis(url) => {
                let client = redis::Client::open(url.as_str()).expect("a Redis URL");
                let mut conn = client
                    .get_multiplexed_async_connection()
                    .await
                    .expect("Redis answers");
                let text: Option<String> = redis::cmd("HGET")
                    .arg(REDIS_CATALOG)
                    .arg(room.to_string())
                    .query_async(&mut conn)
                    .await
                    .expect("HGET answers");
                Some(serde_json::from_str(&text?).expect("a catalog record is JSON"))
            }
        }
    }

    /// The room's record once it shows `what` (a change made by the clock, not by a
    /// caller who waits for it, reaches the file a little after; Redis after the
    /// fold), without the ids that differ by construction.
    async fn record_showing(
        &self,
        room: RoomId,
        what: &str,
        shows: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let record = self.record(room).await;
            if let Some(record) = &record
                && shows(record)
            {
                return comparable(record);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{self:?}: the room's catalog record should show {what}; it is {record:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A record without what differs between two rooms made alike: the room's id, and
/// each invite's id, instants and the user ids of its seats (their count stays).
fn comparable(record: &Value) -> Value {
    let mut record = record.clone();
    let fields = record.as_object_mut().expect("a record is an object");
    fields.remove("id");
    if let Some(Value::Object(invites)) = fields.remove("invites") {
        let mut invites: Vec<Value> = invites
            .values()
            .map(|i| {
                json!({
                    "role": i["role"],
                    "uses": i["uses"],
                    "used": i["used"],
                    "order": i["order"],
                    "seats": i["seats"].as_array().map_or(0, Vec::len),
                })
            })
            .collect();
        invites.sort_by_key(|i| i["order"].as_u64());
        fields.insert("invites".into(), Value::Array(invites));
    }
    record
}

/// The operator's `PATCH` of a room.
async fn patch(server: &TestServer, room: RoomId, body: Value) {
    let status = reqwest::Client::new()
        .patch(format!("{}/api/rooms/{room}", server.base()))
        .bearer_auth(ADMIN)
        .json(&body)
        .timeout(WAIT)
        .send()
        .await
        .expect("the server answers")
        .status();
    assert_eq!(status.as_u16(), 200, "PATCH {body}");
}

/// A facilitated room, not yet open.
async fn facilitated_room(server: &TestServer) -> RoomId {
    server
        .room_with(CreateRoom {
            facilitated: Some(true),
            ..CreateRoom::default()
        })
        .await
}

fn on(on: bool) -> ModArgs {
    ModArgs {
        on: Some(on),
        ..ModArgs::default()
    }
}

/// One room's evening: Fran opens the session and turns the waiting room on, the
/// operator turns it off, Fran leaves, and the session, held with no facilitator,
/// closes itself. The room's catalog record after each step, as `store` holds it.
async fn evening(server: &TestServer, store: &Store) -> Vec<(&'static str, Value)> {
    let room = facilitated_room(server).await;
    let mut records = Vec::new();
    let mut fran = server.facilitator(room, "Fran").await;
    fran.moderate(ModAction::Open, ModArgs::default())
        .await
        .expect("Fran opens the session");
    let step = "the session open";
    records.push((
        step,
        store
            .record_showing(room, step, |r| r["open"] == true)
            .await,
    ));
    fran.moderate(ModAction::WaitingRoom, on(true))
        .await
        .expect("Fran turns the waiting room on");
    let step = "the waiting room on";
    records.push((
        step,
        store
            .record_showing(room, step, |r| r["config"]["waiting_room"] == true)
            .await,
    ));
    patch(server, room, json!({"waiting_room": false})).await;
    let step = "the waiting room off";
    records.push((
        step,
        store
            .record_showing(room, step, |r| r["config"]["waiting_room"] == false)
            .await,
    ));
    fran.send(ClientFrame::Leave).await;
    fran.closed().await;
    let step = "the next session, not yet open";
    records.push((
        step,
        store
            .record_showing(room, step, |r| r["session"] == 1 && r["open"] == false)
            .await,
    ));
    records
}

#[tokio::test]
async fn redis_keeps_the_catalog_record_the_catalog_file_keeps_for_the_same_room() {
    let file = scratch("catalog-record").join("catalog.json");
    let mut c = quick_to_close();
    c.storage.catalog_file = Some(file.clone());
    let memory = TestServer::in_memory(c).await;
    let redis = RedisServer::start().await;
    let mut c = quick_to_close();
    c.storage.redis_url = Some(redis.url());
    let shared = TestServer::with(c).await;

    let in_file = evening(&memory, &Store::File(file)).await;
    let in_redis = evening(&shared, &Store::Redis(redis.url())).await;
    for ((step, kept), (_, stored)) in in_file.iter().zip(&in_redis) {
        assert_eq!(
            stored, kept,
            "after {step}: Redis's record (left) is the catalog file's (right)"
        );
    }
    memory.stop().await;
    shared.stop().await;
}

/// The room's summary once the server can read it again.
async fn summary_once_back(server: &TestServer, room: RoomId) -> RoomSummary {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let response = reqwest::get(format!("{}/api/rooms/{room}", server.base())).await;
        if let Ok(response) = response
            && response.status().is_success()
        {
            return response.json().await.expect("a room summary");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the room should be given back to Redis"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a `hello` with `token` is answered with first: a refusal's code, or `None`
/// for a welcome.
async fn hello_answer(server: &TestServer, token: &str) -> Option<ErrorCode> {
    let mut raw = server.raw().await;
    raw.send(&ClientFrame::Hello {
        first_time: false,
        token: token.to_owned(),
        last_seq: None,
        epoch: None,
    })
    .await
    .expect("hello sent");
    let frame = tokio::time::timeout(WAIT, raw.next_frame())
        .await
        .expect("an answer in time")
        .expect("the connection answers");
    match frame {
        ServerFrame::Error(e) => Some(e.code),
        ServerFrame::Welcome(_) => None,
        other => panic!("expected a welcome or an error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_room_given_back_to_a_redis_that_lost_its_data_is_in_the_session_it_was_in() {
    let mut redis = RedisServer::start().await;
    let mut c = quick_to_close();
    c.storage.redis_url = Some(redis.url());
    let server = TestServer::with(c).await;
    // Tonight's room: Fran opens its session and turns its waiting room on.
    let tonight = facilitated_room(&server).await;
    let mut fran = server.facilitator(tonight, "Fran").await;
    fran.moderate(ModAction::Open, ModArgs::default())
        .await
        .expect("Fran opens the session");
    fran.moderate(ModAction::WaitingRoom, on(true))
        .await
        .expect("Fran turns the waiting room on");
    // Last night's room: Sam opens it, Alice joins, Sam leaves, and the session, held
    // with no facilitator, closes itself.
    let last_night = facilitated_room(&server).await;
    let mut sam = server.facilitator(last_night, "Sam").await;
    sam.moderate(ModAction::Open, ModArgs::default())
        .await
        .expect("Sam opens the session");
    let mut alice = server.member(last_night, "Alice").await;
    sam.send(ClientFrame::Leave).await;
    sam.closed().await;
    alice
        .until(|f| matches!(f, ServerFrame::Closed { .. }).then_some(()))
        .await;
    alice.closed().await;

    redis.restart_empty().await;
    fran.closed().await;

    let summary = summary_once_back(&server, tonight).await;
    assert!(summary.open, "tonight's session is still open");
    assert!(summary.waiting_room, "with its waiting room on");
    let summary = summary_once_back(&server, last_night).await;
    assert!(!summary.open, "last night's session stays closed");
    // Last night's tokens belong to a session that has ended.
    assert_eq!(
        hello_answer(&server, &sam.joined.token).await,
        Some(ErrorCode::Closed),
        "Sam's token from the closed session"
    );
    assert_eq!(
        hello_answer(&server, &alice.joined.token).await,
        Some(ErrorCode::Closed),
        "Alice's token from the closed session"
    );
    // Tonight's go on: Fran is let back in, and a newcomer waits to be admitted.
    assert_eq!(hello_answer(&server, &fran.joined.token).await, None);
    let bob = server.member(tonight, "Bob").await;
    assert!(bob.welcome.you.waiting, "the waiting room is on");
    server.stop().await;
}
