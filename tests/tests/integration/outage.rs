//! A Redis outage as members and the operator live it: two instances share a room
//! through a real `redis-server`, which is stopped (`SIGSTOP`, a host that hangs: what
//! is sent to it waits in its socket) while a member is sending. Every send is
//! answered `internal` within the bound PROTOCOL.md gives, in the order sent; none of
//! them lands when Redis carries on (another instance's member and a facilitator who
//! reads the history see none of them); the member's retries land once each, in
//! order; and `/readyz` says why the instance is not ready, then that it is. The
//! operator's calls and a facilitator's moderation are held to the same bound, and
//! are not applied later either; and a Redis killed and restarted with its data gets
//! the same answers, and the retries after it.

use std::time::Duration;

use kindred_protocol::client::ClientError;
use kindred_protocol::http::{BrokerState, CatalogState, Readiness};
use kindred_protocol::{ClientFrame, ErrorCode, ModAction, RoomId, Seq, ServerFrame};
use kindred_tests::redis::RedisServer;
use kindred_tests::{ADMIN, Member, ModArgs, TestServer, WAIT, conversation_continues};
use tokio::time::Instant;

/// PROTOCOL.md: a command is answered within 2 s of being sent, `internal` if the
/// store cannot take it by then.
const BOUND: Duration = Duration::from_secs(2);

/// Two instances in this process on the Redis at `url`, and a room in session.
async fn two_instances(url: &str) -> (TestServer, TestServer, RoomId) {
    let a = TestServer::on_redis(url).await;
    let b = TestServer::on_redis(url).await;
    let room = a.room(20).await;
    (a, b, room)
}

/// `/readyz` as the balancer reads it: the status and the reasons.
async fn readyz(server: &TestServer) -> (u16, Readiness) {
    let answer = reqwest::get(format!("{}/readyz", server.base()))
        .await
        .expect("/readyz answers");
    let status = answer.status().as_u16();
    let readiness = answer.json().await.expect("/readyz answers JSON");
    (status, readiness)
}

/// Poll `/readyz` until it answers 200, within [`WAIT`].
async fn ready_again(server: &TestServer) -> Readiness {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, readiness) = readyz(server).await;
        if status == 200 {
            return readiness;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz still answers {status} {readiness:?} after {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The texts among `frames`' messages that are in `texts`, in the order given.
fn messages_among(frames: &[ServerFrame], texts: &[String]) -> Vec<(Seq, String)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message { seq, text, .. } if texts.contains(text) => {
                Some((*seq, text.clone()))
            }
            _ => None,
        })
        .collect()
}

fn send(client_id: &str, text: &str) -> ClientFrame {
    ClientFrame::Send {
        client_id: client_id.into(),
        guard: None,
        text: text.into(),
        cw: None,
    }
}

/// Read Lee's answers to `sent` (client id, when sent): each must be an `error`
/// frame; returns (client id, code, how long after its send it came).
async fn answers(
    lee: &mut Member,
    sent: &[(String, Instant)],
) -> Vec<(String, ErrorCode, Duration)> {
    let mut answered = Vec::new();
    while answered.len() < sent.len() {
        match lee.next().await {
            ServerFrame::Error(e) => {
                let id = e.client_id.clone().expect("the refusal names its command");
                let at = sent
                    .iter()
                    .find(|(c, _)| *c == id)
                    .map(|(_, at)| at.elapsed())
                    .expect("a command Lee sent");
                answered.push((id, e.code, at));
            }
            ServerFrame::Ack { client_id, .. } => {
                panic!("{client_id} was acknowledged while Redis was stopped")
            }
            _ => {}
        }
    }
    answered
}

/// Lee sends each of `texts` (client ids `{prefix}-{i}`) while Redis is away: each is
/// answered `internal`, in the order sent, within the bound. Returns the client ids.
async fn refused_in_order(lee: &mut Member, prefix: &str, texts: &[String]) -> Vec<String> {
    let mut sent = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let id = format!("{prefix}-{i}");
        lee.send(send(&id, text)).await;
        sent.push((id, Instant::now()));
    }
    let answered = answers(lee, &sent).await;
    let order: Vec<&str> = answered.iter().map(|(id, _, _)| id.as_str()).collect();
    let ids: Vec<&str> = sent.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(order, ids, "answered in the order sent");
    for (id, code, after) in &answered {
        assert_eq!(*code, ErrorCode::Internal, "{id}");
        assert!(
            *after < BOUND,
            "{id} was answered {after:?} after it was sent"
        );
    }
    sent.into_iter().map(|(id, _)| id).collect()
}

/// Lee's client sends each again with its client id once Redis is back: the seq each
/// lands at.
async fn retried(lee: &mut Member, ids: &[String], texts: &[String]) -> Vec<Seq> {
    let mut seqs = Vec::new();
    for (id, text) in ids.iter().zip(texts) {
        lee.send(send(id, text)).await;
        seqs.push(lee.ack(id).await.expect("the retry is applied"));
    }
    seqs
}

#[tokio::test]
async fn sends_while_redis_is_stopped_are_refused_in_order_within_two_seconds_and_none_lands_when_it_returns()
 {
    let redis = RedisServer::start().await;
    let (a, b, room) = two_instances(&redis.url()).await;
    let mut lee = a.member(room, "Lee").await;
    let mut sam = b.member(room, "Sam").await;
    conversation_continues(&mut lee, &mut sam, "before").await;
    let (status, readiness) = readyz(&a).await;
    assert_eq!(
        (status, readiness),
        (
            200,
            Readiness {
                ready: true,
                broker: BrokerState::Ok,
                catalog: CatalogState::Ok,
                draining: false,
            }
        )
    );

    redis.pause();
    let texts: Vec<String> = (1..=4)
        .map(|i| format!("said while Redis was stopped, number {i}"))
        .collect();
    let sent = refused_in_order(&mut lee, "outage", &texts).await;
    // The balancer is told why: the broker is out of reach. Not counted as an error.
    let (status, readiness) = readyz(&a).await;
    assert_eq!(
        (status, readiness),
        (
            503,
            Readiness {
                ready: false,
                broker: BrokerState::Unreachable,
                catalog: CatalogState::Ok,
                draining: false,
            }
        )
    );

    // Redis carries on, and runs what waited in its socket.
    redis.resume();
    let readiness = ready_again(&a).await;
    assert_eq!(
        readiness,
        Readiness {
            ready: true,
            broker: BrokerState::Ok,
            catalog: CatalogState::Ok,
            draining: false,
        }
    );
    // Sam, on the other instance, is given none of them before Lee's next message.
    lee.send(send("back", "Redis is back")).await;
    lee.ack("back").await.expect("a message once Redis is back");
    let sam_saw = sam.frames_before("Redis is back").await;
    assert_eq!(
        messages_among(&sam_saw, &texts),
        vec![],
        "a message answered internal was applied when Redis returned"
    );

    // Lee's client sends each again with its client_id: each lands once, in order.
    let seqs = retried(&mut lee, &sent, &texts).await;
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "the retries are numbered in the order sent: {seqs:?}"
    );
    let heard = messages_among(&sam.frames_until_said("heard them").await, &texts);
    let in_order: Vec<(Seq, String)> = seqs.iter().copied().zip(texts.clone()).collect();
    assert_eq!(heard, in_order, "Sam hears each retry once, in order");
    // A facilitator arriving on the other instance reads the same history.
    let fay = b.facilitator(room, "Fay").await;
    assert_eq!(
        messages_among(&fay.backlog, &texts),
        in_order,
        "the room's history holds each message once, in order"
    );

    let metrics = reqwest::get(format!("http://{}/metrics", a.running.metrics_addr))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    assert!(
        !metrics.lines().any(|l| l.contains("route=\"/readyz\"")),
        "a 503 from /readyz is an answer, not an error: {metrics}"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_operators_removal_and_a_facilitators_mute_while_redis_is_stopped_are_refused_within_two_seconds_and_never_applied()
 {
    let redis = RedisServer::start().await;
    let (a, b, room) = two_instances(&redis.url()).await;
    let mut fay = a.facilitator(room, "Fay").await;
    let mut lee = a.member(room, "Lee").await;
    let mut sam = b.member(room, "Sam").await;
    conversation_continues(&mut lee, &mut sam, "before").await;

    redis.pause();
    // The operator removes Sam through the instance that serves Lee and Fay.
    let asked = Instant::now();
    let refused = a
        .http
        .remove_member(ADMIN, room, sam.user())
        .await
        .expect_err("no store, no removal");
    let after = asked.elapsed();
    match refused {
        ClientError::Http { status, body } => {
            assert_eq!(
                (status, body.expect("a JSON error").code),
                (503, ErrorCode::Internal)
            );
        }
        other => panic!("{other}"),
    }
    assert!(after < BOUND, "the removal was answered after {after:?}");
    // Fay mutes Lee.
    let asked = Instant::now();
    let refused = fay
        .moderate(
            ModAction::Mute,
            ModArgs {
                seconds: Some(600),
                ..ModArgs::user(lee.user())
            },
        )
        .await
        .expect_err("no store, no mute");
    let after = asked.elapsed();
    assert_eq!(refused.code, ErrorCode::Internal);
    assert!(after < BOUND, "the mute was answered after {after:?}");

    redis.resume();
    ready_again(&a).await;
    // Lee is not muted and Sam is still in the room: both hear Lee, and nobody was
    // told of a mute or a removal.
    lee.send(send("back", "Redis is back")).await;
    lee.ack("back").await.expect("Lee was never muted");
    for (who, frames) in [
        ("Sam", sam.frames_before("Redis is back").await),
        ("Fay", fay.frames_before("Redis is back").await),
    ] {
        let changed: Vec<&ServerFrame> = frames
            .iter()
            .filter(|f| matches!(f, ServerFrame::Muted { .. } | ServerFrame::Left { .. }))
            .collect();
        assert_eq!(
            changed,
            Vec::<&ServerFrame>::new(),
            "{who} was told of a change that was refused"
        );
    }
    conversation_continues(&mut sam, &mut lee, "after").await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn sends_while_redis_is_killed_are_refused_in_order_within_two_seconds_and_retries_land_once_after_its_restart()
 {
    let mut redis = RedisServer::persistent().await;
    let (a, b, room) = two_instances(&redis.url()).await;
    let mut lee = a.member(room, "Lee").await;
    let mut sam = b.member(room, "Sam").await;
    conversation_continues(&mut lee, &mut sam, "before").await;

    redis.kill();
    let texts: Vec<String> = (1..=3)
        .map(|i| format!("said while Redis was down, number {i}"))
        .collect();
    let sent = refused_in_order(&mut lee, "down", &texts).await;
    let (status, readiness) = readyz(&a).await;
    assert_eq!((status, readiness.broker), (503, BrokerState::Unreachable));

    // Redis comes back with what it had; another process may hold less than a replica
    // folded, so the room goes on under a new epoch and both resume (a reset), given
    // the room's history, which holds none of the refused messages.
    redis.restart_with_data().await;
    let mut lee = a.resume_after_reset(lee).await;
    let mut sam = b.resume_after_reset(sam).await;
    for (who, m) in [("Lee", &lee), ("Sam", &sam)] {
        assert_eq!(
            messages_among(&m.backlog, &texts),
            vec![],
            "{who}'s history holds a message answered internal"
        );
    }
    ready_again(&a).await;
    let seqs = retried(&mut lee, &sent, &texts).await;
    let heard = messages_among(&sam.frames_until_said("heard them").await, &texts);
    let in_order: Vec<(Seq, String)> = seqs.iter().copied().zip(texts.clone()).collect();
    assert_eq!(heard, in_order, "Sam hears each retry once, in order");
    a.stop().await;
    b.stop().await;
}
