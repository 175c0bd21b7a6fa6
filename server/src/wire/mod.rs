//! The one place where domain values become wire frames, and the only module that
//! builds a `ServerFrame` (a test in `tests/tests/layers/frames.rs` holds every other
//! server file to that). Each frame is encoded once here; the resulting bytes are
//! shared by every recipient. Its parts, by job: the timeline's events and how a kept
//! one is read again (`timeline`), the private notices around them (`notices`, share the air among them), the
//! arrival's `welcome` (`welcome`) and the errors (`errors`).

mod errors;
mod notices;
mod timeline;
mod welcome;

use axum::extract::ws::Utf8Bytes;
use kindred_protocol::{Seq, ServerFrame};

pub use errors::{
    binary_refused, declined, denied, error, no_room, not_a_mood, rejection, slow_consumer,
    text_error, too_fast, unavailable, unconfirmed,
};
pub use notices::{
    ack, alert, concern_noted, crisis_resources, debrief, flagged_alert, held_ack, held_alert,
    kept, knock_alert, mod_log, mood, mute_notice, share_the_air, typing, unkept_crisis_alert,
    waiting_list, warning, whisper,
};
pub use timeline::{event_frame, quote, read_event, redacted_message};
pub use welcome::welcome;

/// A frame encoded once, ready for any number of sockets.
#[derive(Clone, Debug)]
pub struct Encoded {
    /// The timeline position, for timeline events.
    pub seq: Option<Seq>,
    pub bytes: Utf8Bytes,
}

/// Encode a frame to JSON text.
pub fn encode(frame: &ServerFrame) -> Encoded {
    // Serialising our own frame types cannot fail: no maps with non-string keys,
    // no custom serialisers that error.
    let text = serde_json::to_string(frame).unwrap_or_else(|_| String::from("{}"));
    Encoded {
        seq: frame.seq(),
        bytes: Utf8Bytes::from(text),
    }
}
