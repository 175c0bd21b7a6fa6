//! The docker-compose topology without containers: a real `redis-server`, two real
//! `kindred` processes sharing their rooms through it, and Debian's nginx in front with
//! the repository's own site configuration (`deploy/nginx/kindred.conf`). Members
//! reach Kindred only through the proxy, as in `docker-compose.yml`, and the instances
//! are configured as there: `KINDRED_PUBLIC_URL` is the proxy's address and
//! `KINDRED_TRUST_FORWARDED_FOR=true`.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kindred_protocol::client::{Connection, Http};
use kindred_protocol::http::{CreateInvite, CreateRoom, JoinRequest, JoinResponse};
use kindred_protocol::{
    ClientFrame, Epoch, LeftReason, ResumeKind, Seq, ServerFrame, UserId, Welcome,
};
use kindred_tests::nginx::Nginx;
use kindred_tests::process::Instance;
use kindred_tests::redis::RedisServer;
use kindred_tests::{ADMIN, WAIT};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The site configuration docker-compose.yml mounts into the nginx container.
const SITE: &str = include_str!("../../../deploy/nginx/kindred.conf");
/// A reconnect through the proxy is tried this many times, this far apart.
const RECONNECT_TRIES: usize = 10;
const RECONNECT_PAUSE: Duration = Duration::from_millis(300);
/// How long a member whose connection dropped stays in the room (grace and away limit
/// alike), for these instances: short, so that a member wrongly marked away would be
/// seen leaving within the test.
const PRESENCE_GRACE: Duration = Duration::from_secs(1);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Redis, two Kindred instances and the proxy in front of them.
struct Topology {
    // Fields drop in declaration order: the proxy, the instances, then Redis.
    http: Http,
    proxy: Nginx,
    instances: Vec<Instance>,
    /// Each instance's metrics address (`KINDRED_METRICS_BIND`; never the public port).
    metrics: Vec<SocketAddr>,
    _redis: RedisServer,
}

impl Topology {
    async fn start() -> Topology {
        let redis = RedisServer::start().await;
        // The proxy must know the instances' addresses and the instances the proxy's
        // (their public URL): hold two ports while nginx starts, then give them to
        // the instances. nginx needs no upstream to be up to start.
        // Two more ports for the instances' metrics listeners.
        let held: Vec<TcpListener> = (0..4)
            .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0"))
            .collect();
        let mut addrs: Vec<SocketAddr> = held
            .iter()
            .map(|l| l.local_addr().expect("local address"))
            .collect();
        let metrics = addrs.split_off(2);
        let proxy = Nginx::start_proxy(&addrs, SITE).await;
        drop(held);
        let public_url = proxy.base();
        let grace = PRESENCE_GRACE.as_millis().to_string();
        let instances: Vec<Instance> = addrs
            .iter()
            .zip(&metrics)
            .map(|(addr, metrics)| {
                let bind = addr.to_string();
                let metrics_bind = metrics.to_string();
                let instance = Instance::start(
                    &redis.url(),
                    &[
                        ("KINDRED_BIND", bind.as_str()),
                        ("KINDRED_METRICS_BIND", metrics_bind.as_str()),
                        ("KINDRED_PUBLIC_URL", public_url.as_str()),
                        ("KINDRED_TRUST_FORWARDED_FOR", "true"),
                        ("KINDRED_PRESENCE_GRACE_MS", grace.as_str()),
                        ("KINDRED_AWAY_LIMIT_MS", grace.as_str()),
                    ],
                );
                assert_eq!(
                    instance.addr, *addr,
                    "the instance listens where the proxy expects it"
                );
                instance
            })
            .collect();
        for (i, instance) in instances.iter().enumerate() {
            let deadline = Instant::now() + WAIT;
            while !instance.ready().await {
                assert!(
                    Instant::now() < deadline,
                    "instance {i} ({}) is not ready after {WAIT:?}",
                    instance.addr
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Topology {
            http: Http::new(proxy.base()),
            proxy,
            instances,
            metrics,
            _redis: redis,
        }
    }

    /// `ws://PROXY/ws`
    fn ws_url(&self) -> String {
        self.http.ws_url()
    }

    /// The origin a browser sends for pages served by the proxy.
    fn origin(&self) -> String {
        self.proxy.base()
    }

    /// Open WebSocket connections on each instance, read from its own metrics (not
    /// through the proxy), once they add up to `total`.
    async fn connections_per_instance(&self, total: usize) -> Vec<usize> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        let deadline = Instant::now() + WAIT;
        loop {
            let mut counts = Vec::new();
            for metrics in &self.metrics {
                let body = client
                    .get(format!("http://{metrics}/metrics"))
                    .send()
                    .await
                    .expect("metrics answer")
                    .text()
                    .await
                    .expect("metrics body");
                let count = body
                    .lines()
                    .find_map(|l| l.strip_prefix("kindred_connections "))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or_else(|| panic!("no kindred_connections gauge in:\n{body}"));
                counts.push(count);
            }
            if counts.iter().sum::<usize>() == total {
                return counts;
            }
            assert!(
                Instant::now() < deadline,
                "the instances report {counts:?} open connections, expected {total} in all"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// How a member's WebSocket is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Client {
    /// The web client in a browser: every upgrade carries the page's `Origin`.
    Browser,
    /// An app (the crate's client): no `Origin`.
    App,
}

/// Open a WebSocket through the proxy, say hello, read the welcome and its backlog;
/// `Err` says why it did not work (the caller decides whether to try again).
async fn open(
    topo: &Topology,
    client: Client,
    token: &str,
    resume: Option<(Seq, Epoch)>,
) -> Result<(Ws, Welcome, Vec<ServerFrame>), String> {
    let attempt = async {
        match client {
            Client::App => Connection::hello(&topo.ws_url(), token, resume)
                .await
                .map(|(conn, welcome, backlog)| (conn.into_inner(), welcome, backlog))
                .map_err(|e| e.to_string()),
            Client::Browser => browser_hello(topo, token, resume).await,
        }
    };
    tokio::time::timeout(WAIT, attempt)
        .await
        .unwrap_or_else(|_| Err(format!("no welcome within {WAIT:?}")))
}

/// The upgrade a browser sends from a page on `origin`, through the proxy.
async fn browser_upgrade(topo: &Topology, origin: &str) -> Result<Ws, WsError> {
    let mut request = topo.ws_url().into_client_request()?;
    request
        .headers_mut()
        .insert("origin", origin.parse().expect("a header value"));
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(ws)
}

/// What the web client does: open with the page's Origin, send the hello as JSON,
/// expect `welcome` and its backlog.
async fn browser_hello(
    topo: &Topology,
    token: &str,
    resume: Option<(Seq, Epoch)>,
) -> Result<(Ws, Welcome, Vec<ServerFrame>), String> {
    let mut ws = browser_upgrade(topo, &topo.origin())
        .await
        .map_err(|e| format!("upgrade with Origin {}: {e}", topo.origin()))?;
    let hello = ClientFrame::Hello {
        first_time: false,
        token: token.to_owned(),
        last_seq: resume.map(|r| r.0),
        epoch: resume.map(|r| r.1),
    };
    let hello = serde_json::to_string(&hello).expect("hello encodes");
    ws.send(Message::text(hello))
        .await
        .map_err(|e| format!("sending hello: {e}"))?;
    let welcome = match read_frame(&mut ws).await? {
        ServerFrame::Welcome(w) => w,
        other => return Err(format!("expected welcome, got {other:?}")),
    };
    let mut backlog = Vec::new();
    while backlog.len() < welcome.backlog as usize {
        let frame = read_frame(&mut ws).await?;
        if frame.seq().is_some() {
            backlog.push(frame);
        }
    }
    Ok((ws, welcome, backlog))
}

/// The next frame; `Err` when the connection ended (closed, reset, or cut by the proxy).
async fn read_frame(ws: &mut Ws) -> Result<ServerFrame, String> {
    loop {
        match ws.next().await {
            None => return Err("the connection ended".into()),
            Some(Err(e)) => return Err(format!("the connection failed: {e}")),
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str())
                    .map_err(|e| format!("not a frame ({e}): {}", text.as_str()));
            }
            Some(Ok(Message::Close(frame))) => return Err(format!("closed: {frame:?}")),
            Some(Ok(_)) => continue,
        }
    }
}

/// A member talking through the proxy, and every timeline frame they were given.
struct Peer {
    name: &'static str,
    client: Client,
    joined: JoinResponse,
    ws: Ws,
    epoch: Epoch,
    last_seq: Seq,
    seen: BTreeMap<Seq, ServerFrame>,
    next_id: u64,
}

impl Peer {
    async fn connect(
        topo: &Topology,
        name: &'static str,
        client: Client,
        joined: JoinResponse,
    ) -> Peer {
        let (ws, welcome, backlog) = open(topo, client, &joined.token, None)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{name} ({client:?}) cannot connect through the proxy: {e}\n--- nginx:\n{}",
                    topo.proxy.log()
                )
            });
        assert_eq!(welcome.resume, ResumeKind::Fresh);
        assert_eq!(welcome.you.user, joined.user_id);
        let mut peer = Peer {
            name,
            client,
            joined,
            ws,
            epoch: welcome.epoch,
            last_seq: welcome.seq,
            seen: BTreeMap::new(),
            next_id: 0,
        };
        for frame in &backlog {
            peer.record(frame);
        }
        peer
    }

    /// Keep a timeline frame; the same seq twice is a failure (resume is exact).
    fn record(&mut self, frame: &ServerFrame) {
        if let Some(seq) = frame.seq() {
            if let Some(before) = self.seen.insert(seq, frame.clone()) {
                panic!(
                    "{} was given seq {seq} twice: {before:?}, then {frame:?}",
                    self.name
                );
            }
            self.last_seq = self.last_seq.max(seq);
        }
    }

    fn client_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}-{}", self.name.to_lowercase(), self.next_id)
    }

    /// The next frame before `deadline`; `Err` when the connection ended.
    async fn next(&mut self, deadline: Instant, waiting_for: &str) -> Result<ServerFrame, String> {
        let frame = tokio::time::timeout_at(deadline, read_frame(&mut self.ws))
            .await
            .unwrap_or_else(|_| panic!("{}: no {waiting_for} within {WAIT:?}", self.name))?;
        self.record(&frame);
        Ok(frame)
    }

    /// Send a message and wait for its ack: `Ok(seq)`, or `Err` when the connection
    /// turned out to be gone.
    async fn say(&mut self, client_id: &str, text: &str) -> Result<Seq, String> {
        let frame = ClientFrame::Send {
            client_id: client_id.to_owned(),
            guard: None,
            text: text.to_owned(),
            cw: None,
        };
        let json = serde_json::to_string(&frame).expect("send encodes");
        self.ws
            .send(Message::text(json))
            .await
            .map_err(|e| format!("sending: {e}"))?;
        let deadline = Instant::now() + WAIT;
        let waiting_for = format!("ack for {client_id} ({text:?})");
        loop {
            match self.next(deadline, &waiting_for).await? {
                ServerFrame::Ack {
                    client_id: id,
                    seq,
                    held,
                } if id == client_id => {
                    assert!(!held, "{}: {text:?} was held for review", self.name);
                    return Ok(seq.unwrap_or_else(|| {
                        panic!("{}: the ack for {text:?} has no seq", self.name)
                    }));
                }
                ServerFrame::Error(e) if e.client_id.as_deref() == Some(client_id) => {
                    panic!("{}: {text:?} was refused: {e:?}", self.name)
                }
                _ => {}
            }
        }
    }

    /// Send a message on a connection that must be alive.
    async fn say_acked(&mut self, text: &str) -> Seq {
        let id = self.client_id();
        let name = self.name;
        self.say(&id, text)
            .await
            .unwrap_or_else(|e| panic!("{name} lost the connection saying {text:?}: {e}"))
    }

    /// Wait until the message at `seq` has reached this member (live, or earlier in a
    /// welcome backlog) and check it is `text`.
    async fn hears(&mut self, seq: Seq, text: &str) {
        let deadline = Instant::now() + WAIT;
        let waiting_for = format!("message {text:?} at seq {seq}");
        loop {
            if let Some(frame) = self.seen.get(&seq) {
                assert!(
                    matches!(frame, ServerFrame::Message { text: t, .. } if t == text),
                    "{} expected {waiting_for}, but seq {seq} is {frame:?}",
                    self.name
                );
                return;
            }
            if let Err(e) = self.next(deadline, &waiting_for).await {
                panic!(
                    "{} lost the connection waiting for {waiting_for}: {e}",
                    self.name
                );
            }
        }
    }

    /// Wait until this member has been given `user`'s `left` (live, or in a backlog),
    /// and say why they left. The wait is long: it spans an instance being declared
    /// gone and a presence grace.
    async fn sees_leave(&mut self, user: UserId) -> LeftReason {
        let deadline = Instant::now() + 3 * WAIT;
        loop {
            let reason = self.seen.values().find_map(|f| match f {
                ServerFrame::Left {
                    user: u, reason, ..
                } if *u == user => Some(*reason),
                _ => None,
            });
            if let Some(reason) = reason {
                return reason;
            }
            if let Err(e) = self.next(deadline, "a member leaving").await {
                panic!("{} lost the connection waiting for a leave: {e}", self.name);
            }
        }
    }

    /// Reconnect through the proxy resuming after `last_seq`, trying again a few times
    /// (nginx may first pick the dead upstream); returns the welcome and the backlog.
    async fn resume(&mut self, topo: &Topology) -> (Welcome, Vec<ServerFrame>, usize) {
        let mut failures = Vec::new();
        for attempt in 1..=RECONNECT_TRIES {
            let resume = Some((self.last_seq, self.epoch));
            match open(topo, self.client, &self.joined.token, resume).await {
                Ok((ws, welcome, backlog)) => {
                    self.ws = ws;
                    for frame in &backlog {
                        self.record(frame);
                    }
                    return (welcome, backlog, attempt);
                }
                Err(e) => {
                    failures.push(format!("attempt {attempt}: {e}"));
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                }
            }
        }
        panic!(
            "{} could not reconnect through the proxy:\n{}\n--- nginx:\n{}",
            self.name,
            failures.join("\n"),
            topo.proxy.log()
        );
    }
}

/// Each member says something; every other member hears it at the seq its author was
/// acknowledged with.
async fn round(peers: &mut [Peer], what: &str, timeline: &mut BTreeMap<Seq, String>) {
    for i in 0..peers.len() {
        let text = format!("{} {what}", peers[i].name);
        let seq = peers[i].say_acked(&text).await;
        timeline.insert(seq, text.clone());
        for (j, other) in peers.iter_mut().enumerate() {
            if j != i {
                other.hears(seq, &text).await;
            }
        }
    }
}

#[tokio::test]
async fn a_session_through_the_proxy_goes_on_when_one_instance_dies() {
    let mut topo = Topology::start().await;

    // A page on another site is refused through the proxy: the Origin reaches the
    // instances unchanged and the check answers 403 through nginx.
    match browser_upgrade(&topo, "https://evil.example").await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status().as_u16(), 403),
        Err(e) => panic!("a foreign origin: expected HTTP 403, got {e}"),
        Ok(_) => panic!("a foreign origin was allowed to open a WebSocket"),
    }

    // The room, the facilitator's invite and the joins all go through the proxy.
    let room = topo
        .http
        .create_room(
            ADMIN,
            &CreateRoom {
                title: "Tuesday evening group".into(),
                topic: "Anxiety".into(),
                capacity: Some(12),
                open: Some(true),
                ..CreateRoom::default()
            },
        )
        .await
        .expect("room created through the proxy")
        .id;
    let invite = topo
        .http
        .invite(ADMIN, room, &CreateInvite::default())
        .await
        .expect("invite minted through the proxy");
    let join = |name: &str, invite: Option<String>| JoinRequest {
        name: name.into(),
        accept_guidelines: true,
        invite,
        device: None,
        seat_key: None,
    };
    let facilitator = topo
        .http
        .join(room, &join("Fran", invite.token))
        .await
        .expect("the facilitator joins through the proxy");
    let alex = topo
        .http
        .join(room, &join("Alex", None))
        .await
        .expect("Alex joins through the proxy");
    let sam = topo
        .http
        .join(room, &join("Sam", None))
        .await
        .expect("Sam joins through the proxy");
    let kit = topo
        .http
        .join(room, &join("Kit", None))
        .await
        .expect("Kit joins through the proxy");

    // The facilitator uses the web client (a browser sends the proxy's origin, which
    // the instances accept because it is their public URL); Alex and Sam use apps.
    // The facilitator connects first, so the instance metrics tell which instance
    // nginx gave the browser's socket to.
    let fran = Peer::connect(&topo, "Fran", Client::Browser, facilitator).await;
    let fran_counts = topo.connections_per_instance(1).await;
    let victim = fran_counts
        .iter()
        .position(|&n| n == 1)
        .expect("one instance holds the facilitator's socket");
    let mut peers = vec![
        fran,
        Peer::connect(&topo, "Alex", Client::App, alex).await,
        Peer::connect(&topo, "Sam", Client::App, sam).await,
    ];
    let epoch = peers[0].epoch;
    assert!(
        peers.iter().all(|p| p.epoch == epoch),
        "one room, one epoch, whichever instance serves the member"
    );

    // Kit connects to that instance directly and will not come back when it dies:
    // her leaving, once the survivor has declared the instance gone and a presence
    // grace has passed, is how the others know that moment has come.
    let (_kit_ws, _, _) = Connection::hello(&topo.instances[victim].ws_url(), &kit.token, None)
        .await
        .expect("Kit connects to the instance directly");
    let mut timeline: BTreeMap<Seq, String> = BTreeMap::new();
    round(&mut peers, "says hello", &mut timeline).await;

    // Kill the instance holding the browser's socket: the facilitator must come back
    // through the proxy with the page's Origin. least_conn gives the next socket to
    // the other instance, so at least one member keeps their connection; which
    // instance the third socket went to does not matter, the metrics say it.
    let counts = topo.connections_per_instance(peers.len() + 1).await;
    let dropped_expected = counts[victim] - 1;
    topo.instances[victim].kill();
    let head_at_kill = *timeline.keys().last().expect("messages were said");

    // Every member tries to speak. A member on the survivor is acknowledged on the
    // same socket (never disconnected); a member on the dead instance sees its
    // connection end.
    let mut survivors = Vec::new();
    let mut dropped = Vec::new();
    for (i, peer) in peers.iter_mut().enumerate() {
        let id = peer.client_id();
        let text = format!("{} is still here", peer.name);
        match peer.say(&id, &text).await {
            Ok(seq) => {
                timeline.insert(seq, text);
                survivors.push(peer.name);
            }
            Err(why) => dropped.push((i, id, text, why)),
        }
    }
    assert_eq!(
        dropped.len(),
        dropped_expected,
        "the members whose socket was on the killed instance (it had {dropped_expected} of \
         {counts:?}) lose their connection, the others keep theirs; survivors: {survivors:?}, \
         dropped: {dropped:?}"
    );

    // They come back through the proxy, resuming, and say what they meant to say
    // (with the same client_id: had it gone through, the retry would be applied once).
    let mut attempts = Vec::new();
    for (i, id, text, _) in dropped {
        let peer = &mut peers[i];
        let before = peer.last_seq;
        let (welcome, backlog, tries) = peer.resume(&topo).await;
        attempts.push((peer.name, tries));
        assert_eq!(
            welcome.resume,
            ResumeKind::Resumed,
            "{} resumes on the surviving instance",
            peer.name
        );
        assert_eq!(
            welcome.epoch, epoch,
            "the room's epoch survives the instance"
        );
        let seqs: Vec<Seq> = backlog.iter().filter_map(ServerFrame::seq).collect();
        assert_eq!(
            seqs,
            (before + 1..=welcome.seq).collect::<Vec<_>>(),
            "{}'s backlog is exactly the events after seq {before}",
            peer.name
        );
        for (seq, said) in timeline.range(before + 1..) {
            assert!(
                backlog.iter().any(
                    |f| matches!(f, ServerFrame::Message { seq: s, text, .. } if s == seq && text == said)
                ),
                "{} missed {said:?} (seq {seq}) and finds it in the backlog: {backlog:?}",
                peer.name
            );
        }
        let name = peer.name;
        let seq = peer
            .say(&id, &text)
            .await
            .unwrap_or_else(|e| panic!("{name} lost the resumed connection: {e}"));
        timeline.insert(seq, text);
    }

    // Everyone has every message said since the kill, at the seq its author was given.
    for (seq, text) in timeline.range(head_at_kill + 1..) {
        for peer in peers.iter_mut() {
            peer.hears(*seq, text).await;
        }
    }

    // The conversation goes on.
    round(&mut peers, "carries on", &mut timeline).await;

    // Once the survivor has declared the dead instance gone (its members' old
    // connections closed) and a presence grace has passed, Kit, who did not come
    // back, leaves; nobody who came back is taken for absent: nobody else leaves, by
    // then or by the round that follows, and the conversation still goes on.
    for peer in peers.iter_mut() {
        assert_eq!(
            peer.sees_leave(kit.user_id).await,
            LeftReason::Disconnected,
            "{} sees Kit go",
            peer.name
        );
    }
    round(&mut peers, "is still talking", &mut timeline).await;

    // Everyone has caught up to the head and holds the same timeline: contiguous,
    // frame for frame identical wherever two members' views overlap, and no `Left`.
    let (&head, head_text) = timeline.iter().last().expect("messages were said");
    for peer in peers.iter_mut() {
        peer.hears(head, head_text).await;
    }
    for peer in &peers {
        let first = *peer.seen.keys().next().expect("frames were seen");
        assert_eq!(
            peer.seen.keys().copied().collect::<Vec<_>>(),
            (first..=head).collect::<Vec<_>>(),
            "{} saw a contiguous timeline",
            peer.name
        );
        let left: Vec<&ServerFrame> = peer
            .seen
            .values()
            .filter(|f| matches!(f, ServerFrame::Left { user, .. } if *user != kit.user_id))
            .collect();
        assert!(left.is_empty(), "{} saw members leave: {left:?}", peer.name);
        for other in &peers {
            for (seq, frame) in &peer.seen {
                if let Some(theirs) = other.seen.get(seq) {
                    assert_eq!(
                        frame, theirs,
                        "{} and {} see seq {seq} alike",
                        peer.name, other.name
                    );
                }
            }
        }
    }
    for (seq, text) in &timeline {
        for peer in &peers {
            assert!(
                matches!(peer.seen.get(seq), Some(ServerFrame::Message { text: t, .. }) if t == text),
                "{} has {text:?} at seq {seq}",
                peer.name
            );
        }
    }
    println!(
        "topology: killed instance {victim} holding {dropped_expected} of {counts:?} sockets; \
         kept their connection: {survivors:?}; reconnect attempts: {attempts:?}; head seq {head}"
    );
}
