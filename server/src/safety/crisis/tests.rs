//! The case tables (what must alert, with its category, and what must not) and the tests
//! of the data format. Each new rule in `crisis_phrases.txt` brings a case to each table.

use super::normalize::{is_many, within_one_edit};
use super::*;
use CrisisCategory::*;

/// Crisis phrasings that must alert, with the category a facilitator should see.
const MUST_ALERT: &[(&str, CrisisCategory)] = &[
    // suicidal ideation, direct and indirect
    ("I want to kill myself", SuicidalIdeation),
    ("i just want to die", SuicidalIdeation),
    ("I don't want to be here anymore", SuicidalIdeation),
    ("Everyone would be better off without me", SuicidalIdeation),
    ("I want to end it all", SuicidalIdeation),
    ("there's no reason to live", SuicidalIdeation),
    ("I have nothing left to live for", SuicidalIdeation),
    ("I wish I was dead", SuicidalIdeation),
    (
        "I wish I could go to sleep and never wake up",
        SuicidalIdeation,
    ),
    ("I can't go on anymore", SuicidalIdeation),
    ("life isn't worth living", SuicidalIdeation),
    ("I feel like such a burden to everyone", SuicidalIdeation),
    ("I've been thinking about ending my life", SuicidalIdeation),
    ("I keep having suicidal thoughts", SuicidalIdeation),
    ("I'm feeling suicidal tonight", SuicidalIdeation),
    (
        "honestly I've been thinking about suicide a lot",
        SuicidalIdeation,
    ),
    ("I want to take my own life", SuicidalIdeation),
    ("kms", SuicidalIdeation),
    ("I want to unalive myself", SuicidalIdeation),
    ("what's the point of living", SuicidalIdeation),
    ("I'm so tired of being alive", SuicidalIdeation),
    ("I don't want to exist", SuicidalIdeation),
    // misspellings, leetspeak, spacing and stretched letters
    ("i want to kil myself", SuicidalIdeation),
    ("I keep thinking about sucide", SuicidalIdeation),
    ("im suicdal", SuicidalIdeation),
    ("feeling suicidle again", SuicidalIdeation),
    ("I want to k1ll mys3lf", SuicidalIdeation),
    ("having su1c1dal thoughts", SuicidalIdeation),
    ("I WANT TO DIIIIE", SuicidalIdeation),
    ("i want to k.i.l.l myself", SuicidalIdeation),
    ("I am s u i c i d a l", SuicidalIdeation),
    ("wanna die", SuicidalIdeation),
    ("i want 2 die", SuicidalIdeation),
    // self-harm
    ("I've been cutting again", SelfHarm),
    ("I cut myself last night", SelfHarm),
    ("I want to hurt myself", SelfHarm),
    ("I relapsed on self-harm", SelfHarm),
    ("I've been self harming for months", SelfHarm),
    ("I burned myself on purpose", SelfHarm),
    ("the urge to cut is really strong", SelfHarm),
    ("I have been cutting", SelfHarm),
    // overdose
    ("I took too many pills", Overdose),
    ("I swallowed a whole bottle of paracetamol", Overdose),
    ("i think i overdosed", Overdose),
    ("I took an overdose", Overdose),
    ("I OD'd last night", Overdose),
    (
        "I took too many of my sleeping pills and I want to die",
        Overdose,
    ),
    // immediate danger
    ("I'm going to do it tonight", ImmediateDanger),
    ("I'm gonna do it tonight", ImmediateDanger),
    ("I have the pills in front of me", ImmediateDanger),
    ("this is my last message", ImmediateDanger),
    ("He threatened to kill me", ImmediateDanger),
    ("I'm not safe at home right now", ImmediateDanger),
    ("I'm going to kill myself tonight", ImmediateDanger),
    // abuse disclosure
    ("he hits me", AbuseDisclosure),
    ("my husband still hits me when he drinks", AbuseDisclosure),
    ("I was raped", AbuseDisclosure),
    ("I was sexually abused as a child", AbuseDisclosure),
    ("my stepdad molested me", AbuseDisclosure),
    ("I'm in an abusive relationship", AbuseDisclosure),
    ("she beats me", AbuseDisclosure),
    ("I was sexually assaulted last year", AbuseDisclosure),
    // -- overdose told in the past or in progress --
    ("I took all my pills", Overdose),
    ("just swallowed the whole bottle", Overdose),
    ("i just took 30 tablets", Overdose),
    ("took like 40 paracetamol an hour ago", Overdose),
    ("I've taken every pill in the house", Overdose),
    ("i swallowed all my sertraline at once", Overdose),
    ("I downed a whole packet of sleeping pills", Overdose),
    ("im ODing right now", Overdose),
    ("i overdossed on my meds", Overdose),
    ("took twenty sleeping pills", Overdose),
    ("i swallowed thirty of my sleeping pills", Overdose),
    ("swallowed two boxes of paracetamol", Overdose),
    ("I have taken an od", Overdose),
    ("i took a ton of my xanax", Overdose),
    ("took all the painkillers in the house", Overdose),
    ("i mixed my pills with vodka", Overdose),
    (
        "hey all. i did something stupid, i took a lot of my pills about an hour ago",
        Overdose,
    ),
    (
        "swallowed a whole strip of my sleeping tablets, feeling dizzy",
        Overdose,
    ),
    ("i od'd on purpose", Overdose),
    ("took 2 boxes of paracetamol", Overdose),
    ("i took half a bottle of my nans heart pills", Overdose),
    ("just necked 25 co-codamol", Overdose),
    (
        "i overdosed again last night, i'm scared to tell anyone",
        Overdose,
    ),
    ("took all of my seroquel at once", Overdose),
    ("i od'd yesterday and didnt tell anyone", Overdose),
    // -- farewells: letters, notes, last messages, goodbyes --
    ("wrote my goodbye letters", ImmediateDanger),
    ("tell my mum i love her, goodbye everyone", ImmediateDanger),
    ("this will be my final message", ImmediateDanger),
    ("bye everyone, this is goodbye for good", ImmediateDanger),
    ("i wrote a goodbye note to each of my kids", ImmediateDanger),
    ("my goodbye letter is on the kitchen table", ImmediateDanger),
    ("by the time anyone reads this ill be gone", ImmediateDanger),
    (
        "thank you all for trying to help me. goodbye",
        ImmediateDanger,
    ),
    (
        "im sorry for everything. i love you all. goodbye",
        ImmediateDanger,
    ),
    ("please tell my little brother i love him", ImmediateDanger),
    (
        "wanted to say goodbye to everyone one last time",
        ImmediateDanger,
    ),
    (
        "i've left letters for my family on the desk",
        ImmediateDanger,
    ),
    ("this is goodbye. i love you all", ImmediateDanger),
    ("i'm sorry mum. goodbye", ImmediateDanger),
    ("if anyone finds this, i'm sorry", ImmediateDanger),
    ("this is my final post", ImmediateDanger),
    ("to everyone here, thank you and goodbye", ImmediateDanger),
    ("i've said my goodbyes", ImmediateDanger),
    ("i've written a letter for each of my kids", ImmediateDanger),
    ("won't be around after tonight", ImmediateDanger),
    // -- giving possessions away --
    (
        "giving my cat to my sister because I won't need her anymore",
        SuicidalIdeation,
    ),
    ("I've been giving away all my stuff", SuicidalIdeation),
    (
        "gave away my guitar and my games since i won't be around to play them",
        SuicidalIdeation,
    ),
    ("my brother can have my car after im gone", SuicidalIdeation),
    ("who will take care of my dog when i die", SuicidalIdeation),
    (
        "i gave my best friend my ring so she has something to remember me by",
        SuicidalIdeation,
    ),
    ("been putting my affairs in order", SuicidalIdeation),
    (
        "i wont need any of my stuff where im going",
        SuicidalIdeation,
    ),
    (
        "i gave my dog to my neighbour, she'll look after him better than i ever could after i'm gone",
        SuicidalIdeation,
    ),
    (
        "started giving my stuff away to my friends",
        SuicidalIdeation,
    ),
    (
        "i made a list of who gets what when i die",
        SuicidalIdeation,
    ),
    ("i gave all my stuff away this week", SuicidalIdeation),
    // -- a burden; others would not notice or would be better off --
    ("nobody would even notice if i was gone", SuicidalIdeation),
    ("no one would miss me", SuicidalIdeation),
    ("they'd all be happier without me", SuicidalIdeation),
    ("evryone would be beter off without me", SuicidalIdeation),
    ("all i ever do is burden people", SuicidalIdeation),
    ("i'm such a burdon on my family", SuicidalIdeation),
    ("no one would care if i died", SuicidalIdeation),
    (
        "if i disappeared tomorrow nobody would notice",
        SuicidalIdeation,
    ),
    (
        "the world would be a better place without me",
        SuicidalIdeation,
    ),
    ("people would be relieved if i was gone", SuicidalIdeation),
    ("my parents wouldnt even care if i died", SuicidalIdeation),
    (
        "you won't have to put up with me much longer",
        SuicidalIdeation,
    ),
    (
        "its not like anyone would notice if i wasnt here",
        SuicidalIdeation,
    ),
    ("nobody would care if i just vanished", SuicidalIdeation),
    (
        "my family deserves better than me, they'd be better off without me",
        SuicidalIdeation,
    ),
    ("im such a burden to everyone", SuicidalIdeation),
    (
        "i'm just a waste of space and everyone would be happier if i was gone",
        SuicidalIdeation,
    ),
    (
        "i feel like such a burden on everyone around me",
        SuicidalIdeation,
    ),
    (
        "my kids would be better off with a different mum",
        SuicidalIdeation,
    ),
    (
        "honestly nobody would notice if i was dead",
        SuicidalIdeation,
    ),
    (
        "everyone's life would be better if i wasn't in it",
        SuicidalIdeation,
    ),
    // -- no reason or point in living --
    ("no reason to keep living", SuicidalIdeation),
    ("wats the point of even being alive", SuicidalIdeation),
    ("i dont see the point in living anymore", SuicidalIdeation),
    ("i got nothing worth living for", SuicidalIdeation),
    ("why should i even bother staying alive", SuicidalIdeation),
    ("my life has no meaning anymore", SuicidalIdeation),
    ("i have no will to live", SuicidalIdeation),
    (
        "cant think of a single reason to stay alive",
        SuicidalIdeation,
    ),
    ("whats the point of anything anymore", SuicidalIdeation),
    ("why am i even alive", SuicidalIdeation),
    ("i dont see any reason to keep going", SuicidalIdeation),
    ("whats even the point anymore", SuicidalIdeation),
    ("there's no point in me being alive", SuicidalIdeation),
    ("life isnt worth living anymore", SuicidalIdeation),
    ("i see no point to any of this anymore", SuicidalIdeation),
    ("nothing to live for anymore", SuicidalIdeation),
    ("why keep going when nothing gets better", SuicidalIdeation),
    // -- acquiring or preparing a means --
    ("bought a rope", ImmediateDanger),
    ("been saving up my meds", ImmediateDanger),
    ("found a high enough bridge", ImmediateDanger),
    ("i ordered a rope online and it came today", ImmediateDanger),
    ("i've been stockpiling my antidepressants", ImmediateDanger),
    (
        "i know which bridge i'm going to jump from",
        ImmediateDanger,
    ),
    ("loaded my dad's gun", ImmediateDanger),
    ("tied a noose in my room", ImmediateDanger),
    ("i have a plan and i have the means", ImmediateDanger),
    (
        "ive been hiding pills in my room for weeks",
        ImmediateDanger,
    ),
    ("the drop from my balcony is high enough", ImmediateDanger),
    (
        "i googled how many paracetamol it takes to die",
        SuicidalIdeation,
    ),
    ("worked out how many tablets i need", SuicidalIdeation),
    ("i got a rope yesterday", ImmediateDanger),
    (
        "i have been collecting my pills for a month",
        ImmediateDanger,
    ),
    ("i found the perfect bridge", ImmediateDanger),
    (
        "bought a lot of paracetamol today so i can end it",
        ImmediateDanger,
    ),
    ("i've worked out how i'm going to do it", SuicidalIdeation),
    ("ive got the pills and the vodka ready", ImmediateDanger),
    ("bought a hose for the car", ImmediateDanger),
    ("i've been looking up how to tie a noose", ImmediateDanger),
    ("hoarding my sleeping pills", ImmediateDanger),
    // -- unable to go on --
    ("i cant do this anymore", SuicidalIdeation),
    ("i can't keep going", SuicidalIdeation),
    ("i cant take it anymore", SuicidalIdeation),
    ("i just cant cope anymore", SuicidalIdeation),
    ("i can't live like this anymore", SuicidalIdeation),
    ("i'm so done with everything", SuicidalIdeation),
    ("i dont have any fight left in me", SuicidalIdeation),
    ("i cnt keep goin", SuicidalIdeation),
    ("i'm giving up on life", SuicidalIdeation),
    ("i cannot carry on like this", SuicidalIdeation),
    ("I can't handle this pain anymore", SuicidalIdeation),
    ("i just want it all to stop for good", SuicidalIdeation),
    ("i really cant do this any more", SuicidalIdeation),
    ("i can not keep going on like this", SuicidalIdeation),
    ("im so tired of everything i cant go on", SuicidalIdeation),
    ("i just cant keep fighting", SuicidalIdeation),
    ("it's all too much, i can't cope anymore", SuicidalIdeation),
    ("i can't do it anymore, i'm so tired", SuicidalIdeation),
    ("i just can't carry on", SuicidalIdeation),
    ("i'm at the end of my rope", SuicidalIdeation),
    ("i don't have it in me to keep going", SuicidalIdeation),
    // -- euphemisms and online slang --
    ("gonna unalive myself", SuicidalIdeation),
    ("kms fr", SuicidalIdeation),
    ("thinking about sewerslide", SuicidalIdeation),
    ("i think im going to ctb soon", SuicidalIdeation),
    ("i'm ready to catch the bus for good", SuicidalIdeation),
    ("gonna off myself", SuicidalIdeation),
    ("i just want to self delete", SuicidalIdeation),
    ("i'm going to top myself", SuicidalIdeation),
    ("su1c1de is all i think about", SuicidalIdeation),
    ("k m s", SuicidalIdeation),
    ("i wanna kermit sewer slide", SuicidalIdeation),
    ("going to ctb tonight", ImmediateDanger),
    ("i almost unalived myself last week", SuicidalIdeation),
    ("want to unalive myself so bad", SuicidalIdeation),
    ("kms kms kms", SuicidalIdeation),
    ("seriously considering sewerslide", SuicidalIdeation),
    ("i'm going to catch the bus tonight, ctb", SuicidalIdeation),
    ("time to self delete", SuicidalIdeation),
    ("i wanna off myself", SuicidalIdeation),
    ("thinking about unaliving", SuicidalIdeation),
    ("i want to unalive", SuicidalIdeation),
    ("been looking into the sewer slide", SuicidalIdeation),
    ("might ctb this weekend", ImmediateDanger),
    ("i want to kms so bad", SuicidalIdeation),
    // -- a past crisis told as past, but the message says it is back: still alerts --
    (
        "two years ago i wanted to die and now i want to die again",
        SuicidalIdeation,
    ),
    (
        "a year ago i wanted to kill myself and now i'm not ok",
        SuicidalIdeation,
    ),
];

/// Ordinary sentences that must not alert.
const MUST_NOT_ALERT: &[&str] = &[
    "this traffic is killing me",
    "I'd die for a coffee",
    "my phone died",
    "I killed it at my presentation",
    "that show's finale killed me",
    "I'm dying to see the new film",
    "the plant died",
    "I cut my hair",
    "I took my pills this morning",
    "kill the lights",
    "my mom is going to kill me when she sees this",
    "I nearly died laughing",
    "I'm dead tired",
    "this workout is going to be the death of me",
    "did you watch the episode where he dies?",
    "the show killed off my favourite character",
    "in the film the villain tries to kill himself",
    "13 Reasons Why has a lot of scenes about suicide",
    "Suicide Squad was a terrible film",
    "the character overdosed in season two",
    "that scene where she cuts herself was hard to watch",
    "I cut myself shaving",
    "I hurt myself at the gym",
    "I've been cutting back on sugar",
    "we've been cutting costs at work",
    "my dad beat me at chess",
    "he hit me up on whatsapp yesterday",
    "she kicked me out of the game",
    "I had odd dreams last night",
    "I took a lot of pictures",
    "my doctor said the pills might make me sleepy",
    "my therapist helped me make a safety plan",
    "I have a plan for the weekend",
    "I'm going to do it tomorrow after work",
    "I'm going to do my homework tonight",
    "I don't want to be here, this meeting is boring", // no "anymore"
    "I could eat a horse",
    "I'm so tired today",
    "I'm feeling much better this week",
    "my grandmother passed away last year",
    "my friend lost someone to suicide",
    "I was so hurt by what she said",
    "my cat keeps hitting me with her paw",
    "the pain is killing me but the physio helps",
    "I murdered that karaoke song",
    "break a leg tonight!",
    "I'm killing myself laughing at this",
    "life is hard sometimes but I'm hanging in there",
    "I read an article about overdose prevention",
    "I'm dying of embarrassment",
    "I want to die laughing at this meme",
    "I want to die my hair blue", // sic, and still not a crisis
    "hello everyone, glad to be here",
    "goodbye everyone, see you next week",
    "the battery is dead",
    "the end of the book made me cry",
    // -- figures of speech --
    "these shoes are killing my feet",
    "i'm dying to try that new ramen place",
    "my phone is dead",
    "I could just die of embarrassment",
    "that exam killed me",
    "that joke killed me lol",
    "I'd kill for a pizza right now",
    "my laptop gave up on me",
    "this weather makes me want to curl up and hide",
    "i'm done with this book, the ending was bad",
    "I can't do this homework anymore, it's too hard",
    "i cant keep going to these late meetings",
    "i can't go on the trip this weekend",
    "i can't carry on with this essay tonight",
    "I'm so tired of fighting with my brother",
    "I'm done with everything on my to-do list",
    "dying to get home and sleep",
    "i'm so tired of this rain",
    "i can't do this maths anymore",
    "i can't keep up with the news",
    "i'm done with this show",
    "i deleted myself from facebook years ago",
    "necked a pint after work",
    "i'm at the end of my shift",
    "dead tired after the gym",
    "am i odd? everyone says so",
    // -- third person: news, films, books --
    "the article said he took an overdose",
    "the news reported that a singer took an overdose",
    "did you see the episode where he swallowed a whole bottle of pills",
    "in the film she writes goodbye letters to her kids",
    "the character in the book gave away all his things",
    "she took an overdose in the show and it was so sad",
    "the villain got unalived in the finale",
    "he unalived himself in the show",
    // -- recovery stories told in the past --
    "two years ago I wanted to die, today I'm grateful",
    "three years ago I took an overdose; today I'm healthy and happy",
    "when i was 15 i felt like a burden, these days i'm doing well",
    "back then I wanted to kill myself but now I am in a good place",
    "I used to want to die every day, but now I'm glad to be alive",
    "a year ago i felt like nobody would miss me, now i have a great group of friends",
    "i was in a really dark place last year but now i'm doing so much better",
    // -- everyday: giving things away, pets, moving --
    "I gave my old books away to the library",
    "we're giving away our kittens to good homes",
    "giving away free tickets to the concert",
    "giving away all my stuff before i move to canada",
    "my neighbour will feed my cat when i'm gone for the week",
    "my sister is taking my cat while i'm on holiday",
    "my grandad left me his watch in his will",
    "i gave my neighbour some tomatoes",
    "my friend gave me her old sofa",
    "i'm moving so i'm giving away my furniture",
    "giving my old trainers to my cousin",
    "my dog would be better off with a bigger garden",
    // -- everyday: medicine, shopping, places --
    "I took all my pills this morning like the doctor said",
    "I take 2 tablets every night",
    "I took 2 paracetamol for my headache",
    "the pharmacy gave me 28 tablets for the month",
    "i swallowed my pride and apologised",
    "we bought some rope for the tent",
    "we bought a rope swing for the garden",
    "my dad got a gun licence for hunting",
    "we drove over a really high bridge on holiday",
    "i'm saving up for a new phone",
    "i'm collecting my prescription from the pharmacy later",
    "my mum took all my sweets lol",
    "i took a bunch of photos at the beach",
    "my dad takes 20 tablets a day for his heart",
    "i swallowed a bit of toothpaste",
    "we bought a rope for the tug of war",
    "i found a nice bridge to take photos from",
    "saving up my holidays for summer",
    "i took half a day off work",
    "i bought a hose for the garden",
    "i've got the snacks and drinks ready for the party",
    "i took all my exams this week",
    "i looked up how to tie a bow tie",
    // -- everyday: buses, goodbyes, messages --
    "the bus was late",
    "i caught the bus to work this morning",
    "missed the bus so i'm going to be late",
    "i need to catch the bus for school",
    "goodbye everyone, I love you all, see you next week",
    "this is my last message before bed, night all",
    "this will be my last message tonight, I'm exhausted",
    "i wrote a farewell card for my colleague who is retiring",
    "i wrote a goodbye letter to my eating disorder in therapy",
    "I left a note for my mum saying I'd be late",
    "i wrote a letter to my future self",
    "goodbye winter, hello spring",
    "bye, this is my stop",
    "this is my final year at uni",
    "the bus was so full i couldn't get on",
    "thank you and goodbye, see you all next session",
    "i wrote a letter to each of my pen pals",
    "won't be around tomorrow, i'm at my sister's",
    "i'm done, see you tomorrow",
    // -- everyday: noticing, burdens, points --
    "no one would notice if i left the party early",
    "my boss won't even notice if i leave at four",
    "no one will miss me at the meeting tomorrow",
    "sorry to be a burden but can someone explain the rules",
    "she's happier without me and honestly so am i",
    "whats the point of this meeting",
    "there's no point in trying to fix the printer",
    "no reason to panic, the results are fine",
    "there's no point going on about it",
    "I should tell my mum I love her more often",
    "no one noticed my new glasses",
    "nobody would care if i skipped the gym",
    "i'd be better off without my phone",
    "my team would be better off with a new manager",
    "there's no point in going to the shop now",
    "what's the point of the new update",
    "life has no meaning without coffee lol",
    "can't do it today, maybe tomorrow",
    "nobody noticed i dyed my hair",
    "why keep the receipt",
    "what's the point of socks with no grip",
];

fn matcher() -> &'static CrisisMatcher {
    builtin_ref()
}

#[test]
fn crisis_phrasings_alert_with_their_category() {
    let failures: Vec<String> = MUST_ALERT
        .iter()
        .filter_map(|&(text, expected)| {
            let got = matcher().detect(text);
            (got != Some(expected)).then(|| format!("{text:?}: expected {expected:?}, got {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "misses:\n{}", failures.join("\n"));
    assert!(MUST_ALERT.len() >= 150);
}

#[test]
fn ordinary_sentences_do_not_alert() {
    let failures: Vec<String> = MUST_NOT_ALERT
        .iter()
        .filter_map(|&text| {
            let got = matcher().detect(text)?;
            Some(format!("{text:?}: false alarm {got:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "false alarms:\n{}",
        failures.join("\n")
    );
    assert!(MUST_NOT_ALERT.len() >= 115);
}

#[test]
fn builtin_data_parses() {
    assert!(CrisisMatcher::parse(BUILTIN_PHRASES).is_ok());
}

#[test]
fn the_most_severe_category_wins() {
    let text = "he hits me and I want to die and I'm going to do it tonight";
    assert_eq!(matcher().detect(text), Some(ImmediateDanger));
    assert_eq!(
        matcher().detect("I was raped and I've been cutting again"),
        Some(SelfHarm)
    );
}

#[test]
fn empty_and_odd_input_is_harmless() {
    for text in [
        "",
        " ",
        "!!!",
        "$$$",
        "@",
        "...",
        "\n\n",
        "1 2 3",
        "ＩＩＩ",
        "🙂🙂",
    ] {
        assert_eq!(matcher().detect(text), None, "{text:?}");
    }
}

#[test]
fn an_extension_file_adds_phrases_aliases_and_exceptions() {
    let mut m = CrisisMatcher::builtin();
    assert_eq!(m.detect("I want to go to sleep forever"), None);
    let extra = CrisisMatcher::parse(
        "# operator additions\n\
         [suicidal_ideation]\n\
         (want|going) to * sleep forever\n\
         [alias]\n\
         k1lla = kill\n\
         [except]\n\
         want to die (my|her|his) hair\n",
    )
    .expect("valid extension");
    m.extend(extra);
    assert_eq!(
        m.detect("I want to go to sleep forever"),
        Some(SuicidalIdeation)
    );
    assert_eq!(m.detect("I want to k1lla myself"), Some(SuicidalIdeation));
    // The builtin phrases still work after the rebuild.
    assert_eq!(m.detect("I took too many pills"), Some(Overdose));
}

#[test]
fn gaps_do_not_cross_sentences() {
    let m = CrisisMatcher::parse("[self_harm]\nwant * hurt myself\n").expect("valid");
    assert_eq!(m.detect("I want to hurt myself"), Some(SelfHarm));
    assert_eq!(m.detect("I want it. Hurt myself on the stairs"), None);
}

#[test]
fn numbers_of_ten_or_more_fill_the_number_slot() {
    let m =
        CrisisMatcher::parse("[alias]\ntwenty dozens = <n>\n[overdose]\ntook <n> (of my|) pills\n")
            .expect("valid");
    for text in [
        "I took 10 pills",
        "took 30 of my pills",
        "took 1000000000000000000000000 pills",
        "I took twenty pills",
        "took dozens of my pills",
    ] {
        assert_eq!(m.detect(text), Some(Overdose), "{text:?}");
    }
    for text in [
        "I took 2 pills",
        "took 9 pills",
        "took 0 pills",
        "took pills",
    ] {
        assert_eq!(m.detect(text), None, "{text:?}");
    }
    // A number written in a pattern is the slot too.
    let m = CrisisMatcher::parse("[overdose]\ntook 30 pills\n").expect("valid");
    assert_eq!(m.detect("took 45 pills"), Some(Overdose));
    assert!(is_many("10") && is_many("0010") && !is_many("9") && !is_many("1o"));
}

#[test]
fn an_end_of_sentence_can_be_one_of_the_alternatives() {
    // No aliases here, so "can't" is the one word "cant".
    let m = CrisisMatcher::parse("[suicidal_ideation]\ncant go on (anymore|$)\n").expect("valid");
    assert_eq!(m.detect("I can't go on anymore"), Some(SuicidalIdeation));
    assert_eq!(m.detect("I can't go on. Sorry"), Some(SuicidalIdeation));
    assert_eq!(m.detect("I can't go on"), Some(SuicidalIdeation));
    assert_eq!(m.detect("I can't go on the trip"), None);
}

#[test]
fn a_fuzzy_keyword_that_is_an_alias_means_what_the_alias_means() {
    let m = CrisisMatcher::parse(
        "[alias]\nparacetamol = pills\n[fuzzy]\nparacetamol\n[overdose]\ntook all my pills\n",
    )
    .expect("valid");
    assert_eq!(m.detect("took all my paracetamol"), Some(Overdose));
    assert_eq!(m.detect("took all my paracetomol"), Some(Overdose));
}

#[test]
fn typo_tolerance_is_one_edit() {
    assert!(within_one_edit(b"suicde", b"suicide"));
    assert!(within_one_edit(b"siucide", b"suicide"));
    assert!(within_one_edit(b"suicidr", b"suicide"));
    assert!(within_one_edit(b"suiccide", b"suicide"));
    assert!(!within_one_edit(b"sucde", b"suicide"));
    assert!(!within_one_edit(b"decide", b"suicide"));
}

fn parse_err(data: &str) -> CrisisDataError {
    match CrisisMatcher::parse(data) {
        Ok(_) => panic!("expected an error for {data:?}"),
        Err(e) => e,
    }
}

#[test]
fn parse_errors_name_the_line_and_the_rule() {
    use CrisisDataError as E;
    assert_eq!(
        parse_err("# hi\n[sadness]\nfoo\n"),
        E::UnknownSection {
            line: 2,
            name: "sadness".into()
        }
    );
    assert_eq!(parse_err("want to die\n"), E::OutsideSection { line: 1 });
    assert_eq!(
        parse_err("[self_harm]\ncut (myself\n"),
        E::Parentheses { line: 2 }
    );
    assert_eq!(
        parse_err("[self_harm]\ncut myself)\n"),
        E::Parentheses { line: 2 }
    );
    assert_eq!(
        parse_err("[self_harm]\ncut ((a|b))\n"),
        E::Parentheses { line: 2 }
    );
    assert_eq!(parse_err("[self_harm]\n* $\n"), E::EmptyPattern { line: 2 });
    assert_eq!(
        parse_err("[self_harm]\ncut (|)\n"),
        E::EmptyPattern { line: 2 }
    );
    assert_eq!(
        parse_err("[self_harm]\n* cut myself\n"),
        E::BadStart { line: 2 }
    );
    assert_eq!(
        parse_err("[self_harm]\n(|really) cut\n"),
        E::BadStart { line: 2 }
    );
    assert_eq!(parse_err("[self_harm]\n$ cut\n"), E::BadStart { line: 2 });
    assert_eq!(
        parse_err("[self_harm]\ncut myself *\n"),
        E::TrailingGap { line: 2 }
    );
    assert_eq!(
        parse_err("[self_harm]\ncut * * myself\n"),
        E::DoubleGap { line: 2 }
    );
    assert_eq!(
        parse_err("[alias]\nsucide suicide\n"),
        E::BadAlias { line: 2 }
    );
    assert_eq!(parse_err("[alias]\n= suicide\n"), E::BadAlias { line: 2 });
    assert_eq!(parse_err("[alias]\nsucide =\n"), E::BadAlias { line: 2 });
    assert_eq!(parse_err("[alias]\nend = $\n"), E::BadAlias { line: 2 });
    assert_eq!(
        parse_err("[alias]\nself-harm = sh\n"),
        E::BadAlias { line: 2 }
    );
    assert_eq!(
        parse_err("[fuzzy]\ndie\n"),
        E::BadFuzzy {
            line: 2,
            word: "die".into()
        }
    );
}

#[test]
fn comments_blank_lines_and_empty_files_are_fine() {
    let m = CrisisMatcher::parse("").expect("empty is valid");
    assert_eq!(m.detect("I want to die"), None);
    let m = CrisisMatcher::parse("\n# only a comment\n\n[overdose]\n\n  took it all # why\n")
        .expect("valid");
    assert_eq!(m.detect("I took it all"), Some(Overdose));
}

#[test]
fn errors_read_well() {
    let e = CrisisDataError::UnknownSection {
        line: 3,
        name: "x".into(),
    };
    assert_eq!(e.to_string(), "line 3: unknown section [x]");
}
