//! Bans that hold, and the marks a join carries (which the door also counts: how many
//! seats one network may take is `Room::admits`'s).
//!
//! A ban names the member's user id and the marks their join carried: the browser's
//! device (kept while the room lasts, like the user id) and the network address
//! (kept for the rest of the session only: addresses are shared, and change hands).
//! So a banned person who joins again under a new pseudonym from the same browser,
//! or from the same network that evening, is refused.
//!
//! The room never sees a device id or an address: a [`Mark`] is a keyed hash of one
//! (`auth::Signer::mark`), keyed with the server's secret and the room's id, so marks
//! cannot be reversed or matched across rooms.

use std::collections::HashSet;

use kindred_protocol::UserId;
use serde::{Deserialize, Serialize};

/// A keyed hash of a device id or an address (hex).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mark(pub String);

/// Where a join came from, as marks. Either may be absent: a client that keeps no
/// device id sends none, and an address that names a proxy or a private network
/// rather than the person (loopback, private ranges) gives none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Mark>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Mark>,
}

/// Who may not come back to the room.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredBans")]
pub struct Bans {
    /// Banned user ids (their tokens stop working).
    users: HashSet<UserId>,
    /// Devices banned members joined from; kept while the room lasts.
    devices: HashSet<Mark>,
    /// Addresses banned members joined from; kept for this session only.
    addresses: HashSet<Mark>,
}

/// Bans as stored: rooms kept before device and address bans hold a list of user ids.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredBans {
    Users(HashSet<UserId>),
    Marks {
        users: HashSet<UserId>,
        #[serde(default)]
        devices: HashSet<Mark>,
        #[serde(default)]
        addresses: HashSet<Mark>,
    },
}

impl From<StoredBans> for Bans {
    fn from(stored: StoredBans) -> Self {
        match stored {
            StoredBans::Users(users) => Bans {
                users,
                ..Bans::default()
            },
            StoredBans::Marks {
                users,
                devices,
                addresses,
            } => Bans {
                users,
                devices,
                addresses,
            },
        }
    }
}

impl Bans {
    /// Ban a member: their user id, and the device and address they joined from.
    pub fn ban(&mut self, user: UserId, origin: &Origin) {
        self.users.insert(user);
        if let Some(device) = &origin.device {
            self.devices.insert(device.clone());
        }
        if let Some(address) = &origin.address {
            self.addresses.insert(address.clone());
        }
    }

    /// Whether this user id is banned.
    pub fn user(&self, user: UserId) -> bool {
        self.users.contains(&user)
    }

    /// Whether a newcomer from here is refused: their device, or (this session) their
    /// address, is a banned member's.
    pub fn origin(&self, origin: &Origin) -> bool {
        origin
            .device
            .as_ref()
            .is_some_and(|d| self.devices.contains(d))
            || origin
                .address
                .as_ref()
                .is_some_and(|a| self.addresses.contains(a))
    }

    /// The session ended: address bans end with it (user and device bans stay).
    pub fn end_session(&mut self) {
        self.addresses.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_stored_as_a_list_of_users_still_read() {
        let user = UserId::new();
        let old = serde_json::json!([user]);
        let bans: Bans = serde_json::from_value(old).unwrap();
        assert!(bans.user(user));
        let mut bans = bans;
        let device = Origin {
            device: Some(Mark("d1".into())),
            address: Some(Mark("a1".into())),
        };
        bans.ban(UserId::new(), &device);
        let again: Bans = serde_json::from_value(serde_json::to_value(&bans).unwrap()).unwrap();
        assert_eq!(again, bans);
        assert!(again.origin(&device));
    }
}
