//! Operating Kindred as an operator does, on the real binary: rooms that survive a
//! restart (`--catalog-file`), configuration that refuses mistakes at start, JSON logs
//! with plain values that name refused admin calls without their tokens, and the
//! metrics an operator watches.

use kindred_protocol::client::Connection;
use kindred_protocol::http::{AdminRoomList, CreateInvite, JoinRequest};
use kindred_protocol::{ClientFrame, ServerFrame, Visibility};
use kindred_tests::process::{Instance, refused, scratch};
use kindred_tests::{ADMIN, SECRET, WAIT};
use serde_json::{Value, json};

#[tokio::test]
async fn with_a_catalog_file_rooms_invites_and_bans_survive_a_restart_and_no_words_are_kept() {
    let dir = scratch("catalog");
    let file = dir.join("catalog.json");
    let path = file.to_str().unwrap();
    let env = [("KINDRED_CATALOG_FILE", path)];

    let mut first = Instance::launch(&env, false);
    let printed = first.await_printed("Rooms are kept in");
    assert!(
        printed
            .iter()
            .any(|l| l.contains("Rooms are kept in") && l.contains(path)),
        "the start-up text says where rooms are kept: {printed:?}"
    );
    // An open public group, and an unlisted one with its own policy and a schedule.
    let (status, tuesday) = first
        .admin(
            reqwest::Method::POST,
            "/api/rooms",
            Some(json!({"title": "Tuesday group", "open": true, "facilitated": false})),
        )
        .await;
    assert_eq!(status, 201, "{tuesday}");
    let tuesday_id: kindred_protocol::RoomId = tuesday["id"].as_str().unwrap().parse().unwrap();
    let (status, carers) = first.admin(reqwest::Method::POST,
        "/api/rooms",
        Some(json!({
            "title": "Carers' corner",
            "visibility": "unlisted",
            "policy": {"mode": "censor"},
            "schedule": {"weekday": "thursday", "start": "18:30", "minutes": 60, "timezone": "Europe/London"}
        })),
    )
    .await;
    assert_eq!(status, 201, "{carers}");
    let carers_id = carers["id"].as_str().unwrap().to_owned();
    let (status, _) = first
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/rooms/{carers_id}"),
            Some(json!({"capacity": 9})),
        )
        .await;
    assert_eq!(status, 200);
    // A room deleted before the restart stays deleted.
    let (_, gone) = first
        .admin(
            reqwest::Method::POST,
            "/api/rooms",
            Some(json!({"title": "Short-lived"})),
        )
        .await;
    let gone_id = gone["id"].as_str().unwrap().to_owned();
    let (status, _) = first
        .admin(
            reqwest::Method::DELETE,
            &format!("/api/rooms/{gone_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    // A facilitator invite for three; two facilitators join with it now.
    let invite = first
        .http
        .invite(
            ADMIN,
            tuesday_id,
            &CreateInvite {
                uses: Some(3),
                ..CreateInvite::default()
            },
        )
        .await
        .expect("invite minted");
    let join = |name: &str, invite: Option<String>| JoinRequest {
        name: name.to_owned(),
        accept_guidelines: true,
        invite,
        ..JoinRequest::default()
    };
    first
        .http
        .join(tuesday_id, &join("Fran", invite.token.clone()))
        .await
        .expect("the first facilitator joins");
    // Alice joins and talks; Troll joins and is banned by a facilitator.
    let alice = first
        .http
        .join(tuesday_id, &join("Alice", None))
        .await
        .expect("Alice joins");
    let troll = first
        .http
        .join(tuesday_id, &join("Troll", None))
        .await
        .unwrap();
    let gus = first
        .http
        .join(tuesday_id, &join("Gus", invite.token.clone()))
        .await
        .expect("the second facilitator joins");
    let ws = first.ws_url();
    let (mut gus_ws, _, _) = Connection::hello(&ws, &gus.token, None).await.unwrap();
    let (mut alice_ws, _, _) = Connection::hello(&ws, &alice.token, None).await.unwrap();
    let (_troll_ws, _, _) = Connection::hello(&ws, &troll.token, None).await.unwrap();
    alice_ws
        .send(&ClientFrame::Send {
            client_id: "c1".into(),
            guard: None,
            text: "zq7words my story tonight".into(),
            cw: None,
        })
        .await
        .unwrap();
    let said_at = acked(&mut alice_ws, "c1").await;
    // The words are in the room: a second tab of Alice's is given them.
    let (_, _, before_restart) = Connection::hello(&ws, &alice.token, None).await.unwrap();
    assert!(
        said_in(&before_restart, said_at, "zq7words"),
        "the room holds her words before the restart: {before_restart:?}"
    );
    gus_ws
        .send(&ClientFrame::Mod {
            client_id: "m1".into(),
            action: kindred_protocol::ModAction::Ban,
            user: Some(troll.user_id),
            seq: None,
            seconds: None,
            reason: Some("zq7reason".into()),
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
        .await
        .unwrap();
    tokio::time::timeout(WAIT, async {
        loop {
            if let ServerFrame::Ack { client_id, .. } = gus_ws.next_frame().await.unwrap()
                && client_id == "m1"
            {
                break;
            }
        }
    })
    .await
    .expect("the ban is acknowledged");

    // The operator restarts Kindred (SIGTERM, then the same command).
    let status = first.terminate();
    assert!(status.success(), "a clean stop: {status:?}");
    let kept = std::fs::read_to_string(&file).expect("the catalog file was written");
    for word in ["zq7words", "zq7reason", "Alice", "Fran", "Troll", "Gus"] {
        assert!(!kept.contains(word), "the catalog file holds {word:?}");
    }
    let second = Instance::launch(&env, false);

    // Every room is back, the unlisted one with its policy and schedule; the deleted
    // one is not.
    let (status, listed) = second.admin(reqwest::Method::GET, "/api/rooms", None).await;
    assert_eq!(status, 200);
    let listed: AdminRoomList = serde_json::from_value(listed).unwrap();
    let titles: Vec<&str> = listed.rooms.iter().map(|r| r.room.title.as_str()).collect();
    assert_eq!(titles, ["Carers' corner", "Tuesday group"]);
    let carers = &listed.rooms[0];
    assert_eq!(carers.room.visibility, Visibility::Unlisted);
    assert_eq!(carers.room.capacity, 9);
    assert_eq!(
        carers.policy.mode,
        kindred_protocol::policy::PolicyMode::Censor
    );
    assert!(carers.room.schedule.is_some() && carers.room.next_session.is_some());
    assert!(listed.rooms[1].room.open, "the open session is still open");
    let (status, _) = second
        .admin(reqwest::Method::GET, &format!("/api/rooms/{gone_id}"), None)
        .await;
    assert_eq!(status, 404);
    // The public directory shows the public room, as before.
    let public = second.http.rooms().await.unwrap();
    assert_eq!(public.rooms.len(), 1);
    assert_eq!(public.rooms[0].id, tuesday_id);

    // The shared room link and the invite still work: its third use seats a
    // facilitator, and a fourth join with it is refused (two were spent before).
    second
        .http
        .join(tuesday_id, &join("Hana", invite.token.clone()))
        .await
        .expect("the invite's third use works after the restart");
    let spent = second
        .http
        .join(tuesday_id, &join("Ivo", invite.token.clone()))
        .await
        .unwrap_err();
    assert!(spent.to_string().contains("401"), "{spent}");
    let invites = second.http.invites(ADMIN, tuesday_id).await.unwrap();
    assert_eq!(invites.invites.len(), 1);
    assert_eq!(invites.invites[0].used, 3);
    // Alice's token from before the restart still connects (same session), and she
    // can talk; her words from before are gone.
    let (mut alice_ws, welcome, backlog) = Connection::hello(&second.ws_url(), &alice.token, None)
        .await
        .expect("a member's token survives the restart");
    assert!(
        !backlog
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { text, .. } if text.contains("zq7words"))),
        "no words survive a restart: {backlog:?}"
    );
    assert!(welcome.members.iter().any(|m| m.user == alice.user_id));
    alice_ws
        .send(&ClientFrame::Send {
            client_id: "c2".into(),
            guard: None,
            text: "hello again".into(),
            cw: None,
        })
        .await
        .unwrap();
    let again_at = acked(&mut alice_ws, "c2").await;
    assert!(again_at > welcome.seq, "her message enters the timeline");
    let (_, _, after_restart) = Connection::hello(&second.ws_url(), &alice.token, None)
        .await
        .unwrap();
    assert!(
        said_in(&after_restart, again_at, "hello again"),
        "another tab of hers is given it: {after_restart:?}"
    );
    // The ban holds: Troll's token is refused at hello.
    let mut troll_ws = Connection::open(&second.ws_url()).await.unwrap();
    troll_ws
        .send(&ClientFrame::Hello {
            first_time: false,
            token: troll.token.clone(),
            last_seq: None,
            epoch: None,
        })
        .await
        .unwrap();
    let refused_with = tokio::time::timeout(WAIT, troll_ws.next_frame())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&refused_with, ServerFrame::Error(e) if e.code == kindred_protocol::ErrorCode::Banned),
        "{refused_with:?}"
    );
    drop(second);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn without_a_catalog_file_nothing_is_written_and_the_start_up_text_says_how_to_keep_rooms() {
    let dir = scratch("no-catalog");
    let dir_str = dir.to_str().unwrap();
    let instance = Instance::launch(
        &[
            ("HOME", dir_str),
            ("TMPDIR", dir_str),
            ("XDG_RUNTIME_DIR", dir_str),
        ],
        false,
    );
    let printed = instance
        .await_printed("Rooms live in memory only")
        .join("\n");
    assert!(
        printed.contains("Rooms live in memory only")
            && printed.contains("--catalog-file")
            && printed.contains("KINDRED_CATALOG_FILE"),
        "{printed}"
    );
    let (status, _) = instance
        .admin(
            reqwest::Method::POST,
            "/api/rooms",
            Some(json!({"title": "Tuesday group"})),
        )
        .await;
    assert_eq!(status, 201);
    drop(instance);
    let written: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(written.is_empty(), "nothing on disk: {written:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Read `conn` until the ack of `client_id`: the seq it was given. A refusal fails
/// the test.
async fn acked(conn: &mut Connection, client_id: &str) -> kindred_protocol::Seq {
    tokio::time::timeout(WAIT, async {
        loop {
            match conn.next_frame().await.expect("the connection is open") {
                ServerFrame::Ack {
                    client_id: id,
                    seq: Some(seq),
                    ..
                } if id == client_id => return seq,
                ServerFrame::Error(e) if e.client_id.as_deref() == Some(client_id) => {
                    panic!("{client_id} was refused: {e:?}")
                }
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no ack for {client_id} within {WAIT:?}"))
}

/// Whether `backlog` holds the message at `seq` and its text contains `words`.
fn said_in(backlog: &[ServerFrame], seq: kindred_protocol::Seq, words: &str) -> bool {
    backlog.iter().any(
        |f| matches!(f, ServerFrame::Message { seq: s, text, .. } if *s == seq && text.contains(words)),
    )
}

/// One refusal: the environment, the arguments, the exit code, and what stderr says.
type Refusal<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], i32, &'a [&'a str]);

/// Every configuration mistake stops Kindred at start with one clear line and a
/// non-zero exit, before it listens.
#[test]
fn configuration_mistakes_are_refused_at_start_one_line_each() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    let dir = scratch("config");
    let empty_card = dir.join("card.json");
    std::fs::write(
        &empty_card,
        r#"{"title":"Help","body":"You are not alone.","lines":[]}"#,
    )
    .unwrap();
    let empty_card = empty_card.to_str().unwrap();
    let newer = dir.join("newer.json");
    std::fs::write(&newer, r#"{"format": 9, "rooms": []}"#).unwrap();
    let newer = newer.to_str().unwrap();
    let cases: &[Refusal] = &[
        (
            &[("KINDRED_ROOM_CAPACITY", "0")],
            &[],
            2,
            &[
                "KINDRED_ROOM_CAPACITY (--room-capacity) is 0",
                "between 1 and",
            ],
        ),
        (
            &[("KINDRED_ROOM_CAPACITY", "5000")],
            &[],
            2,
            &["KINDRED_ROOM_CAPACITY", "--max-room-capacity (2000)"],
        ),
        (
            &[("KINDRED_MAX_CONNECTIONS", "0")],
            &[],
            2,
            &[
                "KINDRED_MAX_CONNECTIONS (--max-connections) is 0",
                "at least 1",
            ],
        ),
        (
            &[("KINDRED_FRAMES_PER_SECOND", "0")],
            &[],
            2,
            &["KINDRED_FRAMES_PER_SECOND (--frames-per-second) is 0"],
        ),
        (
            &[("KINDRED_MESSAGES_PER_MINUTE", "0")],
            &[],
            2,
            &["KINDRED_MESSAGES_PER_MINUTE (--messages-per-minute) is 0"],
        ),
        (
            &[("KINDRED_JOINS_PER_MINUTE_PER_IP", "0")],
            &[],
            2,
            &["KINDRED_JOINS_PER_MINUTE_PER_IP"],
        ),
        (
            &[("KINDRED_HISTORY_LEN", "0")],
            &[],
            2,
            &["KINDRED_HISTORY_LEN (--history-len) is 0"],
        ),
        (
            &[
                ("KINDRED_PING_INTERVAL_MS", "30000"),
                ("KINDRED_IDLE_TIMEOUT_MS", "20000"),
            ],
            &[],
            2,
            &[
                "KINDRED_IDLE_TIMEOUT_MS (--idle-timeout-ms) is 20000",
                "longer than --ping-interval-ms (30000)",
            ],
        ),
        (
            &[("KINDRED_RESOURCES_CARD", empty_card)],
            &[],
            2,
            &["card.json", "no help lines"],
        ),
        (
            &[("RUST_LOG", "info,kindred=loud")],
            &[],
            2,
            &["RUST_LOG \"info,kindred=loud\": \"loud\" is not a level"],
        ),
        (
            &[("KINDRED_BIND", taken_addr.as_str())],
            &[],
            3,
            &[
                "cannot listen on KINDRED_BIND (--bind)",
                taken_addr.as_str(),
                "in use",
            ],
        ),
        (
            &[("KINDRED_BIND", "localhost")],
            &[],
            2,
            &["\"localhost\" needs a port"],
        ),
        (
            &[("KINDRED_CATALOG_FILE", newer)],
            &[],
            3,
            &["newer.json", "format 9", "newer Kindred"],
        ),
        (
            &[
                ("KINDRED_CATALOG_FILE", newer),
                ("REDIS_URL", "redis://127.0.0.1:1"),
            ],
            &[],
            2,
            &["KINDRED_CATALOG_FILE (--catalog-file) is set with REDIS_URL"],
        ),
        (
            &[("KINDRED_PUBLIC_URL", "chat.example.org")],
            &[],
            2,
            &["KINDRED_PUBLIC_URL (--public-url): \"chat.example.org\" has no http:// or https://"],
        ),
    ];
    for (env, args, code, expected) in cases {
        let (exit, stderr) = refused(env, args);
        assert_eq!(exit, *code, "{env:?}: exit code; stderr:\n{stderr}");
        for part in *expected {
            assert!(stderr.contains(part), "{env:?}: {part:?} in:\n{stderr}");
        }
        assert!(
            stderr.lines().filter(|l| !l.trim().is_empty()).count() <= 2,
            "{env:?}: one clear line, not a trace:\n{stderr}"
        );
    }
    // Two mistakes at once: both named, one line each.
    let (exit, stderr) = refused(
        &[
            ("KINDRED_ROOM_CAPACITY", "0"),
            ("KINDRED_OUTBOUND_QUEUE", "0"),
        ],
        &[],
    );
    assert_eq!(exit, 2);
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    drop(taken);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Secrets and passwords are never printed: not by `--help`, not in a refusal.
#[test]
fn secrets_never_appear_in_help_or_in_refusals() {
    let password = "zq7hunter2";
    let url = format!("redis://:{password}@127.0.0.1:1");
    let env = [
        ("REDIS_URL", url.as_str()),
        ("KINDRED_SECRET", "zq7secret-0123456789abcdef0123456789"),
        ("KINDRED_ADMIN_TOKEN", "zq7admin-0123456789abcdef0123456789"),
    ];
    let help = std::process::Command::new(kindred_tests::process::binary())
        .env_clear()
        .envs(env)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--redis-url"), "{help}");
    assert!(!help.contains("zq7"), "--help printed a secret:\n{help}");
    // Redis unreachable: refused (3: a needed service unavailable at start), and the
    // URL's password is not in the message.
    let (exit, stderr) = refused(&env, &[]);
    assert_eq!(exit, 3, "{stderr}");
    assert!(
        stderr.contains("cannot reach Redis at redis://127.0.0.1:1 (REDIS_URL"),
        "the refusal names the setting and the address it tried:\n{stderr}"
    );
    assert!(
        !stderr.contains("zq7"),
        "a secret in the refusal:\n{stderr}"
    );
    let _ = (ADMIN, SECRET);
}

/// `--log-format json`: one JSON object a line, plain values; admin actions logged
/// with their ids; a refused admin call logged with its route, code and a keyed hash
/// of the caller, never the token that was tried or the caller's address.
#[tokio::test]
async fn json_logs_name_admin_actions_and_refusals_without_tokens() {
    let instance = Instance::launch(
        &[("KINDRED_LOG_FORMAT", "json"), ("RUST_LOG", "info")],
        true,
    );
    let (status, room) = instance
        .admin(
            reqwest::Method::POST,
            "/api/rooms",
            Some(json!({"title": "Tuesday group"})),
        )
        .await;
    assert_eq!(status, 201);
    let id = room["id"].as_str().unwrap().to_owned();
    let (status, _) = instance
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/rooms/{id}"),
            Some(json!({"capacity": 8, "visibility": "unlisted"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, invite) = instance
        .admin(
            reqwest::Method::POST,
            &format!("/api/rooms/{id}/invites"),
            None,
        )
        .await;
    assert_eq!(status, 201, "{invite}");
    let token = invite["token"].as_str().unwrap().to_owned();
    let wrong = "zq7-wrong-admin-token-0123456789abcdef";
    let refused = reqwest::Client::new()
        .delete(format!("{}/api/rooms/{id}", instance.base()))
        .bearer_auth(wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);

    let logs = instance.await_logged("admin call refused");
    let lines: Vec<Value> = logs
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let find = |message: &str| {
        lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} line in:\n{}", logs.join("\n")))
    };
    let created = find("room created by the operator");
    assert_eq!(created["room"], id.as_str());
    assert_eq!(created["level"], "INFO");
    let patched = find("room changed by the operator");
    assert_eq!(patched["room"], id.as_str());
    assert_eq!(patched["changed"], "capacity,visibility");
    let minted = find("invite minted");
    assert_eq!(minted["room"], id.as_str());
    assert_eq!(minted["uses"], 1);
    let refusal = find("admin call refused");
    assert_eq!(refusal["code"], "unauthorized");
    assert_eq!(refusal["route"], "/api/rooms/{id}");
    assert_eq!(refusal["method"], "DELETE");
    assert_eq!(refusal["status"], 401);
    let caller = refusal["caller"]
        .as_str()
        .expect("the caller, as a keyed hash");
    assert!(caller.len() == 16 && caller.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(
        !refusal.to_string().contains("127.0.0.1"),
        "no address in {refusal}"
    );
    let all = logs.join("\n");
    for secret in [wrong, ADMIN, token.as_str()] {
        assert!(!all.contains(secret), "a token reached the logs:\n{all}");
    }
    assert!(
        !all.contains("Some(") && !all.contains("None"),
        "values in Rust's debug form:\n{all}"
    );
}
