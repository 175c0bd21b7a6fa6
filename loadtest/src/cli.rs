//! The command line: a preset and the flags that override any of its values, as clap
//! reads them. `config` resolves them into one checked run.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::Parser;

use crate::preset::{PRESETS_HELP, Preset};

/// How members are spread over several instances (`--spread`).
#[derive(clap::ValueEnum, serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Spread {
    /// Member i to instance i mod n.
    Member,
    /// Every member of room r to instance r mod n.
    Room,
}

#[derive(Parser, Debug, Clone)]
#[command(
    name = "kindred-loadtest",
    version,
    about = "Load generator for Kindred: rooms of WebSocket members, end-to-end latency, loss.",
    after_help = PRESETS_HELP
)]
pub struct Args {
    /// Scenario preset; every flag below overrides its value.
    #[arg(long, short, value_enum, default_value_t = Preset::Smoke)]
    pub preset: Preset,
    /// Server base URL (repeat or comma-separate for several instances; members are
    /// spread over them round robin). Loopback addresses only.
    #[arg(
        long = "url",
        env = "KINDRED_URL",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:8080"
    )]
    pub urls: Vec<String>,
    /// How members are spread over several --url: `member` (member i to instance
    /// i mod n: every room has members on every instance, each message folded on all
    /// of them) or `room` (room r's members all to instance r mod n: each message
    /// folded on one instance, as a proxy that routes by room would place them).
    #[arg(long, value_enum, default_value_t = Spread::Member)]
    pub spread: Spread,
    /// Admin bearer token, to create the rooms.
    #[arg(long, env = "KINDRED_ADMIN_TOKEN")]
    pub admin_token: String,
    /// Total members (connections); rooms are filled in order. Default: rooms × room size.
    #[arg(long)]
    pub connections: Option<usize>,
    #[arg(long)]
    pub rooms: Option<usize>,
    /// Members per room.
    #[arg(long)]
    pub room_size: Option<usize>,
    /// Members per room that send; the room's rate is split evenly among them.
    #[arg(long)]
    pub senders: Option<usize>,
    /// Messages per second per room.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Stepped rates per room (e.g. 2,5,10): one measurement per step; overrides --rate.
    #[arg(long, value_delimiter = ',')]
    pub steps: Option<Vec<f64>>,
    /// Message text size in bytes.
    #[arg(long)]
    pub message_size: Option<usize>,
    /// Measured seconds (per step).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Seconds of traffic before measuring.
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Seconds discarded after each rate change between steps.
    #[arg(long)]
    pub settle: Option<f64>,
    /// Seconds to wait, after senders stop, for every member to catch up.
    #[arg(long)]
    pub drain: Option<f64>,
    /// New connections (join + hello) per second while connecting.
    #[arg(long)]
    pub connect_rate: Option<f64>,
    /// Local source address(es) for WebSocket connections, round robin (127.0.0.x).
    #[arg(long = "source", value_delimiter = ',')]
    pub sources: Vec<Ipv4Addr>,
    /// Shorthand for --source 127.0.0.1,…,127.0.0.N.
    #[arg(long)]
    pub source_count: Option<u8>,
    /// Share of members (0–1, never senders) that stop reading for a while.
    #[arg(long)]
    pub slow_share: Option<f64>,
    /// Seconds after the measurement starts when slow readers stop reading.
    #[arg(long)]
    pub slow_after: Option<f64>,
    /// Seconds slow readers stay stalled before reading (and resuming) again.
    #[arg(long)]
    pub slow_for: Option<f64>,
    /// SO_RCVBUF for slow readers' sockets, to make them fall behind sooner.
    #[arg(long)]
    pub slow_rcvbuf: Option<u32>,
    /// Members that leave, and new members that join, per second (each).
    #[arg(long)]
    pub churn: Option<f64>,
    /// Server process to read CPU time and RSS from (/proc/PID); repeat or
    /// comma-separate for several instances (summed).
    #[arg(long = "server-pid", value_delimiter = ',')]
    pub server_pids: Vec<u32>,
    /// The broker the instances share (redis-server): its CPU time is reported on its
    /// own (per message sent: every message crosses it once) and added to the
    /// servers' for the whole system's CPU per delivery. Repeat or comma-separate.
    #[arg(long = "broker-pid", value_delimiter = ',')]
    pub broker_pids: Vec<u32>,
    /// Also append the JSON result lines to this file.
    #[arg(long)]
    pub json_out: Option<PathBuf>,
    /// A free-form label copied into the JSON lines (e.g. "run 2/3").
    #[arg(long)]
    pub label: Option<String>,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Leave the rooms in place at the end (by default they are deleted).
    #[arg(long)]
    pub keep_rooms: bool,
    /// Content policy of the rooms the run creates: off, flag, censor or hold
    /// (absent: the server's default, flag). `off` measures fan-out alone; the
    /// policy's own cost (rustrict) is per message.
    #[arg(long)]
    pub policy: Option<String>,
}
