//! The edge: the address Kindred listens on and is reached at, and what the HTTP
//! edge lets in before a byte is read (connection caps, header, keep-alive and body
//! deadlines, body size, allowed origins), and how a client's address is told behind a
//! proxy.

use std::net::SocketAddr;

use clap::Args;
use ipnet::IpNet;

use super::parse::{parse_bind, parse_net, parse_origin};
use super::problems::Problems;

/// `--bind`, `--public-url`, the connection caps and deadlines of `http::edge`, the
/// WebSocket origins and the trusted proxies.
#[derive(Clone, Debug, Args)]
pub struct Edge {
    /// Address to listen on: an IP address or a host name, with a port
    /// (`0.0.0.0:8080`, `localhost:8080`).
    #[arg(display_order = 0, long, env = "KINDRED_BIND", default_value = "127.0.0.1:8080", value_parser = parse_bind)]
    pub bind: SocketAddr,

    /// The address members use to reach Kindred (e.g. `https://chat.example.org`) when it
    /// runs behind a proxy: the WebSocket origin check and the printed links use it. An
    /// origin: `http://` or `https://`, a host, an optional port, no path.
    /// Absent: the address Kindred listens on.
    #[arg(display_order = 6, long, env = "KINDRED_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Most WebSocket connections at once; more get HTTP 503.
    #[arg(
        display_order = 10,
        long,
        env = "KINDRED_MAX_CONNECTIONS",
        default_value_t = 10_000
    )]
    pub max_connections: usize,

    /// Most TCP connections open at once on `--bind`, WebSockets included; one more gets
    /// a best-effort HTTP 503 and is closed as it is accepted, unread. Never below twice
    /// `--max-connections`.
    #[arg(
        display_order = 11,
        long,
        env = "KINDRED_MAX_HTTP_CONNECTIONS",
        default_value_t = 20_000
    )]
    pub max_http_connections: usize,

    /// Most TCP connections open at once from one IP address (an IPv6 address counts as
    /// its network, `--ipv6-prefix`), WebSockets included; one more gets a best-effort HTTP 429 and is closed as
    /// it is accepted, unread. 0: no limit. Not applied to a trusted proxy's address under
    /// `--trust-forwarded-for`.
    #[arg(
        display_order = 12,
        long,
        env = "KINDRED_MAX_CONNECTIONS_PER_IP",
        default_value_t = 200
    )]
    pub max_connections_per_ip: usize,

    /// Milliseconds a connection has to send a request's complete headers, counted from
    /// when the server starts waiting for them (accept, or the end of the previous
    /// response); then it is closed.
    #[arg(
        display_order = 13,
        long,
        env = "KINDRED_HEADER_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub header_timeout_ms: u64,

    /// Milliseconds an HTTP/1.1 keep-alive connection may wait idle for its next request
    /// (never longer than `--header-timeout-ms`). 0: no keep-alive (one request per
    /// connection).
    #[arg(
        display_order = 14,
        long,
        env = "KINDRED_KEEP_ALIVE_TIMEOUT_MS",
        default_value_t = 5_000
    )]
    pub keep_alive_timeout_ms: u64,

    /// Milliseconds a request body has to arrive in full, from the end of its headers
    /// (over: HTTP 408 `timeout`).
    #[arg(
        display_order = 15,
        long,
        env = "KINDRED_BODY_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub body_timeout_ms: u64,

    /// Largest HTTP request body, in bytes. A larger declared `Content-Length` is refused
    /// before the body is read (HTTP 413 `too_large`).
    #[arg(display_order = 16, long, env = "KINDRED_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// Origins allowed to open a WebSocket (repeat, or comma-separated). Absent: only the
    /// server's own origin; clients that send no Origin (non-browsers) are always allowed.
    /// Each is an origin (`https://chat.example.org`, `http://localhost:8080`: scheme,
    /// host, optional port, no path); `*` allows every origin.
    #[arg(
        display_order = 39,
        long = "allowed-origin",
        env = "KINDRED_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Take the client's IP address from `X-Forwarded-For` when the connection comes from
    /// a `--trusted-proxies` address: the rightmost entry that is not itself a trusted
    /// proxy (what a client writes into the header itself is ignored).
    #[arg(display_order = 40, long, env = "KINDRED_TRUST_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_forwarded_for: bool,

    /// The proxies whose `X-Forwarded-For` entries are believed (comma-separated CIDRs or
    /// addresses), with `--trust-forwarded-for`.
    #[arg(
        display_order = 41,
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
    #[arg(
        display_order = 42,
        long,
        env = "KINDRED_IPV6_PREFIX",
        default_value_t = 64
    )]
    pub ipv6_prefix: u8,
}

impl Edge {
    pub(super) fn problems(&self, out: &mut Problems) {
        out.at_least(
            "KINDRED_MAX_CONNECTIONS",
            self.max_connections,
            1,
            "WebSockets at once",
        );
        out.at_least(
            "KINDRED_HEADER_TIMEOUT_MS",
            self.header_timeout_ms,
            1,
            "milliseconds",
        );
        out.at_least(
            "KINDRED_BODY_TIMEOUT_MS",
            self.body_timeout_ms,
            1,
            "milliseconds",
        );
        out.at_least(
            "KINDRED_MAX_BODY_BYTES",
            self.max_body_bytes,
            1024,
            "bytes: room for a room's settings",
        );
        if let Some(url) = &self.public_url
            && let Err(why) = parse_origin(url)
        {
            out.push(&format!(
                "KINDRED_PUBLIC_URL (--public-url): {why}; it is the address members type, which the WebSocket origin check compares with what browsers send"
            ));
        }
        for origin in self.allowed_origins.iter().filter(|o| o.trim() != "*") {
            if let Err(why) = parse_origin(origin) {
                out.push(&format!(
                    "KINDRED_ALLOWED_ORIGINS (--allowed-origin): {why}, or `*` for every origin; a browser's origin never matches anything else, so it would be refused"
                ));
            }
        }
        if !(48..=64).contains(&self.ipv6_prefix) {
            out.out_of_range(
                "KINDRED_IPV6_PREFIX",
                self.ipv6_prefix,
                "it must be between 48 and 64 (the bits of an IPv6 address that name one person's network: 64, 56 or 48)",
            );
        }
    }
}
