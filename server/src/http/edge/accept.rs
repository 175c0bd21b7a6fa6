//! The accept loop: every connection counted against the caps before a byte is read
//! (one over either is refused unread), its socket tuned, and its serving spawned into
//! [`Connections`], which shutdown closes and, after the grace period, drops. When the
//! system refuses to accept (out of file descriptors), the loop backs off and says so
//! in one line at most every ten seconds, so connections already open keep being served
//! and the log is not flooded.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::caps::{ConnectionCaps, Counted, RefusalLog, refuse};
use super::gather::Gather;
use super::serve::{EdgeSettings, serve_connection};

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
    let mut backoff = AcceptBackoff::default();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff.succeeded();
                    accepted
                }
                Err(e) if per_connection(&e) => continue,
                Err(e) => {
                    let (pause, report) = backoff.failed(Instant::now());
                    if let Some(failures) = report {
                        tracing::error!(
                            error = %e,
                            failures,
                            pause_ms = pause.as_millis() as u64,
                            "accept failed; pausing (out of file descriptors? see ulimit -n / LimitNOFILE)"
                        );
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(pause) => continue,
                    }
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
        let io = Counted {
            tcp,
            _slot: slot,
            gather: Gather::default(),
        };
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

/// Errors that concern one connection only: skipped, the next is accepted at once.
fn per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// How accepting backs off while the system refuses it (out of file descriptors, out
/// of memory): 10 ms, doubling to 1 s, from the start again after a success; and when
/// to say so: at most once per ten seconds, with how many failures there were.
#[derive(Debug, Default)]
struct AcceptBackoff {
    pause: Duration,
    unreported: u64,
    last_report: Option<Instant>,
}

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);
const REPORT_EVERY: Duration = Duration::from_secs(10);

impl AcceptBackoff {
    fn succeeded(&mut self) {
        self.pause = Duration::ZERO;
    }

    /// One more failure at `now`: how long to pause, and the failures to report now
    /// (`None`: one was reported less than ten seconds ago).
    fn failed(&mut self, now: Instant) -> (Duration, Option<u64>) {
        self.pause = (self.pause * 2).clamp(FIRST_PAUSE, LONGEST_PAUSE);
        self.unreported += 1;
        let due = self
            .last_report
            .is_none_or(|t| now.duration_since(t) >= REPORT_EVERY);
        if !due {
            return (self.pause, None);
        }
        self.last_report = Some(now);
        (self.pause, Some(std::mem::take(&mut self.unreported)))
    }
}

#[cfg(test)]
mod tests;
