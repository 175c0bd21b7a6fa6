//! Normalisation: the single pass that turns text into words, shared by the data file
//! and messages so that both sides of a comparison are always spelled the same way.

/// The smallest number that `<n>` stands for: "took 30 pills" is an overdose, "took 2
/// paracetamol" is a headache.
pub const MANY_FROM: u64 = 10;

pub(super) enum Piece<'a> {
    /// A normalised word: lower case, leetspeak undone, repeated letters collapsed.
    Word(&'a str),
    Boundary,
}

/// The single normalisation pass shared by the data file and messages, so that both sides
/// of a comparison are always spelled the same way.
pub(super) fn for_each_word(text: &str, mut emit: impl FnMut(Piece<'_>)) {
    let mut raw = String::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let finish = |raw: &mut String, word: &mut String, emit: &mut dyn FnMut(Piece<'_>)| {
        if raw.is_empty() {
            return;
        }
        let has_letter = raw.chars().any(char::is_alphabetic);
        word.clear();
        let mut last = None;
        for c in raw.chars() {
            let c = if has_letter { unleet(c) } else { c };
            if Some(c) != last || !c.is_alphabetic() {
                word.push(c);
            }
            last = Some(c);
        }
        raw.clear();
        emit(Piece::Word(word));
    };
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let next_is_wordy = next.is_some_and(char::is_alphanumeric);
        if c.is_alphanumeric() {
            raw.extend(c.to_lowercase());
        } else if matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`') {
            // Apostrophes join: "don't" and "dont" are one word.
        } else if is_leet_symbol(c, !raw.is_empty(), next_is_wordy) {
            raw.push(c);
        } else {
            finish(&mut raw, &mut word, &mut emit);
            let ends_sentence = matches!(c, '.' | '!' | '?' | ';' | '…')
                && next.is_none_or(|n| n.is_whitespace() || matches!(n, '.' | '!' | '?'));
            if ends_sentence || c == '\n' {
                emit(Piece::Boundary);
            }
        }
    }
    finish(&mut raw, &mut word, &mut emit);
}

/// Whether a symbol is standing in for a letter: `$uicide`, `h@te`, `k!ll`; but not the
/// `!` that ends "die!".
fn is_leet_symbol(c: char, inside_word: bool, next_is_wordy: bool) -> bool {
    match c {
        '@' | '$' => inside_word || next_is_wordy,
        '!' | '|' => inside_word && next_is_wordy,
        _ => false,
    }
}

/// Leetspeak inside a word that has at least one letter ("10" stays a number).
fn unleet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        other => other,
    }
}

pub(super) fn collapse_repeats(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    for c in word.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

/// Whether a word is a number that `<n>` stands for (digits only: "10", "30", "1000").
pub(super) fn is_many(word: &str) -> bool {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    match word.parse::<u64>() {
        Ok(n) => n >= MANY_FROM,
        // Digits only, so the one way to fail is a number too large for a u64.
        Err(_) => true,
    }
}

/// A data-file fragment as normalised words (no aliases).
pub(super) fn basic_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for_each_word(text, |piece| {
        if let Piece::Word(w) = piece {
            words.push(w.to_owned());
        }
    });
    words
}

/// Optimal-string-alignment distance ≤ 1: one substitution, insertion, deletion or swap of
/// neighbours. Bytes, not chars: keywords are ASCII, and a non-ASCII word only gets
/// further away.
pub(super) fn within_one_edit(word: &[u8], keyword: &[u8]) -> bool {
    let (a, b) = (word, keyword);
    match a.len().abs_diff(b.len()) {
        0 => {
            let mut diffs = (0..a.len()).filter(|&i| a[i] != b[i]);
            match (diffs.next(), diffs.next(), diffs.next()) {
                (None, _, _) | (Some(_), None, _) => true,
                (Some(i), Some(j), None) => j == i + 1 && a[i] == b[j] && a[j] == b[i],
                _ => false,
            }
        }
        1 => {
            let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
            let split = short
                .iter()
                .zip(long)
                .position(|(x, y)| x != y)
                .unwrap_or(short.len());
            short[split..] == long[split + 1..]
        }
        _ => false,
    }
}
