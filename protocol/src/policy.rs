//! A room's content policy, as the admin API and facilitators set it and as
//! `welcome` and `policy` events show it. The server decides with it what happens to
//! abuse aimed at others; members' words of disclosure are never touched.

use serde::{Deserialize, Serialize};

/// What the room does with a message that meets the policy.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PolicyMode {
    /// No filtering at all.
    Off,
    /// Deliver unchanged; tell the facilitators privately.
    #[default]
    Flag,
    /// Deliver with the offending words starred out.
    Censor,
    /// Deliver only to facilitators, who release or decline it; the sender is told it is
    /// waiting.
    Hold,
}

/// Which kinds of content count.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(default)]
pub struct Kinds {
    /// Swearing (moderate or worse: "damn" and "hell" are everyday speech here).
    pub profanity: bool,
    /// Sexual content (moderate or worse).
    pub sexual: bool,
    /// Slurs and hate.
    pub offensive: bool,
    /// Harassment aimed at someone ("kys", "kill yourself"); milder "mean" words are
    /// mostly members being hard on themselves and do not count.
    pub mean: bool,
}

impl Default for Kinds {
    /// Abuse aimed at others: slurs and harassment.
    fn default() -> Self {
        Self {
            profanity: false,
            sexual: false,
            offensive: true,
            mean: true,
        }
    }
}

impl Kinds {
    /// Every kind enabled.
    pub const ALL: Kinds = Kinds {
        profanity: true,
        sexual: true,
        offensive: true,
        mean: true,
    };
}

/// A room's content policy. Default: flag slurs and harassment to facilitators.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(default)]
pub struct ContentPolicy {
    pub mode: PolicyMode,
    pub kinds: Kinds,
}
