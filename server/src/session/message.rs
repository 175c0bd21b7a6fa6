//! A member's message: crisis detection before anything else touches the text, the
//! content policy's verdict reached outside the room's lock, the room's answer, and
//! what follows it: the facilitators' alerts first, then the sender's ack and, for a
//! crisis, the resources card.

use kindred_protocol::policy::{ContentPolicy, PolicyMode};
use kindred_protocol::{ClientId, CrisisCategory, Role, Seq, ServerFrame};

use super::{Conn, Live};
use crate::clock::now_ms;
use crate::room::{Command, Concern, Screened};
use crate::safety::{Evaluate, Verdict};
use crate::state::AppState;
use crate::wire;

impl Live {
    /// A member's message: through the room's rules and policy, then the private
    /// follow-ups — the alerts to the facilitators first (nothing written to this
    /// socket may hold them up), then the ack, a crisis card, a hold notice.
    pub(super) async fn send(
        &mut self,
        conn: &mut Conn,
        client_id: ClientId,
        text: String,
        cw: Option<String>,
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        // Crisis language is recognised before anything else touches the text: the
        // message goes to the room exactly as written, and help goes to its author.
        let crisis = app.crisis.detect(&text).map(Concern::from);
        let bytes = text.len();
        // Kept only for a crisis message the room cannot record at all (the member
        // was removed at that moment, the store is out of reach): then the
        // facilitators' alert must still carry what was said.
        let crisis_text = crisis.map(|_| text.clone());
        // The policy runs here, not under the room's lock: rustrict costs tens of µs
        // for a line and a millisecond or two for the longest message, and one
        // member's long text must stall neither the room nor this worker's other
        // sockets. Facilitators are not screened.
        let screened = match self.role {
            Role::Facilitator => None,
            Role::Participant => match app.broker.policy(self.room).await {
                Ok(policy) => screen(policy, &text, crisis.is_some())
                    .await
                    .map(|verdict| Screened { verdict, policy }),
                Err(_) => None,
            },
        };
        let cmd = Command::Send {
            user: self.user,
            client_id: client_id.clone(),
            text,
            cw,
            crisis,
            screened,
        };
        let applied = match app.broker.apply(self.room, cmd, now_ms()).await {
            Ok(applied) => applied,
            Err(e) => {
                if let (Some(concern), Some(text)) = (crisis, crisis_text) {
                    // The room could not take it, but help cannot wait.
                    count_alert(&app, concern);
                    tracing::info!(room = %self.room, check_in = concern.check_in, "crisis alert raised (not kept)");
                    let alert =
                        wire::unkept_crisis_alert(now_ms(), self.user, &self.name, concern, text);
                    self.to_facilitators(&app, &alert).await;
                    self.broker_error(conn, Some(client_id), &e).await?;
                    if concern.check_in {
                        return Ok(());
                    }
                    return self.crisis_card(conn, None, concern.category, false).await;
                }
                return self.broker_error(conn, Some(client_id), &e).await;
            }
        };
        if !applied.duplicate && applied.refused.is_none() {
            app.metrics.messages_in.inc();
        }
        tracing::debug!(peer = self.peer.id, room = %self.room, seq = applied.ack.unwrap_or(0), bytes, duplicate = applied.duplicate, held = applied.held.is_some(), "message");
        // A crisis alert (new, or again for a resend whose help may never have gone
        // out) is kept in the room until a facilitator handles it; those here now
        // hear of it at once.
        if let Some(alert) = &applied.alert {
            if let (false, Some(concern)) = (applied.duplicate, crisis) {
                count_alert(&app, concern);
            }
            // Ids only: that someone is in crisis is theirs to tell, not the log's.
            tracing::info!(room = %self.room, seq = applied.ack.unwrap_or(0), id = alert.id, "crisis alert raised");
            self.to_facilitators(&app, &wire::alert(alert)).await;
        }
        if let Some(refused) = &applied.refused {
            self.reply(conn, &wire::rejection(Some(client_id), refused))
                .await?;
            if let (true, Some(category)) = (applied.card, crisis.map(|c| c.category)) {
                self.crisis_card(conn, None, category, applied.told).await?;
            }
            return Ok(());
        }
        if let Some(held) = &applied.held {
            if !applied.duplicate {
                self.to_facilitators(&app, &wire::held_alert(held)).await;
            }
            return self
                .reply(
                    conn,
                    &ServerFrame::Ack {
                        client_id,
                        seq: None,
                        held: true,
                    },
                )
                .await;
        }
        if let (Some(seq), false) = (applied.ack, applied.flagged.is_empty()) {
            let alert = wire::flagged_alert(now_ms(), seq, self.user, &self.name, &applied.flagged);
            self.to_facilitators(&app, &alert).await;
        }
        self.reply(
            conn,
            &ServerFrame::Ack {
                client_id,
                seq: applied.ack,
                held: false,
            },
        )
        .await?;
        if let (true, Some(category)) = (applied.card, crisis.map(|c| c.category)) {
            self.crisis_card(conn, applied.ack, category, applied.told)
                .await?;
        }
        Ok(())
    }

    /// The resources card, privately to the author. `seq` is their message's place in
    /// the timeline, absent when the room did not take it; `told`, whether a
    /// facilitator connected now received the alert.
    pub(super) async fn crisis_card(
        &mut self,
        conn: &mut Conn,
        seq: Option<Seq>,
        category: CrisisCategory,
        told: bool,
    ) -> Result<(), axum::Error> {
        let card = &conn.app.resources;
        let frame = ServerFrame::CrisisResources {
            seq,
            category: Some(category),
            told,
            title: card.title.clone(),
            body: card.body.clone(),
            lines: card.lines.clone(),
        };
        self.reply(conn, &frame).await
    }
}

/// Count a crisis or check-in alert raised now.
pub(super) fn count_alert(app: &AppState, concern: Concern) {
    if concern.check_in {
        app.metrics.check_in_alerts.inc();
    } else {
        app.metrics.crisis_alerts.inc();
    }
}

/// Texts up to this many bytes are screened on the member's task (a tenth of a
/// millisecond or so); longer ones on the blocking pool, off the async workers.
const SCREEN_INLINE_BYTES: usize = 512;

/// The content policy's verdict on a participant's text. `None` if the screening task
/// failed: the room then decides for itself.
async fn screen(policy: ContentPolicy, text: &str, crisis: bool) -> Option<Verdict> {
    if policy.mode == PolicyMode::Off || text.len() <= SCREEN_INLINE_BYTES {
        return Some(policy.evaluate_with_crisis(text, crisis));
    }
    let text = text.to_owned();
    tokio::task::spawn_blocking(move || policy.evaluate_with_crisis(&text, crisis))
        .await
        .ok()
}
