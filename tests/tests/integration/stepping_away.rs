//! "I need a minute" over real sockets, on either broker: the room sees a member step
//! away and come back (by saying so, or by posting), a member who arrives or resumes
//! meanwhile finds it in their `welcome`'s member list, and a check-in round passes
//! over them, their place kept, and gives them their turn once they are back.

use kindred_protocol::{ClientFrame, MemberInfo, ModAction, ServerFrame, UserId};
use kindred_tests::{Member, ModArgs, TestServer};

use super::structure::{floor_seen, group, to_phase};

async fn stepping_away_seen(m: &mut Member) -> (UserId, bool) {
    m.until(|f| match f {
        ServerFrame::SteppingAway { user, on, .. } => Some((*user, *on)),
        _ => None,
    })
    .await
}

fn listed(members: &[MemberInfo], user: UserId) -> &MemberInfo {
    members
        .iter()
        .find(|m| m.user == user)
        .expect("in the member list")
}

#[tokio::test]
async fn stepping_away_is_seen_by_the_room_and_in_a_late_or_resuming_member_s_welcome() {
    let server = TestServer::start().await;
    let room = group(&server).await;
    let _fran = server.facilitator(room, "Fran").await;
    let mut ana = server.member(room, "Ana").await;
    let mut ben = server.member(room, "Ben").await;

    ben.send(ClientFrame::StepAway { on: true }).await;
    assert_eq!(stepping_away_seen(&mut ana).await, (ben.user(), true));

    // Cal arrives meanwhile: his welcome shows Ben stepping away, and Ana not.
    let cal = server.member(room, "Cal").await;
    assert!(listed(&cal.welcome.members, ben.user()).stepping_away);
    assert!(!listed(&cal.welcome.members, ana.user()).stepping_away);

    // Ben's connection drops and he resumes: he is still stepping away.
    let (joined, last, epoch) = (ben.joined.clone(), ben.last_seq, ben.epoch());
    drop(ben);
    let mut ben = server.resume(joined, last, epoch).await;
    assert!(listed(&ben.welcome.members, ben.user()).stepping_away);

    // He posts: the room sees him back, then his message.
    ben.say_acked("sorry, back now").await;
    let before = ana.frames_before("sorry, back now").await;
    assert!(
        before.iter().any(|f| matches!(
            f,
            ServerFrame::SteppingAway { user, on: false, .. } if *user == ben.user()
        )),
        "back before the message: {before:?}"
    );
    let dan = server.member(room, "Dan").await;
    assert!(!listed(&dan.welcome.members, ben.user()).stepping_away);
    server.stop().await;
}

#[tokio::test]
async fn a_round_passes_over_a_member_who_stepped_away_and_gives_them_their_turn_once_back() {
    let server = TestServer::start().await;
    let room = group(&server).await;
    let mut fran = server.facilitator(room, "Fran").await;
    let mut ana = server.member(room, "Ana").await;
    let mut ben = server.member(room, "Ben").await;
    let mut cal = server.member(room, "Cal").await;

    ben.send(ClientFrame::StepAway { on: true }).await;
    assert_eq!(stepping_away_seen(&mut cal).await, (ben.user(), true));
    to_phase(&mut fran, 1).await;
    assert_eq!(floor_seen(&mut cal).await, Some(ana.user()));
    ana.send(ClientFrame::Pass).await;
    assert_eq!(
        floor_seen(&mut cal).await,
        Some(cal.user()),
        "Ben is passed over while he steps away"
    );

    // Ben is back: when Cal's turn ends, Ben's comes.
    ben.send(ClientFrame::StepAway { on: false }).await;
    assert_eq!(stepping_away_seen(&mut cal).await, (ben.user(), false));
    fran.moderate(ModAction::NextTurn, ModArgs::default())
        .await
        .unwrap();
    assert_eq!(floor_seen(&mut cal).await, Some(ben.user()));
    ben.say_acked("my turn after all: calmer than I was").await;
    server.stop().await;
}
