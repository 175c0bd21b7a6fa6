//! Kindred's integration tests: one test binary, real sockets, real servers.

mod admission;
mod appending_proxy;
mod bad_input;
mod bans;
mod contract;
mod conversation;
mod deployment;
mod edge;
mod invites;
mod kept_alerts;
mod limits;
mod long_absence;
mod moderation;
mod moderation_log;
mod names;
mod operating;
mod private_notices;
mod resume;
mod safety;
mod scale_out;
mod schedule;
mod session_limits;
mod sessions;
mod startup;
mod topology;
mod waiting_room;
