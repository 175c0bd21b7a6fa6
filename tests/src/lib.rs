//! Test harness for Kindred's integration tests: start real servers on free ports,
//! create rooms and members through the real HTTP API, and read frames from real
//! sockets with timeouts (a test never hangs; it fails with what it was waiting for).

pub mod faults;
pub mod nginx;
pub mod process;
pub mod redis;
pub mod relay;
pub mod sealed;

use std::time::Duration;

use kindred::{Config, Running};
use kindred_protocol::client::{ClientError, ConnectOptions, Connection, Http, Outcome, Received};
use kindred_protocol::http::{CreateInvite, CreateRoom, JoinRequest, JoinResponse};
use kindred_protocol::policy::{ContentPolicy, Kinds, PolicyMode};
use kindred_protocol::{
    ClientFrame, Epoch, ErrorCode, ErrorFrame, ModAction, RoomId, Seq, ServerFrame, UserId, Welcome,
};

pub use kindred;
pub use kindred_protocol;

/// The admin token every test server uses (the server wants at least 32 bytes).
pub const ADMIN: &str = "test-admin-token-0123456789abcdef";
/// The signing secret every test server uses (tests forge tokens with it; at least 32
/// bytes).
pub const SECRET: &str = "test-secret-0123456789abcdef0123456789";
/// How long a test waits for a frame before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// A configuration for tests: a free port, fixed tokens, no demo room, limits roomy
/// enough that only the test that probes a limit meets it, and a public room list
/// read afresh on every call (`room_list` tests the cache, with its default).
pub fn config() -> Config {
    let mut c = Config::default();
    c.edge.bind = "127.0.0.1:0".parse().expect("valid address");
    c.tokens.admin_token = Some(ADMIN.to_owned());
    c.tokens.secret = Some(SECRET.to_owned());
    c.storage.redis_url = None;
    c.operations.demo_room = false;
    let rates = &mut c.rates;
    rates.frames_per_second = 1_000;
    rates.frame_burst = 1_000;
    rates.messages_per_minute = 100_000;
    rates.message_burst = 10_000;
    rates.moderation_per_minute = 100_000;
    rates.moderation_burst = 10_000;
    rates.joins_per_minute_per_ip = 10_000;
    rates.room_list_per_minute_per_ip = 10_000;
    rates.room_list_cache_ms = 0;
    c
}

/// Which broker the shared suite runs against: `KINDRED_TEST_BROKER=redis` runs every
/// integration test against the Redis broker, each server with a `redis-server` of its
/// own; unset (or `memory`), against the in-memory broker. `tests/run.sh` runs the
/// suite both ways: one conformance suite, two brokers.
pub fn redis_broker_selected() -> bool {
    match std::env::var("KINDRED_TEST_BROKER").as_deref() {
        Ok("redis") => true,
        Ok("memory") | Err(_) => false,
        Ok(other) => panic!("KINDRED_TEST_BROKER={other}: expected `memory` or `redis`"),
    }
}

/// A server running in this process on a real socket.
pub struct TestServer {
    pub running: Running,
    pub http: Http,
    /// The Redis this server owns, when the suite runs against the Redis broker.
    pub redis: Option<redis::RedisServer>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::with(config()).await
    }

    /// A server with this configuration; when the suite runs against Redis and the
    /// configuration names none, the server gets a `redis-server` of its own.
    pub async fn with(mut config: Config) -> Self {
        let mut own = None;
        if config.storage.redis_url.is_none() && redis_broker_selected() {
            let server = redis::RedisServer::start().await;
            config.storage.redis_url = Some(server.url());
            own = Some(server);
        }
        let running = kindred::start(config).await.expect("server starts");
        let http = Http::new(format!("http://{}", running.addr));
        Self {
            running,
            http,
            redis: own,
        }
    }

    /// A server on the in-memory broker, whichever broker the suite runs against (a
    /// test that compares the two brokers needs one of each).
    pub async fn in_memory(config: Config) -> Self {
        assert!(
            config.storage.redis_url.is_none(),
            "an in-memory server names no Redis"
        );
        let running = kindred::start(config).await.expect("server starts");
        let http = Http::new(format!("http://{}", running.addr));
        Self {
            running,
            http,
            redis: None,
        }
    }

    /// An instance sharing rooms through the Redis at `url` (a cluster URL works too).
    pub async fn on_redis(url: &str) -> Self {
        let mut c = config();
        c.storage.redis_url = Some(url.to_owned());
        Self::with(c).await
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.running.addr)
    }

    pub fn ws_url(&self) -> String {
        self.http.ws_url()
    }

    /// Create a public room with this capacity.
    pub async fn room(&self, capacity: u32) -> RoomId {
        self.http
            .create_room(
                ADMIN,
                &CreateRoom {
                    title: "Tuesday evening group".into(),
                    topic: "Anxiety".into(),
                    capacity: Some(capacity),
                    // In session from the start, as if its facilitator had opened it, and
                    // not held while no facilitator is present (the tests of a held
                    // room create their own).
                    open: Some(true),
                    facilitated: Some(false),
                    ..CreateRoom::default()
                },
            )
            .await
            .expect("room created")
            .id
    }

    /// Create a room with these settings (the title is the tests' usual one when the
    /// settings leave it empty).
    pub async fn room_with(&self, mut settings: CreateRoom) -> RoomId {
        if settings.title.is_empty() {
            settings.title = "Tuesday evening group".into();
        }
        self.http
            .create_room(ADMIN, &settings)
            .await
            .expect("room created")
            .id
    }

    /// Join over HTTP as a participant.
    pub async fn join(&self, room: RoomId, name: &str) -> Result<JoinResponse, ClientError> {
        self.http
            .join(
                room,
                &JoinRequest {
                    name: name.into(),
                    accept_guidelines: true,
                    ..JoinRequest::default()
                },
            )
            .await
    }

    /// Join over HTTP with a facilitator invite.
    pub async fn join_facilitator(&self, room: RoomId, name: &str) -> JoinResponse {
        let invite = self
            .http
            .invite(ADMIN, room, &CreateInvite::default())
            .await
            .expect("invite minted");
        self.http
            .join(
                room,
                &JoinRequest {
                    name: name.into(),
                    accept_guidelines: true,
                    invite: invite.token,
                    ..JoinRequest::default()
                },
            )
            .await
            .expect("facilitator joins")
    }

    /// Join and connect: a member in the room with the welcome read.
    pub async fn member(&self, room: RoomId, name: &str) -> Member {
        let joined = self.join(room, name).await.expect("join accepted");
        self.connect(joined).await
    }

    /// A facilitator in the room.
    pub async fn facilitator(&self, room: RoomId, name: &str) -> Member {
        let joined = self.join_facilitator(room, name).await;
        self.connect(joined).await
    }

    /// Say hello with a join's token.
    pub async fn connect(&self, joined: JoinResponse) -> Member {
        let (conn, welcome, backlog) = Connection::hello(&self.ws_url(), &joined.token, None)
            .await
            .expect("hello accepted");
        Member::new(conn, welcome, backlog, joined)
    }

    /// Reconnect a member who lost their connection, resuming after `last_seq`.
    pub async fn resume(&self, joined: JoinResponse, last_seq: Seq, epoch: Epoch) -> Member {
        let (conn, welcome, backlog) =
            Connection::hello(&self.ws_url(), &joined.token, Some((last_seq, epoch)))
                .await
                .expect("resume accepted");
        Member::new(conn, welcome, backlog, joined)
    }

    /// A member whose room went on under a new epoch (Redis's process changed, or it
    /// lost entries) is asked to resume and catch up (4008); they resume here and are
    /// given the room afresh (`reset`), with its history.
    pub async fn resume_after_reset(&self, mut member: Member) -> Member {
        let (code, _) = member.closed().await;
        assert_eq!(
            code,
            kindred_protocol::close_code::SLOW_CONSUMER,
            "asked to resume and catch up"
        );
        let epoch = member.epoch();
        let mut again = self
            .resume(member.joined.clone(), member.last_seq, epoch)
            .await;
        // What they say next is new, not a resend: the room remembers the client ids it
        // was sent before.
        again.next_client_id = member.next_client_id;
        assert_eq!(
            again.welcome.resume,
            kindred_protocol::ResumeKind::Reset,
            "the room went on under a new epoch"
        );
        again
    }

    /// A member whose socket has a tiny receive buffer (a slow reader).
    pub async fn slow_member(&self, room: RoomId, name: &str) -> Member {
        let joined = self.join(room, name).await.expect("join accepted");
        let conn = Connection::open_with(
            &self.ws_url(),
            ConnectOptions {
                recv_buffer: Some(4096),
                ..ConnectOptions::default()
            },
        )
        .await
        .expect("socket opens");
        let (conn, welcome, backlog) = conn.handshake(&joined.token, None).await.expect("hello");
        Member::new(conn, welcome, backlog, joined)
    }

    /// An open socket that has not said hello.
    pub async fn raw(&self) -> Connection {
        Connection::open(&self.ws_url())
            .await
            .expect("socket opens")
    }

    /// Stop the server and wait until it has.
    /// Say `hello` with `token` on a new connection that the server is expected to
    /// refuse: the `error` it answers with, and the code it closes with.
    pub async fn hello_refused(&self, token: &str) -> (ErrorFrame, u16) {
        let mut raw = self.raw().await;
        raw.send(&ClientFrame::Hello {
            first_time: false,
            token: token.to_owned(),
            last_seq: None,
            epoch: None,
        })
        .await
        .expect("hello sent");
        let error = next_error(&mut raw).await;
        (error, closed(&mut raw).await.0)
    }

    pub async fn stop(self) {
        self.running.shutdown();
        let _ = tokio::time::timeout(WAIT, self.running.done).await;
    }
}

/// The optional fields of a `mod` frame.
#[derive(Clone, Debug, Default)]
pub struct ModArgs {
    pub user: Option<UserId>,
    pub seq: Option<Seq>,
    pub seconds: Option<u32>,
    pub reason: Option<String>,
    pub text: Option<String>,
    pub held: Option<u64>,
    pub policy: Option<ContentPolicy>,
    pub on: Option<bool>,
    pub report: Option<u64>,
    pub alert: Option<u64>,
    pub ban: Option<bool>,
    pub index: Option<u32>,
    pub script: Option<Vec<kindred_protocol::Phase>>,
    pub cw: Option<String>,
}

impl ModArgs {
    pub fn user(user: UserId) -> Self {
        Self {
            user: Some(user),
            ..Self::default()
        }
    }

    /// The `mod` frame these arguments make, for `action` under `client_id`.
    pub fn frame(self, client_id: impl Into<String>, action: ModAction) -> ClientFrame {
        ClientFrame::Mod {
            client_id: client_id.into(),
            action,
            user: self.user,
            seq: self.seq,
            seconds: self.seconds,
            reason: self.reason,
            text: self.text,
            held: self.held,
            policy: self.policy,
            on: self.on,
            report: self.report,
            alert: self.alert,
            ban: self.ban,
            index: self.index,
            script: self.script,
            cw: self.cw,
        }
    }
}

/// A connected member and what they have seen.
pub struct Member {
    pub conn: Connection,
    pub welcome: Welcome,
    pub backlog: Vec<ServerFrame>,
    pub joined: JoinResponse,
    /// The highest seq seen, for resuming.
    pub last_seq: Seq,
    /// The number of this member's last client id (`c1`, `c2`, …): a member who
    /// resumes with [`TestServer::resume`] starts again from 1, as a client resending
    /// what it had in flight does.
    next_client_id: u64,
}

impl Member {
    /// A member who joined (`joined`) connects to the instance at `ws_url`: another
    /// process's, or another server's than the one that admitted them.
    pub async fn connect_to(ws_url: &str, joined: JoinResponse) -> Member {
        let (conn, welcome, backlog) = Connection::hello(ws_url, &joined.token, None)
            .await
            .expect("hello accepted");
        Member::new(conn, welcome, backlog, joined)
    }

    /// A member on a connection whose `hello` was answered with `welcome` and `backlog`.
    pub fn new(
        conn: Connection,
        welcome: Welcome,
        backlog: Vec<ServerFrame>,
        joined: JoinResponse,
    ) -> Self {
        let last_seq = backlog
            .iter()
            .filter_map(ServerFrame::seq)
            .max()
            .unwrap_or(welcome.seq)
            .max(welcome.seq);
        Self {
            conn,
            welcome,
            backlog,
            joined,
            last_seq,
            next_client_id: 0,
        }
    }

    pub fn user(&self) -> UserId {
        self.joined.user_id
    }

    pub fn epoch(&self) -> Epoch {
        self.welcome.epoch
    }

    /// Whether the history this member was given on arrival holds a message with this
    /// text.
    pub fn was_given(&self, text: &str) -> bool {
        self.backlog
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { text: t, .. } if t == text))
    }

    /// Send a frame.
    pub async fn send(&mut self, frame: ClientFrame) {
        self.conn.send(&frame).await.expect("frame sent");
    }

    /// Send a message; returns its client_id.
    pub async fn say(&mut self, text: &str) -> String {
        self.next_client_id += 1;
        let client_id = format!("c{}", self.next_client_id);
        self.send(ClientFrame::Send {
            client_id: client_id.clone(),
            guard: None,
            text: text.into(),
            cw: None,
        })
        .await;
        client_id
    }

    /// Send a message and wait for its ack; returns the seq it got.
    pub async fn say_acked(&mut self, text: &str) -> Seq {
        let id = self.say(text).await;
        self.ack(&id).await.expect("message accepted")
    }

    /// Send a moderation command and wait for its ack (the seq of its last event, or
    /// 0 when it changed nothing) or its error.
    pub async fn moderate(&mut self, action: ModAction, args: ModArgs) -> Result<Seq, ErrorFrame> {
        self.next_client_id += 1;
        let client_id = format!("m{}", self.next_client_id);
        self.send(args.frame(client_id.clone(), action)).await;
        self.ack(&client_id).await
    }

    /// As a facilitator, set the room's content policy (waits for the ack).
    pub async fn set_policy(&mut self, mode: PolicyMode, kinds: Kinds) {
        self.moderate(
            ModAction::SetPolicy,
            ModArgs {
                policy: Some(ContentPolicy {
                    mode,
                    kinds,
                    ..ContentPolicy::default()
                }),
                ..ModArgs::default()
            },
        )
        .await
        .expect("facilitators set the policy");
    }

    /// Wait for the ack (Ok(seq)) or error (Err) of a command: the seq it was applied
    /// at, or 0 for a `mod` that changed nothing. A held message has no seq: its ack
    /// fails the test here (wait with [`Member::outcome`] for one that may be held).
    pub async fn ack(&mut self, client_id: &str) -> Result<Seq, ErrorFrame> {
        match self.outcome(client_id).await? {
            Outcome::Applied(seq) => Ok(seq),
            Outcome::Unchanged => Ok(0),
            Outcome::Held => panic!(
                "`{client_id}` was held for a facilitator's review, not applied (see Member::outcome)"
            ),
        }
    }

    /// Wait for the ack or error of a command: what its ack says happened.
    pub async fn outcome(&mut self, client_id: &str) -> Result<Outcome, ErrorFrame> {
        let id = client_id.to_owned();
        self.until(|f| match f {
            ServerFrame::Ack {
                client_id,
                seq,
                held,
            } if *client_id == id => Some(Ok(
                Outcome::of(*seq, *held).unwrap_or_else(|e| panic!("the ack of `{id}`: {e}"))
            )),
            ServerFrame::Error(e) if e.client_id.as_deref() == Some(id.as_str()) => {
                Some(Err(e.clone()))
            }
            _ => None,
        })
        .await
    }

    /// The next frame, within [`WAIT`]. Tracks `last_seq`.
    pub async fn next(&mut self) -> ServerFrame {
        let frame = tokio::time::timeout(WAIT, self.conn.next_frame())
            .await
            .expect("a frame arrives in time")
            .expect("the connection is open");
        if let Some(seq) = frame.seq() {
            self.last_seq = self.last_seq.max(seq);
        }
        frame
    }

    /// Read frames until `pick` returns Some, within [`WAIT`].
    pub async fn until<T>(&mut self, mut pick: impl FnMut(&ServerFrame) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.conn.next_frame())
                .await
                .expect("the awaited frame arrives in time")
                .expect("the connection is open");
            if let Some(seq) = frame.seq() {
                self.last_seq = self.last_seq.max(seq);
            }
            if let Some(v) = pick(&frame) {
                return v;
            }
        }
    }

    /// Wait for a message with this text; returns its seq.
    pub async fn hears(&mut self, text: &str) -> Seq {
        self.until(|f| match f {
            ServerFrame::Message { seq, text: t, .. } if t == text => Some(*seq),
            _ => None,
        })
        .await
    }

    /// Every frame this member is given before the message `marker`, in order. How a
    /// test shows that something did not arrive: `marker` is said (by anyone) after
    /// the thing that must not reach this member, so had it been sent, it would be in
    /// what comes back. The marker's own ack, if this member said it, is among them.
    pub async fn frames_before(&mut self, marker: &str) -> Vec<ServerFrame> {
        let mut frames = Vec::new();
        self.until(|f| match f {
            ServerFrame::Message { text, .. } if text == marker => Some(()),
            _ => {
                frames.push(f.clone());
                None
            }
        })
        .await;
        frames
    }

    /// Say `marker` and return every frame given before it comes back (see
    /// [`Member::frames_before`]); unlike [`Member::say_acked`], nothing is read past
    /// unseen.
    pub async fn frames_until_said(&mut self, marker: &str) -> Vec<ServerFrame> {
        self.say(marker).await;
        self.frames_before(marker).await
    }

    /// Wait for an error frame with this code.
    pub async fn error(&mut self, code: ErrorCode) -> ErrorFrame {
        self.until(|f| match f {
            ServerFrame::Error(e) if e.code == code => Some(e.clone()),
            _ => None,
        })
        .await
    }

    /// Read until the server closes; returns the close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        closed(&mut self.conn).await
    }
}

/// Read until the server closes; returns the close code and reason.
pub async fn closed(conn: &mut Connection) -> (u16, String) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, conn.recv())
            .await
            .expect("the server closes in time")
        {
            Ok(Received::Closed { code, reason }) => return (code, reason),
            Ok(Received::Text(_)) => continue,
            // A reset after the close frame counts as closed without a code.
            Err(_) => return (1006, String::new()),
        }
    }
}

/// Read the next error frame from a raw connection.
pub async fn next_error(conn: &mut Connection) -> ErrorFrame {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let frame = tokio::time::timeout_at(deadline, conn.next_frame())
            .await
            .expect("an error frame arrives in time")
            .expect("the connection is open");
        if let ServerFrame::Error(e) = frame {
            return e;
        }
    }
}

/// The conversation goes on: `a` says something and `b` hears it.
pub async fn conversation_continues(a: &mut Member, b: &mut Member, text: &str) {
    let seq = a.say_acked(text).await;
    let heard = b.hears(text).await;
    assert_eq!(
        heard, seq,
        "the listener hears the message at the seq its author was told"
    );
}
