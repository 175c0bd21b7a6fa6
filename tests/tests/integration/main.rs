//! Kindred's integration tests: one test binary, real sockets, real servers.

mod admission;
mod bad_input;
mod conversation;
mod deployment;
mod limits;
mod moderation;
mod names;
mod resume;
mod safety;
mod scale_out;
mod topology;
