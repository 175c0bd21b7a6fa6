//! The Redis log keeps its promises when Redis loses, spoils or repeats entries: Redis
//! restored from an older copy of its data (its latest writes lost), an entry no
//! instance can read, an entry of a newer format, and an append that reaches Redis
//! twice. Each test starts its own `redis-server` and instances.

use std::collections::BTreeMap;
use std::time::Duration;

use kindred::broker::{BrokerError, Reading};
use kindred::clock::now_ms;
use kindred::room::Command;
use kindred_protocol::client::{ClientError, Connection};
use kindred_protocol::{
    ClientFrame, Epoch, ErrorCode, ModAction, ResumeKind, RoomId, Seq, ServerFrame,
};
use kindred_tests::redis::RedisServer;
use kindred_tests::relay::Relay;
use kindred_tests::{Member, ModArgs, TestServer, WAIT, conversation_continues};

/// One member and every message they were shown, under the epoch it was shown in;
/// when their instance closes the connection, they resume as a client does.
struct Witness<'s> {
    name: &'static str,
    server: &'s TestServer,
    member: Member,
    seen: Vec<(Epoch, Seq, String)>,
    /// The epochs of the welcomes that said the history was reset.
    resets: Vec<Epoch>,
    /// What stopped a send, for a failure's message: an error, or a closed connection.
    setbacks: Vec<String>,
    next_id: u64,
}

impl<'s> Witness<'s> {
    fn new(name: &'static str, server: &'s TestServer, member: Member) -> Self {
        let mut witness = Witness {
            name,
            server,
            member,
            seen: Vec::new(),
            resets: Vec::new(),
            setbacks: Vec::new(),
            next_id: 0,
        };
        if witness.member.welcome.resume == ResumeKind::Reset {
            witness.resets.push(witness.member.epoch());
        }
        witness.take_backlog();
        witness
    }

    fn take_backlog(&mut self) {
        let backlog = std::mem::take(&mut self.member.backlog);
        for frame in &backlog {
            self.note(frame);
        }
    }

    fn note(&mut self, frame: &ServerFrame) {
        if let Some(seq) = frame.seq() {
            self.member.last_seq = self.member.last_seq.max(seq);
        }
        if let ServerFrame::Message { seq, text, .. } = frame {
            self.seen.push((self.member.epoch(), *seq, text.clone()));
        }
    }

    async fn resume(&mut self) {
        let (joined, last, epoch) = (
            self.member.joined.clone(),
            self.member.last_seq,
            self.member.epoch(),
        );
        // As a client does: an instance that still counts Redis as away answers the
        // hello `internal` (PROTOCOL.md §5); try again after a moment, for a while.
        let deadline = tokio::time::Instant::now() + 3 * WAIT;
        let (conn, welcome, backlog) = loop {
            match Connection::hello(&self.server.ws_url(), &joined.token, Some((last, epoch))).await
            {
                Ok(answer) => break answer,
                Err(ClientError::Refused(e)) if e.code == ErrorCode::Internal => {
                    self.setbacks.push(format!("resume refused: {}", e.message));
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "{} could not resume: Redis never served again",
                        self.name
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("{} could not resume: {e}", self.name),
            }
        };
        self.member = Member::new(conn, welcome, backlog, joined);
        if self.member.welcome.resume == ResumeKind::Reset {
            self.resets.push(self.member.epoch());
        }
        self.take_backlog();
    }

    /// The next frame, or `None` if the instance closed the connection (then the
    /// member has resumed on a new one).
    async fn next(&mut self) -> Option<ServerFrame> {
        match tokio::time::timeout(WAIT, self.member.conn.next_frame()).await {
            Err(_) => panic!("{} was given nothing for {WAIT:?}", self.name),
            Ok(Err(_)) => {
                self.resume().await;
                None
            }
            Ok(Ok(frame)) => {
                self.note(&frame);
                Some(frame)
            }
        }
    }

    /// Say `text` as a client does: resent with its `client_id` after an error or a
    /// lost connection, at most `tries` times, not counting an `internal` ("try again
    /// in a moment"), which is resent a moment later. Whether it was acknowledged.
    async fn say(&mut self, text: &str, tries: usize) -> bool {
        self.next_id += 1;
        let client_id = format!("{}-{}", self.name, self.next_id);
        // Refusals that say "try again in a moment" are retried on their own count.
        const INTERNAL_RETRIES: usize = 25;
        let mut internal = 0;
        let mut tries_left = tries;
        'send: while tries_left > 0 {
            let frame = ClientFrame::Send {
                client_id: client_id.clone(),
                guard: None,
                text: text.into(),
                cw: None,
            };
            tries_left -= 1;
            if self.member.conn.send(&frame).await.is_err() {
                self.setbacks.push("the connection was gone".into());
                self.resume().await;
                continue;
            }
            loop {
                match self.next().await {
                    None => {
                        self.setbacks.push("the connection was closed".into());
                        break;
                    }
                    Some(ServerFrame::Ack {
                        client_id: id, seq, ..
                    }) if id == client_id => {
                        // An ack says where the message is in the history this
                        // connection was welcomed into: a claim like any message shown.
                        if let Some(seq) = seq {
                            self.seen.push((self.member.epoch(), seq, text.into()));
                        }
                        return true;
                    }
                    Some(ServerFrame::Error(e)) if e.client_id.as_deref() == Some(&client_id) => {
                        self.setbacks.push(format!("{:?}: {}", e.code, e.message));
                        if e.code == ErrorCode::Internal {
                            // "The command may be retried" (PROTOCOL.md, `internal`): after
                            // a moment, as a person presses "Try again", not in the same
                            // instant, while the room is still being moved to a new epoch.
                            // A room that never comes back fails `next` or `resume`.
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            internal += 1;
                            if internal < INTERNAL_RETRIES {
                                tries_left += 1;
                                continue 'send;
                            }
                        }
                        break;
                    }
                    Some(_) => {}
                }
            }
        }
        false
    }

    /// Read until a message with this text was shown (live, or in the backlog of a
    /// resume).
    async fn hears(&mut self, text: &str) {
        while !self.seen.iter().any(|(_, _, t)| t == text) {
            self.next().await;
        }
    }
}

/// No seq carries two different messages for two members under one epoch.
fn assert_one_content(witnesses: &[&Witness<'_>]) {
    let mut shown: BTreeMap<(Epoch, Seq), (&str, &str)> = BTreeMap::new();
    for w in witnesses {
        for (epoch, seq, text) in &w.seen {
            let first = *shown.entry((*epoch, *seq)).or_insert((w.name, text));
            assert_eq!(
                first.1, text,
                "seq {seq} of epoch {epoch} was {:?} for {} and {text:?} for {}",
                first.1, first.0, w.name
            );
        }
    }
}

#[tokio::test]
async fn redis_restored_from_an_older_copy_moves_the_room_to_a_new_epoch_and_no_seq_changes_content()
 {
    let mut redis = RedisServer::persistent().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let mut alice = Witness::new("alice", &a, a.member(room, "Alice").await);
    let mut bob = Witness::new("bob", &b, b.member(room, "Bob").await);
    let mut dana = Witness::new("dana", &a, a.member(room, "Dana").await);
    assert!(
        alice.say("before the backup", 1).await,
        "{}",
        alice.setbacks.join("; ")
    );
    bob.hears("before the backup").await;
    dana.hears("before the backup").await;
    let old_epoch = alice.member.epoch();
    // Dana's phone sleeps; she will resume from what she has seen.
    let (dana_joined, dana_last) = (dana.member.joined.clone(), dana.member.last_seq);
    let dana_seen = std::mem::take(&mut dana.seen);
    drop(dana);

    // A backup now; five more messages, which the restore of that backup loses.
    redis.save_copy();
    for i in 0..5 {
        assert!(
            alice.say(&format!("lost {i}"), 1).await,
            "{}",
            alice.setbacks.join("; ")
        );
        bob.hears(&format!("lost {i}")).await;
    }
    redis.restart_from_copy().await;

    // Alice goes on talking, as a client does (resending after an error or a lost
    // connection); then a member arrives, on an instance started now, and reads what
    // Redis holds.
    let after: Vec<String> = (0..3).map(|i| format!("after the restore {i}")).collect();
    let mut acked = Vec::new();
    for text in &after {
        acked.push(alice.say(text, 4).await);
    }
    let c = TestServer::on_redis(&redis.url()).await;
    let mut carol = Witness::new("carol", &c, c.member(room, "Carol").await);
    // Dana wakes and resumes there, from the seq and epoch she last saw.
    let resumed = c.resume(dana_joined, dana_last, old_epoch).await;
    let mut dana = Witness::new("dana", &c, resumed);
    dana.seen.splice(0..0, dana_seen);

    // Whatever else happened, nobody was shown two messages under one seq and epoch.
    assert_one_content(&[&alice, &bob, &carol, &dana]);
    assert!(
        acked.iter().all(|a| *a),
        "every message after the restore is acknowledged ({acked:?}); what stopped them: {:?}",
        alice.setbacks
    );
    // The conversation goes on across the three instances.
    for text in &after {
        bob.hears(text).await;
    }
    assert!(
        bob.say("bob after the restore", 4).await,
        "{}",
        bob.setbacks.join("; ")
    );
    for w in [&mut alice, &mut carol, &mut dana] {
        w.hears("bob after the restore").await;
    }
    assert_one_content(&[&alice, &bob, &carol, &dana]);
    for w in [&alice, &bob, &dana] {
        assert!(
            w.resets.iter().any(|e| *e != old_epoch),
            "{} was told the history was reset, in a new epoch",
            w.name
        );
    }
    assert_ne!(carol.member.epoch(), old_epoch);
}

/// A command sent on a connection welcomed before the room moved to a new epoch is not
/// taken: a seq it names, or the seq its ack would give, means another event in the
/// new history. The member is asked to resume instead (and given the `reset`), and
/// their commands are taken again from the new welcome on.
#[tokio::test]
async fn a_command_from_a_connection_welcomed_before_the_room_moved_to_a_new_epoch_is_not_taken() {
    let mut redis = RedisServer::persistent().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let mut alice = Witness::new("alice", &a, a.member(room, "Alice").await);
    assert!(
        alice.say("before the restart", 1).await,
        "{}",
        alice.setbacks.join("; ")
    );
    let (old_epoch, user) = (alice.member.epoch(), alice.member.welcome.you.user);

    // A new Redis process over the same data: the room goes on under a new epoch
    // (entries a replica folded may be missing from what a restarted Redis holds).
    redis.restart_with_data().await;
    assert!(
        alice.say("after the restart", 4).await,
        "{}",
        alice.setbacks.join("; ")
    );
    let new_epoch = alice.member.epoch();
    assert_ne!(
        new_epoch, old_epoch,
        "Alice was given the new epoch's welcome"
    );
    assert!(
        alice.resets.contains(&new_epoch),
        "Alice was told of the reset"
    );

    // Her hand, raised as a connection still in the old epoch would raise it.
    let broker = a.running.state.broker.clone();
    let hand = |raised| Command::Hand { user, raised };
    let head = |broker: kindred::broker::Rooms| async move {
        broker
            .ask(room, Reading::Current, |v| {
                (
                    v.room.head(),
                    v.room.member(user).is_some_and(|m| m.hand_raised),
                )
            })
            .await
            .expect("the room")
    };
    let before = head(broker.clone()).await;
    let stale = broker
        .apply_seen(room, Some(old_epoch), hand(true), now_ms())
        .await;
    assert_eq!(stale.err(), Some(BrokerError::Moved));
    assert_eq!(
        head(broker.clone()).await,
        before,
        "the room took nothing from the old epoch's connection"
    );
    // The same command from a connection welcomed in the room's epoch is taken.
    broker
        .apply_seen(room, Some(new_epoch), hand(true), now_ms())
        .await
        .expect("taken in the room's epoch");
    let (seq, raised) = head(broker).await;
    assert!(
        raised && seq == before.0 + 1,
        "Alice's hand is up, at the next seq"
    );
    assert_one_content(&[&alice]);
}

/// Append `json` to the room's log as an instance's script would (the next index,
/// published on the room's channel), but as no Kindred instance writes it.
async fn write_entry(redis: &RedisServer, room: RoomId, json: &str) {
    const WRITE: &str = r"
local idx = redis.call('HINCRBY', KEYS[1], 'head', 1)
redis.call('XADD', KEYS[2], idx .. '-1', 'e', ARGV[1])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
redis.call('PUBLISH', KEYS[3], 'L' .. epoch .. ' ' .. idx .. ' ' .. ARGV[1])
return idx
";
    let client = redis::Client::open(redis.url()).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("the test reaches Redis");
    let _: u64 = redis::Script::new(WRITE)
        .key(format!("kindred:{{{room}}}:meta"))
        .key(format!("kindred:{{{room}}}:log"))
        .key(format!("kindred:{{{room}}}:events"))
        .arg(json)
        .invoke_async(&mut conn)
        .await
        .expect("the entry is written");
}

/// The value of a counter on a server's `/metrics`.
pub(crate) async fn counter(server: &TestServer, name: &str) -> u64 {
    crate::metrics::metric(server, name).await as u64
}

#[tokio::test]
async fn an_unreadable_entry_in_a_rooms_log_is_stepped_over_and_sends_are_answered() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let mut alice = Witness::new("alice", &a, a.member(room, "Alice").await);
    let mut bob = Witness::new("bob", &b, b.member(room, "Bob").await);
    assert!(
        alice.say("before the bad entry", 1).await,
        "{}",
        alice.setbacks.join("; ")
    );
    bob.hears("before the bad entry").await;

    write_entry(&redis, room, r#"{"v":1,"origin":7,"id":1,"op":{"Comma"#).await;

    // Sends are answered and the room goes on, both ways.
    assert!(
        alice.say("after the bad entry", 3).await,
        "{}",
        alice.setbacks.join("; ")
    );
    bob.hears("after the bad entry").await;
    assert!(
        bob.say("bob after the bad entry", 3).await,
        "{}",
        bob.setbacks.join("; ")
    );
    alice.hears("bob after the bad entry").await;
    assert_one_content(&[&alice, &bob]);
    let counted = counter(&a, "kindred_log_unreadable_entries_total").await
        + counter(&b, "kindred_log_unreadable_entries_total").await;
    assert!(counted >= 1, "the unreadable entry is counted");
}

#[tokio::test]
async fn a_hole_in_a_rooms_log_is_stepped_over_and_sends_are_answered() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let mut alice = Witness::new("alice", &a, a.member(room, "Alice").await);
    let mut bob = Witness::new("bob", &b, b.member(room, "Bob").await);
    assert!(
        alice.say("before the hole", 1).await,
        "{}",
        alice.setbacks.join("; ")
    );
    bob.hears("before the hole").await;

    // An index is taken and its entry never written (a script that failed halfway).
    let client = redis::Client::open(redis.url()).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("the test reaches Redis");
    let _: u64 = redis::cmd("HINCRBY")
        .arg(format!("kindred:{{{room}}}:meta"))
        .arg("head")
        .arg(1)
        .query_async(&mut conn)
        .await
        .expect("the head moves");

    assert!(
        alice.say("after the hole", 3).await,
        "{}",
        alice.setbacks.join("; ")
    );
    bob.hears("after the hole").await;
    assert!(
        bob.say("bob after the hole", 3).await,
        "{}",
        bob.setbacks.join("; ")
    );
    alice.hears("bob after the hole").await;
    assert_one_content(&[&alice, &bob]);
}

#[tokio::test]
async fn an_instance_refuses_to_start_where_rooms_hold_entries_of_a_newer_format() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let mut alice = a.member(room, "Alice").await;
    alice.say_acked("hello").await;
    // A newer release wrote an entry this one cannot read.
    write_entry(
        &redis,
        room,
        r#"{"v":99,"origin":7,"id":1,"ts":1,"op":{"Command":{"Rewound":{}}}}"#,
    )
    .await;

    let url = redis.url();
    let (code, stderr) = kindred_tests::process::refused(&[("REDIS_URL", url.as_str())], &[]);
    assert_ne!(code, 0, "a refusal exits non-zero");
    assert!(
        stderr.contains("format 99") && stderr.contains(&room.to_string()),
        "the refusal names the room and the format: {stderr}"
    );
}

#[tokio::test]
async fn an_append_that_reaches_redis_twice_is_seen_once_and_evicts_nobody() {
    let redis = RedisServer::start().await;
    // Instance A reaches Redis through a relay that can run a command twice.
    let relay = Relay::start(redis.port()).await;
    let mut config = kindred_tests::config();
    config.storage.redis_url = Some(relay.url());
    config.rooms.presence_grace_ms = 200;
    config.rooms.away_limit_ms = 200;
    let a = TestServer::with(config).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(20).await;
    let mut fran = a.facilitator(room, "Fran").await;
    let mut alice = a.member(room, "Alice").await;
    let alice_phone = a.connect(alice.joined.clone()).await;
    let sam = a.member(room, "Sam").await;
    let mut bob = b.member(room, "Bob").await;
    conversation_continues(&mut alice, &mut bob, "hello from my laptop").await;

    // Fran's announcement: its append runs twice.
    let announced = "please be gentle with each other";
    relay.repeat_commands_with(announced);
    fran.moderate(
        ModAction::Announce,
        ModArgs {
            text: Some(announced.into()),
            ..ModArgs::default()
        },
    )
    .await
    .expect("facilitators announce");
    relay.repeated(1).await;
    relay.stop_repeating();
    let marker = "thank you Fran";
    alice.say_acked(marker).await;
    let frames = bob.frames_before(marker).await;
    let announcements = frames
        .iter()
        .filter(|f| matches!(f, ServerFrame::Announcement { text, .. } if text == announced))
        .count();
    assert_eq!(
        announcements, 1,
        "Bob sees the announcement once: {frames:?}"
    );

    // Alice puts her phone away; her laptop stays connected. The append that says
    // one of her connections dropped runs twice.
    relay.repeat_commands_with("Disconnect");
    drop(alice_phone);
    // The announcement's second run, and now this one's.
    relay.repeated(2).await;
    relay.stop_repeating();

    // Longer than the presence grace passes: Sam's one-second mute runs out on a tick
    // that expires everything due by then.
    fran.moderate(
        ModAction::Mute,
        ModArgs {
            seconds: Some(1),
            ..ModArgs::user(sam.user())
        },
    )
    .await
    .expect("facilitators mute");
    let sam_id = sam.user();
    fran.until(|f| matches!(f, ServerFrame::Unmuted { user, .. } if *user == sam_id).then_some(()))
        .await;

    let marker = "still here on my laptop";
    let id = alice.say(marker).await;
    alice
        .ack(&id)
        .await
        .expect("Alice is still a member: her laptop's connection counts");
    let frames = bob.frames_before(marker).await;
    let alice_id = alice.user();
    assert!(
        !frames
            .iter()
            .any(|f| matches!(f, ServerFrame::Left { user, .. } if *user == alice_id)),
        "nobody is told Alice left: {frames:?}"
    );
}
