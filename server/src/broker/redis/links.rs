//! The Redis engine's on-call links: read and written straight through to Redis (one
//! hash, `store/links.rs`), so every instance sees a link minted or revoked on
//! another at once. Refused at once while Redis is known to be away.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use kindred_protocol::{Millis, OnCallId};

use super::{Inner, RedisBroker};
use crate::broker::{BrokerError, LinkRecord, OnCallLinks};

impl RedisBroker {
    fn reachable(&self) -> Result<&Inner, BrokerError> {
        let inner = &self.inner;
        if inner.away.load(Ordering::Acquire) {
            return Err(Inner::unavailable("Redis is out of reach; try again"));
        }
        Ok(inner)
    }
}

#[async_trait]
impl OnCallLinks for RedisBroker {
    async fn keep_link(&self, link: LinkRecord) -> Result<(), BrokerError> {
        let record = serde_json::to_string(&link).map_err(Inner::unavailable)?;
        self.reachable()?
            .store
            .put_link(link.id, &record)
            .await
            .map_err(Inner::unavailable)
    }

    async fn links(&self, now: Millis) -> Result<Vec<LinkRecord>, BrokerError> {
        let inner = self.reachable()?;
        let stored = inner.store.links().await.map_err(Inner::unavailable)?;
        let mut links = Vec::new();
        let mut gone = Vec::new();
        for (id, record) in stored {
            match serde_json::from_str::<LinkRecord>(&record) {
                Ok(link) if link.expires_at > now => links.push(link),
                // Expired, or not a record this server can read: it grants nothing.
                _ => gone.push(id),
            }
        }
        inner
            .store
            .drop_links(&gone)
            .await
            .map_err(Inner::unavailable)?;
        links.sort_by_key(|l| l.created_at);
        Ok(links)
    }

    async fn link_kept(&self, id: OnCallId) -> Result<bool, BrokerError> {
        self.reachable()?
            .store
            .link_kept(id)
            .await
            .map_err(Inner::unavailable)
    }

    async fn drop_link(&self, id: OnCallId) -> Result<bool, BrokerError> {
        let dropped = self
            .reachable()?
            .store
            .drop_links(&[id.to_string()])
            .await
            .map_err(Inner::unavailable)?;
        Ok(dropped > 0)
    }
}
