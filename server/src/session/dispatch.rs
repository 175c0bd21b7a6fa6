//! One inbound frame: parsed, rate limited, turned into a command for the room, and
//! the sender's own answer. What the command causes for anyone else leaves the room
//! through its fold (`broker::timeline`), never from here; typing alone is relayed
//! beside the room, at most once.

use std::time::Duration;

use kindred_protocol::{ClientFrame, ClientId, ErrorCode, Role};
use tokio::time::Instant;

use super::message::Raised;
use super::{Conn, Flow, Live, MAX_CLIENT_ID, MAX_LABEL_CHARS, MAX_REASON_CHARS, TYPING_INTERVAL};
use crate::broker::BrokerError;
use crate::clock::now_ms;
use crate::room::{Command, Concern, ModRequest, Rejection};
use crate::safety::budget::take;
use crate::safety::{TextError, normalize_message};
use crate::wire;

impl Live {
    pub(super) async fn on_text(
        &mut self,
        conn: &mut Conn,
        text: &str,
    ) -> Result<Flow, axum::Error> {
        // The frame rate is charged before anything is done with the frame: a flood,
        // valid or not, costs the server no more than reading a command's id.
        if let Err(wait) = take(&self.frames) {
            let client_id = serde_json::from_str::<CommandId>(text)
                .ok()
                .and_then(|c| c.client_id)
                .filter(|id| valid_client_id(id));
            self.rate_limited(conn, client_id, wait).await?;
            return Ok(Flow::Continue);
        }
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

    /// A binary frame: counted like any frame, then refused.
    pub(super) async fn on_binary(&mut self, conn: &mut Conn) -> Result<(), axum::Error> {
        if let Err(wait) = take(&self.frames) {
            return self.rate_limited(conn, None, wait).await;
        }
        self.reply(conn, &wire::binary_refused()).await
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
            self.reply(conn, &wire::too_fast(client_id, retry)).await?;
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
                if let Err(wait) = self.peer.budget.message() {
                    self.rate_limited(conn, Some(client_id), wait).await?;
                    return Ok(Flow::Continue);
                }
                let checked = normalize_message(&text, app.config.rooms.max_message_chars)
                    .and_then(|text| Ok((text, optional_text(cw, MAX_LABEL_CHARS)?)));
                let (text, cw) = match checked {
                    Ok(v) => v,
                    Err(e) => {
                        let frame = wire::text_error(Some(client_id), &e);
                        return self.reply(conn, &frame).await.map(|()| Flow::Continue);
                    }
                };
                self.send(conn, client_id, text, cw).await?;
            }
            ClientFrame::Typing => {
                // Nobody in the room knows someone in the waiting room is there, and
                // someone who may not post (muted, paused, held, warned, off the
                // floor) is not shown typing.
                let due = !self.peer.waiting()
                    && self
                        .last_typing
                        .is_none_or(|t| t.elapsed() >= TYPING_INTERVAL);
                if due
                    && app
                        .broker
                        .typing(self.room, self.user, &self.name, now_ms())
                        .await
                {
                    self.last_typing = Some(Instant::now());
                }
            }
            ClientFrame::Hand { raised } => {
                // A hand, a reaction and a report are each an event or an alert for
                // others: they count against the message rate like a message.
                let cmd = Command::Hand {
                    user: self.user,
                    raised,
                };
                self.apply_counted(conn, cmd).await?;
            }
            ClientFrame::React { seq, emoji } => {
                let cmd = Command::React {
                    user: self.user,
                    target: seq,
                    emoji,
                };
                self.apply_counted(conn, cmd).await?;
            }
            ClientFrame::Report { seq, reason } => {
                if let Err(wait) = self.peer.budget.message() {
                    self.rate_limited(conn, None, wait).await?;
                    return Ok(Flow::Continue);
                }
                let reason = match optional_text(reason, MAX_REASON_CHARS) {
                    Ok(r) => r,
                    Err(e) => {
                        let frame = wire::text_error(None, &e);
                        return self.reply(conn, &frame).await.map(|()| Flow::Continue);
                    }
                };
                // The reported message and the three before it, as they read now: the
                // alert keeps them even if the message is withdrawn later.
                let context = match app.broker.quotes(self.room, seq).await {
                    Ok(quotes) => quotes,
                    Err(e @ BrokerError::Rejected(_)) => {
                        return self
                            .broker_error(conn, None, &e)
                            .await
                            .map(|()| Flow::Continue);
                    }
                    // The report still reaches the facilitators, without the quotes.
                    Err(_) => Vec::new(),
                };
                let cmd = Command::Report {
                    user: self.user,
                    target: seq,
                    reason,
                    context,
                };
                match app.broker.apply(self.room, cmd, now_ms()).await {
                    // The alert reaches the facilitators from the room's fold, and
                    // is kept open there for one who is not here now.
                    Ok(applied) => {
                        if let Some(alert) = &applied.alert {
                            tracing::info!(peer = self.peer.id, room = %self.room, seq, id = alert.id, "report");
                        }
                    }
                    Err(e) => self.broker_error(conn, None, &e).await?,
                }
            }
            ClientFrame::Whisper { to, text } => {
                if let Err(wait) = self.peer.budget.message() {
                    self.rate_limited(conn, None, wait).await?;
                    return Ok(Flow::Continue);
                }
                let text = match normalize_message(&text, app.config.rooms.max_message_chars) {
                    Ok(t) => t,
                    Err(e) => {
                        let frame = wire::text_error(None, &e);
                        return self.reply(conn, &frame).await.map(|()| Flow::Continue);
                    }
                };
                // A participant always whispers to the facilitators; a facilitator
                // may whisper to one member (a private check-in).
                let to = match (self.role, to) {
                    (Role::Facilitator, Some(to)) => Some(to),
                    (Role::Facilitator | Role::Participant, _) => None,
                };
                // The room decides whether anyone can read it (it knows who is
                // connected on every instance) and keeps it for the session, so a
                // reload keeps the conversation; its fold delivers it to its audience
                // (or, kept for the facilitators, to its author's tabs alone).
                // Crisis words written privately bring help like any others.
                let crisis = match self.role {
                    Role::Participant => app.crisis.detect(&text).map(Concern::from),
                    Role::Facilitator => None,
                };
                let cmd = Command::Whisper {
                    user: self.user,
                    to,
                    text,
                    crisis,
                };
                let applied = match app.broker.apply(self.room, cmd, now_ms()).await {
                    Ok(applied) => applied,
                    // Not delivered, and the sender is told so rather than shown a
                    // copy that looks sent.
                    Err(e) => {
                        return self
                            .broker_error(conn, None, &e)
                            .await
                            .map(|()| Flow::Continue);
                    }
                };
                if let Some(whisper) = applied.whisper.as_ref().filter(|w| w.kept) {
                    tracing::info!(peer = self.peer.id, room = %self.room, id = whisper.id, "whisper kept for the facilitators");
                }
                if let Some(concern) = crisis {
                    self.help(conn, concern, Raised::by(&applied)).await?;
                }
            }
            ClientFrame::AckWarning { alert } => {
                // Handling an alert is a facilitator's action; reading a card or a
                // note is a member's.
                let spent = match (self.role, alert) {
                    (Role::Facilitator, Some(_)) => self.peer.budget.moderation(),
                    _ => self.peer.budget.message(),
                };
                if let Err(wait) = spent {
                    self.rate_limited(conn, None, wait).await?;
                    return Ok(Flow::Continue);
                }
                let cmd = Command::AckWarning {
                    user: self.user,
                    alert,
                };
                match app.broker.apply(self.room, cmd, now_ms()).await {
                    // Every tab of theirs puts the note away and the facilitators see
                    // it was read: from the room's fold.
                    Ok(applied) => {
                        if let Some(w) = &applied.acknowledged {
                            tracing::info!(peer = self.peer.id, room = %self.room, id = w.id, "warning acknowledged");
                        } else if let Some(id) = alert {
                            tracing::info!(peer = self.peer.id, room = %self.room, id, "alert handled");
                        }
                    }
                    // Another facilitator handled it first: nothing to say.
                    Err(BrokerError::Rejected(Rejection::NotFound)) => {}
                    Err(e) => self.broker_error(conn, None, &e).await?,
                }
            }
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
                on,
                report,
                ban,
            } => {
                if let Err(wait) = self.peer.budget.moderation() {
                    self.rate_limited(conn, Some(client_id), wait).await?;
                    return Ok(Flow::Continue);
                }
                let checked = optional_text(reason, MAX_REASON_CHARS).and_then(|reason| {
                    Ok((
                        reason,
                        optional_text(text, app.config.rooms.max_message_chars)?,
                    ))
                });
                let (reason, text) = match checked {
                    Ok(v) => v,
                    Err(e) => {
                        let frame = wire::text_error(Some(client_id), &e);
                        return self.reply(conn, &frame).await.map(|()| Flow::Continue);
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
                    on,
                    report,
                    ban: ban.unwrap_or(false),
                };
                let cmd = Command::Moderate {
                    actor: self.user,
                    request,
                };
                match app.broker.apply(self.room, cmd, now_ms()).await {
                    // What it causes for others (a warning, a held message's outcome to
                    // its author, the log's new entry) comes from the room's fold.
                    Ok(applied) => {
                        tracing::info!(peer = self.peer.id, room = %self.room, action = action.as_str(), "moderation");
                        let seq = applied.events.last().map(|e| e.seq);
                        self.reply(conn, &wire::ack(client_id, seq)).await?;
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

    /// A command that counts against the member's message rate and is answered only
    /// when refused (a hand, a reaction).
    async fn apply_counted(&mut self, conn: &mut Conn, cmd: Command) -> Result<(), axum::Error> {
        if let Err(wait) = self.peer.budget.message() {
            return self.rate_limited(conn, None, wait).await;
        }
        let app = conn.app.clone();
        if let Err(e) = app.broker.apply(self.room, cmd, now_ms()).await {
            self.broker_error(conn, None, &e).await?;
        }
        Ok(())
    }

    pub(super) async fn broker_error(
        &mut self,
        conn: &mut Conn,
        client_id: Option<ClientId>,
        e: &BrokerError,
    ) -> Result<(), axum::Error> {
        let frame = match e {
            BrokerError::Rejected(r) => wire::rejection(client_id, r),
            BrokerError::NoRoom => wire::no_room(client_id),
            BrokerError::Unavailable(_) => wire::unavailable(client_id),
        };
        self.reply(conn, &frame).await
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

/// Just a command's id, read from a frame that is over the rate (whatever else it
/// holds is skipped, not kept).
#[derive(serde::Deserialize)]
struct CommandId {
    #[serde(default)]
    client_id: Option<ClientId>,
}
