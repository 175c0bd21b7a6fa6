//! Rooms: what a room holds and keeps (capacity, message length, history, the
//! welcome's backlog) and the limits a room takes from the instance that creates it
//! and keeps wherever it is served (presence grace, away limit, seats per network, a
//! held session's close).

use clap::Args;

use super::problems::Problems;

/// The settings of rooms and their members, read by the admin API, the session and
/// [`crate::room::Limits`].
#[derive(Clone, Debug, Args)]
pub struct Rooms {
    /// Longest message text, in characters (over: `too_large`).
    #[arg(
        display_order = 18,
        long,
        env = "KINDRED_MAX_MESSAGE_CHARS",
        default_value_t = 4_000
    )]
    pub max_message_chars: usize,

    /// Capacity of a room created without one.
    #[arg(
        display_order = 19,
        long,
        env = "KINDRED_ROOM_CAPACITY",
        default_value_t = 20
    )]
    pub room_capacity: u32,

    /// Largest capacity the admin API accepts.
    #[arg(
        display_order = 20,
        long,
        env = "KINDRED_MAX_ROOM_CAPACITY",
        default_value_t = 2_000
    )]
    pub max_room_capacity: u32,

    /// Timeline events kept per room for resume.
    #[arg(
        display_order = 22,
        long,
        env = "KINDRED_HISTORY_LEN",
        default_value_t = 1_000
    )]
    pub history_len: usize,

    /// Recent events sent to a member who joins fresh.
    #[arg(
        display_order = 23,
        long,
        env = "KINDRED_WELCOME_HISTORY",
        default_value_t = 100
    )]
    pub welcome_history: usize,

    /// Milliseconds a member whose connection dropped stays present before the room
    /// is told they are away (and a facilitator's room is held if none is left
    /// connected). A room keeps the value of the instance that created it, wherever
    /// it is served.
    #[arg(
        display_order = 27,
        long,
        env = "KINDRED_PRESENCE_GRACE_MS",
        default_value_t = 30_000
    )]
    pub presence_grace_ms: u64,

    /// Milliseconds, from the drop, that a member whose connection dropped keeps
    /// their seat and place (shown as away after the grace period; a resume within
    /// it gives them everything said meanwhile) before they leave the room. At least
    /// --presence-grace-ms; equal to it, a dropped member leaves at the grace
    /// period's end. A room keeps the value of the instance that created it,
    /// wherever it is served.
    #[arg(
        display_order = 57,
        long,
        env = "KINDRED_AWAY_LIMIT_MS",
        default_value_t = 600_000
    )]
    pub away_limit_ms: u64,

    /// Seconds a room in session may be held (no facilitator present) before the
    /// on-call board asks the on-call supervisor to come (`needs_on_call`).
    #[arg(
        display_order = 59,
        long,
        env = "KINDRED_ONCALL_HELD_AFTER_SECS",
        default_value_t = 180
    )]
    pub oncall_held_after_secs: u64,

    /// The most participants one network address (an IPv6 network, `--ipv6-prefix`) may seat in one room at
    /// once, so one person cannot fill a room's seats. Only public addresses count:
    /// behind a proxy, set --trust-forwarded-for and --trusted-proxies. A room keeps
    /// the value of the instance that created it, wherever it is served.
    #[arg(display_order = 52, long, env = "KINDRED_MAX_MEMBERS_PER_ADDRESS", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_members_per_address: u32,

    /// How long a facilitated session may stay held (no facilitator present, so
    /// participants cannot post) before it closes itself, in minutes. A room keeps
    /// the value of the instance that created it, wherever it is served.
    #[arg(display_order = 53, long, env = "KINDRED_HELD_CLOSE_MINUTES", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=24 * 60))]
    pub held_close_minutes: u64,
}

impl Rooms {
    pub(super) fn problems(&self, out: &mut Problems) {
        out.at_least(
            "KINDRED_MAX_MESSAGE_CHARS",
            self.max_message_chars,
            1,
            "characters",
        );
        out.at_least(
            "KINDRED_MAX_ROOM_CAPACITY",
            self.max_room_capacity,
            1,
            "members",
        );
        out.at_least("KINDRED_HISTORY_LEN", self.history_len, 1, "events");
        if self.room_capacity == 0 || self.room_capacity > self.max_room_capacity {
            out.out_of_range(
                "KINDRED_ROOM_CAPACITY",
                self.room_capacity,
                &format!(
                    "it must be between 1 and --max-room-capacity ({})",
                    self.max_room_capacity
                ),
            );
        }
        if self.away_limit_ms < self.presence_grace_ms {
            out.out_of_range(
                "KINDRED_AWAY_LIMIT_MS",
                self.away_limit_ms,
                &format!(
                    "it must be at least --presence-grace-ms ({}), the time before a member is shown away",
                    self.presence_grace_ms
                ),
            );
        }
        if self.welcome_history > self.history_len {
            out.out_of_range(
                "KINDRED_WELCOME_HISTORY",
                self.welcome_history,
                &format!(
                    "it must be at most --history-len ({}), the events a room keeps",
                    self.history_len
                ),
            );
        }
    }
}
