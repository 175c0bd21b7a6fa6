//! The fault schedule (see `kindred_tests::faults`): three `kindred` processes on a
//! real Redis, members on each, a seeded schedule of kills, stalls, Redis restarts
//! (with its data and from an older copy), dropped pub/sub connections, slot
//! migrations and unreadable entries, then a checker over everything every member
//! saw. 20 seeds by default;
//! `KINDRED_FAULT_SEEDS=500 cargo test -p kindred-tests --test faults` runs 500,
//! `KINDRED_FAULT_SEED=N` replays one, `KINDRED_FAULT_TOPOLOGY=cluster` runs them on
//! the three-master Redis Cluster.

use kindred_tests::faults::{Options, run_seed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replicated_log_keeps_its_promises_under_a_seeded_fault_schedule() {
    let options = Options::from_env();
    let mut failed = Vec::new();
    for &seed in &options.seeds {
        match run_seed(seed, &options).await {
            Ok(summary) => eprintln!("{summary}"),
            Err(report) => {
                eprintln!("{report}");
                failed.push(seed);
            }
        }
    }
    assert!(
        failed.is_empty(),
        "the checker failed {} of {} seeds: {failed:?} (each report above; replay one \
         with KINDRED_FAULT_SEED=N)",
        failed.len(),
        options.seeds.len()
    );
}
