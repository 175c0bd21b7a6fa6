//! "Only `wire` knows the frame shapes", checked: no source file of the server outside
//! `server/src/wire` builds a `ServerFrame`. A frame's variant named where a value is
//! made (`ServerFrame::Ack { .. }` as an expression, `ServerFrame::Error` as a
//! function, a `use` of the variants) counts; one named where a value is taken apart
//! (a `let` or `if let` pattern, a match arm, `matches!`) does not, and neither do
//! tests (files declared under `#[cfg(test)]`, `#[cfg(test)]` items), comments or
//! strings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::modules::Crate;
use crate::source::{Token, tokens};

/// Every place outside `wire` where the server under `server_src` builds a frame, as
/// `file:line (ServerFrame::Variant)`, the file relative to `server_src`.
pub fn built_outside_wire(server_src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (file, test_only) in server_files(server_src) {
        let relative = file.strip_prefix(server_src).unwrap_or(&file);
        let in_wire = relative
            .components()
            .next()
            .is_some_and(|c| c.as_os_str() == "wire" || c.as_os_str() == "wire.rs");
        if test_only || in_wire {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, variant) in constructions(&text) {
            found.push(format!(
                "{}:{line} (ServerFrame::{variant})",
                relative.display()
            ));
        }
    }
    found
}

/// The files of the server's crates (the library, the binary and `bin/`), each with
/// whether it is declared for tests only.
fn server_files(server_src: &Path) -> BTreeMap<PathBuf, bool> {
    let mut roots = vec![server_src.join("lib.rs"), server_src.join("main.rs")];
    if let Ok(bins) = std::fs::read_dir(server_src.join("bin")) {
        roots.extend(
            bins.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs")),
        );
    }
    let mut files = BTreeMap::new();
    for root in roots.iter().filter(|r| r.is_file()) {
        for (file, test_only) in Crate::read(root).files() {
            *files.entry(file.to_owned()).or_insert(true) &= test_only;
        }
    }
    files
}

/// The lines where `source` builds a `ServerFrame`, with the variant named.
pub fn constructions(source: &str) -> Vec<(usize, String)> {
    let toks = tokens(source);
    let mut found = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some(end) = test_item_end(&toks, i) {
            i = end;
            continue;
        }
        let (token, line) = &toks[i];
        let is_frame =
            token.is_ident("ServerFrame") && toks.get(i + 1).is_some_and(|t| t.0 == Token::PathSep);
        if !is_frame {
            i += 1;
            continue;
        }
        match toks.get(i + 2).map(|t| &t.0) {
            // `use …::ServerFrame::{…}` or `::*`: the variants brought in by name.
            Some(Token::Punct('{' | '*')) => found.push((*line, "*".to_owned())),
            Some(Token::Ident(variant))
                if variant.starts_with(char::is_uppercase) && !is_pattern(&toks, i) =>
            {
                found.push((*line, variant.clone()));
            }
            // A method (`ServerFrame::seq`) or a pattern.
            _ => {}
        }
        i += 3;
    }
    found
}

/// If a `#[cfg(test)]` attribute starts at `i`, the index just past the item it
/// marks (to its `;` or the end of its `{ … }`).
fn test_item_end(toks: &[(Token, usize)], i: usize) -> Option<usize> {
    let attribute = ["#", "[", "cfg", "(", "test", ")", "]"];
    let matches = attribute.iter().enumerate().all(|(k, want)| {
        toks.get(i + k).is_some_and(|(t, _)| match t {
            Token::Ident(name) => name == want,
            Token::Punct(c) => want.len() == 1 && want.starts_with(*c),
            Token::PathSep => false,
        })
    });
    if !matches {
        return None;
    }
    let mut j = i + attribute.len();
    while j < toks.len() {
        match toks[j].0 {
            Token::Punct(';') => return Some(j + 1),
            Token::Punct('{') => return Some(group_end(toks, j)),
            _ => j += 1,
        }
    }
    Some(j)
}

/// Whether the variant path at `i` (`ServerFrame`, `::`, `Variant`) is a pattern: what
/// follows it and its fields is `=` (a `let`), `=>` (a match arm), `|` (one of several
/// patterns) or `if` (a guard), after any parentheses it closes (`Some(ServerFrame::…)`),
/// or it is inside `matches!(…)`.
fn is_pattern(toks: &[(Token, usize)], i: usize) -> bool {
    let mut j = i + 3;
    if toks
        .get(j)
        .is_some_and(|(t, _)| t.is_punct('(') || t.is_punct('{'))
    {
        j = group_end(toks, j);
    }
    while toks.get(j).is_some_and(|(t, _)| t.is_punct(')')) {
        j += 1;
    }
    let next = |k: usize| toks.get(k).map(|(t, _)| t);
    let pattern_follows = match next(j) {
        Some(Token::Punct('=')) => !next(j + 1).is_some_and(|t| t.is_punct('=')),
        Some(Token::Punct('|')) => !next(j + 1).is_some_and(|t| t.is_punct('|')),
        Some(t) => t.is_ident("if"),
        None => false,
    };
    pattern_follows || inside_matches(toks, i)
}

/// Whether the token at `i` is within the parentheses of `matches!(…)`.
fn inside_matches(toks: &[(Token, usize)], i: usize) -> bool {
    let mut depth = 0usize;
    for k in (0..i).rev() {
        match toks[k].0 {
            Token::Punct(')' | ']' | '}') => depth += 1,
            Token::Punct('(' | '[' | '{') if depth > 0 => depth -= 1,
            Token::Punct('(') => {
                return k >= 2 && toks[k - 1].0.is_punct('!') && toks[k - 2].0.is_ident("matches");
            }
            Token::Punct('[' | '{') => return false,
            _ => {}
        }
    }
    false
}

/// Just past the bracketed group that opens at `open`.
fn group_end(toks: &[(Token, usize)], open: usize) -> usize {
    let mut depth = 0usize;
    for (k, (t, _)) in toks.iter().enumerate().skip(open) {
        match t {
            Token::Punct('(' | '[' | '{') => depth += 1,
            Token::Punct(')' | ']' | '}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k + 1;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

#[test]
fn only_wire_builds_frames() {
    let server_src = crate::workspace().join("server/src");
    let found = built_outside_wire(&server_src);
    assert!(
        found.is_empty(),
        "frames built outside `wire` (add a function to `server/src/wire/` named for \
         what the frame says, and call it):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_frame_check_tells_a_frame_built_from_one_taken_apart() {
    let source = r#"
use kindred_protocol::{ServerFrame, Welcome};
use kindred_protocol::ServerFrame::{Ack, Typing};
/// `ServerFrame::Ack { .. }` in a doc comment is no frame.
fn answer(frame: &ServerFrame, seq: Option<u64>) -> ServerFrame {
    let _ = "ServerFrame::Typing { user, name }";
    if let ServerFrame::Error(e) = frame {
        count(e.code);
    }
    if let Some(ServerFrame::Welcome(w)) = decoded.next() {}
    let ServerFrame::Members { members } = frame else { return x };
    let held = matches!(frame, ServerFrame::Ack { held: true, .. }) && seq.is_some();
    match frame {
        ServerFrame::Resumed { .. } | ServerFrame::Opened { .. } => {}
        ServerFrame::Message { redacted, .. } if *redacted => {}
        _ => {}
    }
    let _ = ServerFrame::seq(frame);
    let errors = codes.map(ServerFrame::Error);
    ServerFrame::Ack {
        client_id,
        seq,
        held: false,
    }
}
#[cfg(test)]
mod tests {
    fn frame() -> ServerFrame { ServerFrame::Held { seq: 1, ts: 2 } }
}
fn closed() -> bool { frame == ServerFrame::Resumed { seq: 1, ts: 2 } }
"#;
    let expected: Vec<(usize, String)> = [(3, "*"), (19, "Error"), (20, "Ack"), (30, "Resumed")]
        .map(|(line, variant)| (line, variant.to_owned()))
        .into();
    assert_eq!(
        constructions(source),
        expected,
        "a use of the variants, a variant as a function, a frame returned and one \
         compared with; no pattern, comment, string, method or test"
    );
}
