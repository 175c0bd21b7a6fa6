//! The `kindred` binary: parse configuration, start, stop on ctrl-c or SIGTERM.

use std::path::{Path, PathBuf};

use clap::Parser;
use kindred::config::LogFormat;
use kindred::{Config, app};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// A configuration mistake: the same exit status clap gives a bad flag.
const EXIT_CONFIG: i32 = 2;
/// Anything else that stops Kindred from starting (an address taken, a file unreadable,
/// Redis unreachable).
const EXIT_START: i32 = 1;

fn main() {
    // Parsed before the runtime or the logs exist: a flag clap refuses exits here (2).
    let config = Config::parse();
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    let mut problems = config.problems();
    if let Err(e) = app::check_log_directives(&directives) {
        problems.push(e);
    }
    if let Err(e) = public_base(config.edge.public_url.as_deref()) {
        problems.push(e.to_string());
    }
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("kindred: {problem}");
        }
        std::process::exit(EXIT_CONFIG);
    }
    init_logs(&directives, config.operations.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kindred: cannot start the runtime: {e}");
            std::process::exit(EXIT_START);
        }
    };
    if let Err(e) = runtime.block_on(run(config)) {
        eprintln!("kindred: {e:#}");
        std::process::exit(EXIT_START);
    }
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

async fn run(config: Config) -> anyhow::Result<()> {
    let public_base = public_base(config.edge.public_url.as_deref())?;
    let listener = app::bind(config.edge.bind, "--bind").await?;
    let addr = listener.local_addr()?;
    let metrics = app::bind(config.operations.metrics_bind, "--metrics-bind").await?;
    let metrics_addr = metrics.local_addr()?;
    let shutdown = CancellationToken::new();
    let demo = config.operations.demo_room;
    let generated_admin = config.tokens.admin_token.is_none();
    let storage = match (&config.storage.redis_url, &config.storage.catalog_file) {
        (Some(_), _) => Storage::Redis,
        (None, Some(path)) => Storage::File(path.clone()),
        (None, None) => Storage::Memory,
    };
    let state = app::state(config, shutdown.clone()).await?;
    // Links for members: the public URL behind a proxy, else the listening address.
    let base = public_base.unwrap_or_else(|| format!("http://{addr}"));

    println!("Kindred is listening on http://{addr}");
    println!("Metrics: http://{metrics_addr}/metrics");
    match storage {
        Storage::Memory => {
            println!(
                "Rooms live in memory only: a restart forgets every room and invite. To keep them, set --catalog-file PATH (KINDRED_CATALOG_FILE)."
            );
        }
        Storage::File(path) => {
            let rooms = state.broker.rooms().await.map_or(0, |r| r.len());
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

    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
    let served = app::serve(listener, metrics, state).await;
    if let Some(path) = token_file {
        let _ = std::fs::remove_file(path);
    }
    served?;
    Ok(())
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

/// The public URL without its trailing slash, for printed links. Refuses one that is not
/// an absolute http(s) URL: the WebSocket origin check would then let no browser in.
fn public_base(public_url: Option<&str>) -> anyhow::Result<Option<String>> {
    let Some(url) = public_url.map(str::trim) else {
        return Ok(None);
    };
    let uri: axum::http::Uri = url
        .parse()
        .map_err(|e| anyhow::anyhow!("--public-url {url:?} is not a URL: {e}"))?;
    let web = uri
        .scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
    let host = uri
        .authority()
        .is_some_and(|a| !a.host().is_empty() && !a.as_str().contains('@'));
    anyhow::ensure!(
        web && host,
        "--public-url {url:?} must be an absolute http:// or https:// URL, e.g. https://chat.example.org"
    );
    Ok(Some(url.trim_end_matches('/').to_owned()))
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::{public_base, write_private};

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
    fn printed_links_use_the_public_url_and_a_bad_one_is_refused() {
        assert_eq!(public_base(None).unwrap(), None);
        assert_eq!(
            public_base(Some("https://chat.example.org/"))
                .unwrap()
                .as_deref(),
            Some("https://chat.example.org")
        );
        assert_eq!(
            public_base(Some("HTTP://localhost:8080"))
                .unwrap()
                .as_deref(),
            Some("HTTP://localhost:8080")
        );
        for bad in [
            "chat.example.org",
            "ftp://chat.example.org",
            "https://u:p@x.org",
            "",
        ] {
            assert!(public_base(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
