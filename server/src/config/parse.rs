//! The flag values clap cannot read by itself: a listening address that may name a
//! host, and a network given as a CIDR or a single address.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// A listening address: `ip:port`, or `host:port` for a name the system resolves
/// (`localhost:8080`; the first address it gives, IPv4 first).
pub(super) fn parse_bind(raw: &str) -> Result<SocketAddr, String> {
    let raw = raw.trim();
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = raw.rsplit_once(':') else {
        return Err(format!(
            "{raw:?} needs a port: an address or host name and a port, e.g. 127.0.0.1:8080"
        ));
    };
    port.parse::<u16>()
        .map_err(|_| format!("{raw:?}: {port:?} is not a port number"))?;
    let resolved: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(raw)
        .map_err(|e| format!("{raw:?}: cannot resolve {host:?}: {e}"))?
        .collect();
    resolved
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| resolved.first())
        .copied()
        .ok_or_else(|| format!("{raw:?}: {host:?} resolves to no address"))
}

/// A CIDR (`10.0.0.0/8`) or a single address (`10.0.0.5`, i.e. `/32` or `/128`).
pub(super) fn parse_net(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{raw:?} is neither a CIDR (10.0.0.0/8) nor an IP address"))
}
