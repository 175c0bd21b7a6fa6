//! One member of the fault run: a task that talks to whichever instance is up, as a
//! client would, and records everything ([`super::record`]).
//!
//! While the schedule runs it sends numbered messages (unique text each); the
//! facilitator also mutes and unmutes one participant. A socket that closes is
//! replaced by a `hello` with `last_seq` and `epoch` to a live instance (its home
//! first), and the `welcome` it gets (`resumed` or `reset`) is recorded like every
//! frame. Nothing is retried to hide a loss: a command whose ack never came is simply
//! not acknowledged. Once everything is healed, each member says its final marker
//! (retried with the same `client_id`, which the protocol applies once, only when the
//! socket closed before the ack or the answer was `internal`) and reads until it has
//! heard every member's marker or the deadline passes.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kindred_protocol::client::{ClientError, Connection, Received};
use kindred_protocol::http::JoinResponse;
use kindred_protocol::{ClientFrame, Epoch, ErrorCode, ModAction, Seq, ServerFrame, UserId};
use tokio::sync::watch;

use super::Rng;
use super::record::{Event, Record, Seen, Sent};

/// How long a `hello` may take before the member tries another instance.
const HELLO_TIMEOUT: Duration = Duration::from_secs(3);
/// The pause between two attempts to connect.
const RECONNECT_PAUSE: Duration = Duration::from_millis(150);
/// The pause before a final command is said again.
const RETRY_PAUSE: Duration = Duration::from_millis(300);

/// Where the run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The schedule runs: members send.
    Load,
    /// Everything is healed: markers, then stop at `until` at the latest.
    Final { until: tokio::time::Instant },
}

/// What every member task shares.
pub struct Shared {
    pub started: Instant,
    /// Each instance slot's WebSocket URL while it is up (not killed, not stopped).
    pub urls: Mutex<Vec<Option<String>>>,
    /// Every member's final marker.
    pub markers: Vec<String>,
}

/// One member to run.
pub struct Spec {
    pub name: String,
    pub joined: JoinResponse,
    /// The instance it connects to first.
    pub home: usize,
    pub seed: u64,
    pub marker: String,
    /// For the facilitator: the participant it mutes and unmutes.
    pub mutes: Option<UserId>,
    /// For that participant: say the final marker only once the facilitator's last
    /// unmute is acknowledged.
    pub muted: bool,
}

struct Live {
    conn: Connection,
    id: u32,
    epoch: Epoch,
}

/// A final command: said, acknowledged, or given up after a refusal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Final {
    Due,
    Pending,
    Done,
}

struct MemberTask {
    spec: Spec,
    shared: Arc<Shared>,
    record: Record,
    live: Option<Live>,
    conns: u32,
    attempts: usize,
    last: Option<(Seq, Epoch)>,
    rng: Rng,
    sent: u64,
    muting: bool,
    heard: HashSet<String>,
    unmute: Final,
    unmute_at: tokio::time::Instant,
    marker: Final,
    marker_at: tokio::time::Instant,
}

/// Run a member until the final phase ends; what it saw.
pub async fn run(
    spec: Spec,
    shared: Arc<Shared>,
    mut phase: watch::Receiver<Phase>,
    unmuted: (watch::Sender<bool>, watch::Receiver<bool>),
) -> Record {
    let now = tokio::time::Instant::now();
    let mut task = MemberTask {
        record: Record {
            name: spec.name.clone(),
            user: spec.joined.user_id,
            events: Vec::new(),
        },
        rng: Rng::new(spec.seed),
        unmute: if spec.mutes.is_some() {
            Final::Due
        } else {
            Final::Done
        },
        spec,
        shared,
        live: None,
        conns: 0,
        attempts: 0,
        last: None,
        sent: 0,
        muting: false,
        heard: HashSet::new(),
        unmute_at: now,
        marker: Final::Due,
        marker_at: now,
    };
    let (unmuted_tx, unmuted_rx) = unmuted;
    let mut next_send = now + task.rng.between_ms(100, 300);
    let mut next_mod = now + task.rng.between_ms(400, 900);
    loop {
        let current = *phase.borrow();
        let now = tokio::time::Instant::now();
        if let Phase::Final { until } = current
            && (task.heard.len() == task.shared.markers.len() || now >= until)
        {
            break;
        }
        if task.live.is_none() {
            if !task.connect().await {
                tokio::time::sleep(RECONNECT_PAUSE).await;
            }
            continue;
        }
        let wake = match current {
            Phase::Load if task.spec.mutes.is_some() => next_send.min(next_mod),
            Phase::Load => next_send,
            Phase::Final { until } => {
                let mut wake = until;
                if task.unmute == Final::Due {
                    wake = wake.min(task.unmute_at);
                }
                if task.marker == Final::Due {
                    // Said once the facilitator's last unmute is acknowledged (so the
                    // muted member's marker is not refused): look again shortly.
                    let free = !task.spec.muted || *unmuted_rx.borrow();
                    let at = if free {
                        task.marker_at
                    } else {
                        now + RETRY_PAUSE
                    };
                    wake = wake.min(at);
                }
                wake
            }
        };
        let live = task.live.as_mut().expect("connected above");
        tokio::select! {
            received = live.conn.recv() => task.received(received),
            _ = tokio::time::sleep_until(wake) => {
                let now = tokio::time::Instant::now();
                match current {
                    Phase::Load => {
                        if now >= next_send {
                            task.sent += 1;
                            let text = format!("{} says {}", task.spec.name, task.sent);
                            let id = format!("s{}", task.sent);
                            task.send_message(id, text).await;
                            next_send = now + task.rng.between_ms(120, 300);
                        }
                        if let Some(target) = task.spec.mutes && now >= next_mod {
                            task.muting = !task.muting;
                            let what = if task.muting { Sent::Mute(target) } else { Sent::Unmute(target) };
                            task.sent += 1;
                            let id = format!("m{}", task.sent);
                            task.send_mod(id, what).await;
                            next_mod = now + task.rng.between_ms(500, 1200);
                        }
                    }
                    Phase::Final { .. } => {
                        if let Some(target) = task.spec.mutes && task.unmute == Final::Due && now >= task.unmute_at {
                            task.unmute = Final::Pending;
                            task.send_mod("final-unmute".to_owned(), Sent::Unmute(target)).await;
                        }
                        let free = !task.spec.muted || *unmuted_rx.borrow();
                        if task.marker == Final::Due && free && now >= task.marker_at {
                            task.marker = Final::Pending;
                            let text = task.spec.marker.clone();
                            task.send_message("final".to_owned(), text).await;
                        }
                    }
                }
            }
            _ = phase.changed() => {}
        }
        if task.spec.mutes.is_some() && task.unmute == Final::Done && !*unmuted_rx.borrow() {
            let _ = unmuted_tx.send(true);
        }
    }
    task.record
}

impl MemberTask {
    fn note(&mut self, seen: Seen) {
        self.record
            .events
            .push((self.shared.started.elapsed(), seen));
    }

    /// One attempt to connect (resuming after what it has, if anything) to the next
    /// live instance from its home on; whether it got a welcome.
    async fn connect(&mut self) -> bool {
        let urls = self.shared.urls.lock().unwrap().clone();
        let n = urls.len();
        let Some((instance, url)) = (0..n)
            .map(|k| (self.spec.home + self.attempts + k) % n)
            .find_map(|i| urls[i].clone().map(|u| (i, u)))
        else {
            return false;
        };
        self.attempts += 1;
        let hello = Connection::hello(&url, &self.spec.joined.token, self.last);
        match tokio::time::timeout(HELLO_TIMEOUT, hello).await {
            Ok(Ok((conn, welcome, backlog))) => {
                self.attempts = 0;
                self.conns += 1;
                let id = self.conns;
                self.note(Seen::Welcome {
                    conn: id,
                    epoch: welcome.epoch,
                    seq: welcome.seq,
                    resume: welcome.resume,
                    instance,
                });
                let mut head = welcome.seq;
                for frame in &backlog {
                    head = head.max(frame.seq().unwrap_or(0));
                    self.frame(id, welcome.epoch, frame, true);
                }
                self.last = Some((head, welcome.epoch));
                self.live = Some(Live {
                    conn,
                    id,
                    epoch: welcome.epoch,
                });
                if self.unmute == Final::Pending {
                    self.unmute = Final::Due;
                }
                if self.marker == Final::Pending {
                    self.marker = Final::Due;
                }
                true
            }
            Ok(Err(ClientError::Violation(what))) => {
                self.note(Seen::Violation {
                    conn: self.conns + 1,
                    what: format!("on hello to instance {instance}: {what}"),
                });
                false
            }
            Ok(Err(e)) => {
                self.note(Seen::ConnectFailed {
                    instance,
                    why: e.to_string(),
                });
                false
            }
            Err(_) => {
                self.note(Seen::ConnectFailed {
                    instance,
                    why: format!("no welcome within {HELLO_TIMEOUT:?}"),
                });
                false
            }
        }
    }

    async fn send_message(&mut self, client_id: String, text: String) {
        let frame = ClientFrame::Send {
            client_id: client_id.clone(),
            guard: None,
            text: text.clone(),
            cw: None,
        };
        self.send(frame, client_id, Sent::Message(text)).await;
    }

    async fn send_mod(&mut self, client_id: String, what: Sent) {
        let (action, user) = match &what {
            Sent::Mute(u) => (ModAction::Mute, *u),
            Sent::Unmute(u) => (ModAction::Unmute, *u),
            Sent::Message(_) => unreachable!("a message is not a mod"),
        };
        let frame = crate::ModArgs::user(user).frame(client_id.clone(), action);
        self.send(frame, client_id, what).await;
    }

    async fn send(&mut self, frame: ClientFrame, client_id: String, what: Sent) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        let id = live.id;
        let result = live.conn.send(&frame).await;
        self.note(Seen::Sent {
            conn: id,
            client_id,
            what,
        });
        if let Err(e) = result {
            self.closed(id, format!("send failed: {e}"));
        }
    }

    fn closed(&mut self, conn: u32, how: String) {
        self.note(Seen::Closed { conn, how });
        self.live = None;
    }

    fn received(&mut self, received: Result<Received, ClientError>) {
        let Some(live) = self.live.as_ref() else {
            return;
        };
        let (id, epoch) = (live.id, live.epoch);
        match received {
            Ok(Received::Text(text)) => match serde_json::from_str::<ServerFrame>(&text) {
                Ok(frame) => self.frame(id, epoch, &frame, false),
                Err(e) => self.note(Seen::Violation {
                    conn: id,
                    what: format!("a frame that does not parse: {e}"),
                }),
            },
            Ok(Received::Closed { code, reason }) => {
                self.closed(id, format!("close {code} {reason:?}"));
            }
            Err(e) => self.closed(id, format!("read failed: {e}")),
        }
    }

    fn frame(&mut self, conn: u32, epoch: Epoch, frame: &ServerFrame, backlog: bool) {
        if let Some(seq) = frame.seq() {
            let event = match frame {
                ServerFrame::Message { user, text, .. } => {
                    if self.shared.markers.contains(text) {
                        self.heard.insert(text.clone());
                    }
                    Event::Message {
                        user: *user,
                        text: text.clone(),
                    }
                }
                ServerFrame::Left { user, .. } => Event::Left { user: *user },
                other => Event::Other(kind(other)),
            };
            if let Some((last, e)) = self.last
                && e == epoch
            {
                self.last = Some((last.max(seq), e));
            }
            self.note(Seen::Timeline {
                conn,
                epoch,
                seq,
                backlog,
                event,
            });
            return;
        }
        match frame {
            ServerFrame::Ack { client_id, seq, .. } => {
                if client_id == "final-unmute" {
                    self.unmute = Final::Done;
                }
                if client_id == "final" {
                    self.marker = Final::Done;
                }
                self.note(Seen::Acked {
                    conn,
                    epoch,
                    client_id: client_id.clone(),
                    seq: *seq,
                });
            }
            ServerFrame::Error(e) => match &e.client_id {
                Some(client_id) => {
                    let again = e.code == ErrorCode::Internal;
                    let now = tokio::time::Instant::now();
                    if client_id == "final-unmute" {
                        self.unmute = if again { Final::Due } else { Final::Done };
                        self.unmute_at = now + RETRY_PAUSE;
                    }
                    if client_id == "final" {
                        self.marker = if again { Final::Due } else { Final::Done };
                        self.marker_at = now + RETRY_PAUSE;
                    }
                    self.note(Seen::Refused {
                        conn,
                        client_id: client_id.clone(),
                        code: e.code,
                    });
                }
                None => self.note(Seen::Error { conn, code: e.code }),
            },
            other => self.note(Seen::Private {
                conn,
                kind: kind(other),
            }),
        }
    }
}

/// A frame's `type`.
fn kind(frame: &ServerFrame) -> String {
    serde_json::to_value(frame)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}
