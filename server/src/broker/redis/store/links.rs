//! The on-call links in Redis: one hash beside the catalog, a link's id to its record
//! (ids and times only, nothing a member wrote, so kept as it is, like the catalog).

use kindred_protocol::OnCallId;
use redis::RedisResult;

use super::Store;

/// The on-call links every instance checks a token against.
const LINKS: &str = "kindred:oncall";

impl Store {
    /// Every link's record, as stored.
    pub async fn links(&self) -> RedisResult<Vec<(String, String)>> {
        redis::cmd("HGETALL")
            .arg(LINKS)
            .query_async(&mut self.conn())
            .await
    }

    /// Whether the link is stored.
    pub async fn link_kept(&self, id: OnCallId) -> RedisResult<bool> {
        redis::cmd("HEXISTS")
            .arg(LINKS)
            .arg(id.to_string())
            .query_async(&mut self.conn())
            .await
    }

    pub async fn put_link(&self, id: OnCallId, record: &str) -> RedisResult<()> {
        let _: i64 = redis::cmd("HSET")
            .arg(LINKS)
            .arg(id.to_string())
            .arg(record)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Drop the links named; how many there were.
    pub async fn drop_links(&self, ids: &[String]) -> RedisResult<i64> {
        if ids.is_empty() {
            return Ok(0);
        }
        redis::cmd("HDEL")
            .arg(LINKS)
            .arg(ids)
            .query_async(&mut self.conn())
            .await
    }
}
