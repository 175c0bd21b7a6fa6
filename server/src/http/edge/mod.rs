//! The edge: accepting TCP connections and serving HTTP/1.1 on them with hyper, every
//! wait bounded.
//!
//! - **At accept**, before a byte is read: a cap on open connections in total and per
//!   client address ([`ConnectionCaps`], in `caps`); one over either cap gets a best-effort `503`
//!   or `429` written without reading, and is closed. The count is held by the socket
//!   itself ([`Counted`]), so a connection that became a WebSocket still counts.
//! - **Headers**: hyper's header read timeout (with a timer) closes a connection that
//!   has not sent a complete request head in time, whether it sends nothing, sends it a
//!   byte at a time, or sits idle between requests. Kindred serves HTTP/1.1 only, so
//!   there is no protocol sniffing before that timer starts (hyper-util's auto builder
//!   reads the first bytes with no timer at all).
//! - **Keep-alive**: an idle keep-alive connection is closed after the keep-alive
//!   timeout.
//! - **Bodies**: a declared `Content-Length` over the limit is refused with `413` before
//!   any of it is read ([`guard_body`]); every body must arrive in full before its
//!   deadline (`deadline`), or the request fails with `408`.
//! - **Shutdown**: the listener stops accepting, every connection is told to finish
//!   (an idle one closes at once, one mid-request after its response), and whatever is
//!   still open after the grace period is dropped.

mod caps;
pub mod deadline;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Body as HttpBody;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use kindred_protocol::ErrorCode;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

pub use caps::{ConnectionCaps, Refused, Slot};
use caps::{Counted, RefusalLog, refuse};
use deadline::DeadlineBody;

use super::AppError;
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
            send_buffer: config.socket_send_buffer,
        }
    }
}

/// The connections of every listener, so shutdown can tell them to finish and drop the
/// ones that do not.
#[derive(Clone, Debug, Default)]
pub struct Connections {
    tasks: TaskTracker,
    /// Cancelled when the grace period is over: every connection still open is dropped.
    hard_stop: CancellationToken,
}

impl Connections {
    pub fn new() -> Self {
        Self::default()
    }

    /// Connection tasks still running.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// No new connections will be added; [`Connections::wait`] can finish.
    pub fn close(&self) {
        self.tasks.close();
    }

    /// Resolves when every connection task has ended (after [`Connections::close`]).
    pub async fn wait(&self) {
        self.tasks.wait().await;
    }

    /// Drop every connection still open.
    pub fn drop_all(&self) {
        self.hard_stop.cancel();
    }
}

/// Accept on `listener` until `shutdown`, serving `router` on each connection.
pub async fn accept_loop(
    listener: TcpListener,
    router: Router,
    caps: Arc<ConnectionCaps>,
    settings: EdgeSettings,
    shutdown: CancellationToken,
    connections: Connections,
) {
    let refusals = RefusalLog::default();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
        };
        let slot = match caps.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(why) => {
                refuse(&tcp, why);
                refusals.note(why, caps.open());
                continue;
            }
        };
        // Nagle off: sessions coalesce their own writes, and a chat frame should not
        // wait for the peer's delayed ACK. A bounded send buffer makes a reader that
        // stopped reading visible (its queue fills) instead of hiding megabytes in the
        // kernel.
        let _ = tcp.set_nodelay(true);
        let _ = socket2::SockRef::from(&tcp).set_send_buffer_size(settings.send_buffer);
        let io = Counted { tcp, _slot: slot };
        connections.tasks.spawn(serve_connection(
            io,
            peer,
            router.clone(),
            settings.clone(),
            shutdown.clone(),
            connections.hard_stop.clone(),
        ));
    }
}

/// Errors that concern one connection only are skipped; anything else (out of file
/// descriptors) pauses accepting a moment instead of spinning.
async fn accept_error(e: io::Error) {
    match e.kind() {
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset => {}
        _ => {
            tracing::error!(error = %e, "accept failed; pausing");
            tokio::time::sleep(Duration::from_millis(100)).await;
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

async fn serve_connection(
    io: Counted,
    peer: SocketAddr,
    router: Router,
    settings: EdgeSettings,
    shutdown: CancellationToken,
    hard_stop: CancellationToken,
) {
    let activity = Arc::new(Activity::new());
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
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

/// The request body limits, for [`guard_body`].
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub timeout: Duration,
}

/// Refuse a declared body over the limit before reading any of it, and give every other
/// body a deadline to arrive by.
pub async fn guard_body(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request.body().size_hint().lower();
    if declared > limits.max_bytes as u64 {
        let mut response = AppError::new(
            ErrorCode::TooLarge,
            format!("the request body is larger than {} bytes", limits.max_bytes),
        )
        .into_response();
        // The body stays unread, so the connection cannot carry another request.
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return response;
    }
    if request.body().size_hint().exact() == Some(0) {
        return next.run(request).await;
    }
    let deadline = Instant::now() + limits.timeout;
    let request = request.map(|body| Body::new(DeadlineBody::new(body, deadline)));
    next.run(request).await
}
