//! What can be asked of a room: its commands, a facilitator's moderation request, and
//! what the session found in a message before it came (crisis detection, screening).

use kindred_protocol::policy::{ContentPolicy, GuardCategory, GuardChoice};
use kindred_protocol::{
    ClientId, CrisisCategory, InviteId, ModAction, Phase, Quote, Reaction, Role, Seq, UserId,
};
use serde::{Deserialize, Serialize};

use crate::room::bans::{Mark, Origin};
use crate::room::invites::InviteRecord;
use crate::room::state::config::UpdateRoom;

use crate::safety::Verdict;

/// A command to the room. Each names its actor; the actor's role is the one the
/// room recorded when they connected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// A connection with a valid token arrives (first connection or another one).
    Connect {
        user: UserId,
        name: String,
        role: Role,
        session: u32,
        /// Where the join that minted the token came from.
        #[serde(default)]
        origin: Origin,
        /// They said this is their first time here (their `hello`): facilitators
        /// learn it, nobody else.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        first_time: bool,
    },
    /// A connection dropped without `leave`.
    Disconnect {
        user: UserId,
    },
    /// The member leaves for good.
    Leave {
        user: UserId,
    },
    Send {
        user: UserId,
        client_id: ClientId,
        text: String,
        cw: Option<String>,
        /// The detector recognised the text (this kind of language, this urgent): no
        /// policy may alter or hold it, and the facilitators are alerted even if the
        /// room refuses the message.
        crisis: Option<Concern>,
        /// The content policy's verdict, reached outside the room's lock (rustrict
        /// is slow) under the policy named here. Used when that is still the room's
        /// policy; otherwise the room decides again.
        screened: Option<Screened>,
        /// What the guardrail found in the text (outside the room's lock, like
        /// crisis detection) and the author's answer to it, if they gave one.
        #[serde(default)]
        guard: Guarded,
    },
    Hand {
        user: UserId,
        raised: bool,
    },
    /// The member gives the floor back: a pass in a go-around.
    Pass {
        user: UserId,
    },
    /// The member asks to share in a `queue` phase, or stops waiting.
    Queue {
        user: UserId,
        on: bool,
    },
    /// "I need a minute" (`on`), or back from it.
    StepAway {
        user: UserId,
        on: bool,
    },
    /// A participant tells the facilitators how they arrive (`checkout` false) or
    /// leave: a mood from 1 to 5 and a few words, already normalised.
    Mood {
        user: UserId,
        checkout: bool,
        mood: u8,
        #[serde(default)]
        words: Option<String>,
    },
    React {
        user: UserId,
        target: Seq,
        emoji: Reaction,
    },
    /// A member reports the message at `target` to the facilitators. `context` is
    /// that message and up to three before it, read from the room's history by the
    /// caller (the room keeps no text), so every replica keeps the same quotes.
    Report {
        user: UserId,
        target: Seq,
        reason: Option<String>,
        #[serde(default)]
        context: Vec<Quote>,
    },
    /// A member whispers (a facilitator to `to` or to the other facilitators, a
    /// participant to the facilitators): kept for the session, and delivered on every
    /// instance by the one delivery step ([`Applied::whisper`](super::Applied::whisper)).
    Whisper {
        user: UserId,
        to: Option<UserId>,
        #[serde(default)]
        text: String,
        /// The detector recognised a participant's whisper: the facilitators are given
        /// an alert, kept like any other (and for a crisis, its author the card).
        #[serde(default)]
        crisis: Option<Concern>,
    },
    /// A member tells the facilitators they are worried about `subject`, quoting
    /// the subject's message at `seq` (read from the room's history by the caller).
    Concern {
        user: UserId,
        subject: UserId,
        seq: Option<Seq>,
        #[serde(default)]
        quote: Option<Quote>,
    },
    /// A facilitator's note to everyone in the waiting room: kept for the session
    /// (someone who knocks later is given it too) and delivered to each person
    /// waiting and the facilitators, never to the room.
    WaitingNote {
        user: UserId,
        #[serde(default)]
        text: String,
    },
    /// A member has read a warning: a participant their resources card (`alert`
    /// absent), a facilitator the open alert `alert`, which is then handled.
    AckWarning {
        user: UserId,
        alert: Option<u64>,
    },
    Moderate {
        actor: UserId,
        request: ModRequest,
    },
    /// Time passed: expire grace periods, mutes and the floor.
    Tick,
    /// The operator minted a facilitator invite: keep its record.
    Invite {
        invite: InviteRecord,
    },
    /// A join spends one use of an invite; `user` will hold the seat it gives,
    /// bound to the browser that sent a seat key (its pseudonym and the key's mark).
    Redeem {
        invite: InviteId,
        user: UserId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seat: Option<(String, Mark)>,
    },
    /// A facilitator asked to use their seat on another device: a one-time code
    /// (its mark) binds one more browser until `expires_at`.
    OpenSeatCode {
        user: UserId,
        name: String,
        code: Mark,
        expires_at: kindred_protocol::Millis,
    },
    /// A device opened a seat's one-time code: the code is spent, and the seat is
    /// bound to that device's key (its mark) too.
    TakeSeatCode {
        code: Mark,
        key: Mark,
    },
    /// The on-call supervisor joins from the on-call board: `user` takes a
    /// facilitator's seat of its own (an invite record `seat`, used once), shown as
    /// `name`, and the moderation log says they are joining.
    OnCallSeat {
        user: UserId,
        name: String,
        seat: InviteId,
    },
    /// The operator took an invite back: it stops working and its seats end.
    Revoke {
        invite: InviteId,
    },
    /// The operator removes a member, a facilitator included; a facilitator's seat
    /// ends, so their token no longer connects.
    Dismiss {
        user: UserId,
    },
    /// The operator changed the room's settings (the admin API's `PATCH`).
    Configure(Box<UpdateRoom>),
    /// The operator deleted the room: its session closes for good, and the room
    /// refuses every command after it.
    Delete,
}

/// What the detector found in a message (`safety::Detector`): what kind of crisis,
/// whether it is one (the card and a crisis alert) or a reason to check in (an alert
/// ranked below, no card), and, when the classifier rather than a phrase rule found
/// it, how sure it was (a percentage).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredConcern")]
pub struct Concern {
    pub category: CrisisCategory,
    pub check_in: bool,
    pub likelihood: Option<u8>,
}

impl Concern {
    /// A crisis a phrase rule found.
    pub fn rule(category: CrisisCategory) -> Self {
        Self {
            category,
            check_in: false,
            likelihood: None,
        }
    }
}

impl From<crate::safety::Detection> for Concern {
    fn from(d: crate::safety::Detection) -> Self {
        Concern {
            category: d.category,
            check_in: d.tier == crate::safety::Tier::CheckIn,
            likelihood: match d.basis {
                crate::safety::Basis::Rule => None,
                crate::safety::Basis::Model { likelihood } => Some(likelihood),
            },
        }
    }
}

/// A concern as stored: entries logged before the tiers name only the category.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredConcern {
    Category(CrisisCategory),
    Concern {
        category: CrisisCategory,
        #[serde(default)]
        check_in: bool,
        #[serde(default)]
        likelihood: Option<u8>,
    },
}

impl From<StoredConcern> for Concern {
    fn from(stored: StoredConcern) -> Self {
        match stored {
            StoredConcern::Category(category) => Concern::rule(category),
            StoredConcern::Concern {
                category,
                check_in,
                likelihood,
            } => Concern {
                category,
                check_in,
                likelihood,
            },
        }
    }
}

/// A facilitator's moderation command; which fields each action uses is listed on
/// [`ModAction`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModRequest {
    pub action: ModAction,
    pub user: Option<UserId>,
    pub seq: Option<Seq>,
    pub seconds: Option<u32>,
    pub reason: Option<String>,
    pub text: Option<String>,
    pub held: Option<u64>,
    pub policy: Option<ContentPolicy>,
    pub on: Option<bool>,
    pub report: Option<u64>,
    /// For `escalate`: the open alert to call on-call about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<u64>,
    /// For `deny`: ban them too (by their user id and the marks their join carried).
    #[serde(default)]
    pub ban: bool,
    /// For `phase` and `post_reading`: a phase's place in the script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// For `set_script`: the new script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<Vec<Phase>>,
    /// For `cw`: the content warning to put on the message at `seq`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cw: Option<String>,
}

impl ModRequest {
    /// A request with only the action set.
    pub fn new(action: ModAction) -> Self {
        Self {
            action,
            user: None,
            seq: None,
            seconds: None,
            reason: None,
            text: None,
            held: None,
            policy: None,
            on: None,
            report: None,
            alert: None,
            ban: false,
            index: None,
            script: None,
            cw: None,
        }
    }
}

/// The guardrail's finding on a message and the author's answer to an earlier
/// `consider`, as the session brings them to the room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guarded {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<GuardCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<GuardChoice>,
}

/// A content-policy verdict and the policy it was reached under.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Screened {
    pub policy: ContentPolicy,
    pub verdict: Verdict,
}
