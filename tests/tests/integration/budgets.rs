//! What one member may send: frames are counted before they are read, messages and
//! moderation each have a budget, and a member's tabs share theirs.

use std::time::Duration;

use tokio::time::Instant;

use kindred_protocol::{ClientFrame, ErrorCode, ModAction, ServerFrame};
use kindred_tests::{ModArgs, TestServer, config};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn frames_over_the_rate_are_not_read_and_cost_one_notice() {
    let mut c = config();
    c.rates.frames_per_second = 1;
    c.rates.frame_burst = 5;
    let server = TestServer::with(c).await;
    let room = server.room(10).await;
    let mut alice = server.member(room, "Alice").await;
    let started = Instant::now();
    for _ in 0..50 {
        alice
            .conn
            .send_raw(Message::text("{not json"))
            .await
            .expect("sent");
    }
    for _ in 0..10 {
        alice
            .conn
            .send_raw(Message::binary(vec![1, 2, 3]))
            .await
            .expect("sent");
    }
    // After a moment the rate allows a frame again: a second hello is answered, and
    // everything the flood was given came before that answer.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    alice
        .send(ClientFrame::Hello {
            first_time: false,
            token: alice.joined.token.clone(),
            last_seq: None,
            epoch: None,
        })
        .await;
    let (mut bad, mut limited) = (0, 0);
    loop {
        let ServerFrame::Error(e) = alice.next().await else {
            continue;
        };
        match e.code {
            ErrorCode::BadRequest if e.message.contains("already said hello") => break,
            ErrorCode::BadRequest => bad += 1,
            ErrorCode::RateLimited => limited += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        bad <= 5,
        "{bad} frames over the rate were read and answered"
    );
    // At most one notice a second while the flood was being read (which was within
    // the time measured here, the pause before the hello included).
    let seconds = started.elapsed().as_secs();
    assert!(
        (1..=seconds + 1).contains(&limited),
        "{limited} rate notices for one flood in {seconds} s"
    );
    server.stop().await;
}

#[tokio::test]
async fn frames_without_a_client_id_over_the_message_budget_get_at_most_one_notice_a_second() {
    // Frames are welcome; messages are not: one, then none for a minute.
    let mut c = config();
    c.rates.messages_per_minute = 1;
    c.rates.message_burst = 1;
    let server = TestServer::with(c).await;
    let room = server.room(10).await;
    let mut alice = server.member(room, "Alice").await;
    // Hands up and down for two and a half seconds, well within the frame rate: each
    // is a message without a client_id, and all but the first are over the budget.
    let started = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    let mut raised = false;
    while started.elapsed() < Duration::from_millis(2_500) {
        pace.tick().await;
        for _ in 0..10 {
            raised = !raised;
            alice.send(ClientFrame::Hand { raised }).await;
        }
    }
    // A command gets its own answer however recent the last notice: the marker.
    let id = alice.say("may I?").await;
    let mut notices = 0;
    let answer = alice
        .until(|f| match f {
            ServerFrame::Error(e) if e.client_id.as_deref() == Some(id.as_str()) => Some(e.clone()),
            ServerFrame::Error(e) if e.code == ErrorCode::RateLimited => {
                assert_eq!(e.client_id, None);
                assert!(e.retry_after_ms.is_some_and(|ms| ms > 0), "{e:?}");
                notices += 1;
                None
            }
            ServerFrame::Error(e) => panic!("unexpected {e:?}"),
            _ => None,
        })
        .await;
    assert_eq!(
        answer.code,
        ErrorCode::RateLimited,
        "the marker is over the budget too"
    );
    let seconds = started.elapsed().as_secs();
    assert!(
        (1..=seconds + 1).contains(&notices),
        "{notices} notices in {seconds} s for about 500 hands over the budget"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_members_tabs_share_one_budget_and_moderation_has_its_own() {
    let mut c = config();
    c.rates.messages_per_minute = 1;
    c.rates.message_burst = 2;
    c.rates.moderation_per_minute = 1;
    c.rates.moderation_burst = 3;
    let server = TestServer::with(c).await;
    let room = server.room(10).await;
    let alice = server.join(room, "Alice").await.expect("Alice joins");
    let mut laptop = server.connect(alice.clone()).await;
    let mut phone = server.connect(alice).await;
    laptop.say_acked("one").await;
    laptop.say_acked("two").await;
    let id = phone.say("three, from the phone").await;
    let refused = phone.ack(&id).await.expect_err("the budget is Alice's");
    assert_eq!(refused.code, ErrorCode::RateLimited);
    assert!(refused.retry_after_ms.is_some_and(|ms| ms > 0));

    // A facilitator's moderation is counted apart from their messages.
    let mut sam = server.facilitator(room, "Sam").await;
    sam.say_acked("hello").await;
    sam.say_acked("everyone").await;
    for on in [true, false, true] {
        let action = if on {
            ModAction::Lock
        } else {
            ModAction::Unlock
        };
        sam.moderate(action, ModArgs::default())
            .await
            .expect("within the moderation budget");
    }
    let refused = sam
        .moderate(ModAction::Unlock, ModArgs::default())
        .await
        .expect_err("past the moderation budget");
    assert_eq!(refused.code, ErrorCode::RateLimited);
    server.stop().await;
}
