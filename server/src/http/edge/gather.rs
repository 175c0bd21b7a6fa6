//! Where a WebSocket's outgoing frames gather until they are flushed, beneath
//! tungstenite: the session writes its text frames here itself, already framed, and a
//! flush of the WebSocket (which flushes the socket under it, [`super::caps::Counted`])
//! writes everything gathered with one `write`.
//!
//! Why not tungstenite's own write buffer: it keeps the capacity of the largest frame
//! a connection ever wrote (its `welcome`, kilobytes) for the connection's whole life,
//! and a support room's members are quiet most of the time. Here the buffer is given
//! back as soon as the socket has taken all of it, so an idle member keeps no write
//! buffer at all. tungstenite still writes its own control frames (ping, pong, close)
//! through the socket; those are written after whatever is gathered, so every frame
//! reaches the wire whole and in the order it was written.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use parking_lot::Mutex;
use tokio::io::AsyncWrite;

/// A WebSocket frame header's first byte for a whole text message (FIN, opcode 1).
const TEXT_FIN: u8 = 0x81;

/// One connection's gathered bytes, shared by the session that writes frames into it
/// and the socket that writes them out. Both run on the session's task, so the lock
/// is never contended.
#[derive(Clone, Debug, Default)]
pub struct Gather(Arc<Mutex<Pending>>);

#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    /// How much of `bytes` the socket has taken.
    written: usize,
}

impl Pending {
    fn len(&self) -> usize {
        self.bytes.len() - self.written
    }
}

impl Gather {
    /// Gather one text frame (a server's frames are not masked): its header, then
    /// `payload`.
    pub fn push_text(&self, payload: &[u8]) {
        let mut header = [0u8; 10];
        header[0] = TEXT_FIN;
        let header: &[u8] = match payload.len() {
            n if n < 126 => {
                header[1] = n as u8;
                &header[..2]
            }
            n if n <= usize::from(u16::MAX) => {
                header[1] = 126;
                header[2..4].copy_from_slice(&(n as u16).to_be_bytes());
                &header[..4]
            }
            n => {
                header[1] = 127;
                header[2..10].copy_from_slice(&(n as u64).to_be_bytes());
                &header[..10]
            }
        };
        let mut pending = self.0.lock();
        pending.bytes.reserve(header.len() + payload.len());
        pending.bytes.extend_from_slice(header);
        pending.bytes.extend_from_slice(payload);
    }

    /// Bytes gathered and not yet taken by the socket.
    pub fn len(&self) -> usize {
        self.0.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity: zero once everything gathered is written.
    pub fn capacity(&self) -> usize {
        self.0.lock().bytes.capacity()
    }

    /// Append what the socket was asked to write behind what is gathered, so it goes
    /// out after it, whole.
    pub(super) fn append(&self, buf: &[u8]) {
        self.0.lock().bytes.extend_from_slice(buf);
    }

    /// Write everything gathered to `io`; once all of it is taken, the buffer is
    /// given back.
    pub(super) fn poll_drain<W: AsyncWrite + Unpin>(
        &self,
        io: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let mut pending = self.0.lock();
        while pending.len() > 0 {
            let from = pending.written;
            let n = ready!(Pin::new(&mut *io).poll_write(cx, &pending.bytes[from..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            pending.written += n;
        }
        if pending.bytes.capacity() > 0 {
            *pending = Pending::default();
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A burst of frames is written out whole and in order with one flush, and the
    /// buffer that held them is given back: a member who goes quiet after a burst
    /// keeps no write buffer.
    #[tokio::test]
    async fn a_burst_is_written_whole_and_its_buffer_given_back() {
        let (mut ours, mut theirs) = tokio::io::duplex(1 << 20);
        let gather = Gather::default();
        let long = "x".repeat(70_000);
        for payload in ["hi", &"y".repeat(300), &long] {
            gather.push_text(payload.as_bytes());
        }
        assert!(gather.capacity() > 70_000);
        std::future::poll_fn(|cx| gather.poll_drain(&mut ours, cx))
            .await
            .unwrap();
        assert_eq!(gather.len(), 0);
        assert_eq!(
            gather.capacity(),
            0,
            "the buffer is given back once written"
        );

        let mut wire = vec![0; 2 + 2 + 4 + 300 + 10 + 70_000];
        theirs.read_exact(&mut wire).await.unwrap();
        assert_eq!(&wire[..4], &[0x81, 2, b'h', b'i']);
        assert_eq!(&wire[4..8], &[0x81, 126, 1, 44]);
        assert!(wire[8..308].iter().all(|&b| b == b'y'));
        assert_eq!(&wire[308..318], &[0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
        assert!(wire[318..].iter().all(|&b| b == b'x'));
    }
}
