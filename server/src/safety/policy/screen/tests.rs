//! The screen beside rustrict: over the crisis corpus, the policy's own lists, every
//! word rustrict counts written in the ways people dodge filters, and random strings
//! made of their pieces, whenever rustrict finds a word a policy counts in what it
//! reads, the screen said "look" for that text; and the verdicts every policy reaches
//! with the screen are the ones it reaches without.

use super::*;
use crate::safety::policy::analysed::{analysed_copy, rustrict_pass, segments};
use crate::safety::policy::tests as lists;
use crate::safety::policy::{
    ContentPolicy, Kinds, KindsExt, PolicyMode, Screening, Verdict, decide, mask_protected,
};

/// Every policy's threshold: each non-empty choice of kinds.
fn thresholds() -> Vec<Type> {
    (1u8..16)
        .map(|bits| {
            Kinds {
                profanity: bits & 1 != 0,
                sexual: bits & 2 != 0,
                offensive: bits & 4 != 0,
                mean: bits & 8 != 0,
            }
            .threshold()
        })
        .collect()
}

/// What one comparison saw.
#[derive(Debug, Default)]
struct Tally {
    /// Segments rustrict found something counted in (under some policy).
    found: usize,
    /// Segments the screen cleared under the default policy.
    cleared: usize,
    segments: usize,
}

/// Runs rustrict and the screen over each segment rustrict reads of `text`; panics if
/// rustrict finds a word some policy counts where the screen, asked for that policy,
/// said "clear".
fn side_by_side(text: &str, tally: &mut Tally) {
    let default = Kinds::default().threshold();
    let (analysed, _) = analysed_copy(&mask_protected(text));
    for segment in segments(&analysed) {
        let (_, analysis) = rustrict_pass(&segment, Type::NONE, false);
        let mut found = false;
        for threshold in thresholds() {
            if analysis.is(threshold) {
                found = true;
                assert!(
                    SCREEN.looks(&segment, threshold),
                    "the screen cleared {segment:?} (from {text:?}), in which rustrict \
                     finds {analysis:?} at {threshold:?}"
                );
            }
        }
        tally.segments += 1;
        tally.found += usize::from(found);
        tally.cleared += usize::from(!SCREEN.looks(&segment, default));
    }
}

/// Every message of the crisis corpus and its fresh sets (one per line; a fresh set's
/// message is its last tab-separated field).
fn corpus() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/safety/corpus");
    let mut files = Vec::new();
    for dir in [dir.clone(), dir.join("fresh")] {
        for entry in std::fs::read_dir(&dir).expect("the corpus directory") {
            let path = entry.expect("a corpus entry").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut messages = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a corpus file");
        for line in text.lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let message = line.rsplit('\t').next().unwrap_or(line);
            messages.push(message.to_owned());
        }
    }
    messages
}

/// The messages of the policy's own tests: disclosures, crisis leetspeak, abuse aimed
/// at others, rough words of members' own, and symbol clutter.
fn policy_lists() -> Vec<String> {
    let abuse = [
        "kys you idiot",
        "go kill yourself",
        "you faggot",
        "shut up you retard",
        "dirty tranny",
        "I hate myself",
        "I feel fat and ugly",
        "I'm so damn tired",
        "fuck this week",
        "I'm so stupid",
        "hello everyone",
        "you faggot, I'm gay too",
        "café crème, kys",
        "this is shit",
        "damn it",
        "kyssssss you idiot",
        "fuuuuuuuck you",
        "you f@gg0t",
        "what an @$$h0le!!",
        "$#!t, that's b!+chy (honestly) 😡😡",
        "you stupid c*nt!!! go k!ll y0urs3lf",
        "see you at 9pm? I'm 50/50 on it... A&E said 24/7 #1 priority, it's fine",
        "I'm 24/7 it's it's mom",
        "#1 50% mom",
        "q\u{301} kys you idiot",
        "you stupid bitch, I hope your day goes badly.",
    ];
    lists::DISCLOSURES
        .iter()
        .chain(lists::LEET_CRISIS)
        .chain(lists::ALSO_PROTECTED)
        .chain(&abuse)
        .map(|s| (*s).to_owned())
        .chain(lists::attacks())
        .collect()
}

/// Letters people swap for digits and symbols.
fn leet(c: char) -> &'static [char] {
    match c {
        'a' => &['4', '@'],
        'b' => &['8'],
        'e' => &['3'],
        'g' => &['9'],
        'i' => &['1', '!', '|'],
        'l' => &['1', '|'],
        'o' => &['0'],
        's' => &['5', '$'],
        't' => &['7', '+'],
        'z' => &['2'],
        _ => &[],
    }
}

/// Letters from other scripts that look like Latin ones.
fn homoglyph(c: char) -> Option<char> {
    Some(match c {
        'a' => 'а',
        'c' => 'с',
        'e' => 'е',
        'i' => 'і',
        'j' => 'ј',
        'o' => 'о',
        'p' => 'р',
        's' => 'ѕ',
        'x' => 'х',
        'y' => 'у',
        _ => return None,
    })
}

/// The same letter as a fullwidth or a mathematical bold character.
fn styled(c: char, base: u32) -> Option<char> {
    c.is_ascii_lowercase()
        .then(|| char::from_u32(base + (c as u32 - 'a' as u32)))
        .flatten()
}

/// `word` with its first letter in capitals ("youFaggot" starts a word for rustrict).
fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

const ZERO_WIDTH: [char; 5] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// `word` written the ways people get words past filters: in a sentence, shouted,
/// spaced and dotted, stretched, in leetspeak (whole and one letter at a time), in
/// look-alike letters, with invisible characters or accents between its letters,
/// self-censored, and beside the load tester's header.
fn obfuscations(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let map = |f: &dyn Fn(char) -> String| chars.iter().map(|&c| f(c)).collect::<String>();
    let join = |sep: &str| {
        chars
            .iter()
            .map(char::to_string)
            .collect::<Vec<_>>()
            .join(sep)
    };
    let mut out = vec![
        word.to_owned(),
        format!("you are a {word} honestly"),
        format!("{word}!!!"),
        word.to_uppercase(),
        join(" "),
        join("."),
        join("-"),
        join(" . "),
        map(&|c| c.to_string().repeat(2)),
        map(&|c| c.to_string().repeat(5)),
        format!(
            "{word}{}",
            chars
                .last()
                .map_or(String::new(), |c| c.to_string().repeat(6))
        ),
        map(&|c| leet(c).first().map_or(c.to_string(), char::to_string)),
        map(&|c| leet(c).last().map_or(c.to_string(), char::to_string)),
        map(&|c| homoglyph(c).unwrap_or(c).to_string()),
        map(&|c| styled(c, 0xFF41).unwrap_or(c).to_string()),
        map(&|c| styled(c, 0x1D41A).unwrap_or(c).to_string()),
        map(&|c| format!("{c}\u{301}")),
        map(&|c| format!("{c}\u{301}")).nfc().collect(),
        map(&|c| {
            if "aeiou".contains(c) {
                '*'.to_string()
            } else {
                c.to_string()
            }
        }),
        format!("lt|12|3|45|1764157000123456789|{word} thank you for sharing"),
        format!("😡{word}😡"),
        format!("so{word}ing"),
        format!("you{}", capitalised(word)),
        format!("{word}{word}"),
    ];
    for z in ZERO_WIDTH {
        out.push(join(&z.to_string()));
    }
    for (i, &c) in chars.iter().enumerate() {
        for &l in leet(c) {
            let mut one = chars.clone();
            one[i] = l;
            out.push(one.iter().collect());
            out.push(format!("go {} now", one.iter().collect::<String>()));
        }
    }
    out
}

#[test]
fn the_screen_clears_nothing_rustrict_finds_in_the_crisis_corpus() {
    let mut tally = Tally::default();
    let corpus = corpus();
    assert!(corpus.len() > 20_000, "{} messages", corpus.len());
    for message in &corpus {
        side_by_side(message, &mut tally);
    }
    // Members' own words: rustrict finds something in some of them, and the screen
    // lets most of them through without rustrict, which is what it is for.
    assert!(tally.found > 0, "{tally:?}");
    assert!(tally.cleared * 2 > tally.segments, "{tally:?}");
}

#[test]
fn the_screen_clears_nothing_rustrict_finds_in_the_policy_lists() {
    let mut tally = Tally::default();
    for text in policy_lists() {
        side_by_side(&text, &mut tally);
    }
    assert!(tally.found >= 10, "{tally:?}");
}

#[test]
fn every_counted_word_obfuscated_is_still_looked_at() {
    let words = SCREEN.words();
    // rustrict's list, with the kinds a policy counts: hundreds of words.
    assert!(words.len() > 500, "{} words", words.len());
    let mut tally = Tally::default();
    for (word, _) in &words {
        for text in obfuscations(word) {
            side_by_side(&text, &mut tally);
        }
    }
    // rustrict finds most of them however they are written; each of those the screen
    // looked at.
    assert!(tally.found * 3 > tally.segments, "{tally:?}");
}

#[test]
fn random_strings_of_the_pieces_of_abuse_are_looked_at_when_rustrict_finds_one() {
    // Letters of common abuse, leetspeak, spaces and separators, look-alikes, accents,
    // invisible characters and emoji.
    let alphabet =
        "fuckshitbnagryotdelkwmp FUCKSHITBNAG 4@31!0$5|7+*.-_ аеосі\u{301}\u{200B}\u{200D}😡🖕";
    let mut tally = Tally::default();
    for seed in 1..=40_000u64 {
        let len = 2 + (seed % 11) as usize;
        side_by_side(&lists::clutter(alphabet, len, seed), &mut tally);
    }
    assert!(tally.found > 100, "{tally:?}");
}

#[test]
fn every_policy_reaches_the_same_verdict_with_the_screen_as_without() {
    let mut texts = policy_lists();
    texts.extend(corpus().into_iter().step_by(10));
    for word in [
        "kys", "faggot", "retard", "shit", "bitch", "cunt", "fuck", "tranny",
    ] {
        texts.extend(obfuscations(word));
    }
    let profanity_only = Kinds {
        profanity: true,
        sexual: false,
        offensive: false,
        mean: false,
    };
    let mut flagged = 0;
    for mode in [PolicyMode::Flag, PolicyMode::Censor, PolicyMode::Hold] {
        for kinds in [Kinds::default(), Kinds::ALL, profanity_only] {
            let policy = ContentPolicy {
                mode,
                kinds,
                ..ContentPolicy::default()
            };
            for text in &texts {
                let screened = decide(&policy, text, false, Screening::On);
                let unscreened = decide(&policy, text, false, Screening::Off);
                assert_eq!(screened, unscreened, "{mode:?} {kinds:?} {text:?}");
                flagged += usize::from(screened != Verdict::Clean);
            }
        }
    }
    assert!(flagged > 100, "{flagged} verdicts other than clean");
}

#[test]
fn ordinary_messages_need_no_analysis() {
    let mut load_test = String::from("lt|12|3|45|1764157000123456789|");
    while load_test.len() < 200 {
        load_test.push_str("thank you for sharing, I hear you and I am glad you are here. ");
    }
    let default = Kinds::default().threshold();
    for text in [
        load_test.as_str(),
        "thank you all for listening",
        "have a lovely evening",
        "I'm so tired of feeling like this, but tonight was a good evening",
        "it was the last page of the document my therapist gave me",
        "my therapist said to try journaling, has anyone here tried it?",
        "I'll see you all next Tuesday at 7pm 💙",
        "Welcome, Sam! Take your time, there is no pressure to share.",
    ] {
        let (analysed, _) = analysed_copy(&mask_protected(text));
        for segment in segments(&analysed) {
            assert!(!SCREEN.looks(&segment, default), "{segment:?}");
        }
    }
}

#[test]
fn rustricts_data_reads_back_whole() {
    // The screen's copy of the trie holds the words the policy's tests rely on, with
    // the types rustrict gives them, and none of Kindred's safe words.
    let words: HashMap<String, Type> = SCREEN.words().into_iter().collect();
    assert!(
        words
            .get("kys")
            .is_some_and(|t| t.is(Type::MEAN & Type::SEVERE))
    );
    assert!(words.get("fagot").is_some_and(|t| t.is(Type::OFFENSIVE)));
    for safe in ["suicide", "gay", "rape"] {
        assert!(!words.contains_key(safe), "{safe}");
    }
    assert!(SCREEN.alternatives(&'@').contains(&'a'));
    assert!(!SCREEN.kept('\u{301}'));
    assert!(!SCREEN.kept('\u{202E}'));
}
