//! The structured group: the facilitator moving through the session script, the
//! go-around of a `round` phase (the floor passing from member to member, a pass, a
//! turn whose time ran out), the sharing queue of a `queue` phase, and a phase's
//! planned time running out. Every change is a timeline event (`phase`, `round`,
//! `queue`, `script`, and the `floor` an older client already shows), so it reaches
//! everyone by the one delivery step and a late joiner's `welcome` shows where the
//! group is ([`Room::script_view`]).

use kindred_protocol::{Millis, Seq};
use kindred_protocol::{
    ModAction, Phase, PhaseKind, PhaseNow, Queued, Role, RoundNow, ScriptView, Turn, TurnDone,
    UserId,
};

use super::{Applied, Member, Presence, Rejection, Room};
use crate::room::event::EventKind;
use crate::room::script::{Current, GoAround, check_script};

/// Whether a member can take a turn now: connected, and not stepping away ("I need a
/// minute"). A member who is not keeps their place in a round or the queue and is
/// passed over meanwhile. The one place that decides it.
fn here(m: &Member) -> bool {
    matches!(m.presence, Presence::Online { .. }) && !m.stepping_away
}

/// What a facilitator's structured-group action carries besides its name.
pub(super) struct Steer {
    pub(super) user: Option<UserId>,
    pub(super) index: Option<u32>,
    pub(super) script: Option<Vec<Phase>>,
}

impl Room {
    /// The script, the current phase, its round and its queue, as `welcome` shows them.
    pub fn script_view(&self) -> ScriptView {
        ScriptView {
            phases: self.structure.script.clone(),
            current: self.phase_now(),
            round: self.structure.round.as_ref().map(|r| self.round_now(r)),
            queue: self.queued(),
        }
    }

    fn phase_now(&self) -> Option<PhaseNow> {
        let c = self.structure.current.as_ref()?;
        let p = self.structure.script.get(c.index)?;
        Some(PhaseNow {
            index: u32::try_from(c.index).unwrap_or(u32::MAX),
            name: p.name.clone(),
            prompt: p.prompt.clone(),
            kind: p.kind,
            until: c.until,
            time_up: c.time_up,
        })
    }

    fn round_now(&self, round: &GoAround) -> RoundNow {
        RoundNow {
            turns: round
                .order
                .iter()
                .filter_map(|u| self.members.get(u))
                .map(|m| Turn {
                    user: m.user,
                    name: m.name.clone(),
                    done: round.done.get(&m.user).copied(),
                })
                .collect(),
            ended: round.ended,
        }
    }

    fn queued(&self) -> Vec<Queued> {
        self.structure
            .queue
            .iter()
            .filter_map(|u| self.members.get(u))
            .map(|m| Queued {
                user: m.user,
                name: m.name.clone(),
            })
            .collect()
    }

    /// A facilitator's `phase`, `next_phase`, `next_turn`, `move_up`, `post_reading`
    /// or `set_script`.
    pub(super) fn steer(
        &mut self,
        action: ModAction,
        steer: Steer,
        now: Millis,
        out: &mut Applied,
    ) -> Result<(), Rejection> {
        match action {
            ModAction::Phase => {
                let index = steer
                    .index
                    .ok_or(Rejection::BadRequest("phase needs `index`"))?;
                self.go_to_phase(usize::try_from(index).unwrap_or(usize::MAX), now, out)
            }
            ModAction::NextPhase => {
                let next = self.structure.current.as_ref().map_or(0, |c| c.index + 1);
                if next >= self.structure.script.len() {
                    return Err(Rejection::BadRequest("this is the script's last phase"));
                }
                self.go_to_phase(next, now, out)
            }
            ModAction::NextTurn => match self.structure.kind() {
                PhaseKind::Round => {
                    if self.structure.round.as_ref().is_none_or(|r| r.ended) {
                        return Err(Rejection::BadRequest("everyone has had their turn"));
                    }
                    self.advance(Some(TurnDone::Shared), now, out);
                    Ok(())
                }
                PhaseKind::Queue => self.next_from_queue(now, out),
                PhaseKind::Open => Err(Rejection::NoTurns),
            },
            ModAction::MoveUp => {
                let user = steer
                    .user
                    .ok_or(Rejection::BadRequest("move_up needs `user`"))?;
                self.move_up(user, now, out)
            }
            ModAction::PostReading => {
                let index = match steer.index {
                    Some(i) => usize::try_from(i).unwrap_or(usize::MAX),
                    None => self
                        .structure
                        .current
                        .as_ref()
                        .map(|c| c.index)
                        .ok_or(Rejection::BadRequest("no phase is current: give `index`"))?,
                };
                let phase = self
                    .structure
                    .script
                    .get(index)
                    .ok_or(Rejection::NoSuchPhase)?;
                let text = phase
                    .reading
                    .clone()
                    .ok_or(Rejection::BadRequest("this phase has no reading"))?;
                self.announcement = Some(text.clone());
                self.push(out, now, EventKind::Announcement { text });
                Ok(())
            }
            ModAction::SetScript => {
                let script = steer
                    .script
                    .ok_or(Rejection::BadRequest("set_script needs `script`"))?;
                self.set_script(script, now, out)
            }
            _ => Err(Rejection::BadRequest("not a script action")),
        }
    }

    /// Replace the script (a facilitator's `set_script`, the operator's `script`): no
    /// phase is current after it.
    pub(super) fn set_script(
        &mut self,
        phases: Vec<Phase>,
        now: Millis,
        out: &mut Applied,
    ) -> Result<(), Rejection> {
        check_script(&phases).map_err(Rejection::BadScript)?;
        self.leave_phase(now, out);
        self.structure.script = phases.clone();
        self.push(out, now, EventKind::Script { phases });
        Ok(())
    }

    fn go_to_phase(
        &mut self,
        index: usize,
        now: Millis,
        out: &mut Applied,
    ) -> Result<(), Rejection> {
        let phase = self
            .structure
            .script
            .get(index)
            .cloned()
            .ok_or(Rejection::NoSuchPhase)?;
        self.leave_phase(now, out);
        let until = phase.minutes.map(|m| now + u64::from(m) * 60_000);
        self.structure.current = Some(Current {
            index,
            until,
            time_up: false,
        });
        if let Some(p) = self.phase_now() {
            self.push(out, now, EventKind::Phase(p));
        }
        match phase.kind {
            PhaseKind::Open => {}
            PhaseKind::Round => {
                self.tally.round();
                let mut order: Vec<(Seq, UserId)> = self
                    .members
                    .values()
                    .filter(|m| m.role == Role::Participant)
                    .map(|m| (m.joined_seq, m.user))
                    .collect();
                order.sort_unstable();
                self.structure.round = Some(GoAround {
                    order: order.into_iter().map(|(_, u)| u).collect(),
                    ..GoAround::default()
                });
                self.advance(Some(TurnDone::Shared), now, out);
            }
            PhaseKind::Queue => {
                // Hands raised become the queue, in the order their owners arrived.
                let mut raised: Vec<(Seq, UserId)> = self
                    .members
                    .values()
                    .filter(|m| m.hand_raised)
                    .map(|m| (m.joined_seq, m.user))
                    .collect();
                raised.sort_unstable();
                self.structure.queue = raised.into_iter().map(|(_, u)| u).collect();
                if !self.structure.queue.is_empty() {
                    self.push_queue(now, out);
                }
            }
        }
        Ok(())
    }

    /// The current phase ends: its round's turn with it (the floor opens), its queue.
    fn leave_phase(&mut self, now: Millis, out: &mut Applied) {
        if let Some(holder) = self.structure.round.take().and_then(|r| r.holder) {
            self.open_floor_of(holder, now, out);
        }
        self.structure.queue.clear();
        self.structure.current = None;
    }

    /// How long a turn lasts in the current phase.
    fn turn_ms(&self) -> Millis {
        let limits = self.limits();
        let seconds = self
            .structure
            .phase()
            .and_then(|(_, p)| p.turn_seconds)
            .unwrap_or(limits.default_floor_seconds)
            .min(limits.max_moderation_seconds);
        u64::from(seconds) * 1000
    }

    /// Give `user` the floor for one turn.
    fn give_turn(&mut self, user: UserId, now: Millis, out: &mut Applied) {
        let until = now + self.turn_ms();
        self.floor = Some((user, until));
        if let Some(m) = self.members.get_mut(&user) {
            m.hand_raised = false;
        }
        self.push(
            out,
            now,
            EventKind::Floor {
                user: Some(user),
                until: Some(until),
            },
        );
    }

    /// The go-around moves on: the holder's turn ends as `how` (`None`: put off, they
    /// keep their place), and the floor goes to the first member in order who has not
    /// had a turn and is here; when nobody is left, the round ends (a member still gone
    /// then has missed it).
    fn advance(&mut self, how: Option<TurnDone>, now: Millis, out: &mut Applied) {
        let Some(mut round) = self.structure.round.take() else {
            return;
        };
        let last = round.holder.take();
        if let (Some(holder), Some(how)) = (last, how) {
            round.done.insert(holder, how);
            self.tally.turn(how == TurnDone::Passed);
        }
        let next = round
            .order
            .iter()
            .copied()
            .find(|u| !round.done.contains_key(u) && self.members.get(u).is_some_and(here));
        match (next, last) {
            // The floor moves straight from one holder to the next.
            (Some(user), _) => {
                round.holder = Some(user);
                self.give_turn(user, now, out);
            }
            (None, Some(holder)) => {
                round.ended = true;
                self.open_floor_of(holder, now, out);
            }
            (None, None) => round.ended = true,
        }
        let now_round = self.round_now(&round);
        self.structure.round = Some(round);
        self.push(out, now, EventKind::Round(now_round));
    }

    /// A member's `pass`: in a go-around, their turn passes on (listening is
    /// participating); elsewhere, the floor they hold opens.
    pub(super) fn pass(&mut self, user: UserId, now: Millis) -> Result<Applied, Rejection> {
        let mut out = Applied::none();
        let holds_turn = self.structure.kind() == PhaseKind::Round
            && self
                .structure
                .round
                .as_ref()
                .is_some_and(|r| r.holder == Some(user));
        if holds_turn {
            self.advance(Some(TurnDone::Passed), now, &mut out);
        } else if self.floor.is_some_and(|(f, _)| f == user) {
            self.open_floor_of(user, now, &mut out);
        } else {
            return Err(Rejection::NotYourTurn);
        }
        Ok(out)
    }

    /// A member's `step_away {on}`: "I need a minute", or back from it. Meanwhile a
    /// go-around or the queue passes over them (`here`) and they keep their place, so
    /// once back they are next when the turn moves on; a turn or floor they held when
    /// they stepped away passes on. Saying it again changes nothing.
    pub(super) fn step_away(
        &mut self,
        user: UserId,
        on: bool,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        let m = self.members.get_mut(&user).ok_or(Rejection::NotMember)?;
        let mut out = Applied::none();
        if m.stepping_away == on {
            return Ok(out);
        }
        m.stepping_away = on;
        self.push(&mut out, now, EventKind::SteppingAway { user, on });
        if on {
            let holds_turn = self
                .structure
                .round
                .as_ref()
                .is_some_and(|r| r.holder == Some(user));
            if holds_turn {
                self.advance(None, now, &mut out);
            } else {
                self.open_floor_of(user, now, &mut out);
            }
        }
        Ok(out)
    }

    /// A member's `queue {on}`: asking to share in a `queue` phase is raising a hand
    /// (so an older client shows it), and the queue follows.
    pub(super) fn ask_to_share(
        &mut self,
        user: UserId,
        on: bool,
        now: Millis,
    ) -> Result<Applied, Rejection> {
        if self.structure.kind() != PhaseKind::Queue {
            return Err(Rejection::NoQueue);
        }
        let m = self.members.get_mut(&user).ok_or(Rejection::NotMember)?;
        let mut out = Applied::none();
        if m.hand_raised != on {
            m.hand_raised = on;
            self.push(&mut out, now, EventKind::Hand { user, raised: on });
        }
        self.hand_moved(user, on, now, &mut out);
        Ok(out)
    }

    /// A hand raised or lowered: in a `queue` phase, its owner joins the end of the
    /// queue or leaves it.
    pub(super) fn hand_moved(
        &mut self,
        user: UserId,
        raised: bool,
        now: Millis,
        out: &mut Applied,
    ) {
        if self.structure.kind() != PhaseKind::Queue {
            return;
        }
        let queue = &mut self.structure.queue;
        let at = queue.iter().position(|u| *u == user);
        let changed = match (raised, at) {
            (true, None) => {
                queue.push(user);
                true
            }
            (false, Some(i)) => {
                queue.remove(i);
                true
            }
            _ => false,
        };
        if changed {
            self.push_queue(now, out);
        }
    }

    fn push_queue(&mut self, now: Millis, out: &mut Applied) {
        let members = self.queued();
        self.push(out, now, EventKind::Queue { members });
    }

    /// The first member waiting who is here is given the floor and leaves the queue.
    fn next_from_queue(&mut self, now: Millis, out: &mut Applied) -> Result<(), Rejection> {
        let at = self
            .structure
            .queue
            .iter()
            .position(|u| self.members.get(u).is_some_and(here))
            .ok_or(Rejection::QueueEmpty)?;
        let user = self.structure.queue.remove(at);
        self.give_turn(user, now, out);
        self.push_queue(now, out);
        Ok(())
    }

    /// A facilitator moves `user` up: next in the go-around, first in the queue.
    fn move_up(&mut self, user: UserId, now: Millis, out: &mut Applied) -> Result<(), Rejection> {
        match self.structure.kind() {
            PhaseKind::Round => {
                let round = self.structure.round.as_mut().ok_or(Rejection::NoTurns)?;
                if round.ended || round.done.contains_key(&user) || round.holder == Some(user) {
                    return Err(Rejection::BadRequest(
                        "they have had their turn in this round",
                    ));
                }
                let at = round
                    .order
                    .iter()
                    .position(|u| *u == user)
                    .ok_or(Rejection::NotFound)?;
                round.order.remove(at);
                let next = round
                    .order
                    .iter()
                    .position(|u| !round.done.contains_key(u) && round.holder != Some(*u))
                    .unwrap_or(round.order.len());
                round.order.insert(next, user);
                let now_round = self.round_now(&self.structure.round.clone().unwrap_or_default());
                self.push(out, now, EventKind::Round(now_round));
            }
            PhaseKind::Queue => {
                let queue = &mut self.structure.queue;
                let at = queue
                    .iter()
                    .position(|u| *u == user)
                    .ok_or(Rejection::NotFound)?;
                queue.remove(at);
                queue.insert(0, user);
                self.push_queue(now, out);
            }
            PhaseKind::Open => return Err(Rejection::NoTurns),
        }
        Ok(())
    }

    /// A participant admitted during a go-around joins the end of it.
    pub(super) fn joined_round(&mut self, user: UserId, now: Millis, out: &mut Applied) {
        let Some(round) = self.structure.round.as_mut() else {
            return;
        };
        if round.ended || round.order.contains(&user) {
            return;
        }
        round.order.push(user);
        let now_round = self.round_now(&self.structure.round.clone().unwrap_or_default());
        self.push(out, now, EventKind::Round(now_round));
    }

    /// A member shown away (their connection dropped past the grace period): they keep
    /// their place in the queue, and a go-around turn they held passes on.
    pub(super) fn away_structure(&mut self, user: UserId, now: Millis, out: &mut Applied) {
        if self
            .structure
            .round
            .as_ref()
            .is_some_and(|r| r.holder == Some(user))
        {
            self.advance(Some(TurnDone::Shared), now, out);
        }
    }

    /// A member left the room: out of the queue, and their turn, if it was, passes on.
    pub(super) fn left_structure(&mut self, user: UserId, now: Millis, out: &mut Applied) {
        if self.structure.queue.contains(&user) {
            self.structure.queue.retain(|u| *u != user);
            self.push_queue(now, out);
        }
        self.away_structure(user, now, out);
    }

    /// Whether the current phase's planned time is up and not yet told.
    pub(super) fn phase_due(&self, now: Millis) -> bool {
        self.structure
            .current
            .as_ref()
            .is_some_and(|c| !c.time_up && c.until.is_some_and(|u| u <= now))
    }

    /// Time passing: a go-around turn whose time ran out passes on, and a phase whose
    /// planned time is up says so (everyone sees it; nothing else changes: the
    /// facilitator decides when to move on).
    pub(super) fn structure_tick(&mut self, now: Millis, out: &mut Applied) {
        let turn_over = self.structure.round.as_ref().is_some_and(|r| {
            r.holder
                .is_some_and(|h| self.floor.is_some_and(|(f, until)| f == h && until <= now))
        });
        if turn_over {
            self.advance(Some(TurnDone::Shared), now, out);
        }
        if self.phase_due(now) {
            if let Some(c) = self.structure.current.as_mut() {
                c.time_up = true;
            }
            if let Some(p) = self.phase_now() {
                self.push(out, now, EventKind::Phase(p));
            }
        }
    }
}
