//! What every request and session shares: [`AppState`], built once by `app::state`
//! and handed to the HTTP handlers and the sessions. It sits below both, so neither
//! reaches up to the code that starts the server. Beside it, what it holds that is
//! Kindred's own: the per-address allowances (`allowance`) and the public room list's
//! allowance and cache (`directory`).

pub mod allowance;
pub mod directory;

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use allowance::IpLimiter;
pub use directory::RoomDirectory;

use crate::auth::Signer;
use crate::broker::Rooms;
use crate::broker::hub::Hub;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::safety::{Detector, ResourcesCard};

/// Everything a request or session needs.
pub struct AppState {
    pub config: Config,
    /// The rooms, over the broker's engine (in memory, or Redis).
    pub broker: Rooms,
    pub hub: Arc<Hub>,
    pub signer: Signer,
    pub admin_token: String,
    pub metrics: Arc<Metrics>,
    /// One permit per open WebSocket.
    pub connections: Arc<Semaphore>,
    /// Every WebSocket session, so shutdown can wait for them (HTTP connections are
    /// tracked by the edge, see `app::serve`).
    pub tracker: TaskTracker,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// Crisis detection: the phrase rules and the classifier.
    pub crisis: Detector,
    /// What a member in crisis privately receives.
    pub resources: ResourcesCard,
    /// Joins and WebSocket upgrades per IP.
    pub joins: IpLimiter,
    /// The public room list's per-address allowance and short cache.
    pub directory: RoomDirectory,
}
