//! The instance's own life in Redis, beside the rooms' logs: whether Redis answers and
//! its clock, the heartbeat that says an instance is alive, the dataset's boot marker,
//! the ticker leases, the catalog of rooms, and a deleted room's keys let go.

use std::time::Duration;

use kindred_protocol::{Millis, RoomId};
use redis::RedisResult;

use super::{Conn, Store};
use crate::broker::redis::log::{InstanceId, log_key, meta_key, snapshot_key, ticker_key};

/// The catalog: every room's settings, bans and session number, so a Redis that
/// lost its data can be given its rooms back.
const CATALOG: &str = "kindred:catalog";
/// Set once per Redis dataset; a Redis that comes back without it lost its data.
const BOOT: &str = "kindred:boot";
/// The proof of the secret the dataset is sealed with (`Seal::proof`).
const SEALED_WITH: &str = "kindred:sealed-with";
/// How long an instance counts as alive after its last heartbeat.
pub const INSTANCE_TTL: Duration = Duration::from_secs(5);
/// Rooms whose ticker lease one script call bids for, on one Redis.
const LEASE_BATCH: usize = 256;

/// Mark instance `me` alive for [`INSTANCE_TTL`], on `conn`.
pub async fn heartbeat(conn: &mut Conn, me: InstanceId) -> RedisResult<()> {
    let ttl = u64::try_from(INSTANCE_TTL.as_millis()).unwrap_or(u64::MAX);
    redis::cmd("SET")
        .arg(instance_key(me))
        .arg(1)
        .arg("PX")
        .arg(ttl)
        .query_async(conn)
        .await
}

impl Store {
    /// Whether both connections answer.
    pub async fn ping(&self) -> bool {
        let mut ok = true;
        for mut c in [self.conn(), self.sub.clone()] {
            let pong: RedisResult<String> = redis::cmd("PING").query_async(&mut c).await;
            ok &= pong.is_ok();
        }
        ok
    }

    /// Redis's clock (ms since the Unix epoch): the time every entry carries.
    pub async fn time(&self) -> RedisResult<Millis> {
        let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut self.conn()).await?;
        Ok(secs * 1000 + micros / 1000)
    }

    /// Take or renew the lease on each of `rooms`' ticks for `ttl`: the rooms `me`
    /// holds now. On one Redis, [`LEASE_BATCH`] rooms a call; on a Cluster, one.
    pub async fn leases(
        &self,
        rooms: &[RoomId],
        me: InstanceId,
        ttl: Duration,
    ) -> RedisResult<Vec<RoomId>> {
        let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let batch = if self.cluster { 1 } else { LEASE_BATCH };
        let mut held = Vec::new();
        for chunk in rooms.chunks(batch) {
            let mut call = self.lease.prepare_invoke();
            for room in chunk {
                call.key(ticker_key(*room));
            }
            let answers: Vec<i64> = call.arg(me).arg(ttl).invoke_async(&mut self.conn()).await?;
            held.extend(
                chunk
                    .iter()
                    .zip(answers)
                    .filter(|(_, a)| *a == 1)
                    .map(|(room, _)| *room),
            );
        }
        Ok(held)
    }

    /// Mark this instance alive for [`INSTANCE_TTL`] (`beat`, on the commands'
    /// connection: once, at start).
    pub async fn heartbeat(&self, me: InstanceId) -> RedisResult<()> {
        heartbeat(&mut self.conn(), me).await
    }

    /// Whether commands reach Redis.
    pub async fn answers(&self) -> RedisResult<()> {
        redis::cmd("PING").query_async(&mut self.conn()).await
    }

    pub async fn alive(&self, instance: InstanceId) -> RedisResult<bool> {
        redis::cmd("EXISTS")
            .arg(instance_key(instance))
            .query_async(&mut self.conn())
            .await
    }

    /// Whether this instance's secret is the one Redis's data is sealed with: the
    /// proof in Redis opens with it (set to this instance's if there is none: a new
    /// Redis, or one that lost its data).
    pub async fn same_secret(&self) -> RedisResult<bool> {
        let _: Option<String> = redis::cmd("SET")
            .arg(SEALED_WITH)
            .arg(self.seal.proof())
            .arg("NX")
            .query_async(&mut self.conn())
            .await?;
        let proof: Option<String> = redis::cmd("GET")
            .arg(SEALED_WITH)
            .query_async(&mut self.conn())
            .await?;
        Ok(proof.is_some_and(|p| self.seal.proves(&p)))
    }

    /// The dataset's boot marker, set to `mine` if there is none. Returns the marker
    /// now in Redis and whether it had to be set (Redis is new or lost its data).
    pub async fn boot(&self, mine: &str) -> RedisResult<(String, bool)> {
        let set: Option<String> = redis::cmd("SET")
            .arg(BOOT)
            .arg(mine)
            .arg("NX")
            .query_async(&mut self.conn())
            .await?;
        let now: Option<String> = redis::cmd("GET")
            .arg(BOOT)
            .query_async(&mut self.conn())
            .await?;
        Ok((now.unwrap_or_default(), set.is_some()))
    }

    /// Every room's catalog record.
    pub async fn catalog(&self) -> RedisResult<Vec<(String, String)>> {
        redis::cmd("HGETALL")
            .arg(CATALOG)
            .query_async(&mut self.conn())
            .await
    }

    /// Write one room's catalog record; `only_if_missing` when giving rooms back.
    pub async fn put_catalog(
        &self,
        room: RoomId,
        record: &str,
        only_if_missing: bool,
    ) -> RedisResult<()> {
        let _: i64 = redis::cmd(if only_if_missing { "HSETNX" } else { "HSET" })
            .arg(CATALOG)
            .arg(room.to_string())
            .arg(record)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Drop one room's catalog record (the room was deleted).
    pub async fn drop_catalog(&self, room: RoomId) -> RedisResult<()> {
        let _: i64 = redis::cmd("HDEL")
            .arg(CATALOG)
            .arg(room.to_string())
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Forget a deleted room's state after `linger` (so instances still catching up
    /// read the final close, and its snapshot saying the room is deleted).
    pub async fn forget(&self, room: RoomId, linger: Duration) -> RedisResult<()> {
        let secs = linger.as_secs().max(1);
        for key in [meta_key(room), log_key(room), snapshot_key(room)] {
            let _: i64 = redis::cmd("EXPIRE")
                .arg(key)
                .arg(secs)
                .query_async(&mut self.conn())
                .await?;
        }
        Ok(())
    }
}

fn instance_key(instance: InstanceId) -> String {
    format!("kindred:instance:{instance}")
}
