//! The on-call supervisor: the links the operator mints (a token signed with the
//! server's secret, naming a record every instance checks, so revoking the record
//! stops the token everywhere), and the board their page reads: every room in
//! session, read through [`Rooms`] afresh (`Reading::Current`), so it shows what every
//! instance's members did, whichever instance serves the page.

use kindred_protocol::oncall::{Board, BoardEscalation, BoardRoom};
use kindred_protocol::{Millis, OnCallId};

use crate::auth::{OnCallClaims, Signer};
use crate::broker::{BrokerError, LinkRecord, Reading, Rooms, View};
use crate::room::{About, Escalation};

/// A new on-call link: its record, and its token, given only now.
#[derive(Debug)]
pub struct MintedLink {
    pub record: LinkRecord,
    pub token: String,
}

impl MintedLink {
    /// The on-call page's link. The token is in the fragment, which browsers never
    /// send to a server, so it stays out of access logs, proxies and `Referer`.
    pub fn url(&self) -> String {
        format!("/#oncall={}", self.token)
    }
}

/// Keep a new on-call link lasting `ttl_secs` from `now`, and sign its token.
pub async fn mint(
    broker: &Rooms,
    signer: &Signer,
    ttl_secs: u64,
    now: Millis,
) -> Result<MintedLink, BrokerError> {
    let record = LinkRecord {
        id: OnCallId::new(),
        created_at: now,
        expires_at: now + ttl_secs * 1000,
    };
    broker.keep_link(record.clone()).await?;
    let token = signer.on_call_token(OnCallClaims {
        id: record.id,
        exp: record.expires_at,
    });
    tracing::info!(link = %record.id, ttl_seconds = ttl_secs, "on-call link minted");
    Ok(MintedLink { record, token })
}

/// Every room in session, as on-call sees it at `now`: those that need on-call first
/// (an escalation, then a room held for `held_after_secs` or more), then by title.
pub async fn board(
    broker: &Rooms,
    held_after_secs: u64,
    now: Millis,
) -> Result<Board, BrokerError> {
    let held_after_ms = held_after_secs.saturating_mul(1000);
    let mut rooms = Vec::new();
    for id in broker.ids().await? {
        // A room deleted meanwhile, or not readable now, is left out of this look.
        let seen = broker
            .ask(id, Reading::Current, |v| board_room(&v, held_after_ms, now))
            .await;
        if let Ok(Some(room)) = seen {
            rooms.push(room);
        }
    }
    rooms.sort_by(|a, b| {
        let rank = |r: &BoardRoom| (r.escalations.is_empty(), !r.needs_on_call);
        rank(a).cmp(&rank(b)).then_with(|| a.title.cmp(&b.title))
    });
    Ok(Board {
        now,
        held_after_seconds: held_after_secs,
        rooms,
    })
}

/// One room as the board shows it; none unless a session is on.
fn board_room(v: &View<'_>, held_after_ms: Millis, now: Millis) -> Option<BoardRoom> {
    let room = v.room;
    if !room.is_open() || room.is_deleted() {
        return None;
    }
    let held_since = room.held_since();
    let escalations: Vec<BoardEscalation> = room
        .escalations()
        .into_iter()
        .map(|e| escalation(v, e))
        .collect();
    let held_long = held_since.is_some_and(|since| now >= since.saturating_add(held_after_ms));
    Some(BoardRoom {
        id: room.id,
        title: room.config.title.clone(),
        facilitators: count(room.facilitators_present()),
        members: count(room.member_count()),
        held_since,
        needs_on_call: held_long || !escalations.is_empty(),
        escalations,
    })
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// An escalation with the words its alert points at: a crisis alert's message (from
/// the kept timeline, or the words the room could not deliver), a reported message,
/// a concern's quote.
fn escalation(v: &View<'_>, e: &Escalation) -> BoardEscalation {
    let at = |seq| {
        v.timeline
            .quotes(seq, 0)
            .ok()
            .and_then(|q| q.into_iter().last())
            .map(|q| q.text)
    };
    let (category, quote) = match &e.alert.about {
        About::Crisis {
            category,
            seq,
            text,
            ..
        } => (Some(*category), text.clone().or_else(|| seq.and_then(at))),
        About::Report { seq, context, .. } => (
            None,
            context
                .iter()
                .find(|q| q.seq == *seq)
                .map(|q| q.text.clone())
                .or_else(|| at(*seq)),
        ),
        About::Concern { quote, .. } => (None, quote.as_ref().map(|q| q.text.clone())),
    };
    BoardEscalation {
        alert: e.alert.id,
        ts: e.ts,
        by: e.by,
        by_name: e.by_name.clone(),
        name: e.alert.name.clone(),
        category,
        quote,
    }
}
