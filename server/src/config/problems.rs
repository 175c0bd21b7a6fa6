//! Checking the configuration as a whole before the server starts: every value in
//! range and every pair of values that must agree, each mistake one line that names
//! the environment variable and the flag.

use super::Config;

/// One setting out of range: `KINDRED_X (--x) is 0: it must be …`.
fn out_of_range(env: &str, value: impl std::fmt::Display, rule: &str) -> String {
    let flag = env
        .trim_start_matches("KINDRED_")
        .to_ascii_lowercase()
        .replace('_', "-");
    format!("{env} (--{flag}) is {value}: {rule}")
}

impl Config {
    /// Every mistake in the configuration, one line each (empty: it is sound). The
    /// binary refuses to start on any; so does [`crate::app::state`].
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut at_least = |env: &str, value: u64, min: u64, what: &str| {
            if value < min {
                out.push(out_of_range(
                    env,
                    value,
                    &format!("it must be at least {min} ({what})"),
                ));
            }
        };
        let u = |v: usize| v as u64;
        at_least(
            "KINDRED_MAX_CONNECTIONS",
            u(self.max_connections),
            1,
            "WebSockets at once",
        );
        at_least(
            "KINDRED_HEADER_TIMEOUT_MS",
            self.header_timeout_ms,
            1,
            "milliseconds",
        );
        at_least(
            "KINDRED_BODY_TIMEOUT_MS",
            self.body_timeout_ms,
            1,
            "milliseconds",
        );
        at_least(
            "KINDRED_MAX_BODY_BYTES",
            u(self.max_body_bytes),
            1024,
            "bytes: room for a room's settings",
        );
        at_least(
            "KINDRED_MAX_FRAME_BYTES",
            u(self.max_frame_bytes),
            1024,
            "bytes: room for a hello with its token",
        );
        at_least(
            "KINDRED_MAX_MESSAGE_CHARS",
            u(self.max_message_chars),
            1,
            "characters",
        );
        at_least(
            "KINDRED_MAX_ROOM_CAPACITY",
            u64::from(self.max_room_capacity),
            1,
            "members",
        );
        at_least(
            "KINDRED_OUTBOUND_QUEUE",
            u(self.outbound_queue),
            1,
            "frames",
        );
        at_least("KINDRED_HISTORY_LEN", u(self.history_len), 1, "events");
        at_least(
            "KINDRED_HELLO_TIMEOUT_MS",
            self.hello_timeout_ms,
            1,
            "milliseconds",
        );
        at_least(
            "KINDRED_PING_INTERVAL_MS",
            self.ping_interval_ms,
            1,
            "milliseconds",
        );
        at_least("KINDRED_TOKEN_TTL_SECS", self.token_ttl_secs, 1, "seconds");
        at_least(
            "KINDRED_INVITE_TTL_SECS",
            self.invite_ttl_secs,
            1,
            "seconds",
        );
        at_least(
            "KINDRED_FRAMES_PER_SECOND",
            u64::from(self.frames_per_second),
            1,
            "frames",
        );
        at_least(
            "KINDRED_FRAME_BURST",
            u64::from(self.frame_burst),
            1,
            "frames",
        );
        at_least(
            "KINDRED_MESSAGES_PER_MINUTE",
            u64::from(self.messages_per_minute),
            1,
            "messages",
        );
        at_least(
            "KINDRED_MESSAGE_BURST",
            u64::from(self.message_burst),
            1,
            "messages",
        );
        at_least(
            "KINDRED_MODERATION_PER_MINUTE",
            u64::from(self.moderation_per_minute),
            1,
            "actions",
        );
        at_least(
            "KINDRED_MODERATION_BURST",
            u64::from(self.moderation_burst),
            1,
            "actions",
        );
        at_least(
            "KINDRED_JOINS_PER_MINUTE_PER_IP",
            u64::from(self.joins_per_minute_per_ip),
            1,
            "joins",
        );
        at_least(
            "KINDRED_ROOM_LIST_PER_MINUTE_PER_IP",
            u64::from(self.room_list_per_minute_per_ip),
            1,
            "reads of the room list",
        );
        at_least("KINDRED_WS_READ_BUFFER", u(self.ws_read_buffer), 1, "bytes");
        at_least(
            "KINDRED_WS_WRITE_BUFFER",
            u(self.ws_write_buffer),
            1,
            "bytes",
        );
        at_least(
            "KINDRED_WS_MAX_WRITE_BUFFER",
            u(self.ws_max_write_buffer),
            1,
            "bytes",
        );
        at_least(
            "KINDRED_SOCKET_SEND_BUFFER",
            u(self.socket_send_buffer),
            4096,
            "bytes",
        );
        at_least(
            "KINDRED_WRITE_TIMEOUT_MS",
            self.write_timeout_ms,
            1,
            "milliseconds",
        );
        at_least(
            "KINDRED_MAX_CONNECTIONS_PER_MEMBER",
            u(self.max_connections_per_member),
            1,
            "WebSockets per member",
        );
        if self.room_capacity == 0 || self.room_capacity > self.max_room_capacity {
            out.push(out_of_range(
                "KINDRED_ROOM_CAPACITY",
                self.room_capacity,
                &format!(
                    "it must be between 1 and --max-room-capacity ({})",
                    self.max_room_capacity
                ),
            ));
        }
        if self.room_list_cache_ms > 10_000 {
            out.push(out_of_range(
                "KINDRED_ROOM_LIST_CACHE_MS",
                self.room_list_cache_ms,
                "it must be at most 10000 (milliseconds a new room may take to appear in the public list)",
            ));
        }
        if !(48..=64).contains(&self.ipv6_prefix) {
            out.push(out_of_range(
                "KINDRED_IPV6_PREFIX",
                self.ipv6_prefix,
                "it must be between 48 and 64 (the bits of an IPv6 address that name one person's network: 64, 56 or 48)",
            ));
        }
        if self.welcome_history > self.history_len {
            out.push(out_of_range(
                "KINDRED_WELCOME_HISTORY",
                self.welcome_history,
                &format!(
                    "it must be at most --history-len ({}), the events a room keeps",
                    self.history_len
                ),
            ));
        }
        if self.invite_ttl_secs > 30 * 24 * 3600 {
            out.push(out_of_range(
                "KINDRED_INVITE_TTL_SECS",
                self.invite_ttl_secs,
                "it must be at most 30 days (2592000)",
            ));
        }
        if self.idle_timeout_ms <= self.ping_interval_ms {
            out.push(out_of_range(
                "KINDRED_IDLE_TIMEOUT_MS",
                self.idle_timeout_ms,
                &format!(
                    "it must be longer than --ping-interval-ms ({}), or every quiet member is closed before their pong can arrive",
                    self.ping_interval_ms
                ),
            ));
        }
        if self.catalog_file.is_some() && self.redis_url.is_some() {
            out.push(
                "KINDRED_CATALOG_FILE (--catalog-file) is set with REDIS_URL: with Redis the catalog lives in Redis; unset one of them"
                    .to_owned(),
            );
        }
        if let Some(path) = &self.catalog_file
            && path.as_os_str().is_empty()
        {
            out.push(
                "KINDRED_CATALOG_FILE (--catalog-file) is empty: name a file, or unset it"
                    .to_owned(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_defaults_are_sound_and_each_mistake_is_one_line() {
        assert_eq!(Config::default().problems(), Vec::<String>::new());
        let c = Config::parse_from([
            "kindred",
            "--room-capacity",
            "0",
            "--ping-interval-ms",
            "70000",
        ]);
        let problems = c.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("KINDRED_ROOM_CAPACITY (--room-capacity) is 0"));
        assert!(problems[1].contains("--ping-interval-ms (70000)"));
    }

    #[test]
    fn the_ipv6_prefix_is_one_persons_network_between_48_and_64() {
        for fine in ["48", "56", "60", "64"] {
            let c = Config::parse_from(["kindred", "--ipv6-prefix", fine]);
            assert_eq!(c.problems(), Vec::<String>::new(), "{fine}");
        }
        for wrong in ["0", "32", "47", "65", "128"] {
            let problems = Config::parse_from(["kindred", "--ipv6-prefix", wrong]).problems();
            assert_eq!(problems.len(), 1, "{wrong}: {problems:?}");
            assert!(
                problems[0].starts_with(&format!(
                    "KINDRED_IPV6_PREFIX (--ipv6-prefix) is {wrong}: it must be between 48 and 64"
                )),
                "{}",
                problems[0]
            );
        }
    }

    #[test]
    fn the_room_list_limit_and_cache_are_checked() {
        let c = Config::default();
        assert_eq!(
            (c.room_list_per_minute_per_ip, c.room_list_cache_ms),
            (120, 1_000)
        );
        let c = Config::parse_from(["kindred", "--room-list-cache-ms", "0"]);
        assert_eq!(c.problems(), Vec::<String>::new());
        let c = Config::parse_from([
            "kindred",
            "--room-list-per-minute-per-ip",
            "0",
            "--room-list-cache-ms",
            "60000",
        ]);
        let problems = c.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with(
            "KINDRED_ROOM_LIST_PER_MINUTE_PER_IP (--room-list-per-minute-per-ip) is 0"
        ));
        assert!(
            problems[1].starts_with("KINDRED_ROOM_LIST_CACHE_MS (--room-list-cache-ms) is 60000")
        );
    }
}
