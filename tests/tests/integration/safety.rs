//! Safety in a mental-health setting: crisis language reaches the room as written and
//! brings help; the content policy is aimed at abuse toward others; the edge holds.

use kindred::auth::{InviteClaims, Signer};
use kindred_protocol::client::ClientError;
use kindred_protocol::http::JoinRequest;
use kindred_protocol::policy::{Kinds, PolicyMode};
use kindred_protocol::{
    AlertKind, ClientFrame, CrisisCategory, ErrorCode, ModAction, Role, ServerFrame,
};
use kindred_tests::{ADMIN, ModArgs, SECRET, TestServer, config, conversation_continues};

fn alert(f: &ServerFrame, want: AlertKind) -> Option<ServerFrame> {
    match f {
        ServerFrame::Alert { kind, .. } if *kind == want => Some(f.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn a_crisis_message_reaches_the_room_verbatim_and_brings_help_to_its_author_and_alerts_to_facilitators()
 {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut cora = server.facilitator(room, "Cora").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    // Strict policy: it must still not touch crisis language.
    fran.set_policy(PolicyMode::Censor, Kinds::ALL).await;

    let words = "honestly I want to kill myself, I don't want to be here anymore";
    let seq = alice.say_acked(words).await;

    let card = alice
        .until(|f| match f {
            ServerFrame::CrisisResources { seq: s, lines, .. } => Some((*s, lines.clone())),
            _ => None,
        })
        .await;
    assert_eq!(card.0, Some(seq), "the card points at the message");
    assert!(card.1.iter().any(|l| l.contact.contains("988")));
    assert!(card.1.iter().any(|l| l.contact.contains("116 123")));

    for facilitator in [&mut fran, &mut cora] {
        let a = facilitator.until(|f| alert(f, AlertKind::Crisis)).await;
        let ServerFrame::Alert {
            seq: s,
            user,
            category,
            ..
        } = a
        else {
            unreachable!()
        };
        assert_eq!(s, Some(seq));
        assert_eq!(user, alice.user());
        assert_eq!(category, Some(CrisisCategory::SuicidalIdeation));
    }
    // Alice is not muted, slowed or held: she goes on talking at once.
    let next = alice.say_acked("sorry, it's been a rough week").await;
    // Everything Bob was given from before Alice's words to his own answer: her
    // words as written, her next message, and neither the card nor the alert.
    let given = bob.frames_until_said("we're here for you").await;
    let heard: Vec<(u64, &str)> = given
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message { seq, text, .. } => Some((*seq, text.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        heard,
        [(seq, words), (next, "sorry, it's been a rough week")],
        "delivered exactly as written"
    );
    assert!(
        !given.iter().any(|f| matches!(
            f,
            ServerFrame::Alert { .. } | ServerFrame::CrisisResources { .. }
        )),
        "private frames stay private: {given:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn words_of_disclosure_are_never_censored_even_by_the_strictest_policy() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    fran.set_policy(PolicyMode::Censor, Kinds::ALL).await;
    for words in [
        "I was sexually abused as a child",
        "I was raped two years ago and I still can't sleep",
        "I'm autistic and gay and that's fine",
        "the suicide of my brother still hurts",
    ] {
        alice.say_acked(words).await;
        bob.hears(words).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn policy_off_lets_abuse_through_without_alerts() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    fran.set_policy(PolicyMode::Off, Kinds::default()).await;
    let seq = bob.say_acked("kys you idiot").await;
    assert_eq!(alice.hears("kys you idiot").await, seq);
    let next = bob.say_acked("sorry").await;
    let flagged = fran
        .until(|f| match f {
            ServerFrame::Alert { .. } => Some(true),
            ServerFrame::Message { seq, .. } if *seq == next => Some(false),
            _ => None,
        })
        .await;
    assert!(!flagged);
    server.stop().await;
}

#[tokio::test]
async fn policy_flag_delivers_as_written_and_tells_the_facilitators() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    assert_eq!(fran.welcome.policy.mode, PolicyMode::Flag, "the default");
    let seq = bob.say_acked("kys you idiot").await;
    assert_eq!(alice.hears("kys you idiot").await, seq);
    let a = fran.until(|f| alert(f, AlertKind::Flagged)).await;
    let ServerFrame::Alert {
        seq: s,
        user,
        reason,
        ..
    } = a
    else {
        unreachable!()
    };
    assert_eq!((s, user), (Some(seq), bob.user()));
    assert!(reason.unwrap().contains("mean"));
    server.stop().await;
}

#[tokio::test]
async fn policy_censor_stars_out_the_abuse() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    fran.set_policy(PolicyMode::Censor, Kinds::default()).await;
    assert_eq!(
        alice
            .until(|f| match f {
                ServerFrame::Policy { policy, .. } => Some(policy.mode),
                _ => None,
            })
            .await,
        PolicyMode::Censor,
        "members hear of the change"
    );
    let seq = bob.say_acked("kys you idiot").await;
    let text = alice
        .until(|f| match f {
            ServerFrame::Message { seq: s, text, .. } if *s == seq => Some(text.clone()),
            _ => None,
        })
        .await;
    assert!(
        text.contains('*') && !text.contains("kys"),
        "censored: {text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn policy_hold_keeps_a_message_for_review_until_a_facilitator_releases_or_declines_it() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    fran.set_policy(PolicyMode::Hold, Kinds::default()).await;

    bob.send(ClientFrame::Send {
        client_id: "h1".into(),
        guard: None,
        text: "kys you idiot".into(),
        cw: None,
    })
    .await;
    let held_ack = bob
        .until(|f| match f {
            ServerFrame::Ack {
                client_id,
                seq,
                held,
            } if client_id == "h1" => Some((*seq, *held)),
            _ => None,
        })
        .await;
    assert_eq!(held_ack, (None, true), "Bob is told it waits for review");
    let a = fran.until(|f| alert(f, AlertKind::Held)).await;
    let ServerFrame::Alert {
        held: Some(id),
        text,
        user,
        ..
    } = a
    else {
        panic!("{a:?}")
    };
    assert_eq!(text.as_deref(), Some("kys you idiot"));
    assert_eq!(user, bob.user());

    // Alice hears nothing of it (neither the message nor its alert) before what Fran
    // says next; the room goes on.
    fran.say_acked("let's keep going").await;
    let given = alice.frames_before("let's keep going").await;
    assert!(
        !given.iter().any(|f| matches!(
            f,
            ServerFrame::Message { text, .. } if text == "kys you idiot"
        ) || matches!(f, ServerFrame::Alert { .. })),
        "a held message reaches nobody but the facilitators: {given:?}"
    );

    let released = fran
        .moderate(
            ModAction::Release,
            ModArgs {
                held: Some(id),
                ..ModArgs::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(alice.hears("kys you idiot").await, released);
    assert_eq!(
        bob.ack("h1").await.unwrap(),
        released,
        "Bob's send is acked with its seq"
    );

    // A second one, declined.
    bob.send(ClientFrame::Send {
        client_id: "h2".into(),
        guard: None,
        text: "you're all idiots, kys".into(),
        cw: None,
    })
    .await;
    let a = fran.until(|f| alert(f, AlertKind::Held)).await;
    let ServerFrame::Alert { held: Some(id), .. } = a else {
        panic!("{a:?}")
    };
    fran.moderate(
        ModAction::Decline,
        ModArgs {
            held: Some(id),
            ..ModArgs::default()
        },
    )
    .await
    .unwrap();
    let refused = loop {
        match bob.next().await {
            ServerFrame::Error(e) if e.client_id.as_deref() == Some("h2") => break e,
            _ => continue,
        }
    };
    assert_eq!(refused.code, ErrorCode::Filtered);
    // Declining twice is an error, not a crash.
    let again = fran
        .moderate(
            ModAction::Decline,
            ModArgs {
                held: Some(id),
                ..ModArgs::default()
            },
        )
        .await;
    assert_eq!(again.unwrap_err().code, ErrorCode::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn a_websocket_from_a_foreign_origin_is_refused() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let joined = server.join(room, "Alice").await.unwrap();
    let upgrade = |origin: &str| {
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                server.ws_url(),
            )
            .unwrap();
        req.headers_mut().insert("origin", origin.parse().unwrap());
        req
    };
    match tokio_tungstenite::connect_async(upgrade("https://evil.example")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 403)
        }
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    // The server's own origin is welcome.
    let own = server.base();
    let (ws, _) = tokio_tungstenite::connect_async(upgrade(&own))
        .await
        .expect("own origin");
    drop(ws);
    let _ = joined;
    server.stop().await;
}

#[tokio::test]
async fn tokens_cannot_be_stretched_past_their_room_role_or_lifetime() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let signer = Signer::new(SECRET.as_bytes());
    let join_with = |invite: String| JoinRequest {
        name: "Eve".into(),
        accept_guidelines: true,
        invite: Some(invite),
        device: None,
        seat_key: None,
    };
    let expired = signer.invite_token(InviteClaims {
        room,
        id: kindred_protocol::InviteId::new(),
        role: Role::Facilitator,
        exp: 1,
    });
    let session_as_invite = server.join(room, "Alice").await.unwrap().token;
    for invite in [expired, session_as_invite, "k1.bogus.token".to_owned()] {
        match server.http.join(room, &join_with(invite)).await {
            Err(ClientError::Http { status: 401, body }) => {
                assert_eq!(body.unwrap().code, ErrorCode::Unauthorized)
            }
            other => panic!("expected 401, got {other:?}"),
        }
    }
    // The admin API wants the admin token, exactly.
    let (short, long) = (&ADMIN[..ADMIN.len() - 1], format!("{ADMIN}-and-more"));
    for token in ["", short, long.as_str()] {
        let resp = reqwest::Client::new()
            .post(format!("{}/api/rooms", server.base()))
            .bearer_auth(token)
            .json(&serde_json::json!({"title": "mine now"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401);
    }
    server.stop().await;
}

#[tokio::test]
async fn joins_from_one_address_are_rate_limited() {
    let mut c = config();
    c.rates.joins_per_minute_per_ip = 3;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    for name in ["A", "B", "C"] {
        server.join(room, name).await.expect("within the limit");
    }
    match server.join(room, "D").await {
        Err(ClientError::Http { status: 429, body }) => {
            let body = body.unwrap();
            assert_eq!(body.code, ErrorCode::RateLimited);
            assert!(body.retry_after_ms.is_some_and(|ms| ms > 0));
        }
        other => panic!("expected 429, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn messages_are_rate_limited_per_member_with_a_retry_hint() {
    let mut c = config();
    c.rates.messages_per_minute = 6;
    c.rates.message_burst = 3;
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    for i in 0..3 {
        alice.say_acked(&format!("quick {i}")).await;
    }
    let id = alice.say("one too many").await;
    let e = alice.ack(&id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(
        e.retry_after_ms.is_some_and(|ms| ms > 0 && ms <= 10_000),
        "{e:?}"
    );
    // Bob is not affected by Alice's limit.
    conversation_continues(&mut bob, &mut alice, "take your time").await;
    server.stop().await;
}

#[tokio::test]
async fn text_that_would_break_others_screens_is_refused_or_tidied() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    for bad in ["bell\u{7}", "rtl \u{202E}override", "nul\u{0}"] {
        let id = alice.say(bad).await;
        assert_eq!(
            alice.ack(&id).await.unwrap_err().code,
            ErrorCode::BadRequest,
            "{bad:?}"
        );
    }
    // Zalgo is trimmed to a few marks per letter, and whitespace around is trimmed.
    let zalgo = format!("  h{}i  ", "\u{0301}".repeat(40));
    let seq = alice.say_acked(&zalgo).await;
    let text = bob
        .until(|f| match f {
            ServerFrame::Message { seq: s, text, .. } if *s == seq => Some(text.clone()),
            _ => None,
        })
        .await;
    assert!(
        text.chars().count() <= 5 && text.starts_with('h') && text.ends_with('i'),
        "{text:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_muted_member_in_crisis_still_gets_help_and_the_facilitators_see_their_words() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    fran.moderate(ModAction::Mute, ModArgs::user(alice.user()))
        .await
        .unwrap();
    let words = "I took too many pills";
    let id = alice.say(words).await;
    assert_eq!(alice.ack(&id).await.unwrap_err().code, ErrorCode::Muted);
    let seq = alice
        .until(|f| match f {
            ServerFrame::CrisisResources { seq, .. } => Some(*seq),
            _ => None,
        })
        .await;
    assert_eq!(
        seq, None,
        "the card comes even though the room did not take the message"
    );
    let a = fran.until(|f| alert(f, AlertKind::Crisis)).await;
    let ServerFrame::Alert { text, category, .. } = a else {
        unreachable!()
    };
    assert_eq!(text.as_deref(), Some(words));
    assert_eq!(category, Some(CrisisCategory::Overdose));
    server.stop().await;
}

#[tokio::test]
async fn the_help_lines_are_there_for_anyone_before_any_crisis() {
    // The operator's own card, as a page asks for it before anyone has written a word.
    let card = serde_json::json!({
        "title": "You are not alone",
        "body": "Please reach out.",
        "lines": [{"region": "UK", "name": "Samaritans", "contact": "Call 116 123"}]
    });
    let path = std::env::temp_dir().join(format!("kindred-card-{}.json", std::process::id()));
    std::fs::write(&path, card.to_string()).expect("card written");
    let mut c = kindred_tests::config();
    c.operations.resources_card = Some(path.clone());
    let server = TestServer::with(c).await;
    let http = reqwest::Client::builder()
        .timeout(kindred_tests::WAIT)
        .build()
        .unwrap();
    // No token, no room, no session: help is never behind anything.
    let got: serde_json::Value = http
        .get(format!("{}/api/resources", server.base()))
        .send()
        .await
        .expect("answered")
        .error_for_status()
        .expect("200")
        .json()
        .await
        .expect("JSON");
    assert_eq!(got, card);
    server.stop().await;
    let _ = std::fs::remove_file(path);
}

/// Whether a member's own socket is given a resources card after their last message
/// and before `marker` (a message they say next) comes back: a card is written right
/// after the ack of the message it answers.
async fn card_before(m: &mut kindred_tests::Member, marker: &str) -> bool {
    m.frames_until_said(marker)
        .await
        .iter()
        .any(|f| matches!(f, ServerFrame::CrisisResources { .. }))
}

#[tokio::test]
async fn the_classifier_reaches_words_no_phrase_names_in_two_tiers() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut river = server.member(room, "River").await;
    let mut wren = server.member(room, "Wren").await;

    // A crisis the classifier is sure of, though no phrase matches it: help and an alert.
    let where_she_is = "sitting on the roof of the car park rn";
    let seq = wren.say_acked(where_she_is).await;
    let card = wren
        .until(|f| match f {
            ServerFrame::CrisisResources { seq, category, .. } => Some((*seq, *category)),
            _ => None,
        })
        .await;
    assert_eq!(card, (Some(seq), Some(CrisisCategory::ImmediateDanger)));
    let a = fran.until(|f| alert(f, AlertKind::Crisis)).await;
    let ServerFrame::Alert {
        seq: s, likelihood, ..
    } = a
    else {
        unreachable!()
    };
    assert_eq!(s, Some(seq));
    assert!(
        likelihood.is_some_and(|l| l >= 90),
        "the classifier's: {likelihood:?}"
    );

    // Leaning that way without being sure: the facilitators are asked to check in,
    // and River is shown no card.
    let words = "some days i wonder whats the point of any of it";
    let seq = river.say_acked(words).await;
    assert!(
        !card_before(&mut river, "anyway, hi all").await,
        "no card for a check-in"
    );
    let a = fran.until(|f| alert(f, AlertKind::CheckIn)).await;
    let ServerFrame::Alert {
        seq: s,
        user,
        category,
        likelihood,
        ..
    } = a
    else {
        unreachable!()
    };
    assert_eq!((s, user), (Some(seq), river.user()));
    assert_eq!(category, Some(CrisisCategory::SuicidalIdeation));
    assert!(likelihood.is_some());
    // Delivered as written, like any crisis words.
    assert_eq!(wren.hears(words).await, seq);

    // The phrase rules still fire on their own, and say so: no likelihood.
    river.say_acked("I want to kill myself").await;
    let a = fran.until(|f| alert(f, AlertKind::Crisis)).await;
    assert!(matches!(
        a,
        ServerFrame::Alert {
            likelihood: None,
            ..
        }
    ));
    server.stop().await;
}
