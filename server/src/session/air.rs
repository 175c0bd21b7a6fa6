//! Share the air, as one facilitator's connection is told of it: the figures after
//! the `welcome` (from the arrival's briefing), then a look at the room every
//! [`AIR_LOOK`], written only when the room's watch ([`AirWatch`]) says they changed
//! and the interval since the last frame has passed. The figures are the room's
//! own (counted in the fold), read from this instance's replica, so the same
//! throttle works over both brokers; a participant's connection keeps no watch.

use std::time::Duration;

use kindred_protocol::AirShare;

use super::{Conn, Live};
use crate::clock::now_ms;
use crate::room::AirWatch;
use crate::wire;

/// How often a facilitator's connection looks at the figures.
pub(super) const AIR_LOOK: Duration = Duration::from_secs(1);

impl Live {
    /// The figures to give this connection now, if any (never for a participant).
    pub(super) fn watch_air(&mut self, now: u64, figures: Vec<AirShare>) -> Option<Vec<AirShare>> {
        self.air.as_mut()?.due(now, figures)
    }

    /// Whether this connection keeps a watch (a facilitator's).
    pub(super) fn watches_air(&self) -> bool {
        self.air.is_some()
    }

    /// Look at the room's figures and write them if the watch says so. A room out of
    /// reach is looked at again next time.
    pub(super) async fn look_at_air(&mut self, conn: &mut Conn) -> Result<(), axum::Error> {
        if !self.watches_air() {
            return Ok(());
        }
        let Ok(figures) = conn.app.broker.share_the_air(self.room).await else {
            return Ok(());
        };
        match self.watch_air(now_ms(), figures) {
            Some(air) => {
                let frame = wire::encode(&wire::share_the_air(&air));
                self.write(conn, vec![frame], false).await.map(|_| ())
            }
            None => Ok(()),
        }
    }
}

/// A new connection's watch: a facilitator's, or none.
pub(super) fn watch_for(role: kindred_protocol::Role) -> Option<AirWatch> {
    (role == kindred_protocol::Role::Facilitator).then(AirWatch::default)
}
