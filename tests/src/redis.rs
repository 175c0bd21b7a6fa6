//! Real `redis-server` processes for the integration tests that run Kindred against
//! Redis: a single server ([`RedisServer`]), which a test can kill, stop and restart
//! on the same port with or without its data, and a three-master cluster
//! ([`RedisCluster`]). Each process listens on a free loopback port, keeps its files
//! in its own temporary directory and is killed (and the directory removed) on drop.
//! Nothing here is a mock: the binaries are Debian's `redis-server` and `redis-cli`,
//! which `tests/run.sh` installs; a missing binary is a panic, never a skipped test.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// How long a server may take to answer after it was spawned.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a cluster may take to be created and report `cluster_state:ok`.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a graceful `SHUTDOWN` may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Spawns tried before giving up (a free port may be taken before the server binds it).
const SPAWN_ATTEMPTS: usize = 5;
/// How long one probe of a starting server may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// One `redis-server` on a free loopback port.
///
/// [`RedisServer::start`] keeps nothing on disk (`--save "" --appendonly no`), so a
/// restart always comes back empty; [`RedisServer::persistent`] writes an append-only
/// file with `fsync` after every write, so even a `SIGKILL` loses nothing and
/// [`RedisServer::restart_with_data`] brings every acknowledged write back.
pub struct RedisServer {
    node: Node,
    persistent: bool,
}

impl RedisServer {
    /// A server that keeps nothing on disk.
    pub async fn start() -> RedisServer {
        let node = Node::launch("redis", ephemeral_args(), free_port).await;
        RedisServer {
            node,
            persistent: false,
        }
    }

    /// A server whose every write survives a `SIGKILL` (`--appendonly yes
    /// --appendfsync always`), for [`RedisServer::restart_with_data`].
    pub async fn persistent() -> RedisServer {
        let node = Node::launch("redis", persistent_args(), free_port).await;
        RedisServer {
            node,
            persistent: true,
        }
    }

    /// A server that keeps an append-only file and fsyncs it once a second
    /// (`--appendfsync everysec`, Redis's default and docker-compose's old setting):
    /// a crash may lose the last second of writes.
    pub async fn fsyncing_every_second() -> RedisServer {
        let args = base_args(&["--appendonly", "yes", "--appendfsync", "everysec"]);
        let node = Node::launch("redis", args, free_port).await;
        RedisServer {
            node,
            persistent: true,
        }
    }

    /// A server that replicates this one (`--replicaof`), keeping nothing on disk;
    /// it has loaded the primary's data and follows it when this returns.
    pub async fn replica(&self) -> RedisServer {
        let mut args = ephemeral_args();
        args.extend([
            "--replicaof".to_owned(),
            "127.0.0.1".to_owned(),
            self.port().to_string(),
        ]);
        let node = Node::launch("redis-replica", args, free_port).await;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let info = query(node.port, &["INFO", "replication"]).await;
            if info
                .as_ref()
                .is_ok_and(|i| i.lines().any(|l| l.trim() == "master_link_status:up"))
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the replica did not reach its primary in time: {info:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        RedisServer {
            node,
            persistent: false,
        }
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.node.port)
    }

    /// The port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.node.port
    }

    /// The directory Redis keeps its files in (`--dir`): its append-only files (Redis 7:
    /// `appendonlydir/`) and RDB dumps, for a test that reads what Redis put on disk.
    pub fn data_dir(&self) -> PathBuf {
        self.node.data_dir()
    }

    /// Whether the process is running (not killed or stopped).
    pub fn is_running(&mut self) -> bool {
        self.node.is_running()
    }

    /// Kill the process with `SIGKILL` and wait for it to exit: connections drop
    /// without a goodbye. Does nothing if it is not running.
    pub fn kill(&mut self) {
        self.node.kill();
    }

    /// `SIGSTOP`: the process stops where it is, its sockets open and silent, as a
    /// Redis host that hangs; what clients send meanwhile waits in its sockets.
    pub fn pause(&self) {
        self.node.signal("-STOP");
    }

    /// `SIGCONT`: a paused process carries on, and runs what waited in its sockets.
    pub fn resume(&self) {
        self.node.signal("-CONT");
    }

    /// Stop the process gracefully (`SHUTDOWN NOSAVE`) and wait for it to exit,
    /// killing it if it takes longer than 5 s. Does nothing if it is not running.
    pub async fn stop(&mut self) {
        self.node.stop().await;
    }

    /// Start a brand-new process on the same port with no data at all (the old
    /// process, if still running, is killed first, and its files are deleted).
    pub async fn restart_empty(&mut self) {
        self.node.kill();
        self.node.clear_data();
        self.node.respawn().await;
    }

    /// Start a new process on the same port that loads the data the previous one had
    /// (the old process, if still running, is killed first). Only for a server made
    /// with [`RedisServer::persistent`].
    pub async fn restart_with_data(&mut self) {
        assert!(
            self.persistent,
            "restart_with_data needs a server started with RedisServer::persistent() \
             (RedisServer::start() keeps nothing on disk)"
        );
        self.node.kill();
        self.node.respawn().await;
    }

    /// Keep a copy of the data files as they are now (the server goes on running), for
    /// [`RedisServer::restart_from_copy`]: a backup taken at this moment. Only for a
    /// server made with [`RedisServer::persistent`], whose every acknowledged write is
    /// on disk before it answers.
    pub fn save_copy(&self) {
        assert!(self.persistent, "save_copy needs RedisServer::persistent()");
        let copy = self.node.copy_dir();
        match fs::remove_dir_all(&copy) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => panic!("could not remove {}: {e}", copy.display()),
        }
        copy_tree(&self.node.data_dir(), &copy);
    }

    /// Start a new process on the same port from the copy [`RedisServer::save_copy`]
    /// kept (the old process is killed first): Redis comes back having lost every
    /// write made since, as after a restore of an older backup or a failover to a
    /// replica that lagged.
    pub async fn restart_from_copy(&mut self) {
        let copy = self.node.copy_dir();
        assert!(copy.is_dir(), "restart_from_copy needs save_copy first");
        self.node.kill();
        self.node.clear_data();
        copy_tree(&copy, &self.node.data_dir());
        self.node.respawn().await;
    }

    /// `CLIENT KILL TYPE pubsub`: every subscribed connection is dropped (as a proxy
    /// or a network blip would), the server keeps running. How many were dropped.
    pub async fn kill_pubsub(&self) -> u64 {
        kill_pubsub(self.node.port).await
    }
}

/// Copy a directory and everything in it.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("could not create {}: {e}", to.display()));
    let entries =
        fs::read_dir(from).unwrap_or_else(|e| panic!("could not read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("could not copy {}: {e}", entry.path().display()));
        }
    }
}

async fn kill_pubsub(port: u16) -> u64 {
    query(port, &["CLIENT", "KILL", "TYPE", "pubsub"])
        .await
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A Redis Cluster of three masters (no replicas) on free loopback ports, each node
/// in its own temporary directory.
pub struct RedisCluster {
    nodes: Vec<Node>,
}

impl RedisCluster {
    /// Start three cluster-enabled servers, join them with `redis-cli --cluster
    /// create` and wait until every node reports `cluster_state:ok`.
    pub async fn start() -> RedisCluster {
        let deadline = Instant::now() + CLUSTER_TIMEOUT;
        let mut nodes = Vec::with_capacity(3);
        for _ in 0..3 {
            // Each running node holds its port and bus port, so the next pick differs.
            nodes.push(Node::launch("redis-cluster", cluster_args(), free_cluster_port).await);
        }
        let cluster = RedisCluster { nodes };
        cluster.create(deadline).await;
        cluster.wait_ok(deadline).await;
        cluster
    }

    /// `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", hosts.join(","))
    }

    /// `redis://127.0.0.1:Pn` for each node.
    pub fn nodes(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.port))
            .collect()
    }

    /// The nodes' ports.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// `CLIENT KILL TYPE pubsub` on every node; how many connections were dropped.
    pub async fn kill_pubsub(&self) -> u64 {
        let mut n = 0;
        for node in &self.nodes {
            n += kill_pubsub(node.port).await;
        }
        n
    }

    /// Move `slot` (and its keys) from the master that holds it to the next one, as
    /// `redis-cli --cluster reshard` does one slot at a time: `IMPORTING` on the
    /// target, `MIGRATING` on the source, `MIGRATE` of every key, then `SETSLOT NODE`
    /// on every master. Returns the port of the new owner.
    pub async fn migrate_slot(&self, slot: u16) -> u16 {
        let slot = slot.to_string();
        let mut ids = Vec::new();
        for node in &self.nodes {
            ids.push(cli(node.port, &["CLUSTER", "MYID"]).trim().to_owned());
        }
        let owner = (0..self.nodes.len())
            .find(|&i| self.owns(i, &slot))
            .expect("a master owns every slot");
        let target = (owner + 1) % self.nodes.len();
        let (from, to) = (self.nodes[owner].port, self.nodes[target].port);
        cli(to, &["CLUSTER", "SETSLOT", &slot, "IMPORTING", &ids[owner]]);
        cli(
            from,
            &["CLUSTER", "SETSLOT", &slot, "MIGRATING", &ids[target]],
        );
        loop {
            let keys = cli(from, &["CLUSTER", "GETKEYSINSLOT", &slot, "100"]);
            let keys: Vec<&str> = keys
                .lines()
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .collect();
            if keys.is_empty() {
                break;
            }
            let port = to.to_string();
            let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
            args.extend(keys);
            cli(from, &args);
        }
        for node in &self.nodes {
            cli(
                node.port,
                &["CLUSTER", "SETSLOT", &slot, "NODE", &ids[target]],
            );
        }
        to
    }

    /// Whether node `i` serves `slot`, by its own line (`myself`) of `CLUSTER NODES`.
    fn owns(&self, i: usize, slot: &str) -> bool {
        let slot: u16 = slot.parse().expect("a slot number");
        let nodes = cli(self.nodes[i].port, &["CLUSTER", "NODES"]);
        nodes
            .lines()
            .find(|l| l.contains("myself"))
            .is_some_and(|line| {
                line.split_whitespace().skip(8).any(|range| {
                    let mut bounds = range.split('-').map(|b| b.parse::<u16>());
                    match (bounds.next(), bounds.next()) {
                        (Some(Ok(lo)), Some(Ok(hi))) => (lo..=hi).contains(&slot),
                        (Some(Ok(one)), None) => one == slot,
                        _ => false,
                    }
                })
            })
    }

    async fn create(&self, deadline: Instant) {
        let cli = binary("redis-cli");
        let mut command = tokio::process::Command::new(&cli);
        command.arg("--cluster").arg("create");
        for node in &self.nodes {
            command.arg(format!("127.0.0.1:{}", node.port));
        }
        command
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = match tokio::time::timeout_at(deadline.into(), command.output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => panic!("could not run {}: {e}", cli.display()),
            Err(_) => panic!("redis-cli --cluster create took more than {CLUSTER_TIMEOUT:?}"),
        };
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed ({}):\n{}\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.logs(),
        );
    }

    async fn wait_ok(&self, deadline: Instant) {
        for node in &self.nodes {
            loop {
                let info = query(node.port, &["CLUSTER", "INFO"]).await;
                if let Ok(info) = &info
                    && info.lines().any(|line| line.trim() == "cluster_state:ok")
                {
                    break;
                }
                if Instant::now() >= deadline {
                    panic!(
                        "the redis cluster did not reach cluster_state:ok within \
                         {CLUSTER_TIMEOUT:?}; node {} says {info:?}\n{}",
                        node.port,
                        self.logs()
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.log_tail())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One `redis-server` process and its directory, which survives restarts:
/// `ROOT/data` is its `--dir`, `ROOT/redis.log` collects its output.
struct Node {
    port: u16,
    root: TempDir,
    args: Vec<String>,
    child: Option<Child>,
}

/// Why a spawned server is not serving.
enum NotReady {
    /// It exited, most likely because its port was taken meanwhile.
    Exited(String),
    /// It is still running but did not answer in time.
    Timeout(String),
}

impl Node {
    /// Spawn a server on a port from `pick`, trying another port if it exits at once.
    async fn launch(kind: &str, args: Vec<String>, pick: fn() -> u16) -> Node {
        let bin = binary("redis-server");
        let root = TempDir::new(kind);
        let mut node = Node {
            port: 0,
            root,
            args,
            child: None,
        };
        node.clear_data();
        for attempt in 1..=SPAWN_ATTEMPTS {
            node.port = pick();
            match node.spawn_ready(&bin).await {
                Ok(()) => return node,
                Err(NotReady::Exited(_)) if attempt < SPAWN_ATTEMPTS => continue,
                Err(NotReady::Exited(why) | NotReady::Timeout(why)) => node.fail(&why),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Spawn a new process on the same port, retrying briefly if the port is busy.
    async fn respawn(&mut self) {
        let bin = binary("redis-server");
        for attempt in 1..=SPAWN_ATTEMPTS {
            match self.spawn_ready(&bin).await {
                Ok(()) => return,
                Err(NotReady::Exited(_)) if attempt < SPAWN_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(NotReady::Exited(why) | NotReady::Timeout(why)) => self.fail(&why),
            }
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        self.kill();
        panic!(
            "redis-server did not start on 127.0.0.1:{} within {START_TIMEOUT:?}: {why}\n{}",
            self.port,
            self.log_tail()
        );
    }

    async fn spawn_ready(&mut self, bin: &Path) -> Result<(), NotReady> {
        let log = self.open_log();
        let stderr = log.try_clone().expect("clone the redis log file handle");
        let child = Command::new(bin)
            .args(&self.args)
            .args(["--port", &self.port.to_string()])
            .arg("--dir")
            .arg(self.data_dir())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", bin.display()));
        let child = self.child.insert(child);
        let pid = child.id();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("poll redis-server") {
                self.child = None;
                return Err(NotReady::Exited(format!("it exited with {status}")));
            }
            // The server is ours (not another process on a reused port) and has loaded
            // its data when INFO shows our pid and loading:0.
            let info = query(self.port, &["INFO", "server", "persistence"]).await;
            if let Ok(info) = &info {
                let lines: Vec<&str> = info.lines().map(str::trim).collect();
                if lines.contains(&format!("process_id:{pid}").as_str())
                    && lines.contains(&"loading:0")
                {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(NotReady::Timeout(format!("last answer: {info:?}")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    fn signal(&self, which: &str) {
        let child = self.child.as_ref().expect("the server is running");
        let status = Command::new("kill")
            .arg(which)
            .arg(child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {which} failed");
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn stop(&mut self) {
        let Some(child) = &mut self.child else { return };
        // The server closes the connection without a reply; the exit is what counts.
        let _ = query(self.port, &["SHUTDOWN", "NOSAVE"]).await;
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                self.child = None;
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill();
    }

    fn data_dir(&self) -> PathBuf {
        self.root.path.join("data")
    }

    /// Where [`RedisServer::save_copy`] keeps its copy.
    fn copy_dir(&self) -> PathBuf {
        self.root.path.join("copy")
    }

    /// An empty data directory (the process must not be running).
    fn clear_data(&self) {
        let dir = self.data_dir();
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => panic!("could not remove {}: {e}", dir.display()),
        }
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("could not create {}: {e}", dir.display()));
    }

    fn log_path(&self) -> PathBuf {
        self.root.path.join("redis.log")
    }

    fn open_log(&self) -> File {
        let path = self.log_path();
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("could not open {}: {e}", path.display()))
    }

    /// The last lines the server printed, for a panic message.
    fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!(
            "--- redis-server on port {} ({}):\n{tail}",
            self.port,
            self.log_path().display()
        )
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn ephemeral_args() -> Vec<String> {
    base_args(&["--appendonly", "no"])
}

fn persistent_args() -> Vec<String> {
    base_args(&["--appendonly", "yes", "--appendfsync", "always"])
}

fn cluster_args() -> Vec<String> {
    base_args(&[
        "--appendonly",
        "no",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        "2000",
    ])
}

fn base_args(extra: &[&str]) -> Vec<String> {
    [
        "--save",
        "",
        "--bind",
        "127.0.0.1",
        "--protected-mode",
        "no",
    ]
    .iter()
    .chain(extra)
    .map(|s| (*s).to_owned())
    .collect()
}

/// Send one command and read one reply: the text of a simple or bulk string or an
/// integer; an error reply is an `Err`.
async fn query(port: u16, args: &[&str]) -> io::Result<String> {
    let exchange = async {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes()).await?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let line = line.trim_end();
        match line.split_at_checked(1) {
            Some(("+" | ":", rest)) => Ok(rest.to_owned()),
            Some(("-", rest)) => Err(io::Error::other(rest.to_owned())),
            Some(("$", len)) => {
                let len: usize = len
                    .parse()
                    .map_err(|_| io::Error::other(format!("bad reply {line:?}")))?;
                let mut body = vec![0; len + 2];
                reader.read_exact(&mut body).await?;
                body.truncate(len);
                String::from_utf8(body).map_err(io::Error::other)
            }
            _ => Err(io::Error::other(format!("unexpected reply {line:?}"))),
        }
    };
    tokio::time::timeout(PROBE_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "no reply")))
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A free loopback port below 55000 whose cluster bus port (port + 10000) is free too.
fn free_cluster_port() -> u16 {
    for _ in 0..1000 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        if port < 55000 && TcpListener::bind((Ipv4Addr::LOCALHOST, port + 10000)).is_ok() {
            return port;
        }
    }
    panic!("found no free loopback port P below 55000 with P + 10000 free too");
}

/// Run one command with `redis-cli` against the node on `port`: its raw output (an
/// array reply one element a line). A cluster operation that fails is a panic.
fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new(binary("redis-cli"))
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && !text.starts_with("ERR") && !text.starts_with("(error)"),
        "redis-cli -p {port} {args:?} failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The path of a Redis binary, or a panic telling how to install it.
fn binary(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([Path::new("/usr/bin").join(name)])
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed: run tests/run.sh, which installs it"))
}

/// A directory under the system's temporary directory, removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(kind: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir()
                .join(format!("kindred-{kind}-{}-{n}-{nanos}", std::process::id()));
            match fs::create_dir(&path) {
                Ok(()) => return TempDir { path },
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("could not create {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Redis Cluster's key slot (CRC16/XMODEM of the hash tag, mod 16384): the slot a
/// room's keys (`kindred:{ROOM}:…`) live in is `key_slot("{ROOM}")`.
pub fn key_slot(key: &str) -> u16 {
    let bytes = key.as_bytes();
    let tagged = key
        .find('{')
        .and_then(|open| key[open + 1..].find('}').map(|len| (open + 1, len)))
        .filter(|(_, len)| *len > 0)
        .map_or(bytes, |(start, len)| &bytes[start..start + len]);
    let mut crc: u16 = 0;
    for b in tagged {
        crc ^= u16::from(*b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}
