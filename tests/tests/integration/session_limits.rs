//! The limits of one WebSocket session: what counts as a message, how many sockets a
//! token may hold, silence, and a welcome that fits whatever the room's size.

use kindred::clock::now_ms;
use kindred::room::Command;
use kindred_protocol::client::{ClientError, Connection};
use kindred_protocol::{
    AlertKind, ClientFrame, ErrorCode, Reaction, Role, ServerFrame, UserId, close_code,
};
use kindred_tests::{TestServer, config, conversation_continues};

#[tokio::test]
async fn hands_reactions_and_reports_count_against_the_message_rate() {
    let mut c = config();
    c.rates.messages_per_minute = 6;
    c.rates.message_burst = 3;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let seq = alice.say_acked("I got the job").await;
    bob.send(ClientFrame::Hand { raised: true }).await;
    bob.send(ClientFrame::React {
        seq,
        emoji: Reaction::Strength,
    })
    .await;
    bob.send(ClientFrame::React {
        seq,
        emoji: Reaction::Heart,
    })
    .await;
    // The fourth is over the burst of three.
    bob.send(ClientFrame::Report { seq, reason: None }).await;
    let e = bob.error(ErrorCode::RateLimited).await;
    assert!(e.retry_after_ms.is_some_and(|ms| ms > 0), "{e:?}");
    assert_eq!(e.client_id, None);
    server.stop().await;
}

#[tokio::test]
async fn a_repeated_reaction_is_one_event_and_a_repeated_report_one_alert() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    let seq = alice.say_acked("a hard week").await;
    for emoji in [
        Reaction::Hug,
        Reaction::Hug,
        Reaction::Hug,
        Reaction::Candle,
    ] {
        bob.send(ClientFrame::React { seq, emoji }).await;
    }
    for _ in 0..3 {
        bob.send(ClientFrame::Report {
            seq,
            reason: Some("not sure this is ok".into()),
        })
        .await;
    }
    bob.say_acked("that's all from me").await;
    let mut hugs = 0;
    let mut reports = 0;
    loop {
        match fran.next().await {
            ServerFrame::Reaction {
                emoji: Reaction::Hug,
                ..
            } => hugs += 1,
            ServerFrame::Alert {
                kind: AlertKind::Report,
                ..
            } => reports += 1,
            ServerFrame::Message { text, .. } if text == "that's all from me" => break,
            _ => {}
        }
    }
    assert_eq!((hugs, reports), (1, 1));
    server.stop().await;
}

#[tokio::test]
async fn one_token_holds_at_most_five_sockets_and_the_sixth_is_told_why() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut bob = server.member(room, "Bob").await;
    let alice = server.join(room, "Alice").await.unwrap();
    let mut tabs = Vec::new();
    for _ in 0..5 {
        tabs.push(server.connect(alice.clone()).await);
    }
    let mut sixth = server.raw().await;
    sixth
        .send(&ClientFrame::Hello {
            first_time: false,
            token: alice.token.clone(),
            last_seq: None,
            epoch: None,
        })
        .await
        .unwrap();
    let e = kindred_tests::next_error(&mut sixth).await;
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(e.message.contains("tab"), "{}", e.message);
    assert_eq!(
        kindred_tests::closed(&mut sixth).await.0,
        close_code::TOO_MANY_CONNECTIONS
    );
    // The five keep working, and a closed tab frees its place.
    conversation_continues(&mut tabs[4], &mut bob, "still here").await;
    tabs.pop().unwrap().conn.close().await.unwrap();
    let deadline = tokio::time::Instant::now() + kindred_tests::WAIT;
    let again = loop {
        match Connection::hello(&server.ws_url(), &alice.token, None).await {
            Ok((conn, ..)) => break conn,
            Err(ClientError::Closed { .. } | ClientError::Refused(_)) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the place never frees"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e}"),
        }
    };
    again.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_answers_nothing_is_closed_at_the_idle_timeout() {
    // The idle timeout must be longer than the ping interval (a shorter one is refused
    // at start); a client that reads nothing answers no ping, so it falls silent.
    let mut c = config();
    c.sockets.ping_interval_ms = 200;
    c.sockets.idle_timeout_ms = 300;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut quiet = server.member(room, "Quiet").await;
    // Not a frame, not a pong for a second: the pings wait unread in the socket.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(quiet.closed().await.0, close_code::TIMEOUT);
    server.stop().await;
}

#[tokio::test]
async fn a_newcomer_to_a_room_of_1500_members_with_long_names_gets_its_welcome() {
    let server = TestServer::start().await;
    let room = server.room(2_000).await;
    // 1,500 members, seated through the broker (quicker than 1,500 sockets), each with
    // a name as long as there is, in four-byte characters: the member list alone is
    // larger than a connection's write buffer.
    let broker = server.running.state.broker.clone();
    for i in 0..1_500 {
        // Every name different (no two members may look alike): 28 four-byte tulips
        // and a number.
        let name = format!("{}{i:04}", "🌷".repeat(28));
        let connect = Command::Connect {
            first_time: false,
            user: UserId::new(),
            name,
            role: Role::Participant,
            session: 0,
            origin: Default::default(),
        };
        broker.apply(room, connect, now_ms()).await.unwrap();
    }
    let mut alice = server.member(room, "Alice").await;
    assert_eq!(
        alice.welcome.members.len(),
        1_501,
        "everyone, Alice included"
    );
    assert!(alice.welcome.member_parts >= 1, "sent in parts");
    assert!(alice.welcome.members.iter().any(|m| m.user == alice.user()));
    let mut bob = server.member(room, "Bob").await;
    conversation_continues(&mut alice, &mut bob, "what a crowd").await;
    server.stop().await;
}
