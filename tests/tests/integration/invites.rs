//! Facilitator invites are records the room keeps: used as many times as they allow,
//! listed and revoked by the operator, and a revoked invite ends the seat it gave.

use kindred::clock::now_ms;
use kindred_protocol::client::ClientError;
use kindred_protocol::http::{CreateInvite, Invite, JoinRequest, JoinResponse};
use kindred_protocol::{ErrorCode, LeftReason, RoomId, ServerFrame, close_code};
use kindred_tests::{ADMIN, Member, TestServer, WAIT, conversation_continues};

async fn mint(server: &TestServer, room: RoomId, uses: Option<u32>) -> Invite {
    server
        .http
        .invite(
            ADMIN,
            room,
            &CreateInvite {
                uses,
                ..CreateInvite::default()
            },
        )
        .await
        .expect("invite minted")
}

async fn join_with(
    server: &TestServer,
    room: RoomId,
    name: &str,
    invite: &Invite,
) -> Result<JoinResponse, ClientError> {
    server
        .http
        .join(
            room,
            &JoinRequest {
                name: name.into(),
                accept_guidelines: true,
                invite: invite.token.clone(),
                device: None,
                seat_key: None,
            },
        )
        .await
}

fn refused_with(result: Result<JoinResponse, ClientError>) -> (u16, ErrorCode) {
    match result {
        Err(ClientError::Http { status, body }) => (status, body.expect("error body").code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn left(member: &mut Member) -> (kindred_protocol::UserId, LeftReason) {
    member
        .until(|f| match f {
            ServerFrame::Left { user, reason, .. } => Some((*user, *reason)),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn an_invite_seats_one_facilitator_unless_it_allows_more() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let once = mint(&server, room, None).await;
    let url = once.url.clone().expect("a minted invite has its link");
    let token = once.token.clone().expect("and its token");
    assert_eq!(url, format!("/?room={room}#invite={token}"));
    assert!(join_with(&server, room, "Fran", &once).await.is_ok());
    assert_eq!(
        refused_with(join_with(&server, room, "Sam", &once).await),
        (401, ErrorCode::Unauthorized)
    );
    let twice = mint(&server, room, Some(2)).await;
    assert!(join_with(&server, room, "Sam", &twice).await.is_ok());
    assert!(join_with(&server, room, "Kit", &twice).await.is_ok());
    assert_eq!(
        refused_with(join_with(&server, room, "Lee", &twice).await),
        (401, ErrorCode::Unauthorized)
    );
    let list = server.http.invites(ADMIN, room).await.unwrap().invites;
    assert_eq!(list.len(), 2);
    assert_eq!((list[0].used, list[0].uses), (1, 1));
    assert_eq!((list[1].used, list[1].uses), (2, 2));
    assert_eq!(list[1].members.len(), 2);
    // The list never hands a token out again.
    assert!(list.iter().all(|i| i.token.is_none() && i.url.is_none()));
    server.stop().await;
}

#[tokio::test]
async fn a_revoked_invite_cannot_join_and_its_facilitator_is_removed() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let invite = mint(&server, room, Some(3)).await;
    let joined = join_with(&server, room, "Fran", &invite).await.unwrap();
    let mut fran = server.connect(joined.clone()).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    conversation_continues(&mut fran, &mut alice, "welcome, both of you").await;

    let one = reqwest::Client::new()
        .get(format!(
            "{}/api/rooms/{room}/invites/{}",
            server.base(),
            invite.id
        ))
        .bearer_auth(ADMIN)
        .timeout(WAIT)
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    let one: Invite = one.json().await.unwrap();
    assert_eq!(one.members, vec![fran.user()]);

    server
        .http
        .revoke_invite(ADMIN, room, invite.id)
        .await
        .expect("revoked");
    assert_eq!(fran.closed().await.0, close_code::REMOVED);
    assert_eq!(
        left(&mut alice).await,
        (joined.user_id, LeftReason::Removed)
    );
    // The seat is gone: Fran's token no longer connects, the invite no longer joins.
    let (error, code) = server.hello_refused(&joined.token).await;
    assert_eq!(
        (error.code, code),
        (ErrorCode::Unauthorized, close_code::UNAUTHORIZED)
    );
    assert_eq!(
        refused_with(join_with(&server, room, "Fran again", &invite).await),
        (401, ErrorCode::Unauthorized)
    );
    // It is gone from the list, and a second revoke finds nothing.
    assert!(
        server
            .http
            .invites(ADMIN, room)
            .await
            .unwrap()
            .invites
            .is_empty()
    );
    match server.http.revoke_invite(ADMIN, room, invite.id).await {
        Err(ClientError::Http { status: 404, .. }) => {}
        other => panic!("expected 404, got {other:?}"),
    }
    // The participants talk on.
    conversation_continues(&mut alice, &mut bob, "we are still here").await;
    server.stop().await;
}

#[tokio::test]
async fn the_operator_removes_a_facilitator_whose_token_then_stops_working() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut sam = server.facilitator(room, "Sam").await;
    let mut alice = server.member(room, "Alice").await;
    server
        .http
        .remove_member(ADMIN, room, fran.user())
        .await
        .expect("removed");
    assert_eq!(fran.closed().await.0, close_code::REMOVED);
    assert_eq!(left(&mut alice).await, (fran.user(), LeftReason::Removed));
    let (error, code) = server.hello_refused(&fran.joined.token).await;
    assert_eq!(
        (error.code, code),
        (ErrorCode::Unauthorized, close_code::UNAUTHORIZED)
    );
    conversation_continues(&mut sam, &mut alice, "I am still with you").await;
    match server.http.remove_member(ADMIN, room, fran.user()).await {
        Err(ClientError::Http { status: 404, .. }) => {}
        other => panic!("expected 404, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn invites_need_the_admin_token_and_an_empty_body_takes_the_defaults() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let http = reqwest::Client::builder().timeout(WAIT).build().unwrap();
    let url = format!("{}/api/rooms/{room}/invites", server.base());
    // No body at all: a single-use invite with the default lifetime, 24 hours from
    // when it was made.
    let before = now_ms();
    let minted = http.post(&url).bearer_auth(ADMIN).send().await.unwrap();
    let after = now_ms();
    assert_eq!(minted.status(), 201);
    let minted: Invite = minted.json().await.unwrap();
    assert_eq!((minted.uses, minted.used), (1, 0));
    assert_eq!(
        kindred::Config::default().tokens.invite_ttl_secs,
        24 * 3_600
    );
    assert!(
        (before..=after).contains(&minted.created_at),
        "made now: {} not in {before}..={after}",
        minted.created_at
    );
    assert_eq!(
        minted.expires_at - minted.created_at,
        24 * 3_600 * 1_000,
        "the default lifetime"
    );
    // The operator's list says the same.
    let listed = server.http.invites(ADMIN, room).await.unwrap().invites;
    assert_eq!(listed[0].expires_at, minted.expires_at);
    for (body, why) in [
        (r#"{"uses": 0}"#, "no uses"),
        (r#"{"uses": 51}"#, "too many"),
        ("{", "not JSON"),
    ] {
        let resp = http
            .post(&url)
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{why}");
    }
    for req in [
        http.get(&url),
        http.post(&url),
        http.delete(format!("{url}/{}", minted.id)),
    ] {
        assert_eq!(req.send().await.unwrap().status(), 401);
    }
    let unknown = http
        .get(format!("{url}/{}", kindred_protocol::InviteId::new()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    server.stop().await;
}
