//! Whose story a phrase rule's match tells, and when: the tense and person the phrase
//! grammar cannot see.
//!
//! The rules match phrases ("self harming", "took an overdose", "tried to end my
//! life") wherever they stand, so they take "my partner's been self harming again" and
//! "eleven years ago i tried to end my life, i'm fine now" for a crisis happening to the
//! author now: on every fresh set written for Kindred, most of the calm messages that
//! alerted were those. A match is **distanced** when
//! - its sentence tells of a time well past (`years ago`, `used to`, `when i was`,
//!   `back then`, `back in uni` opening the sentence, `in my twenties`, `since then`, a
//!   history, recovery), or the message counts time clean or sober (`six years clean`, not a streak that broke: `i was 6
//!   months clean and last night…`) or an urge outlasted (`urge passed`, `rode it
//!   out`, `didn't act on them`), and the sentence has no word of now (`tonight`,
//!   `again`), or
//! - the sentence that matched is about someone else: the phrase follows a third
//!   party (`she`, `my brother's been`, `a character`), and itself names nobody of the
//!   author's (`myself`, `my life`, `me`), or stands in quotation marks (`my dad says
//!   "i won't be around much longer"`), or
//! - the phrase is denied right before it (`no thoughts of suicide`, `no plans to hurt
//!   myself`, `haven't had a single thought of`: the answer to a facilitator's
//!   question), or the sentence laughs at itself (`jk`, `lmao`, `💀`): hyperbole about a
//!   printer is the commonest calm use of crisis words, or
//! - the message has a longer shape of a story that is over or not the author's
//!   (`shapes.rs`): a thought told as having happened with a reassurance (`had some
//!   suicidal thoughts this week, but they were passing ones and i'm safe`, `just
//!   thoughts, no intent`, `rate my suicidal thoughts … i said zero`), a relapse dated
//!   in the past with clean time since (`a relapse in march … 6 weeks clean`), a then
//!   told against a now (`before i got help i wanted to die every day, now …`; `used to
//!   be bad. i'd cut myself most nights. these days …`), a past placed by the next sentence (`that was three years ago`), or somebody else's
//!   words reported (`my brother told me he's been having suicidal thoughts`), each
//!   unless a word of now, the message (`it's back`) or the author's own words after it
//!   say otherwise, or
//! - the match names a topic or a figure of speech, not the author's state
//!   (`topics.rs`): a bare wish to die with its everyday cause (`want to die of
//!   embarrassment`, `the heat today, melting, want to die sia`; not `i want to die,
//!   everything hurts`), a question about the group's rules (`are we allowed to talk
//!   about self harm in here`; not `can i talk about my self harm`), or a role, a
//!   training or a game (`safeguarding training, spotting signs of self harm`, a bard's
//!   suicide note), the last two unless the sentence has a word of now.
//!
//! Every match of a sentence is read: one distanced match does not cover another that
//! is the author's own (`i want to die and my brother told me he's…`).
//!
//! A distanced match is not an alert by itself: the [`Detector`](super::Detector) asks
//! the classifier, which learned those stories from the corpus's hard negatives. A
//! match that is the author's own, now, stays a crisis whatever the model thinks; so
//! does a match the sentences cannot place (a phrase across a full stop).
//!
//! Pure and cheap: it runs only when a rule has matched (about one message in a
//! hundred), and nothing of the text is kept. The words it reads by are in `words.rs`,
//! the longer shapes in `shapes.rs`, topics and figures of speech in `topics.rs`, its
//! cases in `tests.rs`.

use self::words::{BACK_THEN, FIRST_PERSON, PAST_PHRASES, PAST_WORDS, THIRD_PERSON};
use super::super::crisis::CrisisMatcher;

mod shapes;
mod topics;
mod words;

/// Whether every rule match in `text` is distanced (see the module docs). False when
/// no rule matches, or when a match cannot be placed in one sentence.
pub fn distanced(rules: &CrisisMatcher, text: &str) -> bool {
    // Time clean or sober speaks for the whole message; other words of the past only
    // for their own sentence (`i used to come here to support people. tonight i want to
    // die` is not a story of the past).
    let all = words(text);
    let message = Message {
        clean: time_clean(&all),
        clean_weeks: shapes::clean_for(&all, WEEKS_OR_MORE),
        outlasted: urge_outlasted(&all),
        reassured: shapes::reassured(&all),
        still_there: shapes::still_there(&all),
        now_besides_reassurance: shapes::now_besides_reassurance(&all),
        laughing_allowed: !laugh_taken_back(&all),
    };
    let sentences: Vec<(&str, Vec<String>)> = sentences(text).map(|s| (s, words(s))).collect();
    let mut matched = false;
    for (i, (sentence, words)) in sentences.iter().enumerate() {
        let later = &sentences[i + 1..];
        let context = Sentence {
            text: sentence,
            words,
            later_now: later.iter().any(|(_, w)| shapes::says_now(w)),
            placed_later: later
                .first()
                .is_some_and(|(_, w)| shapes::placed_later(w) && !happening_now(w)),
            after_used_to: sentences[..i].iter().any(|(_, w)| used_to(w)),
        };
        // Every match of the sentence, the last first: `i want to die and my brother
        // told me he's been having suicidal thoughts` is the author's own, whatever the
        // brother's is.
        let mut upto = words.len();
        while let Some((start, end)) = span(rules, &words[..upto]) {
            matched = true;
            if !match_distanced(rules, &message, &context, start, end) {
                return false;
            }
            upto = start;
        }
    }
    matched
}

/// Time clean counted in weeks or more (a relapse dated in the past, with clean time
/// since).
const WEEKS_OR_MORE: &[&str] = &[
    "weeks", "wks", "week", "months", "month", "years", "yrs", "year",
];

/// What the whole message says, whichever sentence the match is in.
struct Message {
    clean: bool,
    clean_weeks: bool,
    outlasted: bool,
    reassured: bool,
    still_there: bool,
    now_besides_reassurance: bool,
    laughing_allowed: bool,
}

/// The sentence a match is in, and what the sentences after it say.
struct Sentence<'a> {
    text: &'a str,
    words: &'a [String],
    later_now: bool,
    placed_later: bool,
    /// An earlier sentence told a habit of the past (`i used to be in a bad way.`).
    after_used_to: bool,
}

/// Whether the match at `start..end` of the sentence is distanced.
fn match_distanced(
    rules: &CrisisMatcher,
    message: &Message,
    sentence: &Sentence<'_>,
    start: usize,
    end: usize,
) -> bool {
    let words = sentence.words;
    let (before, phrase) = (&words[..start], &words[start..end]);
    // `i've been thinking about ending my life since day 60` goes on, whatever the time
    // clean counted elsewhere in the message.
    let going_on = words[..end]
        .windows(2)
        .any(|w| w[0] == "been" && w[1].ends_with("ing"));
    let now = happening_now(words);
    let past = (message.clean && !going_on) || message.outlasted || told_as_past(words);
    // The longer shapes hold unless the message says it is back or worse (`it passed.
    // now mum's gone and it's back`): a relapse dated in the past with clean time
    // since, a past placed by the next sentence, time clean counting the phrase itself
    // (`two weeks self harm free`), a then told against a now, and a thought that came
    // and went with a reassurance, which also yields to a word of now anywhere in the
    // message but the reassurance's own (`i'm okay tonight` is one, `but tonight it's
    // worse` is not).
    let counted = shapes::clean_for(words, WEEKS_OR_MORE)
        && words
            .get(end)
            .is_some_and(|w| matches!(w.as_str(), "free" | "clean"));
    let since = sentence.placed_later || (message.clean_weeks && shapes::dated(words)) || counted;
    let reassured = message.reassured
        && !message.now_besides_reassurance
        && shapes::thought_had(words, start, end);
    // A `used to` that the sentence goes on telling by how often, then what is so
    // these days (`used to be in a bad way. i'd cut myself most nights. these days i
    // paint`).
    let contrasted = shapes::before_now(words, start, end, sentence.later_now)
        || (sentence.after_used_to
            && shapes::how_often(words)
            && (sentence.later_now || shapes::says_now(&words[end..])));
    let over = (since || reassured || contrasted) && !message.still_there;
    let elsewhere = someone_else(before, phrase)
        || shapes::reported(before, phrase)
        || quoted(rules, sentence.text);
    let laughed = message.laughing_allowed && joking(sentence.text, words);
    // A figure of speech with its everyday cause holds even `rn`; a topic asked about
    // or taught yields to a word of now (`… because tonight i cut myself again`).
    let topic = topics::everyday_cause(words, start, end)
        || ((topics::asked_of_the_group(words, start, end)
            || topics::in_a_role(words, start, end))
            && !now);
    ((past || over) && !now) || elsewhere || laughed || topic || denied(before, phrase)
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

/// Words that place a sentence in the present, whatever else it says of the past.
const NOW: &[&str] = &["tonight", "rn", "again", "currently", "lately", "tomorrow"];

/// Words that place a sentence in the present, whatever else it says of the past
/// (`i used to cut but tonight i did it again`).
fn happening_now(words: &[String]) -> bool {
    // `two years ago tonight` is an anniversary: the night is the past's.
    // `six weeks clean again` counts a streak, not an act again.
    words.iter().enumerate().any(|(i, w)| {
        NOW.contains(&w.as_str())
            && (i == 0 || !matches!(words[i - 1].as_str(), "ago" | "clean" | "sober" | "free"))
    })
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
        "feeling",
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
/// `/j`, `🙄 kidding, love her`, `only joking`) or laughs (`lol`, `lmao`, `haha`, `😂`,
/// `💀`). `are you kidding me` is disbelief, not a joke; `not kidding` and `wasnt
/// joking` take the laugh back ([`laugh_taken_back`]). The model still judges it: a
/// laugh can carry something meant, and the model has read both.
fn joking(sentence: &str, words: &[String]) -> bool {
    const LAUGHS: &[&str] = &[
        "jk", "j", "lol", "lmao", "lmfao", "haha", "hahaha", "rofl", "lool", "ded",
    ];
    const NOT_A_JOKE: &[&str] = &["not", "wasnt", "isnt", "aint", "no", "you", "u"];
    words.iter().enumerate().any(|(i, w)| {
        LAUGHS.contains(&w.as_str())
            || (matches!(w.as_str(), "kidding" | "joking")
                && !(i > 0 && NOT_A_JOKE.contains(&words[i - 1].as_str()))
                && words.get(i + 1).is_none_or(|next| next != "me"))
    }) || sentence.contains(['😂', '💀', '🤣', '😆'])
}

/// Whether the message takes a laugh back (`lol. not lol`, `no joke`, `i'm serious`).
fn laugh_taken_back(words: &[String]) -> bool {
    const BACK: &[&[&str]] = &[
        &["not", "lol"],
        &["not", "joking"],
        &["not", "kidding"],
        &["wasnt", "joking"],
        &["wasnt", "kidding"],
        &["isnt", "a", "joke"],
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
        || back_then(words)
}

/// `back in uni`, `and back at school`: a time of life gone, opening what the sentence
/// tells, not a return (`once the kids are back at school`, `i'm back in my room`).
fn back_then(words: &[String]) -> bool {
    const OPENING: &[&str] = &[
        "and", "but", "so", "even", "like", "yeah", "honestly", "tbh", "well", "ok", "okay",
    ];
    BACK_THEN.iter().any(|p| {
        words.windows(p.len()).enumerate().any(|(i, w)| {
            w.iter().zip(*p).all(|(a, b)| a == b)
                && (i == 0 || OPENING.contains(&words[i - 1].as_str()))
        })
    })
}

/// `when my baby was tiny`, `when we were at uni`: a time told as gone.
fn when_it_was(words: &[String]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        w == "when"
            && words[i + 1..]
                .iter()
                .take(4)
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
/// `sober for 2 yrs`, `clean since 2019`), not a streak that broke (`i was 6 months clean
/// and last night…`).
fn time_clean(words: &[String]) -> bool {
    shapes::clean_for(words, &["years", "yrs", "year", "months"])
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
        "having",
        "found",
        "caught",
        "who",
        "whos",
        "whod",
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
        .is_some_and(|w| is_third_person(w))
}

/// Whether a word names somebody else (`brother`, `brothers`, `she`).
fn is_third_person(w: &str) -> bool {
    THIRD_PERSON.contains(&w) || THIRD_PERSON.contains(&singular(w))
}

/// `brothers` → `brother`, `partners` → `partner` (a possessive joined by its
/// apostrophe, or a plural).
fn singular(w: &str) -> &str {
    w.strip_suffix('s').filter(|s| s.len() >= 2).unwrap_or(w)
}

#[cfg(test)]
mod tests;
