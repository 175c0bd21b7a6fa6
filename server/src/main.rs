//! The `kindred` binary: parse configuration, start, stop on ctrl-c or SIGTERM.

use clap::Parser;
use kindred::{Config, app};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(app::log_filter(&directives))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = Config::parse();
    let public_base = public_base(config.public_url.as_deref())?;
    let listener = TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let demo = config.demo_room;
    let generated_admin = config.admin_token.is_none();
    let state = app::state(config, shutdown.clone()).await?;
    // Links for members: the public URL behind a proxy, else the listening address.
    let base = public_base.unwrap_or_else(|| format!("http://{addr}"));

    println!("Kindred is listening on http://{addr}");
    if generated_admin {
        println!(
            "Admin token (generated; set KINDRED_ADMIN_TOKEN to choose one): {}",
            state.admin_token
        );
    }
    if demo {
        let room = app::create_demo_room(&state).await?;
        println!("Demo room \"{}\": {base}/?room={}", room.title, room.id);
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
    app::serve(listener, state).await?;
    Ok(())
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
    use super::public_base;

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
