//! The structured group's state: the room's session script (kept like its settings,
//! through every session), the phase the group is in, a go-around's order and the
//! sharing queue (both ending with the phase, all of it with the session). The rules
//! that move through them are `state/structure.rs`; this file holds the values, the
//! script that ships and the check every script passes.

use std::collections::BTreeMap;

use kindred_protocol::script::{
    MAX_PHASE_MINUTES, MAX_PHASE_NAME_CHARS, MAX_PHASES, MAX_PROMPT_CHARS, MAX_READING_CHARS,
    MAX_SCRIPT_CHARS, MAX_TURN_SECONDS, MIN_TURN_SECONDS,
};
use kindred_protocol::{Millis, Phase, PhaseKind, TurnDone, UserId};
use serde::{Deserialize, Serialize};

/// The opening a facilitator reads with one tap.
pub const OPENING_READING: &str = "\
Welcome, and thank you for being here. This is a peer-support group: we share our own \
experience, and we listen without judging, fixing or advising.\n\
What is shared here stays here. Use only the name you chose.\n\
It's OK not to share: listening is participating. In a go-around you can always pass.\n\
If you are in danger right now, please contact your local emergency number or a crisis \
line; the \"Need help now\" button lists them.";

/// The closing a facilitator reads with one tap.
pub const CLOSING_READING: &str = "\
Thank you all for coming and for what you shared tonight. Whatever you heard here stays \
here. Be gentle with yourself this week; if things get hard, reach out to someone you \
trust or a crisis line. We hope to see you next time.";

/// The script a room starts with, in the spirit of NAMI Connection and DBSA groups.
pub fn default_script() -> Vec<Phase> {
    let phase = |name: &str, prompt: &str, minutes, kind, turn_seconds| Phase {
        name: name.to_owned(),
        prompt: prompt.to_owned(),
        minutes: Some(minutes),
        kind,
        reading: None,
        turn_seconds,
    };
    vec![
        Phase {
            reading: Some(OPENING_READING.to_owned()),
            ..phase(
                "Welcome and guidelines",
                "Welcome. Settle in; the facilitator reads the group's guidelines.",
                5,
                PhaseKind::Open,
                None,
            )
        },
        phase(
            "Check-in",
            "How are you arriving tonight? It's OK not to share: you can pass.",
            15,
            PhaseKind::Round,
            Some(120),
        ),
        phase(
            "Open sharing",
            "Ask to share when you are ready. Listening is participating.",
            45,
            PhaseKind::Queue,
            Some(300),
        ),
        phase(
            "Check-out",
            "One word for how you leave.",
            10,
            PhaseKind::Round,
            Some(60),
        ),
        Phase {
            reading: Some(CLOSING_READING.to_owned()),
            ..phase(
                "Closing",
                "Thank you for being here tonight.",
                5,
                PhaseKind::Open,
                None,
            )
        },
    ]
}

/// Whether a script may be a room's: at least one phase and at most [`MAX_PHASES`],
/// each named, every text and number within its bounds. The admin API and a
/// facilitator's `set_script` are answered with the first problem found, a sentence.
pub fn check_script(phases: &[Phase]) -> Result<(), &'static str> {
    if phases.is_empty() {
        return Err("a script needs at least one phase");
    }
    if phases.len() > MAX_PHASES {
        return Err("a script has at most 24 phases");
    }
    for p in phases {
        if p.name.trim().is_empty() {
            return Err("every phase needs a name");
        }
        if p.name.chars().count() > MAX_PHASE_NAME_CHARS {
            return Err("a phase's name is at most 60 characters");
        }
        if p.prompt.chars().count() > MAX_PROMPT_CHARS {
            return Err("a phase's prompt is at most 500 characters");
        }
        if p.reading.as_ref().is_some_and(|r| r.trim().is_empty()) {
            return Err("a phase's reading, when given, is not empty");
        }
        if p.reading
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_READING_CHARS)
        {
            return Err("a phase's reading is at most 4000 characters");
        }
        if p.minutes.is_some_and(|m| m == 0 || m > MAX_PHASE_MINUTES) {
            return Err("a phase's minutes are from 1 to 240");
        }
        if p.turn_seconds
            .is_some_and(|s| !(MIN_TURN_SECONDS..=MAX_TURN_SECONDS).contains(&s))
        {
            return Err("a phase's turn_seconds are from 10 to 1800");
        }
    }
    let total: usize = phases
        .iter()
        .map(|p| {
            p.name.chars().count()
                + p.prompt.chars().count()
                + p.reading.as_ref().map_or(0, |r| r.chars().count())
        })
        .sum();
    if total > MAX_SCRIPT_CHARS {
        return Err(
            "a script's names, prompts and readings hold at most 12000 characters together",
        );
    }
    Ok(())
}

/// The structured group as a room keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Structure {
    /// The room's script, which outlives its sessions.
    pub(in crate::room) script: Vec<Phase>,
    /// The phase the group is in, if the facilitator has started the script.
    #[serde(default)]
    pub(in crate::room) current: Option<Current>,
    /// The go-around of the current `round` phase.
    #[serde(default)]
    pub(in crate::room) round: Option<GoAround>,
    /// The sharing queue of the current `queue` phase, first to share first.
    #[serde(default)]
    pub(in crate::room) queue: Vec<UserId>,
}

impl Default for Structure {
    fn default() -> Self {
        Self {
            script: default_script(),
            current: None,
            round: None,
            queue: Vec::new(),
        }
    }
}

impl Structure {
    /// The same script, nothing of a session.
    pub(in crate::room) fn between_sessions(&self) -> Self {
        Self {
            script: self.script.clone(),
            ..Self::default()
        }
    }

    /// The current phase, if any, and its place.
    pub(in crate::room) fn phase(&self) -> Option<(usize, &Phase)> {
        let c = self.current.as_ref()?;
        self.script.get(c.index).map(|p| (c.index, p))
    }

    /// The current phase's kind, `Open` when none is current.
    pub(in crate::room) fn kind(&self) -> PhaseKind {
        self.phase().map_or(PhaseKind::Open, |(_, p)| p.kind)
    }
}

/// The current phase: its place in the script and its planned end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Current {
    pub(in crate::room) index: usize,
    pub(in crate::room) until: Option<Millis>,
    /// Everyone has been told its planned time is up.
    pub(in crate::room) time_up: bool,
}

/// A go-around: who is in it, in order, and how each turn went.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GoAround {
    pub(in crate::room) order: Vec<UserId>,
    pub(in crate::room) done: BTreeMap<UserId, TurnDone>,
    /// Whose turn it is.
    pub(in crate::room) holder: Option<UserId>,
    pub(in crate::room) ended: bool,
}
