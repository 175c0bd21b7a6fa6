//! Rust source as the layer checks see it: tokens, with comments, strings and
//! character literals gone, so that a path written in a doc comment or a message never
//! counts as an import.

/// One token of Rust source, as far as module paths are concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// An identifier or keyword (`r#type` is `type`).
    Ident(String),
    /// `::`
    PathSep,
    /// Any other punctuation character; literals leave nothing.
    Punct(char),
}

impl Token {
    pub fn is_ident(&self, name: &str) -> bool {
        matches!(self, Token::Ident(i) if i == name)
    }

    pub fn is_punct(&self, c: char) -> bool {
        *self == Token::Punct(c)
    }
}

/// The tokens of `source`, each with its line (from 1).
pub fn tokens(source: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let count_lines =
        |from: usize, to: usize| chars[from..to].iter().filter(|c| **c == '\n').count();
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let start = i;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i = block_comment_end(&chars, i);
            line += count_lines(start, i);
        } else if let Some(end) = string_end(&chars, i) {
            i = end;
            line += count_lines(start, i);
        } else if c == '\'' {
            i = quote_end(&chars, i);
        } else if c == 'r'
            && next == Some('#')
            && chars.get(i + 2).is_some_and(|c| is_ident_start(*c))
        {
            // A raw identifier.
            i += 2;
            let from = i;
            while i < chars.len() && is_ident_continue(chars[i]) {
                i += 1;
            }
            out.push((Token::Ident(chars[from..i].iter().collect()), line));
        } else if is_ident_start(c) {
            while i < chars.len() && is_ident_continue(chars[i]) {
                i += 1;
            }
            out.push((Token::Ident(chars[start..i].iter().collect()), line));
        } else if c.is_ascii_digit() {
            while i < chars.len() && is_ident_continue(chars[i]) {
                i += 1;
            }
        } else if c == ':' && next == Some(':') {
            out.push((Token::PathSep, line));
            i += 2;
        } else {
            out.push((Token::Punct(c), line));
            i += 1;
        }
    }
    out
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Past the end of the block comment that starts at `i` (they nest).
fn block_comment_end(chars: &[char], mut i: usize) -> usize {
    let mut depth = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('/', Some('*')) => {
                depth += 1;
                i += 2;
            }
            ('*', Some('/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    i
}

/// If a string literal starts at `i` (`"…"`, `b"…"`, `c"…"`, `r#"…"#`, `br"…"`), the
/// index just past it.
fn string_end(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    // The prefix must start a token: `ab"` is not a byte string.
    if i > 0 && is_ident_continue(chars[i - 1]) {
        return None;
    }
    if matches!(chars.get(j), Some('b' | 'c')) {
        j += 1;
    }
    let raw = chars.get(j) == Some(&'r');
    if raw {
        j += 1;
        let mut hashes = 0;
        while chars.get(j) == Some(&'#') {
            hashes += 1;
            j += 1;
        }
        if chars.get(j) != Some(&'"') {
            return None;
        }
        j += 1;
        while j < chars.len() {
            if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
                return Some(j + 1 + hashes);
            }
            j += 1;
        }
        return Some(j);
    }
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 2,
            '"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    Some(j)
}

/// Past a character literal (`'a'`, `'\n'`, `'\u{1F600}'`) or a lifetime's quote.
fn quote_end(chars: &[char], i: usize) -> usize {
    match (chars.get(i + 1), chars.get(i + 2)) {
        (Some('\\'), _) => {
            let mut j = i + 2;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            j + 1
        }
        (Some(_), Some('\'')) => i + 3,
        // A lifetime or a label: its name is lexed as an identifier, harmless.
        _ => i + 1,
    }
}
