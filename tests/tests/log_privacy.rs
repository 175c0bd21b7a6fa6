//! Logs never contain what members say. A session runs with logging at its most
//! verbose (the production filter at `trace`, captured in memory); every kind of text
//! a member can send carries a marker; the marker must appear nowhere in the logs.
//! Its own test binary, because a log subscriber is global to the process.

use std::io::Write;
use std::sync::{Arc, Mutex};

use kindred_protocol::policy::{ContentPolicy, Kinds, PolicyMode};
use kindred_protocol::{ClientFrame, ModAction, ServerFrame};
use kindred_tests::{ModArgs, TestServer, config};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_message_whisper_report_or_held_text_reaches_the_logs_even_at_trace() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(kindred::app::log_filter("trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .try_init()
        .expect("the only subscriber in this process");

    let server = TestServer::with(config()).await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let mut bob = server.member(room, "Bob").await;

    let said = format!("my secret {MARKER} story");
    alice.say_acked(&said).await;
    bob.hears(&said).await;
    // A crisis message, a content warning, a whisper, a report reason, an announcement.
    let crisis = format!("I want to kill myself {MARKER}");
    alice
        .send(ClientFrame::Send {
            client_id: "cw".into(),
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
            }),
            ..ModArgs::default()
        },
    )
    .await
    .unwrap();
    let id = bob.say(&format!("kys {MARKER} you idiot")).await;
    bob.until(|f| {
        matches!(f, ServerFrame::Ack { client_id, held: true, .. } if *client_id == id)
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
    server.stop().await;

    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("welcome") && logs.contains("message") && logs.contains("moderation"),
        "the capture really saw the session's logs ({} lines)",
        logs.lines().count()
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
