//! The caps at accept: open connections in total and per client address, counted by
//! the socket itself so that a connection that became a WebSocket still counts, and
//! the short refusal written to a connection over either cap.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use dashmap::DashMap;
use ipnet::IpNet;
use kindred_protocol::ErrorCode;
use kindred_protocol::http::HttpError;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::gather::Gather;
use crate::config::Config;
use crate::http::forwarded::{is_trusted, limit_key};

/// Why a connection was closed at accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    Total,
    PerAddress,
}

impl Refused {
    /// For log lines: a plain value.
    fn as_str(self) -> &'static str {
        match self {
            Refused::Total => "total",
            Refused::PerAddress => "per_address",
        }
    }
}

/// Open TCP connections, in total and per address (an IPv6 network of `--ipv6-prefix`
/// bits counts as one address).
#[derive(Debug)]
pub struct ConnectionCaps {
    open: AtomicUsize,
    max_total: usize,
    per_address: DashMap<IpAddr, usize>,
    /// 0: no per-address cap.
    max_per_address: usize,
    /// Addresses not capped per address (trusted proxies: every member behind them
    /// shares their address).
    exempt: Vec<IpNet>,
    /// The IPv6 prefix that counts as one address.
    ipv6_prefix: u8,
}

impl ConnectionCaps {
    pub fn new(
        max_total: usize,
        max_per_address: usize,
        exempt: Vec<IpNet>,
        ipv6_prefix: u8,
    ) -> Arc<Self> {
        Arc::new(Self {
            open: AtomicUsize::new(0),
            max_total,
            per_address: DashMap::new(),
            max_per_address,
            exempt,
            ipv6_prefix,
        })
    }

    /// The caps of the public listener.
    pub fn from_config(config: &Config) -> Arc<Self> {
        let exempt = if config.edge.trust_forwarded_for {
            config.edge.trusted_proxies.clone()
        } else {
            Vec::new()
        };
        Self::new(
            config.http_connection_cap(),
            config.edge.max_connections_per_ip,
            exempt,
            config.edge.ipv6_prefix,
        )
    }

    /// Count a new connection from `ip`, or refuse it.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refused> {
        if self.open.fetch_add(1, Ordering::AcqRel) >= self.max_total {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Err(Refused::Total);
        }
        let key = if self.max_per_address == 0 || is_trusted(&self.exempt, ip) {
            None
        } else {
            let key = limit_key(ip, self.ipv6_prefix);
            let mut count = self.per_address.entry(key).or_insert(0);
            if *count >= self.max_per_address {
                drop(count);
                self.open.fetch_sub(1, Ordering::AcqRel);
                return Err(Refused::PerAddress);
            }
            *count += 1;
            Some(key)
        };
        Ok(Slot {
            caps: self.clone(),
            key,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

/// One admitted connection's place in the counts; given back on drop.
#[derive(Debug)]
pub struct Slot {
    caps: Arc<ConnectionCaps>,
    key: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut emptied = false;
            if let Some(mut count) = self.caps.per_address.get_mut(&key) {
                *count = count.saturating_sub(1);
                emptied = *count == 0;
            }
            if emptied {
                self.caps
                    .per_address
                    .remove_if(&key, |_, count| *count == 0);
            }
        }
        self.caps.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that holds its connection's [`Slot`] for as long as it is open, through a
/// WebSocket upgrade too, and writes what its [`Gather`] holds before anything else.
///
/// A write is taken whole or not at all: what the kernel does not take at once waits
/// in the gather, so frames written beside the gather (tungstenite's ping, pong and
/// close) never land inside one another.
pub(super) struct Counted {
    pub(super) tcp: TcpStream,
    pub(super) _slot: Slot,
    pub(super) gather: Gather,
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.gather.poll_drain(&mut this.tcp, cx))?;
        let n = ready!(Pin::new(&mut this.tcp).poll_write(cx, buf))?;
        if n < buf.len() {
            this.gather.append(&buf[n..]);
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.gather.poll_drain(&mut this.tcp, cx))?;
        let mut n = ready!(Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs))?;
        let mut total = 0;
        for buf in bufs {
            total += buf.len();
            if n >= buf.len() {
                n -= buf.len();
            } else {
                this.gather.append(&buf[n..]);
                n = 0;
            }
        }
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.gather.poll_drain(&mut this.tcp, cx))?;
        Pin::new(&mut this.tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.gather.poll_drain(&mut this.tcp, cx))?;
        Pin::new(&mut this.tcp).poll_shutdown(cx)
    }
}

/// Write a short answer if the socket takes it at once (never wait, never read), then
/// close.
pub(super) fn refuse(tcp: &TcpStream, why: Refused) {
    let (status, code, message) = match why {
        Refused::Total => (
            "503 Service Unavailable",
            ErrorCode::Internal,
            "the server is at its connection limit; please try again shortly",
        ),
        Refused::PerAddress => (
            "429 Too Many Requests",
            ErrorCode::RateLimited,
            "too many connections from your address",
        ),
    };
    let body = serde_json::to_string(&HttpError {
        code,
        message: message.to_owned(),
        retry_after_ms: None,
        next_session: None,
    })
    .unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.try_write(answer.as_bytes());
}

/// Refusals are logged at most once per ten seconds, with how many there were.
#[derive(Default)]
pub(super) struct RefusalLog {
    since_last: AtomicU64,
    last: parking_lot::Mutex<Option<Instant>>,
}

impl RefusalLog {
    pub(super) fn note(&self, why: Refused, open: usize) {
        let count = self.since_last.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last.lock();
        let now = Instant::now();
        if last.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(10)) {
            *last = Some(now);
            self.since_last.store(0, Ordering::Relaxed);
            tracing::warn!(
                why = why.as_str(),
                refused = count,
                open,
                "connections closed at accept"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_caps_count_in_total_and_per_address_and_give_back_on_drop() {
        let caps = ConnectionCaps::new(3, 2, Vec::new(), 64);
        let a1 = caps.admit(ip("192.0.2.1")).unwrap();
        let _a2 = caps.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(
            caps.admit(ip("192.0.2.1")).unwrap_err(),
            Refused::PerAddress
        );
        let _b1 = caps.admit(ip("192.0.2.2")).unwrap();
        assert_eq!(caps.admit(ip("192.0.2.3")).unwrap_err(), Refused::Total);
        assert_eq!(caps.open(), 3);
        drop(a1);
        assert_eq!(caps.open(), 2);
        let _a3 = caps.admit(ip("192.0.2.1")).unwrap();
    }

    #[test]
    fn an_ipv6_64_is_one_address_and_exempt_proxies_are_not_capped_per_address() {
        let caps = ConnectionCaps::new(100, 1, vec!["127.0.0.0/8".parse().unwrap()], 64);
        let _x = caps.admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(
            caps.admit(ip("2001:db8:1:2::ffff")).unwrap_err(),
            Refused::PerAddress
        );
        let _y = caps.admit(ip("2001:db8:1:3::1")).unwrap();
        let proxied: Vec<_> = (0..10)
            .map(|_| caps.admit(ip("127.0.0.1")).unwrap())
            .collect();
        assert_eq!(caps.open(), 12);
        drop(proxied);
        assert_eq!(caps.open(), 2);
        assert!(caps.per_address.get(&ip("127.0.0.1")).is_none());
    }

    #[test]
    fn a_refused_address_leaves_no_entry_behind() {
        let caps = ConnectionCaps::new(0, 5, Vec::new(), 64);
        assert_eq!(caps.admit(ip("192.0.2.1")).unwrap_err(), Refused::Total);
        assert!(caps.per_address.is_empty());
        assert_eq!(caps.open(), 0);
    }

    #[test]
    fn with_a_56_prefix_two_64s_of_one_56_are_one_address() {
        let caps = ConnectionCaps::new(100, 2, Vec::new(), 56);
        let _a = caps.admit(ip("2001:db8:5:110::1")).unwrap();
        let _b = caps.admit(ip("2001:db8:5:1ff::1")).unwrap();
        assert_eq!(
            caps.admit(ip("2001:db8:5:120::7")).unwrap_err(),
            Refused::PerAddress
        );
        // The next /56 is someone else.
        let _c = caps.admit(ip("2001:db8:5:200::1")).unwrap();
        assert_eq!(caps.open(), 3);
    }
}
