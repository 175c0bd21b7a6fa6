//! The rooms of a run and their comings and goings: created through the admin API
//! before the members arrive, deleted after, and churned (one member leaving and
//! another joining) while the run goes on.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kindred_protocol::RoomId;
use kindred_protocol::client::Http;
use kindred_protocol::http::CreateRoom;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::config::Scenario;
use crate::ctx::{Ctx, second_before};

pub async fn create_rooms(http: &Http, scn: &Scenario) -> anyhow::Result<Vec<RoomId>> {
    let mut ids = Vec::with_capacity(scn.rooms);
    let mut pending = tokio::task::JoinSet::new();
    let mut next = 0;
    while ids.len() < scn.rooms {
        while next < scn.rooms && pending.len() < 8 {
            let http = http.clone();
            let token = scn.admin_token.clone();
            let room = CreateRoom {
                title: format!("Load test room {next}"),
                topic: "kindred-loadtest".to_owned(),
                capacity: Some(scn.room_size as u32),
                // A load test's rooms are in session from the start, and nobody
                // facilitates them (they are never held).
                open: Some(true),
                facilitated: Some(false),
                policy: scn
                    .policy
                    .map(|mode| kindred_protocol::policy::ContentPolicy {
                        mode,
                        ..Default::default()
                    }),
                ..CreateRoom::default()
            };
            pending.spawn(async move { (next, http.create_room(&token, &room).await) });
            next += 1;
        }
        let Some(done) = pending.join_next().await else {
            break;
        };
        let (i, res) = done.context("room creation task")?;
        let summary =
            res.with_context(|| format!("creating room {i} (is --admin-token right?)"))?;
        ids.push((i, summary.id));
    }
    ids.sort_by_key(|(i, _)| *i);
    Ok(ids.into_iter().map(|(_, id)| id).collect())
}

/// Deletes the run's rooms (admin API), so that repeated runs against one server
/// do not pile up rooms. Failures are noted, not fatal.
pub async fn delete_rooms(ctx: &Ctx) {
    use futures_util::StreamExt;
    let client = reqwest::Client::new();
    let base = &ctx.scn.targets[0].base;
    let deletes = ctx.room_ids.iter().map(|id| {
        let req = client
            .delete(format!("{base}/api/rooms/{id}"))
            .bearer_auth(&ctx.scn.admin_token)
            .timeout(Duration::from_secs(10))
            .send();
        async move {
            match req.await {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("delete room: http {}", r.status().as_u16())),
                Err(_) => Some("delete room: transport".to_owned()),
            }
        }
    });
    let mut results = futures_util::stream::iter(deletes).buffer_unordered(8);
    while let Some(result) = results.next().await {
        if let Some(problem) = result {
            ctx.live.problem(problem);
        }
    }
}

/// Churn: every 1/rate seconds one member (never a sender or slow reader) leaves and
/// joins again as someone new, so leaves and joins per second both equal the rate.
pub async fn churn(ctx: Arc<Ctx>, stop: CancellationToken) {
    let scn = &ctx.scn;
    let candidates: Vec<usize> = (0..scn.members)
        .filter(|&m| scn.place(m).1 >= scn.senders && !scn.is_slow(m))
        .collect();
    if candidates.is_empty() {
        return;
    }
    let period = Duration::from_secs_f64(1.0 / scn.churn);
    let mut next = Instant::now();
    let mut i = 0usize;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ctx.stop.cancelled() => return,
            _ = sleep_until(next) => {}
        }
        let now = Instant::now();
        // Catch up after a late wake-up, but never by more than a second's worth.
        next = next.max(second_before(now));
        while next <= now {
            ctx.members[candidates[i % candidates.len()]]
                .leave
                .notify_one();
            i += 1;
            next += period;
        }
    }
}
