//! The catalog writer's group commit, on the in-memory broker with a real file.

use futures_util::future::join_all;
use kindred_protocol::Visibility;

use super::*;
use crate::room::{Origin, RoomConfig, UpdateRoom};
use kindred_protocol::Role;

const NOW: Millis = 1_700_000_000_000;

fn unfacilitated(title: &str) -> RoomConfig {
    RoomConfig {
        title: title.to_owned(),
        topic: String::new(),
        description: String::new(),
        guidelines: "Be kind.".to_owned(),
        capacity: 12,
        visibility: Visibility::Public,
        policy: Default::default(),
        facilitated: false,
        schedule: None,
        waiting_room: false,
        cw_topics: crate::room::default_cw_topics(),
    }
}

fn group(title: &str) -> Room {
    Room::new(RoomId::new(), unfacilitated(title), Limits::default())
}

fn open() -> Command {
    Command::Configure(Box::new(UpdateRoom {
        open: Some(true),
        ..UpdateRoom::default()
    }))
}

fn arrive(user: kindred_protocol::UserId, session: u32) -> Command {
    Command::Connect {
        first_time: false,
        user,
        name: "Alice".into(),
        role: Role::Participant,
        session,
        origin: Origin::default(),
    }
}

fn writes(broker: &MemoryBroker) -> u64 {
    broker
        .catalog
        .as_ref()
        .expect("a catalog file")
        .writes
        .load(Ordering::Relaxed)
}

fn capacity(n: u32) -> Command {
    Command::Configure(Box::new(UpdateRoom {
        capacity: Some(n),
        ..UpdateRoom::default()
    }))
}

#[tokio::test]
async fn changes_that_arrive_together_share_one_write_and_talk_waits_for_none() {
    let dir = crate::catalog::tests::dir();
    let file = CatalogFile::new(dir.join("catalog.json"));
    let metrics = Arc::new(Metrics::new());
    let hub = Arc::new(Hub::new(16, metrics.clone()));
    let (broker, restored) = MemoryBroker::new(hub, metrics, Limits::default(), 16)
        .with_catalog(file.clone())
        .unwrap();
    assert_eq!(restored, 0);
    let room = group("Monday group");
    let id = room.id;
    broker.create(room, NOW).await.unwrap();
    assert_eq!(
        writes(&broker),
        1,
        "a new room is written before it is answered"
    );
    assert_eq!(file.load().unwrap().len(), 1);

    // Twenty changes at once: each answered once the file holds it, all in one write.
    let changes = (13..33).map(|n| broker.append(id, capacity(n), NOW, None));
    for answered in join_all(changes).await {
        answered.unwrap();
    }
    assert_eq!(
        writes(&broker),
        2,
        "twenty changes that came together, one write"
    );
    assert_eq!(file.load().unwrap()[0].config.capacity, 32);

    // The session opens (a change), then a member arrives and talks: no write.
    broker.append(id, open(), NOW, None).await.unwrap();
    assert_eq!(writes(&broker), 3);
    let alice = kindred_protocol::UserId::new();
    let session = broker.rooms.get(&id).unwrap().lock().room.session();
    broker
        .append(id, arrive(alice, session), NOW, None)
        .await
        .unwrap();
    let hello = Command::Send {
        user: alice,
        client_id: "c1".into(),
        text: "hello".into(),
        cw: None,
        crisis: None,
        guard: Default::default(),
        screened: None,
    };
    broker.append(id, hello, NOW, None).await.unwrap();
    assert_eq!(writes(&broker), 3, "talk never waits for the file");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_room_the_file_does_not_keep_waits_for_no_write_and_is_never_written() {
    let metrics = Arc::new(Metrics::new());
    let hub = Arc::new(Hub::new(16, metrics.clone()));
    let dir = crate::catalog::tests::dir();
    let file = CatalogFile::new(dir.join("catalog.json"));
    let (kept, _) = MemoryBroker::new(hub, metrics, Limits::default(), 16)
        .with_catalog(file.clone())
        .unwrap();
    let demo = Room::new(RoomId::new(), unfacilitated("Demo"), Limits::default());
    kept.transient(demo.id);
    let demo_id = demo.id;
    kept.create(demo, NOW).await.unwrap();
    kept.append(demo_id, capacity(5), NOW, None).await.unwrap();
    assert_eq!(writes(&kept), 0, "the demo room waits for no write");
    assert!(!file.path().exists(), "and is never written");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A command from a connection welcomed in another epoch (another process's history
/// of the room) is not taken: the seqs it names mean other events here.
#[tokio::test]
async fn a_command_from_a_connection_welcomed_in_another_epoch_is_not_taken() {
    let metrics = Arc::new(Metrics::new());
    let hub = Arc::new(Hub::new(16, metrics.clone()));
    let broker = MemoryBroker::new(hub, metrics, Limits::default(), 16);
    let room = group("Tuesday group");
    let id = room.id;
    broker.create(room, NOW).await.unwrap();
    broker.append(id, open(), NOW, None).await.unwrap();
    let (epoch, session) = {
        let cell = broker.rooms.get(&id).unwrap();
        let cell = cell.lock();
        (cell.epoch, cell.room.session())
    };
    let alice = kindred_protocol::UserId::new();
    broker
        .append(id, arrive(alice, session), NOW, Some(epoch))
        .await
        .unwrap();
    let head = || broker.rooms.get(&id).unwrap().lock().room.head();
    let before = head();
    let hand = || Command::Hand {
        user: alice,
        raised: true,
    };
    let stale = broker.append(id, hand(), NOW, Some(epoch + 1)).await;
    assert_eq!(stale.err(), Some(BrokerError::Moved));
    assert_eq!(head(), before, "nothing was taken");
    broker.append(id, hand(), NOW, Some(epoch)).await.unwrap();
    assert_eq!(head(), before + 1, "taken in the room's own epoch");
}
