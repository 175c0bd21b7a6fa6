//! Facilitator invites as records the room keeps.
//!
//! An invite token is signed (`auth`) and names its record here; the record says how
//! many joins it still allows, until when, and which members hold a seat it gave.
//! A join redeems a use through the room's command log, so two instances cannot both
//! spend an invite's last use. Revoking an invite ends its seats: its members leave,
//! and their tokens no longer connect (a facilitator connects only with a seat).
//!
//! A seat is bound to the browsers its facilitator chose ([`Holder`]): the one that
//! redeemed the invite with a seat key, and any other they bound with a one-time
//! code from inside the room. The room keeps only keyed marks of the keys and codes
//! (`auth::Signer::mark`), never the keys; a bound browser takes the seat back (same
//! user, same pseudonym) after its tab was closed, and nobody else can.

use std::collections::{BTreeMap, BTreeSet};

use kindred_protocol::{InviteId, Millis, Role, UserId};
use serde::{Deserialize, Serialize};

use super::bans::Mark;
use super::state::outcome::Rejection;

/// The most invite records a room keeps at once (used-up and expired ones are
/// forgotten when the session ends, or to make room).
pub const MAX_INVITES: usize = 100;
/// The most joins one invite may allow.
pub const MAX_INVITE_USES: u32 = 50;
/// The most browsers one seat may be bound to (the first, and those its facilitator
/// added with a code).
pub const MAX_SEAT_DEVICES: usize = 5;

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
    /// The browsers each seat is bound to, by the member holding it (a seat taken
    /// by a client that sent no seat key has none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub holders: BTreeMap<UserId, Holder>,
}

impl InviteRecord {
    fn spent(&self, now: Millis) -> bool {
        self.expires_at <= now || self.used >= self.uses
    }
}

/// What binds one seat to its facilitator's browsers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The pseudonym the seat was taken under, so a browser taking it back is the
    /// same person to the room. Not in the catalog record (a store's readable part
    /// holds no pseudonym): a seat restored from it is taken back under the
    /// facilitator's name from the seat's code, or `Facilitator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Keyed marks of the seat keys the bound browsers keep.
    #[serde(default)]
    pub keys: Vec<Mark>,
    /// The one-time code open for another device, if any: its mark and when it
    /// stops working. Not in the catalog record either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<(Mark, Millis)>,
}

/// What the room knows of a seat a browser's key is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundSeat {
    pub user: UserId,
    pub name: Option<String>,
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

    /// Spend one use of `id` on `user`, who now holds a seat, bound to the browser
    /// whose key's mark `bound` carries with the pseudonym; the invite's role.
    ///
    /// A browser that sends a key is told apart from the invite being of no use: a
    /// used-up invite whose seat is still held refuses it as in use
    /// ([`Rejection::InviteInUse`]), so the words say what happened.
    pub fn redeem(
        &mut self,
        id: InviteId,
        user: UserId,
        bound: Option<(String, Mark)>,
        now: Millis,
    ) -> Result<Role, Rejection> {
        if let Some((_, key)) = &bound
            && self.bound(key).is_some()
        {
            return Err(Rejection::BadRequest(
                "this seat key already holds a seat in this room",
            ));
        }
        self.usable(id, bound.is_some(), now)?;
        let record = self.0.get_mut(&id).ok_or(Rejection::InviteInvalid)?;
        record.used += 1;
        record.seats.insert(user);
        if let Some((name, key)) = bound {
            record.holders.insert(
                user,
                Holder {
                    name: Some(name),
                    keys: vec![key],
                    code: None,
                },
            );
        }
        Ok(record.role)
    }

    /// Whether a join could spend a use of `id` now; if not, why: a join from a
    /// browser that sends a seat key (`keyed`) is told a used-up invite whose seat
    /// is held is in use.
    pub fn usable(&self, id: InviteId, keyed: bool, now: Millis) -> Result<(), Rejection> {
        let record = self.0.get(&id).ok_or(Rejection::InviteInvalid)?;
        if !record.spent(now) {
            return Ok(());
        }
        if keyed && record.expires_at > now && !record.seats.is_empty() {
            return Err(Rejection::InviteInUse);
        }
        Err(Rejection::InviteInvalid)
    }

    /// The seat a browser's key is bound to, while it lasts.
    pub fn bound(&self, key: &Mark) -> Option<BoundSeat> {
        self.0.values().find_map(|r| {
            r.holders
                .iter()
                .find(|(user, h)| r.seats.contains(user) && h.keys.contains(key))
                .map(|(user, h)| BoundSeat {
                    user: *user,
                    name: h.name.clone(),
                })
        })
    }

    /// `user` asked to put their seat on another device: the code whose mark is
    /// `code` binds one more browser until `expires_at`, replacing any code open.
    /// `name` is their pseudonym, kept if the seat had lost it.
    pub fn open_code(
        &mut self,
        user: UserId,
        name: String,
        code: Mark,
        expires_at: Millis,
    ) -> Result<(), Rejection> {
        let record = self
            .0
            .values_mut()
            .find(|r| r.seats.contains(&user))
            .ok_or(Rejection::InviteInvalid)?;
        let holder = record.holders.entry(user).or_default();
        holder.name.get_or_insert(name);
        holder.code = Some((code, expires_at));
        Ok(())
    }

    /// A device opened a seat's code: the code is spent and the seat is bound to
    /// `key` too. Refused when no seat has that code open now, or the seat is on as
    /// many devices as it may be.
    pub fn take_code(&mut self, code: &Mark, key: Mark, now: Millis) -> Result<(), Rejection> {
        if self.bound(&key).is_some() {
            return Err(Rejection::BadRequest(
                "this seat key already holds a seat in this room",
            ));
        }
        let holder = self
            .0
            .values_mut()
            .flat_map(|r| {
                let seats = &r.seats;
                r.holders
                    .iter_mut()
                    .filter(move |(user, _)| seats.contains(user))
            })
            .map(|(_, h)| h)
            .find(|h| {
                h.code
                    .as_ref()
                    .is_some_and(|(c, until)| c == code && *until > now)
            })
            .ok_or(Rejection::SeatCodeInvalid)?;
        if holder.keys.len() >= MAX_SEAT_DEVICES {
            return Err(Rejection::BadRequest(
                "this seat is already on as many devices as it may be",
            ));
        }
        holder.code = None;
        holder.keys.push(key);
        Ok(())
    }

    /// Take an invite back; its record (with the seats to end), if it existed.
    pub fn revoke(&mut self, id: InviteId) -> Option<InviteRecord> {
        self.0.remove(&id)
    }

    /// Whether `user` holds a seat an invite gave.
    pub fn seated(&self, user: UserId) -> bool {
        self.0.values().any(|r| r.seats.contains(&user))
    }

    /// End `user`'s seat, wherever it came from, and what bound it to browsers.
    pub fn unseat(&mut self, user: UserId) {
        for r in self.0.values_mut() {
            r.seats.remove(&user);
            r.holders.remove(&user);
        }
    }

    /// The session ended: its seats end (their tokens stop working anyway), and
    /// spent invites are forgotten.
    pub fn end_session(&mut self, now: Millis) {
        for r in self.0.values_mut() {
            r.seats.clear();
            r.holders.clear();
        }
        self.0.retain(|_, r| !r.spent(now));
    }

    /// The invites as the catalog record keeps them: seats and the marks of the keys
    /// bound to them, without a pseudonym or an open code.
    pub fn for_catalog(&self) -> Invites {
        let mut kept = self.clone();
        for r in kept.0.values_mut() {
            for h in r.holders.values_mut() {
                h.name = None;
                h.code = None;
            }
        }
        kept
    }

    /// Every invite, oldest first.
    pub fn list(&self) -> Vec<InviteRecord> {
        let mut all: Vec<InviteRecord> = self.0.values().cloned().collect();
        all.sort_by_key(|r| (r.created_at, r.order, r.id));
        all
    }
}
