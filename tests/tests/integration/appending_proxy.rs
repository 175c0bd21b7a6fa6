//! Behind a proxy that appends to `X-Forwarded-For` (nginx's
//! `$proxy_add_x_forwarded_for`, the setting many guides give), bans and seats hold on
//! the member's own address whatever the member writes into the header, and with
//! `--ipv6-prefix 56` two /64s of one /56 are one person.
//!
//! A real nginx runs in front of the server with that setting. The test client reaches
//! it from loopback, like a load balancer in front of nginx (a trusted proxy), and
//! names the member's public address in the header it sends: nginx appends the
//! loopback address it saw, Kindred skips it as a trusted proxy, and the member's
//! entry is the client. Whatever the member wrote further left is ignored.

use kindred::Config;
use kindred_protocol::http::{HttpError, JoinRequest, JoinResponse};
use kindred_protocol::{ErrorCode, ModAction, RoomId, close_code};
use kindred_tests::nginx::Nginx;
use kindred_tests::{ModArgs, TestServer, WAIT, config};
use reqwest::header::HeaderValue;

/// A site that appends the address nginx sees to what the client sent.
const APPENDING_SITE: &str = "\
upstream kindred {
    server 127.0.0.1:1;
}
server {
    listen 80;
    location / {
        proxy_pass http://kindred;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
}
";

/// A server that believes the loopback proxies' `X-Forwarded-For`, behind an nginx
/// that appends to it.
async fn behind_an_appending_proxy(mut config: Config) -> (TestServer, Nginx) {
    config.edge.trust_forwarded_for = true;
    let server = TestServer::with(config).await;
    let nginx = Nginx::start_proxy(&[server.running.addr], APPENDING_SITE).await;
    (server, nginx)
}

/// Join as `name` through `nginx`, sending these `X-Forwarded-For` headers as they
/// are (bytes that are not text included); no device id, so only the address marks.
async fn join_through(
    nginx: &Nginx,
    room: RoomId,
    name: &str,
    forwarded_for: &[&[u8]],
) -> Result<JoinResponse, (u16, ErrorCode)> {
    let mut request = reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .unwrap()
        .post(format!("{}/api/rooms/{room}/join", nginx.base()))
        .json(&JoinRequest {
            name: name.into(),
            accept_guidelines: true,
            invite: None,
            device: None,
            seat_key: None,
        });
    for value in forwarded_for {
        request = request.header(
            "x-forwarded-for",
            HeaderValue::from_bytes(value).expect("a header value"),
        );
    }
    let resp = request.send().await.expect("nginx answers");
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        Ok(resp.json().await.expect("a join response"))
    } else {
        let body: HttpError = resp.json().await.unwrap_or_else(|e| {
            panic!(
                "{status} without Kindred's error body ({e}); nginx: {}",
                nginx.log()
            )
        });
        Err((status, body.code))
    }
}

/// Ban the member who joined as `joined`: they are connected, the facilitator bans
/// them, and their socket is closed.
async fn ban(server: &TestServer, fran: &mut kindred_tests::Member, joined: JoinResponse) {
    let mut troll = server.connect(joined).await;
    fran.moderate(ModAction::Ban, ModArgs::user(troll.user()))
        .await
        .expect("the ban is acked");
    assert_eq!(troll.closed().await.0, close_code::REMOVED);
}

#[tokio::test]
async fn a_banned_address_is_refused_whatever_bytes_it_writes_into_the_header() {
    let (server, nginx) = behind_an_appending_proxy(config()).await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let joined = join_through(&nginx, room, "Troll", &[b"203.0.113.7"])
        .await
        .expect("joins the first time");
    ban(&server, &mut fran, joined).await;

    // Back under new pseudonyms, with bytes that are not text in the header: left of
    // the address in the same header, in a header of their own before it, and in
    // words. Each time nginx appends the address it saw, and the member's own entry is
    // still found, still banned.
    for (name, headers) in [
        ("Sky", &[&b"\xff\xfe, 203.0.113.7"[..]][..]),
        (
            "Sunny",
            &[&b"caf\xc3\xa9 \x80"[..], &b"203.0.113.7"[..]][..],
        ),
        ("Storm", &[&b"unknown, \xe2\x80\x8b, 203.0.113.7"[..]][..]),
    ] {
        assert_eq!(
            join_through(&nginx, room, name, headers).await.unwrap_err(),
            (403, ErrorCode::Banned),
            "{name} from the banned address"
        );
    }
    // The same bytes from someone else's address: welcome.
    let newcomer = join_through(&nginx, room, "Alex", &[b"\xff\xfe, 198.51.100.20"]).await;
    assert!(newcomer.is_ok(), "{newcomer:?}");
    server.stop().await;
}

#[tokio::test]
async fn with_a_56_prefix_two_64s_of_one_56_are_one_person_for_seats_and_bans() {
    let mut c = config();
    c.edge.ipv6_prefix = 56;
    c.rooms.max_members_per_address = 2;
    let (server, nginx) = behind_an_appending_proxy(c).await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;

    // Seats: two members from two /64s of 2001:db8:7:700::/56 take that network's
    // share; a third /64 of it is refused, the next /56 is someone else.
    let mut seated = Vec::new();
    for (name, address) in [("Ann", "2001:db8:7:710::1"), ("Bea", "2001:db8:7:7ff::2")] {
        let joined = join_through(&nginx, room, name, &[address.as_bytes()])
            .await
            .expect("within the network's share");
        seated.push(server.connect(joined).await);
    }
    assert_eq!(
        join_through(&nginx, room, "Cal", &[b"2001:db8:7:720::3"])
            .await
            .unwrap_err(),
        (429, ErrorCode::RateLimited),
        "a third /64 of the same /56"
    );
    let next = join_through(&nginx, room, "Dee", &[b"2001:db8:7:800::1"]).await;
    assert!(next.is_ok(), "the next /56: {next:?}");

    // Bans: one /64 banned bans its whole /56, garbage in the header or not.
    let joined = join_through(&nginx, room, "Troll", &[b"2001:db8:9:a10::1"])
        .await
        .expect("joins the first time");
    ban(&server, &mut fran, joined).await;
    for (name, headers) in [
        ("Sky", &[&b"2001:db8:9:aff::1"[..]][..]),
        ("Sunny", &[&b"\xff, [2001:db8:9:a20::5]:443"[..]][..]),
    ] {
        assert_eq!(
            join_through(&nginx, room, name, headers).await.unwrap_err(),
            (403, ErrorCode::Banned),
            "{name} from another /64 of the banned /56"
        );
    }
    let neighbour = join_through(&nginx, room, "Lee", &[b"2001:db8:9:b00::1"]).await;
    assert!(neighbour.is_ok(), "the next /56: {neighbour:?}");
    drop(seated);
    server.stop().await;
}
