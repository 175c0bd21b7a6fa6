//! What a Redis that writes to disk keeps of a session on the Redis broker: its
//! append-only file (every write since it started, the trimmed ones included) and an
//! RDB dump hold no word a member wrote, nor their names, and neither does what it
//! relays on a room's channel to other instances (and to its replicas): everything is
//! sealed with keys only the server's secret derives.

use std::path::Path;
use std::time::Duration;

use kindred_protocol::http::CreateRoom;
use kindred_protocol::{AlertKind, ClientFrame, ModAction, RoomId, ServerFrame};
use kindred_tests::redis::RedisServer;
use kindred_tests::{ModArgs, TestServer, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A word said in the room's messages.
const SAID: &str = "Zephyrinebloom";
/// A word whispered to the facilitators.
const WHISPERED: &str = "Halvardquist";
/// A member's pseudonym.
const NAME: &str = "Quillonbrae";
/// The facilitator's pseudonym, whose seat is bound to her browser (the catalog,
/// readable in Redis, keeps the seat and a keyed mark of the key, never her name).
const FACILITATOR: &str = "Brindlewortha";
/// A word in a report's reason.
const REPORTED: &str = "Ostrevantick";
/// The room's title: the operator's, in the catalog as it is, so it shows that the
/// files are read as written (a check for an absence that can fail).
const TITLE: &str = "Lanternmoss circle";

/// Every file under `dir`, read whole.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("Redis's directory reads") {
        let entry = entry.expect("a directory entry");
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            let bytes = std::fs::read(&path).expect("a Redis file reads");
            out.push((path.display().to_string(), bytes));
        }
    }
    out
}

fn holds(bytes: &[u8], word: &str) -> bool {
    bytes.windows(word.len()).any(|w| w == word.as_bytes())
}

/// A raw subscriber to the room's channel: what Redis hands every instance (and
/// propagates to its replicas), byte for byte.
struct Listener {
    stream: TcpStream,
    heard: Vec<u8>,
}

impl Listener {
    async fn subscribe(redis: &RedisServer, room: RoomId) -> Listener {
        let channel = format!("kindred:{{{room}}}:events");
        let mut stream = TcpStream::connect(("127.0.0.1", redis.port()))
            .await
            .expect("Redis answers");
        let command = format!(
            "*2\r\n$9\r\nSUBSCRIBE\r\n${}\r\n{channel}\r\n",
            channel.len()
        );
        stream.write_all(command.as_bytes()).await.unwrap();
        let mut listener = Listener {
            stream,
            heard: Vec::new(),
        };
        listener.until(&channel).await;
        listener
    }

    /// Read until what was heard holds `needle`.
    async fn until(&mut self, needle: &str) {
        let mut buf = vec![0u8; 64 * 1024];
        while !holds(&self.heard, needle) {
            let n = tokio::time::timeout(WAIT, self.stream.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("the channel carries {needle:?}"))
                .expect("the subscription reads");
            assert!(n > 0, "Redis closed the subscription");
            self.heard.extend_from_slice(&buf[..n]);
        }
    }
}

/// `BGSAVE` with string compression off (so a word in the dump is there as written),
/// and wait until the dump is complete: Redis writes a temporary file and renames it
/// `dump.rdb` when it is whole.
async fn dump(redis: &RedisServer, conn: &mut redis::aio::MultiplexedConnection) -> Vec<u8> {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("rdbcompression")
        .arg("no")
        .query_async(conn)
        .await
        .expect("CONFIG SET answers");
    let _: String = redis::cmd("BGSAVE")
        .query_async(conn)
        .await
        .expect("BGSAVE starts");
    let path = redis.data_dir().join("dump.rdb");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let info: String = redis::cmd("INFO")
            .arg("persistence")
            .query_async(conn)
            .await
            .expect("INFO answers");
        if path.is_file() && info.contains("rdb_bgsave_in_progress:0") {
            assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
            return std::fs::read(&path).expect("the dump reads");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the dump was not written in time: {info}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn after_a_session_closes_redis_files_and_relays_hold_none_of_its_words_or_names() {
    let redis = RedisServer::persistent().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a
        .room_with(CreateRoom {
            title: TITLE.into(),
            facilitated: Some(true),
            ..CreateRoom::default()
        })
        .await;
    let mut listener = Listener::subscribe(&redis, room).await;
    let invite = a
        .http
        .invite(kindred_tests::ADMIN, room, &Default::default())
        .await
        .expect("invite minted");
    let fran = a
        .http
        .join(
            room,
            &kindred_protocol::http::JoinRequest {
                name: FACILITATOR.into(),
                accept_guidelines: true,
                invite: invite.token,
                seat_key: Some("her-laptop-keeps-0123456789".into()),
                ..Default::default()
            },
        )
        .await
        .expect("the facilitator joins");
    let mut fran = a.connect(fran).await;
    fran.moderate(ModAction::Open, ModArgs::default())
        .await
        .expect("Fran opens the session");
    // The named member is on the other instance: every word crosses Redis.
    let mut named = b.member(room, NAME).await;
    let mut wren = a.member(room, "Wren").await;

    named.send(ClientFrame::Typing).await;
    let typing = wren
        .until(|f| match f {
            ServerFrame::Typing { name, .. } => Some(name.clone()),
            _ => None,
        })
        .await;
    assert_eq!(typing, NAME);
    let said = format!("my sister calls me {SAID} when I am low");
    let seq = named.say_acked(&said).await;
    assert_eq!(wren.hears(&said).await, seq);
    assert_eq!(fran.hears(&said).await, seq);
    named
        .send(ClientFrame::Whisper {
            to: None,
            text: format!("{WHISPERED} is my real name"),
        })
        .await;
    fran.until(|f| match f {
        ServerFrame::Whisper { text, .. } if text.contains(WHISPERED) => Some(()),
        _ => None,
    })
    .await;
    wren.send(ClientFrame::Report {
        seq,
        reason: Some(format!("{REPORTED} again")),
    })
    .await;
    fran.until(|f| match f {
        ServerFrame::Alert {
            kind: AlertKind::Report,
            reason: Some(reason),
            ..
        } if reason.contains(REPORTED) => Some(()),
        _ => None,
    })
    .await;

    fran.moderate(ModAction::Close, ModArgs::default())
        .await
        .expect("Fran closes the session");
    for m in [&mut named, &mut wren] {
        m.until(|f| matches!(f, ServerFrame::Closed { .. }).then_some(()))
            .await;
    }

    // Everything the channel carried, up to a publish of our own after the close.
    let client = redis::Client::open(redis.url()).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let end = format!("X{TITLE} end of the session");
    let _: i64 = redis::cmd("PUBLISH")
        .arg(format!("kindred:{{{room}}}:events"))
        .arg(&end)
        .query_async(&mut conn)
        .await
        .expect("PUBLISH answers");
    listener.until(&end).await;

    let mut kept = files(&redis.data_dir());
    kept.push(("dump.rdb".into(), dump(&redis, &mut conn).await));
    let aof: Vec<_> = kept
        .iter()
        .filter(|(path, _)| path.contains("appendonlydir") && path.ends_with(".aof"))
        .collect();
    assert!(!aof.is_empty(), "Redis keeps an append-only file: {kept:?}");
    // The operator's title is there as written: the files are read as Redis wrote them.
    assert!(aof.iter().any(|(_, bytes)| holds(bytes, TITLE)));
    assert!(holds(&kept.last().expect("the dump").1, TITLE));
    for word in [SAID, WHISPERED, NAME, REPORTED, FACILITATOR] {
        for (path, bytes) in &kept {
            assert!(!holds(bytes, word), "{path} holds {word:?}");
        }
        assert!(
            !holds(&listener.heard, word),
            "the room's channel carried {word:?}"
        );
    }
    // What the channel carried opens with the secret: the words were there, sealed.
    let opened = kindred_tests::sealed::opened(&[room], &listener.heard);
    for word in [SAID, WHISPERED, NAME, REPORTED] {
        assert!(opened.contains(word), "the channel carried {word:?} sealed");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_instance_with_another_secret_is_refused_where_redis_holds_sealed_rooms() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let room = a.room(10).await;
    let mut alice = a.member(room, "Alice").await;
    alice.say_acked("hello").await;
    let url = redis.url();
    let other = "another-secret-0123456789abcdef0123456789";
    let (code, stderr) = kindred_tests::process::refused(
        &[("REDIS_URL", url.as_str()), ("KINDRED_SECRET", other)],
        &[],
    );
    assert_ne!(code, 0, "a refusal exits non-zero");
    assert!(
        stderr.contains("sealed with another KINDRED_SECRET"),
        "the refusal says why: {stderr}"
    );
    // The instance with the deployment's secret goes on.
    let mut bob = a.member(room, "Bob").await;
    kindred_tests::conversation_continues(&mut alice, &mut bob, "still here").await;
    a.stop().await;
}

#[tokio::test]
async fn a_snapshot_that_does_not_open_is_stepped_over_and_the_room_goes_on_from_its_catalog() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let room = a
        .room_with(CreateRoom {
            title: TITLE.into(),
            facilitated: Some(true),
            ..CreateRoom::default()
        })
        .await;
    let fran = a.join_facilitator(room, "Fran").await;
    let mut fran = a.connect(fran).await;
    fran.moderate(ModAction::Open, ModArgs::default())
        .await
        .expect("Fran opens the session");
    let mut alice = a.member(room, "Alice").await;
    alice.say_acked("before the close").await;
    fran.moderate(ModAction::Close, ModArgs::default())
        .await
        .expect("Fran closes the session");
    alice
        .until(|f| matches!(f, ServerFrame::Closed { .. }).then_some(()))
        .await;

    // The close stored a snapshot; one byte of its sealed part changes.
    let client = redis::Client::open(redis.url()).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let key = format!("kindred:{{{room}}}:snapshot");
    let deadline = tokio::time::Instant::now() + WAIT;
    let image = loop {
        let image: Option<String> = redis::cmd("HGET")
            .arg(&key)
            .arg("image")
            .query_async(&mut conn)
            .await
            .expect("HGET answers");
        // The close's snapshot, the session after it: `"k":1`.
        if let Some(image) = image.filter(|i| i.contains("\"k\":1,")) {
            break image;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the close stored no snapshot"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let at = image.find("\"s\":\"").expect("a sealed snapshot") + 20;
    let mut bytes = image.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let _: i64 = redis::cmd("HSET")
        .arg(&key)
        .arg("image")
        .arg(bytes)
        .query_async(&mut conn)
        .await
        .expect("HSET answers");
    a.stop().await;

    // A new instance meets it first: it is counted, stepped over, and the room goes on
    // with its settings under a new epoch.
    let b = TestServer::on_redis(&redis.url()).await;
    let fran = b.join_facilitator(room, "Fran").await;
    let mut fran = b.connect(fran).await;
    assert_eq!(fran.welcome.room.title, TITLE);
    assert!(crate::log_integrity::counter(&b, "kindred_log_unreadable_entries_total").await >= 1);
    fran.moderate(ModAction::Open, ModArgs::default())
        .await
        .expect("Fran opens the next session");
    let mut wren = b.member(room, "Wren").await;
    kindred_tests::conversation_continues(&mut wren, &mut fran, "a new session").await;
    b.stop().await;
}
