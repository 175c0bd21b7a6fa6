//! The on-call supervisor: the operator mints, lists and revokes on-call links; a
//! facilitator escalates a crisis alert and the on-call board shows it with its words,
//! read through any instance; the on-call person joins the room as a facilitator in
//! one call and the room's moderation log says so; a room held without a facilitator
//! shows on the board as held.

use kindred_protocol::http::{CreateRoom, JoinResponse};
use kindred_protocol::oncall::{Board, OnCallLink, OnCallList};
use kindred_protocol::{AlertKind, ErrorCode, ModAction, Role, RoomId, ServerFrame};
use kindred_tests::redis::RedisServer;
use kindred_tests::{ADMIN, Member, ModArgs, TestServer, WAIT, config};
use serde_json::{Value, json};

/// A call with a token (if any: the admin token as a bearer token, any other in the
/// on-call header) and a JSON body (if any): its status and body.
async fn call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", server.base()))
        .timeout(WAIT);
    match token {
        Some(ADMIN) => request = request.bearer_auth(ADMIN),
        Some(token) => request = request.header("x-kindred-on-call", token),
        None => {}
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn mint(server: &TestServer) -> OnCallLink {
    let (status, body) = call(
        server,
        reqwest::Method::POST,
        "/api/oncall",
        Some(ADMIN),
        Some(json!({"ttl_seconds": 3600})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    serde_json::from_value(body).expect("an on-call link")
}

async fn board(server: &TestServer, token: &str) -> Board {
    let (status, body) = call(
        server,
        reqwest::Method::GET,
        "/api/oncall/board",
        Some(token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).expect("the board")
}

fn code(body: &Value) -> String {
    body["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn on_call_links_are_minted_listed_without_their_token_and_revoked_everywhere() {
    let server = TestServer::start().await;
    let link = mint(&server).await;
    let token = link.token.clone().expect("minting gives the token");
    assert_eq!(
        link.url.as_deref(),
        Some(format!("/#oncall={token}").as_str())
    );
    assert_eq!(link.expires_at - link.created_at, 3_600_000);

    let (status, body) = call(
        &server,
        reqwest::Method::GET,
        "/api/oncall",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let listed: OnCallList = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(listed.links.len(), 1);
    assert_eq!(listed.links[0].id, link.id);
    assert!(listed.links[0].token.is_none() && !body.to_string().contains(&token));

    // The link opens the board; the admin token, a participant's, none or a forged one
    // do not, and the operator's calls need the admin token.
    assert!(board(&server, &token).await.rooms.is_empty());
    let room = server.room(12).await;
    let joined = server.join(room, "Alice").await.unwrap();
    for bad in [
        Some(ADMIN),
        Some(joined.token.as_str()),
        None,
        Some("k1.e30.AAAA"),
    ] {
        let (status, body) = call(
            &server,
            reqwest::Method::GET,
            "/api/oncall/board",
            bad,
            None,
        )
        .await;
        assert_eq!(
            (status, code(&body).as_str()),
            (401, "unauthorized"),
            "{bad:?}"
        );
    }
    let (status, _) = call(
        &server,
        reqwest::Method::POST,
        "/api/oncall",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 401, "an on-call link mints nothing");
    // Strict admin body: a misspelt field is refused, naming it.
    let (status, body) = call(
        &server,
        reqwest::Method::POST,
        "/api/oncall",
        Some(ADMIN),
        Some(json!({"ttl_secnods": 60})),
    )
    .await;
    assert_eq!((status, code(&body).as_str()), (400, "bad_request"));
    assert!(
        body["message"].as_str().unwrap().contains("ttl_secnods"),
        "{body}"
    );

    // Revoked: refused with a typed error that says so, on the board and the join.
    let path = format!("/api/oncall/{}", link.id);
    let (status, _) = call(&server, reqwest::Method::DELETE, &path, Some(ADMIN), None).await;
    assert_eq!(status, 204);
    let (status, body) = call(
        &server,
        reqwest::Method::GET,
        "/api/oncall/board",
        Some(&token),
        None,
    )
    .await;
    assert_eq!((status, code(&body).as_str()), (401, "unauthorized"));
    assert!(
        body["message"].as_str().unwrap().contains("revoked"),
        "{body}"
    );
    let join = format!("/api/oncall/rooms/{room}/join");
    let (status, body) = call(&server, reqwest::Method::POST, &join, Some(&token), None).await;
    assert_eq!((status, code(&body).as_str()), (401, "unauthorized"));
    let (status, body) = call(&server, reqwest::Method::DELETE, &path, Some(ADMIN), None).await;
    assert_eq!((status, code(&body).as_str()), (404, "not_found"));
    let (_, body) = call(
        &server,
        reqwest::Method::GET,
        "/api/oncall",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(body["links"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn a_room_held_without_a_facilitator_shows_on_the_board_as_held() {
    let mut c = config();
    // On-call is asked to come as soon as a room is held.
    c.rooms.oncall_held_after_secs = 0;
    let server = TestServer::with(c).await;
    let held = server
        .room_with(CreateRoom {
            title: "Monday anxiety circle".into(),
            open: Some(true),
            facilitated: Some(true),
            ..CreateRoom::default()
        })
        .await;
    let kept = server
        .room_with(CreateRoom {
            title: "Wednesday grief group".into(),
            open: Some(true),
            facilitated: Some(true),
            ..CreateRoom::default()
        })
        .await;
    let mut fran = server.facilitator(held, "Fran").await;
    let mut alice = server.member(held, "Alice").await;
    let _cora = server.facilitator(kept, "Cora").await;
    // Between sessions a room is not on the board.
    let _quiet = server
        .room_with(CreateRoom {
            title: "Closed room".into(),
            ..CreateRoom::default()
        })
        .await;
    fran.send(kindred_protocol::ClientFrame::Leave).await;
    alice
        .until(|f| matches!(f, ServerFrame::Held { .. }).then_some(()))
        .await;

    let link = mint(&server).await;
    let seen = board(&server, link.token.as_deref().unwrap()).await;
    assert_eq!(seen.held_after_seconds, 0);
    let titles: Vec<&str> = seen.rooms.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Monday anxiety circle", "Wednesday grief group"],
        "held first"
    );
    let (h, k) = (&seen.rooms[0], &seen.rooms[1]);
    assert_eq!((h.id, h.facilitators, h.members), (held, 0, 1));
    assert!(h.held_since.is_some_and(|since| since <= seen.now));
    assert!(h.needs_on_call && h.escalations.is_empty());
    assert_eq!(
        (k.id, k.facilitators, k.held_since, k.needs_on_call),
        (kept, 1, None, false)
    );
    server.stop().await;
}

/// The id of the next crisis alert a facilitator is given.
async fn crisis_alert(fran: &mut Member) -> u64 {
    fran.until(|f| match f {
        ServerFrame::Alert {
            kind: AlertKind::Crisis,
            id,
            ..
        } => *id,
        _ => None,
    })
    .await
}

#[tokio::test]
async fn an_escalation_on_one_instance_shows_through_another_where_on_call_joins_in_one_call() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room: RoomId = a.room(12).await;
    let mut fran = a.facilitator(room, "Fran").await;
    let mut alice = a.member(room, "Alice").await;
    let words = "I can't do this anymore, I want to end my life";
    alice.say_acked(words).await;
    let alert = crisis_alert(&mut fran).await;

    // A participant may not escalate; an alert that is not open is not found.
    let refused = alice
        .moderate(
            ModAction::Escalate,
            ModArgs {
                alert: Some(alert),
                ..ModArgs::default()
            },
        )
        .await
        .expect_err("a participant is refused");
    assert_eq!(refused.code, ErrorCode::Forbidden);
    let refused = fran
        .moderate(
            ModAction::Escalate,
            ModArgs {
                alert: Some(alert + 50),
                ..ModArgs::default()
            },
        )
        .await
        .expect_err("an unknown alert is refused");
    assert_eq!(refused.code, ErrorCode::NotFound);
    fran.moderate(
        ModAction::Escalate,
        ModArgs {
            alert: Some(alert),
            ..ModArgs::default()
        },
    )
    .await
    .expect("escalated");
    let told = fran
        .until(|f| match f {
            ServerFrame::ModLog { entries } => entries
                .iter()
                .find(|e| e.action == ModAction::Escalate)
                .map(|e| e.alert),
            _ => None,
        })
        .await;
    assert_eq!(
        told,
        Some(alert),
        "the facilitators' log says on-call was told"
    );

    // The link is minted on A and read on B: it spans instances.
    let link = mint(&a).await;
    let token = link.token.unwrap();
    let seen = board(&b, &token).await;
    assert_eq!(seen.rooms.len(), 1);
    let r = &seen.rooms[0];
    assert_eq!((r.id, r.facilitators, r.members), (room, 1, 2));
    assert!(r.needs_on_call);
    assert_eq!(r.escalations.len(), 1);
    let e = &r.escalations[0];
    assert_eq!(
        (e.alert, e.by, e.by_name.as_str()),
        (alert, fran.user(), "Fran")
    );
    assert_eq!(
        (e.name.as_str(), e.quote.as_deref()),
        ("Alice", Some(words))
    );

    // One call through B seats on-call as a facilitator; they connect there.
    let (status, body) = call(
        &b,
        reqwest::Method::POST,
        &format!("/api/oncall/rooms/{room}/join"),
        Some(&token),
        Some(json!({"name": "Sam (on-call)"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let joined: JoinResponse = serde_json::from_value(body).unwrap();
    assert_eq!(joined.role, Role::Facilitator);
    let sam = b.connect(joined).await;
    assert_eq!(sam.welcome.you.role, Role::Facilitator);
    let logged_for = |f: &ServerFrame| match f {
        ServerFrame::ModLog { entries } => entries
            .iter()
            .find(|e| e.action == ModAction::OnCallJoined)
            .map(|e| (e.by, e.by_name.clone())),
        _ => None,
    };
    let expected = (sam.user(), "Sam (on-call)".to_owned());
    assert_eq!(
        fran.until(logged_for).await,
        expected,
        "Fran on A is told they are joining"
    );
    let mut sam = sam;
    let given = match sam.backlog.iter().find_map(logged_for) {
        Some(entry) => entry,
        None => sam.until(logged_for).await,
    };
    assert_eq!(given, expected, "in the log on-call is given");
    assert_eq!(board(&a, &token).await.rooms[0].facilitators, 2);
    a.stop().await;
    b.stop().await;
}
