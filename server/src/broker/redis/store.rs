//! Everything Kindred says to Redis: the connections (one Redis or a Redis Cluster),
//! the scripts, and the keys. The broker above decides what to say; this module knows
//! how.
//!
//! Two connections: a multiplexed one for commands and scripts, and one that only
//! subscribes (RESP3 pushes, resubscribed by the library after a reconnect). On a
//! Redis Cluster the subscriptions are sharded (`SSUBSCRIBE`/`SPUBLISH`): a room's
//! channel lives in its slot, beside its keys.

use std::time::Duration;

use kindred_protocol::{Epoch, RoomId};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{
    Cmd, IntoConnectionInfo, Pipeline, ProtocolVersion, PushInfo, RedisFuture, RedisResult, Script,
    ScriptInvocation, Value,
};
use tokio::sync::mpsc::UnboundedReceiver;

use super::log::{Entry, InstanceId, appended_key, channel, log_key, meta_key, snapshot_key};

/// The catalog: every room's settings, bans and session number, so a Redis that
/// lost its data can be given its rooms back.
const CATALOG: &str = "kindred:catalog";
/// Set once per Redis dataset; a Redis that comes back without it lost its data.
const BOOT: &str = "kindred:boot";
/// How long an instance counts as alive after its last heartbeat.
pub const INSTANCE_TTL: Duration = Duration::from_secs(5);
/// Entries kept in a room's stream (about): several snapshots' worth.
const LOG_CAP: u64 = 4 * SNAPSHOT_EVERY;
/// A snapshot every this many entries.
pub const SNAPSHOT_EVERY: u64 = 500;
/// Entries read per catch-up request.
pub const READ_BATCH: usize = 500;
/// How long one command may take before it counts as failed (it may still have run).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an append's mark stays: far longer than a client takes to resend it.
const APPENDED_MARK: Duration = Duration::from_secs(60);

/// Append an entry if the room exists in the caller's epoch; publish it. The head is
/// checked before the first write, so a refusal writes nothing.
///
/// Two checks keep the log exact (KEYS[4] and ARGV[5..6]): a repeat of an append
/// (the cluster client resends a script after a dropped connection) finds the mark
/// its first run left (`kindred:{room}:appended:ORIGIN:ID`, in the room's slot, kept
/// for [`APPENDED_MARK`]) and gets that run's index, writing nothing; and a head below
/// the index the caller has folded means Redis lost writes (`behind`), so nothing is
/// numbered again with an index some replica already holds.
const APPEND: &str = r"
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return {'missing', '0'} end
if epoch ~= ARGV[1] then return {'epoch', epoch} end
local done = redis.call('GET', KEYS[4])
if done then return {'ok', done} end
local head = redis.call('HGET', KEYS[1], 'head')
if tonumber(head) < tonumber(ARGV[5]) then return {'behind', head} end
local idx = redis.call('HINCRBY', KEYS[1], 'head', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], idx .. '-1', 'e', ARGV[2])
redis.call('SET', KEYS[4], idx, 'PX', ARGV[6])
redis.call(ARGV[4], KEYS[3], 'L' .. epoch .. ' ' .. idx .. ' ' .. ARGV[2])
return {'ok', tostring(idx)}
";

/// The room's epoch and head with a batch of its log from ARGV[1] on, read at one
/// instant, so entries are never folded under an epoch they do not belong to.
const READ: &str = r"
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'head')
return {meta[1], meta[2], redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', ARGV[2])}
";

/// The room goes on under a new epoch (ARGV[2]) from what Redis holds, if it is still
/// in the caller's (ARGV[1]): its log went backwards, or holds an entry no instance
/// can fold, and then ARGV[4..5] is a snapshot past that entry. Every instance is told
/// on the room's channel (`R`), reloads and asks its members to resume.
const REEPOCH: &str = r"
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[2])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], 'index', ARGV[4], 'image', ARGV[5]) end
redis.call(ARGV[3], KEYS[4], 'R' .. ARGV[2])
return 1
";

/// Create a room (or give it back to a Redis that lost it) unless it exists: a log
/// whose first entry (index 1) is its creation, in a new epoch, with no snapshot yet.
const CREATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], 'head', 1, 'epoch', ARGV[1])
redis.call('XADD', KEYS[2], '1-1', 'e', ARGV[2])
return 1
";

/// Store a snapshot unless a newer one is there (or Redis lost the entries it folds);
/// at a close, drop the log before it.
const SNAPSHOT: &str = r"
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'head')) < tonumber(ARGV[2]) then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[3], 'index') or '-1')
if cur >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[3], 'index', ARGV[2], 'image', ARGV[3])
if ARGV[4] == '1' then redis.call('XTRIM', KEYS[2], 'MINID', ARGV[2] .. '-1') end
return 1
";

/// A connection for commands: one Redis or a cluster.
#[derive(Clone)]
pub enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// What an append answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Appended {
    At(u64),
    /// The room has no state in Redis (deleted, or Redis lost its data).
    Missing,
    /// The room lives on under another epoch (Redis lost it and it was given back).
    Epoch(Epoch),
    /// Redis's head is below the caller's index: it lost its latest writes.
    Behind(u64),
}

/// A batch of a room's log with the room's position, read at one instant.
#[derive(Debug)]
pub struct Batch {
    /// `None`: Redis has no such room.
    pub meta: Option<Meta>,
    /// (index, JSON), in order.
    pub entries: Vec<(u64, String)>,
}

/// A room's position in Redis.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub head: u64,
    pub epoch: Epoch,
}

/// The connections and scripts.
pub struct Store {
    conn: Conn,
    sub: Conn,
    cluster: bool,
    append: Script,
    create: Script,
    snapshot: Script,
    read: Script,
    reepoch: Script,
}

/// The seed nodes of a cluster URL: `redis+cluster://[user:pass@]h1:p1,h2:p2`.
fn cluster_nodes(url: &str) -> Vec<String> {
    let rest = url
        .strip_prefix("redis+cluster://")
        .or_else(|| url.strip_prefix("redis://"))
        .unwrap_or(url);
    let (auth, hosts) = match rest.rsplit_once('@') {
        Some((auth, hosts)) => (format!("{auth}@"), hosts),
        None => (String::new(), rest),
    };
    hosts
        .trim_end_matches('/')
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|h| format!("redis://{auth}{h}"))
        .collect()
}

impl Store {
    /// Connect; pushes (pub/sub messages, subscribe confirmations, disconnections)
    /// arrive on the returned receiver.
    pub async fn connect(
        url: &str,
        cluster: bool,
    ) -> RedisResult<(Self, UnboundedReceiver<PushInfo>)> {
        let cluster = cluster || url.starts_with("redis+cluster://");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (conn, sub) = if cluster {
            let nodes = cluster_nodes(url);
            let conn = ClusterClientBuilder::new(nodes.clone())
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(RESPONSE_TIMEOUT)
                .build()?
                .get_async_connection()
                .await?;
            let sub = ClusterClientBuilder::new(nodes)
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(RESPONSE_TIMEOUT)
                .use_protocol(ProtocolVersion::RESP3)
                .push_sender(tx)
                .build()?
                .get_async_connection()
                .await?;
            (Conn::Cluster(conn), Conn::Cluster(sub))
        } else {
            let info = url.into_connection_info()?;
            let resp3 = info.clone().set_redis_settings(
                info.redis_settings()
                    .clone()
                    .set_protocol(ProtocolVersion::RESP3),
            );
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(CONNECT_TIMEOUT))
                .set_response_timeout(Some(RESPONSE_TIMEOUT))
                .set_max_delay(Duration::from_secs(2));
            let conn = redis::Client::open(info)?
                .get_connection_manager_with_config(config.clone())
                .await?;
            let sub = redis::Client::open(resp3)?
                .get_connection_manager_with_config(
                    config.set_push_sender(tx).set_automatic_resubscription(),
                )
                .await?;
            (Conn::Single(conn), Conn::Single(sub))
        };
        Ok((
            Self {
                conn,
                sub,
                cluster,
                append: Script::new(APPEND),
                create: Script::new(CREATE),
                snapshot: Script::new(SNAPSHOT),
                read: Script::new(READ),
                reepoch: Script::new(REEPOCH),
            },
            rx,
        ))
    }

    fn conn(&self) -> Conn {
        self.conn.clone()
    }

    fn publish(&self) -> &'static str {
        if self.cluster { "SPUBLISH" } else { "PUBLISH" }
    }

    /// Append an entry to a room's log and publish it, in the caller's epoch, unless
    /// Redis's head is below `folded`, the caller's index.
    pub async fn append(
        &self,
        room: RoomId,
        epoch: Epoch,
        folded: u64,
        entry: &Entry,
    ) -> RedisResult<Appended> {
        let json = serde_json::to_string(entry).map_err(json_error)?;
        let (status, value): (String, String) = self
            .append
            .key(meta_key(room))
            .key(log_key(room))
            .key(channel(room))
            .key(appended_key(room, entry.origin, entry.id))
            .arg(epoch.to_string())
            .arg(json)
            .arg(LOG_CAP)
            .arg(self.publish())
            .arg(folded)
            .arg(u64::try_from(APPENDED_MARK.as_millis()).unwrap_or(u64::MAX))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(match status.as_str() {
            "ok" => Appended::At(value.parse().unwrap_or(0)),
            "epoch" => Appended::Epoch(value.parse().unwrap_or(0)),
            "behind" => Appended::Behind(value.parse().unwrap_or(0)),
            _ => Appended::Missing,
        })
    }

    /// Move the room from epoch `from` to `to`, from a snapshot `(index, image)` if
    /// given; false if it was no longer in `from` (another instance moved it first).
    pub async fn reepoch(
        &self,
        room: RoomId,
        from: Epoch,
        to: Epoch,
        snapshot: Option<(u64, &str)>,
    ) -> RedisResult<bool> {
        let (index, image) = snapshot.map_or((String::new(), ""), |(i, s)| (i.to_string(), s));
        let moved: i64 = on_room(&self.reepoch, room)
            .key(channel(room))
            .arg(from.to_string())
            .arg(to.to_string())
            .arg(self.publish())
            .arg(index)
            .arg(image)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(moved == 1)
    }

    /// Begin a room's log in `epoch` with `first` (its creation) unless the room
    /// exists; true if created.
    pub async fn create(&self, room: RoomId, epoch: Epoch, first: &Entry) -> RedisResult<bool> {
        let json = serde_json::to_string(first).map_err(json_error)?;
        let created: i64 = on_room(&self.create, room)
            .arg(epoch.to_string())
            .arg(json)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(created == 1)
    }

    /// Store a snapshot at `index`; `trim` drops the log before it (a closed session).
    pub async fn save_snapshot(
        &self,
        room: RoomId,
        epoch: Epoch,
        index: u64,
        image: &str,
        trim: bool,
    ) -> RedisResult<()> {
        let _: i64 = on_room(&self.snapshot, room)
            .arg(epoch.to_string())
            .arg(index)
            .arg(image)
            .arg(if trim { "1" } else { "0" })
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// The latest snapshot image (JSON), if any.
    pub async fn snapshot(&self, room: RoomId) -> RedisResult<Option<String>> {
        redis::cmd("HGET")
            .arg(snapshot_key(room))
            .arg("image")
            .query_async(&mut self.conn())
            .await
    }

    /// Up to a batch of entries from `from` on, as (index, JSON), with the room's head
    /// and epoch at the same instant.
    pub async fn read(&self, room: RoomId, from: u64) -> RedisResult<Batch> {
        type Stream = Vec<(String, Vec<(String, String)>)>;
        let (epoch, head, stream): (Option<Epoch>, Option<u64>, Stream) = self
            .read
            .key(meta_key(room))
            .key(log_key(room))
            .arg(format!("{from}-0"))
            .arg(READ_BATCH)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(Batch {
            meta: head.zip(epoch).map(|(head, epoch)| Meta { head, epoch }),
            entries: entries(stream),
        })
    }

    /// The format of the newest entry of a room's log (none if the log is empty).
    pub async fn newest_format(&self, room: RoomId) -> RedisResult<Option<u32>> {
        let stream: Vec<(String, Vec<(String, String)>)> = redis::cmd("XREVRANGE")
            .arg(log_key(room))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut self.conn())
            .await?;
        Ok(entries(stream)
            .first()
            .and_then(|(_, json)| super::log::format_of(json)))
    }

    /// Publish a frame that is not an entry of the room's log (typing, an alert the
    /// room could not keep) on the room's channel: at most once.
    pub async fn relay(&self, room: RoomId, payload: String) -> RedisResult<()> {
        let _: i64 = redis::cmd(self.publish())
            .arg(channel(room))
            .arg(payload)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Listen to a room's channel (confirmed before this returns).
    pub async fn subscribe(&self, room: RoomId) -> RedisResult<()> {
        match self.sub.clone() {
            Conn::Single(mut c) => c.subscribe(channel(room)).await,
            Conn::Cluster(mut c) => c.ssubscribe(channel(room)).await,
        }
    }

    pub async fn unsubscribe(&self, room: RoomId) -> RedisResult<()> {
        match self.sub.clone() {
            Conn::Single(mut c) => c.unsubscribe(channel(room)).await,
            Conn::Cluster(mut c) => c.sunsubscribe(channel(room)).await,
        }
    }

    /// Whether both connections answer.
    pub async fn ping(&self) -> bool {
        let mut ok = true;
        for mut c in [self.conn(), self.sub.clone()] {
            let pong: RedisResult<String> = redis::cmd("PING").query_async(&mut c).await;
            ok &= pong.is_ok();
        }
        ok
    }

    /// Mark this instance alive for [`INSTANCE_TTL`].
    pub async fn heartbeat(&self, me: InstanceId) -> RedisResult<()> {
        let ttl = u64::try_from(INSTANCE_TTL.as_millis()).unwrap_or(u64::MAX);
        redis::cmd("SET")
            .arg(instance_key(me))
            .arg(1)
            .arg("PX")
            .arg(ttl)
            .query_async(&mut self.conn())
            .await
    }

    pub async fn alive(&self, instance: InstanceId) -> RedisResult<bool> {
        redis::cmd("EXISTS")
            .arg(instance_key(instance))
            .query_async(&mut self.conn())
            .await
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

/// A script call on a room's state: its meta, log and snapshot keys, in that order.
fn on_room(script: &Script, room: RoomId) -> ScriptInvocation<'_> {
    let mut call = script.prepare_invoke();
    call.key(meta_key(room))
        .key(log_key(room))
        .key(snapshot_key(room));
    call
}

/// A stream's entries as (index, JSON); ids are `index-1`.
fn entries(stream: Vec<(String, Vec<(String, String)>)>) -> Vec<(u64, String)> {
    stream
        .into_iter()
        .filter_map(|(id, fields)| {
            let index = id.split('-').next()?.parse().ok()?;
            let (_, json) = fields.into_iter().find(|(f, _)| f == "e")?;
            Some((index, json))
        })
        .collect()
}

fn instance_key(instance: InstanceId) -> String {
    format!("kindred:instance:{instance}")
}

fn json_error(e: serde_json::Error) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::Client,
        "encoding a log entry",
        e.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::cluster_nodes;

    #[test]
    fn a_cluster_url_names_every_seed_node() {
        assert_eq!(
            cluster_nodes("redis+cluster://127.0.0.1:7000,127.0.0.1:7001"),
            vec!["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"]
        );
        assert_eq!(
            cluster_nodes("redis+cluster://:pw@h1:1,h2:2/"),
            vec!["redis://:pw@h1:1", "redis://:pw@h2:2"]
        );
    }
}
