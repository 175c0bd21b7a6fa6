//! A facilitator's `mod`: one command for the room, answered to its sender with an
//! ack (the seq of the last event it caused) or a refusal under the command's id.
//! What it causes for others (a warning, a held message's outcome to its author, the
//! log's new entry, a removal) comes from the room's fold.

use kindred_protocol::ClientId;

use crate::room::{Command, ModRequest};
use crate::session::{Conn, Live};
use crate::wire;

impl Live {
    pub(in crate::session) async fn moderate(
        &mut self,
        conn: &mut Conn,
        client_id: ClientId,
        request: ModRequest,
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        let action = request.action;
        let cmd = Command::Moderate {
            actor: self.user,
            request,
        };
        match self.apply(&app, cmd).await {
            Ok(applied) => {
                tracing::info!(peer = self.peer.id, room = %self.room, action = action.as_str(), "moderation");
                let seq = applied.events.last().map(|e| e.seq);
                self.reply(conn, &wire::ack(client_id, seq)).await
            }
            Err(e) => self.broker_error(conn, Some(client_id), &e).await,
        }
    }
}
