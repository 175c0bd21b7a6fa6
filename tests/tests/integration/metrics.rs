//! What an operator reads and is told: `/metrics` numbers that sum across the
//! instances sharing one real `redis-server`, the crisis alerts still waiting for a
//! facilitator, the counters a Redis outage moves; and beside them, the close reason
//! of a removal by the organiser, the error body of an unknown path or method, and a
//! refused admin call logged with a keyed hash of its caller, never their address.

use std::time::Duration;

use kindred_protocol::http::HttpError;
use kindred_protocol::{ClientFrame, ErrorCode, ModAction, RoomId, ServerFrame, close_code};
use kindred_tests::process::Instance;
use kindred_tests::redis::RedisServer;
use kindred_tests::{ADMIN, ModArgs, TestServer, WAIT};
use tokio::time::Instant;

/// One value of `name` (a series without labels) on this server's `/metrics`.
pub(crate) async fn metric(server: &TestServer, name: &str) -> f64 {
    metric_at(
        &format!("http://{}/metrics", server.running.metrics_addr),
        name,
    )
    .await
}

/// One value of `name` (a series without labels) at this `/metrics` address.
pub(crate) async fn metric_at(url: &str, name: &str) -> f64 {
    let body = reqwest::get(url)
        .await
        .expect("/metrics answers")
        .text()
        .await
        .expect("a body");
    let prefix = format!("{name} ");
    body.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} on /metrics:\n{body}"))
}

/// `name` on each server, read until `want(values)` holds; fails after [`WAIT`] with
/// the last values read. Gauges a clock's round sets (once a second) are read again
/// until the round has run, never with a fixed sleep.
async fn until_metric(
    servers: &[&TestServer],
    name: &str,
    want: impl Fn(&[f64]) -> bool,
) -> Vec<f64> {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut values = Vec::new();
        for s in servers {
            values.push(metric(s, name).await);
        }
        if want(&values) {
            return values;
        }
        assert!(
            Instant::now() < deadline,
            "{name} on each instance is still {values:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sum(values: &[f64]) -> f64 {
    values.iter().sum()
}

#[tokio::test]
async fn members_and_rooms_summed_over_two_instances_on_one_redis_are_the_true_counts() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    // Three rooms: one with members on both instances, one with a member on the
    // second only, one nobody is in.
    let (shared, second, _empty): (RoomId, RoomId, RoomId) =
        (a.room(12).await, a.room(12).await, b.room(12).await);
    let mut alice = a.member(shared, "Alice").await;
    let _bob = a.member(shared, "Bob").await;
    let _cat = b.member(shared, "Cat").await;
    let dan = b.member(second, "Dan").await;
    // Dan opens a second tab on the same instance: still one member.
    let _dan_again = b.connect(dan.joined.clone()).await;

    let members = until_metric(&[&a, &b], "kindred_members", |v| sum(v) == 4.0).await;
    assert_eq!(members, vec![2.0, 2.0], "each instance counts its own");
    let rooms = until_metric(&[&a, &b], "kindred_rooms", |v| sum(v) == 3.0).await;
    assert_eq!(sum(&rooms), 3.0, "every room once, on one instance");
    // The rooms each instance serves do not sum, and say so by their name.
    let served = until_metric(&[&a, &b], "kindred_rooms_served", |v| v == [1.0, 2.0]).await;
    assert_eq!(sum(&served), 3.0, "the shared room is served by both");

    // Alice leaves: three members now, still three rooms.
    alice.send(ClientFrame::Leave).await;
    alice.closed().await;
    let members = until_metric(&[&a, &b], "kindred_members", |v| sum(v) == 3.0).await;
    assert_eq!(members, vec![1.0, 2.0]);
    assert_eq!(
        sum(&until_metric(&[&a, &b], "kindred_rooms", |v| sum(v) == 3.0).await),
        3.0
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_removal_by_the_organiser_closes_the_socket_naming_the_organiser() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;

    server
        .http
        .remove_member(ADMIN, room, alice.user())
        .await
        .expect("the organiser removes Alice");
    let (code, reason) = alice.closed().await;
    assert_eq!(code, close_code::REMOVED);
    assert_eq!(reason, "removed by the organiser");

    // A facilitator's removal still says it was a facilitator.
    fran.moderate(ModAction::Remove, ModArgs::user(bob.user()))
        .await
        .expect("Fran removes Bob");
    let (code, reason) = bob.closed().await;
    assert_eq!(code, close_code::REMOVED);
    assert_eq!(reason, "removed by a facilitator");

    // The organiser ends Fran's own seat: the same words.
    server
        .http
        .remove_member(ADMIN, room, fran.user())
        .await
        .expect("the organiser removes Fran");
    let (code, reason) = fran.closed().await;
    assert_eq!(code, close_code::REMOVED);
    assert_eq!(reason, "removed by the organiser");
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_path_or_method_answers_the_documented_error_body() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();

    let missing = http
        .get(format!("{}/api/no-such-thing", server.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: HttpError = missing.json().await.expect("an error body");
    assert_eq!(body.code, ErrorCode::NotFound);
    assert!(!body.message.is_empty());

    let wrong = http
        .put(format!("{}/api/rooms", server.base()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 405);
    let allow = wrong
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        allow.contains("GET") && allow.contains("POST"),
        "Allow: {allow}"
    );
    let body: HttpError = wrong.json().await.expect("an error body");
    assert_eq!(body.code, ErrorCode::BadRequest);
    assert!(body.message.contains("PUT"), "{}", body.message);
    server.stop().await;
}

#[tokio::test]
async fn the_unhandled_crisis_alerts_gauge_rises_on_an_alert_and_falls_when_a_facilitator_handles_it()
 {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    until_metric(&[&server], "kindred_crisis_alerts_unhandled", |v| {
        v == [0.0]
    })
    .await;

    alice
        .say_acked("I can't do this anymore, I want to end my life")
        .await;
    let id = fran
        .until(|f| match f {
            ServerFrame::Alert { id: Some(id), .. } => Some(*id),
            _ => None,
        })
        .await;
    until_metric(&[&server], "kindred_crisis_alerts_unhandled", |v| {
        v == [1.0]
    })
    .await;

    fran.send(ClientFrame::AckWarning { alert: Some(id) }).await;
    until_metric(&[&server], "kindred_crisis_alerts_unhandled", |v| {
        v == [0.0]
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_redis_outage_moves_the_append_failure_and_reconnect_counters() {
    let mut redis = RedisServer::start().await;
    let server = TestServer::on_redis(&redis.url()).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    assert_eq!(
        metric(&server, "kindred_redis_append_failures_total").await,
        0.0
    );
    assert_eq!(metric(&server, "kindred_redis_reconnects_total").await, 0.0);

    redis.kill();
    alice
        .send(ClientFrame::Send {
            client_id: "while-away".into(),
            guard: None,
            text: "is anyone there?".into(),
            cw: None,
        })
        .await;
    let said = alice.outcome("while-away").await;
    assert_eq!(
        said.expect_err("refused while Redis is away").code,
        ErrorCode::Internal
    );
    assert!(metric(&server, "kindred_redis_append_failures_total").await >= 1.0);
    until_metric(&[&server], "kindred_broker_up", |v| v == [0.0]).await;

    redis.restart_empty().await;
    until_metric(&[&server], "kindred_redis_reconnects_total", |v| v == [1.0]).await;
    until_metric(&[&server], "kindred_broker_up", |v| v == [1.0]).await;
    server.stop().await;
}

#[tokio::test]
async fn a_refused_admin_call_is_logged_with_a_keyed_hash_of_the_caller_never_the_address() {
    let instance = Instance::launch(&[("KINDRED_TRUST_FORWARDED_FOR", "true")], true);
    let http = reqwest::Client::new();
    let refuse = |from: &'static str| {
        http.post(format!("{}/api/rooms", instance.base()))
            .bearer_auth("not-the-admin-token")
            .header("x-forwarded-for", from)
            .json(&serde_json::json!({"title": "x"}))
            .send()
    };
    for from in ["203.0.113.7", "203.0.113.7", "198.51.100.9"] {
        assert_eq!(refuse(from).await.unwrap().status().as_u16(), 401);
    }
    let deadline = Instant::now() + WAIT;
    let refused = loop {
        let refused: Vec<String> = instance
            .logs()
            .into_iter()
            .filter(|l| l.contains("admin call refused"))
            .collect();
        if refused.len() == 3 {
            break refused;
        }
        assert!(
            Instant::now() < deadline,
            "three refusals logged: {refused:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let callers: Vec<String> = refused
        .iter()
        .map(|line| {
            assert!(
                !line.contains("203.0.113.7") && !line.contains("198.51.100.9"),
                "no address in {line}"
            );
            assert!(!line.contains("not-the-admin-token"), "no token in {line}");
            let caller = line
                .split("caller=")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or_else(|| panic!("a caller in {line}"))
                .trim_matches('"')
                .to_owned();
            assert_eq!(caller.len(), 16, "{line}");
            assert!(caller.chars().all(|c| c.is_ascii_hexdigit()), "{line}");
            caller
        })
        .collect();
    assert_eq!(callers[0], callers[1], "one caller, one name");
    assert_ne!(callers[0], callers[2], "two callers, two names");
}
