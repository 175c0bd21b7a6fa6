//! Storage: where rooms live beyond this process, if anywhere: a Redis shared by
//! several instances (a Cluster too), or the catalog file of one instance.

use std::path::PathBuf;

use clap::Args;

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

    /// Keep the catalog (rooms, their settings and schedules, facilitator invites,
    /// bans) in this file, so rooms survive a restart. Never message text, whispers,
    /// alerts or names. Written atomically on every change. Absent: rooms live in
    /// memory only and a restart forgets them. With Redis the catalog lives in Redis.
    #[arg(display_order = 7, long, env = "KINDRED_CATALOG_FILE")]
    pub catalog_file: Option<PathBuf>,
}

impl Storage {
    pub(super) fn problems(&self, out: &mut Problems) {
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
