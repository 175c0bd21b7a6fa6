//! `kindred-loadtest`: a load generator for Kindred that speaks the real protocol.
//!
//! It creates rooms through the admin API, joins members through the join API, says
//! `hello` over WebSocket, sends at a set rate per room and measures, at every
//! receiver, end-to-end latency and whether each message arrived exactly once and in
//! order. The map:
//! - [`config`]: one run's [`config::Scenario`], resolved from the command line
//!   ([`cli`]) over a preset ([`preset`]: the scenarios of BENCHMARKS.md) and checked.
//! - [`run`]: the conductor: rooms, connect, warm-up, steps, drain, stop, tally.
//! - [`member`]: one task per simulated member (send, receive, stall, churn, resume).
//! - [`ctx`]: what every member task shares with the conductor.
//! - [`rooms`]: the run's rooms created, deleted and churned.
//! - [`net`]: loopback-only targets, sockets bound to a chosen 127.0.0.x, `hello`.
//! - [`frame`], [`payload`], [`accounting`], [`latency`]: the pure receive path:
//!   classify a frame by byte search, read our header from the text, count
//!   loss/duplicates/reordering per connection and latency; [`tally`]: a room's
//!   totals over its members. Unit-tested without sockets.
//! - [`live`]: counters and histograms shared while running; [`procfs`]: server CPU
//!   and memory; [`report`]: the run's figures, JSON lines and verdict; [`summary`]:
//!   the human summary.
//! - [`reference`]: the naive broadcast server `bench.sh` runs beside Kindred
//!   (`kindred-reference`); [`ratios`]: Kindred ÷ reference from one invocation's
//!   results (`kindred-ratios`).
//!
//! Invariants: traffic only to loopback addresses; every loop and phase is bounded,
//! so a run always ends by itself; the receive path never parses JSON.

pub mod accounting;
pub mod cli;
pub mod clock;
pub mod config;
pub mod ctx;
pub mod frame;
pub mod latency;
pub mod live;
pub mod member;
pub mod net;
pub mod payload;
pub mod preset;
pub mod procfs;
pub mod ratios;
pub mod reference;
pub mod report;
pub mod rooms;
pub mod run;
pub mod summary;
pub mod tally;
