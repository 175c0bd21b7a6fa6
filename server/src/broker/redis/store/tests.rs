//! The store's pure parts: what an entry looks like on its way to Redis, and how a
//! cluster URL names its nodes.

use super::{Entry, cluster_nodes, unstamped};
use crate::broker::redis::log::Op;
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
