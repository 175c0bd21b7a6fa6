//! Operations: how this deployment is run and what it adds: the metrics listener, the
//! log format, the demo room, its own crisis phrases and resources card, and how long
//! shutdown waits. Nothing here can be out of range, so this group has no problems of
//! its own (a bad file or address is refused when it is read).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::parse::parse_bind;

/// The settings an operator reads beside the server: metrics, logs, the demo room,
/// the crisis files, shutdown.
#[derive(Clone, Debug, Args)]
pub struct Operations {
    /// Address of the separate listener that serves `/metrics` (Prometheus). `/metrics` is
    /// not served on `--bind`. Port 0 picks a free port (printed at start); keep it on
    /// loopback or a private network.
    #[arg(display_order = 1, long, env = "KINDRED_METRICS_BIND", default_value = "127.0.0.1:0", value_parser = parse_bind)]
    pub metrics_bind: SocketAddr,

    /// How log lines are written to stderr: `text` (for people) or `json` (one object a
    /// line, for a log collector).
    #[arg(display_order = 8, long, env = "KINDRED_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Create a demo room at start and print its address.
    #[arg(display_order = 9, long, env = "KINDRED_DEMO_ROOM", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo_room: bool,

    /// A file of extra crisis phrases (same format as the built-in list) to add to the
    /// crisis matcher.
    #[arg(display_order = 43, long, env = "KINDRED_CRISIS_PHRASES")]
    pub crisis_phrases: Option<PathBuf>,

    /// A JSON file with the crisis resources card for this deployment
    /// (`{title, body, lines:[{region,name,contact,url?}]}`). Absent: 988 (US & Canada),
    /// Samaritans (UK & Ireland), Lifeline (Australia), findahelpline.com.
    #[arg(display_order = 44, long, env = "KINDRED_RESOURCES_CARD")]
    pub resources_card: Option<PathBuf>,

    /// Milliseconds that shutdown waits for connections to close.
    #[arg(
        display_order = 45,
        long,
        env = "KINDRED_SHUTDOWN_GRACE_MS",
        default_value_t = 5_000
    )]
    pub shutdown_grace_ms: u64,

    /// List the demo room in the public directory (it is unlisted by default, so a
    /// person looking for a real group does not land in it).
    #[arg(display_order = 54, long, env = "KINDRED_LIST_DEMO_ROOM", default_value_t = false, action = clap::ArgAction::Set)]
    pub list_demo_room: bool,
}

/// How log lines are written (`--log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}
