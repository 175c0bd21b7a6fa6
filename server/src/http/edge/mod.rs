//! The edge: accepting TCP connections and serving HTTP/1.1 on them with hyper, every
//! wait bounded. One file per job:
//!
//! - **At accept** (`accept`), before a byte is read: a cap on open connections in
//!   total and per client address ([`ConnectionCaps`], in `caps`); one over either cap
//!   gets a best-effort `503` or `429` written without reading, and is closed. The
//!   count is held by the socket itself (`Counted`), so a connection that became a
//!   WebSocket still counts.
//! - **Headers** (`serve`): hyper's header read timeout (with a timer) closes a
//!   connection that has not sent a complete request head in time, whether it sends
//!   nothing, sends it a byte at a time, or sits idle between requests. Kindred serves
//!   HTTP/1.1 only, so there is no protocol sniffing before that timer starts
//!   (hyper-util's auto builder reads the first bytes with no timer at all).
//! - **Keep-alive** (`serve`): an idle keep-alive connection is closed after the
//!   keep-alive timeout.
//! - **Bodies** (`bodies`): a declared `Content-Length` over the limit is refused with
//!   `413` before any of it is read ([`guard_body`]); every body must arrive in full
//!   before its deadline (`deadline`), or the request fails with `408`.
//! - **Shutdown** (`accept`, `serve`): the listener stops accepting, every connection
//!   is told to finish (an idle one closes at once, one mid-request after its
//!   response), and whatever is still open after the grace period is dropped
//!   ([`Connections`]).
//!
//! The files lean one way: `accept` on `serve` and `caps`, `serve` on `caps`, `bodies`
//! on `deadline`; none of them on this one, which only names what they offer.

mod accept;
mod bodies;
mod caps;
pub mod deadline;
mod gather;
mod serve;

pub use accept::{Connections, accept_loop};
pub use bodies::{BodyLimits, guard_body};
pub use caps::{ConnectionCaps, Refused, Slot};
pub use gather::Gather;
pub use serve::EdgeSettings;
