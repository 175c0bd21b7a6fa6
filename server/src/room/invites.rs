//! Facilitator invites as records the room keeps.
//!
//! An invite token is signed (`auth`) and names its record here; the record says how
//! many joins it still allows, until when, and which members hold a seat it gave.
//! A join redeems a use through the room's command log, so two instances cannot both
//! spend an invite's last use. Revoking an invite ends its seats: its members leave,
//! and their tokens no longer connect (a facilitator connects only with a seat).

use std::collections::{BTreeMap, BTreeSet};

use kindred_protocol::{InviteId, Millis, Role, UserId};
use serde::{Deserialize, Serialize};

use super::state::outcome::Rejection;

/// The most invite records a room keeps at once (used-up and expired ones are
/// forgotten when the session ends, or to make room).
pub const MAX_INVITES: usize = 100;
/// The most joins one invite may allow.
pub const MAX_INVITE_USES: u32 = 50;

/// One facilitator invite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRecord {
    pub id: InviteId,
    pub role: Role,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// How many joins it allows, and how many it has had.
    pub uses: u32,
    pub used: u32,
    /// The members it seated this session.
    #[serde(default)]
    pub seats: BTreeSet<UserId>,
    /// Its place among the room's invites in the order they were minted, given by the
    /// room when it keeps the record (two invites can share a millisecond).
    #[serde(default)]
    pub order: u64,
}

impl InviteRecord {
    fn spent(&self, now: Millis) -> bool {
        self.expires_at <= now || self.used >= self.uses
    }
}

/// A room's invites, by id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Invites(BTreeMap<InviteId, InviteRecord>);

impl Invites {
    /// Keep a new invite. Spent invites that seat nobody make room first.
    pub fn add(&mut self, record: InviteRecord, now: Millis) -> Result<(), Rejection> {
        if record.uses == 0 || record.uses > MAX_INVITE_USES {
            return Err(Rejection::BadRequest("uses must be between 1 and 50"));
        }
        if self.0.len() >= MAX_INVITES {
            self.0.retain(|_, r| !(r.spent(now) && r.seats.is_empty()));
        }
        if self.0.len() >= MAX_INVITES {
            return Err(Rejection::BadRequest(
                "this room has too many open invites: revoke some first",
            ));
        }
        let mut record = record;
        record.order = self.0.values().map(|r| r.order + 1).max().unwrap_or(0);
        self.0.insert(record.id, record);
        Ok(())
    }

    /// Spend one use of `id` on `user`, who now holds a seat; the invite's role.
    pub fn redeem(&mut self, id: InviteId, user: UserId, now: Millis) -> Result<Role, Rejection> {
        let record = self.0.get_mut(&id).ok_or(Rejection::InviteInvalid)?;
        if record.spent(now) {
            return Err(Rejection::InviteInvalid);
        }
        record.used += 1;
        record.seats.insert(user);
        Ok(record.role)
    }

    /// Take an invite back; its record (with the seats to end), if it existed.
    pub fn revoke(&mut self, id: InviteId) -> Option<InviteRecord> {
        self.0.remove(&id)
    }

    /// Whether `user` holds a seat an invite gave.
    pub fn seated(&self, user: UserId) -> bool {
        self.0.values().any(|r| r.seats.contains(&user))
    }

    /// End `user`'s seat, wherever it came from.
    pub fn unseat(&mut self, user: UserId) {
        for r in self.0.values_mut() {
            r.seats.remove(&user);
        }
    }

    /// The session ended: its seats end (their tokens stop working anyway), and
    /// spent invites are forgotten.
    pub fn end_session(&mut self, now: Millis) {
        for r in self.0.values_mut() {
            r.seats.clear();
        }
        self.0.retain(|_, r| !r.spent(now));
    }

    /// Every invite, oldest first.
    pub fn list(&self) -> Vec<InviteRecord> {
        let mut all: Vec<InviteRecord> = self.0.values().cloned().collect();
        all.sort_by_key(|r| (r.created_at, r.order, r.id));
        all
    }
}
