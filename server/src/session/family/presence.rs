//! A member's presence after the handshake: leaving on purpose, which ends the
//! session (the room tells every tab of theirs to go, from its fold), and a second
//! `hello`, refused.

use kindred_protocol::ErrorCode;

use crate::clock::now_ms;
use crate::room::Command;
use crate::session::{Conn, Flow, Live};

impl Live {
    pub(in crate::session) async fn leave(&self, conn: &mut Conn) -> Flow {
        let app = conn.app.clone();
        let cmd = Command::Leave { user: self.user };
        // Whatever epoch the room is in by now: leaving names no seq, and a member who
        // leaves is gone from every tab.
        let _ = app.broker.apply(self.room, cmd, now_ms()).await;
        Flow::Leave
    }

    pub(in crate::session) async fn hello_again(
        &mut self,
        conn: &mut Conn,
    ) -> Result<(), axum::Error> {
        self.fail(conn, None, ErrorCode::BadRequest, "already said hello")
            .await
    }
}
