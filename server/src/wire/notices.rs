//! The private notices: frames for some members only, never kept in the timeline nor
//! replayed by seq. A sender's own answer (`ack`, the crisis card), what the
//! facilitators are told (alerts, the waiting list, the moderation log), a warning,
//! a whisper, a mute's reason, and a member's typing.

use kindred_protocol::{
    AirShare, AlertKind, ClientId, CrisisCategory, LogEntry, Millis, Seq, ServerFrame, UserId,
    WaitingMember,
};

use crate::room::{About, Alert, Concern, Held, Kept, MoodNotice, MuteNotice, Warning, Whisper};
use crate::safety::ResourcesCard;

/// The answer to a command the room took: `seq` is the timeline position it got, if
/// any.
pub fn ack(client_id: ClientId, seq: Option<Seq>) -> ServerFrame {
    ServerFrame::Ack {
        client_id,
        seq,
        held: false,
    }
}

/// The answer to a message held for a facilitator's review: no seq yet; its outcome
/// follows (an `ack` once released, `filtered` once declined).
pub fn held_ack(client_id: ClientId) -> ServerFrame {
    ServerFrame::Ack {
        client_id,
        seq: None,
        held: true,
    }
}

/// That `user` is typing, for the others in the room. Ephemeral.
pub fn typing(user: UserId, name: &str) -> ServerFrame {
    ServerFrame::Typing {
        user,
        name: name.to_owned(),
    }
}

/// The resources card, for the author of a message in `category` of crisis alone:
/// `seq` is their message's place in the timeline (absent when the room did not take
/// it), `told` whether a facilitator connected then received the alert.
pub fn crisis_resources(
    card: &ResourcesCard,
    seq: Option<Seq>,
    category: CrisisCategory,
    told: bool,
) -> ServerFrame {
    ServerFrame::CrisisResources {
        seq,
        category: Some(category),
        told,
        title: card.title.clone(),
        body: card.body.clone(),
        lines: card.lines.clone(),
        emergency: card.emergency.clone(),
        countries: card.countries.clone(),
    }
}

/// Who is in the waiting room, for the facilitators: the whole list each time.
pub fn waiting_list(members: &[WaitingMember]) -> ServerFrame {
    ServerFrame::Waiting {
        members: members.to_vec(),
    }
}

/// Entries of the session's moderation log, oldest first, for the facilitators: the
/// whole log after a facilitator's `welcome`, each new entry as it happens.
pub fn mod_log(entries: &[LogEntry]) -> ServerFrame {
    ServerFrame::ModLog {
        entries: entries.to_vec(),
    }
}

/// Every participant's share of the conversation, for one facilitator
/// (`share_the_air`): after their `welcome`, then on a change, at most every few
/// seconds.
pub fn share_the_air(members: &[AirShare]) -> ServerFrame {
    ServerFrame::ShareTheAir {
        members: members.to_vec(),
    }
}

/// The `alert` for an alert the room keeps open until a facilitator handles it.
pub fn alert(alert: &Alert) -> ServerFrame {
    let (kind, seq, category, reason, text) = match &alert.about {
        About::Crisis {
            category,
            seq,
            text,
            check_in,
            ..
        } => {
            let kind = if *check_in {
                AlertKind::CheckIn
            } else {
                AlertKind::Crisis
            };
            (kind, *seq, Some(*category), None, text.clone())
        }
        About::Report { seq, reason, .. } => {
            (AlertKind::Report, Some(*seq), None, reason.clone(), None)
        }
        About::Concern { quote, .. } => (
            AlertKind::Concern,
            quote.as_ref().map(|q| q.seq),
            None,
            None,
            None,
        ),
    };
    let context = match &alert.about {
        About::Report { context, .. } => context.clone(),
        About::Concern { quote, .. } => quote.iter().cloned().collect(),
        About::Crisis { .. } => Vec::new(),
    };
    // A concern is about its subject; who is worried goes in `by`.
    let (user, name, by, by_name) = match &alert.about {
        About::Concern {
            subject,
            subject_name,
            ..
        } => (
            *subject,
            subject_name.clone(),
            Some(alert.user),
            Some(alert.name.clone()),
        ),
        About::Crisis { .. } | About::Report { .. } => (alert.user, alert.name.clone(), None, None),
    };
    ServerFrame::Alert {
        ts: alert.ts,
        kind,
        id: Some(alert.id),
        seq,
        user,
        name,
        category,
        reason,
        held: None,
        text,
        context,
        count: (alert.count > 1).then_some(alert.count),
        since: (alert.count > 1).then_some(alert.since),
        likelihood: match &alert.about {
            About::Crisis { likelihood, .. } => *likelihood,
            About::Report { .. } | About::Concern { .. } => None,
        },
        by,
        by_name,
    }
}

/// The `alert` for a message held for review: only facilitators see its text.
/// The `reason` of a held message's alert when the shield held it: a participant's
/// first message of the session, with nothing the content policy found.
pub const SHIELD_HELD: &str = "first message while the shield is up";

pub fn held_alert(held: &Held) -> ServerFrame {
    ServerFrame::Alert {
        ts: held.ts,
        kind: AlertKind::Held,
        id: Some(held.id),
        seq: None,
        user: held.user,
        name: held.name.clone(),
        category: None,
        // Held by the shield (a first message, nothing found): it says so.
        reason: Some(if held.kinds.is_empty() {
            SHIELD_HELD.to_owned()
        } else {
            held.kinds.join(", ")
        }),
        held: Some(held.id),
        text: Some(held.text.clone()),
        context: Vec::new(),
        count: None,
        since: None,
        likelihood: None,
        by: None,
        by_name: None,
    }
}

/// A facilitator's warning, as its member and the facilitators see it.
pub fn warning(w: &Warning, acknowledged: bool) -> ServerFrame {
    ServerFrame::Warning {
        id: w.id,
        ts: w.ts,
        user: w.user,
        name: w.name.clone(),
        reason: w.reason.clone(),
        acknowledged,
    }
}

/// What is open for the facilitators, as one who arrives receives it.
pub fn kept(kept: &Kept) -> ServerFrame {
    match kept {
        Kept::Alert(a) => alert(a),
        Kept::Held(h) => held_alert(h),
    }
}

/// The `alert` that someone is in the waiting room.
pub fn knock_alert(ts: Millis, w: &WaitingMember) -> ServerFrame {
    ServerFrame::Alert {
        ts,
        kind: AlertKind::Knock,
        id: None,
        seq: None,
        user: w.user,
        name: w.name.clone(),
        category: None,
        reason: None,
        held: None,
        text: None,
        context: Vec::new(),
        count: None,
        since: None,
        likelihood: None,
        by: None,
        by_name: None,
    }
}

/// A whisper, as written now or (`replayed`) given again after a `welcome`.
pub fn whisper(w: &Whisper, replayed: bool) -> ServerFrame {
    ServerFrame::Whisper {
        id: Some(w.id),
        ts: w.ts,
        from: w.from,
        name: w.name.clone(),
        to: w.to,
        text: w.text.clone(),
        kept: w.kept,
        waiting: w.waiting,
        replayed,
    }
}

/// Why and until when a member is muted, for them alone.
pub fn mute_notice(n: &MuteNotice) -> ServerFrame {
    ServerFrame::MuteNotice {
        until: n.until,
        reason: n.reason.clone(),
    }
}

/// The `alert` for a message the content policy flagged (delivered as written, so not
/// kept: a live notice only).
pub fn flagged_alert(
    ts: Millis,
    seq: Seq,
    user: UserId,
    name: &str,
    kinds: &[&str],
) -> ServerFrame {
    ServerFrame::Alert {
        ts,
        kind: AlertKind::Flagged,
        id: None,
        seq: Some(seq),
        user,
        name: name.to_owned(),
        category: None,
        reason: Some(kinds.join(", ")),
        held: None,
        text: None,
        context: Vec::new(),
        count: None,
        since: None,
        likelihood: None,
        by: None,
        by_name: None,
    }
}

/// A crisis `alert` the room could not keep (the author was no longer a member, or the
/// shared store was out of reach): sent live, without an id.
pub fn unkept_crisis_alert(
    ts: Millis,
    user: UserId,
    name: &str,
    concern: Concern,
    text: String,
) -> ServerFrame {
    ServerFrame::Alert {
        ts,
        kind: if concern.check_in {
            AlertKind::CheckIn
        } else {
            AlertKind::Crisis
        },
        id: None,
        seq: None,
        user,
        name: name.to_owned(),
        category: Some(concern.category),
        reason: None,
        held: None,
        text: Some(text),
        context: Vec::new(),
        count: None,
        since: None,
        likelihood: concern.likelihood,
        by: None,
        by_name: None,
    }
}

/// The thanks a member is given for telling the facilitators they are worried about
/// someone (`told`: a facilitator is connected now).
pub fn concern_noted(user: UserId, name: String, told: bool) -> ServerFrame {
    ServerFrame::ConcernNoted { user, name, told }
}

/// A participant's check-in or check-out, for the facilitators alone.
pub fn mood(notice: &MoodNotice) -> ServerFrame {
    ServerFrame::Mood {
        member: notice.member.clone(),
        spread: notice.spread,
    }
}

/// The session in counts, for the facilitators as it closes.
pub fn debrief(debrief: &kindred_protocol::Debrief) -> ServerFrame {
    ServerFrame::Debrief(debrief.clone())
}
