//! One WebSocket connection, from `hello` to close.
//!
//! A session is one task running a closed event loop over four sources: frames
//! from the client, frames queued by the hub, a ping timer, and cancellation
//! (server shutdown or a kick). Inbound frames are parsed, rate limited and turned
//! into domain commands for the broker; the broker's events come back through the
//! hub's bounded queue, already encoded, and are written in batches with one flush.
//! Nothing here logs message text: ids, sizes and codes only.
//!
//! The jobs are split by file: `handshake` (hello → welcome and backlog), `intake`
//! (what every inbound frame passes through: the frame rate, the parse, the command's
//! id, the member's budgets, the texts normalised), `dispatch` (the table from a frame
//! to its family's handler), `family/` (one module per family of frames: `talk` and
//! `message`, `private`, `moderation`, `presence`; each a command for the room and its
//! sender's answer), `air` (a facilitator's share-the-air figures, looked at on the
//! loop's timer) and `send` (everything written to the socket: each write is
//! bounded in time and races the session's stop token). This file holds the entry
//! point and the event loop that ties them together.

mod air;
mod dispatch;
mod family;
mod handshake;
mod intake;
mod send;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use kindred_protocol::{Epoch, Me, Role, RoomId, Seq, UserId, close_code};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use crate::auth::SessionClaims;
use crate::broker::hub::{Kick, Peer};
use crate::clock::now_ms;
use crate::http::edge::Gather;
use crate::room::Command;
use crate::state::AppState;
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

/// Serve one upgraded connection. `permit` holds a slot of the connection limit
/// until the session ends.
pub async fn run(
    socket: WebSocket,
    gather: Gather,
    app: Arc<AppState>,
    permit: OwnedSemaphorePermit,
) {
    app.metrics.connections.inc();
    let mut conn = Conn {
        socket,
        gather,
        app,
    };
    // The handshake's state is large and short-lived: boxed, so the task that lives
    // as long as the connection does not carry its size (memory per idle member).
    if let Some(live) = Box::pin(conn.handshake()).await {
        live.run(&mut conn).await;
    }
    conn.app.metrics.connections.dec();
    // The slot is given back before the socket is dropped: a client that sees its
    // connection end may connect again at once and find it free.
    drop(permit);
    drop(conn);
}

/// The socket and the server, before and after the handshake.
struct Conn {
    socket: WebSocket,
    /// Where this session's text frames gather beneath the socket until a flush of it
    /// writes them (`send`).
    gather: Gather,
    app: Arc<AppState>,
}

/// How a session ends.
enum End {
    /// The client closed or the socket failed: nothing more to say.
    Gone,
    /// Close with this code and reason.
    Close(u16, &'static str),
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
    /// The epoch of the room's log this connection's latest welcome was given in: the
    /// seqs it has been told are that epoch's, so its commands are taken only in it
    /// (`Rooms::apply_seen`). None while it waits outside the room, shown no seq.
    epoch: Option<Epoch>,
    /// Frames of any kind on this connection, charged before a frame is parsed.
    frames: DefaultDirectRateLimiter,
    last_activity: Instant,
    last_typing: Option<Instant>,
    last_limit_notice: Option<Instant>,
    /// Private frames that could not be written because the session was being
    /// stopped (a kick, a shutdown): written on the way out, before the close.
    unsent: Vec<Encoded>,
    /// A facilitator's watch over the room's share-the-air figures (`air.rs`).
    air: Option<crate::room::AirWatch>,
}

/// What to do after handling one inbound frame.
enum Flow {
    Continue,
    Leave,
}

impl Live {
    fn new(
        app: &AppState,
        claims: SessionClaims,
        peer: Arc<Peer>,
        (last_sent, epoch): (Seq, Option<Epoch>),
    ) -> Self {
        let per_second =
            NonZeroU32::new(app.config.rates.frames_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(app.config.rates.frame_burst).unwrap_or(per_second);
        Self {
            room: claims.room,
            user: claims.user,
            name: claims.name,
            role: claims.role,
            peer,
            last_sent,
            epoch,
            frames: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)),
            last_activity: Instant::now(),
            last_typing: None,
            last_limit_notice: None,
            unsent: Vec::new(),
            air: air::watch_for(claims.role),
        }
    }

    async fn run(mut self, conn: &mut Conn) {
        let app = conn.app.clone();
        let (ping_every, idle_after) = (app.config.ping_interval(), app.config.idle_timeout());
        // One timer for pings and for silence: the idle deadline is checked at its own
        // time, whether or not pings are answered (or even written).
        let mut next_ping = Instant::now() + ping_every;
        // A facilitator's look at share the air; a participant's never comes.
        let far = Instant::now() + idle_after;
        let mut next_air = if self.watches_air() {
            Instant::now() + air::AIR_LOOK
        } else {
            far
        };
        let timer =
            tokio::time::sleep_until(next_ping.min(self.last_activity + idle_after).min(next_air));
        tokio::pin!(timer);
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
                        None => {
                            Box::pin(self.write_unsent(conn)).await;
                            break End::Close(close_code::GOING_AWAY, "server shutting down");
                        }
                    }
                }
                () = outbox.outbox.ready() => {
                    // Let in from the waiting room: the room's welcome goes first.
                    if self.peer.owes_welcome() && Box::pin(self.admitted(conn)).await.is_err() {
                        break End::Gone;
                    }
                    // Asked out for a quiet word: the waiting room's welcome goes first.
                    if self.peer.owes_waiting_welcome()
                        && Box::pin(self.stepped_out(conn)).await.is_err()
                    {
                        break End::Gone;
                    }
                    let Some(first) = self.peer.outbox.pop() else { continue };
                    // A reader that stopped reading blocks this write; a kick or a
                    // shutdown must still get through, so the write races them, and
                    // a write that never ends is a reader that fell behind.
                    let written = tokio::select! {
                        biased;
                        r = tokio::time::timeout(app.config.write_timeout(), self.write_batch(conn, first)) => r,
                        () = &mut stopped => Ok(Ok(())),
                    };
                    match written {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => break End::Gone,
                        // The stop token fires on the next turn.
                        Err(_) => self.stalled(&app),
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
                            if Box::pin(self.on_binary(conn)).await.is_err() {
                                break End::Gone;
                            }
                        }
                        Some(Ok(Message::Text(text))) => {
                            // Boxed: handling a command is rare next to delivering,
                            // and its state should not sit in every idle session.
                            // Not raced against a stop as a whole: what the room did
                            // must be followed through (a crisis card, the alerts);
                            // its writes to this socket race the stop themselves.
                            match Box::pin(self.on_text(conn, &text)).await {
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
                () = &mut timer => {
                    let now = Instant::now();
                    if now >= self.last_activity + idle_after {
                        break End::Close(close_code::TIMEOUT, "idle timeout");
                    }
                    if now >= next_ping {
                        next_ping = now + ping_every;
                        if Box::pin(self.ping(conn)).await.is_err() {
                            break End::Gone;
                        }
                    }
                    if self.watches_air() && now >= next_air {
                        next_air = now + air::AIR_LOOK;
                        if Box::pin(self.look_at_air(conn)).await.is_err() {
                            break End::Gone;
                        }
                    }
                    let air_at = if self.watches_air() { next_air } else { next_ping };
                    timer
                        .as_mut()
                        .reset(next_ping.min(self.last_activity + idle_after).min(air_at));
                }
            }
        };
        // The way out is boxed too, for the same reason as the handshake.
        if let End::Close(code, reason) = end {
            Box::pin(conn.close(code, reason)).await;
        }
        Box::pin(self.depart(&app, left)).await;
    }

    /// Tell the room the connection dropped (unless this connection left on purpose,
    /// which the room already knows, or the session it counted in is over), then
    /// leave the hub. A connection told to go because its member's stay ended still says
    /// so: its `Connect` may have been folded after that end (it was arriving), and
    /// then it counts as present until it is taken away.
    async fn depart(self, app: &AppState, left: bool) {
        // Not after the session closed, nor for a connection the room already stopped
        // counting (its instance was taken for gone): said twice, its end would take
        // away the member's next connection.
        let over = matches!(
            self.peer.kick_reason(),
            Some(Kick::RoomClosed | Kick::Uncounted)
        );
        if !left && !over {
            let _ = app
                .broker
                .apply(self.room, Command::Disconnect { user: self.user }, now_ms())
                .await;
        }
        // Counted by the hub until the room has its end (or could not be told it):
        // an instance restating its connections meanwhile counts this one, and the
        // `Disconnect` takes it away once.
        app.hub.detach(self.room, self.peer.id);
    }

    /// The hub asked this connection to go. Answers the session owed the client
    /// (an ack, a crisis card) go first.
    async fn kicked(&mut self, conn: &mut Conn, kick: Kick) -> End {
        self.write_unsent(conn).await;
        match kick {
            Kick::SlowConsumer => {
                // The queue is full and the socket slow: say why without waiting long.
                let frame = wire::slow_consumer();
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, conn.send_frame(&frame)).await;
            }
            Kick::Resync | Kick::Uncounted => {}
            Kick::Left
            | Kick::Removed
            | Kick::Dismissed
            | Kick::Banned
            | Kick::RoomClosed
            | Kick::Denied => {
                // Let them see the event that ended their stay.
                self.drain_outbox(conn).await;
            }
        }
        End::Close(kick.close_code(), kick.reason())
    }

    /// A facilitator let this member in from the waiting room: give them the room as
    /// a member arriving now sees it. What the hub queued since is written after, less
    /// what this welcome's backlog already holds.
    async fn admitted(&mut self, conn: &mut Conn) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        let recent = app.config.rooms.welcome_history;
        let snapshot = match app
            .broker
            .snapshot(self.room, &self.peer, None, recent)
            .await
        {
            Ok(s) => s,
            Err(_) => {
                // Gone again before the welcome (removed, the store out of reach): a
                // reconnect finds out which, and a member is let in then.
                self.peer.kick(Kick::Resync);
                return Ok(());
            }
        };
        tracing::debug!(peer = self.peer.id, room = %self.room, "admitted from the waiting room");
        let you = Me {
            user: self.user,
            name: self.name.clone(),
            role: self.role,
            waiting: false,
            stepped_out: None,
        };
        self.epoch = snapshot.seen_epoch();
        let (frames, seq) = conn.welcome(you, snapshot);
        self.last_sent = seq;
        self.write(conn, frames, false).await.map(|_| ())
    }

    /// A facilitator asked this member out of the room for a quiet word: give them the
    /// waiting room as someone waiting arriving now sees it (with the facilitator's
    /// note), and nothing of the room from now on.
    async fn stepped_out(&mut self, conn: &mut Conn) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        let recent = app.config.rooms.welcome_history;
        let Ok(snapshot) = app
            .broker
            .snapshot(self.room, &self.peer, None, recent)
            .await
        else {
            // Admitted again or gone before this welcome: a reconnect finds out which.
            self.peer.kick(Kick::Resync);
            return Ok(());
        };
        tracing::debug!(peer = self.peer.id, room = %self.room, "stepped out to the waiting room");
        let you = Me {
            user: self.user,
            name: self.name.clone(),
            role: self.role,
            waiting: snapshot.waiting,
            stepped_out: snapshot.stepped_out.clone(),
        };
        self.epoch = snapshot.seen_epoch();
        let (frames, seq) = conn.welcome(you, snapshot);
        self.last_sent = seq;
        self.write(conn, frames, false).await.map(|_| ())
    }

    /// The socket did not take a write in time: the reader fell behind.
    fn stalled(&self, app: &AppState) {
        if self.peer.kick_reason().is_none() && !self.peer.kicked().is_cancelled() {
            app.metrics.slow_consumer();
            tracing::info!(peer = self.peer.id, room = %self.room, "stalled connection disconnected");
        }
        self.peer.kick(Kick::SlowConsumer);
    }
}
