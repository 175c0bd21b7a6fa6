//! Logs never contain what members say. A session runs with logging at its most
//! verbose (the production filter at `trace`, captured in memory); every kind of text
//! a member can send carries a marker (messages clean, flagged, censored, held then
//! released or declined, a crisis message the room refused, whispers both ways,
//! reports, announcements, and the pseudonyms themselves); the marker must appear
//! nowhere in the logs, which must hold lines the server always writes. And
//! the filter only ever lowers the libraries' levels: at `error`, the WebSocket library
//! says nothing at all (at `debug` it prints close reasons, which clients write).
//! Its own test binary, because a log subscriber is global to the process.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::StreamExt;
use kindred_protocol::client::Outcome;
use kindred_protocol::policy::{ContentPolicy, Kinds, PolicyMode};
use kindred_protocol::{AlertKind, ClientFrame, ModAction, ServerFrame};
use kindred_tests::{ModArgs, TestServer, WAIT, config, conversation_continues};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const MARKER: &str = "zq7marker";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A subscriber as `kindred` installs one, at these directives, writing into `captured`.
fn subscriber(directives: &str, captured: &Captured) -> impl SubscriberInitExt + use<> {
    let writer = captured.clone();
    tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_filter(kindred::app::log_filter(directives)),
    )
}

/// The process's global subscriber, at `trace`, captured. Installing it also bridges the
/// `log` crate (which tungstenite logs through) into tracing, for every test here.
fn global_trace_capture() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        subscriber("trace", &captured)
            .try_init()
            .expect("the only global subscriber in this process");
        captured
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_message_whisper_report_or_held_text_reaches_the_logs_even_at_trace() {
    let captured = global_trace_capture();

    let server = TestServer::with(config()).await;
    let room = server.room(12).await;
    // Pseudonyms carry the marker too: names are never logged either.
    let mut fran = server.facilitator(room, &format!("Fran{MARKER}")).await;
    let mut alice = server.member(room, &format!("Alice{MARKER}")).await;
    let mut bob = server.member(room, &format!("Bob{MARKER}")).await;

    let said = format!("my secret {MARKER} story");
    alice.say_acked(&said).await;
    bob.hears(&said).await;
    // A crisis message, a content warning, a whisper, a report reason, an announcement.
    let crisis = format!("I want to kill myself {MARKER}");
    alice
        .send(ClientFrame::Send {
            client_id: "cw".into(),
            guard: None,
            text: crisis.clone(),
            cw: Some(format!("cw {MARKER}")),
        })
        .await;
    let seq = alice.ack("cw").await.unwrap();
    alice
        .send(ClientFrame::Whisper {
            to: None,
            text: format!("psst {MARKER}"),
        })
        .await;
    bob.send(ClientFrame::Report {
        seq,
        reason: Some(format!("worried {MARKER}")),
    })
    .await;
    fran.until(|f| {
        matches!(
            f,
            ServerFrame::Alert {
                kind: kindred_protocol::AlertKind::Report,
                ..
            }
        )
        .then_some(())
    })
    .await;
    fran.moderate(
        ModAction::Announce,
        ModArgs {
            text: Some(format!("note {MARKER}")),
            ..ModArgs::default()
        },
    )
    .await
    .unwrap();
    // A held message (its text travels to facilitators only).
    fran.moderate(
        ModAction::SetPolicy,
        ModArgs {
            policy: Some(ContentPolicy {
                mode: PolicyMode::Hold,
                kinds: Kinds::ALL,
                ..ContentPolicy::default()
            }),
            ..ModArgs::default()
        },
    )
    .await
    .unwrap();
    let id = bob.say(&format!("kys {MARKER} you idiot")).await;
    assert_eq!(bob.outcome(&id).await.unwrap(), Outcome::Held);
    // Held messages: one released to the room, one declined.
    let released_id = bob.say(&format!("kys {MARKER} released idiot")).await;
    assert_eq!(bob.outcome(&released_id).await.unwrap(), Outcome::Held);
    let declined_id = bob.say(&format!("kys {MARKER} declined idiot")).await;
    assert_eq!(bob.outcome(&declined_id).await.unwrap(), Outcome::Held);
    let mut held = Vec::new();
    while held.len() < 3 {
        let id = fran
            .until(|f| match f {
                ServerFrame::Alert {
                    kind: AlertKind::Held,
                    held,
                    ..
                } => *held,
                _ => None,
            })
            .await;
        held.push(id);
    }
    fran.moderate(
        ModAction::Release,
        ModArgs {
            held: Some(held[1]),
            ..ModArgs::default()
        },
    )
    .await
    .unwrap();
    alice
        .until(|f| {
            matches!(f, ServerFrame::Message { text, .. } if text.contains("released"))
                .then_some(())
        })
        .await;
    fran.moderate(
        ModAction::Decline,
        ModArgs {
            held: Some(held[2]),
            ..ModArgs::default()
        },
    )
    .await
    .unwrap();
    // Flagged: delivered, and the facilitators alerted with its text.
    fran.set_policy(PolicyMode::Flag, Kinds::ALL).await;
    bob.say_acked(&format!("kys {MARKER} flagged idiot")).await;
    fran.until(|f| {
        matches!(
            f,
            ServerFrame::Alert {
                kind: AlertKind::Flagged,
                ..
            }
        )
        .then_some(())
    })
    .await;
    // Censored: delivered with the words starred out.
    fran.set_policy(PolicyMode::Censor, Kinds::ALL).await;
    bob.say_acked(&format!("fuck {MARKER} this")).await;
    // A facilitator's whisper to a member.
    fran.send(ClientFrame::Whisper {
        to: Some(alice.user()),
        text: format!("checking in {MARKER}"),
    })
    .await;
    alice
        .until(|f| matches!(f, ServerFrame::Whisper { .. }).then_some(()))
        .await;
    // A crisis message the room refuses (Alice is muted): the card still comes, and
    // the facilitators' alert carries the words; the logs do not.
    fran.moderate(ModAction::Mute, ModArgs::user(alice.user()))
        .await
        .unwrap();
    let refused = alice.say(&format!("I want to end it all {MARKER}")).await;
    assert_eq!(
        alice.ack(&refused).await.unwrap_err().code,
        kindred_protocol::ErrorCode::Muted
    );
    alice
        .until(|f| matches!(f, ServerFrame::CrisisResources { .. }).then_some(()))
        .await;
    fran.until(|f| {
        matches!(
            f,
            ServerFrame::Alert {
                kind: AlertKind::Crisis,
                text: Some(t),
                ..
            } if t.contains(MARKER)
        )
        .then_some(())
    })
    .await;
    // Bad input echoes nothing either.
    alice
        .conn
        .send_raw(tokio_tungstenite::tungstenite::Message::text(format!(
            "{{\"type\":\"send\",\"client_id\":\"x\",\"text\":\"{MARKER}\", broken"
        )))
        .await
        .unwrap();
    alice.error(kindred_protocol::ErrorCode::BadRequest).await;
    // A facilitator's seat keys and one-time code: taken, used, refused, never logged.
    let code = seats_taken_and_refused(&server, room).await;
    let alice_id = alice.user().to_string();
    server.stop().await;

    let logs = captured.text();
    // Lines the server must write: the operator created the room, and Alice joined
    // (by id); so the capture really saw this session's logs.
    assert!(
        logs.lines()
            .any(|l| l.contains("room created by the operator") && l.contains(&room.to_string()))
            && logs
                .lines()
                .any(|l| l.contains("joined") && l.contains(&alice_id)),
        "the capture did not see the session's logs ({} lines)",
        logs.lines().count()
    );
    assert!(
        !logs.contains(&code),
        "a seat's one-time code leaked into the logs"
    );
    assert!(
        !logs.contains(MARKER),
        "member text leaked into the logs:\n{}",
        logs.lines()
            .filter(|l| l.contains(MARKER))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A facilitator joins with a seat key, takes the seat back with it, adds a device with
/// a one-time code, and a stranger's key is refused; the keys carry the marker. The
/// code the server made up, to look for in the logs.
async fn seats_taken_and_refused(server: &TestServer, room: kindred_protocol::RoomId) -> String {
    use kindred_protocol::http::{CreateInvite, JoinRequest, SeatRequest};
    let invite = server
        .http
        .invite(kindred_tests::ADMIN, room, &CreateInvite::default())
        .await
        .expect("invite minted");
    let key = |who: &str| format!("{MARKER}{who}0123456789");
    let joined = server
        .http
        .join(
            room,
            &JoinRequest {
                name: format!("Kai{MARKER}"),
                accept_guidelines: true,
                invite: invite.token,
                seat_key: Some(key("laptop")),
                ..JoinRequest::default()
            },
        )
        .await
        .expect("Kai joins");
    let seat = |seat_key: String, code: Option<String>| SeatRequest {
        seat_key,
        code,
        device: None,
    };
    let back = server.http.seat(room, &seat(key("laptop"), None)).await;
    assert_eq!(back.expect("taken back").user_id, joined.user_id);
    let code = server
        .http
        .seat_code(room, &joined.token)
        .await
        .expect("a code")
        .code;
    let phone = server
        .http
        .seat(room, &seat(key("phone"), Some(code.clone())))
        .await;
    assert_eq!(phone.expect("a second device").user_id, joined.user_id);
    let stranger = seat(key("stranger"), Some(code.clone()));
    let refused = server.http.seat(room, &stranger).await;
    assert!(refused.is_err(), "a spent code is refused");
    code
}

/// A close reason is the client's own text; tungstenite prints it at `debug`.
const CLOSE_MARKER: &str = "zq7closereason";

// The default current-thread runtime: the server, its connections and the clients all
// run on this thread, under the subscriber scoped to it.
#[tokio::test]
async fn at_log_level_error_the_websocket_library_logs_nothing_not_even_a_close_reason() {
    global_trace_capture();
    let captured = Captured::default();
    // `error` for everything; Kindred's own `info` lines show that the capture works.
    let _scoped = subscriber("error,kindred=info", &captured).set_default();

    let server = TestServer::with(config()).await;
    let room = server.room(12).await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;
    conversation_continues(&mut alice, &mut bob, "see you all next week").await;
    // Alice leaves with words of her own in the close frame, and waits for the echo.
    let mut ws = alice.conn.into_inner();
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: format!("bye {CLOSE_MARKER}").into(),
    }))
    .await
    .expect("close sent");
    tokio::time::timeout(WAIT, async { while let Some(Ok(_)) = ws.next().await {} })
        .await
        .expect("the server answers the close");
    server.stop().await;

    let logs = captured.text();
    assert!(
        logs.contains("joined"),
        "the capture saw Kindred's own lines:\n{logs}"
    );
    let library: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("tungstenite") || l.contains(CLOSE_MARKER))
        .collect();
    assert!(
        library.is_empty(),
        "at `error`, the WebSocket library logged:\n{}",
        library.join("\n")
    );
}
