//! Concern, not accusation: a member tells the facilitators they are worried about
//! someone; the facilitators are given an alert about that person, the sender is
//! thanked, and the person it is about is never told who.

use kindred_protocol::{AlertKind, ClientFrame, ErrorCode, ServerFrame, UserId};
use kindred_tests::TestServer;

#[tokio::test]
async fn a_concern_reaches_the_facilitators_and_never_names_its_sender_to_the_subject() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let mut carol = server.member(room, "Carol").await;
    let worrying = "I haven't slept in days and I don't see the point any more of trying";
    let seq = bob.say_acked(worrying).await;
    alice.hears(worrying).await;

    alice
        .send(ClientFrame::Concern {
            user: bob.user(),
            seq: Some(seq),
        })
        .await;
    // The facilitators are told who Alice is worried about, quoting Bob's words.
    let (about, by, quoted) = fran
        .until(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Concern,
                user,
                by,
                context,
                ..
            } => Some((*user, *by, context.clone())),
            _ => None,
        })
        .await;
    assert_eq!((about, by), (bob.user(), Some(alice.user())));
    assert_eq!(quoted.len(), 1);
    assert_eq!((quoted[0].seq, quoted[0].text.as_str()), (seq, worrying));
    // Alice is thanked.
    let (noted, told) = alice
        .until(|f| match f {
            ServerFrame::ConcernNoted { user, told, .. } => Some((*user, *told)),
            _ => None,
        })
        .await;
    assert_eq!((noted, told), (bob.user(), true));

    // Bob is given nothing of it: no frame after it names Alice, nor is private.
    let marker = "let's take a short pause together";
    fran.say_acked(marker).await;
    let alice_id = alice.user().to_string();
    for member in [&mut bob, &mut carol] {
        for f in member.frames_before(marker).await {
            let json = serde_json::to_string(&f).unwrap();
            assert!(
                !json.contains(&alice_id),
                "a frame names the sender: {json}"
            );
            assert!(
                !matches!(
                    f,
                    ServerFrame::Alert { .. } | ServerFrame::ConcernNoted { .. }
                ),
                "{f:?}"
            );
        }
    }

    // A concern about oneself, about someone not here, or quoting someone else's
    // message, is refused with a clear error.
    alice
        .send(ClientFrame::Concern {
            user: alice.user(),
            seq: None,
        })
        .await;
    let own = alice.error(ErrorCode::BadRequest).await;
    assert!(own.message.contains("someone else"), "{}", own.message);
    alice
        .send(ClientFrame::Concern {
            user: UserId::new(),
            seq: None,
        })
        .await;
    alice.error(ErrorCode::NotFound).await;
    let carols = carol.say_acked("I'm fine, thanks for asking").await;
    alice
        .send(ClientFrame::Concern {
            user: bob.user(),
            seq: Some(carols),
        })
        .await;
    let not_theirs = alice.error(ErrorCode::BadRequest).await;
    assert!(
        not_theirs.message.contains("not theirs"),
        "{}",
        not_theirs.message
    );
    server.stop().await;
}
