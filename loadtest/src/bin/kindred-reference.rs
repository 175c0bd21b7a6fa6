//! `kindred-reference`: the naive broadcast server `bench.sh` runs beside Kindred (see
//! `kindred_loadtest::reference`). `--bind ADDR` (default 127.0.0.1:8080).

use std::process::ExitCode;

fn main() -> ExitCode {
    let addr = match kindred_loadtest::reference::bind_address(std::env::args().skip(1)) {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("kindred-reference: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kindred-reference: tokio runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        eprintln!("kindred-reference: listening on {addr}");
        kindred_loadtest::reference::serve(listener).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kindred-reference: {e}");
            ExitCode::FAILURE
        }
    }
}
