//! Everything written to the socket.
//!
//! Text frames are written into the socket's gather (`http::edge::gather`), already
//! framed, and a flush of the WebSocket writes everything gathered with one `write`
//! and gives the buffer back; tungstenite writes only its control frames.
//!
//! Every write is bounded in time (`--write-timeout-ms`) and, once the member is in the
//! room, races the session's stop token (a kick or the server's shutdown), so a
//! stalled socket can neither keep a session alive nor hold up its way out. A reply
//! that the stop overtakes is not lost: it waits in `unsent` and is written, bounded,
//! before the close.

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::SinkExt;
use kindred_protocol::{ClientId, ErrorCode, ServerFrame, close_code};

use super::{CLOSE_TIMEOUT, Conn, Live, WRITE_BATCH};
use crate::wire::{self, Encoded};

/// How a raced write ended.
pub(super) enum Written {
    /// On the socket.
    Done,
    /// The session is being stopped; the write was abandoned.
    Stopped,
    /// The socket did not take it within the write timeout.
    Stalled,
}

impl Conn {
    /// Write one frame, bounded in time (before the member is in the room, or on the
    /// way out, where nothing else races it).
    pub(super) async fn send_frame(&mut self, frame: &ServerFrame) -> Result<(), axum::Error> {
        if let ServerFrame::Error(e) = frame {
            self.app.metrics.error(e.code);
        }
        let bytes = wire::encode(frame).bytes;
        let timeout = self.app.config.write_timeout();
        let write = async {
            self.gather_text(&bytes).await?;
            self.socket.flush().await
        };
        match tokio::time::timeout(timeout, write).await {
            Ok(r) => r,
            Err(_) => Err(axum::Error::new("write timed out")),
        }
    }

    /// Gather one text frame. Past `--ws-write-buffer` bytes gathered, what is gathered
    /// is written first, as a full write buffer would be.
    async fn gather_text(&mut self, bytes: &Utf8Bytes) -> Result<(), axum::Error> {
        if self.gather.len() >= self.app.config.sockets.ws_write_buffer {
            self.socket.flush().await?;
        }
        self.gather.push_text(bytes.as_bytes());
        Ok(())
    }

    /// The closing handshake: send our close, then wait (bounded) for the client's,
    /// so the close frame is read before the TCP connection goes away.
    pub(super) async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let handshake = async {
            if self.socket.send(Message::Close(Some(frame))).await.is_err() {
                return;
            }
            while let Some(Ok(msg)) = self.socket.recv().await {
                if let Message::Close(_) = msg {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, handshake).await;
    }

    /// Refuse with an error frame, then close.
    pub(super) async fn refuse(
        &mut self,
        code: ErrorCode,
        message: &str,
        close: u16,
        reason: &'static str,
    ) {
        let frame = wire::error(None, code, message, None);
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.send_frame(&frame)).await;
        self.close(close, reason).await;
    }

    pub(super) async fn on_socket_error(&mut self, e: axum::Error) {
        let too_big = e
            .into_inner()
            .downcast_ref::<tungstenite::Error>()
            .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)));
        if too_big {
            self.app.metrics.error(ErrorCode::TooLarge);
            self.close(close_code::TOO_BIG, "frame too large").await;
        }
    }

    /// Gather frames (and a ping after them, when `ping`) and flush once, raced against
    /// `stop` and bounded in time. Also says how many frames were gathered: those go
    /// out with the next flush even if this one is abandoned.
    async fn write_raced(
        &mut self,
        frames: &[Encoded],
        ping: bool,
        stop: tokio_util::sync::CancellationToken,
    ) -> Result<(Written, usize), axum::Error> {
        if stop.is_cancelled() {
            return Ok((Written::Stopped, 0));
        }
        let timeout = self.app.config.write_timeout();
        let mut fed = 0;
        let written = {
            let write = async {
                for frame in frames {
                    self.gather_text(&frame.bytes).await?;
                    fed += 1;
                }
                if ping {
                    self.socket.feed(Message::Ping(Default::default())).await?;
                }
                self.socket.flush().await
            };
            tokio::select! {
                biased;
                () = stop.cancelled() => Written::Stopped,
                r = tokio::time::timeout(timeout, write) => match r {
                    Ok(Ok(())) => Written::Done,
                    Ok(Err(e)) => return Err(e),
                    Err(_) => Written::Stalled,
                },
            }
        };
        Ok((written, fed))
    }
}

impl Live {
    /// Write queued frames, up to a batch, with one flush.
    pub(super) async fn write_batch(
        &mut self,
        conn: &mut Conn,
        first: Encoded,
    ) -> Result<(), axum::Error> {
        let mut next = Some(first);
        let mut written = 0;
        while let Some(frame) = next {
            let fresh = match frame.seq {
                None => true,
                Some(seq) if seq > self.last_sent => {
                    if seq != self.last_sent + 1 {
                        tracing::warn!(peer = self.peer.id, room = %self.room, seq, last = self.last_sent, "timeline gap");
                    }
                    self.last_sent = seq;
                    true
                }
                Some(_) => false,
            };
            if fresh {
                conn.gather_text(&frame.bytes).await?;
                written += 1;
            }
            next = if written < WRITE_BATCH {
                self.peer.outbox.pop()
            } else {
                None
            };
        }
        conn.socket.flush().await
    }

    /// Write frames that must reach this client (the welcome and what follows it, a
    /// reply), raced against the stop token and bounded in time. Frames the socket
    /// did not accept before a stop wait in `unsent` when `keep` says so; a stall
    /// kicks the connection as a slow consumer. Only a failed socket is an error.
    pub(super) async fn write(
        &mut self,
        conn: &mut Conn,
        frames: Vec<Encoded>,
        keep: bool,
    ) -> Result<Written, axum::Error> {
        let stop = self.peer.kicked().clone();
        let (written, fed) = conn.write_raced(&frames, false, stop).await?;
        match written {
            Written::Done => {}
            Written::Stopped | Written::Stalled => {
                if keep {
                    self.unsent.extend(frames.into_iter().skip(fed));
                }
                if let Written::Stalled = written {
                    self.stalled(&conn.app);
                }
            }
        }
        Ok(written)
    }

    /// Answer this client: an ack, an error, a crisis card.
    pub(super) async fn reply(
        &mut self,
        conn: &mut Conn,
        frame: &ServerFrame,
    ) -> Result<(), axum::Error> {
        if let ServerFrame::Error(e) = frame {
            conn.app.metrics.error(e.code);
        }
        self.write(conn, vec![wire::encode(frame)], true)
            .await
            .map(|_| ())
    }

    /// Send an error frame to this client.
    pub(super) async fn fail(
        &mut self,
        conn: &mut Conn,
        client_id: Option<ClientId>,
        code: ErrorCode,
        message: &str,
    ) -> Result<(), axum::Error> {
        self.reply(conn, &wire::error(client_id, code, message, None))
            .await
    }

    /// Ping the client, like any other write: raced and bounded.
    pub(super) async fn ping(&mut self, conn: &mut Conn) -> Result<(), axum::Error> {
        let stop = self.peer.kicked().clone();
        if let (Written::Stalled, _) = conn.write_raced(&[], true, stop).await? {
            self.stalled(&conn.app);
        }
        Ok(())
    }

    /// On the way out: the replies a stop overtook, within the close timeout.
    pub(super) async fn write_unsent(&mut self, conn: &mut Conn) {
        if self.unsent.is_empty() {
            return;
        }
        let frames = std::mem::take(&mut self.unsent);
        let write = async {
            for frame in frames {
                conn.gather_text(&frame.bytes).await?;
            }
            conn.socket.flush().await
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, write).await;
    }

    /// On the way out after an eviction: what is queued (the event that ended the
    /// stay), within the close timeout.
    pub(super) async fn drain_outbox(&mut self, conn: &mut Conn) {
        let write = async {
            while let Some(frame) = self.peer.outbox.pop() {
                conn.gather_text(&frame.bytes).await?;
            }
            conn.socket.flush().await
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, write).await;
    }
}
