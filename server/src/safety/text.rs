//! Normalising and bounding what members type, before anyone else sees it.
//!
//! A message is rendered in every member's client, so one member must not be able to
//! break the room for the others: no control characters, no bidirectional overrides that
//! make text read backwards or hide it, no "zalgo" stacks of combining marks that spill
//! over neighbouring lines, no screens of blank lines, and a bound on length. Text is put
//! in NFC so that the same words are the same bytes for the filters that follow.
//! Everything visible stays as the member wrote it.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Combining marks kept after one base character. Enough for any script's stacked
/// diacritics; more is decoration that draws over other people's lines.
pub const MAX_COMBINING_MARKS: usize = 3;

/// Blank lines kept in a row.
pub const MAX_BLANK_LINES: usize = 2;

/// The longest pseudonym, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// Why a text was refused. Each variant is one rule, so the client can say which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("the text is empty")]
    Empty,
    #[error("the text is {actual} characters long; the limit is {max}")]
    TooLong { max: usize, actual: usize },
    #[error("control character U+{codepoint:04X} is not allowed")]
    ControlCharacter { codepoint: u32 },
    #[error("bidirectional control character U+{codepoint:04X} is not allowed")]
    BidiControl { codepoint: u32 },
    #[error("a name cannot contain line breaks")]
    LineBreakInName,
    #[error("a name cannot contain the invisible character U+{codepoint:04X}")]
    InvisibleInName { codepoint: u32 },
}

/// Characters that draw nothing (or only space) but make a name differ from the one it
/// looks like: zero-width spaces and joiners, direction marks, word joiners and
/// invisible operators, the byte-order mark, soft hyphen, combining grapheme joiner,
/// Hangul fillers, the Braille blank, the Mongolian vowel separator, line and
/// paragraph separators, and the other Unicode "default ignorable" blanks. (Variation
/// selectors are checked apart: an emoji needs one, a letter never does.)
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Bidirectional embeddings, overrides and isolates: they reorder the text that follows,
/// including other people's messages in some renderers.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks one character against the shared rules. Newlines and tabs are left to the
/// caller.
fn check_char(c: char) -> Result<(), TextError> {
    if is_bidi_control(c) {
        Err(TextError::BidiControl {
            codepoint: u32::from(c),
        })
    } else if c.is_control() && c != '\n' && c != '\t' {
        Err(TextError::ControlCharacter {
            codepoint: u32::from(c),
        })
    } else {
        Ok(())
    }
}

/// NFC, with at most [`MAX_COMBINING_MARKS`] marks after each base character.
fn bound_marks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut marks = 0;
    for c in text.nfc() {
        if is_combining_mark(c) {
            marks += 1;
            if marks > MAX_COMBINING_MARKS {
                continue;
            }
        } else {
            marks = 0;
        }
        out.push(c);
    }
    out
}

/// Normalises a chat message: line endings to `\n`, control and bidi characters refused,
/// combining marks bounded, trailing spaces on each line and more than
/// [`MAX_BLANK_LINES`] blank lines in a row dropped, the whole trimmed; then empty or
/// longer than `max_chars` characters is refused.
pub fn normalize_message(input: &str, max_chars: usize) -> Result<String, TextError> {
    let unified = input.replace("\r\n", "\n").replace('\r', "\n");
    unified.chars().try_for_each(check_char)?;
    let bounded = bound_marks(&unified);

    let mut out = String::with_capacity(bounded.len());
    let mut blank_run = 0;
    for line in bounded.split('\n') {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > MAX_BLANK_LINES {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim();
    finish(trimmed, max_chars)
}

/// Normalises a pseudonym: one line, runs of whitespace made a single space, the same
/// character rules as messages, 1 to [`MAX_NAME_CHARS`] characters.
pub fn normalize_name(input: &str) -> Result<String, TextError> {
    if input.contains(['\n', '\r']) {
        return Err(TextError::LineBreakInName);
    }
    input.chars().try_for_each(check_char)?;
    let mut previous: Option<char> = None;
    let hidden = input.chars().find(|&c| {
        let selector_on_a_letter = matches!(c, '\u{FE00}'..='\u{FE0F}')
            && previous.is_none_or(|p| p.is_alphanumeric() || p.is_whitespace());
        previous = Some(c);
        is_invisible(c) || selector_on_a_letter
    });
    if let Some(c) = hidden {
        return Err(TextError::InvisibleInName {
            codepoint: u32::from(c),
        });
    }
    let bounded = bound_marks(input);
    let single_spaced = bounded.split_whitespace().collect::<Vec<_>>().join(" ");
    finish(&single_spaced, MAX_NAME_CHARS)
}

/// What a name looks like, for telling whether two names would be mistaken for each
/// other: the Unicode confusables skeleton (UTS #39: `Rоbin` with a Cyrillic `о`,
/// `Ian` and `lan`), of the name as written and of its lower case (`Robin`, `robin`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NameLook(String, String);

impl NameLook {
    pub fn of(name: &str) -> Self {
        use unicode_security::confusable_detection::skeleton;
        Self(
            skeleton(name).collect(),
            skeleton(&name.to_lowercase()).collect(),
        )
    }

    /// Whether the two names look the same.
    pub fn clashes(&self, other: &NameLook) -> bool {
        self.0 == other.0 || self.1 == other.1
    }
}

fn finish(text: &str, max_chars: usize) -> Result<String, TextError> {
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    let actual = text.chars().count();
    if actual > max_chars {
        return Err(TextError::TooLong {
            max: max_chars,
            actual,
        });
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_look_the_same_are_told_apart_from_names_that_do_not() {
        let robin = NameLook::of("Robin");
        for same in ["robin", "ROBIN", "R\u{043E}bin", "Rob\u{0456}n"] {
            assert!(robin.clashes(&NameLook::of(same)), "{same:?}");
        }
        assert!(NameLook::of("Ian").clashes(&NameLook::of("lan")));
        assert!(!NameLook::of("李雷").clashes(&NameLook::of("韩梅梅")));
        assert!(!NameLook::of("Ελένη").clashes(&NameLook::of("Ελένα")));
        for other in ["Robyn", "Rob", "Robin2", "Kim"] {
            assert!(!robin.clashes(&NameLook::of(other)), "{other:?}");
        }
    }

    #[test]
    fn a_name_cannot_hide_invisible_characters() {
        for (name, codepoint) in [
            ("Ro\u{200B}bin", 0x200B),
            ("Robin\u{200D}", 0x200D),
            ("\u{200E}Robin", 0x200E),
            ("Rob\u{2060}in", 0x2060),
            ("Robin\u{FEFF}", 0xFEFF),
            ("\u{3164}", 0x3164),
            ("Robin\u{115F}", 0x115F),
            ("Ro\u{00AD}bin", 0x00AD),
            ("Robin\u{2028}Kim", 0x2028),
            ("\u{2800}", 0x2800),
            ("Robin\u{FE0F}", 0xFE0F),
        ] {
            assert_eq!(
                normalize_name(name),
                Err(TextError::InvisibleInName { codepoint }),
                "{name:?}"
            );
        }
        // Visible names in any script stay as written.
        for name in ["Robin", "Zoë", "Ελένη", "李雷", "Ана", "Noor ❤️"] {
            assert!(normalize_name(name).is_ok(), "{name}");
        }
    }

    const MAX: usize = 2000;

    #[test]
    fn ordinary_text_is_unchanged() {
        for text in [
            "hello everyone",
            "I had a hard week.\nBut I'm here.",
            "café, naïve, Zürich, Ελληνικά, 日本語, עברית, العربية",
            "👩‍💻 🏳️‍⚧️ ❤️",
            "tabs\tare\tfine",
        ] {
            assert_eq!(normalize_message(text, MAX).as_deref(), Ok(text));
        }
    }

    #[test]
    fn trims_both_ends() {
        assert_eq!(
            normalize_message("  \n\n  hi there \t\n ", MAX).as_deref(),
            Ok("hi there")
        );
    }

    #[test]
    fn empty_after_trim_is_refused() {
        for text in ["", "   ", "\n\n\t\n", "\r\n"] {
            assert_eq!(
                normalize_message(text, MAX),
                Err(TextError::Empty),
                "{text:?}"
            );
        }
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(
            normalize_message("ding\u{7}", MAX),
            Err(TextError::ControlCharacter { codepoint: 7 })
        );
        assert_eq!(
            normalize_message("nul\u{0}", MAX),
            Err(TextError::ControlCharacter { codepoint: 0 })
        );
        assert_eq!(
            normalize_message("esc\u{1b}[2J", MAX),
            Err(TextError::ControlCharacter { codepoint: 0x1b })
        );
        assert_eq!(
            normalize_message("c1\u{85}", MAX),
            Err(TextError::ControlCharacter { codepoint: 0x85 })
        );
    }

    #[test]
    fn line_endings_become_newlines() {
        assert_eq!(
            normalize_message("a\r\nb\rc", MAX).as_deref(),
            Ok("a\nb\nc")
        );
    }

    #[test]
    fn bidi_controls_are_refused() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}',
        ] {
            let text = format!("abc{c}def");
            assert_eq!(
                normalize_message(&text, MAX),
                Err(TextError::BidiControl {
                    codepoint: u32::from(c)
                })
            );
            assert!(normalize_name(&text).is_err());
        }
        // Right-to-left text itself is welcome.
        assert!(normalize_message("שלום", MAX).is_ok());
    }

    #[test]
    fn blank_lines_are_collapsed_to_two() {
        assert_eq!(
            normalize_message("a\n\n\n\n\n\nb", MAX).as_deref(),
            Ok("a\n\n\nb")
        );
        assert_eq!(
            normalize_message("a\n \n\t\n  \n\nb", MAX).as_deref(),
            Ok("a\n\n\nb")
        );
        assert_eq!(normalize_message("a\n\nb", MAX).as_deref(), Ok("a\n\nb"));
    }

    #[test]
    fn combining_marks_are_bounded() {
        let zalgo = format!(
            "h{}i",
            "\u{0301}\u{0302}\u{0303}\u{0304}\u{0305}\u{0306}".repeat(20)
        );
        let out = normalize_message(&zalgo, MAX).expect("zalgo is trimmed, not refused");
        assert_eq!(out.chars().count(), 2 + MAX_COMBINING_MARKS);
        // Ordinary accents, precomposed or not, are kept (and composed).
        assert_eq!(
            normalize_message("cafe\u{0301}", MAX).as_deref(),
            Ok("café")
        );
        // Three stacked marks are allowed.
        let three = "a\u{0323}\u{0302}\u{0301}";
        assert_eq!(
            normalize_message(three, MAX).map(|s| s.chars().count()),
            Ok(three.nfc().count())
        );
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(
            normalize_message(&"é".repeat(10), 10).map(|s| s.len()),
            Ok(20)
        );
        assert_eq!(
            normalize_message(&"é".repeat(11), 10),
            Err(TextError::TooLong {
                max: 10,
                actual: 11
            })
        );
        // Counted after trimming.
        assert!(normalize_message(&format!("   {}   ", "x".repeat(10)), 10).is_ok());
    }

    #[test]
    fn names_follow_their_rules() {
        assert_eq!(normalize_name("  River  ").as_deref(), Ok("River"));
        assert_eq!(normalize_name("quiet \t  fox").as_deref(), Ok("quiet fox"));
        assert_eq!(normalize_name("a\nb"), Err(TextError::LineBreakInName));
        assert_eq!(normalize_name("a\r"), Err(TextError::LineBreakInName));
        assert_eq!(normalize_name("   "), Err(TextError::Empty));
        assert_eq!(
            normalize_name(&"n".repeat(MAX_NAME_CHARS)).map(|s| s.len()),
            Ok(32)
        );
        assert_eq!(
            normalize_name(&"n".repeat(MAX_NAME_CHARS + 1)),
            Err(TextError::TooLong {
                max: 32,
                actual: 33
            })
        );
        assert_eq!(
            normalize_name("bell\u{7}"),
            Err(TextError::ControlCharacter { codepoint: 7 })
        );
        assert_eq!(normalize_name("Zoë 🌱").as_deref(), Ok("Zoë 🌱"));
    }

    #[test]
    fn errors_say_which_rule() {
        assert_eq!(
            TextError::TooLong {
                max: 10,
                actual: 11
            }
            .to_string(),
            "the text is 11 characters long; the limit is 10"
        );
        assert_eq!(
            TextError::BidiControl { codepoint: 0x202E }.to_string(),
            "bidirectional control character U+202E is not allowed"
        );
    }
}
