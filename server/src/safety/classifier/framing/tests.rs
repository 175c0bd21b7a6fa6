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
        "i want to kill myself and im not kidding",
        "ok i want to kill myself. i wasnt joking before",
        "are you kidding me, i want to kill myself",
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
        "my mum keeps asking about grandkids, im going to jump off a cliff 🙄 kidding, love her",
        "if they play that song one more time i'll kill myself, only joking",
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

/// Every `distanced` case is a match of the rules, and every `kept` one too.
fn check(distanced_cases: &[&str], kept: &[&str]) {
    for text in distanced_cases.iter().chain(kept) {
        assert!(rules().detect(text).is_some(), "a rule matches: {text}");
    }
    for text in distanced_cases {
        assert!(distanced(rules(), text), "distanced: {text}");
    }
    for text in kept {
        assert!(!distanced(rules(), text), "the author's own, now: {text}");
    }
}

#[test]
fn a_thought_that_came_and_went_with_a_reassurance_is_distanced() {
    check(
        &[
            "answering the check-in: yes i had some suicidal thoughts this week, but they were passing ones and i'm safe",
            "I'm okay tonight, honest. Thought about hurting myself yesterday but didn't and I'm proud of that.",
            "had suicidal thoughts for a bit at work but i went for a walk and im fine now",
            "felt the pull to self harm this afternoon, wrote in my journal and it eased off",
            "i thought about killing myself on sunday. i rang my sister and i feel safer",
            "thought about hurting myself last night, rang samaritans instead, they were lovely, i'm ok",
        ],
        &[
            "i had suicidal thoughts this week and they're not passing",
            "i had suicidal thoughts this week. i said i'm fine but i'm not",
            "i'm having suicidal thoughts but i'm safe",
            "i've been thinking about killing myself all week, i'm fine",
            "i cut myself yesterday but i'm okay",
            "thought about killing myself yesterday but didn't tell anyone",
            "i had suicidal thoughts yesterday and i'm ok, but they're back again tonight",
            "honestly i was doing ok until today and now im thinking about unaliving",
            "i thought about killing myself on monday but didnt, and i'm proud. but tonight its worse",
        ],
    );
}

#[test]
fn a_relapse_dated_in_the_past_with_clean_time_since_is_distanced() {
    check(
        &[
            "I had a self harm relapse in March, told my therapist straight away and we worked through it. 6 weeks clean again today",
            "relapsed on cutting over christmas. clean for 5 weeks now",
            "i hurt myself on tuesday last week, first time in ages. two weeks self harm free today",
        ],
        &[
            "i was 6 months clean and last night i cut myself",
            "i was clean for 2 years and i relapsed and cut myself",
            "Relapsed on the cutting after 4 months clean. Sitting here with the blade next to me and I want to do more.",
            "i had a self harm relapse in march and i cut myself again tonight",
            "i relapsed and cut myself last night, 6 weeks clean before that",
            "i had a relapse in march and 6 weeks clean again today but the urge to cut is back",
            "My sponsor says I'm doing great, 90 days sober. I haven't told her I've been thinking about ending my life since day 60.",
            "The court case finished and he walked free. Every day since, I think about killing myself.",
        ],
    );
}

#[test]
fn somebody_elses_words_reported_are_distanced() {
    check(
        &[
            "My brother told me he's been having suicidal thoughts. He's seeing his GP tomorrow",
            "my friend said she's been self harming again, how do i help",
            "My best mate back in Dublin says he's thinking of ending it all. I rang his brother",
            "my best friend texted that she's been self harming again",
            "my flatmate mentioned she's been having suicidal thoughts, we called the wellbeing line",
        ],
        &[
            "my brother told me to call someone because i want to die",
            "i told my mum i want to die",
            "my brother told me he's worried because i've been having suicidal thoughts",
            "i want to die and my brother told me he's been having suicidal thoughts",
            "my mum said we'd all be better off dead",
        ],
    );
}

#[test]
fn a_then_told_against_a_now_is_distanced() {
    check(
        &[
            "before i got help i wanted to die every day, now i'm doing my masters",
            "Before I was hurting myself with hot water. Now when the feeling come I hold ice and call my friend.",
            "after i came back from the army i wanted to die. i'm now a peer supporter",
            "last time i was very suicidal my mum took me to hospital, now much better",
            "before i got sober i tried to kill myself twice. now i sponsor other people",
            "before i sorted my debts out i was thinking about killing myself constantly. now i can breathe",
        ],
        &[
            "before you all go, i want to die",
            "after i got home i took all my tablets, now i feel faint",
            "when mum shouted i took all my tablets. i'm upstairs now",
            "before my sister came i was going to kill myself, now i'm sitting in the car",
            "before she came home i was about to kill myself, now i'm shaking",
            "When my dad died I wanted to die too. It passed. Now mum's gone and it's back, I want to be with them.",
        ],
    );
}

#[test]
fn a_past_placed_by_the_next_sentence_is_distanced() {
    check(
        &[
            "I overdosed in my first year at uni and had my stomach pumped. That was 3 years ago and I'm doing my masters now",
            "Threw out the stash of pills I'd been keeping just in case. That was three weeks ago and I still feel lighter.",
        ],
        &[
            "i took an overdose. that was an hour ago",
            "i took an overdose. that was 3 years ago and i've done it again tonight",
        ],
    );
}

#[test]
fn a_wish_to_die_with_an_everyday_cause_is_distanced() {
    check(
        &[
            "lowkey want to die of embarrassment, i called my teacher mum today 😭",
            "walau the heat today ah, melting already, want to die sia. aircon at home spoil some more",
            "i want to die from the heat, 40 degrees on the bus",
            "so hungover i want to die, never drinking tequila again",
            "i could die of boredom in this meeting, want to die of boredom actually",
            "my mum posted my baby photos on facebook, i want to die of pure embarrassment rn",
        ],
        &[
            "i want to die, everything hurts",
            "i want to die from an overdose",
            "i want to die. it's too hot to sleep and i can't stop crying",
            "i want to kill myself from the shame of it",
            "the heat today is nothing, i want to kill myself",
            "i want to die of embarrassment. also i want to kill myself",
            "so hungover i want to die, nothing matters",
            "this heat, i want to die, i'm so tired of everything",
        ],
    );
}

#[test]
fn a_question_about_the_groups_rules_is_distanced() {
    check(
        &[
            "are we allowed to talk about self harm in here or is there a trigger warning rule?",
            "is there a rule about posting about self harm? dont want to trigger anyone with my recovery story",
            "question for the mods - are we allowed to talk about self harm in past tense or is that against the rules?",
            "is it against the guidelines to post about self harming in this group",
        ],
        &[
            "can i talk about my self harm, i did it again last night",
            "are we allowed to talk about self harm? i self harmed last night and i need to",
            "is there a rule about this, i want to kill myself",
            "are we allowed to talk about self harm tonight, i'm struggling",
        ],
    );
}

#[test]
fn a_topic_of_a_role_a_training_or_a_game_is_distanced() {
    check(
        &[
            "safeguarding training at school all afternoon, spotting signs of abuse and self harm in the kids. heavy but useful",
            "in our dnd campaign my bard faked his own death with a suicide note to dodge his debts and the whole table lost it",
            "did a course on self harm awareness for work, really good trainer",
        ],
        &[
            "safeguarding training all day and now i want to kill myself",
            "did a course on self harm last year and tonight i self harmed again",
            "in our dnd campaign tonight i kept thinking i want to die",
            "after the training i went home and self harmed",
        ],
    );
}

#[test]
fn a_past_placed_back_in_school_or_against_these_days_is_distanced() {
    check(
        &[
            "back in uni i self harmed for about two years. scars have faded loads, wore short sleeves to the barbecue today for the first time 😊",
            "back at school i tried to kill myself, i'm a teacher myself now",
            "back in sixth form i overdosed twice",
            "i used to be in a really bad way. i'd cut myself most nights. these days i paint instead",
            "used to be rough. i wanted to die every day. today i went for a swim",
        ],
        &[
            "back in my room now and i want to kill myself",
            "back at school tomorrow and i want to die",
            "once the kids are back at school in september i'm going to kill myself",
            "i used to love this group. i'd kill myself if i could. these days everything is grey",
            "used to be better. i want to die every day. nothing helps",
            "back in uni i self harmed, and i cut myself again tonight",
        ],
    );
}

#[test]
fn a_reassurance_in_therapy_words_is_distanced() {
    check(
        &[
            "suicidal thoughts came up in therapy today when we talked about my dad but they were just thoughts, no intent, and my therapist and i have a plan for it",
            "My therapist asked me to rate my suicidal thoughts this week and for the first time in months I said zero. Felt amazing.",
        ],
        &[
            "i've been having suicidal thoughts, no intent yet",
            "my therapist asked me to rate my suicidal thoughts this week and i said nine",
            "suicidal thoughts came up in therapy today, no intent she said, but tonight i have a plan",
            "i'm having suicidal thoughts right now. no intent, i think",
            "Woke up from a nap feeling okay for about five minutes, then the urge to kill myself came back full force.",
        ],
    );
}
