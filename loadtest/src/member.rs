//! One simulated member: a single task that joins, says hello, reads every frame
//! into its [`ConnAccount`], sends on schedule if it is a sender, stalls if it is a
//! slow reader, leaves and joins again if it churns, and resumes by `last_seq` when
//! the server drops it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kindred_protocol::http::JoinRequest;
use kindred_protocol::{ResumeKind, close_code};
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;

use crate::accounting::{ConnAccount, ConnCounts, Delivery, Seen};
use crate::clock::Clock;
use crate::ctx::{Ctx, SendPlan, second_before};
use crate::frame::{self, Frame};
use crate::net::{self, ConnectError, Ws};
use crate::payload::{self, Payload};

/// Attempts to resume after one disconnect before giving up.
const RESUME_ATTEMPTS: u32 = 5;
/// How long a leaving member waits for the server to close.
const LEAVE_WAIT: Duration = Duration::from_secs(2);

/// What one member saw, handed back when its task ends.
#[derive(Debug, Clone, Default)]
pub struct MemberReport {
    pub member: usize,
    pub room: usize,
    pub slow: bool,
    /// One entry per join (churn makes several); the last is the current one.
    pub incarnations: Vec<ConnCounts>,
    /// Still connected when the run stopped: owes the room's tail.
    pub connected_at_end: bool,
    /// Could not connect or reconnect.
    pub failed: bool,
    pub disconnects: u64,
    /// Sends never acknowledged nor refused.
    pub unacked: u64,
}

enum End {
    Stopped,
    Left,
    Failed,
}

struct Conn {
    ws: Ws,
    token: String,
    epoch: u64,
    account: ConnAccount,
}

struct Member {
    ctx: Arc<Ctx>,
    id: usize,
    room: usize,
    sender: Option<u32>,
    slow: bool,
    churns: bool,
    target: usize,
    source: Option<Ipv4Addr>,
    period: Option<Duration>,
    n: u64,
    /// Sent and not yet answered, by message number: re-sent after a resume with the
    /// same `client_id`, which the server applies once.
    unacked: BTreeMap<u64, String>,
    text: String,
    report: MemberReport,
}

/// Runs member `id` until the run stops (or it fails for good).
pub async fn run(ctx: Arc<Ctx>, id: usize) -> MemberReport {
    let (room, idx) = ctx.scn.place(id);
    let slow = ctx.scn.is_slow(id);
    let sender = (idx < ctx.scn.senders).then_some(idx as u32);
    let mut m = Member {
        id,
        room,
        sender,
        slow,
        churns: sender.is_none() && !slow && ctx.scn.churn > 0.0,
        target: ctx.scn.target(id),
        source: (!ctx.scn.sources.is_empty()).then(|| ctx.scn.sources[id % ctx.scn.sources.len()]),
        period: None,
        n: 0,
        unacked: BTreeMap::new(),
        text: String::with_capacity(ctx.scn.message_size + 64),
        report: MemberReport {
            member: id,
            room,
            slow,
            ..MemberReport::default()
        },
        ctx: ctx.clone(),
    };
    let live = &ctx.live;
    let mut generation = 0u32;
    loop {
        let admitted = tokio::select! {
            biased;
            _ = ctx.stop.cancelled() => break,
            a = m.admit(generation) => a,
        };
        let conn = match admitted {
            Ok(c) => c,
            Err(e) => {
                live.problem(format!("connect {}", e.label()));
                if generation == 0 {
                    live.connect_failed.fetch_add(1, Relaxed);
                }
                m.report.failed = true;
                break;
            }
        };
        if generation == 0 {
            live.ready.fetch_add(1, Relaxed);
        } else {
            live.churn_joins.fetch_add(1, Relaxed);
        }
        match m.session(conn).await {
            End::Left => {
                live.churn_leaves.fetch_add(1, Relaxed);
                generation += 1;
            }
            End::Stopped => break,
            End::Failed => {
                m.report.failed = true;
                break;
            }
        }
    }
    m.report.unacked = m.unacked.len() as u64;
    m.report
}

impl Member {
    /// Join over HTTP, open the socket, hello.
    async fn admit(&mut self, generation: u32) -> Result<Conn, ConnectError> {
        let ctx = self.ctx.clone();
        let _permit = ctx.handshakes.acquire().await;
        let name = if generation == 0 {
            format!("lt{}", self.id)
        } else {
            format!("lt{}-{generation}", self.id)
        };
        let req = JoinRequest {
            name,
            accept_guidelines: true,
            ..JoinRequest::default()
        };
        let joined = timeout(
            net::HANDSHAKE_TIMEOUT,
            ctx.http[self.target].join(ctx.room_ids[self.room], &req),
        )
        .await
        .map_err(|_| ConnectError::Timeout)?
        .map_err(|e| ConnectError::Join(client_error_label(&e)))?;
        let (ws, welcome) = self.open(&joined.token, None).await?;
        Ok(Conn {
            ws,
            token: joined.token,
            epoch: welcome.epoch,
            account: ConnAccount::joined(self.room as u32, welcome.seq),
        })
    }

    async fn open(
        &self,
        token: &str,
        resume: Option<(u64, u64)>,
    ) -> Result<(Ws, net::WelcomeInfo), ConnectError> {
        let rcvbuf = if self.slow {
            self.ctx.scn.slow.as_ref().and_then(|s| s.rcvbuf)
        } else {
            None
        };
        let mut ws = net::open(&self.ctx.scn.targets[self.target], self.source, rcvbuf).await?;
        let welcome = net::hello(&mut ws, token, resume).await?;
        Ok((ws, welcome))
    }

    /// When the first send is due under `plan`: a per-member phase spreads the
    /// senders over the period instead of having them all fire at once.
    fn schedule(&mut self, plan: &SendPlan) -> Option<Instant> {
        self.sender?;
        self.period = plan.period_per_sender;
        let period = self.period?;
        let phase = unit_hash((self.id as u64) ^ (plan.generation << 40));
        Some(Instant::now() + period.mul_f64(phase))
    }

    async fn session(&mut self, mut conn: Conn) -> End {
        let ctx = self.ctx.clone();
        let cell = &ctx.members[self.id];
        cell.last_seq.store(conn.account.last_seq(), Relaxed);
        cell.connected.store(true, Relaxed);
        let stall = ctx.scn.slow.as_ref().map_or(Duration::ZERO, |s| s.stall);
        // The futures that outlive one frame are made once and pinned here, not in
        // every turn of the loop: the receive path stays a socket read and a parse.
        let stop = ctx.stop.cancelled();
        let leave = cell.leave.notified();
        let stall_signal = cell.stall.notified();
        // Made before the plan is read, so that no change can slip in between.
        let plan_changed = ctx.plan_changed.notified();
        let mut next_send = self.schedule(&ctx.plan.lock());
        let send_timer = sleep_until(next_send.unwrap_or_else(far_future));
        tokio::pin!(stop, leave, stall_signal, plan_changed, send_timer);
        let end = loop {
            tokio::select! {
                biased;
                _ = &mut stop => break End::Stopped,
                _ = &mut leave, if self.churns => break self.leave(&mut conn).await,
                _ = &mut stall_signal, if self.slow => {
                    stall_signal.set(cell.stall.notified());
                    ctx.live.stalled.fetch_add(1, Relaxed);
                    tokio::select! {
                        _ = sleep(stall) => {}
                        _ = &mut stop => {}
                    }
                    ctx.live.stalled.fetch_sub(1, Relaxed);
                }
                _ = &mut plan_changed, if self.sender.is_some() => {
                    plan_changed.set(ctx.plan_changed.notified());
                    next_send = self.schedule(&ctx.plan.lock());
                    send_timer.as_mut().reset(next_send.unwrap_or_else(far_future));
                }
                _ = &mut send_timer, if next_send.is_some() => {
                    let due = send_timer.deadline();
                    let period = self.period.unwrap_or(Duration::from_secs(1));
                    // Keep the rate, but never burst more than a second's worth.
                    let next = (due + period).max(second_before(Instant::now()));
                    next_send = Some(next);
                    send_timer.as_mut().reset(next);
                    if let Err(reason) = self.send_one(&mut conn).await
                        && !self.reconnect(&mut conn, reason).await
                    {
                        break End::Failed;
                    }
                }
                msg = conn.ws.next() => {
                    let lost = match msg {
                        Some(Ok(Message::Text(t))) => {
                            self.on_text(&mut conn, t.as_bytes());
                            None
                        }
                        Some(Ok(Message::Close(f))) => Some(close_reason(f.as_ref())),
                        Some(Ok(_)) => None,
                        Some(Err(e)) => Some(format!("socket error: {}", short_error(&e))),
                        None => Some("eof".to_owned()),
                    };
                    if let Some(reason) = lost {
                        if ctx.stop.is_cancelled() {
                            break End::Stopped;
                        }
                        if !self.reconnect(&mut conn, reason).await {
                            break End::Failed;
                        }
                    }
                }
            }
        };
        cell.connected.store(false, Relaxed);
        if let End::Stopped = end {
            self.report.connected_at_end = true;
            let _ = timeout(Duration::from_millis(500), conn.ws.close(None)).await;
        }
        self.report.incarnations.push(conn.account.counts());
        end
    }

    async fn send_one(&mut self, conn: &mut Conn) -> Result<(), String> {
        let Some(sender) = self.sender else {
            return Ok(());
        };
        self.n += 1;
        let p = Payload {
            room: self.room as u32,
            sender,
            n: self.n,
            sent_nanos: Clock::global().now_nanos(),
        };
        payload::encode(&mut self.text, &p, self.ctx.scn.message_size);
        // The text never needs escaping (see `payload`), so the frame is built by hand.
        let frame = format!(
            r#"{{"type":"send","client_id":"{}","text":"{}"}}"#,
            self.n, self.text
        );
        self.unacked.insert(self.n, frame.clone());
        self.ctx.live.sent.fetch_add(1, Relaxed);
        conn.ws
            .send(Message::text(frame))
            .await
            .map_err(|e| format!("send error: {}", short_error(&e)))
    }

    /// The receive path: one frame, no JSON parse.
    fn on_text(&mut self, conn: &mut Conn, bytes: &[u8]) {
        let ctx = &*self.ctx;
        let live = &ctx.live;
        let cell = &ctx.members[self.id];
        let before = conn.account.counts_timeline();
        match frame::parse(bytes) {
            Frame::Message { seq, payload } => {
                let now = Clock::global().now_nanos();
                match conn.account.message(seq, payload, now) {
                    Delivery::Backlog => {}
                    Delivery::Ours {
                        latency_nanos,
                        seen,
                    } => {
                        live.deliveries.fetch_add(1, Relaxed);
                        if seen != Seen::Duplicate {
                            live.record_latency(self.id, self.slow, latency_nanos);
                        }
                    }
                    Delivery::Foreign => {
                        live.deliveries.fetch_add(1, Relaxed);
                    }
                    Delivery::Misrouted => {
                        live.deliveries.fetch_add(1, Relaxed);
                        live.problem("misrouted message");
                    }
                }
                cell.last_seq.store(conn.account.last_seq(), Relaxed);
            }
            Frame::Timeline { seq, closed } => {
                conn.account.event(seq);
                cell.last_seq.store(conn.account.last_seq(), Relaxed);
                if closed {
                    live.problem("room closed");
                }
            }
            Frame::Ack { client_id, seq } => {
                let n = parse_u64(client_id);
                if n.and_then(|n| self.unacked.remove(&n)).is_some() {
                    live.acked.fetch_add(1, Relaxed);
                    match seq {
                        Some(seq) => {
                            ctx.rooms[self.room].last_acked.fetch_max(seq, Relaxed);
                        }
                        None => live.problem("ack without seq (held?)"),
                    }
                } else {
                    live.problem("ack for an unknown client_id");
                }
            }
            Frame::Error { code, client_id } => {
                let code = String::from_utf8_lossy(code);
                let n = client_id.and_then(parse_u64);
                if let Some(n) = n.filter(|n| self.unacked.remove(n).is_some()) {
                    live.refused.fetch_add(1, Relaxed);
                    if let Some(sender) = self.sender {
                        ctx.rooms[self.room].refused.lock().push((sender, n));
                    }
                    live.problem(format!("send refused: {code}"));
                } else {
                    let who = if self.slow { "slow reader" } else { "member" };
                    live.problem(format!("error frame ({who}): {code}"));
                }
            }
            Frame::Welcome => live.problem("unexpected welcome"),
            Frame::Private => {}
            Frame::Malformed => {
                live.malformed.fetch_add(1, Relaxed);
                live.problem("malformed frame");
            }
        }
        let after = conn.account.counts_timeline();
        if after.missing > before.missing {
            live.gaps.fetch_add(after.missing - before.missing, Relaxed);
        }
        if after.duplicates > before.duplicates {
            live.duplicates
                .fetch_add(after.duplicates - before.duplicates, Relaxed);
        }
        if after.reordered > before.reordered {
            live.reordered
                .fetch_add(after.reordered - before.reordered, Relaxed);
        }
    }

    /// Churn: say `leave`, read until the server closes, then hand back.
    async fn leave(&mut self, conn: &mut Conn) -> End {
        if conn
            .ws
            .send(Message::text(r#"{"type":"leave"}"#))
            .await
            .is_err()
        {
            return End::Left;
        }
        let deadline = Instant::now() + LEAVE_WAIT;
        loop {
            tokio::select! {
                msg = conn.ws.next() => match msg {
                    Some(Ok(Message::Text(t))) => self.on_text(conn, t.as_bytes()),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                _ = sleep_until(deadline) => break,
            }
        }
        End::Left
    }

    /// The connection is gone: resume from the last seq seen, with backoff.
    async fn reconnect(&mut self, conn: &mut Conn, reason: String) -> bool {
        let ctx = self.ctx.clone();
        let live = &ctx.live;
        let cell = &ctx.members[self.id];
        cell.connected.store(false, Relaxed);
        live.disconnects.fetch_add(1, Relaxed);
        self.report.disconnects += 1;
        let who = if self.slow { "slow reader" } else { "member" };
        live.problem(format!("disconnect ({who}): {reason}"));
        let fatal = [
            close_code::UNAUTHORIZED,
            close_code::REMOVED,
            close_code::ROOM_CLOSED,
            close_code::ROOM_UNAVAILABLE,
        ];
        if close_code_of(&reason).is_some_and(|code| fatal.contains(&code)) {
            return false;
        }
        for attempt in 0..RESUME_ATTEMPTS {
            tokio::select! {
                _ = sleep(Duration::from_millis(50 << attempt)) => {}
                _ = ctx.stop.cancelled() => return false,
            }
            let resumed = {
                let _permit = ctx.handshakes.acquire().await;
                self.open(&conn.token, Some((conn.account.last_seq(), conn.epoch)))
                    .await
            };
            let (mut ws, welcome) = match resumed {
                Ok(ok) => ok,
                Err(e) => {
                    live.problem(format!("resume failed: {}", e.label()));
                    continue;
                }
            };
            match welcome.resume {
                ResumeKind::Resumed => {
                    live.resumes.fetch_add(1, Relaxed);
                }
                ResumeKind::Reset | ResumeKind::Fresh => {
                    live.resets.fetch_add(1, Relaxed);
                    live.problem(format!("resume answered {:?}", welcome.resume));
                    conn.account.reset(welcome.seq);
                }
            }
            let mut resend_failed = false;
            for frame in self.unacked.values() {
                if ws.send(Message::text(frame.clone())).await.is_err() {
                    resend_failed = true;
                    break;
                }
                live.resent.fetch_add(1, Relaxed);
            }
            conn.ws = ws;
            conn.epoch = welcome.epoch;
            if resend_failed {
                continue;
            }
            cell.connected.store(true, Relaxed);
            return true;
        }
        false
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(24 * 3600)
}

fn parse_u64(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// How a close frame is reported: `close CODE`, then the server's reason when it gave
/// one (`close 4008: slow consumer: …` and `close 4008: the server reloaded the room: …`
/// share a code). The reasons are fixed texts, so grouping stays low-cardinality.
fn close_reason(f: Option<&tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> String {
    match f {
        None => "close 1005".to_owned(),
        Some(f) if f.reason.is_empty() => format!("close {}", u16::from(f.code)),
        Some(f) => format!(
            "close {}: {}",
            u16::from(f.code),
            f.reason.chars().take(80).collect::<String>()
        ),
    }
}

/// The close code in a reason from [`close_reason`].
fn close_code_of(reason: &str) -> Option<u16> {
    let rest = reason.strip_prefix("close ")?;
    rest.split(':').next()?.parse().ok()
}

/// A short, low-cardinality description of a socket error, for grouping.
fn short_error(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::Io(io) => format!("io {:?}", io.kind()),
        E::ConnectionClosed | E::AlreadyClosed => "closed".to_owned(),
        E::Protocol(p) => format!("protocol {p}"),
        E::Capacity(_) => "capacity".to_owned(),
        other => format!("{other}").chars().take(40).collect(),
    }
}

fn client_error_label(e: &kindred_protocol::client::ClientError) -> String {
    use kindred_protocol::client::ClientError as E;
    match e {
        E::Http {
            body: Some(body), ..
        } => body.code.as_str().to_owned(),
        E::Http { status, .. } => format!("http {status}"),
        E::Transport(t) if t.is_connect() => "connect".to_owned(),
        E::Transport(t) if t.is_timeout() => "timeout".to_owned(),
        E::Transport(_) => "transport".to_owned(),
        E::Json(_) => "bad json".to_owned(),
        other => format!("{other}").chars().take(40).collect(),
    }
}

/// A deterministic value in [0, 1) from `x` (splitmix64).
fn unit_hash(x: u64) -> f64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_hash_spreads_over_the_unit_interval() {
        let v: Vec<f64> = (0..1000).map(unit_hash).collect();
        assert!(v.iter().all(|x| (0.0..1.0).contains(x)));
        let low = v.iter().filter(|&&x| x < 0.5).count();
        assert!((400..600).contains(&low), "{low}");
    }

    #[test]
    fn close_reasons_keep_their_code() {
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        let frame = CloseFrame {
            code: 4008.into(),
            reason: "the server reloaded the room".into(),
        };
        let reason = close_reason(Some(&frame));
        assert_eq!(reason, "close 4008: the server reloaded the room");
        assert_eq!(close_code_of(&reason), Some(4008));
        let bare = CloseFrame {
            code: 4001.into(),
            reason: "".into(),
        };
        assert_eq!(close_code_of(&close_reason(Some(&bare))), Some(4001));
        assert_eq!(close_code_of(&close_reason(None)), Some(1005));
        assert_eq!(close_code_of("eof"), None);
    }

    #[test]
    fn client_ids_are_numbers() {
        assert_eq!(parse_u64(b"42"), Some(42));
        assert_eq!(parse_u64(b"x"), None);
    }
}
