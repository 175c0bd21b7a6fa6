//! Who may do what: one table, one function.

use kindred_protocol::{ModAction, Role};

/// Everything a member can ask of a room that a role may or may not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Send,
    Typing,
    Hand,
    React,
    Report,
    /// Whisper to a facilitator.
    WhisperFacilitators,
    /// Whisper to any member (a private check-in), or to someone waiting.
    WhisperAnyone,
    /// A note to everyone in the waiting room.
    NoteWaiting,
    /// A check-in or check-out: a participant's, for the facilitators.
    CheckIn,
    Moderate(ModAction),
}

/// The permission table. Exhaustive on purpose: a new action or role does not
/// compile until someone decides who may do it.
pub fn authorize(role: Role, action: Action) -> bool {
    match (role, action) {
        (
            Role::Participant | Role::Facilitator,
            Action::Send
            | Action::Typing
            | Action::Hand
            | Action::React
            | Action::Report
            | Action::WhisperFacilitators,
        ) => true,
        (Role::Facilitator, Action::WhisperAnyone | Action::NoteWaiting | Action::Moderate(_)) => {
            true
        }
        (Role::Participant, Action::WhisperAnyone | Action::NoteWaiting | Action::Moderate(_)) => {
            false
        }
        (Role::Participant, Action::CheckIn) => true,
        (Role::Facilitator, Action::CheckIn) => false,
    }
}
