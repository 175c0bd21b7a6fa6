//! Time, acknowledgements and a closed session's words on the Redis broker, with real
//! `redis-server`s and real instances (in this process, or as processes that are
//! killed or run with a wrong clock):
//! - one instance appends a room's ticks (the holder of the room's lease), even for a
//!   room no instance serves a member of, and only one does where several serve it;
//! - the time of every entry is Redis's, so an instance whose clock runs fast cannot
//!   end a mute early;
//! - a closed session's words leave Redis even when the instance that closed it dies
//!   before doing anything more;
//! - `--redis-durability` makes an ack wait until the entry is fsynced or held by a
//!   replica, and says so when it cannot.

use std::path::PathBuf;
use std::time::Duration;

use kindred_protocol::http::{CreateRoom, JoinRequest};
use kindred_protocol::{ClientFrame, ErrorCode, ModAction, RoomId, RoomSummary, ServerFrame};
use kindred_tests::kindred::config::Durability;
use kindred_tests::process::Instance;
use kindred_tests::redis::RedisServer;
use kindred_tests::relay::Relay;
use kindred_tests::{ADMIN, Member, ModArgs, TestServer, WAIT, config};
use serde_json::Value;

/// The entries of a room's log as Redis holds them (`XRANGE`), each opened (they are
/// sealed) and read as JSON.
async fn log_entries(url: &str, room: RoomId) -> Vec<Value> {
    let client = redis::Client::open(url).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let reply: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("kindred:{{{room}}}:log"))
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .expect("XRANGE answers");
    reply
        .into_iter()
        .flat_map(|(_, fields)| fields)
        .filter(|(f, _)| f == "e")
        .map(|(_, stored)| {
            serde_json::from_str(&kindred_tests::sealed::entry(room, &stored))
                .expect("an entry is JSON")
        })
        .collect()
}

/// How many of the room's entries are ticks.
async fn ticks_in_log(url: &str, room: RoomId) -> usize {
    log_entries(url, room)
        .await
        .iter()
        .filter(|e| e["op"] == serde_json::json!({"Command": "Tick"}))
        .count()
}

/// The room's summary as an instance's HTTP API shows it.
async fn summary(base: &str, room: RoomId) -> RoomSummary {
    reqwest::get(format!("{base}/api/rooms/{room}"))
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a room summary")
}

fn facilitated() -> CreateRoom {
    CreateRoom {
        facilitated: Some(true),
        ..CreateRoom::default()
    }
}

fn seconds(user: kindred_protocol::UserId, seconds: u32) -> ModArgs {
    ModArgs {
        seconds: Some(seconds),
        ..ModArgs::user(user)
    }
}

/// The operator's `PATCH` of a room, through an instance's admin API.
async fn patch(base: &str, room: RoomId, body: Value) {
    let status = reqwest::Client::new()
        .patch(format!("{base}/api/rooms/{room}"))
        .bearer_auth(ADMIN)
        .json(&body)
        .timeout(WAIT)
        .send()
        .await
        .expect("the server answers")
        .status();
    assert_eq!(status.as_u16(), 200, "PATCH {body}");
}

#[tokio::test]
async fn a_held_room_that_no_instance_serves_a_member_of_closes_itself() {
    let redis = RedisServer::start().await;
    // The room keeps its creator's limits: a short wait for a facilitator, and a held
    // session that closes once it is held (a configuration built here may go below
    // the flag's minute).
    let mut c = config();
    c.storage.redis_url = Some(redis.url());
    c.rooms.presence_grace_ms = 200;
    c.rooms.held_close_minutes = 0;
    let a = TestServer::with(c).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room_with(facilitated()).await;
    // The operator opens the session and no facilitator ever comes: the session is
    // held once the grace has passed, then closes itself. No instance has ever had a
    // connection in the room.
    patch(&a.base(), room, serde_json::json!({"open": true})).await;
    assert!(summary(&b.base(), room).await.open, "the session is open");

    let deadline = tokio::time::Instant::now() + WAIT;
    while summary(&b.base(), room).await.open {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the held session should have closed itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A member arriving later finds the door shut.
    let refused = b.join(room, "Carol").await;
    assert!(
        refused.is_err(),
        "nobody joins a closed session: {refused:?}"
    );
    a.stop().await;
    b.stop().await;
}

/// Rooms at once in the tick test: each mute's end is one due event.
const ROOMS: usize = 8;

#[tokio::test]
async fn two_instances_serving_a_room_append_one_tick_per_due_event() {
    let redis = RedisServer::start().await;
    // Two instances started together, so their rounds come at nearly the same moments.
    let url = redis.url();
    let (a, b) = tokio::join!(TestServer::on_redis(&url), TestServer::on_redis(&url));
    let mut rooms = Vec::new();
    for _ in 0..ROOMS {
        let room = a.room(10).await;
        let fran = a.facilitator(room, "Fran").await;
        let bob = a.member(room, "Bob").await;
        let alice = b.member(room, "Alice").await;
        rooms.push((room, fran, bob, alice));
    }
    for (_, fran, _, alice) in &mut rooms {
        let user = alice.user();
        fran.moderate(ModAction::Mute, seconds(user, 2))
            .await
            .expect("Fran mutes Alice for two seconds");
    }
    for (_, _, bob, alice) in &mut rooms {
        bob.until(|f| matches!(f, ServerFrame::Unmuted { .. }).then_some(()))
            .await;
        alice
            .until(|f| matches!(f, ServerFrame::Unmuted { .. }).then_some(()))
            .await;
    }
    // Both instances have folded every end; a second tick would have been appended
    // by then.
    for (room, ..) in &rooms {
        assert_eq!(
            ticks_in_log(&redis.url(), *room).await,
            1,
            "one mute ended in room {room}: one tick"
        );
    }
    a.stop().await;
    b.stop().await;
}

/// The instance that holds the lease on a room's ticks, as Redis has it.
async fn ticker_of(url: &str, room: RoomId) -> Option<u64> {
    let client = redis::Client::open(url).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    redis::cmd("GET")
        .arg(format!("kindred:{{{room}}}:ticker"))
        .query_async(&mut conn)
        .await
        .expect("GET answers")
}

#[tokio::test]
async fn when_a_rooms_ticker_dies_another_instance_ticks_it() {
    let redis = RedisServer::start().await;
    let quick = [("KINDRED_PRESENCE_GRACE_MS", "200")];
    let mut first = Instance::start(&redis.url(), &quick);
    let room = first
        .http
        .create_room(
            ADMIN,
            &CreateRoom {
                title: "Thursday circle".into(),
                ..facilitated()
            },
        )
        .await
        .expect("room created")
        .id;
    let mut second = Instance::start(&redis.url(), &quick);
    // The room's first entry names the instance that created it.
    let creator = log_entries(&redis.url(), room).await[0]["origin"]
        .as_u64()
        .expect("an entry names its instance");
    let deadline = tokio::time::Instant::now() + WAIT;
    let holder = loop {
        if let Some(holder) = ticker_of(&redis.url(), room).await {
            break holder;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "some instance should take the room's lease"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The ticker dies; nobody serves a member of the room.
    let survivor = if holder == creator {
        first.kill();
        &second
    } else {
        second.kill();
        &first
    };
    // The operator opens the session and no facilitator comes: once the grace has
    // passed, a tick holds the room. Only the survivor can append it.
    patch(&survivor.base(), room, serde_json::json!({"open": true})).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ticks: Vec<u64> = log_entries(&redis.url(), room)
            .await
            .iter()
            .filter(|e| e["op"] == serde_json::json!({"Command": "Tick"}))
            .filter_map(|e| e["origin"].as_u64())
            .collect();
        if !ticks.is_empty() {
            assert!(!ticks.contains(&holder), "the dead ticker appended nothing");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "another instance should have taken the room's ticks over"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// libfaketime, which moves one process's wall clock (Debian's `faketime`, which
/// tests/run.sh installs).
fn faketime() -> PathBuf {
    let candidates = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/faketime/libfaketimeMT.so.1",
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("libfaketime is missing: run tests/run.sh, which installs Debian's faketime")
}

#[tokio::test]
async fn an_instance_whose_clock_runs_an_hour_fast_does_not_end_a_mute_early() {
    let redis = RedisServer::start().await;
    let lib = faketime();
    let fast = Instance::start(
        &redis.url(),
        &[
            ("LD_PRELOAD", lib.to_str().expect("a UTF-8 path")),
            ("FAKETIME", "+3600"),
            // Timers run on the monotonic clock, which stays true.
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    );
    let a = TestServer::on_redis(&redis.url()).await;
    let room = a.room(10).await;
    let mut fran = a.facilitator(room, "Fran").await;
    let mut alice = a.member(room, "Alice").await;
    // Bob is served by the fast instance (which admits him by its own clock).
    let joined = fast
        .http
        .join(
            room,
            &JoinRequest {
                name: "Bob".into(),
                accept_guidelines: true,
                invite: None,
                device: None,
                seat_key: None,
            },
        )
        .await
        .expect("Bob joins through the fast instance");
    let bob = Member::connect_to(&fast.ws_url(), joined).await;
    fran.moderate(ModAction::Mute, seconds(alice.user(), 600))
        .await
        .expect("Fran mutes Alice for ten minutes");
    fran.moderate(ModAction::Mute, seconds(bob.user(), 2))
        .await
        .expect("Fran mutes Bob for two seconds");
    // Bob's mute ends: ticks have been appended past it. Alice's did not end first.
    let first_unmuted = fran
        .until(|f| match f {
            ServerFrame::Unmuted { user, .. } => Some(*user),
            _ => None,
        })
        .await;
    assert_eq!(first_unmuted, bob.user(), "Bob's two seconds ended first");
    let id = alice.say("am I still muted?").await;
    let refused = alice.ack(&id).await.expect_err("Alice is still muted");
    assert_eq!(refused.code, ErrorCode::Muted);
    // Every entry carries Redis's time, not the fast instance's.
    let hour_ahead = kindred_tests::kindred::clock::now_ms() + 30 * 60_000;
    for entry in log_entries(&redis.url(), room).await {
        assert!(
            entry["ts"].as_u64().is_some_and(|ts| ts < hour_ahead),
            "an entry carries a time an hour ahead: {}",
            entry["ts"]
        );
    }
    drop(bob);
    a.stop().await;
    drop(fast);
}

// Several threads: the instance is started (and waited for) on this one while the
// relay it connects through runs on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_sessions_words_leave_redis_though_the_closing_instance_dies_at_once() {
    let redis = RedisServer::start().await;
    // The closing instance reaches Redis through a relay that can lose what Redis
    // pushes to it: it then folds its own close only once it reads the log, and is
    // killed before it does.
    let relay = Relay::start(redis.port()).await;
    let mut closing = Instance::start(&relay.url(), &[]);
    let b = TestServer::on_redis(&redis.url()).await;
    let room = b.room_with(facilitated()).await;
    let fran = b.join_facilitator(room, "Fran").await;
    let mut fran = Member::connect_to(&closing.ws_url(), fran).await;
    fran.moderate(ModAction::Open, ModArgs::default())
        .await
        .expect("Fran opens the session");
    let mut alice = b.member(room, "Alice").await;
    let words = "my brother's name is Tomasz and I miss him";
    alice.say_acked(words).await;
    let said = |entries: &[Value]| entries.iter().any(|e| e.to_string().contains("Tomasz"));
    assert!(said(&log_entries(&redis.url(), room).await));

    relay.swallow_pushes();
    fran.send(ClientFrame::Mod {
        client_id: "close".into(),
        action: ModAction::Close,
        user: None,
        seq: None,
        seconds: None,
        reason: None,
        text: None,
        held: None,
        policy: None,
        on: None,
        report: None,
        alert: None,
        ban: None,
        index: None,
        script: None,
        cw: None,
    })
    .await;
    alice
        .until(|f| matches!(f, ServerFrame::Closed { .. }).then_some(()))
        .await;
    closing.kill();

    let deadline = tokio::time::Instant::now() + WAIT;
    while said(&log_entries(&redis.url(), room).await) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed session's words are still in Redis"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nor does the snapshot stored at the close hold them.
    let client = redis::Client::open(redis.url()).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let image: Option<String> = redis::cmd("HGET")
        .arg(format!("kindred:{{{room}}}:snapshot"))
        .arg("image")
        .query_async(&mut conn)
        .await
        .expect("HGET answers");
    let image = image.expect("the close stored a snapshot");
    let image = kindred_tests::sealed::opened(&[room], image.as_bytes());
    assert!(!image.contains("Tomasz"), "the snapshot holds the words");
    b.stop().await;
}

/// A configuration on the Redis at `url` whose acks wait for `durability`.
fn durable(url: &str, durability: Durability) -> kindred_tests::kindred::Config {
    let mut c = config();
    c.storage.redis_url = Some(url.to_owned());
    c.storage.redis_durability = durability;
    c.storage.redis_durability_timeout_ms = 500;
    c
}

#[tokio::test]
async fn fsync_durability_starts_only_on_a_redis_that_fsyncs_every_acknowledged_write() {
    // Debian's Redis 7.0 has no WAITAOF: an ack can mean "fsynced" only if Redis fsyncs
    // before it answers.
    let every_second = RedisServer::fsyncing_every_second().await;
    let refused = kindred_tests::kindred::start(durable(&every_second.url(), Durability::Fsync))
        .await
        .err()
        .expect("an instance whose acks would promise an fsync Redis does not do refuses to start")
        .to_string();
    assert!(
        refused.contains("appendfsync everysec"),
        "the refusal says why: {refused}"
    );
    let no_file = RedisServer::start().await;
    let refused = kindred_tests::kindred::start(durable(&no_file.url(), Durability::Fsync))
        .await
        .err()
        .expect("no append-only file, no fsync")
        .to_string();
    assert!(
        refused.contains("appendonly no"),
        "the refusal says why: {refused}"
    );

    let always = RedisServer::persistent().await;
    let server = TestServer::with(durable(&always.url(), Durability::Fsync)).await;
    let room = server.room(10).await;
    let mut alice = server.member(room, "Alice").await;
    alice.say_acked("written to disk before I am told").await;
    server.stop().await;
}

#[tokio::test]
async fn replica_durability_acks_once_a_replica_holds_the_message_and_says_so_when_none_does() {
    let primary = RedisServer::start().await;
    let mut replica = primary.replica().await;
    let server = TestServer::with(durable(&primary.url(), Durability::Replica)).await;
    let room = server.room(10).await;
    let mut alice = server.member(room, "Alice").await;
    alice.say_acked("held in two places").await;

    // The replica dies: the next message reaches the room, but its ack cannot say a
    // replica holds it, so Alice is told so within the timeout rather than left waiting.
    replica.kill();
    let started = tokio::time::Instant::now();
    let id = alice.say("held in one place only").await;
    let refused = alice.ack(&id).await.expect_err("no replica confirms it");
    assert_eq!(refused.code, ErrorCode::Internal);
    assert!(
        refused.message.contains("not confirmed"),
        "the error says the message was not confirmed: {}",
        refused.message
    );
    assert!(
        started.elapsed() < Duration::from_millis(500) + Duration::from_secs(1),
        "told within the 500 ms timeout (and a little), not after {:?}",
        started.elapsed()
    );
    server.stop().await;
}
