//! Kindred as a separate process: the release of a real deployment, for the tests
//! that kill an instance with `SIGKILL` (no in-process server can die like that) or
//! put a real proxy in front of several instances.
//!
//! The binary is `target/debug/kindred`, which `tests/run.sh` builds before the
//! suite; a missing binary is a panic that says so, never a skipped test.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kindred_protocol::client::Http;

use crate::{ADMIN, SECRET};

/// One `kindred` process listening on a free loopback port.
pub struct Instance {
    child: Child,
    pub addr: SocketAddr,
    pub http: Http,
}

/// Where the test command built the binary: `KINDRED_BIN` if set, else the debug
/// build in the workspace's target directory (`CARGO_TARGET_DIR` if set).
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
        let mut cmd = Command::new(binary());
        cmd.env_clear()
            .env("KINDRED_BIND", "127.0.0.1:0")
            .env("REDIS_URL", redis_url)
            .env("KINDRED_ADMIN_TOKEN", ADMIN)
            .env("KINDRED_SECRET", SECRET)
            .env("KINDRED_DEMO_ROOM", "false")
            .env("KINDRED_FRAMES_PER_SECOND", "1000")
            .env("KINDRED_FRAME_BURST", "1000")
            .env("KINDRED_MESSAGES_PER_MINUTE", "100000")
            .env("KINDRED_MESSAGE_BURST", "10000")
            .env("KINDRED_JOINS_PER_MINUTE_PER_IP", "10000")
            .env("RUST_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kindred starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        // Read stdout on a thread (kept reading, so the process never blocks on a full
        // pipe) and wait for the address with a deadline, never forever.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Kindred is listening on http://") {
                    let _ = tx.send(url.trim().to_owned());
                }
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
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        self.http.ws_url()
    }

    /// `SIGKILL`: the instance dies at once, its sockets reset, nothing said.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
