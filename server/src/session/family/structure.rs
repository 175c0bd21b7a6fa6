//! The structured group from a member's side: a `pass` (a go-around's turn given on,
//! or the floor given back), `queue {on}` (asking to share) and `step_away {on}` ("I
//! need a minute", which a go-around and the queue pass over). Each is a command for
//! the room, answered to its sender only when refused, like a hand; the `round`,
//! `floor` and `queue` events reach everyone from the room's fold. A facilitator's
//! script actions are `mod` actions (`moderation.rs`); a script they send has its
//! texts normalised here first. A participant's `checkin` and `checkout` (their mood,
//! for the facilitators alone) are answered the same way: only when refused, a mood
//! outside 1 to 5 or words past their bound before anything reaches the room.

use kindred_protocol::Phase;
use kindred_protocol::checkin::{MAX_MOOD_WORDS_CHARS, is_mood};
use kindred_protocol::script::{MAX_PHASE_NAME_CHARS, MAX_PROMPT_CHARS, MAX_READING_CHARS};

use crate::room::Command;
use crate::safety::{TextError, normalize_message};
use crate::session::intake::optional_text;
use crate::session::{Conn, Live};
use crate::wire;

impl Live {
    pub(in crate::session) async fn pass(&mut self, conn: &mut Conn) -> Result<(), axum::Error> {
        let cmd = Command::Pass { user: self.user };
        self.apply_quietly(conn, cmd).await
    }

    pub(in crate::session) async fn ask_to_share(
        &mut self,
        conn: &mut Conn,
        on: bool,
    ) -> Result<(), axum::Error> {
        let cmd = Command::Queue {
            user: self.user,
            on,
        };
        self.apply_quietly(conn, cmd).await
    }

    pub(in crate::session) async fn step_away(
        &mut self,
        conn: &mut Conn,
        on: bool,
    ) -> Result<(), axum::Error> {
        let cmd = Command::StepAway {
            user: self.user,
            on,
        };
        self.apply_quietly(conn, cmd).await
    }

    /// A check-in (`checkout` false) or check-out. The words are never logged.
    pub(in crate::session) async fn mood(
        &mut self,
        conn: &mut Conn,
        checkout: bool,
        mood: u8,
        words: Option<String>,
    ) -> Result<(), axum::Error> {
        if !is_mood(mood) {
            return self.reply(conn, &wire::not_a_mood()).await;
        }
        let words = optional_text(words, MAX_MOOD_WORDS_CHARS);
        let Some(words) = self.checked(conn, None, words).await? else {
            return Ok(());
        };
        let cmd = Command::Mood {
            user: self.user,
            checkout,
            mood,
            words,
        };
        self.apply_quietly(conn, cmd).await
    }
}

/// A script's texts normalised as a message's are (control and bidi characters
/// refused, each within its bound); an empty prompt stays empty.
pub(in crate::session) fn script_texts(
    script: Option<Vec<Phase>>,
) -> Result<Option<Vec<Phase>>, TextError> {
    let Some(phases) = script else {
        return Ok(None);
    };
    phases
        .into_iter()
        .map(|p| {
            let prompt = if p.prompt.is_empty() {
                p.prompt
            } else {
                normalize_message(&p.prompt, MAX_PROMPT_CHARS)?
            };
            Ok(Phase {
                name: normalize_message(&p.name, MAX_PHASE_NAME_CHARS)?,
                prompt,
                reading: optional_text(p.reading, MAX_READING_CHARS)?,
                ..p
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
