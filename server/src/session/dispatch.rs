//! The table from a client frame to its family's handler (`family/`). `intake` has
//! parsed the frame, checked its command's id and charged its budget; here its texts
//! are normalised (`checked`, a refusal answered there) and what passed is handed to
//! one handler. What a command causes for anyone else leaves the room through its fold
//! (`broker::timeline`), never from the session; typing alone is relayed beside the
//! room, at most once.

use kindred_protocol::ClientFrame;

use super::family;
use super::intake::optional_text;
use super::{Conn, Flow, Live, MAX_LABEL_CHARS, MAX_REASON_CHARS};
use crate::room::ModRequest;
use crate::safety::normalize_message;

impl Live {
    pub(super) async fn dispatch(
        &mut self,
        conn: &mut Conn,
        frame: ClientFrame,
    ) -> Result<Flow, axum::Error> {
        let max_chars = conn.app.config.rooms.max_message_chars;
        match frame {
            // Talk (`family/talk.rs`, a message in `family/message.rs`).
            ClientFrame::Send {
                client_id,
                text,
                cw,
                guard,
            } => {
                let texts = normalize_message(&text, max_chars)
                    .and_then(|text| Ok((text, optional_text(cw, MAX_LABEL_CHARS)?)));
                if let Some((text, cw)) = self.checked(conn, Some(client_id.clone()), texts).await?
                {
                    self.send(conn, client_id, text, (cw, guard)).await?;
                }
            }
            ClientFrame::Typing => self.typing(conn).await,
            ClientFrame::Hand { raised } => self.hand(conn, raised).await?,
            // The structured group (`family/structure.rs`).
            ClientFrame::Pass => self.pass(conn).await?,
            ClientFrame::Queue { on } => self.ask_to_share(conn, on).await?,
            ClientFrame::StepAway { on } => self.step_away(conn, on).await?,
            ClientFrame::Checkin { mood, words } => self.mood(conn, false, mood, words).await?,
            ClientFrame::Checkout { mood, words } => self.mood(conn, true, mood, words).await?,
            ClientFrame::React { seq, emoji } => self.react(conn, seq, emoji).await?,
            // Private (`family/private.rs`).
            ClientFrame::Whisper { to, text } => {
                let text = normalize_message(&text, max_chars);
                if let Some(text) = self.checked(conn, None, text).await? {
                    self.whisper(conn, to, text).await?;
                }
            }
            ClientFrame::WaitingNote { text } => {
                let text = normalize_message(&text, max_chars);
                if let Some(text) = self.checked(conn, None, text).await? {
                    self.waiting_note(conn, text).await?;
                }
            }
            ClientFrame::Concern { user, seq } => self.concern(conn, user, seq).await?,
            ClientFrame::Report { seq, reason } => {
                let reason = optional_text(reason, MAX_REASON_CHARS);
                if let Some(reason) = self.checked(conn, None, reason).await? {
                    self.report(conn, seq, reason).await?;
                }
            }
            ClientFrame::AckWarning { alert } => self.ack_warning(conn, alert).await?,
            // Moderation (`family/moderation.rs`).
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
                alert,
                ban,
                index,
                script,
                cw,
            } => {
                let texts = optional_text(reason, MAX_REASON_CHARS).and_then(|reason| {
                    let text = optional_text(text, max_chars)?;
                    let cw = optional_text(cw, MAX_LABEL_CHARS)?;
                    Ok((reason, text, family::script_texts(script)?, cw))
                });
                if let Some((reason, text, script, cw)) =
                    self.checked(conn, Some(client_id.clone()), texts).await?
                {
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
                        alert,
                        ban: ban.unwrap_or(false),
                        index,
                        script,
                        cw,
                    };
                    self.moderate(conn, client_id, request).await?;
                }
            }
            // Presence (`family/presence.rs`).
            ClientFrame::Hello { .. } => self.hello_again(conn).await?,
            ClientFrame::Leave => return Ok(self.leave(conn).await),
        }
        Ok(Flow::Continue)
    }
}
