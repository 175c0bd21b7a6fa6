//! Configuration: every knob is a flag and an environment variable with a
//! documented default (`kindred --help` lists them all). Checking the values together,
//! before the server starts, is [`problems`].

mod problems;

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use clap::Parser;
use governor::Quota;
use ipnet::IpNet;

use crate::room::Limits;
use crate::safety::Budget;

/// Kindred: a real-time chat server for moderated peer-support rooms.
#[derive(Clone, Debug, Parser)]
#[command(name = "kindred", version, about)]
pub struct Config {
    /// Address to listen on: an IP address or a host name, with a port
    /// (`0.0.0.0:8080`, `localhost:8080`).
    #[arg(long, env = "KINDRED_BIND", default_value = "127.0.0.1:8080", value_parser = parse_bind)]
    pub bind: SocketAddr,

    /// Address of the separate listener that serves `/metrics` (Prometheus). `/metrics` is
    /// not served on `--bind`. Port 0 picks a free port (printed at start); keep it on
    /// loopback or a private network.
    #[arg(long, env = "KINDRED_METRICS_BIND", default_value = "127.0.0.1:0", value_parser = parse_bind)]
    pub metrics_bind: SocketAddr,

    /// Bearer token for the admin API, at least 32 bytes. Absent: generated and written to
    /// a file only you can read (`$XDG_RUNTIME_DIR`, else the temporary directory), whose
    /// path is printed at start.
    #[arg(long, env = "KINDRED_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Secret that signs session and invite tokens, at least 32 bytes; must be the same
    /// on every instance. Generated when absent (tokens then die with the process).
    #[arg(long, env = "KINDRED_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// Redis URL shared by several instances (`redis://…`, or `redis+cluster://host:port,…`
    /// for a Redis Cluster). Absent: the in-memory broker (one instance).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Treat the Redis URL's hosts as the seed nodes of a Redis Cluster (sharded pub/sub).
    /// Implied by a `redis+cluster://` URL.
    #[arg(long, env = "KINDRED_REDIS_CLUSTER", default_value_t = false, action = clap::ArgAction::Set)]
    pub redis_cluster: bool,

    /// The address members use to reach Kindred (e.g. `https://chat.example.org`) when it
    /// runs behind a proxy: the WebSocket origin check and the printed links use it.
    /// Absent: the address Kindred listens on.
    #[arg(long, env = "KINDRED_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Keep the catalog (rooms, their settings and schedules, facilitator invites,
    /// bans) in this file, so rooms survive a restart. Never message text, whispers,
    /// alerts or names. Written atomically on every change. Absent: rooms live in
    /// memory only and a restart forgets them. With Redis the catalog lives in Redis.
    #[arg(long, env = "KINDRED_CATALOG_FILE")]
    pub catalog_file: Option<std::path::PathBuf>,

    /// How log lines are written to stderr: `text` (for people) or `json` (one object a
    /// line, for a log collector).
    #[arg(long, env = "KINDRED_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Create a demo room at start and print its address.
    #[arg(long, env = "KINDRED_DEMO_ROOM", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo_room: bool,

    /// Most WebSocket connections at once; more get HTTP 503.
    #[arg(long, env = "KINDRED_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Most TCP connections open at once on `--bind`, WebSockets included; one more gets
    /// a best-effort HTTP 503 and is closed as it is accepted, unread. Never below twice
    /// `--max-connections`.
    #[arg(long, env = "KINDRED_MAX_HTTP_CONNECTIONS", default_value_t = 20_000)]
    pub max_http_connections: usize,

    /// Most TCP connections open at once from one IP address (an IPv6 address counts as
    /// its network, `--ipv6-prefix`), WebSockets included; one more gets a best-effort HTTP 429 and is closed as
    /// it is accepted, unread. 0: no limit. Not applied to a trusted proxy's address under
    /// `--trust-forwarded-for`.
    #[arg(long, env = "KINDRED_MAX_CONNECTIONS_PER_IP", default_value_t = 200)]
    pub max_connections_per_ip: usize,

    /// Milliseconds a connection has to send a request's complete headers, counted from
    /// when the server starts waiting for them (accept, or the end of the previous
    /// response); then it is closed.
    #[arg(long, env = "KINDRED_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,

    /// Milliseconds an HTTP/1.1 keep-alive connection may wait idle for its next request
    /// (never longer than `--header-timeout-ms`). 0: no keep-alive (one request per
    /// connection).
    #[arg(long, env = "KINDRED_KEEP_ALIVE_TIMEOUT_MS", default_value_t = 5_000)]
    pub keep_alive_timeout_ms: u64,

    /// Milliseconds a request body has to arrive in full, from the end of its headers
    /// (over: HTTP 408 `timeout`).
    #[arg(long, env = "KINDRED_BODY_TIMEOUT_MS", default_value_t = 10_000)]
    pub body_timeout_ms: u64,

    /// Largest HTTP request body, in bytes. A larger declared `Content-Length` is refused
    /// before the body is read (HTTP 413 `too_large`).
    #[arg(long, env = "KINDRED_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// Largest WebSocket frame or message a client may send, in bytes (over: close 1009).
    #[arg(long, env = "KINDRED_MAX_FRAME_BYTES", default_value_t = 32 * 1024)]
    pub max_frame_bytes: usize,

    /// Longest message text, in characters (over: `too_large`).
    #[arg(long, env = "KINDRED_MAX_MESSAGE_CHARS", default_value_t = 4_000)]
    pub max_message_chars: usize,

    /// Capacity of a room created without one.
    #[arg(long, env = "KINDRED_ROOM_CAPACITY", default_value_t = 20)]
    pub room_capacity: u32,

    /// Largest capacity the admin API accepts.
    #[arg(long, env = "KINDRED_MAX_ROOM_CAPACITY", default_value_t = 2_000)]
    pub max_room_capacity: u32,

    /// Frames queued for one connection before it counts as too slow and is
    /// disconnected (it can resume).
    #[arg(long, env = "KINDRED_OUTBOUND_QUEUE", default_value_t = 512)]
    pub outbound_queue: usize,

    /// Timeline events kept per room for resume.
    #[arg(long, env = "KINDRED_HISTORY_LEN", default_value_t = 1_000)]
    pub history_len: usize,

    /// Recent events sent to a member who joins fresh.
    #[arg(long, env = "KINDRED_WELCOME_HISTORY", default_value_t = 100)]
    pub welcome_history: usize,

    /// Milliseconds a new connection has to send `hello`.
    #[arg(long, env = "KINDRED_HELLO_TIMEOUT_MS", default_value_t = 10_000)]
    pub hello_timeout_ms: u64,

    /// Milliseconds between server pings.
    #[arg(long, env = "KINDRED_PING_INTERVAL_MS", default_value_t = 20_000)]
    pub ping_interval_ms: u64,

    /// Milliseconds of silence (no frame, no pong) before a connection is closed.
    #[arg(long, env = "KINDRED_IDLE_TIMEOUT_MS", default_value_t = 60_000)]
    pub idle_timeout_ms: u64,

    /// Milliseconds a member whose connection dropped stays in the room. A room keeps
    /// the value of the instance that created it, wherever it is served.
    #[arg(long, env = "KINDRED_PRESENCE_GRACE_MS", default_value_t = 30_000)]
    pub presence_grace_ms: u64,

    /// Lifetime of a session token, in seconds.
    #[arg(long, env = "KINDRED_TOKEN_TTL_SECS", default_value_t = 12 * 3600)]
    pub token_ttl_secs: u64,

    /// Default lifetime of a facilitator invite, in seconds.
    #[arg(long, env = "KINDRED_INVITE_TTL_SECS", default_value_t = 24 * 3600)]
    pub invite_ttl_secs: u64,

    /// Frames per second one connection may send (sustained).
    #[arg(long, env = "KINDRED_FRAMES_PER_SECOND", default_value_t = 20)]
    pub frames_per_second: u32,

    /// Frames one connection may send in a burst above the sustained rate.
    #[arg(long, env = "KINDRED_FRAME_BURST", default_value_t = 40)]
    pub frame_burst: u32,

    /// Messages one member may send per minute (sustained), all their connections to
    /// this instance together; a hand, a reaction, a report, a whisper and an
    /// acknowledgement each count as one.
    #[arg(long, env = "KINDRED_MESSAGES_PER_MINUTE", default_value_t = 30)]
    pub messages_per_minute: u32,

    /// Messages one member may send in a burst above the sustained rate.
    #[arg(long, env = "KINDRED_MESSAGE_BURST", default_value_t = 10)]
    pub message_burst: u32,

    /// Moderation actions (`mod`) one facilitator may take per minute (sustained), all
    /// their connections to this instance together.
    #[arg(long, env = "KINDRED_MODERATION_PER_MINUTE", default_value_t = 60)]
    pub moderation_per_minute: u32,

    /// Moderation actions one facilitator may take in a burst above the sustained rate.
    #[arg(long, env = "KINDRED_MODERATION_BURST", default_value_t = 20)]
    pub moderation_burst: u32,

    /// Joins (`POST /api/rooms/{id}/join`) and WebSocket upgrades per minute from one
    /// IP address (sustained; the burst is the same number).
    #[arg(long, env = "KINDRED_JOINS_PER_MINUTE_PER_IP", default_value_t = 60)]
    pub joins_per_minute_per_ip: u32,

    /// Reads of the public room list (`GET /api/rooms` without the admin token) per
    /// minute from one IP address (sustained; the burst is the same number); over:
    /// HTTP 429 `rate_limited` with `Retry-After`.
    #[arg(
        long,
        env = "KINDRED_ROOM_LIST_PER_MINUTE_PER_IP",
        default_value_t = 120
    )]
    pub room_list_per_minute_per_ip: u32,

    /// Milliseconds the public room list is served from this instance's last reading of
    /// the rooms (a new room, or a change of its count, can take that long to show);
    /// at most 10000. 0: every read reads the rooms.
    #[arg(long, env = "KINDRED_ROOM_LIST_CACHE_MS", default_value_t = 1_000)]
    pub room_list_cache_ms: u64,

    /// Origins allowed to open a WebSocket (repeat, or comma-separated). Absent: only the
    /// server's own origin; clients that send no Origin (non-browsers) are always allowed.
    /// `*` allows every origin.
    #[arg(
        long = "allowed-origin",
        env = "KINDRED_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Take the client's IP address from `X-Forwarded-For` when the connection comes from
    /// a `--trusted-proxies` address: the rightmost entry that is not itself a trusted
    /// proxy (what a client writes into the header itself is ignored).
    #[arg(long, env = "KINDRED_TRUST_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_forwarded_for: bool,

    /// The proxies whose `X-Forwarded-For` entries are believed (comma-separated CIDRs or
    /// addresses), with `--trust-forwarded-for`.
    #[arg(
        long,
        env = "KINDRED_TRUSTED_PROXIES",
        value_delimiter = ',',
        default_value = "127.0.0.0/8,::1/128",
        value_parser = parse_net
    )]
    pub trusted_proxies: Vec<IpNet>,

    /// How many leading bits of an IPv6 address name one person's network, for ban
    /// marks, seats per network, connections per address and the per-address rate
    /// limits alike: 64 (one subscriber's /64), or down to 48 where providers hand out
    /// a /56 or a /48. Between 48 and 64.
    #[arg(long, env = "KINDRED_IPV6_PREFIX", default_value_t = 64)]
    pub ipv6_prefix: u8,

    /// A file of extra crisis phrases (same format as the built-in list) to add to the
    /// crisis matcher.
    #[arg(long, env = "KINDRED_CRISIS_PHRASES")]
    pub crisis_phrases: Option<std::path::PathBuf>,

    /// A JSON file with the crisis resources card for this deployment
    /// (`{title, body, lines:[{region,name,contact,url?}]}`). Absent: 988 (US & Canada),
    /// Samaritans (UK & Ireland), Lifeline (Australia), findahelpline.com.
    #[arg(long, env = "KINDRED_RESOURCES_CARD")]
    pub resources_card: Option<std::path::PathBuf>,

    /// Milliseconds that shutdown waits for connections to close.
    #[arg(long, env = "KINDRED_SHUTDOWN_GRACE_MS", default_value_t = 5_000)]
    pub shutdown_grace_ms: u64,

    /// Bytes of tungstenite's read buffer per connection.
    #[arg(long, env = "KINDRED_WS_READ_BUFFER", default_value_t = 1024)]
    pub ws_read_buffer: usize,

    /// Bytes of queued frames a connection gathers before writing them in one go.
    #[arg(long, env = "KINDRED_WS_WRITE_BUFFER", default_value_t = 4 * 1024)]
    pub ws_write_buffer: usize,

    /// The kernel's send buffer per socket (SO_SNDBUF), in bytes. Bounded so that a
    /// member who stops reading is noticed (their queue fills) instead of the kernel
    /// silently buffering megabytes for them.
    #[arg(long, env = "KINDRED_SOCKET_SEND_BUFFER", default_value_t = 128 * 1024)]
    pub socket_send_buffer: usize,

    /// Bytes a connection's write buffer may hold before writes fail.
    #[arg(long, env = "KINDRED_WS_MAX_WRITE_BUFFER", default_value_t = 256 * 1024)]
    pub ws_max_write_buffer: usize,

    /// The longest one WebSocket write may take (a welcome with its backlog, a batch of
    /// queued frames, a reply, a ping), in milliseconds; a socket that takes longer is a
    /// reader that fell behind: closed with 4008, and the client resumes.
    #[arg(long, env = "KINDRED_WRITE_TIMEOUT_MS", default_value_t = 20_000)]
    pub write_timeout_ms: u64,

    /// The most WebSockets one member (one token) may have open on one instance; one
    /// more is refused at `hello` with close 4009.
    #[arg(long, env = "KINDRED_MAX_CONNECTIONS_PER_MEMBER", default_value_t = 5)]
    pub max_connections_per_member: usize,

    /// The most participants one network address (an IPv6 network, `--ipv6-prefix`) may seat in one room at
    /// once, so one person cannot fill a room's seats. Only public addresses count:
    /// behind a proxy, set --trust-forwarded-for and --trusted-proxies. A room keeps
    /// the value of the instance that created it, wherever it is served.
    #[arg(long, env = "KINDRED_MAX_MEMBERS_PER_ADDRESS", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_members_per_address: u32,

    /// How long a facilitated session may stay held (no facilitator present, so
    /// participants cannot post) before it closes itself, in minutes. A room keeps
    /// the value of the instance that created it, wherever it is served.
    #[arg(long, env = "KINDRED_HELD_CLOSE_MINUTES", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=24 * 60))]
    pub held_close_minutes: u64,

    /// List the demo room in the public directory (it is unlisted by default, so a
    /// person looking for a real group does not land in it).
    #[arg(long, env = "KINDRED_LIST_DEMO_ROOM", default_value_t = false, action = clap::ArgAction::Set)]
    pub list_demo_room: bool,
}

/// How log lines are written (`--log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        // The defaults live in one place: the clap attributes above.
        Self::parse_from(["kindred"])
    }
}

impl Config {
    /// A member's budgets on this instance ([`Budget`]): messages, and moderation.
    pub fn member_budget(&self) -> Budget {
        let quota = |per_minute: u32, burst: u32| {
            let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
            Quota::per_minute(per_minute).allow_burst(NonZeroU32::new(burst).unwrap_or(per_minute))
        };
        Budget::new(
            quota(self.messages_per_minute, self.message_burst),
            quota(self.moderation_per_minute, self.moderation_burst),
        )
    }

    /// The limits a room created here takes and keeps (they travel with it in its
    /// log, snapshots and catalog record, so every instance folds it alike).
    pub fn limits(&self) -> Limits {
        Limits {
            presence_grace_ms: self.presence_grace_ms,
            members_per_address: self.max_members_per_address as usize,
            held_close_ms: self.held_close_minutes * 60_000,
            ..Limits::default()
        }
    }

    pub fn hello_timeout(&self) -> Duration {
        Duration::from_millis(self.hello_timeout_ms)
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms.max(1))
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    /// `None` when keep-alive is off.
    pub fn keep_alive_timeout(&self) -> Option<Duration> {
        (self.keep_alive_timeout_ms > 0).then(|| Duration::from_millis(self.keep_alive_timeout_ms))
    }

    pub fn room_list_cache(&self) -> Duration {
        Duration::from_millis(self.room_list_cache_ms)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }

    /// The cap on open TCP connections: `--max-http-connections`, but never below twice
    /// `--max-connections`, so that a full house of WebSockets leaves as many connections
    /// again for joins, pages and refusals.
    pub fn http_connection_cap(&self) -> usize {
        self.max_http_connections
            .max(self.max_connections.saturating_mul(2))
    }
}

/// A listening address: `ip:port`, or `host:port` for a name the system resolves
/// (`localhost:8080`; the first address it gives, IPv4 first).
fn parse_bind(raw: &str) -> Result<SocketAddr, String> {
    let raw = raw.trim();
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = raw.rsplit_once(':') else {
        return Err(format!(
            "{raw:?} needs a port: an address or host name and a port, e.g. 127.0.0.1:8080"
        ));
    };
    port.parse::<u16>()
        .map_err(|_| format!("{raw:?}: {port:?} is not a port number"))?;
    let resolved: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(raw)
        .map_err(|e| format!("{raw:?}: cannot resolve {host:?}: {e}"))?
        .collect();
    resolved
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| resolved.first())
        .copied()
        .ok_or_else(|| format!("{raw:?}: {host:?} resolves to no address"))
}

/// A CIDR (`10.0.0.0/8`) or a single address (`10.0.0.5`, i.e. `/32` or `/128`).
fn parse_net(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{raw:?} is neither a CIDR (10.0.0.0/8) nor an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_default_to_loopback_and_take_cidrs_or_addresses() {
        let c = Config::default();
        assert_eq!(
            c.trusted_proxies,
            vec![
                "127.0.0.0/8".parse::<IpNet>().unwrap(),
                "::1/128".parse().unwrap()
            ]
        );
        let c = Config::parse_from([
            "kindred",
            "--trusted-proxies",
            "10.0.0.0/8, 192.168.1.7,fd00::/8",
        ]);
        assert_eq!(c.trusted_proxies.len(), 3);
        assert!(c.trusted_proxies[1].contains(&"192.168.1.7".parse::<IpAddr>().unwrap()));
        assert!(!c.trusted_proxies[1].contains(&"192.168.1.8".parse::<IpAddr>().unwrap()));
        assert!(Config::try_parse_from(["kindred", "--trusted-proxies", "nonsense"]).is_err());
    }

    #[test]
    fn bind_addresses_take_host_names_and_say_what_is_wrong() {
        let c = Config::parse_from(["kindred", "--bind", "localhost:9000"]);
        assert_eq!(c.bind, "127.0.0.1:9000".parse().unwrap());
        let c = Config::parse_from(["kindred", "--bind", "[::1]:9000"]);
        assert_eq!(c.bind.port(), 9000);
        for bad in ["localhost", "localhost:http", "no-such-host.invalid:80"] {
            assert!(
                Config::try_parse_from(["kindred", "--bind", bad]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_connection_cap_is_never_below_twice_the_websocket_limit() {
        let c = Config::default();
        assert_eq!(c.http_connection_cap(), 20_000);
        let c = Config::parse_from(["kindred", "--max-connections", "50000"]);
        assert_eq!(c.http_connection_cap(), 100_000);
        let c = Config::parse_from(["kindred", "--max-http-connections", "30000"]);
        assert_eq!(c.http_connection_cap(), 30_000);
    }
}
