//! The server as a value: its shared state, how to start it on a listener, and how
//! it stops. `main` passes ctrl-c/SIGTERM; tests pass a token they cancel.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::serve::ListenerExt;
use kindred_protocol::{Millis, RoomId, RoomSummary, Visibility};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Signer;
use crate::broker::memory::MemoryBroker;
use crate::broker::redis::RedisBroker;
use crate::broker::{Broker, BrokerError};
use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::room::RoomConfig;
use crate::safety::{CrisisMatcher, ResourcesCard};

/// A rate limiter keyed by client IP address.
pub type IpLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

/// Wall-clock milliseconds: the only clock read outside tests, passed into the domain.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Log filter from `RUST_LOG`-style directives, with the WebSocket and HTTP libraries
/// capped at `debug`: at `trace` they print frame payloads, i.e. members' words. Logs
/// carry ids, sizes and codes only, whatever level an operator asks for.
pub fn log_filter(directives: &str) -> tracing_subscriber::EnvFilter {
    let mut filter = tracing_subscriber::EnvFilter::try_new(directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    for cap in [
        "tungstenite=debug",
        "tokio_tungstenite=debug",
        "hyper=debug",
        "hyper_util=debug",
        "h2=debug",
        "reqwest=debug",
    ] {
        if let Ok(d) = cap.parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// The guidelines a room gets when its creator gives none.
pub const DEFAULT_GUIDELINES: &str = "\
1. What is shared here stays here.\n\
2. Speak from your own experience; listen without judging.\n\
3. No advice unless it is asked for; no diagnosing one another.\n\
4. Be kind. Disagree gently. No hate, harassment or slurs.\n\
5. You may pass: nobody has to share.\n\
6. If you are in danger right now, contact your local emergency number or a crisis line.";

/// Everything a request or session needs.
pub struct AppState {
    pub config: Config,
    pub broker: Arc<dyn Broker>,
    pub hub: Arc<Hub>,
    pub signer: Signer,
    pub admin_token: String,
    pub metrics: Arc<Metrics>,
    /// One permit per open WebSocket.
    pub connections: Arc<Semaphore>,
    /// Every WebSocket session, so shutdown can wait for them.
    pub tracker: TaskTracker,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// Crisis language: built-in phrases plus the operator's.
    pub crisis: CrisisMatcher,
    /// What a member in crisis privately receives.
    pub resources: ResourcesCard,
    /// Joins and WebSocket upgrades per IP.
    pub joins: IpLimiter,
}

/// A running server (returned by [`start`]).
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub state: Arc<AppState>,
    /// Resolves when the server has stopped.
    pub done: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn admin_token(&self) -> &str {
        &self.state.admin_token
    }

    /// Begin graceful shutdown.
    pub fn shutdown(&self) {
        self.state.shutdown.cancel();
    }
}

fn random_token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())
}

/// Build the shared state for a configuration.
pub async fn state(config: Config, shutdown: CancellationToken) -> anyhow::Result<Arc<AppState>> {
    if config.redis_url.is_some() && (config.secret.is_none() || config.admin_token.is_none()) {
        // A generated secret differs per instance: a token one instance signed would be
        // refused by the next, and a member could not resume anywhere else.
        anyhow::bail!(
            "with REDIS_URL, set KINDRED_SECRET and KINDRED_ADMIN_TOKEN, the same on every instance"
        );
    }
    let metrics = Arc::new(Metrics::new());
    let hub = Arc::new(Hub::new(config.outbound_queue, metrics.clone()));
    let broker: Arc<dyn Broker> = match &config.redis_url {
        Some(url) => Arc::new(
            RedisBroker::connect(
                url,
                config.redis_cluster,
                hub.clone(),
                metrics.clone(),
                config.limits(),
                config.history_len,
            )
            .await?,
        ),
        None => {
            metrics.broker_up.set(1);
            Arc::new(MemoryBroker::new(
                hub.clone(),
                metrics.clone(),
                config.limits(),
                config.history_len,
            ))
        }
    };
    let mut crisis = CrisisMatcher::builtin();
    if let Some(path) = &config.crisis_phrases {
        let data = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        crisis.extend(
            CrisisMatcher::parse(&data)
                .map_err(|e| anyhow::anyhow!("in {}: {e}", path.display()))?,
        );
    }
    let resources = match &config.resources_card {
        Some(path) => {
            let data = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            ResourcesCard::from_json(&data)
                .map_err(|e| anyhow::anyhow!("in {}: {e}", path.display()))?
        }
        None => ResourcesCard::default(),
    };
    crate::safety::init();
    let per_minute = std::num::NonZeroU32::new(config.joins_per_minute_per_ip)
        .unwrap_or(std::num::NonZeroU32::MIN);
    let joins = governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute));
    let secret = config.secret.clone().unwrap_or_else(random_token);
    let admin_token = config.admin_token.clone().unwrap_or_else(random_token);
    Ok(Arc::new(AppState {
        connections: Arc::new(Semaphore::new(config.max_connections)),
        signer: Signer::new(secret.as_bytes()),
        admin_token,
        broker,
        hub,
        metrics,
        tracker: TaskTracker::new(),
        shutdown,
        crisis,
        resources,
        joins,
        config,
    }))
}

/// Create the demo room (`cargo run` prints its address).
pub async fn create_demo_room(state: &AppState) -> Result<RoomSummary, BrokerError> {
    state
        .broker
        .create_room(
            RoomId::new(),
            RoomConfig {
                title: "Evening circle".to_owned(),
                topic: "Living with depression and anxiety".to_owned(),
                description: "A small peer-support group. Come as you are; share or just listen."
                    .to_owned(),
                guidelines: DEFAULT_GUIDELINES.to_owned(),
                capacity: state.config.room_capacity,
                visibility: Visibility::Public,
                policy: Default::default(),
            },
        )
        .await
}

/// Serve on `listener` until `state.shutdown` is cancelled, then close every
/// socket with 1001 and wait (bounded) for the sessions to finish.
pub async fn serve(listener: TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    let ticker = tokio::spawn(tick_rooms(state.clone()));
    let router = crate::http::router(state.clone());
    let shutdown = state.shutdown.clone();
    // Nagle off: sessions coalesce their own writes, and a chat frame should not
    // wait for the peer's delayed ACK.
    let send_buffer = state.config.socket_send_buffer;
    let listener = listener.tap_io(move |tcp| {
        let _ = tcp.set_nodelay(true);
        let _ = socket2::SockRef::from(&*tcp).set_send_buffer_size(send_buffer);
    });
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await;
    ticker.abort();
    state.tracker.close();
    if tokio::time::timeout(state.config.shutdown_grace(), state.tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            remaining = state.tracker.len(),
            "shutdown grace elapsed with sessions still open"
        );
    }
    served
}

/// Bind, then serve in the background. For tests and embedding.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let state = state(config, CancellationToken::new()).await?;
    let done = tokio::spawn({
        let state = state.clone();
        async move {
            if let Err(e) = serve(listener, state).await {
                tracing::error!(error = %e, "server stopped with an error");
            }
        }
    });
    Ok(Running { addr, state, done })
}

/// Once a second: grace periods, mute and floor expiry.
async fn tick_rooms(state: Arc<AppState>) {
    let mut every = tokio::time::interval(std::time::Duration::from_millis(
        (state.config.presence_grace_ms / 4).clamp(50, 1_000),
    ));
    loop {
        every.tick().await;
        state.broker.tick(now_ms()).await;
        // Forget addresses whose limits have fully recovered, so the map stays small.
        state.joins.retain_recent();
    }
}
