//! Storage: where rooms live beyond this process, if anywhere: a Redis shared by
//! several instances (a Cluster too), or the catalog file of one instance.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::problems::Problems;

/// The broker and the catalog's store: Redis, or memory with an optional catalog file.
#[derive(Clone, Debug, Args)]
pub struct Storage {
    /// Redis URL shared by several instances (`redis://…`, or `redis+cluster://host:port,…`
    /// for a Redis Cluster). Absent: the in-memory broker (one instance).
    #[arg(display_order = 4, long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Treat the Redis URL's hosts as the seed nodes of a Redis Cluster (sharded pub/sub).
    /// Implied by a `redis+cluster://` URL.
    #[arg(display_order = 5, long, env = "KINDRED_REDIS_CLUSTER", default_value_t = false, action = clap::ArgAction::Set)]
    pub redis_cluster: bool,

    /// What a member's ack waits for beyond the entry being appended on the Redis
    /// primary and folded by this instance. `primary`: nothing more (a Redis that
    /// crashes may lose what it had not written to disk: with `appendfsync everysec`,
    /// up to a second of acknowledged messages). `fsync`: the entry is fsynced to the
    /// primary's append-only file (`WAITAOF`, Redis 7.2 or later; on an older Redis,
    /// only if it runs `appendfsync always`, checked at start). `replica`: a replica
    /// holds the entry (`WAIT`). A single Redis only, not a Cluster.
    #[arg(display_order = 55, long, env = "KINDRED_REDIS_DURABILITY", value_enum, default_value_t = Durability::Primary)]
    pub redis_durability: Durability,

    /// How long an ack waits for --redis-durability before the member is told that
    /// their message reached the room but was not confirmed stored (ms).
    #[arg(
        display_order = 56,
        long,
        env = "KINDRED_REDIS_DURABILITY_TIMEOUT_MS",
        default_value_t = 1_000
    )]
    pub redis_durability_timeout_ms: u64,

    /// Keep the catalog (rooms, their settings and schedules, facilitator invites,
    /// bans) in this file, so rooms survive a restart. Never message text, whispers,
    /// alerts or names. Written atomically on every change. Absent: rooms live in
    /// memory only and a restart forgets them. With Redis the catalog lives in Redis.
    #[arg(display_order = 7, long, env = "KINDRED_CATALOG_FILE")]
    pub catalog_file: Option<PathBuf>,
}

/// What an ack means on the Redis broker (`--redis-durability`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Durability {
    /// Appended on the primary (in its memory) and folded here.
    #[default]
    Primary,
    /// And fsynced to the primary's append-only file.
    Fsync,
    /// And held by at least one replica.
    Replica,
}

impl Storage {
    pub(super) fn problems(&self, out: &mut Problems) {
        if self.redis_durability != Durability::Primary {
            if self.redis_url.is_none() {
                out.push(
                    "KINDRED_REDIS_DURABILITY (--redis-durability) is set without REDIS_URL: it is what an ack waits for on Redis",
                );
            }
            if self.redis_cluster
                || self
                    .redis_url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("redis+cluster://"))
            {
                out.push(
                    "KINDRED_REDIS_DURABILITY (--redis-durability) is fsync or replica with a Redis Cluster: it is checked on a single Redis (and its replicas) only; use primary",
                );
            }
        }
        if !(10..=60_000).contains(&self.redis_durability_timeout_ms) {
            out.out_of_range(
                "KINDRED_REDIS_DURABILITY_TIMEOUT_MS",
                self.redis_durability_timeout_ms,
                "it must be between 10 and 60000 (ms)",
            );
        }
        if self.catalog_file.is_some() && self.redis_url.is_some() {
            out.push(
                "KINDRED_CATALOG_FILE (--catalog-file) is set with REDIS_URL: with Redis the catalog lives in Redis; unset one of them",
            );
        }
        if let Some(path) = &self.catalog_file
            && path.as_os_str().is_empty()
        {
            out.push("KINDRED_CATALOG_FILE (--catalog-file) is empty: name a file, or unset it");
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Durability;
    use crate::config::Config;

    #[test]
    fn an_ack_means_the_primary_unless_told_and_durability_is_asked_of_one_redis_only() {
        let c = Config::default();
        assert_eq!(
            (
                c.storage.redis_durability,
                c.storage.redis_durability_timeout_ms
            ),
            (Durability::Primary, 1_000)
        );
        let c = Config::parse_from([
            "kindred",
            "--redis-url",
            "redis://127.0.0.1:6379",
            "--redis-durability",
            "replica",
            "--secret",
            &"s".repeat(32),
            "--admin-token",
            &"a".repeat(32),
        ]);
        assert_eq!(c.storage.redis_durability, Durability::Replica);
        assert_eq!(c.problems(), Vec::<String>::new());
        assert!(Config::try_parse_from(["kindred", "--redis-durability", "disk"]).is_err());

        let problems = Config::parse_from(["kindred", "--redis-durability", "fsync"]).problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("without REDIS_URL"), "{}", problems[0]);
        let problems = Config::parse_from([
            "kindred",
            "--redis-url",
            "redis+cluster://127.0.0.1:7000,127.0.0.1:7001",
            "--redis-durability",
            "fsync",
            "--redis-durability-timeout-ms",
            "0",
            "--secret",
            &"s".repeat(32),
            "--admin-token",
            &"a".repeat(32),
        ])
        .problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("Redis Cluster"), "{}", problems[0]);
        assert!(
            problems[1].starts_with(
                "KINDRED_REDIS_DURABILITY_TIMEOUT_MS (--redis-durability-timeout-ms) is 0"
            ),
            "{}",
            problems[1]
        );
    }
}
