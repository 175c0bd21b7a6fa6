//! Signed tokens: a participant's session token (from `join`), a facilitator
//! invite and an on-call link (both from the admin API). HMAC-SHA256 over a small JSON payload; every
//! instance that shares the secret accepts every other's tokens.
//!
//! The same secret keys the marks a ban holds on to ([`Signer::mark`]): a device id
//! or an address is never kept, only its keyed hash for one room. It keys the name a
//! refused admin caller is logged by too ([`Signer::caller`]), never their address.
//! Without a configured secret the key is random, made at start, so it differs per
//! process.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use kindred_protocol::{InviteId, Millis, OnCallId, Role, RoomId, UserId};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::room::{Mark, Origin};

type HmacSha256 = Hmac<Sha256>;

const VERSION: &str = "k1";

/// Why a token was refused. The wire only ever says `unauthorized`; the variant
/// goes to logs and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("this kind of token cannot be used here")]
    WrongKind,
    #[error("the token belongs to another room")]
    WrongRoom,
}

/// What a session token says about its holder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub room: RoomId,
    pub user: UserId,
    pub name: String,
    pub role: Role,
    /// The room session it was minted for; a closed session's tokens stop working.
    pub session: u32,
    pub exp: Millis,
    /// Where the join came from, as marks (see [`Signer::mark`]).
    #[serde(default)]
    pub origin: Origin,
}

/// What a facilitator invite grants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteClaims {
    pub room: RoomId,
    /// The room's record of this invite: its uses and seats.
    pub id: InviteId,
    pub role: Role,
    pub exp: Millis,
}

/// What an on-call link grants: the on-call board and a facilitator's seat in any
/// room in session, while its record (`id`) is kept (revoking it drops the record).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnCallClaims {
    pub id: OnCallId,
    pub exp: Millis,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
enum Claims {
    Session(SessionClaims),
    Invite(InviteClaims),
    OnCall(OnCallClaims),
}

/// Signs and verifies tokens with one secret.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: secret.to_vec(),
        }
    }

    fn mac(&self, signed: &str) -> HmacSha256 {
        // HMAC accepts keys of any length.
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(signed.as_bytes());
        mac
    }

    fn sign(&self, claims: &Claims) -> String {
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let signed = format!("{VERSION}.{}", B64.encode(payload));
        let tag = self.mac(&signed).finalize().into_bytes();
        format!("{signed}.{}", B64.encode(tag))
    }

    fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let (signed, tag) = token.rsplit_once('.').ok_or(AuthError::Malformed)?;
        let (version, payload) = signed.split_once('.').ok_or(AuthError::Malformed)?;
        if version != VERSION {
            return Err(AuthError::Malformed);
        }
        let tag = B64.decode(tag).map_err(|_| AuthError::Malformed)?;
        self.mac(signed)
            .verify_slice(&tag)
            .map_err(|_| AuthError::BadSignature)?;
        let payload = B64.decode(payload).map_err(|_| AuthError::Malformed)?;
        serde_json::from_slice(&payload).map_err(|_| AuthError::Malformed)
    }

    /// The mark of a device id or an address (`kind` says which) in `room`: a keyed
    /// hash, so it cannot be reversed, and per room, so marks cannot be matched
    /// across rooms.
    pub fn mark(&self, room: RoomId, kind: &str, value: &str) -> Mark {
        let tag = self
            .mac(&format!("mark\u{0}{kind}\u{0}{room}\u{0}{value}"))
            .finalize()
            .into_bytes();
        Mark(tag[..16].iter().map(|b| format!("{b:02x}")).collect())
    }

    /// How the logs name the address of a refused admin call: a keyed hash (16 hex
    /// digits), the same for one address on every instance that shares the secret,
    /// so repeated attempts can be told apart and counted, but never the address.
    pub fn caller(&self, address: std::net::IpAddr) -> String {
        let tag = self
            .mac(&format!("caller\u{0}{address}"))
            .finalize()
            .into_bytes();
        tag[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The marks of a join from `device` (if the client keeps one) and `address` (if
    /// it names the person's network rather than a proxy's or a private one).
    pub fn origin(&self, room: RoomId, device: Option<&str>, address: Option<&str>) -> Origin {
        Origin {
            device: device.map(|d| self.mark(room, "device", d)),
            address: address.map(|a| self.mark(room, "address", a)),
        }
    }

    pub fn session_token(&self, claims: SessionClaims) -> String {
        self.sign(&Claims::Session(claims))
    }

    pub fn invite_token(&self, claims: InviteClaims) -> String {
        self.sign(&Claims::Invite(claims))
    }

    pub fn on_call_token(&self, claims: OnCallClaims) -> String {
        self.sign(&Claims::OnCall(claims))
    }

    /// An on-call link's token, unexpired at `now` (whether its record is still kept,
    /// the caller asks the store).
    pub fn verify_on_call(&self, token: &str, now: Millis) -> Result<OnCallClaims, AuthError> {
        match self.verify(token)? {
            Claims::OnCall(c) if c.exp > now => Ok(c),
            Claims::OnCall(_) => Err(AuthError::Expired),
            Claims::Session(_) | Claims::Invite(_) => Err(AuthError::WrongKind),
        }
    }

    /// A session token, valid at `now`.
    pub fn verify_session(&self, token: &str, now: Millis) -> Result<SessionClaims, AuthError> {
        match self.verify(token)? {
            Claims::Session(c) if c.exp > now => Ok(c),
            Claims::Session(_) => Err(AuthError::Expired),
            Claims::Invite(_) | Claims::OnCall(_) => Err(AuthError::WrongKind),
        }
    }

    /// An invite for `room`, valid at `now`.
    pub fn verify_invite(
        &self,
        token: &str,
        room: RoomId,
        now: Millis,
    ) -> Result<InviteClaims, AuthError> {
        match self.verify(token)? {
            Claims::Invite(c) if c.room != room => Err(AuthError::WrongRoom),
            Claims::Invite(c) if c.exp > now => Ok(c),
            Claims::Invite(_) => Err(AuthError::Expired),
            Claims::Session(_) | Claims::OnCall(_) => Err(AuthError::WrongKind),
        }
    }
}

/// Compare a presented admin token with the configured one in constant time.
pub fn admin_token_matches(presented: &str, expected: &str) -> bool {
    presented.as_bytes().ct_eq(expected.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: Millis) -> SessionClaims {
        SessionClaims {
            room: RoomId::new(),
            user: UserId::new(),
            name: "Robin".into(),
            role: Role::Participant,
            session: 0,
            exp,
            origin: Origin::default(),
        }
    }

    #[test]
    fn a_session_token_verifies_until_it_expires() {
        let signer = Signer::new(b"secret");
        let c = claims(1_000);
        let token = signer.session_token(c.clone());
        assert_eq!(signer.verify_session(&token, 999), Ok(c));
        assert_eq!(
            signer.verify_session(&token, 1_000),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn another_secret_or_a_changed_payload_is_refused() {
        let token = Signer::new(b"secret").session_token(claims(1_000));
        assert_eq!(
            Signer::new(b"other").verify_session(&token, 0),
            Err(AuthError::BadSignature)
        );
        // Promote oneself: re-encode the payload with role facilitator, keep the tag.
        let (signed, tag) = token.rsplit_once('.').unwrap();
        let payload = B64.decode(signed.split_once('.').unwrap().1).unwrap();
        let forged = String::from_utf8(payload)
            .unwrap()
            .replace("participant", "facilitator");
        let forged = format!("{VERSION}.{}.{tag}", B64.encode(forged));
        assert_eq!(
            Signer::new(b"secret").verify_session(&forged, 0),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            Signer::new(b"secret").verify_session("garbage", 0),
            Err(AuthError::Malformed)
        );
    }

    #[test]
    fn an_invite_is_bound_to_its_room_and_is_no_session_token() {
        let signer = Signer::new(b"secret");
        let room = RoomId::new();
        let invite = signer.invite_token(InviteClaims {
            room,
            id: InviteId::new(),
            role: Role::Facilitator,
            exp: 100,
        });
        assert!(signer.verify_invite(&invite, room, 50).is_ok());
        assert_eq!(
            signer.verify_invite(&invite, RoomId::new(), 50),
            Err(AuthError::WrongRoom)
        );
        assert_eq!(
            signer.verify_invite(&invite, room, 100),
            Err(AuthError::Expired)
        );
        assert_eq!(
            signer.verify_session(&invite, 50),
            Err(AuthError::WrongKind)
        );
    }

    #[test]
    fn a_refused_caller_is_named_by_a_keyed_hash_of_their_address() {
        let ip: std::net::IpAddr = "203.0.113.7".parse().unwrap();
        let signer = Signer::new(b"secret");
        let name = signer.caller(ip);
        assert_eq!(name, signer.caller(ip), "the same caller, the same name");
        assert_eq!(name.len(), 16);
        assert!(name.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(name, signer.caller("203.0.113.8".parse().unwrap()));
        assert_ne!(
            name,
            Signer::new(b"other").caller(ip),
            "keyed by the secret"
        );
    }

    #[test]
    fn marks_are_keyed_per_room_and_secret() {
        let signer = Signer::new(b"secret");
        let (a, b) = (RoomId::new(), RoomId::new());
        let mark = signer.mark(a, "device", "abc");
        assert_eq!(mark, signer.mark(a, "device", "abc"));
        assert_eq!(mark.0.len(), 32);
        assert!(!mark.0.contains("abc"));
        assert_ne!(mark, signer.mark(b, "device", "abc"));
        assert_ne!(mark, signer.mark(a, "address", "abc"));
        assert_ne!(mark, Signer::new(b"other").mark(a, "device", "abc"));
    }

    #[test]
    fn admin_token_comparison() {
        assert!(admin_token_matches("abc", "abc"));
        assert!(!admin_token_matches("abd", "abc"));
        assert!(!admin_token_matches("ab", "abc"));
    }
}
