use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use crypto_mcp::config::Config;
use crypto_mcp::{AppState, Settings, telemetry};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::try_parse() {
        Ok(config) => config,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            // clap explains over several lines; one line naming the flag is
            // what a deploy log needs.
            let rendered = error.to_string();
            eprintln!(
                "{}",
                rendered
                    .lines()
                    .next()
                    .unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(2);
        }
    };
    if let Err(message) = config.check() {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let binance = match config.binance_client() {
        Ok(binance) => binance,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let addr = config.bind_addr();
    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {addr} (--host/--port): {error}");
            return ExitCode::FAILURE;
        }
    };
    let state = AppState::new(Settings::from_config(&config), binance);
    tracing::info!(%addr, public_url = %state.settings.public_url, "crypto-mcp listening; MCP endpoint at {}/mcp", state.settings.public_url);
    match crypto_mcp::serve(listener, state, shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what Fly, Railway and Render send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested; draining in-flight requests");
}
