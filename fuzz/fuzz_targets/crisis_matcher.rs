//! Any text a member sends: the crisis matcher, text normalisation and the content
//! policy never panic, and normalised text stays within its bounds.
#![no_main]

use kindred::safety::{
    ContentPolicy, CrisisMatcher, Evaluate, Kinds, PolicyMode, normalize_message,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = CrisisMatcher::builtin().detect(text);
    if let Ok(clean) = normalize_message(text, 4_000) {
        assert!(!clean.is_empty() && clean.chars().count() <= 4_000);
        let policy = ContentPolicy {
            mode: PolicyMode::Censor,
            kinds: Kinds::ALL,
        };
        let _ = policy.evaluate(&clean);
    }
});
