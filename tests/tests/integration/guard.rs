//! The guardrail over real sockets: a message describing a means with its detail
//! reaches nobody in an `ask` room until its author chooses, while crisis words in it
//! bring the author's card and the facilitators' alert at the first attempt; the
//! resend with a content warning reaches the room behind it; `hold` keeps it for a
//! facilitator; `off` lets it through.

use kindred_protocol::client::Outcome;
use kindred_protocol::http::CreateRoom;
use kindred_protocol::policy::{ContentPolicy, GuardMode};
use kindred_protocol::{
    AlertKind, ClientFrame, ErrorCode, GuardCategory, GuardChoice, GuardOffer, ModAction, RoomId,
    ServerFrame,
};
use kindred_tests::{Member, ModArgs, TestServer};

/// A dose gathered to harm, with crisis words.
const DOSE_AND_CRISIS: &str = "I've saved up 40 of my sertraline and I want to kill myself tonight";
/// A place with its particulars, without crisis words.
const METHOD: &str = "the bridge on mill road has no fence, that's where I'd jump";

/// A facilitated room in session, its facilitator and two participants.
async fn room(server: &TestServer) -> (RoomId, Member, Member, Member) {
    let room = server
        .room_with(CreateRoom {
            open: Some(true),
            facilitated: Some(true),
            capacity: Some(12),
            ..CreateRoom::default()
        })
        .await;
    let fran = server.facilitator(room, "Fran").await;
    let alice = server.member(room, "Alice").await;
    let bob = server.member(room, "Bob").await;
    (room, fran, alice, bob)
}

async fn guard(fran: &mut Member, mode: GuardMode) {
    fran.moderate(
        ModAction::SetPolicy,
        ModArgs {
            policy: Some(ContentPolicy {
                guard: mode,
                ..ContentPolicy::default()
            }),
            ..ModArgs::default()
        },
    )
    .await
    .expect("facilitators set the guardrail");
}

async fn send(member: &mut Member, id: &str, text: &str, choice: Option<GuardChoice>) {
    member
        .send(ClientFrame::Send {
            client_id: id.into(),
            text: text.into(),
            cw: None,
            guard: choice,
        })
        .await;
}

#[tokio::test]
async fn ask_keeps_a_method_from_the_room_while_crisis_help_goes_out_at_once_and_a_cw_resend_reaches_it()
 {
    let server = TestServer::start().await;
    let (_room, mut fran, mut alice, mut bob) = room(&server).await;
    assert_eq!(
        bob.welcome.policy.guard,
        GuardMode::Ask,
        "ask is the default, shown to members"
    );

    send(&mut bob, "g1", DOSE_AND_CRISIS, None).await;
    let refused = bob
        .outcome("g1")
        .await
        .expect_err("asked before it reaches anyone");
    assert_eq!(refused.code, ErrorCode::Consider);
    assert_eq!(refused.guard, Some(GuardCategory::Dose));
    assert_eq!(
        refused.choices,
        [
            GuardOffer::Cw,
            GuardOffer::Facilitators,
            GuardOffer::Edit,
            GuardOffer::AsIs
        ]
    );
    assert!(
        !refused.message.contains("sertraline"),
        "the words are not echoed back"
    );
    // Help at the first attempt: the card to Bob, the alert with his words to Fran.
    let told = bob
        .until(|f| match f {
            ServerFrame::CrisisResources { seq, told, .. } => Some((*seq, *told)),
            _ => None,
        })
        .await;
    assert_eq!(
        told,
        (None, true),
        "not in the timeline; a facilitator was told"
    );
    let alert = fran
        .until(|f| match f {
            ServerFrame::Alert {
                kind: AlertKind::Crisis,
                text,
                user,
                ..
            } => Some((text.clone(), *user)),
            _ => None,
        })
        .await;
    assert_eq!(alert, (Some(DOSE_AND_CRISIS.to_owned()), bob.user()));
    // Alice is given nothing of it before what Fran says next.
    fran.say_acked("let's take a breath together").await;
    let given = alice.frames_before("let's take a breath together").await;
    assert!(
        !given
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { text, .. } if text == DOSE_AND_CRISIS)),
        "nothing reached the room: {given:?}"
    );

    // Bob chooses a content warning: the room receives it behind one.
    send(&mut bob, "g2", DOSE_AND_CRISIS, Some(GuardChoice::Cw)).await;
    let seq = bob.ack("g2").await.expect("sent with a content warning");
    let cw = alice
        .until(|f| match f {
            ServerFrame::Message {
                seq: s, text, cw, ..
            } if *s == seq && text == DOSE_AND_CRISIS => Some(cw.clone()),
            _ => None,
        })
        .await;
    assert_eq!(cw.as_deref(), Some(GuardCategory::Dose.warning()));
    server.stop().await;
}

#[tokio::test]
async fn hold_keeps_a_method_for_a_facilitator_and_off_lets_it_through() {
    let server = TestServer::start().await;
    let (_room, mut fran, mut alice, mut bob) = room(&server).await;

    guard(&mut fran, GuardMode::Hold).await;
    send(&mut bob, "h1", METHOD, Some(GuardChoice::AsIs)).await;
    assert_eq!(
        bob.outcome("h1").await,
        Ok(Outcome::Held),
        "a choice does not pass a hold"
    );
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
    assert_eq!(reason.as_deref(), Some("method"));
    assert_eq!(text.as_deref(), Some(METHOD));
    fran.say_acked("thank you all").await;
    let given = alice.frames_before("thank you all").await;
    assert!(
        !given
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { text, .. } if text == METHOD)),
        "held from the room: {given:?}"
    );

    guard(&mut fran, GuardMode::Off).await;
    send(&mut bob, "o1", METHOD, None).await;
    let seq = bob.ack("o1").await.expect("off: delivered");
    assert_eq!(alice.hears(METHOD).await, seq);
    server.stop().await;
}
