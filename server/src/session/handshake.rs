//! The handshake: wait for `hello`, admit the member, send `welcome` and its backlog
//! (or, in the waiting room, a `welcome` that gives them no room yet, and the room's
//! `welcome` once a facilitator lets them in).

use axum::extract::ws::Message;
use kindred_protocol::{
    ClientFrame, ErrorCode, Me, PROTOCOL_VERSION, ResumeKind, Seq, Welcome, close_code,
};
use tokio::time::Instant;

use super::{Conn, Live};
use crate::broker::{BrokerError, ResumeFrom, Snapshot};
use crate::clock::now_ms;
use crate::room::{Briefing, Command, Rejection};
use crate::wire::{self, Encoded};

impl Conn {
    /// Wait for `hello`, admit the member and send `welcome` with its backlog.
    pub(super) async fn handshake(&mut self) -> Option<Live> {
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
                            first_time,
                        }) => break (token, last_seq, epoch, first_time),
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
        let (token, last_seq, epoch, first_time) = hello;
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
        let attached = self.app.hub.attach(
            (room, claims.user, claims.role),
            &self.app.shutdown,
            self.app.config.sockets.max_connections_per_member,
            || self.app.config.member_budget(),
        );
        let peer = match attached {
            Ok(peer) => peer,
            Err(e) => {
                tracing::info!(%room, open = e.open, "hello refused: too many connections");
                let message = format!(
                    "you already have {} connections open to this room; close one \
                     (another tab or window) and connect again",
                    e.open
                );
                self.refuse(
                    ErrorCode::RateLimited,
                    &message,
                    close_code::TOO_MANY_CONNECTIONS,
                    "too many connections",
                )
                .await;
                return None;
            }
        };
        let connect = Command::Connect {
            user: claims.user,
            name: claims.name.clone(),
            role: claims.role,
            session: claims.session,
            origin: claims.origin.clone(),
            first_time,
        };
        // For a facilitator, the answer carries what is open for them: alerts and
        // held messages raised while no facilitator (or not this one) was here.
        let arrived = match arrive(self.app.broker.clone(), room, connect).await {
            Ok(applied) => applied,
            Err(e) => {
                self.app.hub.detach(room, peer.id);
                let (code, message, close, reason) = refusal(&e);
                self.refuse(code, &message, close, reason).await;
                return None;
            }
        };
        let resume = match (last_seq, epoch) {
            (Some(last_seq), Some(epoch)) => Some(ResumeFrom { last_seq, epoch }),
            // A last_seq without an epoch cannot be trusted to mean this history.
            (Some(_), None) => Some(ResumeFrom {
                last_seq: Seq::MAX,
                epoch: 0,
            }),
            (None, _) => None,
        };
        // Let in (to the room, or to the waiting room if a facilitator has not let
        // them in yet) in the same step that finds them there: a ban, a removal or a
        // leave from another tab that landed since `Connect` leaves this connection
        // out, told why.
        let recent = self.app.config.rooms.welcome_history;
        let snapshot = match self.app.broker.snapshot(room, &peer, resume, recent).await {
            Ok(s) => s,
            Err(e) => {
                let kick = peer.kick_reason();
                Live::new(&self.app, claims, peer, (0, None))
                    .depart(&self.app, false)
                    .await;
                match kick {
                    Some(kick) => self.close(kick.close_code(), kick.reason()).await,
                    None => {
                        let (code, message, close, reason) = refusal(&e);
                        self.refuse(code, &message, close, reason).await;
                    }
                }
                return None;
            }
        };
        let waiting = snapshot.waiting;
        let stepped_out = snapshot.stepped_out.clone();
        tracing::debug!(
            peer = peer.id,
            %room,
            user = %claims.user,
            backlog = snapshot.backlog.len(),
            resume = resume_name(snapshot.resume),
            waiting,
            "welcome"
        );
        let you = Me {
            user: claims.user,
            name: claims.name.clone(),
            role: claims.role,
            waiting,
            stepped_out,
        };
        let epoch = snapshot.seen_epoch();
        let (mut frames, seq) = self.welcome(you, snapshot);
        let mut live = Live::new(&self.app, claims, peer, (seq, epoch));
        // welcome (in parts if its member list is large), backlog, then what is open
        // for a facilitator: one write, raced against a kick or a shutdown (the event
        // loop then closes as it should) and bounded in time.
        if let Some(briefing) = &arrived.briefing {
            frames.extend(briefing_frames(briefing));
            // Share the air: the figures as they stand, the first the watch gives.
            if let Some(air) = live.watch_air(now_ms(), briefing.air.clone()) {
                frames.push(wire::encode(&wire::share_the_air(&air)));
            }
        }
        // The session's private messages they may read (a reload keeps them).
        frames.extend(
            arrived
                .whispers
                .iter()
                .map(|w| wire::encode(&wire::whisper(w, true))),
        );
        // A warning they have not acknowledged yet is still waiting for them.
        frames.extend(
            arrived
                .pending_warning
                .iter()
                .map(|w| wire::encode(&wire::warning(w, false))),
        );
        if live.write(self, frames, false).await.is_err() {
            live.depart(&self.app, false).await;
            return None;
        }
        Some(live)
    }

    /// The `welcome` (in parts if its member list is large) and its backlog, and the
    /// seq they bring the client to. In the waiting room the snapshot carries what the
    /// directory shows of the room and nothing of what happens inside.
    pub(super) fn welcome(&self, you: Me, snapshot: Snapshot) -> (Vec<Encoded>, Seq) {
        let welcome = Welcome {
            protocol: PROTOCOL_VERSION,
            you,
            room: crate::schedule::dated(snapshot.summary, now_ms()),
            members: snapshot.members,
            state: snapshot.state,
            policy: snapshot.policy,
            seq: snapshot.seq,
            epoch: snapshot.epoch,
            resume: snapshot.resume,
            backlog: u32::try_from(snapshot.backlog.len()).unwrap_or(u32::MAX),
            member_parts: 0,
            cw_topics: snapshot.cw_topics,
            moods: snapshot.moods,
        };
        let mut frames = wire::welcome(welcome, self.welcome_budget());
        frames.extend(snapshot.backlog);
        (frames, snapshot.seq)
    }

    /// The largest frame the welcome may take: what the socket's write buffer holds
    /// (`http::ws` sizes it from these settings) less what may already be buffered.
    fn welcome_budget(&self) -> usize {
        let c = &self.app.config.sockets;
        let limit = c
            .ws_max_write_buffer
            .max(c.ws_write_buffer + c.max_frame_bytes);
        limit.saturating_sub(c.ws_write_buffer + 64).max(1024)
    }
}

/// What a facilitator is given after `welcome`: the open alerts and held messages, the
/// warnings not yet acknowledged, who is waiting, and the session's moderation log (the
/// last two always, so a client that resumed replaces what it showed).
fn briefing_frames(b: &Briefing) -> Vec<Encoded> {
    let mut frames: Vec<Encoded> = b
        .kept
        .iter()
        .map(|k| wire::encode(&wire::kept(k)))
        .collect();
    frames.extend(
        b.warnings
            .iter()
            .map(|w| wire::encode(&wire::warning(w, false))),
    );
    frames.push(wire::encode(&wire::waiting_list(&b.waiting)));
    frames.push(wire::encode(&wire::mod_log(&b.log)));
    frames
}

/// A resume's kind as the wire names it (for logs).
fn resume_name(kind: ResumeKind) -> &'static str {
    match kind {
        ResumeKind::Fresh => "fresh",
        ResumeKind::Resumed => "resumed",
        ResumeKind::Reset => "reset",
    }
}

/// The member's `Connect`, answered within [`ARRIVAL_PATIENCE`]: a store that does
/// not answer by then is `Unavailable` (the client is told `internal` and reconnects).
/// The command goes on meanwhile; if it lands after all, it counts a connection that
/// has left the hub, which the Redis broker finds and takes back by restating its
/// connections (`Inner::overcounted`), never by a second `Disconnect`.
async fn arrive(
    broker: crate::broker::Rooms,
    room: kindred_protocol::RoomId,
    connect: Command,
) -> Result<crate::room::Applied, BrokerError> {
    let arriving = tokio::spawn(async move { broker.apply(room, connect, now_ms()).await });
    match tokio::time::timeout(ARRIVAL_PATIENCE, arriving).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => Err(BrokerError::Unavailable(e.to_string())),
        Err(_) => Err(BrokerError::Unavailable(
            "the room's store did not answer in time".into(),
        )),
    }
}

/// How long a `hello` waits for the room to take the member in before it is answered
/// `internal` (PROTOCOL.md §5 promises an answer within 5 s).
const ARRIVAL_PATIENCE: std::time::Duration = std::time::Duration::from_secs(4);

/// Map a broker refusal at arrival to an error frame and a close.
fn refusal(e: &BrokerError) -> (ErrorCode, String, u16, &'static str) {
    match e {
        BrokerError::Rejected(
            r @ (Rejection::RoomFull | Rejection::Locked | Rejection::TooManyFromAddress),
        ) => (
            r.code(),
            r.to_string(),
            close_code::ROOM_UNAVAILABLE,
            "room unavailable",
        ),
        BrokerError::Rejected(r @ Rejection::Banned) => {
            (r.code(), r.to_string(), close_code::REMOVED, "banned")
        }
        BrokerError::Rejected(r @ Rejection::InviteInvalid) => (
            r.code(),
            r.to_string(),
            close_code::UNAUTHORIZED,
            "invite withdrawn",
        ),
        BrokerError::Rejected(r @ (Rejection::Closed | Rejection::NotOpen)) => (
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
        BrokerError::Unavailable(_) | BrokerError::Unconfirmed(_) | BrokerError::Moved => (
            ErrorCode::Internal,
            "the server is having trouble; please reconnect in a moment".to_owned(),
            close_code::GOING_AWAY,
            "unavailable",
        ),
    }
}
