//! The checker: reads every member's record after the run and names each broken
//! promise in a line a person can follow.
//!
//! - **lost**: an acknowledged message (epoch, seq) that a member does not hold at
//!   the end although its final view covers that seq in that epoch, or whose epoch
//!   was left behind without a `reset` (into another epoch) reaching that member
//!   after the ack;
//! - **two contents**: one (epoch, seq) carrying different events for two members
//!   (or in an ack and a frame);
//! - **duplicate**: one member given the same message twice, or one seq twice, within
//!   one view (a `reset` starts a new view; a `resumed` welcome continues it);
//! - **muted but accepted**: a message of the muted member at a seq after an
//!   acknowledged mute with no `unmuted` between, in the same epoch;
//! - **after leaving**: a frame on a socket after that socket was told, live, that its
//!   own user left;
//! - **order**: a frame out of PROTOCOL.md's order, or one that does not parse;
//! - **final markers not heard**: a member that never heard every member's last word
//!   after everything was healed (refused, ejected, or never reconnected).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use kindred_protocol::{Epoch, ResumeKind, Seq, UserId};

use super::record::{Event, Record, Seen, Sent};

/// What a run amounted to, for the summary line.
#[derive(Debug, Default)]
pub struct Tally {
    pub acked: usize,
    pub welcomes: usize,
    pub resets: usize,
    pub epochs: usize,
}

/// One member's view between two non-`resumed` welcomes.
struct View {
    epoch: Epoch,
    events: BTreeMap<Seq, String>,
}

/// An acknowledged command, as its author was told.
struct Acked {
    who: String,
    conn: u32,
    what: Sent,
    epoch: Epoch,
    seq: Seq,
    at: Duration,
}

/// Check every record; the failures (empty when every promise held) and the tally.
pub fn check(records: &[Record], markers: &[String], target: UserId) -> (Vec<String>, Tally) {
    let mut failures = Failures::default();
    let mut tally = Tally::default();
    let acked = acknowledged(records);
    tally.acked = acked
        .iter()
        .filter(|a| matches!(a.what, Sent::Message(_)))
        .count();

    // One content per (epoch, seq), across every member and every ack.
    let mut contents: BTreeMap<(Epoch, Seq), (String, String)> = BTreeMap::new();
    let mut epochs = HashSet::new();
    let mut claim = |failures: &mut Failures, key: (Epoch, Seq), what: String, who: &str| {
        epochs.insert(key.0);
        match contents.get(&key) {
            Some((had, by)) if *had != what => failures.add(
                "two contents",
                format!(
                    "epoch {} seq {}: {by} has {had}, {who} has {what}",
                    key.0, key.1
                ),
            ),
            Some(_) => {}
            None => {
                contents.insert(key, (what, who.to_owned()));
            }
        }
    };
    for a in &acked {
        let what = match &a.what {
            Sent::Message(text) => format!("message {text:?}"),
            Sent::Mute(_) => "muted".to_owned(),
            Sent::Unmute(_) => "unmuted".to_owned(),
        };
        claim(
            &mut failures,
            (a.epoch, a.seq),
            what,
            &format!("{}'s ack on connection {}", a.who, a.conn),
        );
    }
    let mut finals: HashMap<&str, View> = HashMap::new();
    for r in records {
        let mut view: Option<View> = None;
        let mut gone_on: Option<(u32, Duration)> = None;
        let mut reported_after_leaving = false;
        for (at, seen) in &r.events {
            if let (Some((conn, when)), Some(c)) = (gone_on, seen.conn())
                && c == conn
                && !matches!(seen, Seen::Closed { .. })
                && !reported_after_leaving
            {
                reported_after_leaving = true;
                failures.add(
                    "after leaving",
                    format!(
                        "{} was told at {when:.1?} that they left, and their socket stayed \
                         open: at {at:.1?} it got {seen:?}",
                        r.name
                    ),
                );
            }
            match seen {
                Seen::Welcome { epoch, resume, .. } => {
                    tally.welcomes += 1;
                    let continues = *resume == ResumeKind::Resumed;
                    match &view {
                        Some(v) if continues && v.epoch != *epoch => failures.add(
                            "order",
                            format!(
                                "{} resumed from epoch {} into epoch {epoch} at {at:.1?}",
                                r.name, v.epoch
                            ),
                        ),
                        Some(_) if continues => {}
                        _ => {
                            if *resume == ResumeKind::Reset {
                                tally.resets += 1;
                            }
                            view = Some(View {
                                epoch: *epoch,
                                events: BTreeMap::new(),
                            });
                        }
                    }
                }
                Seen::Timeline {
                    conn,
                    epoch,
                    seq,
                    backlog,
                    event,
                } => {
                    let what = event.describe();
                    let who = format!("{} on connection {conn}", r.name);
                    claim(&mut failures, (*epoch, *seq), what.clone(), &who);
                    if let Some(v) = view.as_mut() {
                        if let Some(had) = v.events.get(seq) {
                            failures.add(
                                "duplicate",
                                format!(
                                    "{} was given seq {seq} (epoch {epoch}) twice: {had}, then \
                                     {what} at {at:.1?}",
                                    r.name
                                ),
                            );
                        } else if matches!(event, Event::Message { .. })
                            && let Some((s, _)) = v.events.iter().find(|(_, w)| **w == what)
                        {
                            failures.add(
                                "duplicate",
                                format!(
                                    "{} was given {what} twice in epoch {epoch}: at seq {s} and \
                                     at seq {seq} ({at:.1?})",
                                    r.name
                                ),
                            );
                        }
                        v.events.insert(*seq, what);
                    }
                    if let Event::Left { user } = event
                        && *user == r.user
                        && !backlog
                    {
                        gone_on = Some((*conn, *at));
                    }
                }
                Seen::Violation { what, .. } => {
                    failures.add("order", format!("{} at {at:.1?}: {what}", r.name));
                }
                _ => {}
            }
        }
        if let Some(v) = view {
            finals.insert(&r.name, v);
        }
    }
    tally.epochs = epochs.len();

    // Nothing acknowledged is lost without a reset that says so.
    for a in acked.iter().filter(|a| matches!(a.what, Sent::Message(_))) {
        let Sent::Message(text) = &a.what else {
            continue;
        };
        let what = format!("message {text:?}");
        for r in records {
            let Some(view) = finals.get(r.name.as_str()) else {
                continue;
            };
            if view.epoch == a.epoch {
                let (Some(lo), Some(hi)) = (view.events.keys().next(), view.events.keys().last())
                else {
                    continue;
                };
                if (*lo..=*hi).contains(&a.seq) && view.events.get(&a.seq) != Some(&what) {
                    failures.add(
                        "lost",
                        format!(
                            "{what} by {} was acknowledged at epoch {} seq {} ({:.1?}); {} ends \
                             holding seqs {lo}..={hi} of that epoch without it (has {:?} there)",
                            a.who,
                            a.epoch,
                            a.seq,
                            a.at,
                            r.name,
                            view.events.get(&a.seq)
                        ),
                    );
                }
            } else if !view.events.values().any(|w| *w == what) {
                // Gone from a view in another epoch (a message carried into the new
                // epoch at another seq is held, not lost).
                let announced = r.events.iter().any(|(at, seen)| {
                    matches!(seen, Seen::Welcome { epoch, resume: ResumeKind::Reset | ResumeKind::Fresh, .. }
                        if *epoch != a.epoch && *at >= a.at)
                });
                if !announced {
                    failures.add(
                        "lost",
                        format!(
                            "{what} by {} was acknowledged at epoch {} seq {} ({:.1?}); {} ends \
                             in epoch {} and no reset after that ack told them it was lost",
                            a.who, a.epoch, a.seq, a.at, r.name, view.epoch
                        ),
                    );
                }
            }
        }
    }

    // After an acknowledged mute, no message of the muted member until an unmute.
    let mutes: Vec<&Acked> = acked
        .iter()
        .filter(|a| matches!(a.what, Sent::Mute(_)))
        .collect();
    let mut of_target: HashSet<(Epoch, Seq)> = acked
        .iter()
        .filter(|a| matches!(a.what, Sent::Message(_)))
        .filter(|a| records.iter().any(|r| r.user == target && r.name == a.who))
        .map(|a| (a.epoch, a.seq))
        .collect();
    for r in records {
        for (_, seen) in &r.events {
            if let Seen::Timeline {
                epoch,
                seq,
                event: Event::Message { user, .. },
                ..
            } = seen
                && *user == target
            {
                of_target.insert((*epoch, *seq));
            }
        }
    }
    for ((epoch, seq), (what, by)) in &contents {
        if !of_target.contains(&(*epoch, *seq)) || !what.starts_with("message ") {
            continue;
        }
        for m in mutes.iter().filter(|m| m.epoch == *epoch && m.seq < *seq) {
            let lifted = contents
                .range((*epoch, m.seq + 1)..(*epoch, *seq))
                .any(|(_, (w, _))| w == "unmuted");
            if !lifted {
                let left = format!("left of {target}");
                let rejoined = contents
                    .range((*epoch, m.seq + 1)..(*epoch, *seq))
                    .any(|(_, (w, _))| *w == left);
                let how = if rejoined {
                    " (they were removed as disconnected and joined again in between: the \
                     mute did not outlast that)"
                } else {
                    ""
                };
                failures.add(
                    "muted but accepted",
                    format!(
                        "{what} (epoch {epoch} seq {seq}, seen by {by}) came after the mute \
                         acknowledged at seq {} ({:.1?}) with no unmute between{how}",
                        m.seq, m.at
                    ),
                );
                break;
            }
        }
    }

    // Everyone heard everyone's last word once everything was healed.
    for r in records {
        let heard: HashSet<&str> = r
            .events
            .iter()
            .filter_map(|(_, s)| match s {
                Seen::Timeline {
                    event: Event::Message { text, .. },
                    ..
                } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let missing: Vec<&String> = markers
            .iter()
            .filter(|m| !heard.contains(m.as_str()))
            .collect();
        if !missing.is_empty() {
            let tail: Vec<String> = r
                .events
                .iter()
                .rev()
                .take(4)
                .rev()
                .map(|(at, s)| format!("{at:.1?} {s:?}"))
                .collect();
            failures.add(
                "final markers not heard",
                format!(
                    "{} did not hear {missing:?}; their last entries: {}",
                    r.name,
                    tail.join("; ")
                ),
            );
        }
    }
    (failures.lines(), tally)
}

/// Every acknowledged command with a seq, matched to what was sent.
fn acknowledged(records: &[Record]) -> Vec<Acked> {
    let mut out = Vec::new();
    for r in records {
        let mut sent: HashMap<&str, &Sent> = HashMap::new();
        for (at, seen) in &r.events {
            match seen {
                Seen::Sent {
                    client_id, what, ..
                } => {
                    sent.insert(client_id, what);
                }
                Seen::Acked {
                    conn,
                    client_id,
                    seq: Some(seq),
                    epoch,
                } => {
                    if let Some(what) = sent.get(client_id.as_str()) {
                        out.push(Acked {
                            who: r.name.clone(),
                            conn: *conn,
                            what: (*what).clone(),
                            epoch: *epoch,
                            seq: *seq,
                            at: *at,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Failures by kind, a few of each shown.
#[derive(Default)]
struct Failures {
    by_kind: BTreeMap<&'static str, Vec<String>>,
}

const SHOWN: usize = 4;

impl Failures {
    fn add(&mut self, kind: &'static str, line: String) {
        self.by_kind.entry(kind).or_default().push(line);
    }

    fn lines(self) -> Vec<String> {
        let mut out = Vec::new();
        for (kind, lines) in self.by_kind {
            out.push(format!("{kind}: {} case(s)", lines.len()));
            for line in lines.iter().take(SHOWN) {
                out.push(format!("    {line}"));
            }
            if lines.len() > SHOWN {
                out.push(format!("    … and {} more", lines.len() - SHOWN));
            }
        }
        out
    }
}
