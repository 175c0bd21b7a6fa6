//! Starting up safely: no empty or guessable secrets, and a generated admin token kept
//! out of stdout (and so out of whatever log stdout ends up in).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use kindred_tests::process::binary;
use kindred_tests::{WAIT, config};

#[tokio::test]
async fn an_empty_or_short_admin_token_or_secret_is_refused_at_start_naming_the_variable() {
    let thirty_one = "x".repeat(31);
    for (admin_token, secret, variable) in [
        (Some(""), None, "KINDRED_ADMIN_TOKEN"),
        (Some("letmein"), None, "KINDRED_ADMIN_TOKEN"),
        (Some(thirty_one.as_str()), None, "KINDRED_ADMIN_TOKEN"),
        (None, Some(""), "KINDRED_SECRET"),
        (None, Some("test-secret"), "KINDRED_SECRET"),
    ] {
        let mut c = config();
        c.tokens.admin_token = admin_token.map(str::to_owned);
        c.tokens.secret = secret.map(str::to_owned);
        c.storage.redis_url = None;
        let refused = kindred_tests::kindred::start(c)
            .await
            .err()
            .unwrap_or_else(|| panic!("started with {admin_token:?} / {secret:?}"));
        let message = refused.to_string();
        assert!(
            message.contains(variable) && message.contains("32 bytes"),
            "{message}"
        );
    }
    // 32 bytes is enough.
    let mut c = config();
    c.tokens.admin_token = Some("a".repeat(32));
    c.tokens.secret = Some("s".repeat(32));
    c.storage.redis_url = None;
    let server = kindred_tests::kindred::start(c)
        .await
        .expect("32-byte values are accepted");
    server.shutdown();
    let _ = tokio::time::timeout(WAIT, server.done).await;
}

/// The `kindred` binary with a clean environment plus `env`, stdout and stderr piped.
fn kindred(env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .env("KINDRED_BIND", "127.0.0.1:0")
        .env("KINDRED_DEMO_ROOM", "false")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kindred starts")
}

#[tokio::test]
async fn the_binary_refuses_an_empty_admin_token_from_the_environment() {
    let mut child = kindred(&[("KINDRED_ADMIN_TOKEN", "")]);
    let deadline = std::time::Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            panic!("kindred started with an empty admin token");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success());
    assert!(stderr.contains("KINDRED_ADMIN_TOKEN"), "{stderr}");
}

#[tokio::test]
async fn a_generated_admin_token_goes_to_a_file_only_its_owner_can_read_never_to_stdout() {
    let dir = std::env::temp_dir().join(format!(
        "kindred-startup-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let runtime_dir = dir.to_str().unwrap().to_owned();
    let mut child = kindred(&[("XDG_RUNTIME_DIR", &runtime_dir)]);
    // Read stdout on a thread (it never blocks the process), lines through a channel.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut printed = Vec::new();
    let deadline = std::time::Instant::now() + WAIT;
    let token_file = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no admin token line; printed so far: {printed:?}"));
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("Admin token") {
            let path = rest
                .rsplit(" is in ")
                .next()
                .expect("the line names a file")
                .trim()
                .to_owned();
            break std::path::PathBuf::from(path);
        }
    };
    // Whatever else it prints at start arrives within a moment.
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
        printed.push(line);
    }
    assert!(token_file.starts_with(&dir), "{}", token_file.display());
    let token = std::fs::read_to_string(&token_file)
        .expect("the file is there")
        .trim()
        .to_owned();
    assert!(token.len() >= 32, "a long token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "readable by its owner only");
    }
    let stdout = printed.join("\n");
    assert!(!stdout.contains(&token), "the token was printed:\n{stdout}");
    // And it is the admin token.
    let addr = printed
        .iter()
        .find_map(|l| l.strip_prefix("Kindred is listening on "))
        .expect("the address is printed")
        .to_owned();
    let created = reqwest::Client::new()
        .post(format!("{addr}/api/rooms"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "Mine"}))
        .timeout(WAIT)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the binary prints at start, line by line, read on a thread.
fn printed(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

#[tokio::test]
async fn the_demo_room_is_open_unlisted_says_it_is_a_demo_and_both_printed_links_work_the_facilitators_once()
 {
    let mut child = kindred(&[
        ("KINDRED_DEMO_ROOM", "true"),
        ("KINDRED_ADMIN_TOKEN", kindred_tests::ADMIN),
    ]);
    let lines = printed(&mut child);
    let (mut base, mut participant, mut facilitator) = (None, None, None);
    let deadline = std::time::Instant::now() + WAIT;
    while facilitator.is_none() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = lines
            .recv_timeout(left)
            .expect("the demo room's links are printed");
        let line = line.trim();
        if let Some(addr) = line.strip_prefix("Kindred is listening on ") {
            base = Some(addr.to_owned());
        } else if let Some(link) = line.strip_prefix("as a participant: ") {
            participant = Some(link.to_owned());
        } else if let Some(link) = line.strip_prefix("as a facilitator: ") {
            facilitator = Some(link.to_owned());
        }
    }
    let (base, participant, facilitator) =
        (base.unwrap(), participant.unwrap(), facilitator.unwrap());
    let room = participant
        .rsplit("room=")
        .next()
        .expect("the participant link names the room")
        .to_owned();
    // The facilitator's link is the same room, its invite in the fragment.
    let (page, invite) = facilitator
        .split_once("#invite=")
        .expect("an invite in the fragment");
    assert_eq!(page, participant);
    let http = reqwest::Client::builder().timeout(WAIT).build().unwrap();
    let listed: kindred_protocol::http::RoomList = http
        .get(format!("{base}/api/rooms"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        listed.rooms.is_empty(),
        "the demo room stays out of the directory"
    );
    let summary: kindred_protocol::RoomSummary = http
        .get(format!("{base}/api/rooms/{room}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(summary.open, "open from the start");
    assert!(summary.title.contains("Demo") && summary.topic.contains("demo"));
    let join = |name: &str, invite: Option<&str>| {
        http.post(format!("{base}/api/rooms/{room}/join"))
            .json(&kindred_protocol::http::JoinRequest {
                name: name.into(),
                accept_guidelines: true,
                invite: invite.map(str::to_owned),
                device: None,
                seat_key: None,
            })
            .send()
    };
    let joined: kindred_protocol::http::JoinResponse =
        join("Robin", None).await.unwrap().json().await.unwrap();
    assert_eq!(joined.role, kindred_protocol::Role::Participant);
    let joined: kindred_protocol::http::JoinResponse = join("Fran", Some(invite))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(joined.role, kindred_protocol::Role::Facilitator);
    // The printed link works once: a copy of the start-up text in a log seats nobody.
    let again = join("Sam", Some(invite)).await.unwrap();
    assert_eq!(again.status().as_u16(), 401, "the demo link is single-use");
    let _ = child.kill();
    let _ = child.wait();
}
