//! What a facilitator can do to the room (`mod`), and the end of a session.

use kindred_protocol::{LeftReason, LogEntry, Millis, ModAction, Role, UserId};

use super::{Applied, EventKind, ModRequest, ModStatus, Rejection, Room, Settled};
use crate::room::log;

impl Room {
    fn bounded_seconds(&self, seconds: Option<u32>) -> Result<Option<u32>, Rejection> {
        match seconds {
            Some(s) if s > self.limits().max_moderation_seconds => {
                Err(Rejection::BadRequest("seconds is longer than allowed"))
            }
            other => Ok(other),
        }
    }

    pub(super) fn moderate(
        &mut self,
        actor: UserId,
        request: ModRequest,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let ModRequest {
            action,
            user,
            seq,
            seconds,
            reason,
            text,
            held,
            policy,
            on,
            report,
            alert,
            ban,
            index,
            script,
            cw,
        } = request;
        let seconds = self.bounded_seconds(seconds)?;
        let mut out = Applied::none();
        // The participant a member-directed action aims at; facilitators are not
        // muted, removed or banned by each other.
        let target = |room: &Room| -> Result<UserId, Rejection> {
            let user = user.ok_or(Rejection::BadRequest("this action needs `user`"))?;
            match room.members.get(&user).map(|m| m.role) {
                None => Err(Rejection::NotFound),
                Some(Role::Facilitator) => Err(Rejection::Forbidden),
                Some(Role::Participant) => Ok(user),
            }
        };
        match action {
            ModAction::Mute => {
                let user = target(self)?;
                let until = seconds.map(|s| now + u64::from(s) * 1000);
                if let Some(m) = self.members.get_mut(&user) {
                    m.status = ModStatus::Muted { until };
                    m.mute_reason.clone_from(&reason);
                }
                // The room hears only that and until when; the reason is theirs.
                self.push(&mut out, now, EventKind::Muted { user, until });
                out.mute_notice = Some(super::MuteNotice {
                    user,
                    until,
                    reason,
                });
            }
            ModAction::Unmute => {
                let user = target(self)?;
                if let Some(m) = self.members.get_mut(&user)
                    && m.status != ModStatus::Active
                {
                    m.status = ModStatus::Active;
                    m.mute_reason = None;
                    self.push(&mut out, now, EventKind::Unmuted { user });
                }
            }
            ModAction::Pause => {
                if !self.paused {
                    self.paused = true;
                    self.push(&mut out, now, EventKind::Paused { reason });
                }
            }
            ModAction::Resume => {
                if self.paused {
                    self.paused = false;
                    self.push(&mut out, now, EventKind::Resumed);
                }
            }
            ModAction::Open => return Ok(self.set_open(true, now)),
            ModAction::Warn => {
                let user = target(self)?;
                let reason =
                    reason
                        .filter(|r| !r.trim().is_empty())
                        .ok_or(Rejection::BadRequest(
                            "warn needs `reason`: a note says why",
                        ))?;
                let name = self.members.get(&user).map(|m| m.name.clone());
                let warning = super::Warning {
                    id: self.next_id(),
                    ts: now,
                    user,
                    name: name.unwrap_or_default(),
                    reason: Some(reason),
                };
                self.warnings.insert(user, warning.clone());
                out.warning = Some(warning);
            }
            ModAction::Close => return Ok(self.close_session(reason, now)),
            ModAction::Remove => {
                let user = target(self)?;
                self.remove_member(user, LeftReason::Removed, now, &mut out);
            }
            ModAction::Ban => {
                let user = target(self)?;
                let origin = self
                    .members
                    .get(&user)
                    .map(|m| m.origin.clone())
                    .unwrap_or_default();
                // The same person under another pseudonym, from the same device, goes
                // too (an address is shared by strangers: it only keeps newcomers out).
                let mut banned: Vec<(u64, UserId)> = self
                    .members
                    .values()
                    .filter(|m| {
                        m.user == user
                            || (m.role == Role::Participant
                                && origin.device.is_some()
                                && m.origin.device == origin.device)
                    })
                    .map(|m| (m.joined_seq, m.user))
                    .collect();
                banned.sort_unstable();
                for (_, user) in banned {
                    self.bans.ban(user, &origin);
                    self.remove_member(user, LeftReason::Banned, now, &mut out);
                    // They cannot come back to resend anything.
                    self.sent.forget(user);
                }
            }
            ModAction::StepOut => {
                let user = target(self)?;
                let note = text.filter(|t| !t.trim().is_empty());
                self.step_out(user, note, now, &mut out)?;
            }
            ModAction::Redact => {
                let target = seq.ok_or(Rejection::BadRequest("redact needs `seq`"))?;
                if target == 0 || target > self.seq {
                    return Err(Rejection::NotFound);
                }
                self.push(&mut out, now, EventKind::Redacted { target });
            }
            ModAction::Cw => {
                let target = seq.ok_or(Rejection::BadRequest("cw needs `seq`"))?;
                let cw = cw
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .ok_or(Rejection::BadRequest("cw needs `cw`: the topic to warn of"))?;
                if target == 0 || target > self.seq {
                    return Err(Rejection::NotFound);
                }
                if !self.messages.contains(&target) {
                    return Err(Rejection::BadRequest(
                        "a content warning goes on a message that is still shown",
                    ));
                }
                self.push(&mut out, now, EventKind::Cw { target, cw });
            }
            ModAction::SlowMode => {
                let seconds = seconds.unwrap_or(0);
                if seconds != self.slow_mode_seconds {
                    self.slow_mode_seconds = seconds;
                    self.push(&mut out, now, EventKind::SlowMode { seconds });
                }
            }
            ModAction::Lock | ModAction::Unlock => {
                let locked = action == ModAction::Lock;
                if locked != self.locked {
                    self.locked = locked;
                    self.push(&mut out, now, EventKind::Locked { locked });
                }
            }
            ModAction::Floor => {
                let user = user.ok_or(Rejection::BadRequest("floor needs `user`"))?;
                if !self.members.contains_key(&user) {
                    return Err(Rejection::NotFound);
                }
                let secs = seconds.unwrap_or(self.limits().default_floor_seconds);
                let until = now + u64::from(secs) * 1000;
                self.floor = Some((user, until));
                if let Some(m) = self.members.get_mut(&user) {
                    m.hand_raised = false;
                }
                self.push(
                    &mut out,
                    now,
                    EventKind::Floor {
                        user: Some(user),
                        until: Some(until),
                    },
                );
            }
            ModAction::ClearFloor => {
                if self.floor.take().is_some() {
                    self.push(
                        &mut out,
                        now,
                        EventKind::Floor {
                            user: None,
                            until: None,
                        },
                    );
                }
            }
            ModAction::LowerHand => {
                let user = user.ok_or(Rejection::BadRequest("lower_hand needs `user`"))?;
                let m = self.members.get_mut(&user).ok_or(Rejection::NotFound)?;
                if m.hand_raised {
                    m.hand_raised = false;
                    self.push(
                        &mut out,
                        now,
                        EventKind::Hand {
                            user,
                            raised: false,
                        },
                    );
                }
            }
            ModAction::Announce => {
                let text = text
                    .filter(|t| !t.trim().is_empty())
                    .ok_or(Rejection::BadRequest("announce needs `text`"))?;
                self.announcement = Some(text.clone());
                self.push(&mut out, now, EventKind::Announcement { text });
            }
            ModAction::Release => {
                // Whether or not its author is still here: what they wrote is theirs,
                // a facilitator decided the room may see it, and their resend of it
                // (if they come back) finds the seq it got.
                let id = held.ok_or(Rejection::BadRequest("release needs `held`"))?;
                let message = self.held.remove(&id).ok_or(Rejection::NotFound)?;
                let seq = self.push(
                    &mut out,
                    now,
                    EventKind::Message {
                        user: message.user,
                        name: message.name.clone(),
                        text: message.text.clone(),
                        cw: message.cw.clone(),
                    },
                );
                self.remember_send(message.user, message.client_id.clone(), seq, false);
                self.count_share(message.user, message.text.chars().count(), now);
                out.ack = Some(seq);
                out.held = Some(message);
                out.settled = Some(Settled::Released { seq });
            }
            ModAction::Decline => {
                let id = held.ok_or(Rejection::BadRequest("decline needs `held`"))?;
                out.held = Some(self.held.remove(&id).ok_or(Rejection::NotFound)?);
                out.settled = Some(Settled::Declined);
            }
            ModAction::SetPolicy => {
                let policy = policy.ok_or(Rejection::BadRequest("set_policy needs `policy`"))?;
                return Ok(self.set_policy(policy, now));
            }
            ModAction::WaitingRoom => {
                let on = on.ok_or(Rejection::BadRequest("waiting_room needs `on`"))?;
                self.set_waiting_room(on, now, &mut out);
            }
            ModAction::Admit => {
                let user = user.ok_or(Rejection::BadRequest("admit needs `user`"))?;
                self.admit(user, now, &mut out)?;
            }
            ModAction::AdmitAll => self.admit_all(now, &mut out),
            ModAction::Deny => {
                let user = user.ok_or(Rejection::BadRequest("deny needs `user`"))?;
                if !self.deny(user, ban, &mut out) {
                    return Err(Rejection::NotFound);
                }
            }
            ModAction::Shield => {
                let on = on.ok_or(Rejection::BadRequest("shield needs `on`"))?;
                self.set_shield(on, now, &mut out);
            }
            ModAction::Resolve => {
                let id = report.ok_or(Rejection::BadRequest("resolve needs `report`"))?;
                if self.held.contains_key(&id) {
                    return Err(Rejection::BadRequest(
                        "a held message is released or declined, not resolved",
                    ));
                }
                let alert = self.alerts.handle(id).ok_or(Rejection::NotFound)?;
                self.tally.handled(crate::room::tally::kind_of(&alert));
            }
            ModAction::Escalate => return self.escalate(actor, alert, now),
            ModAction::OnCallJoined => {
                return Err(Rejection::BadRequest(
                    "on_call_joined is what the log says when on-call joins, not an action",
                ));
            }
            ModAction::Phase
            | ModAction::NextPhase
            | ModAction::NextTurn
            | ModAction::MoveUp
            | ModAction::PostReading
            | ModAction::SetScript => {
                let steer = super::structure::Steer {
                    user,
                    index,
                    script,
                };
                self.steer(action, steer, now, &mut out)?;
            }
        }
        Ok(out)
    }

    /// The moderation log's entry for `request` by `actor`, as things stand before it
    /// is carried out (the member acted on may be gone after).
    pub(super) fn log_entry(&self, actor: UserId, request: &ModRequest, now: Millis) -> LogEntry {
        let by_name = self
            .members
            .get(&actor)
            .map(|m| m.name.clone())
            .unwrap_or_default();
        let mut entry = log::entry(now, (actor, by_name), request.action);
        entry.user = request.user;
        entry.name = request.user.and_then(|u| {
            self.members
                .get(&u)
                .map(|m| m.name.clone())
                .or_else(|| self.waiting.get(&u).map(|w| w.name.clone()))
        });
        entry.reason.clone_from(&request.reason);
        entry.seq = request.seq;
        entry.seconds = request.seconds;
        entry.held = request.held;
        entry.alert = request.report.or(request.alert);
        entry.on = match request.action {
            ModAction::Lock => Some(true),
            ModAction::Unlock => Some(false),
            _ => request.on,
        };
        // Turned away and banned in one step: the log says what holds, a ban.
        if request.action == ModAction::Deny && request.ban {
            entry.action = ModAction::Ban;
        }
        entry
    }

    /// Keep a successful action's entry (the moderation log of a session that just
    /// ended is gone with it, so a close is not kept).
    pub(super) fn log_action(&mut self, mut entry: LogEntry, out: &mut Applied) {
        if entry.action == ModAction::Close {
            return;
        }
        if entry.action == ModAction::Release {
            entry.seq = out.ack;
        }
        out.logged.push(self.log.record(entry));
    }

    /// End the session: everyone is told and leaves, and the room stays closed until a
    /// facilitator (or the operator) opens the next one, which starts empty. Bans and
    /// the room's settings stay. Used by a facilitator's `close`, by the admin API's
    /// `open: false`, and when a room is deleted.
    pub(in crate::room) fn close_session(
        &mut self,
        reason: Option<String>,
        now: Millis,
    ) -> Applied {
        let mut out = Applied::none();
        out.debrief = self.debrief(now).map(Box::new);
        let seq = self.push(&mut out, now, EventKind::Closed { reason });
        out.ack = Some(seq);
        self.session += 1;
        self.open = false;
        self.stop_watching();
        self.drop_shield();
        self.warnings.clear();
        self.members.clear();
        self.waiting.clear();
        self.whispers.clear();
        self.log.clear();
        self.escalations.clear();
        self.moods.clear();
        self.tally = crate::room::tally::Tally::default();
        self.bans.end_session();
        self.invites.end_session(now);
        self.paused = false;
        self.locked = false;
        self.slow_mode_seconds = 0;
        self.floor = None;
        self.announcement = None;
        self.structure = self.structure.between_sessions();
        self.held.clear();
        // Everything kept for the session goes with it (its tokens stop working).
        self.alerts.clear();
        self.sent.clear();
        self.reactions.clear();
        self.reports.clear();
        self.messages.clear();
        self.clear_air();
        out
    }
}
