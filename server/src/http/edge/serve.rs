//! Serving one accepted connection: hyper's HTTP/1.1 builder with a timer (the header
//! deadline, keep-alive), the peer's address handed to the router, our own keep-alive
//! watch over the connection's requests, and its end at shutdown: told to finish,
//! then dropped when the grace period is over.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::caps::Counted;
use crate::config::Config;

/// How connections on one listener are served.
#[derive(Clone, Debug)]
pub struct EdgeSettings {
    pub header_timeout: Duration,
    /// `None`: no keep-alive.
    pub keep_alive: Option<Duration>,
    /// SO_SNDBUF for every accepted socket.
    pub send_buffer: usize,
}

impl EdgeSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            header_timeout: config.header_timeout(),
            keep_alive: config.keep_alive_timeout(),
            send_buffer: config.sockets.socket_send_buffer,
        }
    }
}

/// What the keep-alive watch needs to know about a connection's requests.
#[derive(Debug)]
struct Activity {
    start: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `start` when the last response was produced, plus one; 0: none
    /// yet.
    last_done: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_done: AtomicU64::new(0),
        }
    }

    /// Since when the connection has been waiting for another request, if it has served
    /// one and has none in flight.
    fn idle_since(&self) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        match self.last_done.load(Ordering::Acquire) {
            0 => None,
            ms => Some(self.start + Duration::from_millis(ms - 1)),
        }
    }
}

/// Marks a request in flight until dropped.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let ms = u64::try_from(self.0.start.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.0.last_done.store(ms + 1, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

pub(super) async fn serve_connection(
    io: Counted,
    peer: SocketAddr,
    router: Router,
    settings: EdgeSettings,
    shutdown: CancellationToken,
    hard_stop: CancellationToken,
) {
    let activity = Arc::new(Activity::new());
    // A WebSocket upgraded on this connection writes its frames into the socket's
    // gather (`http::ws` hands it to the session).
    let gather = io.gather.clone();
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req.extensions_mut().insert(gather.clone());
            let busy = Busy::new(&activity);
            let response = router.clone().oneshot(req);
            async move {
                let response = response.await;
                drop(busy);
                response
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .keep_alive(settings.keep_alive.is_some());
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let mut finishing = false;
    loop {
        // The keep-alive watch: when the connection has been idle long enough, or, while
        // a request is in flight, again one keep-alive period later.
        let watch = settings
            .keep_alive
            .filter(|_| !finishing)
            .map(|keep_alive| {
                activity
                    .idle_since()
                    .map_or_else(|| Instant::now() + keep_alive, |since| since + keep_alive)
            });
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            _ = shutdown.cancelled(), if !finishing => {
                finishing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = hard_stop.cancelled() => break,
            _ = sleep_until_or_never(watch) => {
                if let (Some(keep_alive), Some(since)) = (settings.keep_alive, activity.idle_since())
                    && since.elapsed() >= keep_alive
                {
                    finishing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

async fn sleep_until_or_never(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
