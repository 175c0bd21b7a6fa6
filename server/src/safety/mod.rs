//! Safety: the pure decisions the session makes about what a member typed, before it
//! reaches the room.
//!
//! On the map this sits beside `room/` as part of the core: no IO, no async, no clock
//! reads, so every rule here is a function tested with tables. The session calls, in
//! order:
//! 1. [`text::normalize_message`] — refuse text that would break other members' screens;
//! 2. [`crisis::CrisisMatcher::detect`] — someone may be at risk: deliver the message as
//!    written, send the author the [`resources::ResourcesCard`], alert the facilitators;
//! 3. [`guard::Guard::detect`] — means, method, graphic detail or a dose, which the
//!    room's guardrail asks the author about or holds (crisis help goes out regardless);
//! 4. [`policy::Evaluate::evaluate_with_crisis`] — the room's policy on abuse aimed
//!    at others (flag, censor or hold), which never touches words of disclosure or
//!    identity and never censors or holds a crisis message.
//!
//! Crisis detection and content filtering are separate on purpose: rustrict is built to
//! hide words, and crisis language must never be hidden.

pub mod budget;
pub mod classifier;
pub mod crisis;
pub mod guard;
pub mod linear;
pub mod policy;
pub mod resources;
pub mod text;

pub use budget::Budget;
pub use classifier::{Basis, Detection, Detector, Tier};
pub use crisis::{CrisisDataError, CrisisMatcher};
pub use guard::Guard;
pub use policy::{ContentPolicy, Evaluate, Kinds, PolicyMode, Verdict, kind_names};
pub use resources::ResourcesCard;
pub use text::{NameLook, TextError, normalize_message, normalize_name};

/// Prepares the shared tables (crisis phrases, the customised rustrict trie) at start-up,
/// so the first message of the day does not pay for them.
pub fn init() {
    let _ = crisis::builtin_ref();
    let _ = guard::shipped();
    policy::init();
}
