//! What passes between a member and the facilitators alone: a whisper (with the help
//! its crisis words bring, as a message's would: `message.rs`), a report of a message,
//! and a warning read or an alert handled. The room decides who can read each and
//! delivers it from its fold; the sender hears only a refusal, and their own help.

use kindred_protocol::{Role, Seq, UserId};

use super::message::Raised;
use crate::broker::BrokerError;
use crate::room::{About, Command, Concern, Rejection};
use crate::session::{Conn, Live};
use crate::wire;

impl Live {
    pub(in crate::session) async fn whisper(
        &mut self,
        conn: &mut Conn,
        to: Option<UserId>,
        text: String,
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
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
        let applied = match self.apply(&app, cmd).await {
            Ok(applied) => applied,
            // Not delivered, and the sender is told so rather than shown a
            // copy that looks sent.
            Err(e) => return self.broker_error(conn, None, &e).await,
        };
        if let Some(whisper) = applied.whisper.as_ref().filter(|w| w.kept) {
            tracing::info!(peer = self.peer.id, room = %self.room, id = whisper.id, "whisper kept for the facilitators");
        }
        match crisis {
            Some(concern) => self.help(conn, concern, Raised::by(&applied)).await,
            None => Ok(()),
        }
    }

    /// A facilitator's note to everyone in the waiting room; the room delivers it
    /// from its fold, and refuses it from anyone else (`forbidden`).
    pub(in crate::session) async fn waiting_note(
        &mut self,
        conn: &mut Conn,
        text: String,
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        let cmd = Command::WaitingNote {
            user: self.user,
            text,
        };
        match self.apply(&app, cmd).await {
            Ok(_) => Ok(()),
            Err(e) => self.broker_error(conn, None, &e).await,
        }
    }

    /// A member is worried about another: the facilitators are given an alert (with
    /// the subject's message quoted, if its seq is given) from the room's fold, and
    /// the sender is thanked here. Nothing reaches the subject.
    pub(in crate::session) async fn concern(
        &mut self,
        conn: &mut Conn,
        subject: UserId,
        seq: Option<Seq>,
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        let quote = match seq {
            None => None,
            Some(seq) => match app.broker.quotes(self.room, seq).await {
                Ok(quotes) => quotes.into_iter().find(|q| q.seq == seq),
                Err(e @ BrokerError::Rejected(_)) => {
                    return self.broker_error(conn, None, &e).await;
                }
                // The concern still reaches the facilitators, without the quote.
                Err(_) => None,
            },
        };
        let cmd = Command::Concern {
            user: self.user,
            subject,
            seq,
            quote,
        };
        match self.apply(&app, cmd).await {
            Ok(applied) => {
                let name = match applied.alert.as_ref().map(|a| &a.about) {
                    Some(About::Concern { subject_name, .. }) => subject_name.clone(),
                    _ => String::new(),
                };
                let noted = wire::concern_noted(subject, name, applied.told);
                self.reply(conn, &noted).await
            }
            Err(e) => self.broker_error(conn, None, &e).await,
        }
    }

    pub(in crate::session) async fn report(
        &mut self,
        conn: &mut Conn,
        seq: Seq,
        reason: Option<String>,
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        // The reported message and the three before it, as they read now: the
        // alert keeps them even if the message is withdrawn later.
        let context = match app.broker.quotes(self.room, seq).await {
            Ok(quotes) => quotes,
            Err(e @ BrokerError::Rejected(_)) => return self.broker_error(conn, None, &e).await,
            // The report still reaches the facilitators, without the quotes.
            Err(_) => Vec::new(),
        };
        let cmd = Command::Report {
            user: self.user,
            target: seq,
            reason,
            context,
        };
        match self.apply(&app, cmd).await {
            // The alert reaches the facilitators from the room's fold, and
            // is kept open there for one who is not here now.
            Ok(applied) => {
                if let Some(alert) = &applied.alert {
                    tracing::info!(peer = self.peer.id, room = %self.room, seq, id = alert.id, "report");
                }
                Ok(())
            }
            Err(e) => self.broker_error(conn, None, &e).await,
        }
    }

    /// A member read a warning or their crisis card; a facilitator handled an alert.
    pub(in crate::session) async fn ack_warning(
        &mut self,
        conn: &mut Conn,
        alert: Option<u64>,
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        let cmd = Command::AckWarning {
            user: self.user,
            alert,
        };
        match self.apply(&app, cmd).await {
            // Every tab of theirs puts the note away and the facilitators see
            // it was read: from the room's fold.
            Ok(applied) => {
                if let Some(w) = &applied.acknowledged {
                    tracing::info!(peer = self.peer.id, room = %self.room, id = w.id, "warning acknowledged");
                } else if let Some(id) = alert {
                    tracing::info!(peer = self.peer.id, room = %self.room, id, "alert handled");
                }
                Ok(())
            }
            // Another facilitator handled it first: nothing to say.
            Err(BrokerError::Rejected(Rejection::NotFound)) => Ok(()),
            Err(e) => self.broker_error(conn, None, &e).await,
        }
    }
}
