//! The public room list (`GET /api/rooms` without the admin token): rate-limited per
//! client address and served from a short cache.
//!
//! Reading the rooms is not free: on Redis it refreshes the catalog and catches up
//! every room it lists. Without a bound anyone could make every instance do that as
//! fast as they can send requests. So each instance keeps its last answer, as the
//! bytes it sent, for `--room-list-cache-ms` (1 s by default: a new room, or a
//! member count, can take that long to show), one reading at a time however many ask
//! at once; and each address (an IPv6 network of `--ipv6-prefix` bits) may read the
//! list `--room-list-per-minute-per-ip` times a minute. The operator's listing, with
//! the admin token, is neither cached nor limited: it is exact.

use std::future::Future;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::Mutex;

use super::allowance::{self, IpLimiter};
use crate::config::Config;

/// This instance's public room list: its per-address allowance and its cache.
pub struct RoomDirectory {
    reads: IpLimiter,
    cache: ListCache,
}

impl RoomDirectory {
    pub fn from_config(config: &Config) -> Self {
        Self {
            reads: allowance::per_minute(config.rates.room_list_per_minute_per_ip),
            cache: ListCache::new(config.room_list_cache()),
        }
    }

    /// Count one read of the list from `key` (the address as `forwarded::limit_key`
    /// counts it), or refuse it with how long until the next is allowed.
    pub fn admit(&self, key: IpAddr) -> Result<(), Duration> {
        allowance::check(&self.reads, key)
    }

    /// The list as last read, or, when that is older than the cache time, read again
    /// with `read`.
    pub async fn list<F, Fut, E>(&self, read: F) -> Result<Bytes, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        self.cache.get(Instant::now(), read).await
    }

    /// Forget addresses whose allowance has fully recovered, so the map stays small.
    pub fn retain_recent(&self) {
        self.reads.retain_recent();
    }
}

/// One answer, kept for `ttl` from when it was read.
struct ListCache {
    ttl: Duration,
    /// Held while a reading is under way, so callers that miss together wait for one
    /// reading instead of each making their own.
    last: Mutex<Option<(Instant, Bytes)>>,
}

impl ListCache {
    fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            last: Mutex::new(None),
        }
    }

    /// The answer for a request that arrived at `now` (time is an argument, so the
    /// tests need no clock).
    async fn get<F, Fut, E>(&self, now: Instant, read: F) -> Result<Bytes, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, body)) = last.as_ref()
            && now.saturating_duration_since(*at) < self.ttl
        {
            return Ok(body.clone());
        }
        // A failed reading is not kept: the next caller tries again.
        let body = read().await?;
        *last = Some((now, body.clone()));
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Read through `cache` at `at`, with a reading that counts how often it runs and
    /// answers with that count.
    async fn read(cache: &ListCache, reads: &AtomicUsize, at: Instant) -> Bytes {
        cache
            .get(at, || async {
                let n = reads.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok::<_, ()>(Bytes::from(n.to_string()))
            })
            .await
            .unwrap()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test]
    async fn within_the_cache_time_the_rooms_are_read_once() {
        let (cache, reads, t0) = (
            ListCache::new(ms(1_000)),
            AtomicUsize::new(0),
            Instant::now(),
        );
        for _ in 0..5 {
            assert_eq!(read(&cache, &reads, t0).await, "1");
        }
        assert_eq!(read(&cache, &reads, t0 + ms(999)).await, "1");
        assert_eq!(
            read(&cache, &reads, t0 + ms(1_000)).await,
            "2",
            "read again once it is as old as the cache time"
        );
        assert_eq!(read(&cache, &reads, t0 + ms(1_500)).await, "2");
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn callers_that_miss_together_wait_for_one_reading() {
        let (cache, reads, t0) = (
            ListCache::new(ms(1_000)),
            AtomicUsize::new(0),
            Instant::now(),
        );
        let answers =
            futures_util::future::join_all((0..20).map(|_| read(&cache, &reads, t0))).await;
        assert!(answers.iter().all(|a| a == "1"), "{answers:?}");
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_reading_is_not_kept_and_no_cache_reads_every_time() {
        let (cache, t0) = (ListCache::new(ms(1_000)), Instant::now());
        let failed = cache
            .get(t0, || async { Err::<Bytes, _>("redis is away") })
            .await;
        assert_eq!(failed, Err("redis is away"));
        let ok = cache
            .get(t0, || async { Ok::<_, &str>(Bytes::from("rooms")) })
            .await;
        assert_eq!(ok.unwrap(), "rooms");

        let (cache, reads) = (ListCache::new(Duration::ZERO), AtomicUsize::new(0));
        for n in 1..=3 {
            assert_eq!(read(&cache, &reads, t0).await, n.to_string());
        }
    }
}
