//! A phone that spent an hour in a tunnel: its member left the room long ago, but the
//! token still works, and what the client resends when it comes back is posted once.

use kindred_protocol::{LeftReason, ServerFrame};
use kindred_tests::{TestServer, config};

#[tokio::test]
async fn a_client_away_longer_than_the_away_limit_does_not_post_its_resends_twice() {
    let mut c = config();
    c.rooms.presence_grace_ms = 200;
    c.rooms.away_limit_ms = 400;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut bob = server.member(room, "Bob").await;
    let alice = server.join(room, "Alice").await.unwrap();
    let mut first = server.connect(alice.clone()).await;
    let text = "is anyone still up?";
    // The message lands, but its ack never reaches Alice's phone.
    let seq = first.say_acked(text).await;
    assert_eq!(bob.hears(text).await, seq);
    drop(first);
    // Long past the away limit: Alice has left the room.
    let gone = bob
        .until(|f| match f {
            ServerFrame::Left { user, reason, .. } if *user == alice.user_id => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(gone, LeftReason::Disconnected);

    // Back with the same token: a new arrival (others see her join again)...
    let mut back = server.connect(alice.clone()).await;
    bob.until(|f| match f {
        ServerFrame::Joined { member, .. } if member.user == alice.user_id => Some(()),
        _ => None,
    })
    .await;
    // ...whose client resends its pending message with the same client_id.
    assert_eq!(back.say_acked(text).await, seq, "the original ack");
    let next = back.say_acked("sorry, bad signal").await;
    assert!(next > seq);
    let heard = bob
        .until(|f| match f {
            ServerFrame::Message { text, .. } => Some(text.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        heard, "sorry, bad signal",
        "nobody sees the first one twice"
    );
    server.stop().await;
}
