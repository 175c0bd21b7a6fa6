//! Everything Kindred says to Redis: the connections (one Redis or a Redis Cluster),
//! the scripts, and the keys. The broker above decides what to say; this module knows
//! how.
//!
//! Two connections: a multiplexed one for commands and scripts, and one that only
//! subscribes (RESP3 pushes, resubscribed by the library after a reconnect). On a
//! Redis Cluster the subscriptions are sharded (`SSUBSCRIBE`/`SPUBLISH`): a room's
//! channel lives in its slot, beside its keys.

use std::time::Duration;

use kindred_protocol::{Epoch, Millis, RoomId};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{
    Cmd, IntoConnectionInfo, Pipeline, ProtocolVersion, PushInfo, RedisFuture, RedisResult, Script,
    ScriptInvocation, Value,
};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::broker::new_epoch;
use crate::config::Durability;

use super::durability::{Confirm, confirmation};
use super::echo::stored_hash;
use super::log::{
    self, Entry, InstanceId, Op, appended_key, channel, log_key, meta_key, snapshot_key,
};
use super::scripts::{APPEND, CREATE, LEASE, READ, REEPOCH, RUN_FROM_INFO, SNAPSHOT, STAMP};
use super::seal::Seal;
use bound::Bound;

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
#[derive(Debug)]
pub enum Appended {
    /// At this index, with the entry as every instance reads it (Redis's time in it),
    /// unless the append was a repeat answered with its first index.
    At(u64, Option<Box<Stamped>>),
    /// The room has no state in Redis (deleted, or Redis lost its data).
    Missing,
    /// The room lives on under another epoch (Redis lost it and it was given back).
    Epoch(Epoch),
    /// Redis's head is below the caller's index: it lost its latest writes.
    Behind(u64),
    /// Redis ran the script after the time it was given: nothing was written.
    Late,
}

/// The caller's own entry as the append script stamped it: the entry every instance
/// folds, read from the same JSON, and the hash of the bytes Redis published it as
/// (`echo`).
#[derive(Debug)]
pub struct Stamped {
    pub entry: Entry,
    pub stored: u64,
}

/// A batch of a room's log with the room's position, read at one instant.
#[derive(Debug)]
pub struct Batch {
    /// `None`: Redis has no such room.
    pub meta: Option<Meta>,
    /// (index, JSON), in order, opened (`seal`): an entry that does not open reads as
    /// an empty text, which no entry parses from, so it is contained like one that
    /// does not parse.
    pub entries: Vec<(u64, String)>,
}

/// A room's position in Redis.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub head: u64,
    pub epoch: Epoch,
}

/// The connections and scripts, and the seal on everything they carry.
pub struct Store {
    conn: Conn,
    seal: Seal,
    /// The connection appends go through when an append waits for more than the
    /// primary's answer: `WAIT` and `WAITAOF` wait for this connection's own writes,
    /// and block it meanwhile, so the other commands do not share it.
    durable: Conn,
    confirm: Confirm,
    confirm_timeout: Duration,
    sub: Conn,
    cluster: bool,
    /// On a Cluster: the append script that reads the Redis process from `INFO`.
    append: Script,
    /// On one Redis: the append script bound to the Redis process that runs it.
    bound: parking_lot::Mutex<Option<Bound>>,
    create: Script,
    snapshot: Script,
    lease: Script,
    read: Script,
    reepoch: Script,
}

/// A Redis URL as it may be shown (in a refusal, a log line): its scheme and hosts,
/// without the user and password.
pub fn shown(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let hosts = rest.rsplit_once('@').map_or(rest, |(_, hosts)| hosts);
    format!("{scheme}://{hosts}")
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

/// How a connection to one Redis is made and kept: it reconnects by itself.
fn single_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_max_delay(Duration::from_secs(2))
}

/// A multiplexed connection for commands to `url`: one Redis, or a Redis Cluster
/// (`cluster`, as [`Store::cluster`] says). Its driver runs on the runtime it is made
/// on.
pub async fn commands(url: &str, cluster: bool) -> anyhow::Result<Conn> {
    Ok(if cluster {
        Conn::Cluster(
            ClusterClientBuilder::new(cluster_nodes(url))
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(RESPONSE_TIMEOUT)
                .build()?
                .get_async_connection()
                .await?,
        )
    } else {
        Conn::Single(
            redis::Client::open(url)?
                .get_connection_manager_with_config(single_config())
                .await?,
        )
    })
}

impl Store {
    /// Connect; pushes (pub/sub messages, subscribe confirmations, disconnections)
    /// arrive on the returned receiver.
    /// An error names what the Redis lacks for `durability`.
    pub async fn connect(
        url: &str,
        cluster: bool,
        seal: Seal,
        (durability, confirm_timeout): (Durability, Duration),
    ) -> anyhow::Result<(Self, UnboundedReceiver<PushInfo>)> {
        let cluster = cluster || url.starts_with("redis+cluster://");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let conn = commands(url, cluster).await?;
        let sub = if cluster {
            let sub = ClusterClientBuilder::new(cluster_nodes(url))
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(RESPONSE_TIMEOUT)
                .use_protocol(ProtocolVersion::RESP3)
                .push_sender(tx)
                .build()?
                .get_async_connection()
                .await?;
            Conn::Cluster(sub)
        } else {
            let info = url.into_connection_info()?;
            let resp3 = info.clone().set_redis_settings(
                info.redis_settings()
                    .clone()
                    .set_protocol(ProtocolVersion::RESP3),
            );
            let sub = redis::Client::open(resp3)?
                .get_connection_manager_with_config(
                    single_config()
                        .set_push_sender(tx)
                        .set_automatic_resubscription(),
                )
                .await?;
            Conn::Single(sub)
        };
        let durable = match (&conn, durability) {
            (Conn::Single(_), Durability::Fsync | Durability::Replica) => {
                let config =
                    single_config().set_response_timeout(Some(confirm_timeout + RESPONSE_TIMEOUT));
                Conn::Single(
                    redis::Client::open(url)?
                        .get_connection_manager_with_config(config)
                        .await?,
                )
            }
            _ => conn.clone(),
        };
        let confirm = confirmation(&mut conn.clone(), durability).await?;
        Ok((
            Self {
                conn,
                seal,
                durable,
                confirm,
                confirm_timeout,
                sub,
                cluster,
                append: Script::new(&format!("{STAMP}{RUN_FROM_INFO}{APPEND}")),
                bound: parking_lot::Mutex::new(None),
                create: Script::new(&format!("{STAMP}{CREATE}")),
                snapshot: Script::new(SNAPSHOT),
                lease: Script::new(LEASE),
                read: Script::new(READ),
                reepoch: Script::new(REEPOCH),
            },
            rx,
        ))
    }

    fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// Whether Redis is a Cluster (asked for, or implied by a `redis+cluster://` URL).
    pub fn cluster(&self) -> bool {
        self.cluster
    }

    fn publish(&self) -> &'static str {
        if self.cluster { "SPUBLISH" } else { "PUBLISH" }
    }

    /// Append an entry to a room's log and publish it, in the caller's epoch, unless
    /// Redis's head is below `folded`, the caller's index, or Redis's clock is past
    /// `not_after` (ms) when the script runs; sealed under the key of `session`, the
    /// room's session as the caller holds it.
    pub async fn append(
        &self,
        room: RoomId,
        (epoch, folded): (Epoch, u64),
        session: u32,
        entry: &Entry,
        not_after: Millis,
    ) -> RedisResult<Appended> {
        let plain = unstamped(entry)?;
        let json = self.seal.seal_entry(room, session, entry.format, &plain);
        let keys = [
            meta_key(room),
            log_key(room),
            channel(room),
            appended_key(room, entry.origin, entry.id),
        ];
        let args = [
            epoch.to_string(),
            json,
            LOG_CAP.to_string(),
            self.publish().to_owned(),
            folded.to_string(),
            APPENDED_MARK.as_millis().to_string(),
            new_epoch().to_string(),
            not_after.to_string(),
        ];
        let answer: Vec<String> = if self.cluster {
            self.append
                .key(&keys)
                .arg(&args)
                .invoke_async(&mut self.durable.clone())
                .await?
        } else {
            self.append_bound(&keys, &args).await?
        };
        let json = &args[1];
        let value = answer.get(1).map_or("0", String::as_str);
        Ok(match answer.first().map_or("", String::as_str) {
            "ok" => Appended::At(
                value.parse().unwrap_or(0),
                answer.get(2).and_then(|ts| stamped(&plain, json, ts)),
            ),
            "epoch" => Appended::Epoch(value.parse().unwrap_or(0)),
            "behind" => Appended::Behind(value.parse().unwrap_or(0)),
            "late" => Appended::Late,
            _ => Appended::Missing,
        })
    }

    /// Wait until what `append` wrote is as durable as `--redis-durability` asks (at
    /// most its timeout); the error says what was missing.
    pub async fn confirm(&self) -> Result<(), String> {
        self.confirm
            .wait(&mut self.durable.clone(), self.confirm_timeout)
            .await
    }

    /// Move the room from epoch `from` to `to`, from a snapshot `(index, session,
    /// image)` if given; false if it was no longer in `from` (another instance moved it
    /// first).
    pub async fn reepoch(
        &self,
        room: RoomId,
        from: Epoch,
        to: Epoch,
        snapshot: Option<(u64, u32, &str)>,
    ) -> RedisResult<bool> {
        let (index, image) = snapshot.map_or((String::new(), String::new()), |(i, k, s)| {
            (i.to_string(), self.seal.seal_image(room, k, s))
        });
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
        let session = match &first.op {
            Op::Create { room, .. } => room.session(),
            _ => 0,
        };
        let json = self.sealed(room, session, first)?;
        let created: i64 = on_room(&self.create, room)
            .arg(epoch.to_string())
            .arg(json)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(created == 1)
    }

    /// Store a snapshot at `index`, sealed under `session`'s key; `trim` drops the log
    /// before it (a closed session).
    pub async fn save_snapshot(
        &self,
        room: RoomId,
        (epoch, index): (Epoch, u64),
        session: u32,
        image: &str,
        trim: bool,
    ) -> RedisResult<()> {
        let _: i64 = on_room(&self.snapshot, room)
            .arg(epoch.to_string())
            .arg(index)
            .arg(self.seal.seal_image(room, session, image))
            .arg(if trim { "1" } else { "0" })
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// The latest snapshot image (JSON), if any: `Some(None)` if it does not open.
    pub async fn snapshot(&self, room: RoomId) -> RedisResult<Option<Option<String>>> {
        let stored: Option<String> = redis::cmd("HGET")
            .arg(snapshot_key(room))
            .arg("image")
            .query_async(&mut self.conn())
            .await?;
        Ok(stored.map(|stored| self.seal.open_image(room, &stored)))
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
            entries: entries(stream)
                .into_iter()
                .map(|(index, stored)| (index, self.open_entry(room, &stored).unwrap_or_default()))
                .collect(),
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
    /// room could not keep) on the room's channel, for `audience` (its code), sealed
    /// under `session`'s key, naming the instance that relays it (`origin`, which
    /// hands it to its own connections itself): at most once.
    pub async fn relay(
        &self,
        room: RoomId,
        (audience, origin): (&str, InstanceId),
        session: u32,
        frame: &str,
    ) -> RedisResult<()> {
        let payload = format!(
            "N{audience} {origin}\n{}",
            self.seal.seal_notice(room, session, frame)
        );
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
}

impl Store {
    /// An entry as the append and create scripts take it, sealed.
    fn sealed(&self, room: RoomId, session: u32, entry: &Entry) -> RedisResult<String> {
        let json = unstamped(entry)?;
        Ok(self.seal.seal_entry(room, session, entry.format, &json))
    }

    /// An entry as Redis holds it (a stream's or a pub/sub message's), as the JSON
    /// `log::read_entry` reads; `None` if it does not open.
    pub fn open_entry(&self, room: RoomId, stored: &str) -> Option<String> {
        self.seal.open_entry(room, stored)
    }

    /// A frame relayed by [`Store::relay`], opened; `None` if it does not open.
    pub fn open_notice(&self, room: RoomId, sealed: &str) -> Option<String> {
        self.seal.open_notice(room, sealed)
    }
}

/// The entry the append script stored, from its JSON before sealing (`plain`), what
/// was sealed (`sealed`) and the time the script put first (`ts`), as Redis answered
/// it; `None` if it does not read back (then it is folded as it comes, on pub/sub).
fn stamped(plain: &str, sealed: &str, ts: &str) -> Option<Box<Stamped>> {
    let entry = log::read_entry(&log::stamped(plain, ts.parse().ok()?)?)?;
    let stored = stored_hash([r#"{"ts":"#, ts, ",", sealed.get(1..)?]);
    Some(Box::new(Stamped { entry, stored }))
}

/// An entry as the append and create scripts take it before it is sealed: without its
/// time, which they put first (Redis's `TIME`), outside the seal.
pub(super) fn unstamped(entry: &Entry) -> RedisResult<String> {
    let mut json = serde_json::to_value(entry).map_err(json_error)?;
    if let Some(fields) = json.as_object_mut() {
        fields.remove("ts");
    }
    let json = serde_json::to_string(&json).map_err(json_error)?;
    debug_assert!(json.starts_with('{'));
    Ok(json)
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

fn json_error(e: serde_json::Error) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::Client,
        "encoding a log entry",
        e.to_string(),
    ))
}

mod bound;
mod instances;
mod links;
#[cfg(test)]
mod tests;

pub use instances::{INSTANCE_TTL, heartbeat};
