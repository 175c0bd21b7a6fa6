//! Configuration: every knob is a flag and an environment variable with a
//! documented default (`kindred --help` lists them all), in groups by job, each in its
//! own file with the checks of its own values: [`Edge`] (listening, the HTTP edge's
//! caps and deadlines, origins, proxies), [`Rooms`] (what a room holds and the limits it
//! keeps), [`Sockets`] (one WebSocket's frames, buffers and timers), [`Rates`] (how
//! often anyone may ask for anything), [`Tokens`] (the admin token, the signing secret
//! and lifetimes), [`Storage`] (Redis or the catalog file) and [`Operations`] (metrics,
//! logs, the demo room, the crisis files, shutdown). `Config` composes them, checks them
//! all before the server starts ([`Config::problems`], pure; [`preflight`] then checks
//! them against the machine: the files they name, the catalog's directory, the
//! open-files limit; [`check_log_directives`] checks `RUST_LOG`), and derives what the
//! server reads from them (durations, budgets, a room's limits, the connection cap).
//!
//! Every flag carries a `display_order`: its place in `--help`, which lists the flags
//! in the order they had before they were grouped, whatever group holds them. A new
//! flag takes the next number.

mod edge;
mod logs;
mod operations;
mod parse;
mod preflight;
mod problems;
mod rates;
mod rooms;
mod sockets;
mod storage;
mod tokens;

use std::num::NonZeroU32;
use std::time::Duration;

use clap::Parser;
use governor::Quota;

pub use edge::Edge;
pub use logs::check_log_directives;
pub use operations::{LogFormat, Operations};
pub use preflight::{Loaded, OPEN_FILES_HEADROOM, preflight};
use problems::Problems;
pub use rates::Rates;
pub use rooms::Rooms;
pub use sockets::Sockets;
pub use storage::{Durability, Storage};
pub use tokens::{MIN_SECRET_BYTES, Tokens};

use crate::room::Limits;
use crate::safety::Budget;

/// Kindred: a real-time chat server for moderated peer-support rooms.
#[derive(Clone, Debug, Parser)]
#[command(name = "kindred", version, about)]
pub struct Config {
    #[command(flatten)]
    pub edge: Edge,
    #[command(flatten)]
    pub rooms: Rooms,
    #[command(flatten)]
    pub sockets: Sockets,
    #[command(flatten)]
    pub rates: Rates,
    #[command(flatten)]
    pub tokens: Tokens,
    #[command(flatten)]
    pub storage: Storage,
    #[command(flatten)]
    pub operations: Operations,
    /// The open-files soft limit found (and raised) at start by [`preflight`]; `None`
    /// when not known. The TCP connection cap is kept within it.
    #[arg(skip)]
    pub open_files_limit: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        // The defaults live in one place: the clap attributes of the groups.
        Self::parse_from(["kindred"])
    }
}

impl Config {
    /// Every mistake in the configuration, one line each (empty: it is sound), group by
    /// group. The binary refuses to start on any; so does [`crate::app::state`].
    pub fn problems(&self) -> Vec<String> {
        let mut out = Problems::default();
        self.edge.problems(&mut out);
        self.rooms.problems(&mut out);
        self.sockets.problems(&mut out);
        self.rates.problems(&mut out);
        self.tokens.problems(&mut out);
        self.storage.problems(&mut out);
        self.kept_state_problems(&mut out);
        out.into_lines()
    }

    /// What outlives this process (Redis, the catalog file) holds tokens signed with the
    /// secret and is reached with the admin token: a generated secret, new at each start
    /// (and different on each instance), would void every saved invite and ban.
    fn kept_state_problems(&self, out: &mut Problems) {
        let no_secret = self.tokens.secret.is_none();
        if self.storage.redis_url.is_some() && (no_secret || self.tokens.admin_token.is_none()) {
            out.push(
                "REDIS_URL (--redis-url) is set without KINDRED_SECRET (--secret) or KINDRED_ADMIN_TOKEN (--admin-token): set both, the same on every instance, at least 32 bytes each (e.g. `openssl rand -hex 32`)",
            );
        }
        if self.storage.redis_url.is_none() && self.storage.catalog_file.is_some() && no_secret {
            out.push(
                "KINDRED_CATALOG_FILE (--catalog-file) is set without KINDRED_SECRET (--secret): the catalog keeps invites signed with it, so a generated one would void them at every restart; set a secret of at least 32 bytes (e.g. `openssl rand -hex 32`)",
            );
        }
    }

    /// A member's budgets on this instance ([`Budget`]): messages, and moderation.
    pub fn member_budget(&self) -> Budget {
        let quota = |per_minute: u32, burst: u32| {
            let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
            Quota::per_minute(per_minute).allow_burst(NonZeroU32::new(burst).unwrap_or(per_minute))
        };
        Budget::new(
            quota(self.rates.messages_per_minute, self.rates.message_burst),
            quota(
                self.rates.moderation_per_minute,
                self.rates.moderation_burst,
            ),
        )
    }

    /// The limits a room created here takes and keeps (they travel with it in its
    /// log, snapshots and catalog record, so every instance folds it alike).
    pub fn limits(&self) -> Limits {
        Limits {
            presence_grace_ms: self.rooms.presence_grace_ms,
            away_limit_ms: self.rooms.away_limit_ms,
            members_per_address: self.rooms.max_members_per_address as usize,
            held_close_ms: self.rooms.held_close_minutes * 60_000,
            ..Limits::default()
        }
    }

    pub fn hello_timeout(&self) -> Duration {
        Duration::from_millis(self.sockets.hello_timeout_ms)
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.sockets.ping_interval_ms)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.sockets.idle_timeout_ms)
    }

    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.sockets.write_timeout_ms.max(1))
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.operations.shutdown_grace_ms)
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.edge.header_timeout_ms)
    }

    /// `None` when keep-alive is off.
    pub fn keep_alive_timeout(&self) -> Option<Duration> {
        (self.edge.keep_alive_timeout_ms > 0)
            .then(|| Duration::from_millis(self.edge.keep_alive_timeout_ms))
    }

    pub fn room_list_cache(&self) -> Duration {
        Duration::from_millis(self.rates.room_list_cache_ms)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.edge.body_timeout_ms)
    }

    /// The cap on open TCP connections: `--max-http-connections`, but never below twice
    /// `--max-connections`, so that a full house of WebSockets leaves as many connections
    /// again for joins, pages and refusals; and never above what the open-files limit
    /// holds beside [`OPEN_FILES_HEADROOM`] (so one more connection is refused with a
    /// 503 instead of failing at accept), though never below `--max-connections`
    /// ([`preflight`] refuses a limit that low).
    pub fn http_connection_cap(&self) -> usize {
        let wanted = self
            .edge
            .max_http_connections
            .max(self.edge.max_connections.saturating_mul(2));
        match self.open_files_limit {
            Some(limit) => {
                let room = usize::try_from(limit.saturating_sub(OPEN_FILES_HEADROOM))
                    .unwrap_or(usize::MAX);
                wanted.min(room.max(self.edge.max_connections))
            }
            None => wanted,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use ipnet::IpNet;

    use super::*;

    #[test]
    fn trusted_proxies_default_to_loopback_and_take_cidrs_or_addresses() {
        let c = Config::default();
        assert_eq!(
            c.edge.trusted_proxies,
            vec![
                "127.0.0.0/8".parse::<IpNet>().unwrap(),
                "::1/128".parse().unwrap()
            ]
        );
        let c = Config::parse_from([
            "kindred",
            "--trusted-proxies",
            "10.0.0.0/8, 192.168.1.7,fd00::/8",
        ]);
        assert_eq!(c.edge.trusted_proxies.len(), 3);
        assert!(c.edge.trusted_proxies[1].contains(&"192.168.1.7".parse::<IpAddr>().unwrap()));
        assert!(!c.edge.trusted_proxies[1].contains(&"192.168.1.8".parse::<IpAddr>().unwrap()));
        assert!(Config::try_parse_from(["kindred", "--trusted-proxies", "nonsense"]).is_err());
    }

    #[test]
    fn every_flag_has_its_own_place_in_help() {
        // The groups do not follow the order `--help` shows; each flag's
        // `display_order` does, so a new flag must take the next number.
        let command = <Config as clap::CommandFactory>::command();
        let mut places: Vec<usize> = command
            .get_arguments()
            .filter(|arg| !matches!(arg.get_id().as_str(), "help" | "version"))
            .map(clap::Arg::get_display_order)
            .collect();
        places.sort_unstable();
        assert_eq!(places, (0..places.len()).collect::<Vec<_>>());
    }

    #[test]
    fn bind_addresses_take_host_names_and_say_what_is_wrong() {
        let c = Config::parse_from(["kindred", "--bind", "localhost:9000"]);
        assert_eq!(c.edge.bind, "127.0.0.1:9000".parse().unwrap());
        let c = Config::parse_from(["kindred", "--bind", "[::1]:9000"]);
        assert_eq!(c.edge.bind.port(), 9000);
        for bad in ["localhost", "localhost:http", "no-such-host.invalid:80"] {
            assert!(
                Config::try_parse_from(["kindred", "--bind", bad]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_connection_cap_is_never_below_twice_the_websocket_limit() {
        let c = Config::default();
        assert_eq!(c.http_connection_cap(), 20_000);
        let c = Config::parse_from(["kindred", "--max-connections", "50000"]);
        assert_eq!(c.http_connection_cap(), 100_000);
        let c = Config::parse_from(["kindred", "--max-http-connections", "30000"]);
        assert_eq!(c.http_connection_cap(), 30_000);
    }

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
    fn a_seat_code_lasts_ten_minutes_unless_set_and_never_past_an_hour() {
        assert_eq!(Config::default().tokens.seat_code_ttl_secs, 600);
        let c = Config::parse_from(["kindred", "--seat-code-ttl-secs", "120"]);
        assert_eq!((c.tokens.seat_code_ttl_secs, c.problems()), (120, vec![]));
        for bad in ["0", "3601"] {
            let c = Config::parse_from(["kindred", "--seat-code-ttl-secs", bad]);
            let problems = c.problems();
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(
                problems[0].starts_with("KINDRED_SEAT_CODE_TTL_SECS"),
                "{problems:?}"
            );
        }
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
            (
                c.rates.room_list_per_minute_per_ip,
                c.rates.room_list_cache_ms
            ),
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

    #[test]
    fn the_away_limit_is_never_shorter_than_the_grace_period() {
        let c = Config::default();
        assert_eq!(c.limits().away_limit_ms, 600_000);
        assert_eq!(c.limits().presence_grace_ms, 30_000);
        let c = Config::parse_from(["kindred", "--away-limit-ms", "30000"]);
        assert_eq!(c.problems(), Vec::<String>::new());
        assert_eq!(c.limits().away_limit_ms, 30_000);
        let c = Config::parse_from(["kindred", "--away-limit-ms", "29999"]);
        let problems = c.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("KINDRED_AWAY_LIMIT_MS (--away-limit-ms) is 29999: ")
                && problems[0].contains("--presence-grace-ms (30000)"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn origins_are_a_scheme_a_host_and_a_port_and_nothing_after() {
        for fine in [
            "https://chat.example.org",
            "https://chat.example.org/",
            "http://localhost:8080",
            "HTTPS://Chat.Example.org",
            "http://[::1]:8080",
        ] {
            let c = Config::parse_from(["kindred", "--public-url", fine, "--allowed-origin", fine]);
            assert_eq!(c.problems(), Vec::<String>::new(), "{fine}");
        }
        let c = Config::parse_from(["kindred", "--allowed-origin", "*"]);
        assert_eq!(c.problems(), Vec::<String>::new());
        for (bad, why) in [
            ("example.org", "no http:// or https://"),
            ("ftp://example.org", "no http:// or https://"),
            ("https://example.org/chat", "path, query or fragment"),
            ("https://example.org?x=1", "path, query or fragment"),
            ("https://example.org#top", "path, query or fragment"),
            ("https://u:p@example.org", "no user or password"),
            ("", "not a URL"),
        ] {
            let public = Config::parse_from(["kindred", "--public-url", bad]).problems();
            assert_eq!(public.len(), 1, "{bad}: {public:?}");
            assert!(
                public[0].starts_with("KINDRED_PUBLIC_URL (--public-url): ")
                    && public[0].contains(why),
                "{bad}: {}",
                public[0]
            );
            let allowed = Config::parse_from(["kindred", "--allowed-origin", bad]).problems();
            assert_eq!(allowed.len(), 1, "{bad}: {allowed:?}");
            assert!(
                allowed[0].starts_with("KINDRED_ALLOWED_ORIGINS (--allowed-origin): ")
                    && allowed[0].contains(why),
                "{bad}: {}",
                allowed[0]
            );
        }
    }

    #[test]
    fn rust_log_takes_levels_and_modules_with_levels_only() {
        for fine in [
            "info",
            "WARN",
            "warn,kindred=debug",
            "kindred::session=trace",
            "off",
            "",
        ] {
            assert_eq!(check_log_directives(fine), Ok(()), "{fine}");
        }
        for (bad, said) in [
            ("debg", "\"debg\" is not a level"),
            ("kindred", "\"kindred\" is not a level"),
            ("info,kindred=verbose", "\"verbose\" is not a level"),
            ("=debug", "names no module"),
        ] {
            let refused = check_log_directives(bad).unwrap_err();
            assert!(
                refused.starts_with(&format!("RUST_LOG {bad:?}")),
                "{refused}"
            );
            assert!(refused.contains(said), "{refused}");
            assert_eq!(
                refused.matches("RUST_LOG").count(),
                3,
                "named once, two examples: {refused}"
            );
        }
    }

    #[test]
    fn kept_state_needs_a_secret_of_its_own_and_short_ones_are_refused() {
        let secret = "s".repeat(MIN_SECRET_BYTES);
        let c = Config::parse_from(["kindred", "--catalog-file", "/tmp/c.json"]);
        let problems = c.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "KINDRED_CATALOG_FILE (--catalog-file) is set without KINDRED_SECRET (--secret)"
            ),
            "{}",
            problems[0]
        );
        let c = Config::parse_from([
            "kindred",
            "--catalog-file",
            "/tmp/c.json",
            "--secret",
            &secret,
        ]);
        assert_eq!(c.problems(), Vec::<String>::new());
        let c = Config::parse_from([
            "kindred",
            "--redis-url",
            "redis://127.0.0.1:6379",
            "--secret",
            &secret,
        ]);
        let problems = c.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("REDIS_URL (--redis-url) is set without"),
            "{}",
            problems[0]
        );
        let short =
            Config::parse_from(["kindred", "--secret", "abc", "--admin-token", ""]).problems();
        assert_eq!(short.len(), 2, "{short:?}");
        assert!(short[0].starts_with(
            "KINDRED_ADMIN_TOKEN (--admin-token) is empty: it must be at least 32 bytes"
        ));
        assert!(short[1].starts_with(
            "KINDRED_SECRET (--secret) is 3 bytes long: it must be at least 32 bytes"
        ));
    }
}
