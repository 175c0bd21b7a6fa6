//! The configuration against the machine, before anything is served: the files it
//! names are read and parsed (the extra crisis phrases, the resources card), the catalog
//! file's directory is written to (a temporary file created, fsynced and removed), and
//! the open-files limit is raised to its ceiling and compared with the connection caps.
//! Each mistake is one line naming the environment variable and the flag, as
//! [`Config::problems`](super::Config::problems) gives them; the binary exits 2 on any.
//!
//! The open-files limit: below `--max-connections` plus [`OPEN_FILES_HEADROOM`] Kindred
//! refuses to start (a full house of WebSockets would fail at accept, in the middle of
//! a session, where nobody is at the console to see why). Above that but below the TCP
//! cap (`--max-http-connections`, at least twice `--max-connections`) it starts, keeps
//! the TCP cap within the limit (one connection more gets a 503 instead of an accept
//! failure) and says so in one warning line.

use std::io::Write;
use std::path::Path;

use super::Config;
use crate::safety::{CrisisMatcher, ResourcesCard};

/// Open files Kindred keeps for itself beyond its TCP connections: the two listeners,
/// stdio, the runtime's own (epoll, wakers, signal pipe), connections to Redis (one per
/// node of a Cluster, and one for its pub/sub), the catalog file and its temporary
/// copy, the admin token file, and `/metrics` scrapes.
pub const OPEN_FILES_HEADROOM: u64 = 64;

/// What the checks read, for the start-up line that says what was loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Phrases in `--crisis-phrases`, on top of the built-in list.
    pub extra_phrases: usize,
    /// Help lines on the resources card (the operator's, or the default one).
    pub card_lines: usize,
    /// The open-files soft limit after raising it (`None`: this system has none).
    pub open_files: Option<u64>,
    /// The TCP cap was lowered to fit the open-files limit: the line to log.
    pub open_files_warning: Option<String>,
}

/// Check the files and limits `config` relies on; every mistake, one line each. Records
/// the open-files limit in `config` (it bounds [`Config::http_connection_cap`]).
pub fn preflight(config: &mut Config) -> Result<Loaded, Vec<String>> {
    let mut problems = Vec::new();
    let mut loaded = Loaded {
        card_lines: ResourcesCard::default().lines.len(),
        ..Loaded::default()
    };
    if config.storage.redis_url.is_none()
        && let Some(path) = &config.storage.catalog_file
        && !path.as_os_str().is_empty()
        && let Err(why) = check_catalog_dir(path)
    {
        problems.push(format!(
            "KINDRED_CATALOG_FILE (--catalog-file) {}: {why}",
            path.display()
        ));
    }
    if let Some(path) = &config.operations.crisis_phrases {
        match read_phrases(path) {
            Ok(n) => loaded.extra_phrases = n,
            Err(why) => problems.push(format!(
                "KINDRED_CRISIS_PHRASES (--crisis-phrases) {}: {why}",
                path.display()
            )),
        }
    }
    if let Some(path) = &config.operations.resources_card {
        match read_card(path) {
            Ok(n) => loaded.card_lines = n,
            Err(why) => problems.push(format!(
                "KINDRED_RESOURCES_CARD (--resources-card) {}: {why}",
                path.display()
            )),
        }
    }
    loaded.open_files = raise_open_files_limit();
    if let Some(limit) = loaded.open_files {
        match check_open_files(config, limit) {
            Ok(warning) => loaded.open_files_warning = warning,
            Err(why) => problems.push(why),
        }
        config.open_files_limit = Some(limit);
    }
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(problems)
    }
}

/// The catalog is replaced through a temporary file beside it: that directory must
/// exist and take a write that reaches the disk, or every change would be lost.
fn check_catalog_dir(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!(
            "is a directory: name a file, e.g. {}",
            path.join("catalog.json").display()
        ));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "is in {}, which is not a directory that exists: create it (mkdir -p), or name a file in one that does",
            dir.display()
        ));
    }
    let name = path
        .file_name()
        .map_or_else(|| "catalog".into(), |n| n.to_string_lossy());
    let probe = dir.join(format!(".{name}.kindred-check-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| {
            let wrote = f.write_all(b"kindred").and_then(|()| f.sync_all());
            let _ = std::fs::remove_file(&probe);
            wrote
        });
    written.map_err(|e| {
        format!(
            "cannot be written: a test file in {} failed ({e}); give this user write access to that directory, or name a file elsewhere",
            dir.display()
        )
    })?;
    if path.exists() {
        std::fs::File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    }
    Ok(())
}

/// Phrases in an operator's file; one without any is refused (it adds nothing, so it
/// is the wrong file or a mistake).
fn read_phrases(path: &Path) -> Result<usize, String> {
    let data = std::fs::read_to_string(path).map_err(|e| format!("cannot be read ({e})"))?;
    let phrases = CrisisMatcher::parse(&data)
        .map_err(|e| format!("is not a phrases file: {e}"))?
        .phrases();
    if phrases == 0 {
        return Err(
            "has no phrases: give at least one under a [category] heading, in the format of the built-in list, or unset it"
                .to_owned(),
        );
    }
    Ok(phrases)
}

/// Help lines on an operator's card.
fn read_card(path: &Path) -> Result<usize, String> {
    let data = std::fs::read_to_string(path).map_err(|e| format!("cannot be read ({e})"))?;
    ResourcesCard::from_json(&data)
        .map(|card| card.lines.len())
        .map_err(|e| format!("is not a resources card: {e}"))
}

/// Raise the open-files soft limit to the hard limit, as servers commonly do, and
/// return it (`None` where the system has no such limit, or it cannot be read).
fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rlimit::increase_nofile_limit(u64::MAX)
            .ok()
            .or_else(|| rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Refuse a limit below a full house of WebSockets and the headroom: past it a member's
/// connection fails at accept. A limit below the whole TCP cap is taken, with a warning
/// to log (the cap is then kept within the limit).
fn check_open_files(config: &Config, limit: u64) -> Result<Option<String>, String> {
    let sockets = config.edge.max_connections as u64;
    let needed = sockets.saturating_add(OPEN_FILES_HEADROOM);
    let fits = limit.saturating_sub(OPEN_FILES_HEADROOM);
    if limit < needed {
        let lower = if fits == 0 {
            format!(" (no WebSockets fit in {limit})")
        } else {
            format!(", or lower KINDRED_MAX_CONNECTIONS to {fits}")
        };
        return Err(format!(
            "KINDRED_MAX_CONNECTIONS (--max-connections) is {sockets}, but the open-files limit is {limit} (`ulimit -n`; LimitNOFILE= in a systemd unit): {sockets} WebSockets need {needed} with {OPEN_FILES_HEADROOM} for listeners, Redis and files; raise the limit to at least {needed}{lower}"
        ));
    }
    let wanted = config
        .edge
        .max_http_connections
        .max(config.edge.max_connections.saturating_mul(2)) as u64;
    if fits >= wanted {
        return Ok(None);
    }
    Ok(Some(format!(
        "the open-files limit is {limit} (`ulimit -n`; LimitNOFILE= in a systemd unit): TCP connections are capped at {fits} instead of KINDRED_MAX_HTTP_CONNECTIONS (--max-http-connections) {wanted} (one more gets a 503); raise the limit to at least {} for all of them",
        wanted + OPEN_FILES_HEADROOM
    )))
}

#[cfg(test)]
mod tests;
