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

/// A room's content policy. Default: flag slurs and harassment to facilitators, and
/// ask the author before means, method or graphic detail reaches the room.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(default)]
pub struct ContentPolicy {
    pub mode: PolicyMode,
    pub kinds: Kinds,
    /// The guardrail: what happens to means, method, graphic detail and doses.
    pub guard: GuardMode,
}

/// What the room does with a participant's message that describes what peer-support
/// groups ask members not to share: the means or method of harming oneself, graphic
/// detail of self-harm or trauma, a substance with a dose (the guardrail). Kept in the
/// room's [`ContentPolicy`] (`guard`), shown to members with the rest of it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum GuardMode {
    /// Nothing is asked or held: the message goes to the room.
    Off,
    /// Before anything reaches the room, the author is asked (`error` `consider`)
    /// whether to add a content warning, send it to the facilitators only, edit it,
    /// or send it as it is.
    #[default]
    Ask,
    /// The message waits for a facilitator, as a held message does.
    Hold,
}

/// What the guardrail found in a message.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum GuardCategory {
    /// The means or method of suicide or self-harm with a detail that makes it usable:
    /// a quantity, a place, an instruction ("I've saved up 40 of my pills").
    Method,
    /// Graphic detail of self-harm or of a trauma.
    Graphic,
    /// A substance taken or to be taken in a quantity meant to harm (not a dose in
    /// treatment: "my dose went up to 100mg" is not this).
    Dose,
}

impl GuardCategory {
    /// The wire name, e.g. `"method"`.
    pub fn as_str(self) -> &'static str {
        match self {
            GuardCategory::Method => "method",
            GuardCategory::Graphic => "graphic",
            GuardCategory::Dose => "dose",
        }
    }

    /// The content warning Kindred adds when the author chooses one without words of
    /// their own.
    pub fn warning(self) -> &'static str {
        match self {
            GuardCategory::Method => "mentions means of self-harm",
            GuardCategory::Graphic => "graphic detail",
            GuardCategory::Dose => "mentions medication amounts",
        }
    }
}

/// An author's answer to `consider`, on the `send` that follows it (`guard`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GuardChoice {
    /// Send behind a content warning: the `send`'s `cw`, or the category's own.
    Cw,
    /// Send as it is; the facilitators are told what the guardrail found.
    AsIs,
}

/// The choices a `consider` refusal offers, in the order a client shows them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GuardOffer {
    /// Add a content warning and send (`send` with `guard: "cw"`).
    Cw,
    /// Send to the facilitators only: a `whisper` without `to` (a facilitated room).
    Facilitators,
    /// Edit the message: nothing is sent.
    Edit,
    /// Send as it is (`send` with `guard: "as_is"`).
    AsIs,
}
