//! Instances that share a room fold its log alike whatever their own flags say: the
//! numbers the room's rules use (how long a dropped member stays present, seats per
//! address, how long a session may be held) are the room's, set by the instance that
//! created it and replicated with it. Two instances started with a presence grace of
//! a third of a second and of a minute (and an away limit of 0.6 s and of ten
//! minutes) see the same departures, number the same messages alike and count the
//! same members.

use kindred::broker::Reading;
use kindred_protocol::{LeftReason, RoomId, RoomSummary, Seq, ServerFrame, UserId};
use kindred_tests::redis::RedisServer;
use kindred_tests::{Member, TestServer, config};

/// What a member read of the room's timeline until `marker` was said, the marker
/// included: (seq, what it was), events only.
async fn read_until(m: &mut Member, marker: &str) -> Vec<(Seq, String)> {
    let mut read = Vec::new();
    m.until(|f| {
        let event = match f {
            ServerFrame::Message { seq, text, .. } => Some((*seq, format!("said {text}"))),
            ServerFrame::Left {
                seq, user, reason, ..
            } => Some((*seq, format!("{user} left: {reason:?}"))),
            ServerFrame::Away { seq, user, .. } => Some((*seq, format!("{user} away"))),
            ServerFrame::Joined { seq, member, .. } => {
                Some((*seq, format!("{} joined", member.user)))
            }
            _ => None,
        };
        read.extend(event);
        matches!(f, ServerFrame::Message { text, .. } if text == marker).then_some(())
    })
    .await;
    read
}

async fn members_counted(server: &TestServer, room: RoomId) -> u32 {
    let summary: RoomSummary = reqwest::get(format!("{}/api/rooms/{room}", server.base()))
        .await
        .expect("the room's summary")
        .json()
        .await
        .expect("a summary");
    summary.members
}

async fn departs(m: &mut Member, who: UserId) -> Seq {
    m.until(|f| match f {
        ServerFrame::Left {
            seq,
            user,
            reason: LeftReason::Disconnected,
            ..
        } if *user == who => Some(*seq),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn instances_with_different_limit_flags_fold_one_room_alike() {
    let redis = RedisServer::start().await;
    let mut quick = config();
    quick.storage.redis_url = Some(redis.url());
    quick.rooms.presence_grace_ms = 300;
    quick.rooms.away_limit_ms = 600;
    let mut patient = config();
    patient.storage.redis_url = Some(redis.url());
    patient.rooms.presence_grace_ms = 60_000;
    patient.rooms.away_limit_ms = 600_000;
    let a = TestServer::with(quick).await;
    let b = TestServer::with(patient).await;
    // Created on the instance with the short grace: the room's grace is a third of a
    // second wherever it is served.
    let room = a.room(12).await;
    let mut ash = a.member(room, "Ash").await;
    let mut robin = b.member(room, "Robin").await;
    robin.say_acked("evening all").await;
    ash.hears("evening all").await;

    // Sam's phone drops on the first instance, Kim's on the second.
    let sam = a.member(room, "Sam").await;
    let kim = b.member(room, "Kim").await;
    let (sam_id, kim_id) = (sam.user(), kim.user());
    ash.say_acked("welcome both").await;
    robin.hears("welcome both").await;
    drop(sam);
    drop(kim);
    let sam_gone = departs(&mut ash, sam_id).await;
    let kim_gone = departs(&mut ash, kim_id).await;

    // Both instances took both for gone at the same place in the log, and number
    // what follows alike.
    let marker = ash.say_acked("are you both still here?").await;
    let on_b = read_until(&mut robin, "are you both still here?").await;
    assert!(
        on_b.contains(&(sam_gone, format!("{sam_id} left: Disconnected"))),
        "the second instance saw Sam go where the first did: {on_b:?}"
    );
    assert!(
        on_b.contains(&(kim_gone, format!("{kim_id} left: Disconnected"))),
        "and its own member Kim, after the room's away limit, not its own flag's: {on_b:?}"
    );
    assert!(
        on_b.iter().any(|(_, e)| *e == format!("{kim_id} away")),
        "Kim was away first, after the room's grace: {on_b:?}"
    );
    assert_eq!(
        on_b.last(),
        Some(&(marker, "said are you both still here?".to_owned())),
        "the same message has the same seq on both instances"
    );
    assert_eq!(members_counted(&a, room).await, 2, "Ash and Robin");
    assert_eq!(
        members_counted(&b, room).await,
        2,
        "Ash and Robin, on the other too"
    );

    // A newcomer on either instance is shown the same room.
    let mut late_a = a.member(room, "Lee").await;
    let mut late_b = b.member(room, "Max").await;
    robin.say_acked("hi Lee, hi Max").await;
    let seen_a = read_until(&mut late_a, "hi Lee, hi Max").await;
    let seen_b = read_until(&mut late_b, "hi Lee, hi Max").await;
    assert_eq!(seen_a.last(), seen_b.last());

    // And the room itself, as each instance folded it, is one room: every field of it
    // (its limits, members, grace deadlines, sends remembered), under one epoch.
    let image = |server: &TestServer| {
        let broker = server.running.state.broker.clone();
        async move {
            broker
                .ask(room, Reading::Current, |view| {
                    (
                        view.epoch,
                        serde_json::to_value(view.room).expect("a room serializes"),
                    )
                })
                .await
                .expect("the room is served")
        }
    };
    let (on_a, on_b) = (image(&a).await, image(&b).await);
    assert_eq!(on_a.0, on_b.0, "one epoch");
    assert_eq!(
        on_a.1, on_b.1,
        "the same room, field by field, on both instances"
    );
    a.stop().await;
    b.stop().await;
}
