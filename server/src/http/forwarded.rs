//! Which address a request comes from, and which key the per-address limits count it
//! under.
//!
//! Without `--trust-forwarded-for` the address is the TCP peer. With it, and only when
//! the peer is one of `--trusted-proxies`, `X-Forwarded-For` is read from the right:
//! each proxy appends the address it received the request from, so the rightmost entry
//! was written by the peer, the one before it by that entry's proxy, and so on. The
//! client is the first entry, from the right, that is not itself a trusted proxy:
//! everything left of it was written by someone we do not trust, and is ignored. A
//! client that sends `X-Forwarded-For: 1.2.3.4` through a proxy that appends gets
//! `1.2.3.4, <its real address>` and is counted under its real address.

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

/// The key per-address limits count under: an IPv4 address, or an IPv6 address's /64
/// (one subscriber usually holds a whole /64, and picks any address in it at will).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u64::MAX as u128))),
        v4 => v4,
    }
}

/// The network a ban or a seat count may hold on to: [`limit_key`] of an address that
/// can name a person's own connection. Loopback, private, link-local, shared (CGNAT)
/// and unique-local addresses name a proxy, a LAN or this machine, shared by everyone
/// behind it: marking one would ban a whole building, so they give none.
pub fn person_network(ip: IpAddr) -> Option<IpAddr> {
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
    (!shared).then(|| limit_key(ip))
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
    let mut values = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        match value.to_str() {
            Ok(v) => values.push(v),
            // Not text: nothing in it can be believed, and nothing to its left either.
            Err(_) => values.clear(),
        }
    }
    let entries = values.iter().flat_map(|v| v.split(','));
    rightmost_untrusted(peer, entries, trusted)
}

/// Walk the entries from the right while they are trusted proxies. An entry that does not
/// parse ends the walk: the last address believed (a proxy's) is then the client's.
fn rightmost_untrusted<'a>(
    peer: IpAddr,
    entries: impl DoubleEndedIterator<Item = &'a str>,
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
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
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
            assert_eq!(person_network(ip(shared)), None, "{shared}");
        }
        assert_eq!(person_network(ip("203.0.113.7")), Some(ip("203.0.113.7")));
        assert_eq!(
            person_network(ip("::ffff:203.0.113.7")),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            person_network(ip("2001:db8:1:2:aaaa::9")),
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

    #[test]
    fn a_proxy_that_overwrites_the_header_gives_the_client() {
        let h = xff(&["198.51.100.7"]);
        assert_eq!(
            client_addr(ip(PROXY), &h, true, &loopback()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn what_the_client_wrote_left_of_its_real_address_is_ignored() {
        // The client sent `X-Forwarded-For: 1.2.3.4`; the proxy appended what it saw.
        let h = xff(&["1.2.3.4, 198.51.100.7"]);
        assert_eq!(
            client_addr(ip(PROXY), &h, true, &loopback()),
            ip("198.51.100.7")
        );
        let h = xff(&["1.2.3.4", "198.51.100.7"]);
        assert_eq!(
            client_addr(ip(PROXY), &h, true, &loopback()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_through() {
        let trusted: Vec<IpNet> = vec![
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        // client → load balancer 10.1.1.1 → nginx 10.2.2.2 → kindred (peer 127.0.0.1).
        let h = xff(&["6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"]);
        assert_eq!(
            client_addr(ip(PROXY), &h, true, &trusted),
            ip("198.51.100.7")
        );
        // Every entry a proxy: the leftmost one is the best we know.
        let h = xff(&["10.9.9.9, 10.1.1.1"]);
        assert_eq!(client_addr(ip(PROXY), &h, true, &trusted), ip("10.9.9.9"));
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_understood() {
        let h = xff(&["1.2.3.4, [2001:db8::7]:4711"]);
        assert_eq!(
            client_addr(ip(PROXY), &h, true, &loopback()),
            ip("2001:db8::7")
        );
        let h = xff(&["198.51.100.7:5000"]);
        assert_eq!(
            client_addr(ip("::ffff:127.0.0.1"), &h, true, &loopback()),
            ip("198.51.100.7")
        );
        let h = xff(&["::ffff:198.51.100.7"]);
        assert_eq!(
            client_addr(ip(PROXY), &h, true, &loopback()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_address_believed() {
        let h = xff(&["198.51.100.7, unknown"]);
        assert_eq!(client_addr(ip(PROXY), &h, true, &loopback()), ip(PROXY));
        let h = xff(&["garbage, 198.51.100.7"]);
        assert_eq!(
            client_addr(ip(PROXY), &h, true, &loopback()),
            ip("198.51.100.7")
        );
        // No header at all: the proxy itself.
        assert_eq!(
            client_addr(ip(PROXY), &HeaderMap::new(), true, &loopback()),
            ip(PROXY)
        );
    }

    #[test]
    fn an_ipv6_address_counts_as_its_64() {
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:2::2"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(limit_key(ip("198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(limit_key(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
    }
}
