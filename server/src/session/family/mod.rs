//! The client frames' handlers, one module per family, each reached from
//! `dispatch`'s table with its budget charged and its texts normalised: `talk`
//! (typing, a hand, a reaction) and `message` (a member's message, and the help
//! their crisis words bring, which a whisper shares), `private` (a whisper, a report,
//! a warning read or an alert handled), `moderation` (a facilitator's `mod`) and
//! `presence` (leaving, and a second `hello`), `structure` (a pass, asking to share,
//! and a script's texts). Each gives the room its command and
//! answers its sender alone; what the command causes for anyone else leaves the room
//! through its fold (`broker::timeline`). Here: the answer to a command the broker
//! refused, which they share.

mod message;
mod moderation;
mod presence;
mod private;
mod structure;
mod talk;

pub(super) use structure::script_texts;

use kindred_protocol::ClientId;

use crate::broker::BrokerError;
use crate::broker::hub::Kick;
use crate::clock::now_ms;
use crate::room::{Applied, Command};
use crate::session::{Conn, Live};
use crate::state::AppState;
use crate::wire;

impl Live {
    /// Give the room a command of this member's, in the epoch of this connection's
    /// welcome (`Rooms::apply_seen`).
    async fn apply(&self, app: &AppState, cmd: Command) -> Result<Applied, BrokerError> {
        app.broker
            .apply_seen(self.room, self.epoch, cmd, now_ms())
            .await
    }

    /// The sender's answer to a command the room refused or could not take.
    async fn broker_error(
        &mut self,
        conn: &mut Conn,
        client_id: Option<ClientId>,
        e: &BrokerError,
    ) -> Result<(), axum::Error> {
        let frame = match e {
            BrokerError::Rejected(r) => wire::rejection(client_id, r),
            BrokerError::NoRoom => wire::no_room(client_id),
            BrokerError::Unavailable(_) => wire::unavailable(client_id),
            BrokerError::Unconfirmed(_) => wire::unconfirmed(client_id),
            BrokerError::Moved => {
                // The room's history was reset since this connection's welcome: no
                // answer in the old epoch's terms; the client resumes, is given the
                // `reset`, and sends what is still pending again (`client_id` keeps
                // a message that did land from landing twice).
                self.peer.kick(Kick::Resync);
                return Ok(());
            }
        };
        self.reply(conn, &frame).await
    }
}
