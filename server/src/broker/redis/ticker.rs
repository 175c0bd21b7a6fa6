//! One ticker per room. Time passing (a mute that ends, a floor that runs out, a
//! member's grace period, a held session that closes itself) reaches a room as a
//! `Tick` entry in its log, and one instance appends them: the holder of the room's
//! lease in Redis (`kindred:{room}:ticker`, taken if free and renewed every round by
//! its holder, many rooms a script call: `Store::leases`). Every instance bids for every room in the catalog, served
//! here or not, so a room no instance serves a member of still ticks, and a room
//! served by several instances gets one `Tick` per due event. The holder reads the
//! log of a room it holds but does not serve each round (it stays subscribed only
//! while it has members there) and serves it only to append a `Tick`.
//!
//! Whether a tick is due is asked with Redis's clock, the clock every entry carries
//! (the append script stamps it), so an instance whose own clock is wrong neither
//! ends a mute early nor holds a room's timers back. If the holder dies or stalls, its
//! lease runs out and another instance takes it within [`LEASE_TTL`] and a round; a
//! `Tick` appended twice around such a handover finds nothing left to do.

use std::sync::Arc;
use std::time::Duration;

use kindred_protocol::{Millis, RoomId};

use super::Inner;

/// How long a lease lasts without renewal (the holder renews it every round, once a
/// second): how long a room may go without ticks after its ticker died.
pub const LEASE_TTL: Duration = Duration::from_secs(3);

impl Inner {
    /// Once a round: bid for every room's lease; Redis's clock now and the rooms whose
    /// lease this instance holds (the clock's round above the engine appends a `Tick`
    /// to each whose timers are due by that clock), or none if Redis went away.
    pub(super) async fn leases(self: &Arc<Self>) -> Option<(Millis, Vec<RoomId>)> {
        let now = self.store.time().await.ok()?;
        self.read_redis_clock(now);
        let rooms: Vec<RoomId> = self.catalog.lock().keys().copied().collect();
        // Redis went away mid-round: the leases run out by themselves.
        let held = self.store.leases(&rooms, self.me, LEASE_TTL).await.ok()?;
        Some((now, held))
    }
}
