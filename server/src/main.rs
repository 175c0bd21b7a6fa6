//! The `kindred` binary: parse configuration, start, stop on ctrl-c or SIGTERM.

use std::path::{Path, PathBuf};

use clap::Parser;
use kindred::config::{self, Loaded, LogFormat};
use kindred::{Config, app};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

// Exit statuses, as the README's Configuration section lists them: 0 a clean stop.
/// Kindred had started and then failed while serving.
const EXIT_RUNTIME: i32 = 1;
/// A usage or configuration mistake, refused before anything starts (clap's own status
/// for a bad flag): a value out of range, a file that is missing or malformed, a
/// catalog directory that takes no write, an open-files limit below the caps.
const EXIT_CONFIG: i32 = 2;
/// The configuration is sound but something it needs was unavailable at start: the
/// listening address taken, Redis unreachable, the catalog file unreadable.
const EXIT_UNAVAILABLE: i32 = 3;

fn main() {
    // Parsed before the runtime or the logs exist: a flag clap refuses exits here (2).
    let mut config = Config::parse();
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    let mut problems = config.problems();
    if let Err(e) = config::check_log_directives(&directives) {
        problems.push(e);
    }
    let loaded = config::preflight(&mut config).unwrap_or_else(|more| {
        problems.extend(more);
        Loaded::default()
    });
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("kindred: {problem}");
        }
        std::process::exit(EXIT_CONFIG);
    }
    init_logs(&directives, config.operations.log_format);
    if let Some(warning) = &loaded.open_files_warning {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kindred: cannot start the runtime: {e}");
            std::process::exit(EXIT_UNAVAILABLE);
        }
    };
    match runtime.block_on(run(config, loaded)) {
        Ok(()) => {}
        Err(Failure::Start(e)) => {
            eprintln!("kindred: {}", describe(&e));
            std::process::exit(EXIT_UNAVAILABLE);
        }
        Err(Failure::Serving(e)) => {
            eprintln!("kindred: {}", describe(&e));
            std::process::exit(EXIT_RUNTIME);
        }
    }
}

/// Why `run` ended in failure: before serving (exit 3) or while serving (exit 1).
enum Failure {
    Start(anyhow::Error),
    Serving(anyhow::Error),
}

/// An error and its causes, each said once: a cause whose text its context already
/// holds (`Is a directory (os error 21): Is a directory (os error 21)`) is left out.
fn describe(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

fn init_logs(directives: &str, format: LogFormat) {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let layer = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .with_filter(app::log_filter(directives))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(app::log_filter(directives))
            .boxed(),
    };
    tracing_subscriber::registry().with(layer).init();
}

async fn run(config: Config, loaded: Loaded) -> Result<(), Failure> {
    let started = start(config, loaded).await.map_err(Failure::Start)?;
    let served = app::serve(started.listener, started.metrics, started.state).await;
    if let Some(path) = started.token_file {
        let _ = std::fs::remove_file(path);
    }
    served.map_err(|e| Failure::Serving(e.into()))
}

/// A server ready to serve: its two listeners, its state, and the generated admin
/// token's file (removed when it stops), if any.
struct Started {
    listener: tokio::net::TcpListener,
    metrics: tokio::net::TcpListener,
    state: std::sync::Arc<kindred::state::AppState>,
    token_file: Option<PathBuf>,
}

/// Everything up to serving: listen, build the state, print where to go, and say in one
/// log line what was loaded.
async fn start(config: Config, loaded: Loaded) -> anyhow::Result<Started> {
    let shutdown = CancellationToken::new();
    stop_on_signal(shutdown.clone());
    let public_base = public_base(config.edge.public_url.as_deref());
    let listener = app::bind(config.edge.bind, "KINDRED_BIND (--bind)").await?;
    let addr = listener.local_addr()?;
    let metrics = app::bind(
        config.operations.metrics_bind,
        "KINDRED_METRICS_BIND (--metrics-bind)",
    )
    .await?;
    let metrics_addr = metrics.local_addr()?;
    let demo = config.operations.demo_room;
    let generated_admin = config.tokens.admin_token.is_none();
    let storage = match (&config.storage.redis_url, &config.storage.catalog_file) {
        (Some(_), _) => Storage::Redis,
        (None, Some(path)) => Storage::File(path.clone()),
        (None, None) => Storage::Memory,
    };
    let max_connections = config.edge.max_connections;
    let max_tcp_connections = config.http_connection_cap();
    let state = app::state(config, shutdown.clone()).await?;
    let rooms = state.broker.rooms().await.map_or(0, |r| r.len());
    // Links for members: the public URL behind a proxy, else the listening address.
    let base = public_base.unwrap_or_else(|| format!("http://{addr}"));

    println!("Kindred is listening on http://{addr}");
    println!("Metrics: http://{metrics_addr}/metrics");
    // What was loaded, in one line a log collector can read (no text of anyone's).
    tracing::info!(
        broker = if matches!(storage, Storage::Redis) {
            "redis"
        } else {
            "memory"
        },
        catalog = match storage {
            Storage::Memory => "none",
            Storage::File(_) => "file",
            Storage::Redis => "redis",
        },
        catalog_rooms = rooms,
        extra_crisis_phrases = loaded.extra_phrases,
        card_lines = loaded.card_lines,
        open_files_limit = loaded.open_files,
        max_connections,
        max_tcp_connections,
        "started"
    );
    match storage {
        Storage::Memory => {
            println!(
                "Rooms live in memory only: a restart forgets every room and invite. To keep them, set --catalog-file PATH (KINDRED_CATALOG_FILE)."
            );
        }
        Storage::File(path) => {
            println!(
                "Rooms are kept in {} ({rooms} there now); messages never are.",
                path.display()
            );
        }
        Storage::Redis => {
            println!("Rooms are kept in Redis, shared by every instance.");
            if let Some(id) = state.broker.instance() {
                println!("This instance is {id} (the id other instances' logs name it by).");
            }
        }
    }
    // A generated admin token goes to a file only this user can read, never to stdout
    // (which often ends up in a log that others read).
    let token_file = if generated_admin {
        let path = write_admin_token(&state.admin_token)?;
        println!(
            "Admin token (generated; set KINDRED_ADMIN_TOKEN to choose one) is in {}",
            path.display()
        );
        println!(
            "  e.g. curl -X POST {base}/api/rooms -H \"Authorization: Bearer $(cat {})\" -H 'content-type: application/json' -d '{{\"title\":\"My group\"}}'",
            path.display()
        );
        Some(path)
    } else {
        None
    };
    if demo {
        let (room, invite) = app::create_demo_room(&state).await?;
        println!("Demo room (open now; not a real group, nobody is watching it):");
        println!("  as a participant: {base}/?room={}", room.id);
        println!("  as a facilitator: {base}{}", invite.url());
        println!(
            "  join: curl -s -X POST {base}/api/rooms/{}/join -H 'content-type: application/json' -d '{{\"name\":\"Robin\",\"accept_guidelines\":true}}'",
            room.id
        );
    }

    Ok(Started {
        listener,
        metrics,
        state,
        token_file,
    })
}

/// Where the catalog lives, for the start-up text.
enum Storage {
    Memory,
    File(PathBuf),
    Redis,
}

/// Write a generated admin token to a new file that only this user may read
/// (`$XDG_RUNTIME_DIR/kindred-admin-token-<pid>`, else in the temporary directory), and
/// return its path.
fn write_admin_token(token: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute() && d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("kindred-admin-token-{}", std::process::id()));
    write_private(&path, token)
        .map_err(|e| anyhow::anyhow!("writing the admin token to {}: {e}", path.display()))?;
    Ok(path)
}

/// Create `path` afresh with mode 0600 and write `text` to it. A file left there by an
/// earlier process with the same pid is replaced; a symlink is removed, never followed.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    writeln!(file, "{text}")?;
    file.sync_all()
}

/// The public URL without its trailing slash, for printed links (the configuration
/// checked that it is an origin).
fn public_base(public_url: Option<&str>) -> Option<String> {
    public_url.map(|url| url.trim().trim_end_matches('/').to_owned())
}

/// Stop on ctrl-c or SIGTERM: `shutdown` is cancelled. SIGTERM is caught from the
/// moment this returns (before the listeners are bound), so a `systemctl stop` right
/// after start is a clean stop, never the signal's default death.
fn stop_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        match term {
            Some(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            None => {
                let _ = ctrl_c.await;
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
}

#[cfg(test)]
mod tests {
    use super::{describe, public_base, write_private};

    #[cfg(unix)]
    #[test]
    fn a_private_file_is_readable_by_its_owner_only_and_replaces_what_was_there() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("kindred-main-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, "s3cret").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "s3cret\n");
        // A symlink planted at the path is replaced, and its target left alone.
        let target = dir.join("target");
        std::fs::write(&target, "untouched").unwrap();
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        write_private(&path, "fresh").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "fresh\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn printed_links_use_the_public_url_without_its_slash() {
        assert_eq!(public_base(None), None);
        assert_eq!(
            public_base(Some("https://chat.example.org/")).as_deref(),
            Some("https://chat.example.org")
        );
    }

    #[test]
    fn a_cause_already_said_is_not_said_again() {
        let io = std::io::Error::other("Is a directory (os error 21)");
        let e = anyhow::Error::new(io).context("reading /tmp: Is a directory (os error 21)");
        assert_eq!(describe(&e), "reading /tmp: Is a directory (os error 21)");
        let e = anyhow::anyhow!("Redis refused").context("cannot reach REDIS_URL");
        assert_eq!(describe(&e), "cannot reach REDIS_URL: Redis refused");
    }
}
