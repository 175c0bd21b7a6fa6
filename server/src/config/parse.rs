//! The flag values clap cannot read by itself: a listening address that may name a
//! host, a network given as a CIDR or a single address, and a web origin.

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

/// A web origin as browsers send it in `Origin`: `http` or `https`, a host, an optional
/// port, and nothing after (a lone trailing `/` is taken and dropped). Returned without
/// the slash; the error says what is wrong and what would be taken.
pub(super) fn parse_origin(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let example = "an origin is a scheme, a host and an optional port, e.g. https://chat.example.org or http://localhost:8080";
    let uri: axum::http::Uri = raw
        .parse()
        .map_err(|_| format!("{raw:?} is not a URL ({example})"))?;
    let scheme_ok = uri
        .scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
    if !scheme_ok {
        return Err(format!("{raw:?} has no http:// or https:// ({example})"));
    }
    let Some(authority) = uri.authority() else {
        return Err(format!("{raw:?} names no host ({example})"));
    };
    if authority.host().is_empty() || authority.as_str().contains('@') {
        return Err(format!(
            "{raw:?} must name a host and no user or password ({example})"
        ));
    }
    let after = uri.path_and_query().map_or("", |p| p.as_str());
    if !(after.is_empty() || after == "/") || raw.contains(['?', '#']) {
        return Err(format!(
            "{raw:?} has a path, query or fragment; browsers send none in an origin ({example})"
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}
