//! A member's message (`send`, of the talk family): crisis detection before anything
//! else touches the text, the guardrail's finding and the content policy's verdict
//! reached outside the room's lock, and the sender's own answer: the ack or refusal and, for crisis words, the
//! help their own instance gives (the card, the count, the log line), which a whisper
//! shares (`help`). The facilitators' alerts leave the room through its fold before
//! the sender is answered.

use kindred_protocol::policy::{ContentPolicy, GuardChoice, PolicyMode};
use kindred_protocol::{ClientId, Role, Seq};

use crate::clock::now_ms;
use crate::room::{Applied, Command, Concern, Guarded, Screened};
use crate::safety::{Evaluate, Guard, Verdict};
use crate::session::{Conn, Live};
use crate::wire;

impl Live {
    /// A member's message: through the room's rules and policy, then the sender's
    /// answer — the ack (or refusal, or hold notice) and a crisis card. The alerts
    /// are handed to this instance's facilitators in the room's fold, before `apply`
    /// returns (and to every other instance's as it folds the command), so nothing
    /// written to this socket can hold them up.
    pub(in crate::session) async fn send(
        &mut self,
        conn: &mut Conn,
        client_id: ClientId,
        text: String,
        (cw, choice): (Option<String>, Option<GuardChoice>),
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        // Crisis language is recognised before anything else touches the text: help
        // goes to its author and the facilitators whatever the room decides.
        let crisis = app.crisis.detect(&text).map(Concern::from);
        // The guardrail looks here too, outside any lock (a few µs: rules, then a
        // small model). Whether it asks, holds or lets it through is the room's
        // policy, decided under the room's lock with everything else.
        let guard = Guarded {
            found: Guard::default().detect(&text),
            choice,
        };
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
            guard,
        };
        let applied = match self.apply(&app, cmd).await {
            Ok(applied) => applied,
            Err(e) => {
                let Some((concern, text)) = crisis.zip(crisis_text) else {
                    return self.broker_error(conn, Some(client_id), &e).await;
                };
                // The room could not take it, so nothing of it leaves through the
                // room; but help cannot wait: the facilitators connected now are
                // alerted beside it, before the author hears anything.
                let alert =
                    wire::unkept_crisis_alert(now_ms(), self.user, &self.name, concern, text);
                let _ = app
                    .broker
                    .unkept_alert(self.room, wire::encode(&alert))
                    .await;
                self.broker_error(conn, Some(client_id), &e).await?;
                return self.help(conn, concern, Raised::unkept(concern)).await;
            }
        };
        if !applied.duplicate && applied.refused.is_none() {
            app.metrics.messages_in.inc();
        }
        tracing::debug!(peer = self.peer.id, room = %self.room, seq = applied.ack.unwrap_or(0), bytes, duplicate = applied.duplicate, held = applied.held.is_some(), "message");
        // Whatever it raised for the facilitators (a crisis or check-in alert, a
        // message held or flagged) left through the room's fold; here only its
        // sender is answered.
        let answer = match &applied.refused {
            Some(refused) => wire::rejection(Some(client_id), refused),
            None if applied.held.is_some() => wire::held_ack(client_id),
            None => wire::ack(client_id, applied.ack),
        };
        self.reply(conn, &answer).await?;
        match crisis {
            Some(concern) => self.help(conn, concern, Raised::by(&applied)).await,
            None => Ok(()),
        }
    }

    /// Help for a member's crisis words, as their own instance gives it, for a message
    /// and a whisper alike. The alert itself has reached the facilitators already
    /// (from the room's fold, or beside it for words the room could not take); here
    /// it is counted (a resend's is counted once) and logged by ids only, and the
    /// author is shown the resources card when their words call for it.
    pub(super) async fn help(
        &mut self,
        conn: &mut Conn,
        concern: Concern,
        raised: Raised,
    ) -> Result<(), axum::Error> {
        let app = &conn.app;
        if raised.alert != Alerted::None {
            if !raised.resent {
                if concern.check_in {
                    app.metrics.check_in_alerts.inc();
                } else {
                    app.metrics.crisis_alerts.inc();
                }
            }
            // Ids only: that someone is in crisis is theirs to tell, not the log's.
            let (id, kept) = match raised.alert {
                Alerted::Kept(id) => (id, true),
                Alerted::Unkept | Alerted::None => (0, false),
            };
            tracing::info!(peer = self.peer.id, room = %self.room, seq = raised.seq.unwrap_or(0), id, kept, check_in = concern.check_in, resent = raised.resent, "crisis alert raised");
        }
        if !raised.card {
            return Ok(());
        }
        let frame =
            wire::crisis_resources(&app.resources, raised.seq, concern.category, raised.told);
        self.reply(conn, &frame).await
    }
}

/// What a member's crisis words raised, for their own instance to follow up.
pub(super) struct Raised {
    alert: Alerted,
    /// A resend raised it again: it was counted the first time.
    resent: bool,
    /// The author is to be shown the resources card.
    card: bool,
    /// Their message's place in the timeline, absent when the room did not take it
    /// (refused, held, a whisper).
    seq: Option<Seq>,
    /// A facilitator connected now received the alert (the room knows who is
    /// connected on every instance).
    told: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Alerted {
    /// The room keeps the alert open under this id.
    Kept(u64),
    /// The room could not take the words: the alert went beside it.
    Unkept,
    /// No alert now (a resend whose alert a facilitator has handled already).
    None,
}

impl Raised {
    /// As the room decided.
    pub(super) fn by(applied: &Applied) -> Self {
        Self {
            alert: applied
                .alert
                .as_ref()
                .map_or(Alerted::None, |a| Alerted::Kept(a.id)),
            resent: applied.duplicate,
            card: applied.card,
            seq: applied.ack,
            told: applied.told,
        }
    }

    /// Words the room could not take: nobody was told through it.
    fn unkept(concern: Concern) -> Self {
        Self {
            alert: Alerted::Unkept,
            resent: false,
            card: !concern.check_in,
            seq: None,
            told: false,
        }
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
