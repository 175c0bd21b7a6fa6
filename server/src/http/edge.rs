//! The edge: accepting TCP connections and serving HTTP/1.1 on them with hyper, every
//! wait bounded.
//!
//! - **At accept**, before a byte is read: a cap on open connections in total and per
//!   client address ([`ConnectionCaps`]); one over either cap gets a best-effort `503`
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
//!   deadline ([`DeadlineBody`]), or the request fails with `408`.
//! - **Shutdown**: the listener stops accepting, every connection is told to finish
//!   (an idle one closes at once, one mid-request after its response), and whatever is
//!   still open after the grace period is dropped.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dashmap::DashMap;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use kindred_protocol::ErrorCode;
use kindred_protocol::http::HttpError;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::AppError;
use super::forwarded::{is_trusted, limit_key};
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

/// Why a connection was closed at accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    Total,
    PerAddress,
}

impl Refused {
    /// For log lines: a plain value.
    fn as_str(self) -> &'static str {
        match self {
            Refused::Total => "total",
            Refused::PerAddress => "per_address",
        }
    }
}

/// Open TCP connections, in total and per address (an IPv6 /64 counts as one).
#[derive(Debug)]
pub struct ConnectionCaps {
    open: AtomicUsize,
    max_total: usize,
    per_address: DashMap<IpAddr, usize>,
    /// 0: no per-address cap.
    max_per_address: usize,
    /// Addresses not capped per address (trusted proxies: every member behind them
    /// shares their address).
    exempt: Vec<IpNet>,
}

impl ConnectionCaps {
    pub fn new(max_total: usize, max_per_address: usize, exempt: Vec<IpNet>) -> Arc<Self> {
        Arc::new(Self {
            open: AtomicUsize::new(0),
            max_total,
            per_address: DashMap::new(),
            max_per_address,
            exempt,
        })
    }

    /// The caps of the public listener.
    pub fn from_config(config: &Config) -> Arc<Self> {
        let exempt = if config.trust_forwarded_for {
            config.trusted_proxies.clone()
        } else {
            Vec::new()
        };
        Self::new(
            config.http_connection_cap(),
            config.max_connections_per_ip,
            exempt,
        )
    }

    /// Count a new connection from `ip`, or refuse it.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refused> {
        if self.open.fetch_add(1, Ordering::AcqRel) >= self.max_total {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Err(Refused::Total);
        }
        let key = if self.max_per_address == 0 || is_trusted(&self.exempt, ip) {
            None
        } else {
            let key = limit_key(ip);
            let mut count = self.per_address.entry(key).or_insert(0);
            if *count >= self.max_per_address {
                drop(count);
                self.open.fetch_sub(1, Ordering::AcqRel);
                return Err(Refused::PerAddress);
            }
            *count += 1;
            Some(key)
        };
        Ok(Slot {
            caps: self.clone(),
            key,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

/// One admitted connection's place in the counts; given back on drop.
#[derive(Debug)]
pub struct Slot {
    caps: Arc<ConnectionCaps>,
    key: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut emptied = false;
            if let Some(mut count) = self.caps.per_address.get_mut(&key) {
                *count = count.saturating_sub(1);
                emptied = *count == 0;
            }
            if emptied {
                self.caps
                    .per_address
                    .remove_if(&key, |_, count| *count == 0);
            }
        }
        self.caps.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that holds its connection's [`Slot`] for as long as it is open, through a
/// WebSocket upgrade too.
struct Counted {
    tcp: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
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

/// Write a short answer if the socket takes it at once (never wait, never read), then
/// close.
fn refuse(tcp: &TcpStream, why: Refused) {
    let (status, code, message) = match why {
        Refused::Total => (
            "503 Service Unavailable",
            ErrorCode::Internal,
            "the server is at its connection limit; please try again shortly",
        ),
        Refused::PerAddress => (
            "429 Too Many Requests",
            ErrorCode::RateLimited,
            "too many connections from your address",
        ),
    };
    let body = serde_json::to_string(&HttpError {
        code,
        message: message.to_owned(),
        retry_after_ms: None,
        next_session: None,
    })
    .unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.try_write(answer.as_bytes());
}

/// Refusals are logged at most once per ten seconds, with how many there were.
#[derive(Default)]
struct RefusalLog {
    since_last: AtomicU64,
    last: parking_lot::Mutex<Option<Instant>>,
}

impl RefusalLog {
    fn note(&self, why: Refused, open: usize) {
        let count = self.since_last.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last.lock();
        let now = Instant::now();
        if last.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(10)) {
            *last = Some(now);
            self.since_last.store(0, Ordering::Relaxed);
            tracing::warn!(
                why = why.as_str(),
                refused = count,
                open,
                "connections closed at accept"
            );
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

/// The error a body gives when its deadline passes before it has arrived in full.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

/// Whether `error` or anything in its chain of sources is [`BodyTimedOut`].
pub fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// A request body that fails with [`BodyTimedOut`] once `deadline` passes: one bound on
/// the whole body, however slowly it trickles in (tower-http's body timeout restarts
/// with every frame).
pub struct DeadlineBody {
    inner: Body,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl DeadlineBody {
    pub fn new(inner: Body, deadline: Instant) -> Self {
        Self {
            inner,
            deadline,
            sleep: None,
        }
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(this.deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_caps_count_in_total_and_per_address_and_give_back_on_drop() {
        let caps = ConnectionCaps::new(3, 2, Vec::new());
        let a1 = caps.admit(ip("192.0.2.1")).unwrap();
        let _a2 = caps.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(
            caps.admit(ip("192.0.2.1")).unwrap_err(),
            Refused::PerAddress
        );
        let _b1 = caps.admit(ip("192.0.2.2")).unwrap();
        assert_eq!(caps.admit(ip("192.0.2.3")).unwrap_err(), Refused::Total);
        assert_eq!(caps.open(), 3);
        drop(a1);
        assert_eq!(caps.open(), 2);
        let _a3 = caps.admit(ip("192.0.2.1")).unwrap();
    }

    #[test]
    fn an_ipv6_64_is_one_address_and_exempt_proxies_are_not_capped_per_address() {
        let caps = ConnectionCaps::new(100, 1, vec!["127.0.0.0/8".parse().unwrap()]);
        let _x = caps.admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(
            caps.admit(ip("2001:db8:1:2::ffff")).unwrap_err(),
            Refused::PerAddress
        );
        let _y = caps.admit(ip("2001:db8:1:3::1")).unwrap();
        let proxied: Vec<_> = (0..10)
            .map(|_| caps.admit(ip("127.0.0.1")).unwrap())
            .collect();
        assert_eq!(caps.open(), 12);
        drop(proxied);
        assert_eq!(caps.open(), 2);
        assert!(caps.per_address.get(&ip("127.0.0.1")).is_none());
    }

    #[test]
    fn a_refused_address_leaves_no_entry_behind() {
        let caps = ConnectionCaps::new(0, 5, Vec::new());
        assert_eq!(caps.admit(ip("192.0.2.1")).unwrap_err(), Refused::Total);
        assert!(caps.per_address.is_empty());
        assert_eq!(caps.open(), 0);
    }
}
