//! The text of every load-test message: who sent it, its number, and when.
//!
//! `lt|<room>|<sender>|<n>|<unix_nanos>|` followed by padding up to the configured
//! message size. `room` is the load tester's room index, `sender` the sender's index
//! within its room, `n` counts that sender's messages from 1. The padding is plain
//! supportive prose: no characters JSON must escape (so the receiver can read the
//! header straight out of the frame bytes) and nothing a content filter, spam check or
//! crisis matcher should react to.

/// What a receiver reads back from a message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload {
    pub room: u32,
    pub sender: u32,
    pub n: u64,
    pub sent_nanos: u64,
}

/// The marker every load-test text starts with.
pub const MARKER: &[u8] = b"lt|";

const PADDING: &str = "thank you for sharing, I hear you and I am glad you are here. ";

/// Writes the text for `p` into `out` (cleared first), padded to `size` bytes when
/// the header is shorter than that.
pub fn encode(out: &mut String, p: &Payload, size: usize) {
    use std::fmt::Write;
    out.clear();
    // Writing into a String cannot fail.
    let _ = write!(out, "lt|{}|{}|{}|{}|", p.room, p.sender, p.n, p.sent_nanos);
    while out.len() < size {
        let need = size - out.len();
        let take = need.min(PADDING.len());
        out.push_str(&PADDING[..take]);
    }
}

/// Reads the header at the start of `text` (the raw bytes of the JSON string value,
/// which may run on past the closing quote). `None` if it is not a load-test text.
pub fn decode(text: &[u8]) -> Option<Payload> {
    let rest = text.strip_prefix(MARKER)?;
    let (room, rest) = field(rest)?;
    let (sender, rest) = field(rest)?;
    let (n, rest) = field(rest)?;
    let (sent_nanos, _) = field(rest)?;
    Some(Payload {
        room: u32::try_from(room).ok()?,
        sender: u32::try_from(sender).ok()?,
        n,
        sent_nanos,
    })
}

/// A decimal number terminated by `|`; returns it and what follows the `|`.
fn field(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            }
            b'|' if i > 0 => return Some((value, &bytes[i + 1..])),
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Payload {
        Payload {
            room: 17,
            sender: 2,
            n: 12345,
            sent_nanos: 1_764_157_000_123_456_789,
        }
    }

    #[test]
    fn round_trips_and_pads_to_size() {
        let mut s = String::new();
        encode(&mut s, &sample(), 200);
        assert_eq!(s.len(), 200);
        assert!(s.starts_with("lt|17|2|12345|1764157000123456789|thank you"));
        assert_eq!(decode(s.as_bytes()), Some(sample()));
    }

    #[test]
    fn header_longer_than_size_is_not_cut() {
        let mut s = String::new();
        encode(&mut s, &sample(), 10);
        assert_eq!(s, "lt|17|2|12345|1764157000123456789|");
        assert_eq!(decode(s.as_bytes()), Some(sample()));
    }

    #[test]
    fn padding_needs_no_json_escaping() {
        let mut s = String::new();
        encode(&mut s, &sample(), 1000);
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
    }

    #[test]
    fn decode_stops_at_the_header_even_past_the_string() {
        let bytes = b"lt|1|0|7|99|\",\"cw\":\"x\"}";
        assert_eq!(
            decode(bytes),
            Some(Payload {
                room: 1,
                sender: 0,
                n: 7,
                sent_nanos: 99
            })
        );
    }

    #[test]
    fn refuses_texts_that_are_not_ours() {
        for text in [
            &b"hello"[..],
            b"lt|",
            b"lt|1|2|3|",
            b"lt|1|2|3|4",
            b"lt||2|3|4|",
            b"lt|1|x|3|4|",
            b"lt|1|2|3|99999999999999999999999|",
            b"lt|4294967296|0|1|1|",
            b"LT|1|2|3|4|",
        ] {
            assert_eq!(decode(text), None, "{}", String::from_utf8_lossy(text));
        }
    }
}
