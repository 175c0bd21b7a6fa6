//! The reference server: the simplest correct axum broadcast server, run beside Kindred
//! under the same load so that BENCHMARKS.md can lead with Kindred ÷ reference, figures
//! measured on the same machine in the same minutes.
//!
//! A `tokio::sync::broadcast` per room, one task per socket, and nothing else: no
//! history, no resume, no rules, no policy, no crisis detection, no presence, no
//! per-member queue of its own (the broadcast channel's ring is the queue; a member that
//! falls a whole ring behind is closed). It speaks just enough of Kindred's protocol
//! for `kindred-loadtest` to drive it unchanged:
//! - `POST /api/rooms` → a room summary; `DELETE /api/rooms/{id}`; `GET /readyz`;
//! - `POST /api/rooms/{id}/join` → a token;
//! - `GET /ws`: `hello` → `welcome` with the room's count of messages so far as its
//!   `seq` (the load tester checks that messages arrive numbered one after another),
//!   then `send` → the same `message` frame to every member, serialised once, and an
//!   `ack` to the sender; `leave` closes.
//!
//! The count is taken and the frame handed to the channel under one lock per room, so
//! numbers and order agree; that lock is the whole of its "ordering". It is built with
//! the load tester and used only by `loadtest/bench.sh`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use kindred_protocol::http::{CreateRoom, JoinRequest, JoinResponse};
use kindred_protocol::{Role, RoomId, RoomSummary, UserId, Visibility};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Frames a member may fall behind before it is closed: the broadcast ring's length.
pub const RING: usize = 1024;

/// One room: its channel, and the count of messages sent in it (the `seq` of the last).
struct Room {
    inner: Mutex<Channel>,
}

struct Channel {
    seq: u64,
    tx: broadcast::Sender<Utf8Bytes>,
}

/// A joined member, found again by its token at `hello`.
#[derive(Clone)]
struct Member {
    room: RoomId,
    user: UserId,
    name: String,
}

#[derive(Default)]
struct Shared {
    rooms: Mutex<HashMap<RoomId, Arc<Room>>>,
    members: Mutex<HashMap<String, Member>>,
}

type AppState = Arc<Shared>;

/// The reference server's routes.
pub fn router() -> Router {
    Router::new()
        .route("/readyz", get(|| async { "ready" }))
        .route("/api/rooms", post(create_room))
        .route("/api/rooms/{id}", delete(delete_room))
        .route("/api/rooms/{id}/join", post(join))
        .route("/ws", get(upgrade))
        .with_state(AppState::default())
}

/// Serves [`router`] on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router()).await
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn create_room(
    State(app): State<AppState>,
    Json(req): Json<CreateRoom>,
) -> Json<RoomSummary> {
    let id = RoomId::new();
    let (tx, _) = broadcast::channel(RING);
    let room = Arc::new(Room {
        inner: Mutex::new(Channel { seq: 0, tx }),
    });
    lock(&app.rooms).insert(id, room);
    Json(RoomSummary {
        id,
        title: req.title,
        topic: req.topic,
        description: String::new(),
        guidelines: String::new(),
        capacity: req.capacity.unwrap_or(u32::MAX),
        visibility: Visibility::Public,
        members: 0,
        open: true,
        facilitated: false,
        waiting_room: false,
        schedule: None,
        next_session: None,
    })
}

async fn delete_room(State(app): State<AppState>, Path(id): Path<RoomId>) -> StatusCode {
    lock(&app.members).retain(|_, m| m.room != id);
    match lock(&app.rooms).remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

async fn join(
    State(app): State<AppState>,
    Path(room): Path<RoomId>,
    Json(req): Json<JoinRequest>,
) -> Result<Json<JoinResponse>, StatusCode> {
    if !lock(&app.rooms).contains_key(&room) {
        return Err(StatusCode::NOT_FOUND);
    }
    let user = UserId::new();
    let token = user.to_string();
    lock(&app.members).insert(
        token.clone(),
        Member {
            room,
            user,
            name: req.name.clone(),
        },
    );
    Ok(Json(JoinResponse {
        token,
        user_id: user,
        role: Role::Participant,
        room,
        expires_at: u64::MAX >> 11,
        ws_path: "/ws".to_owned(),
        name: Some(req.name),
    }))
}

async fn upgrade(State(app): State<AppState>, ws: WebSocketUpgrade) -> impl IntoResponse {
    ws.on_upgrade(move |socket| connection(app, socket))
}

/// The client frames the reference server reads; anything else is ignored.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Hello {
        token: String,
    },
    Send {
        client_id: String,
        text: String,
    },
    Leave,
    #[serde(other)]
    Other,
}

/// A message as every member receives it (the fields of Kindred's `message` frame
/// that a plain chat needs).
#[derive(Serialize)]
struct MessageFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: u64,
    ts: u64,
    user: UserId,
    name: &'a str,
    text: &'a str,
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One socket, on its own task: `hello`, then the room's frames out and the member's
/// frames in until either side ends.
async fn connection(app: AppState, mut socket: WebSocket) {
    let Some((member, room, mut rx)) = hello(&app, &mut socket).await else {
        return;
    };
    loop {
        tokio::select! {
            frame = rx.recv() => match frame {
                Ok(bytes) => {
                    if socket.send(Message::Text(bytes)).await.is_err() {
                        return;
                    }
                }
                // Fell a whole ring behind, or the room is gone.
                Err(_) => return,
            },
            incoming = socket.recv() => {
                let Some(Ok(Message::Text(text))) = incoming else {
                    match incoming {
                        Some(Ok(_)) => continue,
                        _ => return,
                    }
                };
                match serde_json::from_str::<ClientFrame>(text.as_str()) {
                    Ok(ClientFrame::Send { client_id, text }) => {
                        let seq = broadcast_message(&room, &member, &text);
                        let ack = serde_json::json!({"type": "ack", "client_id": client_id, "seq": seq});
                        if socket.send(Message::text(ack.to_string())).await.is_err() {
                            return;
                        }
                    }
                    Ok(ClientFrame::Leave) => return,
                    Ok(_) | Err(_) => {}
                }
            }
        }
    }
}

/// Reads `hello` and answers `welcome`, subscribed to the room from the count it
/// names; `None` (and the socket closed) for anything else.
async fn hello(
    app: &AppState,
    socket: &mut WebSocket,
) -> Option<(Member, Arc<Room>, broadcast::Receiver<Utf8Bytes>)> {
    let Some(Ok(Message::Text(first))) = socket.recv().await else {
        return None;
    };
    let found = match serde_json::from_str::<ClientFrame>(first.as_str()) {
        Ok(ClientFrame::Hello { token }) => lock(&app.members).get(&token).cloned(),
        _ => None,
    };
    let room = found
        .as_ref()
        .and_then(|m| lock(&app.rooms).get(&m.room).cloned());
    let (Some(member), Some(room)) = (found, room) else {
        let refusal = r#"{"type":"error","code":"unauthorized","message":"unknown token"}"#;
        let _ = socket.send(Message::text(refusal)).await;
        return None;
    };
    let (seq, rx) = {
        let channel = lock(&room.inner);
        (channel.seq, channel.tx.subscribe())
    };
    let welcome = format!(
        r#"{{"type":"welcome","protocol":1,"seq":{seq},"epoch":1,"resume":"fresh","backlog":0}}"#
    );
    socket.send(Message::text(welcome)).await.ok()?;
    Some((member, room, rx))
}

/// Numbers a message and hands its one serialised frame to every member; returns its
/// number.
fn broadcast_message(room: &Room, member: &Member, text: &str) -> u64 {
    let mut channel = lock(&room.inner);
    channel.seq += 1;
    let frame = MessageFrame {
        kind: "message",
        seq: channel.seq,
        ts: now_millis(),
        user: member.user,
        name: &member.name,
        text,
    };
    let bytes = Utf8Bytes::from(serde_json::to_string(&frame).unwrap_or_default());
    // No receiver (nobody else connected) is not an error for a chat.
    let _ = channel.tx.send(bytes);
    channel.seq
}

/// The address to listen on: `--bind ADDR` (default `127.0.0.1:8080`); the other flags
/// `bench.sh` gives a Kindred server are accepted and ignored.
pub fn bind_address(args: impl IntoIterator<Item = String>) -> Result<SocketAddr, String> {
    let mut args = args.into_iter();
    let mut bind = "127.0.0.1:8080".to_owned();
    while let Some(arg) = args.next() {
        if arg == "--bind" {
            bind = args.next().ok_or("--bind needs an address")?;
        } else if let Some(value) = arg.strip_prefix("--bind=") {
            bind = value.to_owned();
        }
    }
    bind.parse().map_err(|e| format!("--bind {bind}: {e}"))
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use kindred_protocol::client::Http;

    use super::*;
    use crate::frame::{self, Frame};
    use crate::net;
    use crate::payload::Payload;

    #[test]
    fn bind_address_reads_the_flag_and_ignores_the_rest() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            bind_address(args(&["--bind", "127.0.0.1:18080", "--demo-room", "false"])),
            Ok("127.0.0.1:18080".parse().unwrap())
        );
        assert_eq!(
            bind_address(args(&[])),
            Ok("127.0.0.1:8080".parse().unwrap())
        );
        assert!(bind_address(args(&["--bind"])).is_err());
        assert!(bind_address(args(&["--bind", "nowhere"])).is_err());
    }

    /// Two members of a room, driven by the load tester's own socket code: each
    /// message reaches both, numbered one after another from the welcome's count,
    /// and its sender gets the ack with that number.
    #[tokio::test]
    async fn the_load_tester_drives_it_unchanged() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener));
        let target = net::target(&format!("http://{addr}")).unwrap();
        let http = Http::new(target.base.clone());
        let room = http
            .create_room("any", &CreateRoom::default())
            .await
            .unwrap()
            .id;
        let mut members = Vec::new();
        for name in ["lt0", "lt1"] {
            let joined = http
                .join(
                    room,
                    &JoinRequest {
                        name: name.to_owned(),
                        accept_guidelines: true,
                        ..JoinRequest::default()
                    },
                )
                .await
                .unwrap();
            let mut ws = net::open(&target, Some(Ipv4Addr::LOCALHOST), None)
                .await
                .unwrap();
            let welcome = net::hello(&mut ws, &joined.token, None).await.unwrap();
            assert_eq!(welcome.seq, 0);
            members.push(ws);
        }
        let mut text = String::new();
        for n in 1..=3u64 {
            let p = Payload {
                room: 0,
                sender: 0,
                n,
                sent_nanos: 7,
            };
            crate::payload::encode(&mut text, &p, 200);
            let send = format!(r#"{{"type":"send","client_id":"{n}","text":"{text}"}}"#);
            use futures_util::{SinkExt, StreamExt};
            members[0]
                .send(tokio_tungstenite::tungstenite::Message::text(send))
                .await
                .unwrap();
            let mut acked = false;
            let mut got = 0;
            while got < 2 || !acked {
                let (first, second) = members.split_at_mut(1);
                let (i, frame) = tokio::select! {
                    f = first[0].next() => (0, f),
                    f = second[0].next() => (1, f),
                };
                let frame = frame.unwrap().unwrap().into_text().unwrap();
                match frame::parse(frame.as_bytes()) {
                    Frame::Message { seq, payload } => {
                        assert_eq!((seq, payload), (n, Some(p)), "member {i}");
                        got += 1;
                    }
                    Frame::Ack { client_id, seq } => {
                        assert_eq!((i, client_id, seq), (0, n.to_string().as_bytes(), Some(n)));
                        acked = true;
                    }
                    other => panic!("unexpected frame {other:?}"),
                }
            }
        }
        let late = http
            .join(
                room,
                &JoinRequest {
                    name: "late".to_owned(),
                    accept_guidelines: true,
                    ..JoinRequest::default()
                },
            )
            .await
            .unwrap();
        let mut ws = net::open(&target, None, None).await.unwrap();
        assert_eq!(net::hello(&mut ws, &late.token, None).await.unwrap().seq, 3);
        let err = net::hello(
            &mut net::open(&target, None, None).await.unwrap(),
            "forged",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err, net::ConnectError::Refused("unauthorized".into()));
    }
}
