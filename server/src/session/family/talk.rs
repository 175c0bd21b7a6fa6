//! Talk in the room, beside a member's message (`message.rs`): typing, a raised or
//! lowered hand, a reaction. A hand and a reaction are events for everyone, from the
//! room's fold; their sender hears only a refusal. Typing is relayed beside the room.

use kindred_protocol::{Reaction, Seq};
use tokio::time::Instant;

use crate::clock::now_ms;
use crate::room::Command;
use crate::session::{Conn, Live, TYPING_INTERVAL};

impl Live {
    pub(in crate::session) async fn typing(&mut self, conn: &mut Conn) {
        let app = conn.app.clone();
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

    pub(in crate::session) async fn hand(
        &mut self,
        conn: &mut Conn,
        raised: bool,
    ) -> Result<(), axum::Error> {
        let cmd = Command::Hand {
            user: self.user,
            raised,
        };
        self.apply_quietly(conn, cmd).await
    }

    pub(in crate::session) async fn react(
        &mut self,
        conn: &mut Conn,
        target: Seq,
        emoji: Reaction,
    ) -> Result<(), axum::Error> {
        let cmd = Command::React {
            user: self.user,
            target,
            emoji,
        };
        self.apply_quietly(conn, cmd).await
    }

    /// A command answered only when refused (a hand, a reaction).
    pub(super) async fn apply_quietly(
        &mut self,
        conn: &mut Conn,
        cmd: Command,
    ) -> Result<(), axum::Error> {
        let app = conn.app.clone();
        if let Err(e) = self.apply(&app, cmd).await {
            self.broker_error(conn, None, &e).await?;
        }
        Ok(())
    }
}
