//! Kindred as a separate process: the release of a real deployment, for the tests
//! that kill an instance with `SIGKILL` (no in-process server can die like that) or
//! put a real proxy in front of several instances.
//!
//! The binary is `target/debug/kindred`, which `tests/run.sh` builds before the
//! suite; a missing binary is a panic that says so, never a skipped test.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kindred_protocol::client::Http;

use crate::{ADMIN, SECRET};

/// One `kindred` process listening on a free loopback port.
pub struct Instance {
    child: Child,
    pub addr: SocketAddr,
    pub http: Http,
    /// What it printed on stdout so far.
    stdout: Arc<Mutex<Vec<String>>>,
    /// What it logged on stderr so far, when [`Instance::launch`] captured it.
    stderr: Arc<Mutex<Vec<String>>>,
}

/// The environment every test instance starts with: the tests' tokens, no demo room,
/// roomy limits, warnings only.
fn base_command() -> Command {
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .env("KINDRED_BIND", "127.0.0.1:0")
        .env("KINDRED_ADMIN_TOKEN", ADMIN)
        .env("KINDRED_SECRET", SECRET)
        .env("KINDRED_DEMO_ROOM", "false")
        .env("KINDRED_FRAMES_PER_SECOND", "1000")
        .env("KINDRED_FRAME_BURST", "1000")
        .env("KINDRED_MESSAGES_PER_MINUTE", "100000")
        .env("KINDRED_MESSAGE_BURST", "10000")
        .env("KINDRED_JOINS_PER_MINUTE_PER_IP", "10000")
        .env("RUST_LOG", "warn");
    cmd
}

/// Run `kindred` with the tests' environment, these variables and these arguments,
/// expecting it to refuse to start: its exit code and what it wrote to stderr. A
/// process still running after [`crate::WAIT`] fails the test.
pub fn refused(env: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let mut cmd = base_command();
    cmd.envs(env.iter().copied()).args(args);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kindred starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let deadline = std::time::Instant::now() + crate::WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("kindred with {env:?} {args:?} did not refuse to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap_or_default();
    (status.code().unwrap_or(-1), text)
}

/// Where the test command built the binary: `KINDRED_BIN` if set, else the debug
/// build in the workspace's target directory (`CARGO_TARGET_DIR` if set).
/// A fresh directory for one test's files (a catalog file, an admin-token file).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kindred-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

pub fn binary() -> PathBuf {
    let path = std::env::var_os("KINDRED_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|dir| PathBuf::from(dir).join("debug/kindred"))
        })
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/kindred")
        });
    assert!(
        path.exists(),
        "{} is missing: run tests/run.sh, which builds it before the suite",
        path.display()
    );
    path
}

impl Instance {
    /// Start an instance on the Redis at `redis_url`, with the tests' tokens, roomy
    /// limits and these extra environment variables.
    pub fn start(redis_url: &str, env: &[(&str, &str)]) -> Instance {
        let mut all = vec![("REDIS_URL", redis_url)];
        all.extend_from_slice(env);
        Self::launch(&all, false)
    }

    /// Start an instance with the in-memory broker and these extra environment
    /// variables; with `capture_logs`, its stderr is kept for [`Instance::logs`]
    /// instead of shown.
    pub fn launch(env: &[(&str, &str)], capture_logs: bool) -> Instance {
        let mut cmd = base_command();
        cmd.envs(env.iter().copied());
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(if capture_logs {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .expect("kindred starts");
        let stderr_lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let lines = stderr_lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdout_lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        // Read stdout on a thread (kept reading, so the process never blocks on a full
        // pipe) and wait for the address with a deadline, never forever.
        let lines = stdout_lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Kindred is listening on http://") {
                    let _ = tx.send(url.trim().to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(crate::WAIT)
            .expect("kindred prints where it listens in time (see its stderr above)")
            .parse()
            .expect("a socket address");
        Instance {
            child,
            addr,
            http: Http::new(format!("http://{addr}")),
            stdout: stdout_lines,
            stderr: stderr_lines,
        }
    }

    /// What the instance printed on stdout so far (its start-up text).
    pub fn printed(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Wait (within [`crate::WAIT`]) until the instance has printed a line containing
    /// `needle` on stdout; what it printed by then.
    pub fn await_printed(&self, needle: &str) -> Vec<String> {
        await_line(&self.stdout, needle, "printed")
    }

    /// Wait (within [`crate::WAIT`]) until the instance has logged a line containing
    /// `needle` (with `capture_logs`): its stderr is read on a thread of its own, so a
    /// line written before an answer may be read after it; what it logged by then.
    pub fn await_logged(&self, needle: &str) -> Vec<String> {
        await_line(&self.stderr, needle, "logged")
    }

    /// What the instance logged so far (with `capture_logs`).
    pub fn logs(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// `SIGTERM`, as an operator's `systemctl stop` or `docker stop`: wait for the
    /// instance to finish its graceful shutdown, within [`crate::WAIT`].
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM sent");
        let deadline = std::time::Instant::now() + crate::WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "kindred stops within {:?} of SIGTERM",
                crate::WAIT
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An admin call with the operator's token: its status and its JSON body (null
    /// when it has none).
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base()))
            .bearer_auth(ADMIN)
            .timeout(crate::WAIT);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    pub fn ws_url(&self) -> String {
        self.http.ws_url()
    }

    /// `SIGKILL`: the instance dies at once, its sockets reset, nothing said.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `SIGSTOP`: the instance stops where it is, its sockets open and silent, as a
    /// machine that hangs or a process paused by its host.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// `SIGCONT`: a paused instance carries on from where it stopped.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let status = Command::new("kill")
            .arg(which)
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {which} failed");
    }

    /// Whether `/readyz` answers 200 now.
    pub async fn ready(&self) -> bool {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        client
            .get(format!("{}/readyz", self.base()))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Wait (within [`crate::WAIT`]) until `lines` holds one containing `needle`.
fn await_line(lines: &Mutex<Vec<String>>, needle: &str, what: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + crate::WAIT;
    loop {
        let seen = lines.lock().unwrap().clone();
        if seen.iter().any(|l| l.contains(needle)) {
            return seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "kindred never {what} {needle:?}; it {what}:\n{}",
            seen.join("\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
