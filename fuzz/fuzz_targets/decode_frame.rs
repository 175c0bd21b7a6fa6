//! Any bytes a client sends: decoding a frame never panics, and a frame that
//! decodes encodes back to something that decodes to the same frame.
#![no_main]

use kindred_protocol::ClientFrame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = serde_json::from_slice::<ClientFrame>(data) {
        let again = serde_json::to_vec(&frame).expect("our frames encode");
        let back: ClientFrame = serde_json::from_slice(&again).expect("and decode again");
        assert_eq!(back, frame);
    }
});
