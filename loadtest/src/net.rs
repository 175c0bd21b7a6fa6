//! Sockets: which servers may be targeted (loopback only), opening a WebSocket from
//! a chosen local address, and the `hello` handshake.
//!
//! The protocol crate's client connects with `connect_async`, which cannot pick the
//! source address; spreading connections over 127.0.0.x is how one machine gets past
//! the ~28k ephemeral ports of a single source address, so this module binds a
//! `TcpSocket` itself and runs the WebSocket handshake over it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use kindred_protocol::ResumeKind;
use serde::Deserialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use crate::frame::{self, Frame};

/// One WebSocket connection to a server.
pub type Ws = WebSocketStream<TcpStream>;

/// How long a TCP connect, WebSocket upgrade or `welcome` may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A server instance to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http://host:port`, for the HTTP API.
    pub base: String,
    /// `ws://host:port/ws`.
    pub ws_url: String,
    pub addr: SocketAddr,
}

/// Parses `http://host[:port][/]` and refuses anything but a loopback host: this tool
/// must never send load anywhere else.
pub fn target(url: &str) -> anyhow::Result<Target> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url}: only http:// URLs are supported"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    ensure!(!authority.is_empty(), "{url}: no host");
    let bad_port = || format!("{url}: bad port");
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .with_context(|| format!("{url}: bad host"))?;
        match after.strip_prefix(':') {
            Some(p) => (host, p.parse::<u16>().with_context(bad_port)?),
            None if after.is_empty() => (host, 80),
            None => bail!("{url}: bad host"),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().with_context(bad_port)?),
            None => (authority, 80),
        }
    };
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.parse()
            .with_context(|| format!("{url}: host must be an IP address or localhost"))?
    };
    if !ip.is_loopback() {
        bail!("{url}: not a loopback address; the load tester only targets this machine");
    }
    Ok(Target {
        base: format!("http://{authority}"),
        ws_url: format!("ws://{authority}/ws"),
        addr: SocketAddr::new(ip, port),
    })
}

/// Why a connection could not be made; `label` groups them in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// The join API refused (`code` from the error body, or the HTTP status).
    Join(String),
    Tcp(String),
    Upgrade(String),
    /// An `error` frame instead of `welcome`.
    Refused(String),
    /// Closed before `welcome`, with this close code.
    Closed(u16),
    Timeout,
}

impl ConnectError {
    pub fn label(&self) -> String {
        match self {
            ConnectError::Join(c) => format!("join:{c}"),
            ConnectError::Tcp(e) => format!("tcp:{e}"),
            ConnectError::Upgrade(e) => format!("upgrade:{e}"),
            ConnectError::Refused(c) => format!("hello:{c}"),
            ConnectError::Closed(c) => format!("hello-closed:{c}"),
            ConnectError::Timeout => "timeout".to_owned(),
        }
    }
}

fn ws_config() -> WebSocketConfig {
    // Thousands of idle connections: a small read buffer keeps the tester light.
    // tungstenite zero-fills the free part of it before every read, so small also
    // means cheaper per frame; 2 KiB still holds several ~300-byte frames.
    WebSocketConfig::default().read_buffer_size(2048)
}

/// Opens a WebSocket to `target`, from `source` when given (IPv4 targets only).
pub async fn open(
    target: &Target,
    source: Option<Ipv4Addr>,
    rcvbuf: Option<u32>,
) -> Result<Ws, ConnectError> {
    let tcp = |e: std::io::Error| ConnectError::Tcp(format!("{:?}", e.kind()));
    let socket = match target.addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(tcp)?;
    if let (Some(ip), SocketAddr::V4(_)) = (source, target.addr) {
        socket
            .bind(SocketAddr::new(IpAddr::V4(ip), 0))
            .map_err(tcp)?;
    }
    if let Some(n) = rcvbuf {
        socket.set_recv_buffer_size(n).map_err(tcp)?;
    }
    socket.set_nodelay(true).map_err(tcp)?;
    let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, socket.connect(target.addr))
        .await
        .map_err(|_| ConnectError::Timeout)?
        .map_err(tcp)?;
    let (ws, _) = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        client_async_with_config(target.ws_url.as_str(), stream, Some(ws_config())),
    )
    .await
    .map_err(|_| ConnectError::Timeout)?
    .map_err(|e| ConnectError::Upgrade(e.to_string()))?;
    Ok(ws)
}

/// What the load tester needs from `welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct WelcomeInfo {
    pub seq: u64,
    pub epoch: u64,
    pub resume: ResumeKind,
    pub backlog: u32,
}

/// Sends `hello` (with `resume = (last_seq, epoch)` to resume) and waits for
/// `welcome`. The backlog frames that follow are left for the caller's read loop.
pub async fn hello(
    ws: &mut Ws,
    token: &str,
    resume: Option<(u64, u64)>,
) -> Result<WelcomeInfo, ConnectError> {
    let mut hello = serde_json::json!({"type": "hello", "token": token});
    if let Some((last_seq, epoch)) = resume {
        hello["last_seq"] = last_seq.into();
        hello["epoch"] = epoch.into();
    }
    let io = |e: tokio_tungstenite::tungstenite::Error| ConnectError::Upgrade(e.to_string());
    let wait = async {
        ws.send(Message::text(hello.to_string()))
            .await
            .map_err(io)?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => match frame::parse(t.as_bytes()) {
                    Frame::Welcome => {
                        return serde_json::from_str::<WelcomeInfo>(t.as_str())
                            .map_err(|e| ConnectError::Refused(format!("bad welcome: {e}")));
                    }
                    Frame::Error { code, .. } => {
                        return Err(ConnectError::Refused(
                            String::from_utf8_lossy(code).into_owned(),
                        ));
                    }
                    // Nothing else should come first; tolerate ephemeral frames.
                    _ => continue,
                },
                Some(Ok(Message::Close(f))) => {
                    return Err(ConnectError::Closed(f.map_or(1005, |f| u16::from(f.code))));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(io(e)),
                None => return Err(ConnectError::Closed(1006)),
            }
        }
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, wait)
        .await
        .map_err(|_| ConnectError::Timeout)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets() {
        let t = target("http://127.0.0.1:18080").unwrap();
        assert_eq!(t.base, "http://127.0.0.1:18080");
        assert_eq!(t.ws_url, "ws://127.0.0.1:18080/ws");
        assert_eq!(t.addr, "127.0.0.1:18080".parse().unwrap());
        assert_eq!(target("http://localhost:1/").unwrap().addr.port(), 1);
        assert_eq!(target("http://127.0.0.5").unwrap().addr.port(), 80);
        assert_eq!(
            target("http://[::1]:9000").unwrap().addr,
            "[::1]:9000".parse().unwrap()
        );
        assert_eq!(target("http://[::1]").unwrap().addr.port(), 80);
    }

    #[test]
    fn anything_else_is_refused() {
        for url in [
            "http://10.0.0.1:8080",
            "http://192.168.1.2:80",
            "http://8.8.8.8",
            "http://example.com:80",
            "https://127.0.0.1:443",
            "ws://127.0.0.1:8080",
            "http://",
            "http://127.0.0.1:notaport",
            "http://[2001:db8::1]:80",
        ] {
            assert!(target(url).is_err(), "{url}");
        }
    }

    #[test]
    fn welcome_info_ignores_the_rest_of_welcome() {
        let w = r#"{"type":"welcome","protocol":1,"you":{"user":"u","name":"n","role":"participant"},
                    "members":[],"seq":41,"epoch":7,"resume":"resumed","backlog":3,"extra":{"a":1}}"#;
        let info: WelcomeInfo = serde_json::from_str(w).unwrap();
        assert_eq!(
            info,
            WelcomeInfo {
                seq: 41,
                epoch: 7,
                resume: ResumeKind::Resumed,
                backlog: 3
            }
        );
    }

    #[tokio::test]
    async fn opens_from_a_chosen_loopback_source() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, peer) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
            // Answer a hello with an error, as a server does for a bad token.
            let _ = ws.next().await;
            ws.send(Message::text(
                r#"{"type":"error","code":"unauthorized","message":"no"}"#,
            ))
            .await
            .unwrap();
            peer
        });
        let t = target(&format!("http://{addr}")).unwrap();
        let mut ws = open(&t, Some(Ipv4Addr::new(127, 0, 0, 2)), None)
            .await
            .unwrap();
        let err = hello(&mut ws, "bad", None).await.unwrap_err();
        assert_eq!(err, ConnectError::Refused("unauthorized".into()));
        let peer = server.await.unwrap();
        assert_eq!(peer.ip(), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    }
}
