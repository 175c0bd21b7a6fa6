//! Whose story a phrase rule's match tells, and when: the tense and person the phrase
//! grammar cannot see.
//!
//! The rules match phrases ("self harming", "took an overdose", "tried to end my
//! life") wherever they stand, so they take "my partner's been self harming again" and
//! "eleven years ago i tried to end my life, i'm fine now" for a crisis happening to the
//! author now: on every fresh set written for Kindred, most of the calm messages that
//! alerted were those. A match is **distanced** when
//! - its sentence tells of a time well past (`years ago`, `used to`, `when i was`,
//!   `back then`, `in my twenties`, `since then`, a history, recovery), or the message
//!   counts time clean or sober (`six years clean`) or an urge outlasted (`urge
//!   passed`, `rode it out`, `didn't act on them`), and the sentence has no word of
//!   now (`tonight`, `again`), or
//! - the sentence that matched is about someone else: the phrase follows a third
//!   party (`she`, `my brother's been`, `a character`), and itself names nobody of the
//!   author's (`myself`, `my life`, `me`), or stands in quotation marks (`my dad says
//!   "i won't be around much longer"`), or
//! - the phrase is denied right before it (`no thoughts of suicide`, `no plans to hurt
//!   myself`, `haven't had a single thought of`: the answer to a facilitator's
//!   question), or the sentence laughs at itself (`jk`, `lmao`, `💀`): hyperbole about a
//!   printer is the commonest calm use of crisis words.
//!
//! A distanced match is not an alert by itself: the [`Detector`](super::Detector) asks
//! the classifier, which learned those stories from the corpus's hard negatives. A
//! match that is the author's own, now, stays a crisis whatever the model thinks; so
//! does a match the sentences cannot place (a phrase across a full stop).
//!
//! Pure and cheap: it runs only when a rule has matched (about one message in a
//! hundred), and nothing of the text is kept. The words it reads by are in `words.rs`,
//! its cases in `tests.rs`.

use self::words::{FIRST_PERSON, PAST_PHRASES, PAST_WORDS, THIRD_PERSON};
use super::super::crisis::CrisisMatcher;

mod words;

/// Whether every rule match in `text` is distanced (see the module docs). False when
/// no rule matches, or when a match cannot be placed in one sentence.
pub fn distanced(rules: &CrisisMatcher, text: &str) -> bool {
    // Time clean or sober speaks for the whole message; other words of the past only
    // for their own sentence (`i used to come here to support people. tonight i want to
    // die` is not a story of the past).
    let all = words(text);
    let clean = time_clean(&all);
    let outlasted = urge_outlasted(&all);
    let laughing_allowed = !laugh_taken_back(&all);
    let mut matched = false;
    for sentence in sentences(text) {
        let words = words(sentence);
        let Some((start, end)) = span(rules, &words) else {
            continue;
        };
        matched = true;
        let (before, phrase) = (&words[..start], &words[start..end]);
        let past = (clean || outlasted || told_as_past(&words)) && !happening_now(&words);
        let elsewhere = someone_else(before, phrase) || quoted(rules, sentence);
        let laughed = laughing_allowed && joking(sentence, &words);
        if !(past || elsewhere || laughed || denied(before, phrase)) {
            return false;
        }
    }
    matched
}

/// Whether the message tells of an urge that came and went (`had an urge to self harm
/// on tuesday but did the ice cube thing … urge passed`, `i rode it out`, `didn't act
/// on them`): a member using their safety plan, said in the past.
fn urge_outlasted(words: &[String]) -> bool {
    const OUTLASTED: &[&[&str]] = &[
        &["it", "passed"],
        &["urge", "passed"],
        &["urges", "passed"],
        &["they", "passed"],
        &["it", "faded"],
        &["they", "faded"],
        &["went", "away"],
        &["rode", "it", "out"],
        &["rode", "them", "out"],
        &["didnt", "act", "on"],
        &["did", "not", "act", "on"],
    ];
    let urge = words
        .iter()
        .any(|w| matches!(w.as_str(), "urge" | "urges" | "thoughts" | "thought"));
    urge && says_any(words, OUTLASTED)
}

/// Words that place a sentence in the present, whatever else it says of the past
/// (`i used to cut but tonight i did it again`).
fn happening_now(words: &[String]) -> bool {
    const NOW: &[&str] = &["tonight", "rn", "again", "currently", "lately", "tomorrow"];
    // `two years ago tonight` is an anniversary: the night is the past's.
    words
        .iter()
        .enumerate()
        .any(|(i, w)| NOW.contains(&w.as_str()) && (i == 0 || words[i - 1] != "ago"))
}

/// Whether the phrase is denied: `no thoughts of suicide`, `not having any thoughts of
/// hurting myself`, `no self harm urges` (the answer to a facilitator's question). Only
/// a denial right before the phrase counts: `can't stop thinking about killing myself`
/// is not one.
fn denied(before: &[String], phrase: &[String]) -> bool {
    const DENIALS: &[&str] = &["no", "not", "nae", "zero", "without"];
    const HAVE_NOT: &[&str] = &["havent", "hasnt", "havnt", "aint"];
    const ANSWERS: &[&str] = &["no", "nope", "nah", "nay"];
    const BETWEEN: &[&str] = &[
        "going",
        "thinking",
        "any",
        "more",
        "real",
        "active",
        "current",
        "recent",
        "serious",
        "having",
        "had",
        "have",
        "got",
        "thoughts",
        "thought",
        "of",
        "urges",
        "urge",
        "plans",
        "plan",
        "intention",
        "intentions",
        "single",
        "a",
        "one",
    ];
    const WANTS: &[&str] = &[
        "going",
        "plans",
        "plan",
        "intention",
        "intentions",
        "urges",
        "urge",
        "desire",
        "thoughts",
    ];
    if phrase.iter().any(|w| DENIALS.contains(&w.as_str())) {
        return false;
    }
    // `to` is passed only after a want (`no plans to`, `no urge to`): `trying not to
    // cut` is a struggle, not a denial.
    let mut back = before.iter().rev().map(String::as_str).peekable();
    let mut passed = false;
    for _ in 0..6 {
        match back.next() {
            // `haven't` denies a want or a thought (`haven't had a single thought
            // of`), and the act only in answer to a question (`no, i haven't hurt
            // myself this week`), not in a statement (`the only reason i haven't
            // killed myself`).
            Some(w) if HAVE_NOT.contains(&w) => {
                return passed || back.take(3).any(|w| ANSWERS.contains(&w));
            }
            Some(w) if DENIALS.contains(&w) => return true,
            Some("to") if back.peek().is_some_and(|p| WANTS.contains(p)) => {}
            Some(w) if BETWEEN.contains(&w) => passed = true,
            _ => return false,
        }
    }
    false
}

/// Whether the sentence laughs at itself: says it is a joke (`jk`, `just kidding`,
/// `/j`) or laughs (`lol`, `lmao`, `haha`, `😂`, `💀`). The model still judges it: a
/// laugh can carry something meant, and the model has read both.
fn joking(sentence: &str, words: &[String]) -> bool {
    const LAUGHS: &[&str] = &[
        "jk", "j", "lol", "lmao", "lmfao", "haha", "hahaha", "rofl", "lool", "ded",
    ];
    words.iter().enumerate().any(|(i, w)| {
        LAUGHS.contains(&w.as_str()) || (w == "kidding" && i > 0 && words[i - 1] == "just")
    }) || sentence.contains(['😂', '💀', '🤣', '😆'])
}

/// Whether the message takes a laugh back (`lol. not lol`, `no joke`, `i'm serious`).
fn laugh_taken_back(words: &[String]) -> bool {
    const BACK: &[&[&str]] = &[
        &["not", "lol"],
        &["not", "joking"],
        &["not", "kidding"],
        &["not", "a", "joke"],
        &["no", "joke"],
        &["im", "serious"],
        &["seriously", "though"],
        &["actually", "though"],
        &["not", "funny"],
    ];
    says_any(words, BACK)
}

/// Whether the sentence's match stands only inside quotation marks: somebody's words
/// reported (`my 7 year old said "i wish i was dead" when i took his ipad`).
fn quoted(rules: &CrisisMatcher, sentence: &str) -> bool {
    let parts: Vec<&str> = sentence.split(['"', '“', '”']).collect();
    if parts.len() < 3 {
        return false;
    }
    let outside: Vec<&str> = parts.iter().step_by(2).copied().collect();
    let inside: Vec<&str> = parts.iter().skip(1).step_by(2).copied().collect();
    rules.detect(&outside.join(" . ")).is_none() && rules.detect(&inside.join(" . ")).is_some()
}

/// The text's sentences (split at full stops, question and exclamation marks,
/// semicolons and line breaks).
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split(['.', '!', '?', ';', '\n'])
        .filter(|s| !s.trim().is_empty())
}

/// Lower-cased words; apostrophes join (`partner's` → `partners`, `i'm` → `im`).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| {
            w.chars()
                .filter(|c| *c != '\'' && *c != '’')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The words of the shortest tail and head that still match: where the rule's match
/// starts and ends, in words.
fn span(rules: &CrisisMatcher, words: &[String]) -> Option<(usize, usize)> {
    let matches = |from: usize, to: usize| rules.detect(&words[from..to].join(" ")).is_some();
    if !matches(0, words.len()) {
        return None;
    }
    let start = (0..words.len())
        .take_while(|&k| matches(k, words.len()))
        .last()?;
    let end = (start + 1..=words.len()).find(|&e| matches(start, e))?;
    Some((start, end))
}

/// Whether `words` hold any of `phrases`, word for word and in order.
fn says_any(words: &[String], phrases: &[&[&str]]) -> bool {
    phrases.iter().any(|p| {
        words
            .windows(p.len())
            .any(|w| w.iter().zip(*p).all(|(a, b)| a == b))
    })
}

fn told_as_past(words: &[String]) -> bool {
    words.iter().any(|w| PAST_WORDS.contains(&w.as_str()))
        || says_any(words, PAST_PHRASES)
        || used_to(words)
        || in_a_year(words)
        || when_it_was(words)
}

/// `when my baby was tiny`, `when we were at uni`: a time told as gone.
fn when_it_was(words: &[String]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        w == "when"
            && words[i + 1..]
                .iter()
                .take(3)
                .any(|n| n == "was" || n == "were")
    })
}

/// A year told as a time of its own (`back in 2019`, `in 2020`).
fn in_a_year(words: &[String]) -> bool {
    words.windows(2).any(|w| {
        w[0] == "in"
            && w[1].len() == 4
            && w[1].parse::<u16>().is_ok_and(|y| (1950..2030).contains(&y))
    })
}

/// Time clean or sober counted in months or years (`six years clean`, `clean six years`,
/// `sober for 2 yrs`).
fn time_clean(words: &[String]) -> bool {
    const SPANS: &[&str] = &["years", "yrs", "year", "months"];
    words.iter().enumerate().any(|(i, w)| {
        (w == "clean" || w == "sober")
            && (words[i + 1..]
                .iter()
                .take(3)
                .any(|n| SPANS.contains(&n.as_str()))
                || words[..i]
                    .iter()
                    .rev()
                    .take(2)
                    .any(|n| SPANS.contains(&n.as_str())))
    })
}

/// `used to` as a habit of the past (`i used to cut`), not as being accustomed (`i'm so
/// used to wanting to die`) or a comparison (`more real than they used to`).
fn used_to(words: &[String]) -> bool {
    const ACCUSTOMED: &[&str] = &[
        "so", "get", "got", "getting", "am", "im", "be", "being", "is", "are", "become", "was",
    ];
    words.windows(3).enumerate().any(|(i, w)| {
        w[0] == "used"
            && w[1] == "to"
            && (i == 0 || !ACCUSTOMED.contains(&words[i - 1].as_str()))
            && !words[i.saturating_sub(2)..i]
                .iter()
                .any(|p| p == "than" || p == "as")
    })
}

/// Whether the phrase is somebody else's: the word it follows (past a few helping
/// words: `my partner's been self harming`, `her friend keeps cutting`) names somebody
/// else, and the phrase itself names nobody of the author's.
fn someone_else(before: &[String], phrase: &[String]) -> bool {
    const HELPING: &[&str] = &[
        "been",
        "has",
        "have",
        "had",
        "hasnt",
        "is",
        "was",
        "s",
        "got",
        "gotten",
        "keeps",
        "kept",
        "just",
        "already",
        "still",
        "also",
        "again",
        "says",
        "said",
        "saying",
        "tried",
        "attempted",
        "took",
        "started",
        "recently",
        "apparently",
        "nearly",
        "a",
        "an",
        "such",
        "really",
        "so",
        "being",
        "feels",
        "feeling",
        "like",
        "wrote",
        "left",
        "did",
        "made",
        "writes",
        "write",
        "leaves",
        "asked",
        "asking",
        "disclosed",
        "mentioned",
        "talked",
        "talking",
        "about",
    ];
    let is = |list: &[&str], w: &str| list.contains(&w) || list.contains(&singular(w));
    if phrase
        .iter()
        .any(|w| is(FIRST_PERSON, w) || w == "my" || w == "mine")
    {
        return false;
    }
    before
        .iter()
        .rev()
        .take(4)
        .find(|w| !HELPING.contains(&w.as_str()))
        .is_some_and(|w| is(THIRD_PERSON, w))
}

/// `brothers` → `brother`, `partners` → `partner` (a possessive joined by its
/// apostrophe, or a plural).
fn singular(w: &str) -> &str {
    w.strip_suffix('s').filter(|s| s.len() >= 2).unwrap_or(w)
}

#[cfg(test)]
mod tests;
