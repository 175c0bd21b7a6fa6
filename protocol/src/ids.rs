//! Identifiers. Rooms and users are UUIDs wrapped in newtypes so that a room id can
//! never be passed where a user id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Position of an event in a room's timeline: strictly increasing by one per room.
pub type Seq = u64;
/// Identifies one incarnation of a room's history. When it changes (the room was
/// recreated, or a shared store lost its data), seqs from before are meaningless.
/// Always below 2^53 so that JavaScript numbers hold it exactly.
pub type Epoch = u64;
/// Milliseconds since the Unix epoch (UTC).
pub type Millis = u64;
/// A client-chosen id for one command; the server's `ack` or `error` echoes it, and a
/// `send` retried with the same id is applied once. At most 64 bytes.
pub type ClientId = String;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A room (one support group).
    RoomId
);
uuid_id!(
    /// A member of a room. Pseudonymous: it names a join, not a person.
    UserId
);
uuid_id!(
    /// A facilitator invite the room keeps a record of (its uses, its seats).
    InviteId
);
uuid_id!(
    /// An on-call link the operator minted: the record every instance checks its
    /// token against, so revoking it stops the token everywhere.
    OnCallId
);
