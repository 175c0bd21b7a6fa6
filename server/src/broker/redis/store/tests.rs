//! The store's pure parts: what an entry looks like on its way to Redis, and how a
//! cluster URL names its nodes.

use kindred_protocol::RoomId;

use super::bound::run_id;
use super::{Entry, cluster_nodes, shown, stamped, unstamped};
use crate::broker::redis::echo::{Echoes, stored_hash};
use crate::broker::redis::log::{Op, read_entry};
use crate::broker::redis::seal::Seal;
use crate::room::Command;

#[test]
fn an_entry_goes_to_redis_without_a_time_and_reads_back_with_the_one_redis_puts_first() {
    let entry = Entry::new(7, 3, 1_700_000_000_000, Op::Command(Command::Tick));
    let sent = unstamped(&entry).unwrap();
    assert!(!sent.contains("\"ts\""), "{sent}");
    // What the append script makes of it (see STAMP).
    let stored = format!("{{\"ts\":1800000000123,{}", &sent[1..]);
    let read: Entry = serde_json::from_str(&stored).unwrap();
    assert_eq!((read.origin, read.id, read.ts), (7, 3, 1_800_000_000_123));
}

#[test]
fn a_redis_url_is_shown_without_its_user_and_password() {
    assert_eq!(
        shown("redis://:hunter2@10.0.0.5:6379/0"),
        "redis://10.0.0.5:6379/0"
    );
    assert_eq!(
        shown("redis+cluster://kindred:hunter2@a:7000,b:7001"),
        "redis+cluster://a:7000,b:7001"
    );
    assert_eq!(
        shown("rediss://cache.internal:6380"),
        "rediss://cache.internal:6380"
    );
}

#[test]
fn a_cluster_url_names_every_seed_node() {
    assert_eq!(
        cluster_nodes("redis+cluster://127.0.0.1:7000,127.0.0.1:7001"),
        vec!["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"]
    );
    assert_eq!(
        cluster_nodes("redis+cluster://:pw@h1:1,h2:2/"),
        vec!["redis://:pw@h1:1", "redis://:pw@h2:2"]
    );
}

#[test]
fn the_entry_folded_from_the_scripts_answer_is_the_one_every_instance_reads_from_its_copy() {
    let seal = Seal::new(b"a secret of at least thirty-two bytes, for tests");
    let room = RoomId::new();
    let entry = Entry::new(7, 3, 1_700_000_000_000, Op::Command(Command::Tick));
    let plain = unstamped(&entry).unwrap();
    let sealed = seal.seal_entry(room, 1, entry.format, &plain);
    // What the append script stores and publishes (see STAMP), and answers (the time).
    let published = format!("{{\"ts\":1800000000123,{}", &sealed[1..]);
    let own = stamped(&plain, &sealed, "1800000000123").expect("it reads back");
    let theirs = read_entry(&seal.open_entry(room, &published).unwrap()).unwrap();
    assert_eq!(
        serde_json::to_value(&own.entry).unwrap(),
        serde_json::to_value(&theirs).unwrap()
    );
    assert_eq!(own.entry.ts, 1_800_000_000_123);
    // Its published copy is known by its bytes, unread; another entry's is not.
    assert_eq!(own.stored, stored_hash([published.as_str()]));
    let mut echoes = Echoes::default();
    echoes.expect(5, 9, own.stored);
    let other = seal.seal_entry(room, 1, entry.format, &plain);
    assert!(!echoes.is_echo(5, 9, &format!("{{\"ts\":1800000000123,{}", &other[1..])));
    echoes.expect(5, 9, own.stored);
    assert!(echoes.is_echo(5, 9, &published));
}

#[test]
fn the_redis_process_is_read_from_info_as_hexadecimal_only() {
    let info = "# Server\r\nredis_version:7.0.15\r\nprocess_id:12\r\nrun_id:8da13c989451b1315348ace65e00627f6041011b\r\ntcp_port:6379\r\n";
    assert_eq!(
        run_id(info),
        Some("8da13c989451b1315348ace65e00627f6041011b")
    );
    // Written into a script as it is: anything but hexadecimal is refused.
    assert_eq!(run_id("run_id:ab'..x\r\n"), None);
    assert_eq!(run_id("redis_version:7.0.15\r\n"), None);
}
