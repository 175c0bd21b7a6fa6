//! An outage is not a death, and a member is always told: instances that share rooms
//! through a real `redis-server` (or a real three-master Redis Cluster) and lose each
//! other, or Redis, for a while. An instance stopped with `SIGSTOP` lets its members
//! go so they resume with nothing missed; Redis away for ten seconds takes nobody for
//! gone; a member who left while Redis was away is seen to leave once it is back; a
//! room whose slot moves to another node is still heard on every instance; and a
//! `hello` while Redis is away is answered at once.

use std::time::{Duration, Instant};

use kindred_protocol::client::{ClientError, Connection};
use kindred_protocol::http::{CreateRoom, JoinRequest, JoinResponse};
use kindred_protocol::{
    ClientFrame, ErrorCode, LeftReason, ResumeKind, RoomId, Seq, ServerFrame, UserId, close_code,
};
use kindred_tests::process::Instance;
use kindred_tests::redis::{RedisCluster, RedisServer, key_slot};
use kindred_tests::{ADMIN, Member, TestServer, WAIT, conversation_continues};

/// A room in session, not held for want of a facilitator, made through `http`.
async fn open_room(http: &kindred_protocol::client::Http) -> RoomId {
    http.create_room(
        ADMIN,
        &CreateRoom {
            title: "Thursday evening group".into(),
            topic: "Grief".into(),
            capacity: Some(20),
            open: Some(true),
            facilitated: Some(false),
            ..CreateRoom::default()
        },
    )
    .await
    .expect("room created")
    .id
}

async fn join(http: &kindred_protocol::client::Http, room: RoomId, name: &str) -> JoinResponse {
    http.join(
        room,
        &JoinRequest {
            name: name.into(),
            accept_guidelines: true,
            ..JoinRequest::default()
        },
    )
    .await
    .expect("join accepted")
}

/// The instance id a process printed at start.
fn printed_id(instance: &Instance) -> String {
    let printed = instance.await_printed("This instance is ");
    let line = printed
        .iter()
        .find_map(|l| l.split("This instance is ").nth(1))
        .expect("the line is there");
    line.split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .expect("an id")
        .to_owned()
}

/// Send a message on a raw connection and read until its ack, its refusal or the end
/// of the connection; every timeline frame read on the way is kept in `seen`.
async fn say_raw(
    conn: &mut Connection,
    client_id: &str,
    text: &str,
    seen: &mut Vec<(Seq, ServerFrame)>,
) -> Result<Seq, String> {
    if conn
        .send(&ClientFrame::Send {
            client_id: client_id.into(),
            guard: None,
            text: text.into(),
            cw: None,
        })
        .await
        .is_err()
    {
        return Err("the connection is gone".into());
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let frame = match tokio::time::timeout_at(deadline, conn.next_frame()).await {
            Err(_) => panic!("no answer to {client_id} in time"),
            Ok(Err(e)) => return Err(format!("the connection ended: {e}")),
            Ok(Ok(frame)) => frame,
        };
        if let Some(seq) = frame.seq() {
            seen.push((seq, frame.clone()));
        }
        match frame {
            ServerFrame::Ack {
                client_id: c, seq, ..
            } if c == client_id => {
                return Ok(seq.expect("a delivered message has a seq"));
            }
            ServerFrame::Error(e) if e.client_id.as_deref() == Some(client_id) => {
                return Err(format!("refused: {:?}", e.code));
            }
            _ => {}
        }
    }
}

async fn send_text(conn: &mut Connection, client_id: &str, text: &str) {
    conn.send(&ClientFrame::Send {
        client_id: client_id.into(),
        guard: None,
        text: text.into(),
        cw: None,
    })
    .await
    .expect("sent");
}

/// Every seq after the one before it: no gap, no duplicate.
fn assert_consecutive(seqs: &[Seq], who: &str) {
    for pair in seqs.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1,
            "{who} saw seq {} after {}",
            pair[1],
            pair[0]
        );
    }
}

/// Entries of the room's log that declare an instance gone, read straight from Redis
/// and opened.
fn declared_gone(port: u16, room: RoomId) -> usize {
    let out = std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string(), "XRANGE"])
        .arg(format!("kindred:{{{room}}}:log"))
        .args(["-", "+"])
        .output()
        .expect("redis-cli runs");
    kindred_tests::sealed::opened(&[room], &out.stdout)
        .matches("InstanceGone")
        .count()
}

fn left_of(frames: &[ServerFrame], user: UserId) -> Vec<LeftReason> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Left {
                user: u, reason, ..
            } if *u == user => Some(*reason),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_member_of_an_instance_stopped_for_seven_seconds_is_let_go_and_resumes_with_nothing_missed()
 {
    let redis = RedisServer::start().await;
    // A grace period that ends after the stopped instance is awake again: if its member
    // were not let go to be counted again, the room would remove them.
    let env = |url: String| {
        vec![
            ("REDIS_URL".to_owned(), url),
            ("KINDRED_PRESENCE_GRACE_MS".to_owned(), "8000".to_owned()),
            ("KINDRED_AWAY_LIMIT_MS".to_owned(), "8000".to_owned()),
        ]
    };
    let launch = |vars: Vec<(String, String)>| {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Instance::launch(&vars, true)
    };
    let awake = launch(env(redis.url()));
    let sleeper = launch(env(redis.url()));
    // Each instance says who it is at start, and the ids differ.
    let awake_id = printed_id(&awake);
    let sleeper_id = printed_id(&sleeper);
    assert_ne!(awake_id, sleeper_id);

    let room = open_room(&awake.http).await;
    let lee = join(&awake.http, room, "Lee").await;
    let sam = join(&sleeper.http, room, "Sam").await;
    let (mut lee_conn, _, _) = Connection::hello(&awake.ws_url(), &lee.token, None)
        .await
        .expect("Lee connects to the instance that stays awake");
    let (mut sam_conn, sam_welcome, _) = Connection::hello(&sleeper.ws_url(), &sam.token, None)
        .await
        .expect("Sam connects to the instance that will be stopped");
    let mut sam_seen = Vec::new();
    let mut lee_seen = Vec::new();
    let first = say_raw(&mut sam_conn, "s0", "good evening", &mut sam_seen)
        .await
        .expect("Sam is heard before the stop");
    // Lee hears it: the awake instance serves Sam's room and counts his connection.
    while !lee_seen.iter().any(|(s, _)| *s == first) {
        let f = tokio::time::timeout(WAIT, lee_conn.next_frame())
            .await
            .expect("in time")
            .expect("open");
        if let Some(seq) = f.seq() {
            lee_seen.push((seq, f));
        }
    }

    let stopped = Instant::now();
    sleeper.pause();
    // While Sam's instance is stopped, Lee goes on talking.
    let mut said = Vec::new();
    for i in 0..3 {
        said.push(
            say_raw(
                &mut lee_conn,
                &format!("l{i}"),
                &format!("while away {i}"),
                &mut lee_seen,
            )
            .await
            .expect("Lee's instance goes on"),
        );
    }
    tokio::time::sleep(Duration::from_secs(7).saturating_sub(stopped.elapsed())).await;
    sleeper.resume();

    // Awake again, Sam's instance either still counts him (he may go on) or learns it
    // was taken for gone and lets his socket go with the code that says "reconnect
    // and resume"; never a socket left open whose sends are refused.
    let mut told_to_resume = false;
    send_text(&mut sam_conn, "s1", "I am back").await;
    loop {
        let frame = match tokio::time::timeout(WAIT, sam_conn.next_frame()).await {
            Err(_) => panic!("Sam's socket went silent: neither his message nor a close"),
            Ok(Ok(frame)) => frame,
            Ok(Err(e)) => {
                let code = match e {
                    ClientError::Closed { code, .. } => code,
                    _ => 1006,
                };
                assert_eq!(
                    code,
                    close_code::SLOW_CONSUMER,
                    "Sam is told to reconnect and resume"
                );
                told_to_resume = true;
                // Resume from the last seq this socket was given, on the instance that
                // was stopped, and say it again (one client_id: applied once).
                let last_seq = sam_seen
                    .iter()
                    .map(|(s, _)| *s)
                    .max()
                    .unwrap_or(sam_welcome.seq);
                let (conn, welcome, backlog) = Connection::hello(
                    &sleeper.ws_url(),
                    &sam.token,
                    Some((last_seq, sam_welcome.epoch)),
                )
                .await
                .expect("Sam resumes on the instance that was stopped");
                assert_eq!(
                    welcome.resume,
                    ResumeKind::Resumed,
                    "nothing of the room was lost"
                );
                sam_conn = conn;
                let mut back = false;
                for f in backlog {
                    if let Some(seq) = f.seq() {
                        back |=
                            matches!(&f, ServerFrame::Message { text, .. } if text == "I am back");
                        sam_seen.push((seq, f));
                    }
                }
                if back {
                    break;
                }
                send_text(&mut sam_conn, "s1", "I am back").await;
                continue;
            }
        };
        if let ServerFrame::Error(e) = &frame {
            assert!(
                e.client_id.as_deref() != Some("s1"),
                "Sam's socket stayed open but his message was refused: {e:?}"
            );
        }
        if let Some(seq) = frame.seq() {
            let back = matches!(&frame, ServerFrame::Message { text, .. } if text == "I am back");
            sam_seen.push((seq, frame));
            if back {
                break;
            }
        }
    }
    // Whatever the path, Sam has everything Lee said while he was away, in order, with
    // no gap and no duplicate.
    let seqs: Vec<Seq> = sam_seen.iter().map(|(s, _)| *s).collect();
    assert_consecutive(&seqs, "Sam");
    for seq in &said {
        assert!(
            seqs.contains(seq),
            "Sam has seq {seq} said while away: {seqs:?}"
        );
    }

    // The awake instance named the stopped one when it took it for gone, and the
    // stopped one, awake, named the instance that did.
    let declared = awake
        .logs()
        .into_iter()
        .find(|l| l.contains("stopped answering"));
    assert_eq!(
        declared.is_some(),
        told_to_resume,
        "Sam is told to resume exactly when his instance was taken for gone"
    );
    let metrics_url = awake
        .printed()
        .iter()
        .find_map(|l| l.strip_prefix("Metrics: ").map(str::to_owned))
        .expect("the metrics address is printed");
    let gone = super::metrics::metric_at(&metrics_url, "kindred_instances_gone_total").await;
    assert_eq!(
        gone > 0.0,
        declared.is_some(),
        "the operator's counter moves exactly when an instance is taken for gone"
    );
    if let Some(line) = declared {
        assert!(
            line.contains(&sleeper_id),
            "the log line names the instance that stopped: {line}"
        );
        let deadline = Instant::now() + WAIT;
        loop {
            let told = sleeper
                .logs()
                .into_iter()
                .find(|l| l.contains("took this one for gone"));
            if let Some(told) = told {
                assert!(
                    told.contains(&awake_id),
                    "it names who took it for gone: {told}"
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the stopped instance says it was taken for gone"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // Past the end of the grace period the stop began: Sam is still in the room, and
    // the roster agrees with the connections (Lee's and Sam's).
    tokio::time::sleep(Duration::from_secs(17).saturating_sub(stopped.elapsed())).await;
    let _ = say_raw(&mut sam_conn, "s2", "still here", &mut sam_seen)
        .await
        .expect("Sam is still in the room");
    let mut lee_frames = Vec::new();
    loop {
        let f = tokio::time::timeout(WAIT, lee_conn.next_frame())
            .await
            .expect("in time")
            .expect("Lee's socket stays open");
        let done = matches!(&f, ServerFrame::Message { text, .. } if text == "still here");
        lee_frames.push(f);
        if done {
            break;
        }
    }
    assert_eq!(
        left_of(&lee_frames, sam.user_id),
        vec![],
        "Sam was never removed"
    );
    let list = awake.http.rooms().await.expect("room list");
    let summary = list.rooms.iter().find(|r| r.id == room).expect("listed");
    assert_eq!(summary.members, 2, "the room counts Lee and Sam");
    let kim = join(&awake.http, room, "Kim").await;
    let (_kim_conn, welcome, _) = Connection::hello(&awake.ws_url(), &kim.token, None)
        .await
        .expect("Kim connects");
    let names: Vec<&str> = welcome.members.iter().map(|m| m.name.as_str()).collect();
    assert!(
        names.contains(&"Sam") && names.contains(&"Lee"),
        "the roster shows both: {names:?}"
    );
}

/// Say `text` until Redis answers again: `internal` while it is away.
async fn say_when_back(m: &mut Member, text: &str) -> Seq {
    let deadline = tokio::time::Instant::now() + 3 * WAIT;
    // One client_id for every try: a retry is applied once.
    let id = format!("back: {text}");
    loop {
        m.send(ClientFrame::Send {
            client_id: id.clone(),
            guard: None,
            text: text.into(),
            cw: None,
        })
        .await;
        match m.ack(&id).await {
            Ok(seq) => return seq,
            Err(e) => assert_eq!(e.code, ErrorCode::Internal, "only internal while away"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Redis never served again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Two instances in this process on the persistent Redis at `url`, with a short grace
/// period and away limit (a member taken for absent leaves within the test), and a
/// room in session.
async fn two_instances(url: &str) -> (TestServer, TestServer, RoomId) {
    let config = || {
        let mut c = kindred_tests::config();
        c.storage.redis_url = Some(url.to_owned());
        c.rooms.presence_grace_ms = 1000;
        c.rooms.away_limit_ms = 1000;
        c
    };
    let a = TestServer::with(config()).await;
    let b = TestServer::with(config()).await;
    let room = a.room(20).await;
    (a, b, room)
}

#[tokio::test]
async fn redis_away_for_ten_seconds_takes_no_instance_for_gone_and_removes_nobody() {
    let mut redis = RedisServer::persistent().await;
    let (a, b, room) = two_instances(&redis.url()).await;
    let mut lee = a.member(room, "Lee").await;
    let mut sam = b.member(room, "Sam").await;
    conversation_continues(&mut lee, &mut sam, "before").await;

    redis.kill();
    tokio::time::sleep(Duration::from_secs(10)).await;
    redis.restart_with_data().await;
    // Another Redis process may hold less than a replica folded, so the room goes on
    // under a new epoch: both resume (a reset), and both are still members.
    let mut lee = a.resume_after_reset(lee).await;
    let mut sam = b.resume_after_reset(sam).await;
    for (m, other) in [(&lee, sam.user()), (&sam, lee.user())] {
        assert!(
            m.welcome.members.iter().any(|p| p.user == other),
            "still a member after the outage: {:?}",
            m.welcome.members
        );
    }
    say_when_back(&mut lee, "Lee is back").await;
    say_when_back(&mut sam, "Sam is back").await;
    // Longer than a heartbeat's lifetime, a tick and the grace period since both
    // instances answered again: a member taken for gone would be removed by now.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let lee_saw = lee.frames_until_said("after the outage").await;
    let sam_saw = sam.frames_before("after the outage").await;
    assert_eq!(
        left_of(&lee_saw, sam.user()),
        vec![],
        "Sam was never removed"
    );
    assert_eq!(
        left_of(&sam_saw, lee.user()),
        vec![],
        "Lee was never removed"
    );
    assert_eq!(
        declared_gone(redis.port(), room),
        0,
        "no instance was taken for gone"
    );
    for server in [&a, &b] {
        let metric = |name| super::metrics::metric(server, name);
        assert_eq!(metric("kindred_instances_gone_total").await, 0.0);
        assert!(metric("kindred_redis_reconnects_total").await >= 1.0);
    }
    conversation_continues(&mut sam, &mut lee, "and on").await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_member_who_went_while_redis_was_away_is_seen_to_leave_once_it_is_back() {
    let mut redis = RedisServer::persistent().await;
    let (a, b, room) = two_instances(&redis.url()).await;
    let mut lee = a.member(room, "Lee").await;
    let mut sam = b.member(room, "Sam").await;
    conversation_continues(&mut sam, &mut lee, "before").await;
    let sam_user = sam.user();

    redis.kill();
    // Sam closes his laptop while Redis is away: his instance cannot say so.
    let _ = sam.conn.close().await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    redis.restart_with_data().await;
    // The room goes on under a new epoch (another Redis process may hold less than a
    // replica folded): Lee resumes.
    let mut lee = a.resume_after_reset(lee).await;
    say_when_back(&mut lee, "Lee is back").await;
    // Once Redis is back, Sam's instance says it holds no connection of his; after his
    // grace period, the room lets him go (perhaps already in what Lee was given).
    let left = |f: &ServerFrame| match f {
        ServerFrame::Left { user, reason, .. } if *user == sam_user => Some(*reason),
        _ => None,
    };
    let reason = match lee.backlog.iter().find_map(left) {
        Some(reason) => reason,
        None => lee.until(left).await,
    };
    assert_eq!(reason, LeftReason::Disconnected);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn hello_while_redis_is_away_is_answered_internal_and_closed_1001_within_five_seconds() {
    let mut redis = RedisServer::start().await;
    let server = TestServer::on_redis(&redis.url()).await;
    let room = server.room(10).await;
    let joined = server.join(room, "Robin").await.expect("joins");
    redis.kill();
    let started = tokio::time::Instant::now();
    let mut raw = server.raw().await;
    raw.send(&ClientFrame::Hello {
        first_time: false,
        token: joined.token.clone(),
        last_seq: None,
        epoch: None,
    })
    .await
    .expect("hello sent");
    let error = kindred_tests::next_error(&mut raw).await;
    assert_eq!(error.code, ErrorCode::Internal);
    let (code, _) = kindred_tests::closed(&mut raw).await;
    assert_eq!(code, close_code::GOING_AWAY, "reconnect (to any instance)");
    // PROTOCOL.md §5: within 5 s, well inside the 10 s a client waits for a welcome.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        started.elapsed()
    );
    server.stop().await;
}

/// Read until `count` messages starting with `prefix` arrived: their seqs, in order.
async fn hears_all(m: &mut Member, prefix: &str, count: usize) -> Vec<(Seq, String)> {
    let mut heard = Vec::new();
    while heard.len() < count {
        let text = m
            .until(|f| match f {
                ServerFrame::Message { seq, text, .. } if text.starts_with(prefix) => {
                    Some((*seq, text.clone()))
                }
                _ => None,
            })
            .await;
        heard.push(text);
    }
    heard
}

#[tokio::test]
async fn a_room_whose_slot_moves_to_another_node_is_still_heard_on_every_instance() {
    let cluster = RedisCluster::start().await;
    let a = TestServer::on_redis(&cluster.url()).await;
    let b = TestServer::on_redis(&cluster.url()).await;
    let room = a.room(20).await;
    let mut lee = a.member(room, "Lee").await;
    let mut sam = b.member(room, "Sam").await;
    conversation_continues(&mut lee, &mut sam, "before the move").await;

    cluster.migrate_slot(key_slot(&format!("{{{room}}}"))).await;
    // The room's keys now live with a Redis process that wrote none of its entries (as
    // after a failover, it could hold less than a replica folded), so the room goes on
    // under a new epoch at its next entry: both resume.
    let _ = lee.say("still there?").await;
    let mut lee = a.resume_after_reset(lee).await;
    let mut sam = b.resume_after_reset(sam).await;
    // Each hears the other: every message, in the order the room gave them.
    let mut lee_said = Vec::new();
    for i in 0..5 {
        lee_said.push(lee.say_acked(&format!("from Lee {i}")).await);
    }
    let heard = hears_all(&mut sam, "from Lee ", 5).await;
    let seqs: Vec<Seq> = heard.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, lee_said, "Sam hears Lee's messages, in order");
    let texts: Vec<String> = heard.into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        texts,
        (0..5).map(|i| format!("from Lee {i}")).collect::<Vec<_>>()
    );
    let mut sam_said = Vec::new();
    for i in 0..5 {
        sam_said.push(sam.say_acked(&format!("from Sam {i}")).await);
    }
    let heard = hears_all(&mut lee, "from Sam ", 5).await;
    let seqs: Vec<Seq> = heard.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, sam_said, "Lee hears Sam's messages, in order");
    a.stop().await;
    b.stop().await;
}
