//! A room's recent timeline as this instance holds it: the events kept for resume
//! (each with its frame, encoded once), what a member arriving now is shown, and the
//! one delivery step ([`Timeline::record`]) through which everything a command causes
//! for anyone but its sender leaves the room. Both brokers keep one per room they hold and feed it every
//! command their room applies, so resume and delivery behave the same over memory and
//! over Redis.

use std::collections::VecDeque;

use axum::extract::ws::Utf8Bytes;
use kindred_protocol::policy::ContentPolicy;
use kindred_protocol::{
    Epoch, Quote, ResumeKind, Role, RoomId, RoomState, Seq, ServerFrame, UserId,
};

use super::{ResumeFrom, Snapshot, effect_of, summary};
use crate::broker::hub::{Audience, Effect, Hub, Kick, Peer};
use crate::room::{Applied, Event, EventKind, Held, Parting, Rejection, Room, Settled};
use crate::wire::{self, Encoded};

/// The kept timeline, oldest first, at most `len` events.
#[derive(Debug)]
pub struct Timeline {
    history: VecDeque<Entry>,
    len: usize,
}

/// One kept event: the frame every member is given of it, encoded once, and the
/// event it was made from, so a report's quotes and a withdrawal read the event,
/// never the frame parsed back.
#[derive(Debug)]
struct Entry {
    seq: Seq,
    bytes: Utf8Bytes,
    /// `None` once a message is withdrawn (its frame, without the words, is all that
    /// is kept), or when a restored frame could not be read as an event.
    event: Option<Event>,
}

impl Entry {
    fn encoded(&self) -> Encoded {
        Encoded {
            seq: Some(self.seq),
            bytes: self.bytes.clone(),
        }
    }
}

impl Timeline {
    pub fn new(len: usize) -> Self {
        Self {
            history: VecDeque::new(),
            len: len.max(1),
        }
    }

    /// A timeline restored from stored frames (oldest first), each read as its event
    /// once, here, and kept with the stored text as it was.
    pub fn restore(len: usize, frames: impl IntoIterator<Item = (Seq, String)>) -> Self {
        let mut timeline = Self::new(len);
        for (seq, text) in frames {
            let event = wire::read_event(&text);
            timeline.push(Entry {
                seq,
                bytes: text.into(),
                event,
            });
        }
        timeline
    }

    /// The kept frames with their seqs, oldest first (for a stored snapshot).
    pub fn frames(&self) -> impl Iterator<Item = (Seq, &str)> {
        self.history.iter().map(|e| (e.seq, e.bytes.as_str()))
    }

    fn push(&mut self, entry: Entry) {
        self.history.push_back(entry);
        while self.history.len() > self.len {
            self.history.pop_front();
        }
    }

    /// Withdraw the message at `target`: its frame in the history loses its words,
    /// and so does what is kept of it. Any other event stays as it is.
    fn redact(&mut self, target: Seq) {
        let Some(entry) = self.history.iter_mut().find(|e| e.seq == target) else {
            return;
        };
        let redacted = entry.event.as_ref().and_then(wire::redacted_message);
        if let Some(frame) = redacted {
            entry.bytes = wire::encode(&frame).bytes;
            entry.event = None;
        }
    }

    /// Put the content warning `cw` on the kept message at `target`: a history given
    /// from now on shows it collapsed behind it, as the room's clients show it after
    /// the `cw` event. Any other event, or a message withdrawn, stays as it is.
    fn warn(&mut self, target: Seq, cw: &str) {
        let Some(entry) = self.history.iter_mut().find(|e| e.seq == target) else {
            return;
        };
        if let Some(event) = &mut entry.event
            && let EventKind::Message { cw: warning, .. } = &mut event.kind
        {
            *warning = Some(cw.to_owned());
            entry.bytes = wire::encode(&wire::event_frame(event)).bytes;
        }
    }

    /// The message at `target` and up to `before` messages before it, oldest first, as
    /// they read now (for a report). Empty when the kept history no longer reaches
    /// `target`; `NotFound` when `target` is not a message (another event, or a
    /// message already withdrawn).
    pub fn quotes(&self, target: Seq, before: usize) -> Result<Vec<Quote>, Rejection> {
        let Some(at) = self.history.iter().position(|e| e.seq == target) else {
            return Ok(Vec::new());
        };
        let quote = |e: &Entry| e.event.as_ref().and_then(wire::quote);
        let reported = quote(&self.history[at]).ok_or(Rejection::NotFound)?;
        let mut quotes: Vec<Quote> = self
            .history
            .iter()
            .take(at)
            .rev()
            .filter_map(quote)
            .take(before)
            .collect();
        quotes.reverse();
        quotes.push(reported);
        Ok(quotes)
    }

    /// Keep the events of one applied command and hand each to this instance's
    /// members (`hub`; none while a replica is rebuilt out of their sight), in order,
    /// then everything else it caused for anyone but its sender (alerts, whispers,
    /// warnings, notices: `private_effects`) and whose stay it ended
    /// (`departures`). Each event is encoded once. The one route out of the room:
    /// the sender's session answers only its sender.
    pub fn record(&mut self, hub: Option<&Hub>, room: RoomId, applied: &Applied) {
        // A session's debrief goes before its `closed`, which ends every connection.
        if let (Some(hub), Some(debrief)) = (hub, &applied.debrief) {
            let frame = wire::encode(&wire::debrief(debrief));
            hub.deliver(room, Audience::Facilitators, &frame, Effect::None);
        }
        for event in &applied.events {
            let encoded = wire::encode(&wire::event_frame(event));
            match &event.kind {
                EventKind::Redacted { target } => self.redact(*target),
                EventKind::Cw { target, cw } => self.warn(*target, cw),
                _ => {}
            }
            self.push(Entry {
                seq: event.seq,
                bytes: encoded.bytes.clone(),
                event: Some(event.clone()),
            });
            if let Some(hub) = hub {
                hub.deliver(room, Audience::Room, &encoded, effect_of(&event.kind));
            }
            if let EventKind::Closed { .. } = event.kind {
                // The session is over: what was said in it is not kept.
                self.history.clear();
            }
        }
        if let Some(hub) = hub {
            private_effects(hub, room, applied);
            departures(hub, room, applied);
        }
    }

    /// Let `peer` in as the room stands now, and what it is shown: the room, in the
    /// same step (under the room's lock, where every delivery happens too) that finds
    /// its member in the room, so no event, ban or departure can fall between the
    /// check and the admission; or the waiting room, which shows nothing of the room.
    /// `NotMember` if they are neither (their stay ended while the connection was
    /// arriving) or the connection was told to go meanwhile.
    pub fn arrival(
        &self,
        room: &Room,
        peer: &Peer,
        epoch: Epoch,
        resume: Option<ResumeFrom>,
        recent: usize,
    ) -> Result<Snapshot, Rejection> {
        if room.is_waiting(peer.user) {
            if !peer.wait() {
                return Err(Rejection::NotMember);
            }
            return Ok(waiting(room, peer.user));
        }
        if room.member(peer.user).is_none() || !peer.enter() {
            return Err(Rejection::NotMember);
        }
        Ok(self.snapshot(room, peer.user, epoch, resume, recent))
    }

    /// The room as `user`, arriving now, sees it: the replay after `resume` when the
    /// kept history reaches back to it in the same epoch, else the `recent` latest
    /// events with `resume: "reset"` (or `"fresh"` when no resume was asked for).
    ///
    /// What is shared in the room stays with those who were there: a participant is
    /// given nothing from before they joined (their `joined` is the first event they
    /// may see; a resume from before it is a reset). Facilitators are given the
    /// recent history, for the context they need.
    pub fn snapshot(
        &self,
        room: &Room,
        user: UserId,
        epoch: Epoch,
        resume: Option<ResumeFrom>,
        recent: usize,
    ) -> Snapshot {
        let head = room.head();
        let floor = room
            .member(user)
            .filter(|m| m.role == Role::Participant)
            .map_or(0, |m| m.joined_seq);
        // With an empty history the replay can start only after the head.
        let oldest = self.history.front().map_or(head + 1, |e| e.seq).max(floor);
        let visible = self.history.iter().filter(|e| e.seq >= floor).count();
        let recent_from = self.history.len() - visible.min(recent);
        let (resume, backlog): (ResumeKind, Vec<Encoded>) = match resume {
            Some(r) if r.epoch == epoch && r.last_seq <= head && r.last_seq + 1 >= oldest => (
                ResumeKind::Resumed,
                self.history
                    .iter()
                    .filter(|e| e.seq > r.last_seq)
                    .map(Entry::encoded)
                    .collect(),
            ),
            Some(_) => (
                ResumeKind::Reset,
                self.history
                    .iter()
                    .skip(recent_from)
                    .map(Entry::encoded)
                    .collect(),
            ),
            None => (
                ResumeKind::Fresh,
                self.history
                    .iter()
                    .skip(recent_from)
                    .map(Entry::encoded)
                    .collect(),
            ),
        };
        Snapshot {
            summary: summary(room),
            members: room.member_infos(),
            state: room.state(),
            policy: room.config.policy,
            seq: head,
            epoch,
            resume,
            backlog,
            waiting: false,
            stepped_out: None,
            cw_topics: room.config.cw_topics.clone(),
            moods: room.mood_board(user),
        }
    }
}

/// What someone in the waiting room is shown: what the public directory shows of the
/// room (its title, description, guidelines, schedule) and that they are waiting;
/// nothing of who is inside or what happens there (no members, announcement, floor or
/// history). Nothing to resume from either: a client that offers this seq and epoch
/// after it is let in is given a reset. Someone a facilitator asked out of the room
/// is given the facilitator's note to them.
fn waiting(room: &Room, user: UserId) -> Snapshot {
    Snapshot {
        summary: summary(room),
        members: Vec::new(),
        state: RoomState {
            open: room.is_open(),
            waiting_room: true,
            ..RoomState::default()
        },
        policy: ContentPolicy::default(),
        seq: 0,
        epoch: 0,
        resume: ResumeKind::Fresh,
        backlog: Vec::new(),
        waiting: true,
        stepped_out: room.stepped_out(user).cloned(),
        cw_topics: room.config.cw_topics.clone(),
        moods: None,
    }
}

/// Every connection of everyone whose stay the command ended goes, on every instance
/// that folds it, whatever stage the connection is at (in the room, waiting, or still
/// arriving): the one place the rule "every socket accounted for" is kept. Frames
/// queued before (their own `left`, a denial) are still written; nothing after.
fn departures(hub: &Hub, room: RoomId, applied: &Applied) {
    for d in &applied.departures {
        let kick = match d.why {
            Parting::Left => Kick::Left,
            // Not counted anywhere any more: reconnecting lets them in again.
            Parting::Disconnected => Kick::Resync,
            Parting::Removed => Kick::Removed,
            Parting::Dismissed => Kick::Dismissed,
            Parting::Banned => Kick::Banned,
            Parting::Denied => Kick::Denied,
        };
        hub.evict(room, d.user, kick);
    }
}

/// What every instance tells its own connections of a command besides its events,
/// for anyone but the sender's own answer: who is turned away from the waiting room,
/// a muted member why; for the facilitators, a check-in or check-out, a knock, the waiting list, the moderation
/// log's new entries, an alert (crisis, check-in, report), a message held for review
/// or flagged; a warning and its acknowledgement to its member and the facilitators;
/// a whisper to its audience; the author of a held message its outcome. The one place
/// the rule "one route out of the room" is kept: every replica computes the same
/// [`Applied`] from the same entry, so what is delivered here reaches each connection
/// once, in the room's order, on whichever instance it is (a push Redis dropped is
/// read again from the log and delivered then). Nothing here needs to cross instances.
fn private_effects(hub: &Hub, room: RoomId, applied: &Applied) {
    let tell = |audience: Audience, frame: &ServerFrame| {
        hub.deliver(room, audience, &wire::encode(frame), Effect::None);
    };
    let denied = applied
        .departures
        .iter()
        .filter(|d| d.why == Parting::Denied);
    for &crate::room::Departure { user, .. } in denied {
        tell(Audience::User(user), &wire::denied());
    }
    if let Some(notice) = &applied.mute_notice {
        tell(Audience::User(notice.user), &wire::mute_notice(notice));
    }
    // A mood is the facilitators' alone: not even its author's other tabs.
    if let Some(notice) = &applied.mood {
        tell(Audience::Facilitators, &wire::mood(notice));
    }
    if let Some(knock) = &applied.knock {
        tell(
            Audience::Facilitators,
            &wire::knock_alert(knock.since, knock),
        );
    }
    if let Some(members) = &applied.waiting_list {
        tell(Audience::Facilitators, &wire::waiting_list(members));
    }
    if !applied.logged.is_empty() {
        tell(Audience::Facilitators, &wire::mod_log(&applied.logged));
    }
    // Kept open in the room: a facilitator who is not connected now is given it on
    // arrival. A resend whose card was never confirmed raises it again.
    if let Some(alert) = &applied.alert {
        tell(Audience::Facilitators, &wire::alert(alert));
    }
    if let Some(held) = &applied.held {
        match applied.settled {
            None if !applied.duplicate => tell(Audience::Facilitators, &wire::held_alert(held)),
            None => {}
            Some(settled) => tell(Audience::User(held.user), &settlement(held, settled)),
        }
    }
    if let Some(frame) = flagged(applied) {
        tell(Audience::Facilitators, &frame);
    }
    if let Some(w) = applied.whisper.as_ref().filter(|w| w.waiting) {
        // A note to everyone waiting: to each of them and the facilitators alone.
        let frame = wire::encode(&wire::whisper(w, false));
        hub.deliver(room, Audience::Facilitators, &frame, Effect::None);
        for &user in &applied.waiting_audience {
            hub.deliver(room, Audience::User(user), &frame, Effect::None);
        }
    } else if let Some(w) = &applied.whisper {
        // Kept because no facilitator is connected: only its author's tabs are told
        // now; the facilitators are given it when they arrive.
        let audience = if w.kept {
            Audience::User(w.from)
        } else {
            Audience::UserAndFacilitators(w.to.unwrap_or(w.from))
        };
        tell(audience, &wire::whisper(w, false));
    }
    if let Some(w) = &applied.warning {
        tell(
            Audience::UserAndFacilitators(w.user),
            &wire::warning(w, false),
        );
    }
    // Every tab of theirs puts the note away; the facilitators see it was read.
    if let Some(w) = &applied.acknowledged {
        tell(
            Audience::UserAndFacilitators(w.user),
            &wire::warning(w, true),
        );
    }
}

/// The answer to the `send` a held message's author was waiting on: its ack once
/// released, `filtered` once declined.
fn settlement(held: &Held, settled: Settled) -> ServerFrame {
    match settled {
        Settled::Released { seq } => wire::ack(held.client_id.clone(), Some(seq)),
        Settled::Declined => wire::declined(held.client_id.clone()),
    }
}

/// The facilitators' notice of a message the content policy flagged (delivered as
/// written), pointing at the message as the room numbered it.
fn flagged(applied: &Applied) -> Option<ServerFrame> {
    if applied.flagged.is_empty() {
        return None;
    }
    let seq = applied.ack?;
    applied.events.iter().find_map(|e| match &e.kind {
        EventKind::Message { user, name, .. } if e.seq == seq => Some(wire::flagged_alert(
            e.ts,
            seq,
            *user,
            name,
            &applied.flagged,
        )),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(seq: Seq, name: &str, text: &str) -> Event {
        Event {
            seq,
            ts: 1_000 * seq,
            kind: EventKind::Message {
                user: UserId::new(),
                name: name.into(),
                text: text.into(),
                cw: None,
            },
        }
    }

    fn withdrawal(seq: Seq, target: Seq) -> Event {
        Event {
            seq,
            ts: 1_000 * seq,
            kind: EventKind::Redacted { target },
        }
    }

    fn record(timeline: &mut Timeline, events: Vec<Event>) {
        let applied = Applied {
            events,
            ..Applied::default()
        };
        timeline.record(None, RoomId::new(), &applied);
    }

    fn texts(quotes: &[Quote]) -> Vec<&str> {
        quotes.iter().map(|q| q.text.as_str()).collect()
    }

    fn stored(timeline: &Timeline) -> Vec<(Seq, String)> {
        timeline.frames().map(|(s, t)| (s, t.to_owned())).collect()
    }

    /// Ash, Bo, a raised hand, Cy and Di; then Bo's message is withdrawn.
    fn a_conversation() -> Timeline {
        let mut timeline = Timeline::new(10);
        let hand = Event {
            seq: 3,
            ts: 3_000,
            kind: EventKind::Hand {
                user: UserId::new(),
                raised: true,
            },
        };
        let events = vec![
            said(1, "Ash", "one"),
            said(2, "Bo", "two"),
            hand,
            said(4, "Cy", "four"),
            said(5, "Di", "five"),
        ];
        record(&mut timeline, events);
        record(&mut timeline, vec![withdrawal(6, 2)]);
        timeline
    }

    #[test]
    fn a_report_quotes_the_kept_messages_as_they_read_now() {
        let timeline = a_conversation();
        let quotes = timeline.quotes(5, 3).unwrap();
        assert_eq!(
            texts(&quotes),
            ["one", "four", "five"],
            "no hand, no withdrawn"
        );
        assert_eq!(timeline.quotes(2, 3), Err(Rejection::NotFound), "withdrawn");
        assert_eq!(timeline.quotes(3, 3), Err(Rejection::NotFound), "a hand");
        assert_eq!(timeline.quotes(40, 3), Ok(Vec::new()), "beyond the history");
        let (_, withdrawn) = timeline.frames().nth(1).unwrap();
        let Ok(ServerFrame::Message {
            seq,
            name,
            text,
            redacted,
            ..
        }) = serde_json::from_str(withdrawn)
        else {
            panic!("still a message: {withdrawn}");
        };
        assert_eq!(
            (seq, name.as_str(), text.as_str(), redacted),
            (2, "Bo", "", true)
        );
    }

    #[test]
    fn a_warning_after_the_fact_covers_the_kept_message_and_stays_an_event_of_its_own() {
        let mut timeline = a_conversation();
        let cover = |seq, target| Event {
            seq,
            ts: 1_000 * seq,
            kind: EventKind::Cw {
                target,
                cw: "self-harm".into(),
            },
        };
        // Cy's message, and Bo's, which was withdrawn: that one stays without words.
        record(&mut timeline, vec![cover(7, 4), cover(8, 2)]);
        let frames: Vec<ServerFrame> = timeline
            .frames()
            .map(|(_, t)| serde_json::from_str(t).unwrap())
            .collect();
        let warned = |seq: Seq| {
            frames.iter().find_map(|f| match f {
                ServerFrame::Message {
                    seq: s, cw, text, ..
                } if *s == seq => Some((cw.clone(), text.clone())),
                _ => None,
            })
        };
        assert_eq!(warned(4), Some((Some("self-harm".into()), "four".into())));
        assert_eq!(warned(2), Some((None, String::new())), "withdrawn stays so");
        assert_eq!(
            warned(5),
            Some((None, "five".into())),
            "the others as they were"
        );
        let events: Vec<Seq> = frames
            .iter()
            .filter(|f| matches!(f, ServerFrame::Cw { .. }))
            .filter_map(ServerFrame::seq)
            .collect();
        assert_eq!(
            events,
            [7, 8],
            "a resume after the message still hears of it"
        );
        // A report quotes the message with its warning; a restored replica reads it.
        assert_eq!(
            timeline.quotes(4, 0).unwrap()[0].cw.as_deref(),
            Some("self-harm")
        );
        let restored = Timeline::restore(10, stored(&timeline));
        assert_eq!(restored.quotes(4, 0), timeline.quotes(4, 0));
    }

    #[test]
    fn a_timeline_restored_from_its_frames_answers_as_the_one_it_was_stored_from() {
        let mut live = a_conversation();
        let mut restored = Timeline::restore(10, stored(&live));
        assert_eq!(
            stored(&restored),
            stored(&live),
            "the stored text, byte for byte"
        );
        for target in 1..=7 {
            assert_eq!(
                restored.quotes(target, 3),
                live.quotes(target, 3),
                "{target}"
            );
        }
        record(&mut live, vec![withdrawal(7, 4)]);
        record(&mut restored, vec![withdrawal(7, 4)]);
        assert_eq!(stored(&restored), stored(&live), "withdrawn alike");
        assert_eq!(texts(&restored.quotes(5, 3).unwrap()), ["one", "five"]);
    }
}
