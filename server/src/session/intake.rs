//! What every client frame passes through before its family handles it, in this
//! order: the frame rate (charged before the frame is parsed, so a flood, valid or
//! not, costs the server no more than reading a command's id), the parse, the
//! command's id, and the member's message or moderation budget (shared by their tabs);
//! then, from `dispatch`'s table, the frame's texts, normalised (`checked`). Each
//! refusal is answered here, with the command's id when it has one.

use std::time::Duration;

use kindred_protocol::{ClientFrame, ClientId, ErrorCode, Role};
use tokio::time::Instant;

use super::{Conn, Flow, Live, MAX_CLIENT_ID};
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
        if client_id.as_ref().is_some_and(|id| !valid_client_id(id)) {
            self.fail(
                conn,
                None,
                ErrorCode::BadRequest,
                "client_id must be 1–64 bytes",
            )
            .await?;
            return Ok(Flow::Continue);
        }
        if let Err(wait) = self.charge(&frame) {
            self.rate_limited(conn, client_id, wait).await?;
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

    /// The member's budget a frame spends, shared by their tabs, charged before its
    /// texts are read: a message's, or a moderation's. A second `hello`, typing and
    /// leaving spend none.
    fn charge(&self, frame: &ClientFrame) -> Result<(), Duration> {
        let budget = &self.peer.budget;
        match frame {
            ClientFrame::Hello { .. } | ClientFrame::Typing | ClientFrame::Leave => Ok(()),
            // A hand, a reaction and a report are each an event or an alert for
            // others: they count against the message rate like a message.
            ClientFrame::Send { .. }
            | ClientFrame::Hand { .. }
            | ClientFrame::Pass
            | ClientFrame::Queue { .. }
            | ClientFrame::StepAway { .. }
            | ClientFrame::React { .. }
            | ClientFrame::Report { .. }
            | ClientFrame::Whisper { .. }
            | ClientFrame::WaitingNote { .. }
            | ClientFrame::Concern { .. }
            | ClientFrame::Checkin { .. }
            | ClientFrame::Checkout { .. } => budget.message(),
            // Handling an alert is a facilitator's action; reading a card or a
            // note is a member's.
            ClientFrame::AckWarning { alert } => match (self.role, alert) {
                (Role::Facilitator, Some(_)) => budget.moderation(),
                _ => budget.message(),
            },
            ClientFrame::Mod { .. } => budget.moderation(),
        }
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

    /// A frame's texts, normalised, or `None` once a text that breaks a rule has
    /// been answered (with the command's id, if it has one).
    pub(super) async fn checked<T>(
        &mut self,
        conn: &mut Conn,
        client_id: Option<ClientId>,
        texts: Result<T, TextError>,
    ) -> Result<Option<T>, axum::Error> {
        match texts {
            Ok(texts) => Ok(Some(texts)),
            Err(e) => {
                self.reply(conn, &wire::text_error(client_id, &e)).await?;
                Ok(None)
            }
        }
    }
}

/// The id a command carries, for the answers to it (a message's, a `mod`'s).
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
pub(super) fn optional_text(
    text: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, TextError> {
    text.map(|t| normalize_message(&t, max_chars)).transpose()
}

/// Just a command's id, read from a frame that is over the rate (whatever else it
/// holds is skipped, not kept).
#[derive(serde::Deserialize)]
struct CommandId {
    #[serde(default)]
    client_id: Option<ClientId>,
}
