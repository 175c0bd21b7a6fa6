//! The longer shapes of a story told as over or as somebody else's, which need more of
//! the message than the words right before the phrase: a thought followed by a
//! reassurance, a relapse dated in the past with clean time counted since, a `before …
//! now` contrast, and somebody else's words reported (`my brother told me he's…`).

use super::words::{
    AUTHOR_AMONG, DATED_AFTER, FIRST_PERSON, MONTHS, PAST_VERBS, REASSURANCES, SAYING, THOUGHTS,
    WEEKDAYS,
};
use super::{NOW, is_third_person, says_any};

/// Whether the message reassures: the author is safe or all right now, the thought
/// passed, they did not act on it, or they used their support (`i'm safe`, `they were
/// passing ones`, `but didn't and i'm proud of that`, `called my sister`). A
/// reassurance denied, hoped for or reported (`i'm not ok`, `not sure i'm safe`, `i told
/// her i'm fine`) is none.
pub(super) fn reassured(words: &[String]) -> bool {
    // Right before it (`i was doing ok`, `if i'm safe`), or a word further back that
    // takes it back (`not sure i'm safe`, `told her i'm fine`).
    const UNSAID: &[&str] = &[
        "not",
        "never",
        "dont",
        "wasnt",
        "isnt",
        "arent",
        "cant",
        "wont",
        "if",
        "unless",
        "until",
        "whether",
        "sure",
        "said",
        "say",
        "says",
        "saying",
        "told",
        "tell",
        "pretend",
        "pretending",
        "pretended",
        "seem",
        "seems",
        "look",
        "looks",
        "act",
        "acting",
        "supposed",
        "meant",
        "hope",
        "hoping",
        "wish",
    ];
    const UNSAID_NEXT_TO: &[&str] = &["was", "were", "been"];
    let said_for_real = |at: usize| {
        let next_to = at.checked_sub(1).map(|i| words[i].as_str());
        !next_to.is_some_and(|w| UNSAID_NEXT_TO.contains(&w))
            && !words[at.saturating_sub(2)..at]
                .iter()
                .any(|w| UNSAID.contains(&w.as_str()))
    };
    let found = REASSURANCES.iter().any(|p| {
        words
            .windows(p.len())
            .enumerate()
            .any(|(at, w)| w.iter().zip(*p).all(|(a, b)| a == b) && said_for_real(at))
    });
    // `but didn't`, `i didn't and`: the act not done (`didn't tell anyone` is not one).
    const DONE_WITH: &[&str] = &[
        "and",
        "act",
        "do",
        "go",
        "though",
        "thankfully",
        "cos",
        "because",
        "so",
        "which",
        "but",
        "this",
    ];
    let not_done = words.iter().enumerate().any(|(i, w)| {
        w == "didnt"
            && i > 0
            && matches!(words[i - 1].as_str(), "but" | "i")
            && words
                .get(i + 1)
                .is_none_or(|n| DONE_WITH.contains(&n.as_str()))
    });
    found || not_done
}

/// Whether the match is a thought or an urge the sentence tells as having happened
/// (`i had some suicidal thoughts this week`, `thought about hurting myself yesterday`),
/// not one going on (`i'm having suicidal thoughts`, `i've been thinking about it`) and
/// not an act (`i cut myself yesterday`).
pub(super) fn thought_had(words: &[String], start: usize, end: usize) -> bool {
    const WHEN: &[&str] = &[
        "yesterday",
        "earlier",
        "week",
        "weekend",
        "morning",
        "afternoon",
        "evening",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let near = &words[start.saturating_sub(4)..(end + 2).min(words.len())];
    let thought = near.iter().any(|w| THOUGHTS.contains(&w.as_str()));
    let going_on = words[..end].iter().enumerate().any(|(i, w)| {
        matches!(
            w.as_str(),
            "having" | "been" | "keep" | "keeps" | "still" | "now" | "currently" | "rn"
        ) || (w == "thinking" && i > 0 && matches!(words[i - 1].as_str(), "im" | "am" | "is"))
    });
    // `suicidal thoughts came up in therapy`: the verb may follow the phrase.
    let past = words[..(end + 2).min(words.len())]
        .iter()
        .any(|w| PAST_VERBS.contains(&w.as_str()))
        || words.iter().any(|w| WHEN.contains(&w.as_str()));
    thought && past && !going_on
}

/// Whether the message has a word of now (`tonight`, `rn`, `again`) that is not part
/// of a reassurance (`i'm okay tonight`, `safe rn`): `but tonight it's worse`.
pub(super) fn now_besides_reassurance(words: &[String]) -> bool {
    const SAID_OF: &[&str] = &["safe", "ok", "okay", "fine", "alright", "good", "better"];
    words.iter().enumerate().any(|(i, w)| {
        NOW.contains(&w.as_str())
            && !words[i.saturating_sub(2)..i].iter().any(|p| {
                SAID_OF.contains(&p.as_str())
                    || matches!(p.as_str(), "ago" | "clean" | "sober" | "free")
            })
    })
}

/// Whether the message says the thought is still there or came back (`and still
/// having them`, `they're not passing`, `now it's back`).
pub(super) fn still_there(words: &[String]) -> bool {
    const STILL: &[&[&str]] = &[
        &["still", "there"],
        &["still", "here"],
        &["still", "having"],
        &["still", "have"],
        &["still", "thinking"],
        &["still", "want"],
        &["still", "wanting"],
        &["not", "passing"],
        &["not", "passed"],
        &["wont", "pass"],
        &["wont", "go"],
        &["not", "going", "away"],
        &["its", "back"],
        &["theyre", "back"],
        &["is", "back"],
        &["are", "back"],
        &["it", "came", "back"],
        &["they", "came", "back"],
        &["its", "coming", "back"],
        &["theyre", "coming", "back"],
        &["came", "back", "again"],
        &["full", "force"],
        &["back", "hard"],
        &["back", "worse"],
        &["back", "stronger"],
        &["back", "again"],
        &["its", "worse"],
        &["getting", "worse"],
        &["theyre", "worse"],
        &["even", "worse"],
    ];
    says_any(words, STILL)
}

/// Whether the sentence dates what it tells in the past: a month or a season (`in
/// march`, `over christmas`), a weekday (`on tuesday`, `last friday`), or weeks gone
/// (`last week`, `three weeks ago`).
pub(super) fn dated(words: &[String]) -> bool {
    const SINCE: &[&[&str]] = &[
        &["last", "week"],
        &["weeks", "ago"],
        &["wks", "ago"],
        &["week", "ago"],
        &["other", "week"],
        &["weeks", "back"],
    ];
    words.windows(2).any(|w| {
        let (before, when) = (w[0].as_str(), w[1].as_str());
        (MONTHS.contains(&when) && DATED_AFTER.contains(&before))
            || (WEEKDAYS.contains(&when) && matches!(before, "on" | "last" | "since"))
    }) || says_any(words, SINCE)
}

/// Time clean or sober counted since, in any of `spans` (`6 weeks clean again today`,
/// `clean for 3 months`, `100 days clean`, `clean since march`, `two years self harm
/// free`), not a streak that broke (`i was 6 weeks clean`, `after two years clean`,
/// `lost 3 months clean`).
pub(super) fn clean_for(words: &[String], spans: &[&str]) -> bool {
    const BROKEN: &[&str] = &[
        "was", "were", "after", "had", "lost", "broke", "broken", "ruined", "until", "til", "till",
        "threw", "end", "ended",
    ];
    // A span of time, or a count of days of a month or more (`100 days`).
    let span = |j: usize| {
        spans.contains(&words[j].as_str())
            || (words[j] == "days" && j > 0 && words[j - 1].parse::<u32>().is_ok_and(|n| n >= 30))
    };
    words.iter().enumerate().any(|(i, w)| {
        let free = match w.as_str() {
            "clean" | "sober" => false,
            "free" => true,
            _ => return false,
        };
        let after = !free
            && (words.get(i + 1).is_some_and(|n| n == "since")
                || (i + 1..words.len().min(i + 4)).any(span));
        let before = (i.saturating_sub(4)..i).any(span);
        let broken = words[i.saturating_sub(4)..i]
            .iter()
            .any(|n| BROKEN.contains(&n.as_str()));
        (after || before) && !broken
    })
}

/// `before i got help i wanted to die every day, now …`: the phrase in a clause that
/// `before` (or `after`, `when`, `last time`) opens, told as a thought or a habit of the
/// past, and a `now` after it that opens what is so today, in the sentence or the
/// message (`later_now`). `before you all go, i want to die` tells no past, `before my
/// sister came i was going to…` is an intent broken off, and `after i got home i took
/// all my tablets, now i feel faint` is an act, not a thought or a habit.
pub(super) fn before_now(words: &[String], start: usize, end: usize, later_now: bool) -> bool {
    const THEN: &[&str] = &["before", "after", "when", "time"];
    let Some(b) = words[..start.min(4)]
        .iter()
        .position(|w| THEN.contains(&w.as_str()))
    else {
        return false;
    };
    let clause = &words[b + 1..end];
    let near = &words[start.saturating_sub(4)..(end + 2).min(words.len())];
    let thought = near
        .iter()
        .any(|w| THOUGHTS.contains(&w.as_str()) || w == "suicidal");
    // `i was hurting myself`, `i would cut`, `i used to`, `i tried twice`: a habit or a
    // history of the time.
    let habit = clause.windows(2).any(|w| {
        (matches!(w[0].as_str(), "was" | "were") && w[1].ends_with("ing"))
            || matches!(w[0].as_str(), "would" | "used")
    }) || words[end..]
        .iter()
        .take(2)
        .any(|w| matches!(w.as_str(), "twice" | "times" | "constantly" | "often"));
    let broken_off = clause
        .windows(2)
        .any(|w| matches!(w[0].as_str(), "going" | "gonna") || (w[0] == "about" && w[1] == "to"));
    (thought || habit) && !broken_off && (says_now(&words[end..]) || later_now)
}

/// Whether the words turn to what is so now: `now` (or `nowadays`, `today`) opening
/// something (`now i have my baby`, `i'm now a peer supporter`), not closing a report
/// of this moment (`i'm upstairs now`, `right now`).
pub(super) fn says_now(words: &[String]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        let these_days = w == "days" && i > 0 && words[i - 1] == "these";
        (matches!(w.as_str(), "now" | "nowadays" | "today") || these_days)
            && i + 1 < words.len()
            && (i == 0 || words[i - 1] != "right")
    })
}

/// Whether the sentence tells a habit by how often (`most nights`, `every day`,
/// `constantly`): `i'd cut myself most nights` after a `used to`, not `i'd kill myself
/// if i could`.
pub(super) fn how_often(words: &[String]) -> bool {
    const OFTEN: &[&[&str]] = &[
        &["every", "night"],
        &["every", "day"],
        &["every", "morning"],
        &["every", "week"],
        &["most", "nights"],
        &["most", "days"],
        &["most", "mornings"],
        &["all", "the", "time"],
        &["constantly"],
        &["daily"],
        &["nightly"],
        &["often"],
    ];
    says_any(words, OFTEN)
}

/// Whether the phrase is somebody else's words reported: a word of saying (`told`,
/// `said`, `texted`) whose subject is somebody else comes before it (`my brother told
/// me he's been having suicidal thoughts`, `one of my students wrote an essay about
/// wanting to die`), and nothing after it names the author (`my brother told me to call
/// someone because i want to die` is the author's own), nor does the phrase.
pub(super) fn reported(before: &[String], phrase: &[String]) -> bool {
    const SUBJECT_HELPING: &[&str] = &[
        "just",
        "has",
        "had",
        "finally",
        "recently",
        "also",
        "apparently",
        "once",
        "then",
        "actually",
        "literally",
        "even",
        "always",
        "kept",
        "keeps",
        "s",
    ];
    let author =
        |w: &String| FIRST_PERSON.contains(&w.as_str()) || AUTHOR_AMONG.contains(&w.as_str());
    if phrase.iter().any(author) {
        return false;
    }
    let Some(r) = before
        .iter()
        .rposition(|w| SAYING.contains(&w.as_str()))
        .filter(|r| before.len() - r <= 16)
    else {
        return false;
    };
    // The one who said it: somebody else named in the few words before, and not the
    // author (`my best mate back in dublin says`, `three kids have told me`, but not
    // `i told my mum`).
    let subject = before[..r]
        .iter()
        .rev()
        .take(6)
        .filter(|w| !SUBJECT_HELPING.contains(&w.as_str()))
        .find(|w| is_third_person(w) || FIRST_PERSON.contains(&w.as_str()));
    if !subject.is_some_and(|w| is_third_person(w)) {
        return false;
    }
    let mut said = &before[r + 1..];
    if said.first().is_some_and(|w| w == "me" || w == "us") {
        said = &said[1..];
    }
    // `told me to …` is advice to the author, not somebody's own story.
    if said.first().is_some_and(|w| w == "to") {
        return false;
    }
    !said.iter().any(author)
}

/// `that was three weeks ago`, `this was 18 months ago`: the next sentence places what
/// the one before told in the past.
pub(super) fn placed_later(next: &[String]) -> bool {
    const SPANS: &[&str] = &[
        "weeks", "wks", "months", "years", "yrs", "ages", "year", "month", "decade",
    ];
    let opens = matches!(
        next,
        [a, b, ..] if matches!(a.as_str(), "that" | "this" | "it") && b == "was"
    ) || next.first().is_some_and(|w| w == "thats");
    opens
        && next
            .windows(2)
            .any(|w| SPANS.contains(&w[0].as_str()) && w[1] == "ago")
}
