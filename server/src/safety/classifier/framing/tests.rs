//! The framing's cases: what stays the author's own, now, and what is distanced.

use super::*;

fn rules() -> &'static CrisisMatcher {
    crate::safety::crisis::builtin_ref()
}

#[test]
fn the_authors_own_words_now_are_not_distanced() {
    for text in [
        "I want to kill myself",
        "i want to die 201",
        "pay rise came through today. sat in the car park and hurt myself until my hand bled",
        "coffee with my sponsor went ok. didnt tell her ive been hoarding my tablets again",
        "once they were in bed the urge to end it all came back hard",
        "i'm so used to wanting to kill myself it feels normal",
        "they feel more real than they used to. i want to kill myself",
        "i can't stop thinking about killing myself",
        "trying not to cut myself tonight",
        "i used to come here to support people. tonight i need it, because i want to die",
        "i used to cut but tonight i cut myself again",
        "the only reason i haven't killed myself is my dog",
        "the urge to cut myself is back and i dont think i can ride it out tonight",
        "think im gonna end it all lol. not lol",
    ] {
        assert!(rules().detect(text).is_some(), "a rule matches: {text}");
        assert!(!distanced(rules(), text), "{text}");
    }
}

#[test]
fn a_story_told_as_the_past_is_distanced() {
    for text in [
        "eleven years ago i tried to end my life. i'm fine now",
        "i used to self harm when i was at school",
        "i overdosed three times on heroin. i've been clean six years now",
        "back in 2019 i tried to take my life. still here",
        "last winter i wrote goodbye letters. burned them today",
    ] {
        assert!(rules().detect(text).is_some(), "a rule matches: {text}");
        assert!(distanced(rules(), text), "{text}");
    }
}

#[test]
fn someone_elses_story_a_denial_and_a_joke_are_distanced() {
    for text in [
        "my partner's been self harming again, we're seeing her therapist thursday",
        "my brother's girlfriend overdosed on her antidepressants, she's stable",
        "no thoughts of suicide this week, just stressed",
        "no plans to hurt myself, just tired",
        "nah i'm not going to hurt myself, i've got my safety plan on the fridge",
        "to answer ur question, no i havent self harmed. still clean, day 82",
        "had an urge to self harm on tuesday but did the ice cube thing and rang my sister. urge passed",
        "two years ago tonight i tried to end my life. today i took my daughter to the park",
        "havent had a single thought of killing myself in months",
        "that exam destroyed me kms jk i think i passed",
    ] {
        assert!(rules().detect(text).is_some(), "a rule matches: {text}");
        assert!(distanced(rules(), text), "{text}");
    }
}

#[test]
fn one_undistanced_sentence_keeps_the_match() {
    let text = "my brother's girlfriend overdosed last month. i want to kill myself";
    assert!(!distanced(rules(), text));
    assert!(!distanced(rules(), "made pasta for dinner"), "no match");
}
