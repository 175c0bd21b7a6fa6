//! Rates: how often one connection, one member or one address may ask for something
//! (frames, messages, moderation, joins, reads of the public room list), and how long
//! that list is served from this instance's last reading.

use clap::Args;

use super::problems::Problems;

/// The sustained rates and bursts, read by the session, [`crate::safety::Budget`] and
/// the HTTP handlers.
#[derive(Clone, Debug, Args)]
pub struct Rates {
    /// Frames per second one connection may send (sustained).
    #[arg(
        display_order = 30,
        long,
        env = "KINDRED_FRAMES_PER_SECOND",
        default_value_t = 20
    )]
    pub frames_per_second: u32,

    /// Frames one connection may send in a burst above the sustained rate.
    #[arg(
        display_order = 31,
        long,
        env = "KINDRED_FRAME_BURST",
        default_value_t = 40
    )]
    pub frame_burst: u32,

    /// Messages one member may send per minute (sustained), all their connections to
    /// this instance together; a hand, a reaction, a report, a whisper and an
    /// acknowledgement each count as one.
    #[arg(
        display_order = 32,
        long,
        env = "KINDRED_MESSAGES_PER_MINUTE",
        default_value_t = 30
    )]
    pub messages_per_minute: u32,

    /// Messages one member may send in a burst above the sustained rate.
    #[arg(
        display_order = 33,
        long,
        env = "KINDRED_MESSAGE_BURST",
        default_value_t = 10
    )]
    pub message_burst: u32,

    /// Moderation actions (`mod`) one facilitator may take per minute (sustained), all
    /// their connections to this instance together.
    #[arg(
        display_order = 34,
        long,
        env = "KINDRED_MODERATION_PER_MINUTE",
        default_value_t = 60
    )]
    pub moderation_per_minute: u32,

    /// Moderation actions one facilitator may take in a burst above the sustained rate.
    #[arg(
        display_order = 35,
        long,
        env = "KINDRED_MODERATION_BURST",
        default_value_t = 20
    )]
    pub moderation_burst: u32,

    /// Joins (`POST /api/rooms/{id}/join`) and WebSocket upgrades per minute from one
    /// IP address (sustained; the burst is the same number).
    #[arg(
        display_order = 36,
        long,
        env = "KINDRED_JOINS_PER_MINUTE_PER_IP",
        default_value_t = 60
    )]
    pub joins_per_minute_per_ip: u32,

    /// Reads of the public room list (`GET /api/rooms` without the admin token) per
    /// minute from one IP address (sustained; the burst is the same number); over:
    /// HTTP 429 `rate_limited` with `Retry-After`.
    #[arg(
        display_order = 37,
        long,
        env = "KINDRED_ROOM_LIST_PER_MINUTE_PER_IP",
        default_value_t = 120
    )]
    pub room_list_per_minute_per_ip: u32,

    /// Milliseconds the public room list is served from this instance's last reading of
    /// the rooms (a new room, or a change of its count, can take that long to show);
    /// at most 10000. 0: every read reads the rooms.
    #[arg(
        display_order = 38,
        long,
        env = "KINDRED_ROOM_LIST_CACHE_MS",
        default_value_t = 1_000
    )]
    pub room_list_cache_ms: u64,
}

impl Rates {
    pub(super) fn problems(&self, out: &mut Problems) {
        out.at_least(
            "KINDRED_FRAMES_PER_SECOND",
            self.frames_per_second,
            1,
            "frames",
        );
        out.at_least("KINDRED_FRAME_BURST", self.frame_burst, 1, "frames");
        out.at_least(
            "KINDRED_MESSAGES_PER_MINUTE",
            self.messages_per_minute,
            1,
            "messages",
        );
        out.at_least("KINDRED_MESSAGE_BURST", self.message_burst, 1, "messages");
        out.at_least(
            "KINDRED_MODERATION_PER_MINUTE",
            self.moderation_per_minute,
            1,
            "actions",
        );
        out.at_least(
            "KINDRED_MODERATION_BURST",
            self.moderation_burst,
            1,
            "actions",
        );
        out.at_least(
            "KINDRED_JOINS_PER_MINUTE_PER_IP",
            self.joins_per_minute_per_ip,
            1,
            "joins",
        );
        out.at_least(
            "KINDRED_ROOM_LIST_PER_MINUTE_PER_IP",
            self.room_list_per_minute_per_ip,
            1,
            "reads of the room list",
        );
        if self.room_list_cache_ms > 10_000 {
            out.out_of_range(
                "KINDRED_ROOM_LIST_CACHE_MS",
                self.room_list_cache_ms,
                "it must be at most 10000 (milliseconds a new room may take to appear in the public list)",
            );
        }
    }
}
