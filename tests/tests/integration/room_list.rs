//! The public room list is cheap to serve and cannot be used to make the server work:
//! each address may read it a few times a minute (then `429 rate_limited` with
//! `Retry-After`), other addresses are not affected, the operator's listing is exact
//! and never limited, and the list is served from a cache short enough that a new room
//! shows within about a second. Requests come through the loopback proxy, which names
//! each reader's address in `X-Forwarded-For`.

use std::time::{Duration, Instant};

use kindred::Config;
use kindred_protocol::ErrorCode;
use kindred_protocol::http::{AdminRoomList, CreateRoom, HttpError, RoomList};
use kindred_tests::{ADMIN, TestServer, WAIT, config};

const BUDGET: u32 = 5;

/// `GET /api/rooms` as read from `address`: the status, the `Retry-After` header and
/// the body.
async fn list_from(server: &TestServer, address: &str) -> (u16, Option<String>, String) {
    let response = reqwest::Client::new()
        .get(format!("{}/api/rooms", server.base()))
        .timeout(WAIT)
        .header("x-forwarded-for", address)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, response.text().await.unwrap())
}

#[tokio::test]
async fn the_public_room_list_is_limited_per_address_and_cached_briefly() {
    let defaults = Config::default();
    let mut c = config();
    c.edge.trust_forwarded_for = true;
    c.rates.room_list_per_minute_per_ip = BUDGET;
    c.rates.room_list_cache_ms = defaults.rates.room_list_cache_ms;
    let server = TestServer::with(c).await;

    // One address reads its budget, then is refused with when to come back.
    for n in 0..BUDGET {
        let (status, _, body) = list_from(&server, "203.0.113.10").await;
        assert_eq!(status, 200, "read {n}: {body}");
    }
    let (status, retry_after, body) = list_from(&server, "203.0.113.10").await;
    assert_eq!(status, 429, "{body}");
    let error: HttpError = serde_json::from_str(&body).unwrap();
    assert_eq!(error.code, ErrorCode::RateLimited);
    let retry_ms = error.retry_after_ms.expect("retry_after_ms");
    assert!(retry_ms > 0);
    let retry_secs: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert_eq!(retry_secs, retry_ms.div_ceil(1000));
    // Another address of the same IPv4 /24 is someone else, and reads on.
    let (status, _, body) = list_from(&server, "203.0.113.11").await;
    assert_eq!(status, 200, "{body}");

    // The operator's listing, from the limited address, is not limited, and exact: a
    // room created now is in it at once.
    let created = server
        .http
        .create_room(
            ADMIN,
            &CreateRoom {
                title: "Thursday circle".into(),
                ..CreateRoom::default()
            },
        )
        .await
        .expect("created");
    let created_at = Instant::now();
    for _ in 0..BUDGET + 1 {
        let listing = reqwest::Client::new()
            .get(format!("{}/api/rooms", server.base()))
            .timeout(WAIT)
            .bearer_auth(ADMIN)
            .header("x-forwarded-for", "203.0.113.10")
            .send()
            .await
            .unwrap();
        assert_eq!(listing.status(), 200);
        let listed: AdminRoomList = listing.json().await.unwrap();
        assert!(listed.rooms.iter().any(|r| r.room.id == created.id));
    }

    // The public list shows the new room once its cached reading is older than the
    // cache time. Each poll comes from an address of its own, so the limit is not
    // what is measured; the bound allows a busy machine's requests their own time.
    let cache = Duration::from_millis(defaults.rates.room_list_cache_ms);
    let deadline = created_at + cache + Duration::from_secs(5);
    let mut poll = 0;
    loop {
        poll += 1;
        let (status, _, body) = list_from(
            &server,
            &format!("198.51.{}.{}", poll / 250, poll % 250 + 1),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let list: RoomList = serde_json::from_str(&body).unwrap();
        if list.rooms.iter().any(|r| r.id == created.id) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new room is still not in the public list {:?} after it was created",
            created_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    server.stop().await;
}
