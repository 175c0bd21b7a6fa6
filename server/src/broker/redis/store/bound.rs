//! The append script on one Redis, bound to the Redis process that runs it: its
//! `run_id` written into the script, so no append asks Redis which process it is
//! (`INFO server`). A script cache is neither kept on disk nor replicated (Redis 7),
//! so a script loaded into one process is in no other: a restarted, restored or
//! failed-over Redis answers `NOSCRIPT`, and the script is bound again to the process
//! that answers. On a Cluster the append script reads `INFO server` each time.

use redis::{ErrorKind, RedisResult, ServerErrorKind};

use super::super::scripts::{APPEND, STAMP};
use super::Store;

/// The append script as loaded into one Redis process: that process's `run_id` is
/// written into it, so no append asks Redis for it (`INFO server`, which formats its
/// whole section, and a scan of the answer).
#[derive(Clone, Debug)]
pub(super) struct Bound {
    sha: String,
}

/// The `run_id` in an answer to `INFO server` (hexadecimal, so it can be written into
/// a script as it is).
pub(super) fn run_id(info: &str) -> Option<&str> {
    let run = info
        .lines()
        .find_map(|line| line.strip_prefix("run_id:"))?
        .trim();
    (!run.is_empty() && run.bytes().all(|b| b.is_ascii_hexdigit())).then_some(run)
}

impl Store {
    /// The append script on one Redis, bound to its process ([`Bound`]); bound again
    /// when Redis does not hold it (`NOSCRIPT`: another process, or its scripts
    /// flushed).
    pub(super) async fn append_bound(
        &self,
        keys: &[String],
        args: &[String],
    ) -> RedisResult<Vec<String>> {
        let mut tries = 0;
        loop {
            let held = self.bound.lock().clone();
            let bound = match held {
                Some(bound) => bound,
                None => self.bind().await?,
            };
            let answer = redis::cmd("EVALSHA")
                .arg(&bound.sha)
                .arg(keys.len())
                .arg(keys)
                .arg(args)
                .query_async(&mut self.durable.clone())
                .await;
            match answer {
                Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) && tries < 2 => {
                    tries += 1;
                    let mut held = self.bound.lock();
                    if held.as_ref().is_some_and(|b| b.sha == bound.sha) {
                        *held = None;
                    }
                }
                answer => return answer,
            }
        }
    }

    /// Load the append script bound to the Redis process that answers: its `run_id`,
    /// read first, written into the script, which is loaded in one transaction with a
    /// second reading of the `run_id`; kept only if the two agree, so the script is in
    /// the cache of that process alone (a script cache is neither kept on disk nor
    /// replicated, since Redis 7; and the text is this instance's own, by a random
    /// line). Any other process answers `NOSCRIPT`, and the script is bound again.
    async fn bind(&self) -> RedisResult<Bound> {
        for _ in 0..3 {
            let info: String = redis::cmd("INFO")
                .arg("server")
                .query_async(&mut self.durable.clone())
                .await?;
            let Some(run) = run_id(&info) else {
                break;
            };
            let text = format!(
                "local run = '{run}'\n-- {:016x}\n{STAMP}{APPEND}",
                rand::random::<u64>()
            );
            let (sha, info): (String, String) = redis::pipe()
                .atomic()
                .cmd("SCRIPT")
                .arg("LOAD")
                .arg(&text)
                .cmd("INFO")
                .arg("server")
                .query_async(&mut self.durable.clone())
                .await?;
            if run_id(&info) == Some(run) {
                let bound = Bound { sha };
                *self.bound.lock() = Some(bound.clone());
                return Ok(bound);
            }
        }
        Err(redis::RedisError::from((
            redis::ErrorKind::Client,
            "binding the append script",
            "Redis did not say which process it is".to_owned(),
        )))
    }
}
