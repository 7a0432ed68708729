use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use crypto_mcp::config::{Command, Config};
use crypto_mcp::mcp::session::SessionStore;
use crypto_mcp::mcp::state::system_clock;
use crypto_mcp::oauth::store::{RedisStore, StoreLimits};
use crypto_mcp::oauth::{self, AuthMode, OAuth};
use crypto_mcp::shared::StoreUrl;
use crypto_mcp::shared::redis::Redis;
use crypto_mcp::urls::PublicBase;
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
    if let Some(Command::HashPassword) = config.command {
        return match oauth::hash_password_from_reader(std::io::stdin().lock()) {
            Ok(hash) => {
                println!("{hash}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let binance = match config.binance_client() {
        Ok(binance) => binance,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let store = match config.store_url() {
        Ok(store) => store,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    // Before anything is served: an instance that cannot reach the store
    // its peers use must not start on state of its own.
    let redis = match &store {
        StoreUrl::Memory => None,
        StoreUrl::Redis(url) => {
            match Redis::connect(url, &config.store_prefix, config.store_ca_file.as_deref()).await {
                Ok(redis) => Some(redis),
                Err(error) => {
                    let why = error.to_string().replace(['\n', '\r'], " ");
                    eprintln!("error: store {url}: {why}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let addr = config.bind_addr();
    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {addr} (--host/--port): {error}");
            return ExitCode::FAILURE;
        }
    };
    let settings = Settings::from_config(&config);
    let oauth = match config.auth {
        AuthMode::None => {
            if let Some(warning) = oauth::auth_none_warning(config.auth, config.host) {
                eprintln!("warning: {warning}");
            }
            None
        }
        AuthMode::Oauth => {
            let built = match &redis {
                None => {
                    OAuth::new(&config.oauth, &settings.public_url, oauth::system_clock()).await
                }
                Some(redis) => {
                    let store = RedisStore::new(redis.clone(), StoreLimits::default());
                    OAuth::with_store(
                        &config.oauth,
                        &settings.public_url,
                        oauth::system_clock(),
                        std::sync::Arc::new(store),
                    )
                    .await
                }
            };
            match built {
                // Printed once to stderr, never logged: it may hold the
                // generated admin password.
                Ok((oauth, startup)) => {
                    eprint!("{}", startup.message());
                    Some(oauth)
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let public_url = settings.public_url.configured().clone();
    let also = match settings.public_url {
        PublicBase::Fixed(_) => "",
        PublicBase::Local(_) => " (or through any other loopback address)",
    };
    let catalog = crypto_mcp::catalog(&binance, oauth.as_ref(), settings.app_domain.as_ref());
    let sessions = match &redis {
        Some(redis) => SessionStore::shared(redis.clone()),
        None => SessionStore::default(),
    };
    let state = AppState::with_sessions(
        settings,
        binance,
        oauth.clone(),
        catalog,
        system_clock(),
        sessions,
    );
    tracing::info!(%addr, %public_url, %store, "crypto-mcp listening; MCP endpoint at {public_url}/mcp{also}");
    let served = crypto_mcp::serve(listener, state, shutdown_signal()).await;
    // The last changes (a token refreshed just before SIGTERM) are still
    // only in memory: write them before exiting.
    if let Some(oauth) = &oauth
        && let Err(error) = oauth.flush_state().await
    {
        tracing::error!(%error, "could not write the state file at shutdown");
    }
    match served {
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
