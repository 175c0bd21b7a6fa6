//! The shield: one facilitator switch tightens the room (waiting room, slow mode, a
//! newcomer's first message held) and lowering it restores what was set before,
//! whatever that was. The room sees one `shield` event each way.

use kindred_protocol::client::Outcome;
use kindred_protocol::http::CreateRoom;
use kindred_protocol::{AlertKind, ErrorCode, ModAction, RoomState, ServerFrame};
use kindred_tests::{Member, ModArgs, TestServer};

fn on(on: bool) -> ModArgs {
    ModArgs {
        on: Some(on),
        ..ModArgs::default()
    }
}

/// The next `shield` event a member is given: (on, waiting room, slow mode).
async fn shield_event(member: &mut Member) -> (bool, bool, u32) {
    member
        .until(|f| match f {
            ServerFrame::Shield {
                on,
                waiting_room,
                slow_mode_seconds,
                ..
            } => Some((*on, *waiting_room, *slow_mode_seconds)),
            _ => None,
        })
        .await
}

/// The room's settings as a facilitator arriving now is told them.
async fn settings(server: &TestServer, room: kindred_protocol::RoomId, name: &str) -> RoomState {
    server.facilitator(room, name).await.welcome.state
}

#[tokio::test]
async fn shield_on_then_off_restores_every_setting_as_it_was_before() {
    let server = TestServer::start().await;
    // Two rooms set differently before: one plain, one with the waiting room on and
    // a slow mode of its own shorter than the shield's.
    for (before_waiting, before_slow) in [(false, 0), (true, 15)] {
        let room = server
            .room_with(CreateRoom {
                open: Some(true),
                facilitated: Some(false),
                waiting_room: Some(before_waiting),
                ..CreateRoom::default()
            })
            .await;
        let mut fran = server.facilitator(room, "Fran").await;
        if before_slow > 0 {
            fran.moderate(
                ModAction::SlowMode,
                ModArgs {
                    seconds: Some(before_slow),
                    ..ModArgs::default()
                },
            )
            .await
            .expect("slow mode set");
        }
        let before = settings(&server, room, "Cora").await;
        assert!(!before.shield);

        fran.moderate(ModAction::Shield, on(true))
            .await
            .expect("the shield goes up");
        assert_eq!(shield_event(&mut fran).await, (true, true, 30));
        let up = settings(&server, room, "Dev").await;
        assert!(up.shield && up.waiting_room);
        assert_eq!(up.slow_mode_seconds, 30);

        // A newcomer waits outside; let in, their first message waits for a facilitator.
        let joined = server.join(room, "Kai").await.expect("join accepted");
        let mut kai = server.connect(joined).await;
        assert!(kai.welcome.you.waiting, "the newcomer waits");
        fran.moderate(ModAction::Admit, ModArgs::user(kai.user()))
            .await
            .expect("admitted");
        let (welcome, _) = tokio::time::timeout(kindred_tests::WAIT, kai.conn.read_welcome())
            .await
            .expect("the room's welcome arrives in time")
            .expect("the room's welcome");
        kai.last_seq = welcome.seq;
        let first = kai.say("hello, first time here").await;
        assert_eq!(kai.outcome(&first).await, Ok(Outcome::Held));
        let (reason, text) = fran
            .until(|f| match f {
                ServerFrame::Alert {
                    kind: AlertKind::Held,
                    reason,
                    text,
                    ..
                } => Some((reason.clone(), text.clone())),
                _ => None,
            })
            .await;
        assert_eq!(
            reason.as_deref(),
            Some("first message while the shield is up")
        );
        assert_eq!(text.as_deref(), Some("hello, first time here"));

        fran.moderate(ModAction::Shield, on(false))
            .await
            .expect("the shield comes down");
        assert_eq!(
            shield_event(&mut fran).await,
            (false, before_waiting, before_slow)
        );
        let after = settings(&server, room, "Eli").await;
        assert_eq!(after, before, "every setting as it was before the shield");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_participant_cannot_raise_the_shield_and_a_facilitator_must_say_on_or_off() {
    let server = TestServer::start().await;
    let room = server.room(12).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;
    let refused = alice
        .moderate(ModAction::Shield, on(true))
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);
    let refused = fran
        .moderate(ModAction::Shield, ModArgs::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::BadRequest);
    assert!(!settings(&server, room, "Cora").await.shield);
    server.stop().await;
}
