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
    let listener = TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let demo = config.demo_room;
    let generated_admin = config.admin_token.is_none();
    let state = app::state(config, shutdown.clone())?;

    println!("Kindred is listening on http://{addr}");
    if generated_admin {
        println!(
            "Admin token (generated; set KINDRED_ADMIN_TOKEN to choose one): {}",
            state.admin_token
        );
    }
    if demo {
        let room = app::create_demo_room(&state).await?;
        println!(
            "Demo room \"{}\": http://{addr}/?room={}",
            room.title, room.id
        );
        println!(
            "  join: curl -s -X POST http://{addr}/api/rooms/{}/join -H 'content-type: application/json' -d '{{\"name\":\"Robin\",\"accept_guidelines\":true}}'",
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
