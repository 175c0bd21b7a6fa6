//! What every member task of a run shares with the conductor: the scenario, the
//! servers, the rooms and members as they stand, the senders' schedule and the stop.

use kindred_protocol::RoomId;
use kindred_protocol::client::Http;
use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore};
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use crate::config::Scenario;
use crate::live::{Live, MemberCell, RoomCell};

/// What every member task shares.
#[derive(Debug)]
pub struct Ctx {
    pub scn: Scenario,
    pub http: Vec<Http>,
    pub room_ids: Vec<RoomId>,
    pub rooms: Vec<RoomCell>,
    pub members: Vec<MemberCell>,
    pub live: Live,
    pub handshakes: Semaphore,
    /// The senders' schedule; [`Ctx::plan_changed`] is notified after each change.
    pub plan: Mutex<SendPlan>,
    pub plan_changed: Notify,
    pub stop: CancellationToken,
}

/// How fast senders send; `None` = not at all.
#[derive(Debug, Clone, Default)]
pub struct SendPlan {
    pub period_per_sender: Option<Duration>,
    /// Bumped on every change, to re-spread the senders' phases.
    pub generation: u64,
}

/// One second before `t` (or `t` itself so early after boot that there is none).
pub fn second_before(t: Instant) -> Instant {
    t.checked_sub(Duration::from_secs(1)).unwrap_or(t)
}
