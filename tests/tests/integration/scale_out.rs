//! Several instances, one room: members spread over instances that share the room
//! through a real `redis-server` (or a real three-master Redis Cluster) see one
//! order, a facilitator's action acknowledged on one instance binds every other, and
//! what a command causes for others (an alert, a whisper, a warning) reaches them on
//! every instance exactly once, even when Redis's push to their instance is lost.

use std::time::Duration;

use kindred_protocol::client::Connection;
use kindred_protocol::{
    AlertKind, ClientFrame, ErrorCode, ModAction, ResumeKind, RoomId, Seq, ServerFrame, UserId,
};
use kindred_tests::process::Instance;
use kindred_tests::redis::{RedisCluster, RedisServer, key_slot};
use kindred_tests::relay::Relay;
use kindred_tests::{Member, ModArgs, TestServer, WAIT, conversation_continues};

/// The room's timeline as one member read it: (seq, frame), in reading order.
type Timeline = Vec<(Seq, ServerFrame)>;

/// Read timeline frames until `count` messages whose text starts with `prefix` have
/// arrived.
async fn read_messages(m: &mut Member, prefix: &str, count: usize) -> Timeline {
    let mut out = Vec::new();
    let mut seen = 0;
    while seen < count {
        let frame = m.next().await;
        if let Some(seq) = frame.seq() {
            if matches!(&frame, ServerFrame::Message { text, .. } if text.starts_with(prefix)) {
                seen += 1;
            }
            out.push((seq, frame));
        }
    }
    out
}

/// Every seq follows the one before it: no gap, no duplicate, no reordering.
fn assert_consecutive(timeline: &Timeline, who: &str) {
    for pair in timeline.windows(2) {
        assert_eq!(
            pair[1].0,
            pair[0].0 + 1,
            "{who} saw seq {} after seq {}",
            pair[1].0,
            pair[0].0
        );
    }
}

/// Members on every instance send at once; everyone sees the same seqs in order.
async fn one_order_across(instances: &[TestServer], room: RoomId, per_member: usize) {
    let mut members = Vec::new();
    for (i, server) in instances.iter().enumerate() {
        for k in 0..2 {
            members.push(server.member(room, &format!("Member {i}.{k}")).await);
        }
    }
    let total = per_member * members.len();
    let mut tasks = Vec::new();
    for (n, mut m) in members.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            for i in 0..per_member {
                m.say(&format!("burst {n}/{i}")).await;
            }
            read_messages(&mut m, "burst ", total).await
        }));
    }
    let mut timelines = Vec::new();
    for t in tasks {
        timelines.push(t.await.expect("member task"));
    }
    // Members joined at different moments: compare from the first seq all of them saw.
    let start = timelines
        .iter()
        .map(|t| t.first().map_or(0, |f| f.0))
        .max()
        .unwrap_or(0);
    let reference: Vec<(Seq, String)> = timelines[0]
        .iter()
        .filter(|(s, _)| *s >= start)
        .map(|(s, f)| (*s, format!("{f:?}")))
        .collect();
    for (i, t) in timelines.iter().enumerate() {
        assert_consecutive(t, &format!("member {i}"));
        let mine: Vec<(Seq, String)> = t
            .iter()
            .filter(|(s, _)| *s >= start)
            .map(|(s, f)| (*s, format!("{f:?}")))
            .collect();
        assert_eq!(mine.len(), reference.len(), "member {i} saw as many events");
        assert!(
            mine == reference,
            "member {i} saw the same events in the same order"
        );
    }
}

#[tokio::test]
async fn members_on_three_instances_see_one_order_with_no_gap_and_no_duplicate() {
    let redis = RedisServer::start().await;
    let instances = [
        TestServer::on_redis(&redis.url()).await,
        TestServer::on_redis(&redis.url()).await,
        TestServer::on_redis(&redis.url()).await,
    ];
    let room = instances[0].room(50).await;
    // Six members, two per instance, 400 messages each: 2,400 messages at once.
    one_order_across(&instances, room, 400).await;
}

/// What one sender of a burst was told: the seqs it was acked with, and the codes of
/// the refusals.
#[derive(Debug, Default)]
struct Told {
    accepted: Vec<Seq>,
    refused: Vec<ErrorCode>,
}

/// Send `count` messages at once, then read until each got its ack or error (or the
/// server closed the connection).
async fn burst(mut m: Member, tag: &str, count: usize) -> Told {
    let mut ids = Vec::new();
    for i in 0..count {
        ids.push(m.say(&format!("race {tag} {i}")).await);
    }
    let mut told = Told::default();
    let deadline = tokio::time::Instant::now() + WAIT * 3;
    while told.accepted.len() + told.refused.len() < count {
        let Ok(Ok(frame)) = tokio::time::timeout_at(deadline, m.conn.next_frame()).await else {
            break; // closed (a close ends the session) or out of time
        };
        match frame {
            ServerFrame::Ack { client_id, seq, .. } if ids.contains(&client_id) => {
                told.accepted
                    .push(seq.expect("a delivered message has a seq"));
            }
            ServerFrame::Error(e) if e.client_id.as_ref().is_some_and(|c| ids.contains(c)) => {
                told.refused.push(e.code);
            }
            _ => {}
        }
    }
    told
}

/// Participants on instance B send bursts while a facilitator on instance A acts; no
/// message the action forbids is accepted after the action's seq, on any instance.
async fn race_against(action: ModAction) -> (Seq, UserId, Vec<Told>) {
    let redis = RedisServer::start().await;
    race_on(&redis.url(), action).await
}

/// The race of [`race_against`] on the Redis (or Redis Cluster) at `url`.
async fn race_on(url: &str, action: ModAction) -> (Seq, UserId, Vec<Told>) {
    let a = TestServer::on_redis(url).await;
    let b = TestServer::on_redis(url).await;
    let room = a.room(50).await;
    let mut fac = a.facilitator(room, "Fran").await;
    let mut senders = Vec::new();
    for k in 0..3 {
        senders.push(b.member(room, &format!("Sender {k}")).await);
    }
    let target = senders[0].user();
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(k, m)| tokio::spawn(async move { burst(m, &k.to_string(), 600).await }))
        .collect();
    // Act once the bursts are flowing through the room.
    let mut heard = 0;
    while heard < 30 {
        if let ServerFrame::Message { text, .. } = fac.next().await
            && text.starts_with("race ")
        {
            heard += 1;
        }
    }
    let args = match action {
        ModAction::Mute => ModArgs::user(target),
        _ => ModArgs::default(),
    };
    let at = fac
        .moderate(action, args)
        .await
        .expect("the facilitator's action is acknowledged");
    let mut told = Vec::new();
    for t in tasks {
        told.push(t.await.expect("sender task"));
    }
    (at, target, told)
}

#[tokio::test]
async fn after_a_mute_on_one_instance_no_instance_accepts_the_muted_members_message() {
    let (muted_at, _, told) = race_against(ModAction::Mute).await;
    assert_mute_held(muted_at, &told);
}

fn assert_mute_held(muted_at: Seq, told: &[Told]) {
    let target = &told[0];
    assert!(
        target.accepted.iter().all(|s| *s < muted_at),
        "every message accepted from the muted member comes before the mute (seq {muted_at}): {:?}",
        target
            .accepted
            .iter()
            .filter(|s| **s > muted_at)
            .collect::<Vec<_>>()
    );
    assert!(
        target.refused.contains(&ErrorCode::Muted),
        "the race happened: some of the burst met the mute"
    );
    // The others were not muted: they still got through after it.
    assert!(
        told[1]
            .accepted
            .iter()
            .chain(&told[2].accepted)
            .any(|s| *s > muted_at)
    );
}

#[tokio::test]
async fn after_a_pause_on_one_instance_no_instance_accepts_a_participants_message() {
    let (paused_at, _, told) = race_against(ModAction::Pause).await;
    for (k, t) in told.iter().enumerate() {
        assert!(
            t.accepted.iter().all(|s| *s < paused_at),
            "sender {k}: nothing accepted after the pause (seq {paused_at})"
        );
    }
    assert!(
        told.iter().any(|t| t.refused.contains(&ErrorCode::Paused)),
        "the race happened: some of the bursts met the pause"
    );
}

#[tokio::test]
async fn after_a_close_on_one_instance_no_instance_accepts_another_message() {
    let (closed_at, _, told) = race_against(ModAction::Close).await;
    for (k, t) in told.iter().enumerate() {
        assert!(
            t.accepted.iter().all(|s| *s < closed_at),
            "sender {k}: nothing accepted after the close (seq {closed_at})"
        );
    }
    let accepted: usize = told.iter().map(|t| t.accepted.len()).sum();
    assert!(
        accepted < 3 * 600,
        "the race happened: the close cut the bursts short"
    );
}

#[tokio::test]
async fn a_send_retried_on_another_instance_is_applied_once() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let mut observer = b.member(room, "Olu").await;
    let joined = a.join(room, "Robin").await.expect("joins");
    let mut first = a.connect(joined.clone()).await;
    let send = ClientFrame::Send {
        client_id: "bus-1".into(),
        guard: None,
        text: "I got off the bus, sorry".into(),
        cw: None,
    };
    first.send(send.clone()).await;
    let seq = first.ack("bus-1").await.expect("accepted");
    // The member's phone lost the ack and retries through another instance.
    drop(first);
    let mut again = b.connect(joined).await;
    again.send(send).await;
    assert_eq!(
        again.ack("bus-1").await.expect("accepted"),
        seq,
        "the original ack"
    );
    conversation_continues(&mut again, &mut observer, "marker").await;
    let mut seen = Vec::new();
    let mut olu = b.resume(observer.joined.clone(), 0, observer.epoch()).await;
    for f in olu.backlog.drain(..) {
        if let ServerFrame::Message { text, .. } = f {
            seen.push(text);
        }
    }
    assert_eq!(
        seen.iter()
            .filter(|t| *t == "I got off the bus, sorry")
            .count(),
        1,
        "nobody sees the message twice: {seen:?}"
    );
}

/// Poll `/readyz` until it answers `status`, within a few seconds.
async fn readiness_becomes(server: &TestServer, status: u16) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = reqwest::get(format!("{}/readyz", server.base()))
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if got == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz should answer {status}, answers {got}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn redis_dies_and_comes_back_with_its_data_and_nothing_acknowledged_is_lost() {
    let mut redis = RedisServer::persistent().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let mut alice = a.member(room, "Alice").await;
    let mut bob = b.member(room, "Bob").await;
    conversation_continues(&mut alice, &mut bob, "before the outage").await;

    redis.kill();
    readiness_becomes(&a, 503).await;
    readiness_becomes(&b, 503).await;
    // The instances keep their sockets; a message meanwhile is refused, not lost.
    let id = alice.say("during the outage").await;
    let refused = alice.ack(&id).await.expect_err("no Redis, no message");
    assert_eq!(refused.code, ErrorCode::Internal);

    redis.restart_with_data().await;
    readiness_becomes(&a, 200).await;
    readiness_becomes(&b, 200).await;
    // Another Redis process may hold less than a replica folded (no instance can always
    // tell), so the room goes on under a new epoch: both are asked to resume, and what
    // they are given holds everything acknowledged before the outage.
    let mut alice = a.resume_after_reset(alice).await;
    let mut bob = b.resume_after_reset(bob).await;
    for m in [&alice, &bob] {
        assert!(m.was_given("before the outage"), "{:?}", m.backlog);
        assert!(
            !m.was_given("during the outage"),
            "refused, so never in the room"
        );
    }
    conversation_continues(&mut alice, &mut bob, "after the outage").await;
    conversation_continues(&mut bob, &mut alice, "glad you are back").await;

    // Bob's phone drops; he resumes on the other instance and misses nothing.
    let last = bob.last_seq;
    let (joined, epoch) = (bob.joined.clone(), bob.epoch());
    drop(bob);
    let said = alice.say_acked("while Bob was away").await;
    let bob = a.resume(joined, last - 1, epoch).await;
    assert_eq!(bob.welcome.resume, ResumeKind::Resumed);
    let seqs: Vec<Seq> = bob.backlog.iter().filter_map(ServerFrame::seq).collect();
    assert!(seqs.contains(&last) && seqs.contains(&said), "{seqs:?}");
}

#[tokio::test]
async fn hello_while_redis_is_unreachable_is_refused_with_internal_and_1001() {
    let mut redis = RedisServer::persistent().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let bob = a.member(room, "Bob").await;
    // Alice joined before the outage and arrives during it.
    let alice = a.join(room, "Alice").await.expect("Alice joins");
    redis.kill();
    readiness_becomes(&a, 503).await;
    let (error, code) = a.hello_refused(&alice.token).await;
    assert_eq!(
        (error.code, code),
        (
            ErrorCode::Internal,
            kindred_protocol::close_code::GOING_AWAY
        ),
        "{error:?}"
    );
    // Once Redis is back, the room goes on under a new epoch (another Redis process may
    // hold less than a replica folded): Bob, whose socket stayed open, resumes; Alice
    // gets in, and he hears her.
    redis.restart_with_data().await;
    readiness_becomes(&a, 200).await;
    let mut bob = a.resume_after_reset(bob).await;
    let mut alice = a.connect(alice).await;
    conversation_continues(&mut alice, &mut bob, "made it after all").await;
}

#[tokio::test]
async fn redis_comes_back_empty_and_the_room_goes_on_under_a_new_epoch() {
    let mut redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let mut alice = a.member(room, "Alice").await;
    let mut bob = b.member(room, "Bob").await;
    conversation_continues(&mut alice, &mut bob, "before").await;
    let old_epoch = alice.epoch();

    redis.restart_empty().await;
    // Both instances find the room gone from Redis, give it back, and ask their
    // members to resume.
    for m in [&mut alice, &mut bob] {
        let (code, _) = m.closed().await;
        assert_eq!(
            code,
            kindred_protocol::close_code::SLOW_CONSUMER,
            "resume and catch up"
        );
    }
    readiness_becomes(&a, 200).await;
    // The room itself survived: its settings are back in Redis.
    let summary: kindred_protocol::RoomSummary =
        reqwest::get(format!("{}/api/rooms/{room}", b.base()))
            .await
            .expect("answers")
            .json()
            .await
            .expect("the room is still there");
    assert_eq!(summary.title, "Tuesday evening group");
    let mut alice = a
        .resume(alice.joined.clone(), alice.last_seq, old_epoch)
        .await;
    let mut bob = b.resume(bob.joined.clone(), bob.last_seq, old_epoch).await;
    assert_eq!(
        alice.welcome.resume,
        ResumeKind::Reset,
        "said plainly: history is gone"
    );
    assert_ne!(alice.epoch(), old_epoch);
    assert_eq!(alice.epoch(), bob.epoch());
    conversation_continues(&mut alice, &mut bob, "after").await;
}

#[tokio::test]
async fn an_instance_killed_mid_session_loses_nothing_its_members_were_told() {
    let redis = RedisServer::start().await;
    let env = [
        ("KINDRED_PRESENCE_GRACE_MS", "1000"),
        ("KINDRED_AWAY_LIMIT_MS", "1000"),
    ];
    let mut doomed = kindred_tests::process::Instance::start(&redis.url(), &env);
    let survivor = kindred_tests::process::Instance::start(&redis.url(), &env);
    // The room keeps the grace and away limit of the instance that creates it: a
    // second, like the instances' own.
    let mut c = kindred_tests::config();
    c.storage.redis_url = Some(redis.url());
    c.rooms.presence_grace_ms = 1000;
    c.rooms.away_limit_ms = 1000;
    let admin = kindred_tests::TestServer::with(c).await;
    let room = admin.room(20).await;
    let join = |name: &'static str| {
        let http = survivor.http.clone();
        async move {
            http.join(
                room,
                &kindred_protocol::http::JoinRequest {
                    name: name.into(),
                    accept_guidelines: true,
                    invite: None,
                    device: None,
                    seat_key: None,
                },
            )
            .await
            .expect("joins")
        }
    };
    let hello = |url: String, token: String| async move {
        Connection::hello(&url, &token, None).await.expect("hello")
    };
    // Sam and Kim are on the instance that will die; Lee is on the other one.
    let sam = join("Sam").await;
    let kim = join("Kim").await;
    let lee = join("Lee").await;
    let (mut sam_conn, sam_welcome, _) = hello(doomed.ws_url(), sam.token.clone()).await;
    let (_kim_conn, _, _) = hello(doomed.ws_url(), kim.token.clone()).await;
    let (mut lee_conn, _, _) = hello(survivor.ws_url(), lee.token.clone()).await;
    let mut acked = Vec::new();
    for i in 0..20 {
        let client_id = format!("s{i}");
        sam_conn
            .send(&ClientFrame::Send {
                client_id: client_id.clone(),
                guard: None,
                text: format!("sharing {i}"),
                cw: None,
            })
            .await
            .expect("sent");
        loop {
            let f = tokio::time::timeout(WAIT, sam_conn.next_frame())
                .await
                .expect("in time")
                .expect("open");
            if let ServerFrame::Ack {
                client_id: c, seq, ..
            } = f
                && c == client_id
            {
                acked.push(seq.expect("seq"));
                break;
            }
        }
    }
    doomed.kill();
    // Sam comes back through the other instance and has every acknowledged message.
    let from = sam_welcome.seq;
    let (_sam2, welcome, backlog) = Connection::hello(
        &survivor.ws_url(),
        &sam.token,
        Some((from, sam_welcome.epoch)),
    )
    .await
    .expect("resume accepted");
    assert_eq!(welcome.resume, ResumeKind::Resumed);
    let replayed: Vec<Seq> = backlog.iter().filter_map(ServerFrame::seq).collect();
    for seq in &acked {
        assert!(
            replayed.contains(seq),
            "acknowledged seq {seq} is replayed: {replayed:?}"
        );
    }
    // Kim never came back: the surviving instance lets her go once the dead
    // instance's heartbeat has expired and her grace period has run out.
    let kim_user = kim.user_id;
    let left = tokio::time::timeout(WAIT * 2, async {
        loop {
            match lee_conn
                .next_frame()
                .await
                .expect("Lee's socket stays open")
            {
                ServerFrame::Left { user, .. } if user == kim_user => return,
                _ => {}
            }
        }
    })
    .await;
    assert!(left.is_ok(), "the roster converges after an instance dies");
}

#[tokio::test]
async fn a_redis_cluster_carries_rooms_on_every_shard_in_one_order_each() {
    let cluster = RedisCluster::start().await;
    let a = TestServer::on_redis(&cluster.url()).await;
    let b = TestServer::on_redis(&cluster.url()).await;
    // Create rooms until each of the three masters holds one (a room's keys live in
    // the slot of its id; `redis-cli --cluster create` splits the slots in three).
    let mut shards: [Option<RoomId>; 3] = [None, None, None];
    for _ in 0..60 {
        let room = a.room(50).await;
        let slot = key_slot(&format!("{{{room}}}"));
        let shard = match slot {
            0..=5460 => 0,
            5461..=10922 => 1,
            _ => 2,
        };
        shards[shard].get_or_insert(room);
        if shards.iter().all(Option::is_some) {
            break;
        }
    }
    let instances = [a, b];
    for room in shards
        .into_iter()
        .map(|r| r.expect("a room on every shard"))
    {
        one_order_across(&instances, room, 100).await;
    }
    // The moderation rule holds on a cluster as on one Redis.
    let (muted_at, _, told) = race_on(&cluster.url(), ModAction::Mute).await;
    assert_mute_held(muted_at, &told);
}

#[test]
fn key_slot_matches_redis() {
    // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
    assert_eq!(key_slot("123456789"), 0x31C3);
    assert_eq!(key_slot("{user1000}.following"), key_slot("user1000"));
}

/// How many connections listen on a room's channel (`PUBSUB NUMSUB`), by redis-cli.
fn listeners(redis: &RedisServer, room: RoomId) -> u64 {
    let out = std::process::Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "PUBSUB", "NUMSUB"])
        .arg(format!("kindred:{{{room}}}:events"))
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|n| n.trim().parse().ok())
        .expect("a count")
}

async fn listeners_become(redis: &RedisServer, room: RoomId, n: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while listeners(redis, room) != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} instance(s) should listen to the room, {} do",
            listeners(redis, room)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_instance_listens_to_a_room_only_while_it_has_members_there() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let mut alice = a.member(room, "Alice").await;
    let bob = b.member(room, "Bob").await;
    listeners_become(&redis, room, 2).await;
    // Bob leaves; instance B stops listening to the room.
    let mut bob = bob;
    bob.send(ClientFrame::Leave).await;
    let _ = bob.closed().await;
    listeners_become(&redis, room, 1).await;
    let mut ash = a.member(room, "Ash").await;
    conversation_continues(&mut alice, &mut ash, "just us").await;
    // Carol arrives on B: it listens again, and she hears the room live.
    let mut carol = b.member(room, "Carol").await;
    listeners_become(&redis, room, 2).await;
    conversation_continues(&mut alice, &mut carol, "welcome Carol").await;
}

#[tokio::test]
async fn instances_sharing_redis_refuse_to_start_without_a_shared_secret() {
    let redis = RedisServer::start().await;
    let mut c = kindred_tests::config();
    c.storage.redis_url = Some(redis.url());
    c.tokens.secret = None;
    let refused = kindred::start(c)
        .await
        .err()
        .expect("no generated secret with Redis");
    assert!(refused.to_string().contains("KINDRED_SECRET"), "{refused}");
}

#[tokio::test]
async fn an_invites_last_use_is_spent_once_and_its_revoke_ends_the_seat_everywhere() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let invite = a
        .http
        .invite(kindred_tests::ADMIN, room, &Default::default())
        .await
        .expect("minted on one instance");
    // Two facilitators race for its one use, one on each instance: exactly one seat.
    let join = |server: &TestServer, name: &'static str| {
        let http = server.http.clone();
        let token = invite.token.clone();
        async move {
            http.join(
                room,
                &kindred_protocol::http::JoinRequest {
                    name: name.into(),
                    accept_guidelines: true,
                    invite: token,
                    device: None,
                    seat_key: None,
                },
            )
            .await
        }
    };
    let (fran, sam) = tokio::join!(join(&a, "Fran"), join(&b, "Sam"));
    let (seated, refused) = match (fran, sam) {
        (Ok(j), Err(e)) | (Err(e), Ok(j)) => (j, e),
        other => panic!("exactly one join may spend the invite: {other:?}"),
    };
    assert!(
        matches!(
            refused,
            kindred_protocol::client::ClientError::Http { status: 401, .. }
        ),
        "{refused:?}"
    );
    // Seated through whichever instance, connected to `b`; revoked through `a`.
    let mut facilitator = b.connect(seated.clone()).await;
    let mut alice = b.member(room, "Alice").await;
    let listed = a.http.invites(kindred_tests::ADMIN, room).await.unwrap();
    assert_eq!(listed.invites[0].members, vec![seated.user_id]);
    a.http
        .revoke_invite(kindred_tests::ADMIN, room, invite.id)
        .await
        .expect("revoked on the other instance");
    assert_eq!(
        facilitator.closed().await.0,
        kindred_protocol::close_code::REMOVED
    );
    let left = alice
        .until(|f| match f {
            ServerFrame::Left { user, .. } => Some(*user),
            _ => None,
        })
        .await;
    assert_eq!(left, seated.user_id);
    let (error, _) = a.hello_refused(&seated.token).await;
    assert_eq!(error.code, ErrorCode::Unauthorized);
}

/// How many entries the room's log holds (`XLEN`), by redis-cli.
fn log_length(redis: &RedisServer, room: RoomId) -> u64 {
    let out = std::process::Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "XLEN"])
        .arg(format!("kindred:{{{room}}}:log"))
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a length")
}

#[tokio::test]
async fn commands_a_participant_may_not_give_never_reach_the_shared_log() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(10).await;
    let mut river = a.member(room, "River").await;
    let mut willow = b.member(room, "Willow").await;
    conversation_continues(&mut willow, &mut river, "hello from the other instance").await;
    let before = log_length(&redis, room);
    let long = "x".repeat(3_900);
    for _ in 0..200 {
        let refused = river
            .moderate(
                ModAction::Announce,
                ModArgs {
                    text: Some(long.clone()),
                    ..ModArgs::default()
                },
            )
            .await
            .expect_err("a participant may not announce");
        assert_eq!(refused.code, ErrorCode::Forbidden);
    }
    // Only River's next message is appended: nothing of the 200 refusals.
    conversation_continues(&mut river, &mut willow, "after the refusals").await;
    assert_eq!(log_length(&redis, room), before + 1);
    a.stop().await;
    b.stop().await;
}

/// Wait until the room's log holds an entry that says an instance is gone.
async fn an_instance_is_declared_gone(redis: &RedisServer, room: RoomId) {
    let deadline = tokio::time::Instant::now() + 3 * WAIT;
    loop {
        let out = std::process::Command::new("redis-cli")
            .args(["-p", &redis.port().to_string(), "XREVRANGE"])
            .arg(format!("kindred:{{{room}}}:log"))
            .args(["+", "-", "COUNT", "20"])
            .output()
            .expect("redis-cli runs");
        if kindred_tests::sealed::opened(&[room], &out.stdout).contains("InstanceGone") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no instance was declared gone"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn an_instance_taken_for_dead_lets_its_sockets_go_when_it_wakes() {
    use kindred_protocol::close_code;
    use kindred_tests::process::Instance;

    let redis = RedisServer::start().await;
    let paused = Instance::start(&redis.url(), &[]);
    let b = TestServer::on_redis(&redis.url()).await;
    let room = b.room(10).await;
    let mut bob = b.member(room, "Bob").await;
    let alice = b.join(room, "Alice").await.expect("Alice joins");
    let (mut on_paused, _, _) = Connection::hello(&paused.ws_url(), &alice.token, None)
        .await
        .expect("Alice connects through the other instance");
    bob.until(|f| match f {
        ServerFrame::Joined { member, .. } if member.name == "Alice" => Some(()),
        _ => None,
    })
    .await;

    // Her instance hangs; the room no longer counts her connection there.
    paused.pause();
    an_instance_is_declared_gone(&redis, room).await;
    paused.resume();
    // Awake, it lets her socket go with the code that says "reconnect and resume",
    // rather than go on serving a connection the room does not count.
    let (code, _) = kindred_tests::closed(&mut on_paused).await;
    assert_eq!(code, close_code::SLOW_CONSUMER);
    b.stop().await;
}

/// What `member` was given before `marker`, of what the drop test looks for: crisis
/// alerts about `author`, whispers from `author`, warnings to `warned` (unacknowledged).
async fn private_frames_before(
    member: &mut Member,
    marker: &str,
    author: UserId,
    warned: UserId,
) -> (usize, usize, usize) {
    let frames = member.frames_before(marker).await;
    let count = |pick: &dyn Fn(&ServerFrame) -> bool| frames.iter().filter(|f| pick(f)).count();
    (
        count(
            &|f| matches!(f, ServerFrame::Alert { kind: AlertKind::Crisis, user, .. } if *user == author),
        ),
        count(&|f| matches!(f, ServerFrame::Whisper { from, .. } if *from == author)),
        count(
            &|f| matches!(f, ServerFrame::Warning { user, acknowledged: false, .. } if *user == warned),
        ),
    )
}

#[tokio::test]
async fn an_alert_a_whisper_and_a_warning_reach_an_instance_whose_push_was_dropped_exactly_once() {
    let redis = RedisServer::start().await;
    // Instance B reaches Redis through a relay that can lose what Redis pushes to it.
    let relay = Relay::start(redis.port()).await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&relay.url()).await;
    let room = a.room(20).await;
    let mut fran = b.facilitator(room, "Fran").await;
    let mut wes = b.member(room, "Wes").await;
    let mut ann = a.facilitator(room, "Ann").await;
    let mut pat = a.member(room, "Pat").await;
    // B is serving the room live.
    let hello = pat.say_acked("hello everyone").await;
    assert_eq!(fran.hears("hello everyone").await, hello);
    assert_eq!(wes.hears("hello everyone").await, hello);

    // Everything Redis pushes to B from now on is lost.
    relay.swallow_pushes();
    // Pat (on A) writes crisis words: the room keeps the alert, and Pat's card says a
    // facilitator connected now received it (Fran and Ann are both connected).
    let id = pat.say("I want to kill myself").await;
    pat.ack(&id)
        .await
        .expect("the message is delivered as written");
    let told = pat
        .until(|f| match f {
            ServerFrame::CrisisResources { told, .. } => Some(*told),
            _ => None,
        })
        .await;
    assert!(told, "the card says a facilitator was told");
    // Pat whispers to the facilitators, and Ann (on A) warns Wes (on B).
    pat.send(ClientFrame::Whisper {
        to: None,
        text: "could one of you check in with me".into(),
    })
    .await;
    pat.until(|f| matches!(f, ServerFrame::Whisper { .. }).then_some(()))
        .await;
    ann.moderate(
        ModAction::Warn,
        ModArgs {
            reason: Some("please speak from your own experience".into()),
            ..ModArgs::user(wes.user())
        },
    )
    .await
    .expect("facilitators warn");
    // The warning's entry was pushed to B and lost; then B's subscription is cut, so
    // it reconnects, subscribes again and reads the room's log from where it stopped.
    relay
        .swallowed("please speak from your own experience")
        .await;
    relay.cut_subscriptions();

    // Each reaches everyone it is for on B once: nothing missing, nothing twice, in
    // the room's order before a marker said after all of them.
    let marker = "marker after the lost pushes";
    pat.say_acked(marker).await;
    let (pat_id, wes_id) = (pat.user(), wes.user());
    assert_eq!(
        private_frames_before(&mut fran, marker, pat_id, wes_id).await,
        (1, 1, 1),
        "Fran on B: the crisis alert, the whisper and the warning, once each"
    );
    assert_eq!(
        private_frames_before(&mut wes, marker, pat_id, wes_id).await,
        (0, 0, 1),
        "Wes on B: his warning, once"
    );
}

/// How many times Redis has read a room's log back (`XRANGE`, what every catch-up read
/// runs), by Redis's own count.
async fn log_reads(redis: &RedisServer) -> u64 {
    let client = redis::Client::open(redis.url()).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .expect("INFO answers");
    stats
        .lines()
        .find_map(|line| line.strip_prefix("cmdstat_xrange:calls="))
        .and_then(|rest| rest.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

// Several threads: instance B is started (and waited for) on this one while the relay
// it reaches Redis through runs on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_is_answered_from_her_append_itself_while_redis_pushes_nothing_to_her_instance() {
    let redis = RedisServer::start().await;
    // Instance B reaches Redis through a relay that can lose what Redis pushes to it.
    let relay = Relay::start(redis.port()).await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = Instance::start(&relay.url(), &[]);
    let room = a.room(10).await;
    let mut ann = a.member(room, "Ann").await;
    let bea = a.join(room, "Bea").await.expect("Bea joins");
    let mut bea = Member::connect_to(&b.ws_url(), bea).await;
    let cal = a.join(room, "Cal").await.expect("Cal joins");
    let mut cal = Member::connect_to(&b.ws_url(), cal).await;
    let hello = ann.say_acked("hello everyone").await;
    assert_eq!(bea.hears("hello everyone").await, hello);
    assert_eq!(cal.hears("hello everyone").await, hello);

    // Nothing Redis publishes reaches B from now on, its own entries included.
    relay.swallow_pushes();
    let reads = log_reads(&redis).await;
    for text in ["one thing that helped", "a second", "and a third"] {
        // B folds Bea's message from what the append answered: she is acknowledged, and
        // Cal beside her on B gets it, under the seq Ann gets on A.
        let seq = bea.say_acked(text).await;
        assert_eq!(cal.hears(text).await, seq, "Cal, on Bea's instance");
        assert_eq!(ann.hears(text).await, seq, "Ann, on the other instance");
    }
    assert_eq!(
        log_reads(&redis).await,
        reads,
        "B read the room's log back to answer Bea"
    );
    a.stop().await;
    drop(b);
}
