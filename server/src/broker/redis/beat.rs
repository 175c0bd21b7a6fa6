//! The heartbeat that tells the other instances this one is alive, written once a
//! second by a thread of its own, with its own small runtime and its own connection
//! to Redis. Neither a busy runtime (thousands of members' tasks ready at once) nor a
//! long queue of appends on the commands' connection, nor a slow round of
//! `maintenance`, delays it: a busy instance is not a dead one. Taken for gone, every
//! member it holds would be let go and would have to resume, which costs more of the
//! CPU it lacks, and the other instances would be next.
//!
//! A stopped process writes nothing, so it is still let go after
//! [`INSTANCE_TTL`](super::store::INSTANCE_TTL).
//! So is one whose runtime runs no task at all for [`STALLED`]: a task on that
//! runtime touches the [`Pulse`] every second, and the beat stops when the pulse does.
//! The beat ends when the broker does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;

use super::Inner;
use super::log::InstanceId;
use super::store;

/// How often the heartbeat is written: [`INSTANCE_TTL`](store::INSTANCE_TTL) outlasts
/// several.
const EVERY: Duration = Duration::from_secs(1);
/// How long the instance's runtime may run no task at all before its heartbeat stops:
/// stuck, it holds its members' connections and serves none of them.
const STALLED: Duration = Duration::from_secs(30);

/// When the instance's runtime last ran a task of the broker's, as ms since `start`.
struct Pulse {
    start: Instant,
    last: AtomicU64,
}

impl Pulse {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Release);
    }

    /// How long since the runtime last touched it.
    fn silent(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Acquire));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Start the heartbeat of instance `me` on `url` (a Cluster: `cluster`), for as long
/// as `broker` lives, and the task that touches its pulse on the calling runtime.
pub(super) fn start(
    url: &str,
    cluster: bool,
    me: InstanceId,
    broker: Weak<Inner>,
) -> std::io::Result<()> {
    let pulse = Arc::new(Pulse::new());
    let heard = Arc::downgrade(&pulse);
    let url = url.to_owned();
    std::thread::Builder::new()
        .name("kindred-heartbeat".into())
        .spawn(move || beat(&url, cluster, me, &heard))?;
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Ends, and lets the pulse go, when the broker is gone.
        while broker.strong_count() > 0 {
            pulse.touch();
            every.tick().await;
        }
    });
    Ok(())
}

/// The heartbeat's thread: once a second while the pulse lives and is not silent for
/// [`STALLED`]. A Redis out of reach is tried again on the next beat (the connection
/// is made again by itself).
fn beat(url: &str, cluster: bool, me: InstanceId, pulse: &Weak<Pulse>) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::error!(
            "the heartbeat's runtime could not start; other instances will take this one for gone"
        );
        return;
    };
    runtime.block_on(async {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut conn = None;
        let mut stalled = false;
        loop {
            every.tick().await;
            let Some(pulse) = pulse.upgrade() else {
                return;
            };
            let silent = pulse.silent() > STALLED;
            if silent != stalled {
                stalled = silent;
                if silent {
                    tracing::error!(
                        stalled_for_secs = STALLED.as_secs(),
                        "this instance's runtime ran nothing; its heartbeat stops so that its members are let go"
                    );
                } else {
                    tracing::warn!("this instance's runtime runs again; its heartbeat goes on");
                }
            }
            if silent {
                continue;
            }
            if conn.is_none() {
                conn = store::commands(url, cluster).await.ok();
            }
            if let Some(c) = conn.as_mut()
                && let Err(e) = store::heartbeat(c, me).await
            {
                tracing::debug!(error = %e, "heartbeat not written; tried again in a second");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pulse_touched_now_is_not_silent_and_one_never_touched_since_long_ago_is() {
        let pulse = Pulse::new();
        pulse.touch();
        assert!(pulse.silent() < Duration::from_secs(1));
        let old = Pulse {
            start: Instant::now() - STALLED - Duration::from_secs(1),
            last: AtomicU64::new(0),
        };
        assert!(old.silent() > STALLED);
    }
}
