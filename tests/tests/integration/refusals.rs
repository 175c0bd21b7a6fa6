//! What `kindred` refuses at start, on the real binary: each mistake exits with the
//! status the README's Configuration section gives (2: configuration refused, 3:
//! something needed unavailable at start), and its one line names the flag and the
//! environment variable once and says what would be taken. And what it does under a
//! low open-files limit: refuses below its WebSockets, starts and caps its TCP
//! connections within the limit above them.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kindred_tests::process::{Instance, binary, refused, scratch};
use kindred_tests::{ADMIN, SECRET, WAIT};

/// `kindred` with only `env` (plus a free port, no demo room, warnings), under an
/// open-files limit of `nofile` when given (`ulimit -n` in a shell that then execs it).
fn spawn(nofile: Option<u32>, env: &[(&str, &str)], args: &[&str]) -> Child {
    let mut cmd = match nofile {
        Some(n) => {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                .arg(binary());
            sh
        }
        None => Command::new(binary()),
    };
    cmd.env_clear()
        .env("KINDRED_BIND", "127.0.0.1:0")
        .env("KINDRED_DEMO_ROOM", "false")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().expect("kindred starts")
}

/// Wait (within [`WAIT`]) for a process that should refuse to start: its exit code and
/// its stderr.
fn refusal(mut child: Child) -> (i32, String) {
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("kindred did not refuse to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code().unwrap_or(-1), reader.join().unwrap())
}

/// The refusal names `names` once each, and nothing in it is said twice.
fn assert_names_once(stderr: &str, names: &[&str]) {
    for name in names {
        assert_eq!(stderr.matches(name).count(), 1, "{name} once in: {stderr}");
    }
    let refusals: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("kindred: "))
        .collect();
    assert_eq!(refusals.len(), 1, "one refusal: {stderr}");
    assert!(
        refusals[0].matches("os error").count() <= 1,
        "a cause said once: {stderr}"
    );
}

/// A mistake: its environment, its arguments, the names its refusal gives once, and a
/// piece of what it says would be taken.
type Case<'a> = (
    &'a [(&'a str, &'a str)],
    &'a [&'a str],
    &'a [&'a str],
    &'a str,
);

#[test]
fn each_configuration_mistake_exits_2_naming_its_flag_and_variable_once() {
    let dir = scratch("mistakes");
    let empty_phrases = dir.join("phrases.txt");
    std::fs::write(&empty_phrases, "# to be written\n").unwrap();
    let misspelt_card = dir.join("card.json");
    std::fs::write(
        &misspelt_card,
        r#"{"title":"Help","body":"You are not alone.","lines":[{"region":"UK","name":"Samaritans","contact":"116 123","link":"https://www.samaritans.org"}]}"#,
    )
    .unwrap();
    let script_card = dir.join("script.json");
    std::fs::write(
        &script_card,
        r#"{"title":"Help","body":"You are not alone.","lines":[{"region":"UK","name":"Samaritans","contact":"116 123","url":"javascript:alert(1)"}]}"#,
    )
    .unwrap();
    let missing_dir_catalog = dir.join("no-such-dir/catalog.json");
    let (phrases, card, script, missing) = (
        empty_phrases.to_str().unwrap(),
        misspelt_card.to_str().unwrap(),
        script_card.to_str().unwrap(),
        missing_dir_catalog.to_str().unwrap(),
    );
    let phrases_dir = dir.to_str().unwrap();
    let cases: [Case; 12] = [
        (
            &[],
            &["--catalog-file", missing],
            &["KINDRED_CATALOG_FILE", "--catalog-file"],
            "mkdir -p",
        ),
        (
            &[("KINDRED_CATALOG_FILE", phrases_dir)],
            &[],
            &["KINDRED_CATALOG_FILE", "--catalog-file"],
            "name a file",
        ),
        (
            &[("RUST_LOG", "debg")],
            &[],
            &["RUST_LOG \"debg\""],
            "levels are off, error, warn, info, debug, trace",
        ),
        (
            &[],
            &["--allowed-origin", "example.org"],
            &["KINDRED_ALLOWED_ORIGINS", "--allowed-origin"],
            "https://chat.example.org",
        ),
        (
            &[("KINDRED_PUBLIC_URL", "https://chat.example.org/kindred")],
            &[],
            &["KINDRED_PUBLIC_URL", "--public-url"],
            "path, query or fragment",
        ),
        (
            &[],
            &["--resources-card", card],
            &["KINDRED_RESOURCES_CARD", "--resources-card"],
            "unknown field `link`",
        ),
        (
            &[("KINDRED_RESOURCES_CARD", script)],
            &[],
            &["KINDRED_RESOURCES_CARD", "--resources-card"],
            "https://, tel: or sms:",
        ),
        (
            &[],
            &["--crisis-phrases", phrases],
            &["KINDRED_CRISIS_PHRASES", "--crisis-phrases"],
            "has no phrases",
        ),
        (
            &[("KINDRED_CRISIS_PHRASES", phrases_dir)],
            &[],
            &["KINDRED_CRISIS_PHRASES", "--crisis-phrases"],
            "cannot be read",
        ),
        (
            &[("KINDRED_SECRET", "short")],
            &[],
            &["KINDRED_SECRET", "--secret"],
            "at least 32 bytes",
        ),
        (
            &[("KINDRED_ROOM_CAPACITY", "0")],
            &[],
            &["KINDRED_ROOM_CAPACITY", "--room-capacity"],
            "between 1 and",
        ),
        (
            &[],
            &["--max-connections", "0"],
            &["KINDRED_MAX_CONNECTIONS", "--max-connections"],
            "at least 1",
        ),
    ];
    for (env, args, names, accepted) in cases {
        let (code, stderr) = refused(env, args);
        assert_eq!(code, 2, "{env:?} {args:?}: {stderr}");
        assert_names_once(&stderr, names);
        assert!(
            stderr.contains(accepted),
            "{env:?} {args:?} says what is taken: {stderr}"
        );
    }
    // A flag clap does not know: its own refusal, the same status.
    let (code, stderr) = refused(&[], &["--max-conections", "5"]);
    assert_eq!(code, 2, "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_catalog_file_without_a_secret_exits_2_and_the_catalogs_directory_is_left_clean() {
    let dir = scratch("catalog-secret");
    let file = dir.join("catalog.json");
    let path = file.to_str().unwrap();
    let (code, stderr) = refusal(spawn(None, &[("KINDRED_CATALOG_FILE", path)], &[]));
    assert_eq!(code, 2, "{stderr}");
    assert_names_once(
        &stderr,
        &[
            "KINDRED_CATALOG_FILE",
            "--catalog-file",
            "KINDRED_SECRET",
            "--secret",
        ],
    );
    // With a secret it starts; its write check leaves nothing behind.
    let mut kindred = Instance::launch(&[("KINDRED_CATALOG_FILE", path)], false);
    kindred.await_printed("Rooms are kept in");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("kindred-check"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(kindred.terminate().success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_address_in_use_exits_3_naming_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, stderr) = refused(&[("KINDRED_BIND", &addr)], &[]);
    assert_eq!(code, 3, "{stderr}");
    assert_names_once(&stderr, &["KINDRED_BIND", "--bind"]);
    assert!(stderr.contains(&addr), "{stderr}");
}

#[test]
fn under_an_open_files_limit_too_low_for_its_websockets_kindred_exits_2_saying_how_to_fit() {
    let env = [("KINDRED_ADMIN_TOKEN", ADMIN), ("KINDRED_SECRET", SECRET)];
    let (code, stderr) = refusal(spawn(Some(64), &env, &[]));
    assert_eq!(code, 2, "{stderr}");
    assert_names_once(&stderr, &["KINDRED_MAX_CONNECTIONS (--max-connections)"]);
    for said in [
        "open-files limit is 64",
        "ulimit -n",
        "LimitNOFILE",
        "at least 10064",
    ] {
        assert!(stderr.contains(said), "{said}: {stderr}");
    }
    let (code, stderr) = refusal(spawn(Some(128), &env, &[]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("or lower KINDRED_MAX_CONNECTIONS to 64"),
        "{stderr}"
    );
}

/// The status line of a `GET /healthz` on a new connection within [`WAIT`], or what
/// went wrong (a connection refused at the cap may be reset before it is read).
fn healthz(addr: &str) -> String {
    let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let mut line = String::new();
    let answered = tcp
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kindred\r\nConnection: close\r\n\r\n")
        .and_then(|()| BufReader::new(tcp).read_line(&mut line));
    match answered {
        Ok(_) => line.trim_end().to_owned(),
        Err(e) => format!("no answer: {e}"),
    }
}

#[test]
fn under_a_low_open_files_limit_connections_are_capped_within_it_and_healthz_answers() {
    let env = [("KINDRED_ADMIN_TOKEN", ADMIN), ("KINDRED_SECRET", SECRET)];
    let mut child = spawn(Some(128), &env, &["--max-connections", "16"]);
    // Read stdout to its end on a thread (a closed pipe would stop the process).
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Some(a) = line.strip_prefix("Kindred is listening on http://") {
                let _ = tx.send(a.trim().to_owned());
            }
        }
    });
    let stderr = child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    let addr = rx.recv_timeout(WAIT).ok();
    let addr = addr.expect("kindred starts under 128 open files with 16 WebSockets");
    assert_eq!(healthz(&addr), "HTTP/1.1 200 OK");
    // More idle connections than the limit holds: the ones over the cap (64: the limit
    // less 64 for itself) are answered 503 and closed; none fails at accept.
    let idle: Vec<_> = (0..100)
        .map(|_| std::net::TcpStream::connect(&addr).expect("connect"))
        .collect();
    // One more connection is answered at once, before it sends anything, with a 503
    // (not left hanging in the backlog).
    let mut busy = String::new();
    let one_more = std::net::TcpStream::connect(&addr).expect("connect");
    one_more.set_read_timeout(Some(WAIT)).unwrap();
    BufReader::new(one_more)
        .read_line(&mut busy)
        .expect("an answer");
    assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
    drop(idle);
    let deadline = Instant::now() + WAIT;
    while healthz(&addr) != "HTTP/1.1 200 OK" {
        assert!(Instant::now() < deadline, "healthz answers 200 again");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let logs = logs.join().unwrap();
    assert!(status.success(), "{logs}");
    assert!(
        logs.contains("TCP connections are capped at 64") && logs.contains("ulimit -n"),
        "one warning says so: {logs}"
    );
    assert!(!logs.contains("accept failed"), "{logs}");
}

#[test]
fn one_start_up_line_says_what_was_loaded() {
    let dir = scratch("loaded");
    let phrases = dir.join("phrases.txt");
    std::fs::write(
        &phrases,
        "[suicidal_ideation]\nwant to disappear for good\ncannot go on any more\n[except]\ngo on holiday\n",
    )
    .unwrap();
    let card = dir.join("card.json");
    std::fs::write(
        &card,
        r#"{"title":"Help","body":"You are not alone.","lines":[{"region":"UK","name":"Samaritans","contact":"Call 116 123","url":"tel:116123"}]}"#,
    )
    .unwrap();
    let catalog = dir.join("catalog.json");
    let mut kindred = Instance::launch(
        &[
            ("RUST_LOG", "info"),
            ("KINDRED_LOG_FORMAT", "json"),
            ("KINDRED_CRISIS_PHRASES", phrases.to_str().unwrap()),
            ("KINDRED_RESOURCES_CARD", card.to_str().unwrap()),
            ("KINDRED_CATALOG_FILE", catalog.to_str().unwrap()),
        ],
        true,
    );
    let started = kindred
        .await_logged("\"message\":\"started\"")
        .into_iter()
        .find(|l| l.contains("\"message\":\"started\""))
        .expect("the start-up line");
    let started: serde_json::Value = serde_json::from_str(&started).expect("one JSON object");
    assert_eq!(started["broker"], "memory");
    assert_eq!(started["catalog"], "file");
    assert_eq!(started["catalog_rooms"], 0);
    assert_eq!(started["extra_crisis_phrases"], 2);
    assert_eq!(started["card_lines"], 1);
    assert_eq!(started["max_connections"], 10_000);
    let status = kindred.terminate();
    assert!(status.success(), "{status:?}: {:?}", kindred.logs());
    std::fs::remove_dir_all(&dir).unwrap();
}
