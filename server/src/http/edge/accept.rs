//! The accept loop: every connection counted against the caps before a byte is read
//! (one over either is refused unread), its socket tuned, and its serving spawned into
//! [`Connections`], which shutdown closes and, after the grace period, drops.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::caps::{ConnectionCaps, Counted, RefusalLog, refuse};
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
