//! `kindred-ratios RESULTS.jsonl`: Kindred ÷ the reference server, per scenario and
//! figure, from one `bench.sh` invocation (see `kindred_loadtest::ratios`), as a
//! Markdown table on stdout.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: kindred-ratios RESULTS.jsonl");
        return ExitCode::from(2);
    };
    let results = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("kindred-ratios: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let ratios = kindred_loadtest::ratios::ratios(&results);
    if ratios.is_empty() {
        eprintln!("kindred-ratios: no round in {path} ran both Kindred and the reference cleanly");
        return ExitCode::FAILURE;
    }
    print!("{}", kindred_loadtest::ratios::table(&ratios));
    ExitCode::SUCCESS
}
