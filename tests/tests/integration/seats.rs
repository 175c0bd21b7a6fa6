//! A facilitator's seat outlives their tab: the browser that redeemed the invite with
//! a seat key takes the same seat back (same member, same pseudonym, their kept
//! whispers), a device they chose from inside the room joins it with a one-time code,
//! and nobody else is seated by the same link. Revoking the invite still ends the seat
//! on every device, through any instance.

use kindred::clock::now_ms;
use kindred_protocol::client::ClientError;
use kindred_protocol::http::{
    CreateInvite, CreateRoom, Invite, JoinRequest, JoinResponse, SeatRequest,
};
use kindred_protocol::{
    ClientFrame, ErrorCode, LeftReason, RoomId, ServerFrame, UserId, close_code,
};
use kindred_tests::redis::RedisServer;
use kindred_tests::{ADMIN, Member, TestServer, conversation_continues};

/// The keys three browsers keep: Fran's laptop, Fran's phone, and someone else's.
const LAPTOP: &str = "laptop-key-0123456789abcdef";
const PHONE: &str = "phone-key-0123456789abcdefgh";
const STRANGER: &str = "stranger-key-0123456789abcd";

async fn mint(server: &TestServer, room: RoomId) -> Invite {
    server
        .http
        .invite(ADMIN, room, &CreateInvite::default())
        .await
        .expect("invite minted")
}

/// A join with the invite's link, from a browser that keeps `seat_key` for it.
async fn open_link(
    server: &TestServer,
    room: RoomId,
    name: &str,
    invite: &Invite,
    seat_key: Option<&str>,
) -> Result<JoinResponse, ClientError> {
    server
        .http
        .join(
            room,
            &JoinRequest {
                name: name.into(),
                accept_guidelines: true,
                invite: invite.token.clone(),
                seat_key: seat_key.map(str::to_owned),
                ..JoinRequest::default()
            },
        )
        .await
}

/// The seat bound to `seat_key`, taken back (with a one-time `code`: bound first).
async fn take_seat(
    server: &TestServer,
    room: RoomId,
    seat_key: &str,
    code: Option<&str>,
) -> Result<JoinResponse, ClientError> {
    server
        .http
        .seat(
            room,
            &SeatRequest {
                seat_key: seat_key.into(),
                code: code.map(str::to_owned),
                device: None,
            },
        )
        .await
}

fn refused(result: Result<impl std::fmt::Debug, ClientError>) -> (u16, ErrorCode, String) {
    match result {
        Err(ClientError::Http { status, body }) => {
            let body = body.expect("an error body");
            (status, body.code, body.message)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// An open, facilitated room: held once no facilitator has been present for the
/// (short) grace period.
async fn facilitated_room(server: &TestServer) -> RoomId {
    server
        .room_with(CreateRoom {
            open: Some(true),
            facilitated: Some(true),
            ..CreateRoom::default()
        })
        .await
}

fn short_grace() -> kindred::Config {
    let mut c = kindred_tests::config();
    c.rooms.presence_grace_ms = 200;
    c
}

async fn left(member: &mut Member) -> (UserId, LeftReason) {
    member
        .until(|f| match f {
            ServerFrame::Left { user, reason, .. } => Some((*user, *reason)),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn a_facilitator_whose_tab_closed_is_back_in_their_own_seat_from_the_same_browser() {
    let server = TestServer::with(short_grace()).await;
    let room = facilitated_room(&server).await;
    let invite = mint(&server, room).await;
    let joined = open_link(&server, room, "Fran", &invite, Some(LAPTOP))
        .await
        .expect("Fran's link seats her");
    let fran_id = joined.user_id;
    let fran = server.connect(joined).await;
    let mut maya = server.member(room, "Maya").await;

    // Fran closes her tab: her connection ends without a word, and after the grace
    // period the room shows her away (her seat kept) and is held with Maya in it.
    drop(fran);
    maya.until(|f| matches!(f, ServerFrame::Away { user, .. } if *user == fran_id).then_some(()))
        .await;
    maya.until(|f| matches!(f, ServerFrame::Held { .. }).then_some(()))
        .await;
    maya.send(ClientFrame::Whisper {
        to: None,
        text: "Fran, are you coming back? I am feeling a bit wobbly".into(),
    })
    .await;

    // The same link in the same browser: the same seat, not a new one.
    let back = take_seat(&server, room, LAPTOP, None)
        .await
        .expect("her browser takes the seat back");
    assert_eq!(back.user_id, fran_id, "the same member");
    assert_eq!(
        back.name.as_deref(),
        Some("Fran"),
        "under the same pseudonym"
    );
    let mut fran = server.connect(back).await;
    assert_eq!(
        (fran.welcome.you.user, fran.welcome.you.name.as_str()),
        (fran_id, "Fran")
    );
    let kept = fran
        .until(|f| match f {
            ServerFrame::Whisper { text, from, .. } if *from == maya.user() => Some(text.clone()),
            _ => None,
        })
        .await;
    assert!(kept.contains("wobbly"), "the whisper kept for her: {kept}");
    maya.until(|f| matches!(f, ServerFrame::Unheld { .. }).then_some(()))
        .await;
    conversation_continues(&mut maya, &mut fran, "I am here, Maya").await;
    // The invite stays spent: nothing was redeemed again.
    let listed = server.http.invites(ADMIN, room).await.unwrap().invites;
    assert_eq!(
        (listed[0].used, listed[0].members.clone()),
        (1, vec![fran_id])
    );
    server.stop().await;
}

#[tokio::test]
async fn the_same_link_in_another_browser_is_refused_in_clear_words() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let invite = mint(&server, room).await;
    let fran = open_link(&server, room, "Fran", &invite, Some(LAPTOP))
        .await
        .expect("Fran's link seats her");
    let mut fran = server.connect(fran).await;

    // Someone else opens the link, in a browser of their own.
    let (status, code, message) =
        refused(open_link(&server, room, "Sam", &invite, Some(STRANGER)).await);
    assert_eq!((status, code), (409, ErrorCode::InviteInUse));
    assert!(
        message.contains("already in use in another browser"),
        "{message}"
    );
    // A client that keeps no seat key is answered as it always was.
    assert_eq!(
        refused(open_link(&server, room, "Sam", &invite, None).await).1,
        ErrorCode::Unauthorized
    );
    // A key no seat is bound to takes nothing.
    let (status, code, _) = refused(take_seat(&server, room, STRANGER, None).await);
    assert_eq!((status, code), (401, ErrorCode::Unauthorized));
    // A key that is not a key is a bad request, not a crash.
    assert_eq!(
        refused(take_seat(&server, room, "short", None).await).1,
        ErrorCode::BadRequest
    );
    // Fran is undisturbed, and the room still has one facilitator.
    let mut alice = server.member(room, "Alice").await;
    conversation_continues(&mut fran, &mut alice, "just the two of us here").await;
    let list = server.http.invites(ADMIN, room).await.unwrap().invites;
    assert_eq!(list[0].members, vec![fran.user()]);
    server.stop().await;
}

#[tokio::test]
async fn a_code_from_inside_the_room_seats_the_same_facilitator_on_one_more_device_once() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let invite = mint(&server, room).await;
    let laptop = open_link(&server, room, "Fran", &invite, Some(LAPTOP))
        .await
        .unwrap();
    let mut laptop = server.connect(laptop).await;
    let mut alice = server.member(room, "Alice").await;

    // "Use on another device": a code for this seat, and a link that carries it,
    // working for the default ten minutes.
    let asked = now_ms();
    let code = server
        .http
        .seat_code(room, &laptop.joined.token)
        .await
        .expect("a facilitator may add a device");
    let answered = now_ms();
    assert_eq!(code.url, format!("/?room={room}#seat={}", code.code));
    assert!(
        (asked + 600_000..=answered + 600_000).contains(&code.expires_at),
        "expires ten minutes after it was given: {}",
        code.expires_at
    );
    let phone = take_seat(&server, room, PHONE, Some(&code.code))
        .await
        .expect("the phone she chose joins her seat");
    assert_eq!(
        (phone.user_id, phone.name.as_deref()),
        (laptop.user(), Some("Fran"))
    );
    let mut phone = server.connect(phone).await;
    conversation_continues(&mut alice, &mut phone, "hello from the phone").await;
    conversation_continues(&mut alice, &mut laptop, "and the laptop").await;

    // The code worked once: another device that has it is refused.
    let (status, code_refused, message) =
        refused(take_seat(&server, room, STRANGER, Some(&code.code)).await);
    assert_eq!((status, code_refused), (401, ErrorCode::Unauthorized));
    assert!(message.contains("used or has expired"), "{message}");
    // The phone is bound now: after a reload, its key alone brings it back.
    let again = take_seat(&server, room, PHONE, None).await.unwrap();
    assert_eq!(again.user_id, laptop.user());
    // A participant has no seat to add a device to.
    let (status, code_refused, _) = refused(server.http.seat_code(room, &alice.joined.token).await);
    assert_eq!((status, code_refused), (403, ErrorCode::Forbidden));
    server.stop().await;
}

/// Revoking the invite removes the facilitator on every device they bound, and none
/// of those browsers can take the seat back; tested with the devices on two
/// instances sharing one Redis, the revoke through a third.
#[tokio::test]
async fn revoking_the_invite_ends_the_seat_on_every_device_and_instance() {
    let redis = RedisServer::start().await;
    let a = TestServer::on_redis(&redis.url()).await;
    let b = TestServer::on_redis(&redis.url()).await;
    let room = a.room(12).await;
    let invite = mint(&a, room).await;
    let laptop = open_link(&a, room, "Fran", &invite, Some(LAPTOP))
        .await
        .unwrap();
    let mut laptop = a.connect(laptop).await;
    // Her phone joins the seat through the other instance, and so does her laptop
    // after a reload: a seat is the room's, not an instance's.
    let code = a.http.seat_code(room, &laptop.joined.token).await.unwrap();
    let phone = take_seat(&b, room, PHONE, Some(&code.code)).await.unwrap();
    assert_eq!(phone.user_id, laptop.user());
    let mut phone = b.connect(phone).await;
    let reloaded = take_seat(&b, room, LAPTOP, None).await.unwrap();
    assert_eq!(reloaded.user_id, laptop.user());
    let mut alice = b.member(room, "Alice").await;
    conversation_continues(&mut alice, &mut laptop, "hello Fran").await;

    let c = TestServer::on_redis(&redis.url()).await;
    c.http
        .revoke_invite(ADMIN, room, invite.id)
        .await
        .expect("revoked");
    assert_eq!(laptop.closed().await.0, close_code::REMOVED);
    assert_eq!(phone.closed().await.0, close_code::REMOVED);
    assert_eq!(left(&mut alice).await, (laptop.user(), LeftReason::Removed));
    for (server, key) in [(&a, LAPTOP), (&b, PHONE), (&c, LAPTOP)] {
        let (status, code, _) = refused(take_seat(server, room, key, None).await);
        assert_eq!((status, code), (401, ErrorCode::Unauthorized), "{key}");
    }
    let (error, code) = b.hello_refused(&reloaded.token).await;
    assert_eq!(
        (error.code, code),
        (ErrorCode::Unauthorized, close_code::UNAUTHORIZED)
    );
    for server in [a, b, c] {
        server.stop().await;
    }
}

#[tokio::test]
async fn what_is_sent_to_the_seat_routes_wrongly_is_refused_with_a_typed_error() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let other = server.room(12).await;
    let invite = mint(&server, room).await;
    let fran = open_link(&server, room, "Fran", &invite, Some(LAPTOP))
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .timeout(kindred_tests::WAIT)
        .build()
        .unwrap();
    let seat = format!("{}/api/rooms/{room}/seat", server.base());
    for (body, why) in [
        ("{", "not JSON"),
        (r#"{"code": "Xc4Vb7Nm0Qw2Er5Ty8Ui1O"}"#, "no key"),
        (r#"{"seat_key": "has spaces in it, sixteen+"}"#, "not a key"),
        (
            r#"{"seat_key": "laptop-key-0123456789abcdef", "code": "x"}"#,
            "not a code",
        ),
    ] {
        let resp = http
            .post(&seat)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{why}");
    }
    // A seat key with a participant's join is not a facilitator's.
    let join = server
        .http
        .join(
            room,
            &JoinRequest {
                name: "Alice".into(),
                accept_guidelines: true,
                seat_key: Some(STRANGER.into()),
                ..JoinRequest::default()
            },
        )
        .await;
    assert_eq!(refused(join).1, ErrorCode::BadRequest);
    // A code needs this room's session token of a facilitator.
    let code = |room: RoomId| format!("{}/api/rooms/{room}/seat/code", server.base());
    let alice = server.join(room, "Alice").await.unwrap();
    for (req, status) in [
        (http.post(code(room)), 401),
        (http.post(code(room)).bearer_auth("forged.token.here"), 401),
        (http.post(code(room)).bearer_auth(ADMIN), 401),
        (http.post(code(other)).bearer_auth(&fran.token), 401),
        (http.post(code(room)).bearer_auth(&alice.token), 403),
    ] {
        assert_eq!(req.send().await.unwrap().status(), status);
    }
    // Fran's seat is untouched by all of it.
    let back = take_seat(&server, room, LAPTOP, None).await.unwrap();
    assert_eq!(back.user_id, fran.user_id);
    server.stop().await;
}
