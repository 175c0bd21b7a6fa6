//! Sockets: one WebSocket connection's frames, queue, buffers and timers (hello, ping,
//! idle, a write's deadline), the kernel's send buffer, and how many one member may
//! open.

use clap::Args;

use super::problems::Problems;

/// The settings of one connection, read by `http::ws`, `http::edge` and the session.
#[derive(Clone, Debug, Args)]
pub struct Sockets {
    /// Largest WebSocket frame or message a client may send, in bytes (over: close 1009).
    #[arg(display_order = 17, long, env = "KINDRED_MAX_FRAME_BYTES", default_value_t = 32 * 1024)]
    pub max_frame_bytes: usize,

    /// Frames queued for one connection before it counts as too slow and is
    /// disconnected (it can resume).
    #[arg(
        display_order = 21,
        long,
        env = "KINDRED_OUTBOUND_QUEUE",
        default_value_t = 512
    )]
    pub outbound_queue: usize,

    /// Milliseconds a new connection has to send `hello`.
    #[arg(
        display_order = 24,
        long,
        env = "KINDRED_HELLO_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub hello_timeout_ms: u64,

    /// Milliseconds between server pings.
    #[arg(
        display_order = 25,
        long,
        env = "KINDRED_PING_INTERVAL_MS",
        default_value_t = 20_000
    )]
    pub ping_interval_ms: u64,

    /// Milliseconds of silence (no frame, no pong) before a connection is closed.
    #[arg(
        display_order = 26,
        long,
        env = "KINDRED_IDLE_TIMEOUT_MS",
        default_value_t = 60_000
    )]
    pub idle_timeout_ms: u64,

    /// Bytes of tungstenite's read buffer per connection.
    #[arg(
        display_order = 46,
        long,
        env = "KINDRED_WS_READ_BUFFER",
        default_value_t = 1024
    )]
    pub ws_read_buffer: usize,

    /// Bytes of queued frames a connection gathers before writing them in one go.
    #[arg(display_order = 47, long, env = "KINDRED_WS_WRITE_BUFFER", default_value_t = 4 * 1024)]
    pub ws_write_buffer: usize,

    /// The kernel's send buffer per socket (SO_SNDBUF), in bytes. Bounded so that a
    /// member who stops reading is noticed (their queue fills) instead of the kernel
    /// silently buffering megabytes for them.
    #[arg(display_order = 48, long, env = "KINDRED_SOCKET_SEND_BUFFER", default_value_t = 128 * 1024)]
    pub socket_send_buffer: usize,

    /// Bytes a connection's write buffer may hold before writes fail.
    #[arg(display_order = 49, long, env = "KINDRED_WS_MAX_WRITE_BUFFER", default_value_t = 256 * 1024)]
    pub ws_max_write_buffer: usize,

    /// The longest one WebSocket write may take (a welcome with its backlog, a batch of
    /// queued frames, a reply, a ping), in milliseconds; a socket that takes longer is a
    /// reader that fell behind: closed with 4008, and the client resumes.
    #[arg(
        display_order = 50,
        long,
        env = "KINDRED_WRITE_TIMEOUT_MS",
        default_value_t = 20_000
    )]
    pub write_timeout_ms: u64,

    /// The most WebSockets one member (one token) may have open on one instance; one
    /// more is refused at `hello` with close 4009.
    #[arg(
        display_order = 51,
        long,
        env = "KINDRED_MAX_CONNECTIONS_PER_MEMBER",
        default_value_t = 5
    )]
    pub max_connections_per_member: usize,
}

impl Sockets {
    pub(super) fn problems(&self, out: &mut Problems) {
        out.at_least(
            "KINDRED_MAX_FRAME_BYTES",
            self.max_frame_bytes,
            1024,
            "bytes: room for a hello with its token",
        );
        out.at_least("KINDRED_OUTBOUND_QUEUE", self.outbound_queue, 1, "frames");
        out.at_least(
            "KINDRED_HELLO_TIMEOUT_MS",
            self.hello_timeout_ms,
            1,
            "milliseconds",
        );
        out.at_least(
            "KINDRED_PING_INTERVAL_MS",
            self.ping_interval_ms,
            1,
            "milliseconds",
        );
        out.at_least("KINDRED_WS_READ_BUFFER", self.ws_read_buffer, 1, "bytes");
        out.at_least("KINDRED_WS_WRITE_BUFFER", self.ws_write_buffer, 1, "bytes");
        out.at_least(
            "KINDRED_WS_MAX_WRITE_BUFFER",
            self.ws_max_write_buffer,
            1,
            "bytes",
        );
        out.at_least(
            "KINDRED_SOCKET_SEND_BUFFER",
            self.socket_send_buffer,
            4096,
            "bytes",
        );
        out.at_least(
            "KINDRED_WRITE_TIMEOUT_MS",
            self.write_timeout_ms,
            1,
            "milliseconds",
        );
        out.at_least(
            "KINDRED_MAX_CONNECTIONS_PER_MEMBER",
            self.max_connections_per_member,
            1,
            "WebSockets per member",
        );
        if self.idle_timeout_ms <= self.ping_interval_ms {
            out.out_of_range(
                "KINDRED_IDLE_TIMEOUT_MS",
                self.idle_timeout_ms,
                &format!(
                    "it must be longer than --ping-interval-ms ({}), or every quiet member is closed before their pong can arrive",
                    self.ping_interval_ms
                ),
            );
        }
    }
}
