//! A small async client (feature `client`): the HTTP admission calls and one
//! WebSocket connection. Used by the load tester and the integration tests; a
//! third-party Rust client can start from it.
//!
//! It holds the server to PROTOCOL.md where a frame arrives: after `welcome`, exactly
//! `member_parts` `members` frames and then exactly `backlog` timeline events, in
//! order, nothing else between them (§5.2); a `members` frame nowhere else; and a
//! timeline event never at or below a seq already seen on the connection (§5.4:
//! nothing is written twice). A frame out of place is [`ClientError::Violation`], so
//! a test that reads it fails instead of skipping it. An `ack` is read as an
//! [`Outcome`], so a held message is never mistaken for a delivered one.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::client_frame::ClientFrame;
use crate::http::{
    CreateInvite, CreateRoom, HttpError, Invite, InviteList, JoinRequest, JoinResponse, RoomList,
    SeatCode, SeatRequest,
};
use crate::ids::{Epoch, InviteId, RoomId, Seq, UserId};
use crate::server_frame::{ErrorFrame, RoomSummary, ServerFrame, Welcome};

/// What can go wrong talking to a server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("http {status}: {body:?}")]
    Http {
        status: u16,
        body: Option<HttpError>,
    },
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("closed by server: {code} {reason}")]
    Closed { code: u16, reason: String },
    #[error("unexpected frame: {0}")]
    Unexpected(String),
    /// The server refused the `hello` (§5.1): the `error` it answered with; the close
    /// follows.
    #[error("hello refused: {0:?}")]
    Refused(Box<ErrorFrame>),
    /// The server sent a frame PROTOCOL.md does not allow where it arrived.
    #[error("protocol violation: {0}")]
    Violation(String),
}

/// What an `ack` says happened to a command (PROTOCOL.md §11 `ack`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Applied at this seq (the message's, or a `mod`'s last event).
    Applied(Seq),
    /// Held for a facilitator's review: not in the room (yet), no seq.
    Held,
    /// A `mod` that changed nothing: no event, no seq.
    Unchanged,
}

impl Outcome {
    /// Read an `ack`'s `seq` and `held`; both at once is a violation.
    pub fn of(seq: Option<Seq>, held: bool) -> Result<Self, ClientError> {
        match (seq, held) {
            (Some(seq), false) => Ok(Outcome::Applied(seq)),
            (None, true) => Ok(Outcome::Held),
            (None, false) => Ok(Outcome::Unchanged),
            (Some(seq), true) => Err(ClientError::Violation(format!(
                "an ack with both seq {seq} and held: true"
            ))),
        }
    }
}

/// The HTTP side: directory, admin calls, join.
#[derive(Clone, Debug)]
pub struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    /// `base` is e.g. `http://127.0.0.1:8080`.
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
        }
    }

    /// The `ws://…/ws` address that belongs to this server.
    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http", "ws", 1))
    }

    async fn decode<T: serde::de::DeserializeOwned>(
        resp: reqwest::Response,
    ) -> Result<T, ClientError> {
        let status = resp.status();
        if status.is_success() {
            Ok(resp.json().await?)
        } else {
            let body = resp.json::<HttpError>().await.ok();
            Err(ClientError::Http {
                status: status.as_u16(),
                body,
            })
        }
    }

    /// `POST /api/rooms` with the admin token.
    pub async fn create_room(
        &self,
        admin_token: &str,
        room: &CreateRoom,
    ) -> Result<RoomSummary, ClientError> {
        let resp = self
            .client
            .post(format!("{}/api/rooms", self.base))
            .bearer_auth(admin_token)
            .json(room)
            .send()
            .await?;
        Self::decode(resp).await
    }

    /// `POST /api/rooms/{id}/invites` with the admin token.
    pub async fn invite(
        &self,
        admin_token: &str,
        room: RoomId,
        req: &CreateInvite,
    ) -> Result<Invite, ClientError> {
        let resp = self
            .client
            .post(format!("{}/api/rooms/{room}/invites", self.base))
            .bearer_auth(admin_token)
            .json(req)
            .send()
            .await?;
        Self::decode(resp).await
    }

    /// `GET /api/rooms/{id}/invites` with the admin token.
    pub async fn invites(
        &self,
        admin_token: &str,
        room: RoomId,
    ) -> Result<InviteList, ClientError> {
        let resp = self
            .client
            .get(format!("{}/api/rooms/{room}/invites", self.base))
            .bearer_auth(admin_token)
            .send()
            .await?;
        Self::decode(resp).await
    }

    /// `DELETE /api/rooms/{id}/invites/{invite}` with the admin token: the invite
    /// stops working and the seats it gave end.
    pub async fn revoke_invite(
        &self,
        admin_token: &str,
        room: RoomId,
        invite: InviteId,
    ) -> Result<(), ClientError> {
        let resp = self
            .client
            .delete(format!("{}/api/rooms/{room}/invites/{invite}", self.base))
            .bearer_auth(admin_token)
            .send()
            .await?;
        Self::no_content(resp).await
    }

    /// `DELETE /api/rooms/{id}/members/{user}` with the admin token: the member
    /// (a facilitator too) leaves the room, and a facilitator's seat ends.
    pub async fn remove_member(
        &self,
        admin_token: &str,
        room: RoomId,
        user: UserId,
    ) -> Result<(), ClientError> {
        let resp = self
            .client
            .delete(format!("{}/api/rooms/{room}/members/{user}", self.base))
            .bearer_auth(admin_token)
            .send()
            .await?;
        Self::no_content(resp).await
    }

    async fn no_content(resp: reqwest::Response) -> Result<(), ClientError> {
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else {
            let body = resp.json::<HttpError>().await.ok();
            Err(ClientError::Http {
                status: status.as_u16(),
                body,
            })
        }
    }

    /// `GET /api/rooms`.
    pub async fn rooms(&self) -> Result<RoomList, ClientError> {
        let resp = self
            .client
            .get(format!("{}/api/rooms", self.base))
            .send()
            .await?;
        Self::decode(resp).await
    }

    /// `POST /api/rooms/{id}/join`.
    pub async fn join(&self, room: RoomId, req: &JoinRequest) -> Result<JoinResponse, ClientError> {
        let resp = self
            .client
            .post(format!("{}/api/rooms/{room}/join", self.base))
            .json(req)
            .send()
            .await?;
        Self::decode(resp).await
    }

    /// `POST /api/rooms/{id}/seat`: a facilitator's seat taken back with the key
    /// this browser keeps for it (and a one-time code, to bind a new device).
    pub async fn seat(&self, room: RoomId, req: &SeatRequest) -> Result<JoinResponse, ClientError> {
        let resp = self
            .client
            .post(format!("{}/api/rooms/{room}/seat", self.base))
            .json(req)
            .send()
            .await?;
        Self::decode(resp).await
    }

    /// `POST /api/rooms/{id}/seat/code` with a facilitator's session token: a
    /// one-time code for their seat on another device.
    pub async fn seat_code(&self, room: RoomId, token: &str) -> Result<SeatCode, ClientError> {
        let resp = self
            .client
            .post(format!("{}/api/rooms/{room}/seat/code", self.base))
            .bearer_auth(token)
            .send()
            .await?;
        Self::decode(resp).await
    }
}

/// One WebSocket connection.
pub struct Connection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    order: Order,
}

/// Where the connection is in PROTOCOL.md's order of frames.
#[derive(Clone, Copy, Debug, Default)]
struct Order {
    /// `members` frames still due right after a `welcome`.
    member_parts: u32,
    /// The highest timeline seq seen since the last `welcome` (`None`: none yet).
    last_seq: Option<Seq>,
}

impl Order {
    /// Check one frame against the order, and advance it.
    fn admit(&mut self, frame: &ServerFrame) -> Result<(), ClientError> {
        match frame {
            ServerFrame::Welcome(w) => {
                *self = Order {
                    member_parts: w.member_parts,
                    last_seq: None,
                };
                return Ok(());
            }
            ServerFrame::Members { .. } => {
                if self.member_parts == 0 {
                    return Err(ClientError::Violation(
                        "a `members` frame that no welcome announced (§5.2)".to_owned(),
                    ));
                }
                self.member_parts -= 1;
                return Ok(());
            }
            _ => {}
        }
        if self.member_parts > 0 {
            return Err(ClientError::Violation(format!(
                "{} before the welcome's {} `members` frames (§5.2)",
                kind(frame),
                self.member_parts
            )));
        }
        if let Some(seq) = frame.seq() {
            if let Some(last) = self.last_seq
                && seq <= last
            {
                return Err(ClientError::Violation(format!(
                    "timeline event {} at seq {seq}, after seq {last} (§5.4: in order, never twice)",
                    kind(frame)
                )));
            }
            self.last_seq = Some(seq);
        }
        Ok(())
    }
}

/// A frame's `type`, for messages.
fn kind(frame: &ServerFrame) -> String {
    serde_json::to_value(frame)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

/// What `recv` saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// A text frame, not yet parsed.
    Text(String),
    /// The server closed the connection.
    Closed { code: u16, reason: String },
}

/// Socket options for [`Connection::open_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectOptions {
    /// Source address to bind (e.g. another 127.0.0.x, to pass the ephemeral-port limit).
    pub local_ip: Option<std::net::IpAddr>,
    /// SO_RCVBUF in bytes: a small one makes a reader that stops reading look slow fast.
    pub recv_buffer: Option<u32>,
}

impl Connection {
    /// Open the socket without saying hello (for tests of the handshake itself).
    pub async fn open(ws_url: &str) -> Result<Self, ClientError> {
        // Nagle off: small frames go out at once, as a chat client wants.
        let (ws, _) = tokio_tungstenite::connect_async_with_config(ws_url, None, true).await?;
        Ok(Self {
            ws,
            order: Order::default(),
        })
    }

    /// Open a plain `ws://` socket with socket options.
    pub async fn open_with(ws_url: &str, opts: ConnectOptions) -> Result<Self, ClientError> {
        let authority = ws_url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| ClientError::Unexpected(format!("not a ws:// url: {ws_url}")))?;
        let addr: std::net::SocketAddr = tokio::net::lookup_host(authority)
            .await
            .map_err(|e| ClientError::Unexpected(e.to_string()))?
            .next()
            .ok_or_else(|| ClientError::Unexpected(format!("cannot resolve {authority}")))?;
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }
        .map_err(|e| ClientError::Unexpected(e.to_string()))?;
        if let Some(ip) = opts.local_ip {
            socket
                .bind(std::net::SocketAddr::new(ip, 0))
                .map_err(|e| ClientError::Unexpected(e.to_string()))?;
        }
        if let Some(size) = opts.recv_buffer {
            socket
                .set_recv_buffer_size(size)
                .map_err(|e| ClientError::Unexpected(e.to_string()))?;
        }
        let stream = socket
            .connect(addr)
            .await
            .map_err(|e| ClientError::Unexpected(e.to_string()))?;
        stream
            .set_nodelay(true)
            .map_err(|e| ClientError::Unexpected(e.to_string()))?;
        let (ws, _) =
            tokio_tungstenite::client_async(ws_url, MaybeTlsStream::Plain(stream)).await?;
        Ok(Self {
            ws,
            order: Order::default(),
        })
    }

    /// Open, say hello, and read the welcome and its backlog.
    pub async fn hello(
        ws_url: &str,
        token: &str,
        resume: Option<(Seq, Epoch)>,
    ) -> Result<(Self, Welcome, Vec<ServerFrame>), ClientError> {
        Self::open(ws_url).await?.handshake(token, resume).await
    }

    /// Say hello on an open socket and read the welcome and its backlog.
    pub async fn handshake(
        self,
        token: &str,
        resume: Option<(Seq, Epoch)>,
    ) -> Result<(Self, Welcome, Vec<ServerFrame>), ClientError> {
        let mut conn = self;
        conn.send(&ClientFrame::Hello {
            first_time: false,
            token: token.to_owned(),
            last_seq: resume.map(|r| r.0),
            epoch: resume.map(|r| r.1),
        })
        .await?;
        let (welcome, backlog) = conn.read_welcome().await?;
        Ok((conn, welcome, backlog))
    }

    /// Read a `welcome` (its member list whole) and its backlog: the answer to `hello`,
    /// or the second `welcome` a member in the waiting room (`welcome.you.waiting`)
    /// receives when a facilitator admits them. Anything else first, or any frame that
    /// is not a timeline event among the `backlog` ones (§5.2), or a backlog event
    /// above `welcome.seq`, is a [`ClientError::Violation`].
    pub async fn read_welcome(&mut self) -> Result<(Welcome, Vec<ServerFrame>), ClientError> {
        let mut welcome = match self.next_frame().await? {
            ServerFrame::Welcome(w) => w,
            // A refused `hello` (§5.1): the error, then a close.
            ServerFrame::Error(refusal) => return Err(ClientError::Refused(Box::new(refusal))),
            other => {
                return Err(ClientError::Violation(format!(
                    "{} where the welcome was due (§5.2)",
                    kind(&other)
                )));
            }
        };
        // A large room's member list comes in parts, right after the welcome.
        for _ in 0..welcome.member_parts {
            match self.next_frame().await? {
                ServerFrame::Members { members } => welcome.members.extend(members),
                other => {
                    return Err(ClientError::Violation(format!(
                        "{} among the welcome's `members` frames (§5.2)",
                        kind(&other)
                    )));
                }
            }
        }
        let mut backlog = Vec::with_capacity(welcome.backlog as usize);
        while backlog.len() < welcome.backlog as usize {
            let frame = self.next_frame().await?;
            match frame.seq() {
                Some(seq) if seq <= welcome.seq => backlog.push(frame),
                Some(seq) => {
                    return Err(ClientError::Violation(format!(
                        "backlog event {} at seq {seq}, above the welcome's seq {} (§5.3)",
                        kind(&frame),
                        welcome.seq
                    )));
                }
                None => {
                    return Err(ClientError::Violation(format!(
                        "{} between the welcome and its backlog ({} of {} events read; §5.2: nothing else in between)",
                        kind(&frame),
                        backlog.len(),
                        welcome.backlog
                    )));
                }
            }
        }
        Ok((welcome, backlog))
    }

    /// Send one frame as JSON text.
    pub async fn send(&mut self, frame: &ClientFrame) -> Result<(), ClientError> {
        let text = serde_json::to_string(frame)?;
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    /// Send any WebSocket message (for tests of bad input).
    pub async fn send_raw(&mut self, msg: Message) -> Result<(), ClientError> {
        self.ws.send(msg).await?;
        Ok(())
    }

    /// The next text frame or the close; pings are answered on the way.
    pub async fn recv(&mut self) -> Result<Received, ClientError> {
        loop {
            match self.ws.next().await {
                None => {
                    return Ok(Received::Closed {
                        code: 1006,
                        reason: String::new(),
                    });
                }
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Message::Text(t))) => return Ok(Received::Text(t.as_str().to_owned())),
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = close_parts(frame);
                    return Ok(Received::Closed { code, reason });
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next frame, parsed and checked against where it arrives (see the module
    /// docs); a close becomes [`ClientError::Closed`].
    pub async fn next_frame(&mut self) -> Result<ServerFrame, ClientError> {
        match self.recv().await? {
            Received::Text(t) => {
                let frame: ServerFrame = serde_json::from_str(&t)?;
                self.order.admit(&frame)?;
                Ok(frame)
            }
            Received::Closed { code, reason } => Err(ClientError::Closed { code, reason }),
        }
    }

    /// Close the socket politely.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.ws.close(None).await?;
        // Drain until the server's close arrives so the TCP connection ends cleanly.
        while let Some(Ok(_)) = self.ws.next().await {}
        Ok(())
    }

    /// The underlying stream, for callers that need raw access (the load tester).
    pub fn into_inner(self) -> WebSocketStream<MaybeTlsStream<TcpStream>> {
        self.ws
    }
}

fn close_parts(frame: Option<CloseFrame>) -> (u16, String) {
    match frame {
        Some(f) => (u16::from(f.code), f.reason.as_str().to_owned()),
        None => (1005, String::new()),
    }
}
