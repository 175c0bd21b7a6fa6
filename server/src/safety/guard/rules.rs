//! The guardrail's rules: cues that, found together in one sentence, make a message
//! describe what groups ask members not to share. A rule names a means **and** the
//! detail that makes it usable or graphic (a quantity, a place's particulars, an
//! instruction, a wound's depth); a means named alone, a feeling, or crisis words
//! alone are left to crisis detection.
//!
//! Where the line is drawn for medication: a dose in treatment ("my sertraline went up
//! to 100mg", "I take 2 tablets a day", "the doctor halved my dose") is ordinary life
//! and never counts; a quantity gathered, to be taken at once, or asked about as
//! enough to harm ("I've saved up 40", "all 30 at once", "how many would it take")
//! does. A treatment word in the sentence keeps a quantity of medication from counting
//! unless a word of harm is there too ("I stopped my meds and saved them up" still
//! counts).

use kindred_protocol::GuardCategory;

/// The longest text read, in characters: the cost of a message stays bounded.
const MAX_CHARS: usize = 4_000;

/// A word that begins with one of these (so "pill" reads "pills" too).
type Cues = &'static [&'static str];

const MEDS: Cues = &[
    "pill",
    "tablet",
    "capsule",
    "meds",
    "medication",
    "sertraline",
    "paracetamol",
    "tylenol",
    "acetaminophen",
    "ibuprofen",
    "aspirin",
    "lithium",
    "insulin",
    "xanax",
    "oxy",
    "opioid",
    "benzo",
    "sleeping",
    "antidepressant",
    "prozac",
    "zoloft",
    "lexapro",
    "citalopram",
    "escitalopram",
    "fluoxetine",
    "quetiapine",
    "seroquel",
    "amitriptyline",
    "codeine",
    "tramadol",
    "diazepam",
    "valium",
    "fentanyl",
    "heroin",
    "morphine",
    "zopiclone",
    "ambien",
    "propranolol",
    "venlafaxine",
    "effexor",
    "mirtazapine",
    "clonazepam",
    "klonopin",
    "lorazepam",
    "ativan",
    "trazodone",
    "gabapentin",
    "pregabalin",
    "olanzapine",
    "painkiller",
    "percocet",
    "vicodin",
    "hydrocodone",
    "methadone",
    "dose",
    "mg ",
    "od ",
    "codamol",
    "adderall",
    "klonopin",
    "benadryl",
    "kratom",
    "ketamine",
    "ket ",
    "coke",
    "cocaine",
    "heroin",
    "h ",
    "meth ",
    "mdma",
    "molly",
    "acid",
    "tabs",
    "lsd",
    "shrooms",
    "mushrooms",
    "bars ",
    "edible",
    "ghb",
    "gbl",
    "spice",
    "lines of",
    "line of",
    "grams",
    "gram ",
    "g of",
    "a g ",
    "half a g",
    "ml ",
    "valium",
    "oxy",
    "pills",
];

/// Drink counted out.
const DRINK: Cues = &[
    "shots",
    "pints",
    "vodka",
    "tequila",
    "gin ",
    "jack ",
    "whisky",
    "whiskey",
    "cider",
    "beers",
    "cans",
    "litre",
    "liter",
    "bottles of",
    "bottle of",
];

/// Why it was taken, when the reason is to feel nothing or harm.
const COPING: Cues = &[
    "blank",
    "forget",
    "get numb",
    "to feel nothing",
    "feel something",
    "stop thinking",
    "flashback",
    "nightmare",
    "to get through",
    "get through the day",
    "out of it",
    "sleep for",
    "see if i could",
    "to see what",
    "make it stop",
    "make the",
    "gone",
    "not feel",
    "dont want to feel",
    "anniversary",
    "funeral",
    "relapse",
    "cant stop",
    "every night",
    "since the",
    "first time in",
    "isnt prescribed",
    "not prescribed",
    "doesnt know",
    "doesn t know",
];

/// Several containers of a medication.
const CONTAINERS: Cues = &[
    "packs",
    "boxes",
    "packets",
    "strips",
    "bottles",
    "whole strip",
    "whole box",
    "whole pack",
    "whole bottle",
];

/// A quantity: a number written out or in digits, or a container's worth.
const QUANTITY: Cues = &[
    "ten", "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
    "ninety", "hundred", "dozen", "handful", "bottle", "box ", "boxes", "packet", "pack ", "packs",
    "whole", "all ", "every ", "strips", "blister", "month", "stash", "double", "triple",
];

/// Gathering a means for later.
const HOARD: Cues = &[
    "saved",
    "saving",
    "stockpil",
    "hoard",
    "collect",
    "stash",
    "gathered",
    "gathering",
    "hidden",
    "hiding",
    "hid ",
    "squirrel",
    "kept",
    "keeping",
    "built up",
    "enough",
];

/// Taking it to harm.
const HARM: Cues = &[
    "overdos",
    "od ",
    "lethal",
    "fatal",
    "deadly",
    "kill",
    "die ",
    "dying",
    "death",
    "end it",
    "end my",
    "swallow",
    "chug",
    "at once",
    "one go",
    "one sitting",
    "vodka",
    "alcohol",
    "wine",
    "whisky",
    "whiskey",
    "booze",
    "not wake",
    "never wake",
    "suicide",
    "liver",
    "take them all",
    "take all",
    "take the whole",
    "the lot",
    "all of them",
    "all of it",
    "at the same time",
];

/// Words of ordinary treatment.
const TREATMENT: Cues = &[
    "prescri",
    "doctor",
    "gp",
    "psychiatrist",
    "nurse",
    "pharmac",
    "went up",
    "upped",
    "increased",
    "increase",
    "lowered",
    "lower",
    "reduced",
    "reduce",
    "halved",
    "titrat",
    "a day",
    "daily",
    "morning",
    "nightly",
    "at night",
    "twice",
    "side effect",
    "taper",
    "withdrawal",
    "refill",
    "switched",
    "started on",
    "dosage",
    "appointment",
    "script",
    "review",
    "feel flat",
    "helping",
];

/// Places people go to fall or jump from, or be hit.
const PLACES: Cues = &[
    "bridge",
    "cliff",
    "roof",
    "ledge",
    "overpass",
    "flyover",
    "tracks",
    "railway",
    "train line",
    "rail line",
    "tower",
    "car park",
    "parking garage",
    "multi storey",
    "balcony",
    "quarry",
    "viaduct",
    "motorway",
    "highway",
    "platform",
    "building",
    "window",
];

/// What makes a place usable: its particulars.
const PLACE_DETAIL: Cues = &[
    "no fence",
    "no railing",
    "no barrier",
    "no rail",
    "fence",
    "railing",
    "barrier",
    "high enough",
    "how high",
    "tall enough",
    "drop",
    "storey",
    "floors",
    "floor up",
    "metres",
    "meters",
    "feet",
    "ft",
    "unlocked",
    "open at",
    "nobody",
    "no one",
    "no cameras",
    "camera",
    "express",
    "timetable",
    "doesn t stop",
    "doesnt stop",
    "fast train",
    " road",
    "street",
    "lane ",
    "near my",
    "by my",
    "access",
    "climb",
    "gap ",
    "no gates",
    "level",
    "roof door",
    "never locked",
    "over the edge",
    "edge",
    "stairwell",
    "highest",
];

/// Acts of falling or jumping.
const FALL: Cues = &[
    "jump",
    "fall from",
    "fall off",
    "step off",
    "step in front",
    "leap",
    "throw myself",
    "no fence",
    "no railing",
    "no barrier",
    "high enough",
    "end it",
    "die ",
    "kill",
    "suicide",
    "nobody would",
    "no one would",
    "over the edge",
    "off the edge",
    "looked over",
    "by the track",
    "on the track",
    "keep looking",
    "keep thinking",
    "not come back",
    "nobody goes",
    "no one goes",
    "doesnt have a barrier",
    "doesn t have a barrier",
    "no barrier",
    "standing by",
];

/// Asking for or giving instructions.
const HOWTO: Cues = &[
    "how to",
    "how do you",
    "how do i",
    "how would",
    "how many",
    "how much",
    "how long",
    "best way",
    "quickest way",
    "fastest way",
    "easiest way",
    "painless",
    "surest way",
    "step by step",
    "instructions",
    "what dose",
    "which pills",
    "which meds",
    "what s the best",
    "would it take",
    "does it take",
    "guaranteed",
];

/// What an instruction is about.
const HARM_ACT: Cues = &[
    "kill myself",
    "kill yourself",
    "end it",
    "end my life",
    "die ",
    "suicide",
    "hang ",
    "hang myself",
    "noose",
    "overdos",
    "od ",
    "slit",
    "cut deep",
    "cut deeper",
    "bleed out",
    "lethal",
    "fatal",
    "not wake",
    "never wake",
    "unalive",
];

/// Ligatures and what they are tied to.
const LIGATURE: Cues = &[
    "rope", "noose", "belt", "cord", "ligature", "scarf", "cable",
];
const LIGATURE_DETAIL: Cues = &[
    "beam",
    "door",
    "hook",
    "knot",
    "tied",
    "tie",
    "hold my weight",
    "hold my",
    "strong enough",
    "tested",
    "bannister",
    "banister",
    "rail",
    "loft",
    "garage",
    "tree",
    "ceiling",
    "closet",
    "wardrobe",
    "around my neck",
    "round my neck",
    "neck",
];

/// Blades, and where and how they are used.
const BLADE: Cues = &[
    "blade",
    "razor",
    "knife",
    "scissors",
    "broken glass",
    "shard",
    "scalpel",
    "sharpener",
    "box cutter",
    "stanley",
];
const BLADE_DETAIL: Cues = &[
    "vein",
    "artery",
    "wrist",
    "deep",
    "vertical",
    "down the",
    "along the",
    "sharpened",
    "took apart",
    "took out",
    "broke open",
    "pencil sharpener",
    "thigh",
    "throat",
    "stash",
];

/// Other means with their particulars.
const GAS: Cues = &[
    "exhaust",
    "hose",
    "charcoal",
    "carbon monoxide",
    "helium",
    "gas",
];
const GAS_DETAIL: Cues = &[
    "car", "garage", "tent", "seal", "tape", "bag", "tank", "room",
];
const GUN: Cues = &[
    "gun", "rifle", "pistol", "shotgun", "bullet", "firearm", "revolver",
];
const GUN_DETAIL: Cues = &[
    "loaded",
    "load ",
    "bought",
    "cabinet",
    "key",
    "combination",
    "ammo",
    "bullet",
    "mouth",
    "head",
    "temple",
    "trigger",
];

/// Wounds, blood and burns described.
const BLOOD: Cues = &["blood", "bled", "bleeding"];
const BLOOD_DETAIL: Cues = &[
    "everywhere",
    "pool",
    "soak",
    "spurt",
    "gush",
    "drip",
    "pour",
    "puddle",
    "sheets",
    "floor",
    "sink",
    "bath",
    "wouldn t stop",
    "wouldnt stop",
    "wont stop",
    "won t stop",
    "spray",
    "squirt",
    "covered in",
    "dripping",
    "down my",
];
const WOUND: Cues = &[
    "cut myself",
    "cut my",
    "cuts ",
    "cutting",
    "slashed",
    "gash",
    "wound",
    "sliced",
    "carved",
    "burned my",
    "burnt my",
    "burned myself",
    "burnt myself",
    "burns ",
    "burn myself",
    "split open",
];
const WOUND_DETAIL: Cues = &[
    "bone",
    "fat ",
    "tendon",
    "muscle",
    "stitch",
    "layer",
    "gaping",
    "deep",
    "flesh",
    "skin peel",
    "peeled",
    "melted",
    "blister",
    "lighter",
    "iron ",
    "cigarette",
    "kettle",
    "inch",
    "to the white",
];

/// An attack told in its bodily particulars.
const VIOLENCE: Cues = &[
    "held me down",
    "pinned me",
    "pinned my",
    "choked me",
    "choking me",
    "strangled",
    "hands around my",
    "hands round my",
    "hand over my mouth",
    "forced me",
    "forced his",
    "forced himself",
    "ripped my",
    "ripped off my",
    "tore my",
    "beat me",
    "punched me",
    "kicked me",
    "stabbed",
    "smashed my",
    "dragged me",
    "penetrat",
    "slammed my",
    "held my head",
    "bent my",
    "broke my",
    "ripped the skin",
    "bit the",
];
const BODY: Cues = &[
    "throat",
    "neck",
    "face",
    "skull",
    "teeth",
    "tooth",
    "ribs",
    "blood",
    "inside me",
    "clothes",
    "underwear",
    "legs apart",
    "thighs",
    "mouth",
    "nose",
    "eye",
    "head",
    "black out",
    "blacked out",
    "passed out",
    "couldn t breathe",
    "couldnt breathe",
    "bone",
    "crack",
    "snap",
    "bruise",
    "hair",
    "floor",
    "wall",
    "until i",
    "till i",
    "fingers",
    "under the",
    "skin",
    "flap",
    "metal",
];

/// Injury told in its particulars: one of these is enough.
const GORE: Cues = &[
    "stumps",
    "shredded",
    "insides were",
    "insides all",
    "cut in half",
    "guts were",
    "guts all",
    "pus ",
    "pus coming",
    "loose flaps",
    "skin off",
    "skin came away",
    "came away on",
    "bone sticking",
    "sticking out of",
    "down to the white",
    "brains",
    "decapitat",
    "intestines",
    "still twitching",
    "heard each one crack",
    "under the bath water",
    "under the water until",
    "skin was black",
    "skin melted",
    "melted skin",
    "lost his hand",
    "lost her hand",
    "lost his leg",
    "lost his legs",
    "legs were gone",
    "blood spurt",
    "bled out",
];

/// A story on a screen or a page, not a member's own.
const FICTION: Cues = &[
    "film", "movie", "horror", "series", "episode", "book", "game",
];

/// What one rule needs: a cue from every set, none from `unless` (if any).
struct Rule {
    category: GuardCategory,
    all: &'static [Cues],
    /// A quantity too: a cue of [`QUANTITY`] or a number in digits.
    quantity: bool,
    unless: Option<(Cues, Cues)>,
}

/// The rules, in the order they are asked.
const RULES: &[Rule] = &[
    // A quantity of medication gathered or to be taken to harm.
    Rule {
        category: GuardCategory::Dose,
        all: &[MEDS, HOARD],
        quantity: true,
        unless: Some((TREATMENT, HARM)),
    },
    Rule {
        category: GuardCategory::Dose,
        all: &[MEDS, HARM],
        quantity: true,
        unless: Some((TREATMENT, HARM_ACT)),
    },
    // A substance in a quantity taken to feel nothing, or any drink counted out so.
    Rule {
        category: GuardCategory::Dose,
        all: &[MEDS, COPING],
        quantity: true,
        unless: None,
    },
    Rule {
        category: GuardCategory::Dose,
        all: &[DRINK, COPING],
        quantity: true,
        unless: None,
    },
    // Several boxes of a medication at hand.
    Rule {
        category: GuardCategory::Dose,
        all: &[MEDS, CONTAINERS],
        quantity: false,
        unless: Some((TREATMENT, HARM)),
    },
    // Asking or telling how much of a medication, then how at all.
    Rule {
        category: GuardCategory::Dose,
        all: &[HOWTO, MEDS, HARM],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[HOWTO, HARM_ACT],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[PLACES, PLACE_DETAIL, FALL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[LIGATURE, LIGATURE_DETAIL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[BLADE, BLADE_DETAIL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[GAS, GAS_DETAIL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Method,
        all: &[GUN, GUN_DETAIL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Graphic,
        all: &[BLOOD, BLOOD_DETAIL],
        quantity: false,
        unless: Some((FICTION, &[])),
    },
    Rule {
        category: GuardCategory::Graphic,
        all: &[WOUND, WOUND_DETAIL],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Graphic,
        all: &[VIOLENCE, BODY],
        quantity: false,
        unless: None,
    },
    Rule {
        category: GuardCategory::Graphic,
        all: &[GORE],
        quantity: false,
        unless: None,
    },
];

/// What the rules find in a message: the first rule that matches in one of its
/// sentences.
pub fn detect(text: &str) -> Option<GuardCategory> {
    let text: String = text.chars().take(MAX_CHARS).collect();
    for sentence in sentences(&text) {
        for rule in RULES {
            if matches(rule, &sentence) {
                return Some(rule.category);
            }
        }
    }
    None
}

fn matches(rule: &Rule, s: &Sentence) -> bool {
    if !rule.all.iter().all(|cues| s.has(cues)) {
        return false;
    }
    if rule.quantity && !(s.number || s.has(QUANTITY)) {
        return false;
    }
    match rule.unless {
        // A word of treatment keeps it out, unless a word of harm is there too.
        Some((unless, but)) => !s.has(unless) || s.has(but),
        None => true,
    }
}

/// One sentence as the rules read it: its words, lower case, apostrophes read as a
/// space ("don't" is "don t"), joined by single spaces with one at the end; and the
/// text from each word's start, sorted, so that a cue (a word's start, or several
/// words) is found by a binary search rather than a scan.
struct Sentence {
    padded: String,
    /// Where each word starts in `padded`, ordered by the text from there on.
    starts: Vec<usize>,
    /// It holds a number in digits ("40", "2g", "100mg").
    number: bool,
}

impl Sentence {
    fn new(padded: String, number: bool) -> Self {
        let bytes = padded.as_bytes();
        let mut starts: Vec<usize> = (0..bytes.len())
            .filter(|&i| bytes[i] != b' ' && (i == 0 || bytes[i - 1] == b' '))
            .collect();
        starts.sort_unstable_by(|a, b| padded[*a..].cmp(&padded[*b..]));
        Self {
            padded,
            starts,
            number,
        }
    }

    fn has(&self, cues: Cues) -> bool {
        cues.iter().any(|cue| {
            // A cue written with a space first means a word's start: every start is.
            let cue = cue.trim_start();
            let at = self.starts.partition_point(|&p| &self.padded[p..] < cue);
            self.starts
                .get(at)
                .is_some_and(|&p| self.padded[p..].starts_with(cue))
        })
    }
}

/// The message split at sentence ends (`.`, `!`, `?`, a line break; ", and" does
/// not end one).
fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    for part in text.split(['.', '!', '?', '\n', ';']) {
        let mut padded = String::new();
        let mut number = false;
        let mut last_space = true;
        for c in part.chars() {
            if c.is_alphanumeric() {
                for l in c.to_lowercase() {
                    padded.push(l);
                }
                number |= c.is_ascii_digit();
                last_space = false;
            } else if !last_space {
                padded.push(' ');
                last_space = true;
            }
        }
        if !last_space {
            padded.push(' ');
        }
        if padded.trim().is_empty() {
            continue;
        }
        // A digit stuck to its unit ("100mg", "2g") is still the unit.
        let padded = split_units(&padded);
        out.push(Sentence::new(padded, number));
    }
    out
}

/// "100mg" read as "100 mg".
fn split_units(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev_digit = false;
    for c in s.chars() {
        if prev_digit && c.is_alphabetic() {
            out.push(' ');
        }
        prev_digit = c.is_ascii_digit();
        out.push(c);
    }
    out
}
