//! What an ack waits for beyond the primary's answer (`--redis-durability`): the
//! check at start that this Redis can give it (or the reason it cannot, which stops
//! the instance), and the wait after each append, bounded by the configured timeout
//! (on this side too: a Redis that stopped answering is not waited for longer).
//!
//! `WAIT` and `WAITAOF` wait for the writes of the connection they are sent on, and
//! block that connection meanwhile: appends that wait go through a connection of
//! their own (the store's `durable`), so heartbeats and reads never queue behind a wait.
//! One gap remains: if that connection is replaced (a reconnect) between an append
//! and its wait, the wait counts the new connection's writes, which are none, and
//! answers at once. Sending the append and the wait in one pipeline would close it.

use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::{RedisResult, Value};

use crate::config::Durability;

/// What a wait's answer may take beyond its timeout on Redis's side.
const ANSWER_MOMENT: Duration = Duration::from_millis(100);

/// What an append waits for before it counts as done (`--redis-durability`, as
/// checked against the Redis at start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Confirm {
    /// Nothing: the primary's answer (with `fsync` on a Redis that runs `appendfsync
    /// always`, that answer comes after the fsync).
    Answer,
    /// `WAITAOF 1 0`: fsynced to the primary's append-only file (Redis 7.2 or later).
    Fsynced,
    /// `WAIT 1`: held by a replica.
    Replicated,
}

impl Confirm {
    /// Wait until what was written on `conn` is as durable as this asks (at most
    /// `timeout`, and a moment for Redis's own answer that it ran out: a Redis that
    /// stopped answering is not waited for longer); the error says what was missing.
    pub(super) async fn wait(
        self,
        conn: &mut (impl ConnectionLike + Send),
        timeout: Duration,
    ) -> Result<(), String> {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        tokio::time::timeout(timeout + ANSWER_MOMENT, self.ask(conn, ms))
            .await
            .unwrap_or_else(|_| Err(format!("Redis did not answer within {ms} ms")))
    }

    async fn ask(self, conn: &mut (impl ConnectionLike + Send), ms: u64) -> Result<(), String> {
        match self {
            Confirm::Answer => Ok(()),
            Confirm::Replicated => {
                let held: RedisResult<i64> =
                    redis::cmd("WAIT").arg(1).arg(ms).query_async(conn).await;
                match held {
                    Ok(n) if n >= 1 => Ok(()),
                    Ok(_) => Err(format!("no replica confirmed the entry within {ms} ms")),
                    Err(e) => Err(format!("WAIT failed: {e}")),
                }
            }
            Confirm::Fsynced => {
                let synced: RedisResult<(i64, i64)> = redis::cmd("WAITAOF")
                    .arg(1)
                    .arg(0)
                    .arg(ms)
                    .query_async(conn)
                    .await;
                match synced {
                    Ok((local, _)) if local >= 1 => Ok(()),
                    Ok(_) => Err(format!("Redis did not fsync the entry within {ms} ms")),
                    Err(e) => Err(format!("WAITAOF failed: {e}")),
                }
            }
        }
    }
}

/// What appends must wait for to mean `durability` on this Redis, or why it cannot.
pub(super) async fn confirmation(
    conn: &mut (impl ConnectionLike + Clone + Send),
    durability: Durability,
) -> anyhow::Result<Confirm> {
    let shared = conn.clone();
    let setting = |name: &'static str| {
        let mut conn = shared.clone();
        async move {
            let pair: Vec<String> = redis::cmd("CONFIG")
                .arg("GET")
                .arg(name)
                .query_async(&mut conn)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "--redis-durability needs CONFIG GET {name} to check Redis: {e}"
                    )
                })?;
            Ok::<_, anyhow::Error>(pair.get(1).cloned().unwrap_or_default())
        }
    };
    match durability {
        Durability::Primary => Ok(Confirm::Answer),
        Durability::Replica => {
            let info: String = redis::cmd("INFO")
                .arg("replication")
                .query_async(conn)
                .await?;
            if info.lines().any(|l| l.trim() == "connected_slaves:0") {
                tracing::warn!(
                    "--redis-durability replica: Redis has no replica connected now; every \
                     ack waits for one and fails until one is"
                );
            }
            Ok(Confirm::Replicated)
        }
        Durability::Fsync => {
            let appendonly = setting("appendonly").await?;
            if appendonly != "yes" {
                anyhow::bail!(
                    "--redis-durability fsync: Redis keeps no append-only file (appendonly \
                     {appendonly}); start it with --appendonly yes, or use \
                     --redis-durability primary"
                );
            }
            let waitaof: Vec<Value> = redis::cmd("COMMAND")
                .arg("INFO")
                .arg("WAITAOF")
                .query_async(conn)
                .await?;
            if waitaof.first().is_some_and(|v| *v != Value::Nil) {
                return Ok(Confirm::Fsynced);
            }
            let fsync = setting("appendfsync").await?;
            if fsync != "always" {
                anyhow::bail!(
                    "--redis-durability fsync: this Redis has no WAITAOF (Redis 7.2 or later) \
                     and fsyncs its append-only file only every so often (appendfsync \
                     {fsync}), so an ack could name a message a crash loses; run Redis \
                     with --appendfsync always (or Redis 7.2 or later), or use \
                     --redis-durability primary"
                );
            }
            // Redis answers a write only after fsyncing it.
            Ok(Confirm::Answer)
        }
    }
}
