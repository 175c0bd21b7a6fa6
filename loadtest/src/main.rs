//! `kindred-loadtest`: see the library docs and `loadtest/README.md`.
//!
//! Exit codes: 0 the run was clean; 1 loss, duplicates, reordering, refused sends,
//! failed connections or unexpected disconnects; 2 the run could not start.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("kindred-loadtest: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<bool> {
    let scenario = kindred_loadtest::config::from_args()?;
    let json_out = scenario.json_out.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let report = runtime.block_on(kindred_loadtest::run::run(scenario))?;
    // Don't wait for stragglers (aborted tasks, HTTP pools) at shutdown.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));

    print!("{}", report.summary());
    let lines = report.json_lines();
    for line in &lines {
        println!("{line}");
    }
    if let Some(path) = json_out {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        for line in &lines {
            writeln!(f, "{line}").with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(report.ok)
}
