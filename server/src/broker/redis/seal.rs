//! Sealing what the Redis broker puts in Redis, so Redis holds no readable words.
//!
//! Redis keeps what it is given in its memory, its append-only file, its RDB dumps,
//! its backups and its replicas; trimming a closed session's log takes its entries out
//! of the first, not out of the others. So every entry of a room's log, every snapshot
//! and every frame relayed on the room's channel is sealed before it leaves this
//! instance: XChaCha20-Poly1305 (a random 24-byte nonce each time) under a key derived
//! with HKDF-SHA256 from the server's secret (`--secret`, the same on every instance)
//! for one room and one of its sessions. Without the secret no key can be derived, and
//! a key opens nothing outside its room's session.
//!
//! What stays readable is only what the scripts and an operator need and no member
//! wrote: an entry's format (`v`), the session its key belongs to (`k`) and the time
//! Redis stamps on it (`ts`, put in by the append script after sealing); room ids,
//! indexes and epochs live in key names and hash fields beside them. The catalog
//! (a room's settings, bans by id and mark, invites) holds no member's words and stays
//! as it is.
//!
//! A sealed thing that does not open (another secret, a changed byte, another room's
//! entry moved here) reads as one that does not parse, and the broker contains it
//! the same way (`recovery`): counted, stepped over, never folded.
//!
//! No IO.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use kindred_protocol::{Millis, RoomId};
use serde::Deserialize;
use sha2::Sha256;

/// The first entry format that is sealed; entries of earlier formats are plain JSON
/// and still read as they are.
pub const SEALED_FORMAT: u32 = 2;
/// Keeps these keys apart from anything else derived from the same secret.
const SALT: &[u8] = b"kindred: what Redis holds";
const NONCE_LEN: usize = 24;
/// What [`Seal::proof`] seals: any instance with the same secret opens it to this.
const PROOF: &[u8] = b"sealed by an instance of this deployment";

/// What a sealed value is, bound into it (the AEAD's associated data), so one kind
/// never opens as another.
#[derive(Clone, Copy)]
enum Kind {
    Entry,
    Snapshot,
    Notice,
    Proof,
}

impl Kind {
    fn label(self) -> &'static [u8] {
        match self {
            Kind::Entry => b"entry 2",
            Kind::Snapshot => b"snapshot 2",
            Kind::Notice => b"notice 2",
            Kind::Proof => b"proof 2",
        }
    }
}

/// The keys of every room's sessions, from the server's secret.
#[derive(Clone)]
pub struct Seal {
    hkdf: Hkdf<Sha256>,
}

/// A stored entry's readable part: enough to choose the key.
#[derive(Deserialize)]
struct Outside {
    #[serde(rename = "v", default = "first_format")]
    format: u32,
    ts: Option<Millis>,
    k: Option<u32>,
    s: Option<String>,
}

/// A stored snapshot's readable part.
#[derive(Deserialize)]
struct SealedImage {
    k: u32,
    s: String,
}

fn first_format() -> u32 {
    1
}

impl Seal {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            hkdf: Hkdf::<Sha256>::new(Some(SALT), secret),
        }
    }

    /// The key of one room's session.
    fn cipher(&self, room: RoomId, session: u32) -> XChaCha20Poly1305 {
        self.derive(&format!("room {room} session {session}"))
    }

    fn derive(&self, info: &str) -> XChaCha20Poly1305 {
        let mut key = [0u8; 32];
        self.hkdf
            .expand(info.as_bytes(), &mut key)
            .expect("32 bytes is a length HKDF-SHA256 gives");
        XChaCha20Poly1305::new(Key::from_slice(&key))
    }

    fn seal(&self, room: RoomId, session: u32, kind: Kind, plain: &[u8]) -> String {
        seal_with(&self.cipher(room, session), kind, plain)
    }

    fn open(&self, room: RoomId, session: u32, kind: Kind, sealed: &str) -> Option<Vec<u8>> {
        open_with(&self.cipher(room, session), kind, sealed)
    }

    /// A value only an instance with the same secret opens ([`Seal::proves`]): kept in
    /// Redis by the first instance, so one started with another secret is refused
    /// before it reads a room (it could open nothing, and would step over every entry
    /// it met as unreadable).
    pub fn proof(&self) -> String {
        seal_with(&self.derive("proof"), Kind::Proof, PROOF)
    }

    /// Whether `stored`, a [`Seal::proof`], was sealed with this secret.
    pub fn proves(&self, stored: &str) -> bool {
        open_with(&self.derive("proof"), Kind::Proof, stored).is_some_and(|p| p == PROOF)
    }

    /// An entry on its way to Redis: `unstamped` is its JSON without a time (see
    /// `store::unstamped`), sealed whole; what is stored says its `format` and the
    /// `session` whose key sealed it, and begins with `{` for the script that puts
    /// Redis's time first.
    pub fn seal_entry(&self, room: RoomId, session: u32, format: u32, unstamped: &str) -> String {
        let s = self.seal(room, session, Kind::Entry, unstamped.as_bytes());
        format!(r#"{{"v":{format},"k":{session},"s":"{s}"}}"#)
    }

    /// An entry as Redis holds it, as the JSON the log reads (`log::read_entry`), with
    /// the time Redis stamped on it. An entry of a format before sealing is returned
    /// as it is, and so is one of a later format (which the log then refuses as
    /// newer); `None` if a sealed entry does not open.
    pub fn open_entry(&self, room: RoomId, stored: &str) -> Option<String> {
        let outside: Outside = serde_json::from_str(stored).ok()?;
        if outside.format != SEALED_FORMAT {
            return Some(stored.to_owned());
        }
        let plain = self.open(room, outside.k?, Kind::Entry, &outside.s?)?;
        let plain = String::from_utf8(plain).ok()?;
        match outside.ts {
            Some(ts) => super::log::stamped(&plain, ts),
            None => plain.strip_prefix('{').is_some().then_some(plain),
        }
    }

    /// A snapshot's JSON on its way to Redis, sealed under `session`'s key.
    pub fn seal_image(&self, room: RoomId, session: u32, image: &str) -> String {
        let s = self.seal(room, session, Kind::Snapshot, image.as_bytes());
        format!(r#"{{"v":{SEALED_FORMAT},"k":{session},"s":"{s}"}}"#)
    }

    /// A snapshot as Redis holds it, as its JSON; one stored before snapshots were
    /// sealed is returned as it is. `None` if a sealed one does not open.
    pub fn open_image(&self, room: RoomId, stored: &str) -> Option<String> {
        let Ok(sealed) = serde_json::from_str::<SealedImage>(stored) else {
            return Some(stored.to_owned());
        };
        let plain = self.open(room, sealed.k, Kind::Snapshot, &sealed.s)?;
        String::from_utf8(plain).ok()
    }

    /// A frame relayed on the room's channel beside its log (typing, an alert the room
    /// could not keep): `SESSION SEALED`.
    pub fn seal_notice(&self, room: RoomId, session: u32, frame: &str) -> String {
        let s = self.seal(room, session, Kind::Notice, frame.as_bytes());
        format!("{session} {s}")
    }

    /// A relayed frame as [`Seal::seal_notice`] wrote it; `None` if it does not open.
    pub fn open_notice(&self, room: RoomId, sealed: &str) -> Option<String> {
        let (session, s) = sealed.split_once(' ')?;
        let plain = self.open(room, session.parse().ok()?, Kind::Notice, s)?;
        String::from_utf8(plain).ok()
    }
}

/// `plain` sealed with a fresh random nonce, as base64 of the nonce and the sealed
/// bytes.
fn seal_with(cipher: &XChaCha20Poly1305, kind: Kind, plain: &[u8]) -> String {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: kind.label(),
            },
        )
        .expect("sealing in memory does not fail");
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    STANDARD.encode(out)
}

fn open_with(cipher: &XChaCha20Poly1305, kind: Kind, sealed: &str) -> Option<Vec<u8>> {
    let bytes = STANDARD.decode(sealed).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: kind.label(),
            },
        )
        .ok()
}

#[cfg(test)]
mod tests;
