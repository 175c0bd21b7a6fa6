//! Which address a request comes from, and which key the per-address limits count it
//! under.
//!
//! Without `--trust-forwarded-for` the address is the TCP peer. With it, and only when
//! the peer is one of `--trusted-proxies`, `X-Forwarded-For` is read from the right:
//! each proxy appends the address it received the request from, so the rightmost entry
//! was written by the peer, the one before it by that entry's proxy, and so on. The
//! client is the first entry, from the right, that is not itself a trusted proxy:
//! everything left of it was written by someone we do not trust, and is ignored.
//!
//! The header is read as bytes, entry by entry (comma-separated, several headers in
//! order, empty entries skipped as HTTP lists allow). What a client writes is never a
//! reason to drop the chain: a client that sends `X-Forwarded-For: 1.2.3.4` or bytes
//! that are not text through a proxy that appends (nginx's
//! `$proxy_add_x_forwarded_for`) gets `<what it sent>, <its real address>`, the walk
//! meets its real address first, and that is the address its bans and seats hold on.
//! Reading the whole header as text instead would let one byte that is not ASCII
//! throw the chain away and leave the proxy's own address, which carries no ban mark
//! and no seat limit.
//!
//! An entry that is not an address (`unknown`, a typo, bytes that are not text) is
//! read by which side of the client it stands on:
//! - **left of the client**, it was written by the client or by proxies we do not
//!   know, and is ignored like everything there;
//! - **right of the client**, met while walking through trusted proxies, it was
//!   written by a trusted proxy that could not name the hop it received the request
//!   from. Everything further left came through that unnamed hop and cannot be
//!   believed, so the walk stops and the request counts as that proxy's own (the last
//!   address believed). Skipping the entry instead would hand the choice to whatever
//!   stands left of it, which the client wrote: it could pick any address for its
//!   limits and bans, someone else's included. A proxy's address is one no client can
//!   pick, and a deployment whose proxy writes such entries shows it at once (every
//!   request counts as the proxy).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address as the limits see it: an IPv4-mapped IPv6 address is its IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key per-address limits count under: an IPv4 address, or the IPv6 network of
/// `ipv6_prefix` bits that holds the address (`--ipv6-prefix`, 64 by default). One
/// subscriber usually holds a whole /64, and many providers hand out a /56 or a /48,
/// from which a person picks any address at will.
pub fn limit_key(ip: IpAddr, ipv6_prefix: u8) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let host_bits = 128u32.saturating_sub(u32::from(ipv6_prefix));
            let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
        v4 => v4,
    }
}

/// The network a ban or a seat count may hold on to: [`limit_key`] of an address that
/// can name a person's own connection, so marks, seats and connection caps all count
/// one IPv6 network of `ipv6_prefix` bits as one person. Loopback, private, link-local, shared (CGNAT)
/// and unique-local addresses name a proxy, a LAN or this machine, shared by everyone
/// behind it: marking one would ban a whole building, so they give none.
pub fn person_network(ip: IpAddr, ipv6_prefix: u8) -> Option<IpAddr> {
    let shared = match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    };
    (!shared).then(|| limit_key(ip, ipv6_prefix))
}

pub fn is_trusted(trusted: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical(ip);
    trusted.iter().any(|net| net.contains(&ip))
}

/// The client's address for a request from `peer` with these headers.
pub fn client_addr(
    peer: IpAddr,
    headers: &HeaderMap,
    trust_forwarded_for: bool,
    trusted: &[IpNet],
) -> IpAddr {
    let peer = canonical(peer);
    if !trust_forwarded_for || !is_trusted(trusted, peer) {
        return peer;
    }
    let entries = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .filter(|entry| !entry.trim_ascii().is_empty());
    rightmost_untrusted(peer, entries, trusted)
}

/// Walk the entries from the right while they are trusted proxies. An entry that does
/// not parse ends the walk: the last address believed (a proxy's) is then the client's.
fn rightmost_untrusted<'a>(
    peer: IpAddr,
    entries: impl DoubleEndedIterator<Item = &'a [u8]>,
    trusted: &[IpNet],
) -> IpAddr {
    let mut client = peer;
    for entry in entries.rev() {
        let Some(ip) = parse_entry(entry) else {
            break;
        };
        client = canonical(ip);
        if !is_trusted(trusted, client) {
            break;
        }
    }
    client
}

/// `1.2.3.4`, `2001:db8::1`, or with a port: `1.2.3.4:5678`, `[2001:db8::1]:5678`.
/// Anything else, bytes that are not text included, is no address.
fn parse_entry(entry: &[u8]) -> Option<IpAddr> {
    let entry = std::str::from_utf8(entry.trim_ascii()).ok()?;
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn loopback() -> Vec<IpNet> {
        vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]
    }

    #[test]
    fn only_a_persons_own_network_is_marked() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for shared in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.20",
            "100.64.3.4",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.1.20",
        ] {
            assert_eq!(person_network(ip(shared), 64), None, "{shared}");
        }
        assert_eq!(
            person_network(ip("203.0.113.7"), 64),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            person_network(ip("::ffff:203.0.113.7"), 64),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            person_network(ip("2001:db8:1:2:aaaa::9"), 64),
            Some(ip("2001:db8:1:2::"))
        );
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const PROXY: &str = "127.0.0.1";

    #[test]
    fn without_trust_the_peer_is_the_client_whatever_the_header_says() {
        let h = xff(&["1.2.3.4"]);
        assert_eq!(client_addr(ip(PROXY), &h, false, &loopback()), ip(PROXY));
    }

    #[test]
    fn a_header_from_a_peer_that_is_not_a_trusted_proxy_is_ignored() {
        let h = xff(&["1.2.3.4"]);
        assert_eq!(
            client_addr(ip("203.0.113.9"), &h, true, &loopback()),
            ip("203.0.113.9")
        );
    }

    /// The client's address for a request from `peer` carrying these
    /// `X-Forwarded-For` headers (raw bytes, in order), trusting loopback and, when
    /// `lan`, 10.0.0.0/8 as proxies.
    fn client(peer: &str, lan: bool, headers: &[&[u8]]) -> IpAddr {
        let mut trusted = loopback();
        if lan {
            trusted.push("10.0.0.0/8".parse().unwrap());
        }
        let mut h = HeaderMap::new();
        for v in headers {
            h.append("x-forwarded-for", HeaderValue::from_bytes(v).unwrap());
        }
        client_addr(ip(peer), &h, true, &trusted)
    }

    #[test]
    fn the_client_is_the_first_address_from_the_right_that_no_trusted_proxy_holds() {
        let cases: &[(&str, bool, &[&[u8]], &str)] = &[
            // A proxy that overwrites the header.
            ("overwritten", false, &[b"198.51.100.7"], "198.51.100.7"),
            (
                "what the client wrote is left of what the proxy appended",
                false,
                &[b"1.2.3.4, 198.51.100.7"],
                "198.51.100.7",
            ),
            (
                "several headers read in order, as one list",
                false,
                &[b"1.2.3.4", b"198.51.100.7"],
                "198.51.100.7",
            ),
            (
                "several headers, a trusted proxy in the last",
                false,
                &[b"203.0.113.9, 198.51.100.7", b"127.0.0.5"],
                "198.51.100.7",
            ),
            (
                "client -> load balancer 10.1.1.1 -> nginx 10.2.2.2 -> kindred",
                true,
                &[b"6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"],
                "198.51.100.7",
            ),
            (
                "every entry a proxy: the leftmost is the best known",
                true,
                &[b"10.9.9.9, 10.1.1.1"],
                "10.9.9.9",
            ),
            (
                "an IPv6 entry with brackets and a port",
                false,
                &[b"1.2.3.4, [2001:db8::7]:4711"],
                "2001:db8::7",
            ),
            (
                "an IPv4 entry with a port",
                false,
                &[b"198.51.100.7:5000"],
                "198.51.100.7",
            ),
            (
                "an IPv4-mapped client is its IPv4 address",
                false,
                &[b"::ffff:198.51.100.7"],
                "198.51.100.7",
            ),
            (
                "an IPv4-mapped proxy is still a trusted proxy",
                false,
                &[b"198.51.100.7, ::ffff:127.0.0.1"],
                "198.51.100.7",
            ),
            (
                "empty entries name nobody and are skipped",
                false,
                &[b"", b" , 198.51.100.7, ,"],
                "198.51.100.7",
            ),
            // Garbage left of the client is ignored, never a reason to drop the chain.
            (
                "words left of the client",
                false,
                &[b"unknown, garbage, 198.51.100.7"],
                "198.51.100.7",
            ),
            (
                "bytes that are not text left of the client, in its own header",
                false,
                &[b"\xff\xfe, 198.51.100.7"],
                "198.51.100.7",
            ),
            (
                "bytes that are not text in an earlier header",
                false,
                &[b"caf\xc3\xa9 \x80", b"198.51.100.7"],
                "198.51.100.7",
            ),
            (
                "bytes that are not text left of a client behind two trusted hops",
                false,
                &[b"\xff, 203.0.113.7, 127.0.0.1"],
                "203.0.113.7",
            ),
            // Garbage right of the client stops the walk at the proxy that wrote it.
            (
                "a word right of the client",
                false,
                &[b"198.51.100.7, unknown"],
                PROXY,
            ),
            (
                "bytes that are not text right of the client",
                false,
                &[b"198.51.100.7, \xff"],
                PROXY,
            ),
            (
                "garbage written by a trusted proxy inside the chain",
                true,
                &[b"198.51.100.7, unknown, 10.2.2.2"],
                "10.2.2.2",
            ),
            ("no header at all: the proxy itself", false, &[], PROXY),
        ];
        for (case, lan, headers, expected) in cases {
            assert_eq!(client(PROXY, *lan, headers), ip(expected), "{case}");
        }
        // A peer written as an IPv4-mapped address is still the trusted proxy.
        assert_eq!(
            client("::ffff:127.0.0.1", false, &[b"198.51.100.7:5000"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn an_ipv6_address_counts_as_its_network_of_the_configured_prefix() {
        let key = |s: &str, prefix| limit_key(ip(s), prefix);
        assert_eq!(
            key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64),
            ip("2001:db8:1:2::")
        );
        assert_eq!(key("2001:db8:1:2::1", 64), key("2001:db8:1:2::2", 64));
        assert_ne!(key("2001:db8:1:2::1", 64), key("2001:db8:1:3::1", 64));
        // A /56: the 256 /64s of 2001:db8:1:100::/56 are one network, the next is not.
        assert_eq!(key("2001:db8:1:1ab:1::9", 56), ip("2001:db8:1:100::"));
        assert_eq!(key("2001:db8:1:100::1", 56), key("2001:db8:1:1ff::1", 56));
        assert_ne!(key("2001:db8:1:1ff::1", 56), key("2001:db8:1:200::1", 56));
        // A /48: everything under 2001:db8:1::/48.
        assert_eq!(key("2001:db8:1:ffff::1", 48), ip("2001:db8:1::"));
        assert_ne!(key("2001:db8:1::1", 48), key("2001:db8:2::1", 48));
        // IPv4 is never widened.
        for prefix in [48, 56, 64] {
            assert_eq!(key("198.51.100.7", prefix), ip("198.51.100.7"));
            assert_eq!(key("::ffff:198.51.100.7", prefix), ip("198.51.100.7"));
        }
        // The mark of a person's network follows the same prefix.
        assert_eq!(
            person_network(ip("2001:db8:1:1ab::9"), 56),
            Some(ip("2001:db8:1:100::"))
        );
        assert_eq!(person_network(ip("fd00:1:2:3::1"), 48), None);
    }
}
