//! The shapes in which crisis words name a topic or a figure of speech rather than
//! the author's state: a wish to die with its everyday cause (`want to die of
//! embarrassment`, `melting already, want to die sia`), a question about talking of it
//! in the group (`are we allowed to talk about self harm in here`), and a role, a
//! training or a game about it (`safeguarding training, spotting signs of self harm`,
//! `my bard faked his own death with a suicide note`).

use super::words::{AUTHOR_AMONG, FIRST_PERSON};

/// The words a bare wish to die is made of (`i just want to die`, `wanna die`): the
/// figure of speech, not `kill myself` nor `end it all`.
const WISH: &[&str] = &[
    "i",
    "im",
    "just",
    "literally",
    "lowkey",
    "actually",
    "honestly",
    "want",
    "wanna",
    "wants",
    "to",
    "die",
    "dying",
    "could",
    "gonna",
    "going",
];

/// What people say they could die of when they mean no harm: `of embarrassment`,
/// `from the heat`, `of laughing`, `of boredom`.
const CAUSES: &[&str] = &[
    "embarrassment",
    "embarassment",
    "embarrasment",
    "embarasment",
    "shame",
    "cringe",
    "cringing",
    "heat",
    "cold",
    "laughing",
    "laughter",
    "boredom",
    "cuteness",
    "hunger",
    "thirst",
    "jealousy",
    "envy",
    "excitement",
    "suspense",
    "anticipation",
    "happiness",
    "humidity",
];

/// Words between `of`/`from` and its cause (`of pure embarrassment`, `from the heat`,
/// `of second hand embarrassment`).
const CAUSE_BETWEEN: &[&str] = &[
    "the",
    "this",
    "that",
    "pure",
    "sheer",
    "second",
    "hand",
    "secondhand",
    "all",
];

/// Everyday nuisances that, told in the same sentence as a bare wish to die, are its
/// reason (`the heat today ah, melting already, want to die sia`, `so hungover i want
/// to die`). Not pain, loss or failure: `i want to die, everything hurts` is meant.
const NUISANCES: &[&str] = &[
    "heat", "humid", "humidity", "melting", "sweating", "aircon", "heatwave", "hungover",
    "hangover", "cringe", "cringing",
];

/// Words of despair that make a wish to die meant whatever nuisance the sentence also
/// names (`so hungover i want to die, nothing matters`, `the heat, i want to die, i'm
/// so tired of everything`).
const DESPAIR: &[&str] = &[
    "nothing",
    "matters",
    "point",
    "pointless",
    "anymore",
    "hopeless",
    "worthless",
    "hurts",
    "pain",
    "alone",
    "everything",
    "nobody",
    "life",
    "living",
    "tired",
    "exhausted",
    "crying",
    "cry",
    "hate",
];

/// Whether the match is a bare wish to die told with an everyday cause: `of` or `from`
/// one right after it, or a nuisance in the sentence and no word of despair.
pub(super) fn everyday_cause(words: &[String], start: usize, end: usize) -> bool {
    let phrase = &words[start..end];
    let bare = phrase.iter().any(|w| matches!(w.as_str(), "die" | "dying"))
        && phrase.iter().all(|w| WISH.contains(&w.as_str()));
    if !bare {
        return false;
    }
    let mut after = words[end..].iter().map(String::as_str);
    let of_cause = matches!(after.next(), Some("of" | "from"))
        && after
            .find(|w| !CAUSE_BETWEEN.contains(w))
            .is_some_and(|w| CAUSES.contains(&w));
    let nuisance = words.iter().any(|w| NUISANCES.contains(&w.as_str()))
        && !words.iter().any(|w| DESPAIR.contains(&w.as_str()));
    of_cause || nuisance
}

/// Words that ask about the group's ways (`are we allowed`, `is there a rule`,
/// `against the guidelines`, `question for the mods`).
const GROUP_WAYS: &[&str] = &[
    "allowed",
    "rule",
    "rules",
    "guideline",
    "guidelines",
    "permitted",
    "mods",
    "moderators",
    "tw",
    "cw",
];

/// Words of a role, a training or a game in which crisis words are a topic
/// (`safeguarding training`, `a module on suicide prevention`, `our dnd campaign`).
const ROLES: &[&str] = &[
    "training",
    "trained",
    "course",
    "module",
    "workshop",
    "seminar",
    "lecture",
    "webinar",
    "safeguarding",
    "teach",
    "teaching",
    "taught",
    "curriculum",
    "dnd",
    "rpg",
    "campaign",
    "bard",
    "npc",
    "wizard",
    "rogue",
    "paladin",
    "cleric",
    "dungeon",
    "roleplay",
];

/// Whether the match stands where a topic does: a word that opens one (`about`, `on`,
/// `of`, `with`, `spotting signs of`) in the few words before it, and nothing of the
/// author's between (`can i talk about my self harm` is their own), nor in the phrase.
fn as_a_topic(words: &[String], start: usize, end: usize) -> bool {
    const OPENS: &[&str] = &[
        "about",
        "on",
        "of",
        "with",
        "re",
        "regarding",
        "around",
        "spotting",
        "signs",
    ];
    let author =
        |w: &String| FIRST_PERSON.contains(&w.as_str()) || AUTHOR_AMONG.contains(&w.as_str());
    if words[start..end].iter().any(author) {
        return false;
    }
    let before = &words[start.saturating_sub(4)..start];
    before
        .iter()
        .rposition(|w| OPENS.contains(&w.as_str()))
        .is_some_and(|o| !before[o + 1..].iter().any(author))
}

/// Whether the match is a topic asked about in the group's ways (`are we allowed to
/// talk about self harm in here`, `is there a rule about posting about self harm`).
pub(super) fn asked_of_the_group(words: &[String], start: usize, end: usize) -> bool {
    as_a_topic(words, start, end) && words.iter().any(|w| GROUP_WAYS.contains(&w.as_str()))
}

/// Whether the match is a topic of a role, a training or a game (`safeguarding training
/// at school, spotting signs of abuse and self harm in the kids`, `my bard faked his own
/// death with a suicide note`).
pub(super) fn in_a_role(words: &[String], start: usize, end: usize) -> bool {
    as_a_topic(words, start, end) && words.iter().any(|w| ROLES.contains(&w.as_str()))
}
