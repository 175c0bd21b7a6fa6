//! A rolling upgrade as README.md ("Upgrading") describes it, on the real binary: two
//! `kindred` processes on one `redis-server` behind the shipped nginx site; one is
//! stopped with `SIGTERM` (`systemctl restart`, `docker compose up` of a new image), its
//! member is closed with 1001 (going away) and resumes through the proxy on the other
//! instance at the first attempt, missing nothing said meanwhile and hearing nothing
//! twice.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use kindred_protocol::client::{ClientError, Connection, Http};
use kindred_protocol::http::{CreateRoom, JoinRequest, JoinResponse};
use kindred_protocol::{ClientFrame, ResumeKind, Seq, ServerFrame, close_code};
use kindred_tests::nginx::Nginx;
use kindred_tests::process::Instance;
use kindred_tests::redis::RedisServer;
use kindred_tests::{ADMIN, WAIT};
use tokio::time::Instant;

const SITE: &str = include_str!("../../../../deploy/nginx/kindred.conf");

async fn join(http: &Http, room: kindred_protocol::RoomId, name: &str) -> JoinResponse {
    let request = JoinRequest {
        name: name.into(),
        accept_guidelines: true,
        ..JoinRequest::default()
    };
    http.join(room, &request).await.expect("join accepted")
}

/// Send `text` and wait for its ack: the seq it was given.
async fn say(conn: &mut Connection, client_id: &str, text: &str) -> Seq {
    let frame = ClientFrame::Send {
        client_id: client_id.into(),
        guard: None,
        text: text.into(),
        cw: None,
    };
    conn.send(&frame).await.expect("sent");
    tokio::time::timeout(WAIT, async {
        loop {
            match conn.next_frame().await.expect("the connection stays open") {
                ServerFrame::Ack {
                    client_id: id, seq, ..
                } if id == client_id => {
                    return seq.expect("the ack names a seq");
                }
                ServerFrame::Error(e) if e.client_id.as_deref() == Some(client_id) => {
                    panic!("{text:?} refused: {e:?}")
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the ack arrives in time")
}

/// The text of the message at `seq`, read from `frames` and then from `conn`.
async fn hears(conn: &mut Connection, frames: &[ServerFrame], seq: Seq) -> String {
    let text_at = |frame: &ServerFrame| match frame {
        ServerFrame::Message { seq: s, text, .. } if *s == seq => Some(text.clone()),
        _ => None,
    };
    if let Some(text) = frames.iter().find_map(text_at) {
        return text;
    }
    tokio::time::timeout(WAIT, async {
        loop {
            let frame = conn.next_frame().await.expect("the connection stays open");
            if let Some(text) = text_at(&frame) {
                return text;
            }
        }
    })
    .await
    .expect("the message arrives in time")
}

#[tokio::test]
async fn a_rolling_restart_closes_with_1001_and_members_resume_on_the_other_instance() {
    let redis = RedisServer::start().await;
    let held: Vec<TcpListener> = (0..2)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0"))
        .collect();
    let addrs: Vec<SocketAddr> = held.iter().map(|l| l.local_addr().expect("addr")).collect();
    let proxy = Nginx::start_proxy(&addrs, SITE).await;
    drop(held);
    let mut instances: Vec<Instance> = addrs
        .iter()
        .map(|addr| Instance::start(&redis.url(), &[("KINDRED_BIND", &addr.to_string())]))
        .collect();
    for instance in &instances {
        let deadline = Instant::now() + WAIT;
        while !instance.ready().await {
            assert!(Instant::now() < deadline, "{} is not ready", instance.addr);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let http = Http::new(proxy.base());
    let room = CreateRoom {
        title: "Tuesday evening group".into(),
        open: Some(true),
        facilitated: Some(false),
        ..CreateRoom::default()
    };
    let room = http
        .create_room(ADMIN, &room)
        .await
        .expect("room created")
        .id;
    let robin = join(&http, room, "Robin").await;
    let sam = join(&http, room, "Sam").await;
    // Robin on the instance about to be upgraded, Sam on the other.
    let (mut robin_ws, robin_welcome, _) =
        Connection::hello(&instances[0].ws_url(), &robin.token, None)
            .await
            .expect("Robin connects");
    let (mut sam_ws, _, _) = Connection::hello(&instances[1].ws_url(), &sam.token, None)
        .await
        .expect("Sam connects");
    let before = say(&mut sam_ws, "s1", "before the restart").await;
    assert_eq!(
        hears(&mut robin_ws, &[], before).await,
        "before the restart"
    );
    let (last_seq, epoch) = (before, robin_welcome.epoch);

    // SIGTERM, as `systemctl restart` sends it.
    let mut upgraded = instances.remove(0);
    let stopping = tokio::task::spawn_blocking(move || (upgraded.terminate(), upgraded));
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            match robin_ws.next_frame().await {
                Ok(_) => continue,
                Err(ClientError::Closed { code, .. }) => return code,
                Err(e) => panic!("Robin's socket ended without a close: {e}"),
            }
        }
    })
    .await
    .expect("Robin's socket is closed in time");
    assert_eq!(
        closed,
        close_code::GOING_AWAY,
        "going away: reconnect and resume"
    );
    let (status, _stopped) = stopping.await.expect("the stop completes");
    assert!(
        status.success(),
        "a SIGTERM'd instance exits cleanly: {status}"
    );

    let during = say(&mut sam_ws, "s2", "said while Robin was away").await;
    // Through the proxy, whose first choice may be the stopped instance: refused, so
    // nginx passes the upgrade to the other, at the first attempt.
    let (mut robin_ws, welcome, backlog) = Connection::hello(
        &format!("ws://{}/ws", proxy.addr()),
        &robin.token,
        Some((last_seq, epoch)),
    )
    .await
    .unwrap_or_else(|e| panic!("Robin resumes through the proxy: {e}\n{}", proxy.log()));
    assert_eq!(welcome.resume, ResumeKind::Resumed, "no reset, no gap");
    assert_eq!(
        hears(&mut robin_ws, &backlog, during).await,
        "said while Robin was away"
    );
    assert!(
        backlog.iter().all(|f| f.seq().is_none_or(|s| s > last_seq)),
        "nothing Robin had already seen comes again: {backlog:?}"
    );
    let back = say(&mut robin_ws, "r1", "back again").await;
    assert_eq!(hears(&mut sam_ws, &[], back).await, "back again");
    drop(redis);
}
