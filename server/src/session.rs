//! One WebSocket connection, from `hello` to close.
//!
//! A session is one task running a closed event loop over four sources: frames
//! from the client, frames queued by the hub, a ping timer, and cancellation
//! (server shutdown or a kick). Inbound frames are parsed, rate limited and turned
//! into domain commands for the broker; the broker's events come back through the
//! hub's bounded queue, already encoded, and are written in batches with one flush.
//! Nothing here logs message text: ids, sizes and codes only.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use kindred_protocol::{
    AlertKind, ClientFrame, ClientId, CrisisCategory, ErrorCode, Me, ModAction, PROTOCOL_VERSION,
    Role, RoomId, Seq, ServerFrame, UserId, Welcome, close_code,
};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, MissedTickBehavior};

use crate::app::{AppState, now_ms};
use crate::auth::SessionClaims;
use crate::broker::{BrokerError, ResumeFrom};
use crate::hub::{Audience, Kick, Peer};
use crate::room::{Command, Held, ModRequest, Rejection, Screened};
use crate::safety::{Evaluate, TextError, normalize_message};
use crate::wire::{self, Encoded};

/// The longest a close handshake may take before the socket is simply dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Queued frames written before one flush.
const WRITE_BATCH: usize = 64;
/// A member's typing indicator is relayed at most this often.
const TYPING_INTERVAL: Duration = Duration::from_secs(2);
/// The longest `client_id`, content-warning label and report reason.
const MAX_CLIENT_ID: usize = 64;
const MAX_LABEL_CHARS: usize = 100;
const MAX_REASON_CHARS: usize = 500;

/// Serve one upgraded connection. `_permit` holds a slot of the connection limit
/// until the session ends.
pub async fn run(socket: WebSocket, app: Arc<AppState>, _permit: OwnedSemaphorePermit) {
    app.metrics.connections.inc();
    let mut conn = Conn { socket, app };
    // The handshake's state is large and short-lived: boxed, so the task that lives
    // as long as the connection does not carry its size (memory per idle member).
    if let Some(live) = Box::pin(conn.handshake()).await {
        live.run(&mut conn).await;
    }
    conn.app.metrics.connections.dec();
}

/// The socket and the server, before and after the handshake.
struct Conn {
    socket: WebSocket,
    app: Arc<AppState>,
}

/// How a session ends.
enum End {
    /// The client closed or the socket failed: nothing more to say.
    Gone,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

impl Conn {
    async fn send_frame(&mut self, frame: &ServerFrame) -> Result<(), axum::Error> {
        if let ServerFrame::Error(e) = frame {
            self.app.metrics.error(e.code);
        }
        self.socket
            .send(Message::Text(wire::encode(frame).bytes))
            .await
    }

    /// The closing handshake: send our close, then wait (bounded) for the client's,
    /// so the close frame is read before the TCP connection goes away.
    async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let handshake = async {
            if self.socket.send(Message::Close(Some(frame))).await.is_err() {
                return;
            }
            while let Some(Ok(msg)) = self.socket.recv().await {
                if let Message::Close(_) = msg {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, handshake).await;
    }

    /// Refuse with an error frame, then close.
    async fn refuse(&mut self, code: ErrorCode, message: &str, close: u16, reason: &'static str) {
        let frame = wire::error(None, code, message, None);
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.send_frame(&frame)).await;
        self.close(close, reason).await;
    }

    /// Wait for `hello`, admit the member and send `welcome` with its backlog.
    async fn handshake(&mut self) -> Option<Live> {
        let deadline = Instant::now() + self.app.config.hello_timeout();
        let hello = loop {
            let next = tokio::select! {
                r = tokio::time::timeout_at(deadline, self.socket.recv()) => r,
                () = self.app.shutdown.cancelled() => {
                    self.close(close_code::GOING_AWAY, "server shutting down").await;
                    return None;
                }
            };
            match next {
                Err(_) => {
                    self.refuse(
                        ErrorCode::Timeout,
                        "no hello arrived in time",
                        close_code::TIMEOUT,
                        "hello timeout",
                    )
                    .await;
                    return None;
                }
                Ok(None | Some(Ok(Message::Close(_)))) => return None,
                Ok(Some(Err(e))) => {
                    self.on_socket_error(e).await;
                    return None;
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(Some(Ok(Message::Binary(_)))) => {
                    self.refuse(
                        ErrorCode::BadRequest,
                        "binary frames are not supported; send JSON text",
                        close_code::POLICY,
                        "expected hello",
                    )
                    .await;
                    return None;
                }
                Ok(Some(Ok(Message::Text(text)))) => {
                    match serde_json::from_str::<ClientFrame>(&text) {
                        Ok(ClientFrame::Hello {
                            token,
                            last_seq,
                            epoch,
                        }) => break (token, last_seq, epoch),
                        Ok(_) => {
                            self.refuse(
                                ErrorCode::BadRequest,
                                "the first frame must be hello",
                                close_code::POLICY,
                                "expected hello",
                            )
                            .await;
                            return None;
                        }
                        Err(e) => {
                            let message = format!("invalid hello: {e}");
                            self.refuse(
                                ErrorCode::BadRequest,
                                &message,
                                close_code::POLICY,
                                "expected hello",
                            )
                            .await;
                            return None;
                        }
                    }
                }
            }
        };
        let (token, last_seq, epoch) = hello;
        let claims = match self.app.signer.verify_session(&token, now_ms()) {
            Ok(c) => c,
            Err(e) => {
                tracing::info!(error = %e, "hello refused");
                self.refuse(
                    ErrorCode::Unauthorized,
                    "this session token is not valid; join the room again",
                    close_code::UNAUTHORIZED,
                    "unauthorized",
                )
                .await;
                return None;
            }
        };
        let room = claims.room;
        // Listen before arriving, so nothing published in between is missed; the
        // queue's duplicates of the backlog are skipped by seq.
        let peer = self
            .app
            .hub
            .attach(room, claims.user, claims.role, &self.app.shutdown);
        let connect = Command::Connect {
            user: claims.user,
            name: claims.name.clone(),
            role: claims.role,
            session: claims.session,
        };
        if let Err(e) = self.app.broker.apply(room, connect, now_ms()).await {
            self.app.hub.detach(room, peer.id);
            let (code, message, close, reason) = refusal(&e);
            self.refuse(code, &message, close, reason).await;
            return None;
        }
        let resume = match (last_seq, epoch) {
            (Some(last_seq), Some(epoch)) => Some(ResumeFrom { last_seq, epoch }),
            // A last_seq without an epoch cannot be trusted to mean this history.
            (Some(_), None) => Some(ResumeFrom {
                last_seq: Seq::MAX,
                epoch: 0,
            }),
            (None, _) => None,
        };
        let snapshot = match self
            .app
            .broker
            .snapshot(room, resume, self.app.config.welcome_history)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                Live::new(&self.app, claims, peer, 0)
                    .depart(&self.app, false)
                    .await;
                let (code, message, close, reason) = refusal(&e);
                self.refuse(code, &message, close, reason).await;
                return None;
            }
        };
        let welcome = ServerFrame::Welcome(Welcome {
            protocol: PROTOCOL_VERSION,
            you: Me {
                user: claims.user,
                name: claims.name.clone(),
                role: claims.role,
            },
            room: snapshot.summary,
            members: snapshot.members,
            state: snapshot.state,
            policy: snapshot.policy,
            seq: snapshot.seq,
            epoch: snapshot.epoch,
            resume: snapshot.resume,
            backlog: u32::try_from(snapshot.backlog.len()).unwrap_or(u32::MAX),
        });
        tracing::debug!(
            peer = peer.id,
            %room,
            user = %claims.user,
            backlog = snapshot.backlog.len(),
            resume = ?snapshot.resume,
            "welcome"
        );
        let live = Live::new(&self.app, claims, peer, snapshot.seq);
        let sent = async {
            self.socket
                .feed(Message::Text(wire::encode(&welcome).bytes))
                .await?;
            for frame in snapshot.backlog {
                self.socket.feed(Message::Text(frame.bytes)).await?;
            }
            self.socket.flush().await
        }
        .await;
        if sent.is_err() {
            live.depart(&self.app, false).await;
            return None;
        }
        Some(live)
    }

    async fn on_socket_error(&mut self, e: axum::Error) {
        let too_big = e
            .into_inner()
            .downcast_ref::<tungstenite::Error>()
            .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)));
        if too_big {
            self.app.metrics.error(ErrorCode::TooLarge);
            self.close(close_code::TOO_BIG, "frame too large").await;
        }
    }
}

/// Map a broker refusal at arrival to an error frame and a close.
fn refusal(e: &BrokerError) -> (ErrorCode, String, u16, &'static str) {
    match e {
        BrokerError::Rejected(r @ (Rejection::RoomFull | Rejection::Locked)) => (
            r.code(),
            r.to_string(),
            close_code::ROOM_UNAVAILABLE,
            "room unavailable",
        ),
        BrokerError::Rejected(r @ Rejection::Banned) => {
            (r.code(), r.to_string(), close_code::REMOVED, "banned")
        }
        BrokerError::Rejected(r @ Rejection::Closed) => (
            r.code(),
            r.to_string(),
            close_code::ROOM_CLOSED,
            "session ended",
        ),
        BrokerError::Rejected(r) => (r.code(), r.to_string(), close_code::POLICY, "refused"),
        BrokerError::NoRoom => (
            ErrorCode::NotFound,
            "this room no longer exists".to_owned(),
            close_code::ROOM_CLOSED,
            "no such room",
        ),
        BrokerError::Unavailable(_) => (
            ErrorCode::Internal,
            "the server is having trouble; please reconnect in a moment".to_owned(),
            close_code::GOING_AWAY,
            "unavailable",
        ),
    }
}

/// A member in the room.
struct Live {
    room: RoomId,
    user: UserId,
    name: String,
    role: Role,
    peer: Arc<Peer>,
    /// The highest seq written to the socket: queued frames at or below it are
    /// duplicates of the backlog.
    last_sent: Seq,
    frames: DefaultDirectRateLimiter,
    messages: DefaultDirectRateLimiter,
    last_activity: Instant,
    last_typing: Option<Instant>,
    last_limit_notice: Option<Instant>,
}

/// What to do after handling one inbound frame.
enum Flow {
    Continue,
    Leave,
}

impl Live {
    fn new(app: &AppState, claims: SessionClaims, peer: Arc<Peer>, last_sent: Seq) -> Self {
        let per_second = NonZeroU32::new(app.config.frames_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(app.config.frame_burst).unwrap_or(per_second);
        let per_minute = NonZeroU32::new(app.config.messages_per_minute).unwrap_or(NonZeroU32::MIN);
        let message_burst = NonZeroU32::new(app.config.message_burst).unwrap_or(per_minute);
        Self {
            room: claims.room,
            user: claims.user,
            name: claims.name,
            role: claims.role,
            peer,
            last_sent,
            frames: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)),
            messages: RateLimiter::direct(Quota::per_minute(per_minute).allow_burst(message_burst)),
            last_activity: Instant::now(),
            last_typing: None,
            last_limit_notice: None,
        }
    }

    async fn run(mut self, conn: &mut Conn) {
        let app = conn.app.clone();
        let mut ping = tokio::time::interval(app.config.ping_interval());
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ping.tick().await;
        let mut left = false;
        // One future, made once, for both ways a session is told to stop (the peer's
        // token is a child of the shutdown token): nothing is registered or dropped
        // per wake-up on the delivery path.
        let stopped = self.peer.kicked().clone().cancelled_owned();
        tokio::pin!(stopped);
        let outbox = self.peer.clone();
        let end = loop {
            tokio::select! {
                biased;
                () = &mut stopped => {
                    match self.peer.kick_reason() {
                        Some(kick) => break Box::pin(self.kicked(conn, kick)).await,
                        None => break End::Close(close_code::GOING_AWAY, "server shutting down"),
                    }
                }
                () = outbox.outbox.ready() => {
                    let Some(first) = self.peer.outbox.pop() else { continue };
                    // A reader that stopped reading blocks this write; a kick or a
                    // shutdown must still get through, so the write races them.
                    let written = tokio::select! {
                        biased;
                        r = self.write_batch(conn, first) => r,
                        () = &mut stopped => Ok(()),
                    };
                    if written.is_err() {
                        break End::Gone;
                    }
                }
                inbound = conn.socket.recv() => {
                    self.last_activity = Instant::now();
                    match inbound {
                        None | Some(Ok(Message::Close(_))) => break End::Gone,
                        Some(Err(e)) => {
                            Box::pin(conn.on_socket_error(e)).await;
                            break End::Gone;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Binary(_))) => {
                            let frame = wire::error(
                                None,
                                ErrorCode::BadRequest,
                                "binary frames are not supported; send JSON text",
                                None,
                            );
                            if conn.send_frame(&frame).await.is_err() {
                                break End::Gone;
                            }
                        }
                        Some(Ok(Message::Text(text))) => {
                            // Boxed: handling a command is rare next to delivering,
                            // and its state should not sit in every idle session.
                            let handled = tokio::select! {
                                biased;
                                r = Box::pin(self.on_text(conn, &text)) => r,
                                () = &mut stopped => Ok(Flow::Continue),
                            };
                            match handled {
                                Ok(Flow::Continue) => {}
                                Ok(Flow::Leave) => {
                                    left = true;
                                    break End::Close(close_code::NORMAL, "goodbye");
                                }
                                Err(_) => break End::Gone,
                            }
                        }
                    }
                }
                _ = ping.tick() => {
                    if self.last_activity.elapsed() >= app.config.idle_timeout() {
                        break End::Close(close_code::TIMEOUT, "idle timeout");
                    }
                    if conn.socket.send(Message::Ping(Default::default())).await.is_err() {
                        break End::Gone;
                    }
                }
            }
        };
        // The way out is boxed too, for the same reason as the handshake.
        if let End::Close(code, reason) = end {
            Box::pin(conn.close(code, reason)).await;
        }
        Box::pin(self.depart(&app, left)).await;
    }

    /// Leave the hub, and tell the room the connection dropped (unless the member
    /// left on purpose, which the room already knows).
    async fn depart(self, app: &AppState, left: bool) {
        app.hub.detach(self.room, self.peer.id);
        let evicted = matches!(
            self.peer.kick_reason(),
            Some(Kick::Removed | Kick::Banned | Kick::RoomClosed)
        );
        if !left && !evicted {
            let _ = app
                .broker
                .apply(self.room, Command::Disconnect { user: self.user }, now_ms())
                .await;
        }
    }

    /// The hub asked this connection to go.
    async fn kicked(&mut self, conn: &mut Conn, kick: Kick) -> End {
        match kick {
            Kick::SlowConsumer => {
                // The queue is full and the socket slow: say why without waiting long.
                let frame = wire::error(
                    None,
                    ErrorCode::SlowConsumer,
                    "your connection fell behind the room; reconnect to catch up",
                    None,
                );
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, conn.send_frame(&frame)).await;
            }
            Kick::Resync => {}
            Kick::Removed | Kick::Banned | Kick::RoomClosed => {
                // Let them see the event that ended their stay.
                while let Some(frame) = self.peer.outbox.pop() {
                    let write = conn.socket.feed(Message::Text(frame.bytes));
                    if tokio::time::timeout(CLOSE_TIMEOUT, write).await.is_err() {
                        break;
                    }
                }
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, conn.socket.flush()).await;
            }
        }
        End::Close(kick.close_code(), kick.reason())
    }

    /// Write queued frames, up to a batch, with one flush.
    async fn write_batch(&mut self, conn: &mut Conn, first: Encoded) -> Result<(), axum::Error> {
        let mut next = Some(first);
        let mut written = 0;
        while let Some(frame) = next {
            let fresh = match frame.seq {
                None => true,
                Some(seq) if seq > self.last_sent => {
                    if seq != self.last_sent + 1 {
                        tracing::warn!(peer = self.peer.id, room = %self.room, seq, last = self.last_sent, "timeline gap");
                    }
                    self.last_sent = seq;
                    true
                }
                Some(_) => false,
            };
            if fresh {
                conn.socket.feed(Message::Text(frame.bytes)).await?;
                written += 1;
            }
            next = if written < WRITE_BATCH {
                self.peer.outbox.pop()
            } else {
                None
            };
        }
        conn.socket.flush().await
    }

    /// Send an error frame to this client.
    async fn fail(
        &self,
        conn: &mut Conn,
        client_id: Option<ClientId>,
        code: ErrorCode,
        message: &str,
    ) -> Result<(), axum::Error> {
        conn.send_frame(&wire::error(client_id, code, message, None))
            .await
    }

    async fn on_text(&mut self, conn: &mut Conn, text: &str) -> Result<Flow, axum::Error> {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(f) => f,
            Err(e) => {
                let message = format!("invalid frame: {e}");
                self.fail(conn, None, ErrorCode::BadRequest, &message)
                    .await?;
                return Ok(Flow::Continue);
            }
        };
        let client_id = command_id(&frame);
        if let Err(wait) = check(&self.frames) {
            self.rate_limited(conn, client_id, wait).await?;
            return Ok(Flow::Continue);
        }
        if client_id.is_some_and(|id| !valid_client_id(&id)) {
            self.fail(
                conn,
                None,
                ErrorCode::BadRequest,
                "client_id must be 1–64 bytes",
            )
            .await?;
            return Ok(Flow::Continue);
        }
        self.dispatch(conn, frame).await
    }

    /// Tell the client it is too fast. Commands get their own answer; other frames one
    /// notice a second, so a flood does not turn into a flood of errors.
    async fn rate_limited(
        &mut self,
        conn: &mut Conn,
        client_id: Option<ClientId>,
        wait: Duration,
    ) -> Result<(), axum::Error> {
        let notice_due = self
            .last_limit_notice
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if client_id.is_some() || notice_due {
            self.last_limit_notice = Some(Instant::now());
            let retry = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
            conn.send_frame(&wire::error(
                client_id,
                ErrorCode::RateLimited,
                "you are sending too fast; please slow down",
                Some(retry),
            ))
            .await?;
        }
        Ok(())
    }

    async fn dispatch(&mut self, conn: &mut Conn, frame: ClientFrame) -> Result<Flow, axum::Error> {
        let app = conn.app.clone();
        match frame {
            ClientFrame::Hello { .. } => {
                self.fail(conn, None, ErrorCode::BadRequest, "already said hello")
                    .await?;
            }
            ClientFrame::Send {
                client_id,
                text,
                cw,
            } => {
                if let Err(wait) = check(&self.messages) {
                    self.rate_limited(conn, Some(client_id), wait).await?;
                    return Ok(Flow::Continue);
                }
                let checked = normalize_message(&text, app.config.max_message_chars)
                    .and_then(|text| Ok((text, optional_text(cw, MAX_LABEL_CHARS)?)));
                let (text, cw) = match checked {
                    Ok(v) => v,
                    Err(e) => {
                        let frame = text_error(Some(client_id), &e);
                        return conn.send_frame(&frame).await.map(|()| Flow::Continue);
                    }
                };
                self.send(conn, client_id, text, cw).await?;
            }
            ClientFrame::Typing => {
                let due = self
                    .last_typing
                    .is_none_or(|t| t.elapsed() >= TYPING_INTERVAL);
                if due {
                    self.last_typing = Some(Instant::now());
                    let frame = wire::encode(&ServerFrame::Typing {
                        user: self.user,
                        name: self.name.clone(),
                    });
                    let _ = app
                        .broker
                        .notify(self.room, Audience::Others(self.user), frame)
                        .await;
                }
            }
            ClientFrame::Hand { raised } => {
                let cmd = Command::Hand {
                    user: self.user,
                    raised,
                };
                if let Err(e) = app.broker.apply(self.room, cmd, now_ms()).await {
                    self.broker_error(conn, None, &e).await?;
                }
            }
            ClientFrame::React { seq, emoji } => {
                let cmd = Command::React {
                    user: self.user,
                    target: seq,
                    emoji,
                };
                if let Err(e) = app.broker.apply(self.room, cmd, now_ms()).await {
                    self.broker_error(conn, None, &e).await?;
                }
            }
            ClientFrame::Report { seq, reason } => {
                let reason = match optional_text(reason, MAX_REASON_CHARS) {
                    Ok(r) => r,
                    Err(e) => {
                        let frame = text_error(None, &e);
                        return conn.send_frame(&frame).await.map(|()| Flow::Continue);
                    }
                };
                let alert = wire::encode(&ServerFrame::Alert {
                    ts: now_ms(),
                    kind: AlertKind::Report,
                    seq: Some(seq),
                    user: self.user,
                    name: self.name.clone(),
                    category: None,
                    reason,
                    held: None,
                    text: None,
                });
                tracing::info!(peer = self.peer.id, room = %self.room, seq, "report");
                let _ = app
                    .broker
                    .notify(self.room, Audience::Facilitators, alert)
                    .await;
            }
            ClientFrame::Whisper { to, text } => {
                if let Err(wait) = check(&self.messages) {
                    self.rate_limited(conn, None, wait).await?;
                    return Ok(Flow::Continue);
                }
                let text = match normalize_message(&text, app.config.max_message_chars) {
                    Ok(t) => t,
                    Err(e) => {
                        let frame = text_error(None, &e);
                        return conn.send_frame(&frame).await.map(|()| Flow::Continue);
                    }
                };
                // A participant always whispers to the facilitators; a facilitator
                // may whisper to one member (a private check-in).
                let (to, audience) = match (self.role, to) {
                    (Role::Facilitator, Some(to)) => (Some(to), Audience::UserAndFacilitators(to)),
                    (Role::Facilitator | Role::Participant, _) => {
                        (None, Audience::UserAndFacilitators(self.user))
                    }
                };
                let frame = wire::encode(&ServerFrame::Whisper {
                    ts: now_ms(),
                    from: self.user,
                    name: self.name.clone(),
                    to,
                    text,
                });
                if let Err(e) = app.broker.notify(self.room, audience, frame).await {
                    self.broker_error(conn, None, &e).await?;
                }
            }
            ClientFrame::AckWarning => {}
            ClientFrame::Mod {
                client_id,
                action,
                user,
                seq,
                seconds,
                reason,
                text,
                held,
                policy,
            } => {
                let checked = optional_text(reason, MAX_REASON_CHARS).and_then(|reason| {
                    Ok((reason, optional_text(text, app.config.max_message_chars)?))
                });
                let (reason, text) = match checked {
                    Ok(v) => v,
                    Err(e) => {
                        let frame = text_error(Some(client_id), &e);
                        return conn.send_frame(&frame).await.map(|()| Flow::Continue);
                    }
                };
                let request = ModRequest {
                    action,
                    user,
                    seq,
                    seconds,
                    reason,
                    text,
                    held,
                    policy,
                };
                let cmd = Command::Moderate {
                    actor: self.user,
                    request,
                };
                match app.broker.apply(self.room, cmd, now_ms()).await {
                    Ok(applied) => {
                        tracing::info!(peer = self.peer.id, room = %self.room, ?action, "moderation");
                        if let Some(held) = &applied.held {
                            self.settle_held(&app, action, held, applied.ack).await;
                        }
                        let seq = applied.events.last().map(|e| e.seq);
                        conn.send_frame(&ServerFrame::Ack {
                            client_id,
                            seq,
                            held: false,
                        })
                        .await?;
                    }
                    Err(e) => self.broker_error(conn, Some(client_id), &e).await?,
                }
            }
            ClientFrame::Leave => {
                let cmd = Command::Leave { user: self.user };
                let _ = app.broker.apply(self.room, cmd, now_ms()).await;
                return Ok(Flow::Leave);
            }
        }
        Ok(Flow::Continue)
    }

    /// A member's message: through the room's rules and policy, then the private
    /// follow-ups — the ack, a crisis card and alerts, a policy flag, a hold notice.
    async fn send(
        &mut self,
        conn: &mut Conn,
        client_id: ClientId,
        text: String,
        cw: Option<String>,
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        // Crisis language is recognised before anything else touches the text: the
        // message goes to the room exactly as written, and help goes to its author.
        let crisis = app.crisis.detect(&text);
        let bytes = text.len();
        // Kept only when a crisis message may be refused (muted, paused, …): then the
        // facilitators must still see what was said.
        let crisis_text = crisis.map(|_| text.clone());
        // The policy runs here, on this member's own task, not under the room's lock:
        // rustrict costs tens of µs to ms per message, and one member's long text must
        // not stall the room. Facilitators are not screened.
        let screened = match self.role {
            Role::Facilitator => None,
            Role::Participant => match app.broker.policy(self.room).await {
                Ok(policy) => Some(Screened {
                    verdict: policy.evaluate_with_crisis(&text, crisis.is_some()),
                    policy,
                }),
                Err(_) => None,
            },
        };
        let cmd = Command::Send {
            user: self.user,
            client_id: client_id.clone(),
            text,
            cw,
            crisis: crisis.is_some(),
            screened,
        };
        let applied = match app.broker.apply(self.room, cmd, now_ms()).await {
            Ok(applied) => applied,
            Err(e) => {
                self.broker_error(conn, Some(client_id), &e).await?;
                if let Some(category) = crisis {
                    // The room could not take it, but help cannot wait.
                    self.crisis_help(conn, category, None, crisis_text).await?;
                }
                return Ok(());
            }
        };
        if !applied.duplicate {
            app.metrics.messages_in.inc();
        }
        tracing::debug!(peer = self.peer.id, room = %self.room, seq = ?applied.ack, bytes, duplicate = applied.duplicate, held = applied.held.is_some(), "message");
        if let Some(held) = &applied.held {
            conn.send_frame(&ServerFrame::Ack {
                client_id,
                seq: None,
                held: true,
            })
            .await?;
            if applied.duplicate {
                return Ok(());
            }
            let alert = ServerFrame::Alert {
                ts: now_ms(),
                kind: AlertKind::Held,
                seq: None,
                user: self.user,
                name: self.name.clone(),
                category: None,
                reason: Some(held.kinds.join(", ")),
                held: Some(held.id),
                text: Some(held.text.clone()),
            };
            self.to_facilitators(&app, &alert).await;
            return Ok(());
        }
        conn.send_frame(&ServerFrame::Ack {
            client_id,
            seq: applied.ack,
            held: false,
        })
        .await?;
        let (Some(seq), false) = (applied.ack, applied.duplicate) else {
            return Ok(());
        };
        if let Some(category) = crisis {
            self.crisis_help(conn, category, Some(seq), None).await?;
        }
        if !applied.flagged.is_empty() {
            let alert = ServerFrame::Alert {
                ts: now_ms(),
                kind: AlertKind::Flagged,
                seq: Some(seq),
                user: self.user,
                name: self.name.clone(),
                category: None,
                reason: Some(applied.flagged.join(", ")),
                held: None,
                text: None,
            };
            self.to_facilitators(&app, &alert).await;
        }
        Ok(())
    }

    /// The resources card to the author, an alert to every facilitator. `seq` is the
    /// message's place in the timeline; when the room refused it, `text` carries it to
    /// the facilitators instead.
    async fn crisis_help(
        &self,
        conn: &mut Conn,
        category: CrisisCategory,
        seq: Option<Seq>,
        text: Option<String>,
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        app.metrics.crisis_alerts.inc();
        // Ids only: that someone is in crisis is theirs to tell, not the log's.
        tracing::info!(room = %self.room, ?seq, "crisis alert raised");
        let card = &app.resources;
        conn.send_frame(&ServerFrame::CrisisResources {
            seq,
            title: card.title.clone(),
            body: card.body.clone(),
            lines: card.lines.clone(),
        })
        .await?;
        let alert = ServerFrame::Alert {
            ts: now_ms(),
            kind: AlertKind::Crisis,
            seq,
            user: self.user,
            name: self.name.clone(),
            category: Some(category),
            reason: None,
            held: None,
            text,
        };
        self.to_facilitators(&app, &alert).await;
        Ok(())
    }

    async fn to_facilitators(&self, app: &AppState, frame: &ServerFrame) {
        let _ = app
            .broker
            .notify(self.room, Audience::Facilitators, wire::encode(frame))
            .await;
    }

    /// A facilitator released or declined a held message: its author hears the outcome
    /// of the `send` they were waiting on.
    async fn settle_held(&self, app: &AppState, action: ModAction, held: &Held, seq: Option<Seq>) {
        let frame = match action {
            ModAction::Release => ServerFrame::Ack {
                client_id: held.client_id.clone(),
                seq,
                held: false,
            },
            _ => wire::error(
                Some(held.client_id.clone()),
                ErrorCode::Filtered,
                "a facilitator decided not to share that message with the room",
                None,
            ),
        };
        let _ = app
            .broker
            .notify(self.room, Audience::User(held.user), wire::encode(&frame))
            .await;
    }

    async fn broker_error(
        &self,
        conn: &mut Conn,
        client_id: Option<ClientId>,
        e: &BrokerError,
    ) -> Result<(), axum::Error> {
        let frame = match e {
            BrokerError::Rejected(r) => wire::rejection(client_id, r),
            BrokerError::NoRoom => wire::error(
                client_id,
                ErrorCode::NotFound,
                "this room no longer exists",
                None,
            ),
            BrokerError::Unavailable(_) => wire::error(
                client_id,
                ErrorCode::Internal,
                "the server is having trouble; please try again in a moment",
                Some(1_000),
            ),
        };
        conn.send_frame(&frame).await
    }
}

fn command_id(frame: &ClientFrame) -> Option<ClientId> {
    match frame {
        ClientFrame::Send { client_id, .. } | ClientFrame::Mod { client_id, .. } => {
            Some(client_id.clone())
        }
        _ => None,
    }
}

fn valid_client_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CLIENT_ID
}

/// An optional text field (content warning, reason, announcement), normalised.
fn optional_text(text: Option<String>, max_chars: usize) -> Result<Option<String>, TextError> {
    text.map(|t| normalize_message(&t, max_chars)).transpose()
}

/// A text that breaks a rule, as the error frame that says which.
fn text_error(client_id: Option<ClientId>, e: &TextError) -> ServerFrame {
    let code = match e {
        TextError::TooLong { .. } => ErrorCode::TooLarge,
        TextError::Empty
        | TextError::ControlCharacter { .. }
        | TextError::BidiControl { .. }
        | TextError::LineBreakInName
        | TextError::InvisibleInName { .. } => ErrorCode::BadRequest,
    };
    wire::error(client_id, code, e.to_string(), None)
}

/// Take one unit from a limiter, or say how long to wait.
fn check(limiter: &DefaultDirectRateLimiter) -> Result<(), Duration> {
    limiter.check().map_err(|not_until| {
        not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ))
    })
}
