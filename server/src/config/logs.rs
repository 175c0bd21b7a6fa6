//! `RUST_LOG`: the log filter's directives, checked before any log is written. A
//! directive the filter would take in a way nobody meant (`RUST_LOG=debg` reads as "every
//! level of a module called `debg`", which turns every other line off) is refused, as is
//! one it cannot parse.

/// The level names a directive may give (what `tracing` reads, any case).
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Whether `RUST_LOG`-style directives are ones Kindred takes: each comma-separated
/// directive is a level (`info`) or a target with its level (`kindred=debug`,
/// `kindred::session=trace`), and the whole parses as a filter. The error names
/// `RUST_LOG`, says what is wrong and what would be taken.
pub fn check_log_directives(directives: &str) -> Result<(), String> {
    let example = "e.g. RUST_LOG=info or RUST_LOG=warn,kindred=debug; levels are off, error, warn, info, debug, trace";
    for directive in directives.split(',').map(str::trim) {
        // Span filters (`[span{field=value}]`) may hold commas and are taken as written.
        if directive.is_empty() || directive.contains('[') {
            continue;
        }
        let level = match directive.rsplit_once('=') {
            Some((target, level)) if !target.trim().is_empty() => level.trim(),
            Some(_) => {
                return Err(format!(
                    "RUST_LOG {directives:?}: {directive:?} names no module before `=` ({example})"
                ));
            }
            None => directive,
        };
        if !LEVELS.iter().any(|l| l.eq_ignore_ascii_case(level)) {
            return Err(format!(
                "RUST_LOG {directives:?}: {level:?} is not a level ({example}; a module takes a level too, e.g. kindred=debug)"
            ));
        }
    }
    tracing_subscriber::EnvFilter::builder()
        .parse(directives)
        .map(drop)
        .map_err(|e| format!("RUST_LOG {directives:?} is not a log filter: {e} ({example})"))
}
