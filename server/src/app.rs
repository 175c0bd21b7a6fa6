//! The server as a value: building its shared state ([`state`]), starting it on a
//! listener, and how it stops. `main` passes ctrl-c/SIGTERM; tests pass a token they
//! cancel. It sits on top: it uses every other module and none uses it.

use std::sync::Arc;
use std::time::Duration;

use kindred_protocol::{RoomId, RoomSummary, Visibility};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Signer;
use crate::broker::hub::Hub;
use crate::broker::memory::MemoryBroker;
use crate::broker::redis::RedisBroker;
use crate::broker::{BrokerError, Engine, Rooms};
use crate::clock::now_ms;
use crate::config::Config;
use crate::http::edge;
use crate::invite::{Minted, mint};
use crate::metrics::Metrics;
use crate::room::{Command, DEFAULT_GUIDELINES, RoomConfig, UpdateRoom};
use crate::safety::{CrisisMatcher, Detector, ResourcesCard};
use crate::state::{AppState, RoomDirectory, allowance};

/// The libraries whose `trace` (and, for some, `debug`) output carries payloads: frame
/// contents, close reasons, headers.
const CAPPED_LIBRARIES: [&str; 6] = [
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
];

/// The log filter for `RUST_LOG`-style directives: exactly what they ask for, except that
/// the WebSocket and HTTP libraries never go above `debug` (at `trace` they print frame
/// payloads, i.e. members' words). The cap only lowers: a library's level is the smaller
/// of what the directives give it and `debug`, so `RUST_LOG=error` keeps them at
/// `error`. Logs carry ids, sizes and codes only, whatever level an operator asks for.
///
/// A per-layer filter: `registry().with(fmt::layer().with_filter(log_filter(..)))`.
pub fn log_filter<S>(
    directives: &str,
) -> impl tracing_subscriber::layer::Filter<S> + Send + Sync + use<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::filter::FilterExt;
    use tracing_subscriber::filter::{LevelFilter, Targets};

    let requested = tracing_subscriber::EnvFilter::try_new(directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let caps = CAPPED_LIBRARIES
        .iter()
        .fold(Targets::new().with_default(LevelFilter::TRACE), |t, lib| {
            t.with_target(*lib, LevelFilter::DEBUG)
        });
    FilterExt::<S>::and(requested, caps)
}

/// A running server (returned by [`start`]).
pub struct Running {
    pub addr: std::net::SocketAddr,
    /// Where `/metrics` is served (`--metrics-bind`); not on `addr`.
    pub metrics_addr: std::net::SocketAddr,
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
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Bind a listener, naming the address and the setting when it cannot be had.
pub async fn bind(addr: std::net::SocketAddr, flag: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {flag} {addr}: {e}"))
}

/// Build the shared state for a configuration.
pub async fn state(config: Config, shutdown: CancellationToken) -> anyhow::Result<Arc<AppState>> {
    let problems = config.problems();
    anyhow::ensure!(problems.is_empty(), "{}", problems.join("\n"));
    let metrics = Arc::new(Metrics::new());
    let hub = Arc::new(Hub::new(config.sockets.outbound_queue, metrics.clone()));
    let engine: Arc<dyn Engine> = match &config.storage.redis_url {
        Some(url) => Arc::new(
            RedisBroker::connect(
                url,
                config.storage.redis_cluster,
                config
                    .tokens
                    .secret
                    .as_deref()
                    .unwrap_or_default()
                    .as_bytes(),
                hub.clone(),
                metrics.clone(),
                config.limits(),
                config.rooms.history_len,
                (
                    config.storage.redis_durability,
                    std::time::Duration::from_millis(config.storage.redis_durability_timeout_ms),
                ),
            )
            .await?,
        ),
        None => {
            metrics.broker_up.set(1);
            let broker = MemoryBroker::new(
                hub.clone(),
                metrics.clone(),
                config.limits(),
                config.rooms.history_len,
            );
            match &config.storage.catalog_file {
                Some(path) => {
                    let (broker, restored) =
                        broker.with_catalog(crate::catalog::CatalogFile::new(path))?;
                    tracing::info!(path = %path.display(), rooms = restored, "catalog file read");
                    Arc::new(broker)
                }
                None => Arc::new(broker),
            }
        }
    };
    let broker = Rooms::new(engine, metrics.clone(), config.limits());
    metrics.set_build_info(if config.storage.redis_url.is_some() {
        "redis"
    } else {
        "memory"
    });
    let mut rules = CrisisMatcher::builtin();
    if let Some(path) = &config.operations.crisis_phrases {
        let data = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "KINDRED_CRISIS_PHRASES (--crisis-phrases) {}: {e}",
                path.display()
            )
        })?;
        rules.extend(CrisisMatcher::parse(&data).map_err(|e| {
            anyhow::anyhow!(
                "KINDRED_CRISIS_PHRASES (--crisis-phrases) {}: {e}",
                path.display()
            )
        })?);
    }
    let crisis = Detector::new(rules);
    let resources = match &config.operations.resources_card {
        Some(path) => {
            let data = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!(
                    "KINDRED_RESOURCES_CARD (--resources-card) {}: {e}",
                    path.display()
                )
            })?;
            ResourcesCard::from_json(&data).map_err(|e| {
                anyhow::anyhow!(
                    "KINDRED_RESOURCES_CARD (--resources-card) {}: {e}",
                    path.display()
                )
            })?
        }
        None => ResourcesCard::default(),
    };
    crate::safety::init();
    let joins = allowance::per_minute(config.rates.joins_per_minute_per_ip);
    let directory = RoomDirectory::from_config(&config);
    let secret = config.tokens.secret.clone().unwrap_or_else(random_token);
    let admin_token = config
        .tokens
        .admin_token
        .clone()
        .unwrap_or_else(random_token);
    Ok(Arc::new(AppState {
        connections: Arc::new(Semaphore::new(config.edge.max_connections)),
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
        directory,
        config,
    }))
}

/// Create the demo room (`cargo run` prints its links): open from the start, so a
/// newcomer can try both sides at once, and unlisted unless `--list-demo-room` asks for
/// it, so nobody looking for a real group lands in it. It says it is a demo wherever it
/// shows. Returns the room and a single-use facilitator invite for it.
pub async fn create_demo_room(state: &AppState) -> Result<(RoomSummary, Minted), BrokerError> {
    let id = RoomId::new();
    // Every start makes its own demo room; the catalog file does not keep them (said
    // before it is made, so it never waits for the file nor reaches it).
    state.broker.transient(id);
    state
        .broker
        .create_room(
            id,
            RoomConfig {
                title: "Demo room".to_owned(),
                topic: "A demo of Kindred, not a support group".to_owned(),
                description: "This room is for trying Kindred out. It is not a support group \
                              and nobody is watching it: if you need help now, please \
                              contact a crisis line or your local emergency number."
                    .to_owned(),
                guidelines: DEFAULT_GUIDELINES.to_owned(),
                capacity: state.config.rooms.room_capacity,
                visibility: if state.config.operations.list_demo_room {
                    Visibility::Public
                } else {
                    Visibility::Unlisted
                },
                policy: Default::default(),
                // Nobody watches the demo room, and it says so: it is never held.
                facilitated: false,
                schedule: None,
                waiting_room: false,
                cw_topics: crate::room::default_cw_topics(),
            },
            now_ms(),
        )
        .await?;
    let open = UpdateRoom {
        open: Some(true),
        ..Default::default()
    };
    state
        .broker
        .apply(id, Command::Configure(Box::new(open)), now_ms())
        .await?;
    let room = state.broker.room(id).await?;
    let ttl = state.config.tokens.invite_ttl_secs;
    // One use: the link is printed on every start, and stdout often ends up in a log
    // others read; whoever opens it first is the demo's facilitator.
    let invite = mint(&state.broker, &state.signer, id, ttl, 1, now_ms()).await?;
    Ok((room, invite))
}

/// Most connections at once to the metrics listener (a scraper needs one or two).
const METRICS_CONNECTIONS: usize = 64;

/// Serve the public routes on `listener` and `/metrics` on `metrics` until
/// `state.shutdown` is cancelled. Then: stop accepting, close every WebSocket with 1001
/// (the sessions see the same token), tell every HTTP connection to finish (an idle one
/// closes at once, one mid-request after its response), and after `shutdown_grace_ms`
/// drop whatever is still open: a stalled upload or a half-sent header cannot hold
/// shutdown.
pub async fn serve(
    listener: TcpListener,
    metrics: TcpListener,
    state: Arc<AppState>,
) -> std::io::Result<()> {
    let ticker = tokio::spawn(tick_rooms(state.clone()));
    let connections = edge::Connections::new();
    let settings = edge::EdgeSettings::from_config(&state.config);
    let public = edge::accept_loop(
        listener,
        crate::http::router(state.clone()),
        edge::ConnectionCaps::from_config(&state.config),
        settings.clone(),
        state.shutdown.clone(),
        connections.clone(),
    );
    let metrics = edge::accept_loop(
        metrics,
        crate::http::metrics_router(state.clone()),
        edge::ConnectionCaps::new(METRICS_CONNECTIONS, 0, Vec::new(), 64),
        settings,
        state.shutdown.clone(),
        connections.clone(),
    );
    // Both loops return once shutdown is cancelled; their listeners close with them.
    tokio::join!(public, metrics);
    ticker.abort();
    connections.close();
    state.tracker.close();
    let everything_closed = async {
        tokio::join!(connections.wait(), state.tracker.wait());
    };
    if tokio::time::timeout(state.config.shutdown_grace(), everything_closed)
        .await
        .is_err()
    {
        tracing::warn!(
            connections = connections.len(),
            sessions = state.tracker.len(),
            "shutdown grace elapsed; dropping the connections still open"
        );
        connections.drop_all();
        // Told to stop, a connection task ends at its next poll and drops its socket.
        let _ = tokio::time::timeout(Duration::from_millis(200), connections.wait()).await;
    }
    // The sessions are over: what the catalog file must keep is final now.
    state.broker.flush().await;
    Ok(())
}

/// Bind the public and the metrics listeners, then serve in the background. For tests
/// and embedding.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let listener = bind(config.edge.bind, "--bind").await?;
    let metrics = bind(config.operations.metrics_bind, "--metrics-bind").await?;
    let addr = listener.local_addr()?;
    let metrics_addr = metrics.local_addr()?;
    let state = state(config, CancellationToken::new()).await?;
    let done = tokio::spawn({
        let state = state.clone();
        async move {
            if let Err(e) = serve(listener, metrics, state).await {
                tracing::error!(error = %e, "server stopped with an error");
            }
        }
    });
    Ok(Running {
        addr,
        metrics_addr,
        state,
        done,
    })
}

/// Once a second: grace periods, mute and floor expiry.
async fn tick_rooms(state: Arc<AppState>) {
    let mut every = tokio::time::interval(std::time::Duration::from_millis(
        (state.config.rooms.presence_grace_ms / 4).clamp(50, 1_000),
    ));
    loop {
        every.tick().await;
        state.broker.tick(now_ms()).await;
        // Forget addresses whose limits have fully recovered, so the map stays small.
        state.joins.retain_recent();
        state.directory.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;

    /// Under `log_filter(directives)`: tungstenite at debug, trace and error, then
    /// Kindred's own code at trace.
    fn enabled_under(directives: &str) -> [bool; 4] {
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::sink)
                .with_filter(super::log_filter(directives)),
        );
        tracing::subscriber::with_default(subscriber, || {
            [
                tracing::enabled!(target: "tungstenite::protocol", Level::DEBUG),
                tracing::enabled!(target: "tungstenite::protocol", Level::TRACE),
                tracing::enabled!(target: "tungstenite::protocol", Level::ERROR),
                tracing::enabled!(target: "kindred::session", Level::TRACE),
            ]
        })
    }

    #[test]
    fn the_libraries_are_capped_at_debug_and_never_raised_above_what_was_asked() {
        assert_eq!(enabled_under("error"), [false, false, true, false]);
        assert_eq!(enabled_under("info"), [false, false, true, false]);
        assert_eq!(enabled_under("trace"), [true, false, true, true]);
        // Asking for a library by name does not get past the cap either.
        assert_eq!(
            enabled_under("error,tungstenite::protocol=trace"),
            [true, false, true, false]
        );
    }
}
