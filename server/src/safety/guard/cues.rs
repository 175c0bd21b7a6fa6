//! The cues the guardrail's rules look for ([`super::rules`]), by what they name: a
//! word that begins with one of them, or a few words in a row. Kept dense, one list
//! to a paragraph, so the whole vocabulary reads at a glance.

/// A word that begins with one of these (so "pill" reads "pills" too).
pub(super) type Cues = &'static [&'static str];

#[rustfmt::skip]
pub(super) const MEDS: Cues = &[
    "pill", "tablet", "capsule", "meds", "medication", "sertraline", "paracetamol",
    "tylenol", "acetaminophen", "ibuprofen", "aspirin", "lithium", "insulin", "xanax",
    "oxy", "opioid", "benzo", "sleeping", "antidepressant", "prozac", "zoloft", "lexapro",
    "citalopram", "escitalopram", "fluoxetine", "quetiapine", "seroquel", "amitriptyline",
    "codeine", "tramadol", "diazepam", "valium", "fentanyl", "heroin", "morphine",
    "zopiclone", "ambien", "propranolol", "venlafaxine", "effexor", "mirtazapine",
    "clonazepam", "klonopin", "lorazepam", "ativan", "trazodone", "gabapentin",
    "pregabalin", "olanzapine", "painkiller", "percocet", "vicodin", "hydrocodone",
    "methadone", "dose", "mg ", "od ", "codamol", "adderall", "klonopin", "benadryl",
    "kratom", "ketamine", "ket ", "coke", "cocaine", "heroin", "h ", "meth ", "mdma",
    "molly", "acid", "tabs", "lsd", "shrooms", "mushrooms", "bars ", "edible", "ghb", "gbl",
    "spice", "lines of", "line of", "grams", "gram ", "g of", "a g ", "half a g", "ml ",
    "valium", "oxy", "pills",
];

/// Drink counted out.
#[rustfmt::skip]
pub(super) const DRINK: Cues = &[
    "shots", "pints", "vodka", "tequila", "gin ", "jack ", "whisky", "whiskey", "cider",
    "beers", "cans", "litre", "liter", "bottles of", "bottle of",
];

/// Why it was taken, when the reason is to feel nothing or harm.
#[rustfmt::skip]
pub(super) const COPING: Cues = &[
    "blank", "forget", "get numb", "to feel nothing", "feel something", "stop thinking",
    "flashback", "nightmare", "to get through", "get through the day", "out of it",
    "sleep for", "see if i could", "to see what", "make it stop", "make the", "gone",
    "not feel", "dont want to feel", "anniversary", "funeral", "relapse", "cant stop",
    "every night", "since the", "first time in", "isnt prescribed", "not prescribed",
    "doesnt know", "doesn t know",
];

/// Several containers of a medication.
#[rustfmt::skip]
pub(super) const CONTAINERS: Cues = &[
    "packs", "boxes", "packets", "strips", "bottles", "whole strip", "whole box",
    "whole pack", "whole bottle",
];

/// A quantity: a number written out or in digits, or a container's worth.
#[rustfmt::skip]
pub(super) const QUANTITY: Cues = &[
    "ten", "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
    "eighty", "ninety", "hundred", "dozen", "handful", "bottle", "box ", "boxes", "packet",
    "pack ", "packs", "whole", "all ", "every ", "strips", "blister", "month", "stash",
    "double", "triple",
];

/// Gathering a means for later.
#[rustfmt::skip]
pub(super) const HOARD: Cues = &[
    "saved", "saving", "stockpil", "hoard", "collect", "stash", "gathered", "gathering",
    "hidden", "hiding", "hid ", "squirrel", "kept", "keeping", "built up", "enough",
];

/// Taking it to harm.
#[rustfmt::skip]
pub(super) const HARM: Cues = &[
    "overdos", "od ", "lethal", "fatal", "deadly", "kill", "die ", "dying", "death",
    "end it", "end my", "swallow", "chug", "at once", "one go", "one sitting", "vodka",
    "alcohol", "wine", "whisky", "whiskey", "booze", "not wake", "never wake", "suicide",
    "liver", "take them all", "take all", "take the whole", "the lot", "all of them",
    "all of it", "at the same time",
];

/// Words of ordinary treatment.
#[rustfmt::skip]
pub(super) const TREATMENT: Cues = &[
    "prescri", "doctor", "gp", "psychiatrist", "nurse", "pharmac", "went up", "upped",
    "increased", "increase", "lowered", "lower", "reduced", "reduce", "halved", "titrat",
    "a day", "daily", "morning", "nightly", "at night", "twice", "side effect", "taper",
    "withdrawal", "refill", "switched", "started on", "dosage", "appointment", "script",
    "review", "feel flat", "helping",
];

/// Places people go to fall or jump from, or be hit.
#[rustfmt::skip]
pub(super) const PLACES: Cues = &[
    "bridge", "cliff", "roof", "ledge", "overpass", "flyover", "tracks", "railway",
    "train line", "rail line", "tower", "car park", "parking garage", "multi storey",
    "balcony", "quarry", "viaduct", "motorway", "highway", "platform", "building", "window",
];

/// What makes a place usable: its particulars.
#[rustfmt::skip]
pub(super) const PLACE_DETAIL: Cues = &[
    "no fence", "no railing", "no barrier", "no rail", "fence", "railing", "barrier",
    "high enough", "how high", "tall enough", "drop", "storey", "floors", "floor up",
    "metres", "meters", "feet", "ft", "unlocked", "open at", "nobody", "no one",
    "no cameras", "camera", "express", "timetable", "doesn t stop", "doesnt stop",
    "fast train", " road", "street", "lane ", "near my", "by my", "access", "climb", "gap ",
    "no gates", "level", "roof door", "never locked", "over the edge", "edge", "stairwell",
    "highest",
];

/// Acts of falling or jumping.
#[rustfmt::skip]
pub(super) const FALL: Cues = &[
    "jump", "fall from", "fall off", "step off", "step in front", "leap", "throw myself",
    "no fence", "no railing", "no barrier", "high enough", "end it", "die ", "kill",
    "suicide", "nobody would", "no one would", "over the edge", "off the edge",
    "looked over", "by the track", "on the track", "keep looking", "keep thinking",
    "not come back", "nobody goes", "no one goes", "doesnt have a barrier",
    "doesn t have a barrier", "no barrier", "standing by",
];

/// Asking for or giving instructions.
#[rustfmt::skip]
pub(super) const HOWTO: Cues = &[
    "how to", "how do you", "how do i", "how would", "how many", "how much", "how long",
    "best way", "quickest way", "fastest way", "easiest way", "painless", "surest way",
    "step by step", "instructions", "what dose", "which pills", "which meds",
    "what s the best", "would it take", "does it take", "guaranteed",
];

/// What an instruction is about.
#[rustfmt::skip]
pub(super) const HARM_ACT: Cues = &[
    "kill myself", "kill yourself", "end it", "end my life", "die ", "suicide", "hang ",
    "hang myself", "noose", "overdos", "od ", "slit", "cut deep", "cut deeper", "bleed out",
    "lethal", "fatal", "not wake", "never wake", "unalive",
];

/// Ligatures and what they are tied to.
#[rustfmt::skip]
pub(super) const LIGATURE: Cues = &[
    "rope", "noose", "belt", "cord", "ligature", "scarf", "cable",
];
#[rustfmt::skip]
pub(super) const LIGATURE_DETAIL: Cues = &[
    "beam", "door", "hook", "knot", "tied", "tie", "hold my weight", "hold my",
    "strong enough", "tested", "bannister", "banister", "rail", "loft", "garage", "tree",
    "ceiling", "closet", "wardrobe", "around my neck", "round my neck", "neck",
];

/// Blades, and where and how they are used.
#[rustfmt::skip]
pub(super) const BLADE: Cues = &[
    "blade", "razor", "knife", "scissors", "broken glass", "shard", "scalpel", "sharpener",
    "box cutter", "stanley",
];
#[rustfmt::skip]
pub(super) const BLADE_DETAIL: Cues = &[
    "vein", "artery", "wrist", "deep", "vertical", "down the", "along the", "sharpened",
    "took apart", "took out", "broke open", "pencil sharpener", "thigh", "throat", "stash",
];

/// Other means with their particulars.
#[rustfmt::skip]
pub(super) const GAS: Cues = &[
    "exhaust", "hose", "charcoal", "carbon monoxide", "helium", "gas",
];
#[rustfmt::skip]
pub(super) const GAS_DETAIL: Cues = &[
    "car", "garage", "tent", "seal", "tape", "bag", "tank", "room",
];
#[rustfmt::skip]
pub(super) const GUN: Cues = &[
    "gun", "rifle", "pistol", "shotgun", "bullet", "firearm", "revolver",
];
#[rustfmt::skip]
pub(super) const GUN_DETAIL: Cues = &[
    "loaded", "load ", "bought", "cabinet", "key", "combination", "ammo", "bullet", "mouth",
    "head", "temple", "trigger",
];

/// Wounds, blood and burns described.
#[rustfmt::skip]
pub(super) const BLOOD: Cues = &[
    "blood", "bled", "bleeding",
];
#[rustfmt::skip]
pub(super) const BLOOD_DETAIL: Cues = &[
    "everywhere", "pool", "soak", "spurt", "gush", "drip", "pour", "puddle", "sheets",
    "floor", "sink", "bath", "wouldn t stop", "wouldnt stop", "wont stop", "won t stop",
    "spray", "squirt", "covered in", "dripping", "down my",
];
#[rustfmt::skip]
pub(super) const WOUND: Cues = &[
    "cut myself", "cut my", "cuts ", "cutting", "slashed", "gash", "wound", "sliced",
    "carved", "burned my", "burnt my", "burned myself", "burnt myself", "burns ",
    "burn myself", "split open",
];
#[rustfmt::skip]
pub(super) const WOUND_DETAIL: Cues = &[
    "bone", "fat ", "tendon", "muscle", "stitch", "layer", "gaping", "deep", "flesh",
    "skin peel", "peeled", "melted", "blister", "lighter", "iron ", "cigarette", "kettle",
    "inch", "to the white",
];

/// An attack told in its bodily particulars.
#[rustfmt::skip]
pub(super) const VIOLENCE: Cues = &[
    "held me down", "pinned me", "pinned my", "choked me", "choking me", "strangled",
    "hands around my", "hands round my", "hand over my mouth", "forced me", "forced his",
    "forced himself", "ripped my", "ripped off my", "tore my", "beat me", "punched me",
    "kicked me", "stabbed", "smashed my", "dragged me", "penetrat", "slammed my",
    "held my head", "bent my", "broke my", "ripped the skin", "bit the",
];
#[rustfmt::skip]
pub(super) const BODY: Cues = &[
    "throat", "neck", "face", "skull", "teeth", "tooth", "ribs", "blood", "inside me",
    "clothes", "underwear", "legs apart", "thighs", "mouth", "nose", "eye", "head",
    "black out", "blacked out", "passed out", "couldn t breathe", "couldnt breathe", "bone",
    "crack", "snap", "bruise", "hair", "floor", "wall", "until i", "till i", "fingers",
    "under the", "skin", "flap", "metal",
];

/// Injury told in its particulars: one of these is enough.
#[rustfmt::skip]
pub(super) const GORE: Cues = &[
    "stumps", "shredded", "insides were", "insides all", "cut in half", "guts were",
    "guts all", "pus ", "pus coming", "loose flaps", "skin off", "skin came away",
    "came away on", "bone sticking", "sticking out of", "down to the white", "brains",
    "decapitat", "intestines", "still twitching", "heard each one crack",
    "under the bath water", "under the water until", "skin was black", "skin melted",
    "melted skin", "lost his hand", "lost her hand", "lost his leg", "lost his legs",
    "legs were gone", "blood spurt", "bled out",
];

/// A story on a screen or a page, not a member's own.
#[rustfmt::skip]
pub(super) const FICTION: Cues = &[
    "film", "movie", "horror", "series", "episode", "book", "game",
];
