//! Pseudonyms: a name is what other members see, so it cannot hide characters that
//! draw nothing.

use kindred_protocol::ErrorCode;
use kindred_protocol::client::ClientError;
use kindred_tests::TestServer;

#[tokio::test]
async fn a_pseudonym_with_invisible_characters_is_refused_with_the_reason() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    server.member(room, "Robin").await;
    for name in [
        "Ro\u{200B}bin",
        "Robin\u{200D}",
        "\u{3164}",
        "\u{200F}Robin",
    ] {
        let Err(ClientError::Http {
            status,
            body: Some(error),
        }) = server.join(room, name).await
        else {
            panic!("{name:?}: an invisible character is refused with a typed error");
        };
        assert_eq!(
            (status, error.code),
            (400, ErrorCode::BadRequest),
            "{name:?}"
        );
        assert!(error.message.contains("invisible"), "{}", error.message);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_pseudonym_that_looks_like_a_members_is_refused_at_join() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let _robin = server.member(room, "Robin").await;
    // "Rоbin" with a Cyrillic o, and "ROBIN", would pass for Robin in the room.
    for name in ["R\u{043E}bin", "ROBIN"] {
        let Err(ClientError::Http {
            status,
            body: Some(error),
        }) = server.join(room, name).await
        else {
            panic!("{name:?}: a look-alike name is refused with a typed error");
        };
        assert_eq!(
            (status, error.code),
            (400, ErrorCode::BadRequest),
            "{name:?}"
        );
        assert!(error.message.contains("looks like"), "{}", error.message);
    }
    server.member(room, "Robyn").await;
    server.stop().await;
}
