//! Start-up: a parsed [`Config`] becomes a bound listener and a ready
//! [`AppState`], or one [`StartupError`] that the binary prints as one line
//! and turns into its exit code.
//!
//! The steps keep their order because each guards the next: flags are
//! checked before anything connects; the shared store is reached before
//! anything is served (an instance that cannot reach the store its peers
//! use must not start on state of its own); the port is bound before the
//! authorization server is built, so a taken port fails fast. [`assemble`]
//! is the part the test harness shares, with its own clocks and store caps.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::binance::BinanceClient;
use crate::config::{Config, ConfigError, Settings};
use crate::mcp::session::SessionStore;
use crate::mcp::state::{self, McpState};
use crate::oauth::store::{RedisStore, StoreLimits};
use crate::oauth::{self, AuthMode, OAuth, OAuthSetupError};
use crate::shared::StoreUrl;
use crate::shared::redis::{ConnectError, Redis};
use crate::state::AppState;
use crate::urls::PublicBase;

/// Why the server did not start.
#[derive(Debug)]
pub enum StartupError {
    /// A `--binance-*` or `--store` flag.
    Config(ConfigError),
    /// The shared store did not answer (or holds a newer layout).
    Store {
        url: String,
        error: ConnectError,
    },
    Listen {
        addr: SocketAddr,
        error: io::Error,
    },
    OAuth(OAuthSetupError),
}

impl StartupError {
    /// 2 for a configuration the operator must change, 1 for a failure
    /// that may pass (the store down, the port taken).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::OAuth(_) => 2,
            Self::Store { .. } | Self::Listen { .. } => 1,
        }
    }
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(error) => error.fmt(f),
            // One line: a deploy log shows the first line only.
            Self::Store { url, error } => {
                let why = error.to_string().replace(['\n', '\r'], " ");
                write!(f, "store {url}: {why}")
            }
            Self::Listen { addr, error } => {
                write!(f, "cannot listen on {addr} (--host/--port): {error}")
            }
            Self::OAuth(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for StartupError {}

/// Where the server reads time and how much its OAuth store may hold: the
/// system's clocks and the default caps, unless a test injects its own.
pub struct Wiring {
    pub oauth_clock: oauth::Clock,
    pub mcp_clock: state::Clock,
    pub store_limits: StoreLimits,
}

impl Default for Wiring {
    fn default() -> Self {
        Self {
            oauth_clock: oauth::system_clock(),
            mcp_clock: state::system_clock(),
            store_limits: StoreLimits::default(),
        }
    }
}

/// The application, ready to serve.
pub struct Assembled {
    pub state: AppState,
    /// For stderr, printed once and never logged: it may hold the generated
    /// admin password (with OAuth), or warn that no sign-in guards the
    /// tools (`--auth none`).
    pub notice: String,
}

/// Builds the state from `config`, with the Binance client given and the
/// OAuth state and MCP sessions in `redis` when the instances share one.
pub async fn assemble(
    config: &Config,
    binance: BinanceClient,
    redis: Option<Redis>,
    wiring: Wiring,
) -> Result<Assembled, OAuthSetupError> {
    let settings = Settings::from_config(config);
    let (oauth, notice) = match config.auth {
        AuthMode::None => {
            let warning = oauth::auth_none_warning(config.auth, config.host);
            (None, warning.map(|w| format!("warning: {w}\n")))
        }
        AuthMode::Oauth => {
            let (oauth, startup) = match &redis {
                None => {
                    OAuth::with_limits(
                        &config.oauth,
                        &settings.public_url,
                        wiring.oauth_clock,
                        wiring.store_limits,
                    )
                    .await?
                }
                Some(redis) => {
                    let store = RedisStore::new(redis.clone(), wiring.store_limits);
                    OAuth::with_store(
                        &config.oauth,
                        &settings.public_url,
                        wiring.oauth_clock,
                        Arc::new(store),
                    )
                    .await?
                }
            };
            (Some(oauth), Some(startup.message()))
        }
    };
    let catalog = crate::catalog(&binance, oauth.as_ref(), settings.app_domain.as_ref());
    let sessions = match redis {
        Some(redis) => SessionStore::shared(redis),
        None => SessionStore::default(),
    };
    let mcp = McpState::new(
        settings,
        binance,
        oauth,
        catalog,
        wiring.mcp_clock,
        sessions,
    );
    Ok(Assembled {
        state: AppState::from(mcp),
        notice: notice.unwrap_or_default(),
    })
}

/// A server bound to its port, not yet serving.
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    store: StoreUrl,
    pub state: AppState,
    /// See [`Assembled::notice`].
    pub notice: String,
}

impl Server {
    /// Checks the flags, reaches the shared store, binds the port and
    /// assembles the application, in that order.
    pub async fn start(config: &Config) -> Result<Self, StartupError> {
        let binance = config.binance_client().map_err(StartupError::Config)?;
        let store = config.store_url().map_err(StartupError::Config)?;
        let redis = match &store {
            StoreUrl::Memory => None,
            StoreUrl::Redis(url) => Some(
                Redis::connect(url, &config.store_prefix, config.store_ca_file.as_deref())
                    .await
                    .map_err(|error| StartupError::Store {
                        url: url.to_string(),
                        error,
                    })?,
            ),
        };
        let addr = config.bind_addr();
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|error| StartupError::Listen { addr, error })?;
        let Assembled { state, notice } = assemble(config, binance, redis, Wiring::default())
            .await
            .map_err(StartupError::OAuth)?;
        Ok(Self {
            listener,
            addr,
            store,
            state,
            notice,
        })
    }

    /// Serves until `shutdown` resolves and in-flight requests drain, then
    /// writes the OAuth state a state file has not caught up with yet.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        let Self {
            listener,
            addr,
            store,
            state,
            ..
        } = self;
        let public_url = state.settings().public_url.configured().clone();
        let also = match state.settings().public_url {
            PublicBase::Fixed(_) => "",
            PublicBase::Local(_) => " (or through any other loopback address)",
        };
        tracing::info!(%addr, %public_url, %store, "crypto-mcp listening; MCP endpoint at {public_url}/mcp{also}");
        let oauth = state.oauth.clone();
        let served = crate::serve(listener, state, shutdown).await;
        // The last changes (a token refreshed just before SIGTERM) are still
        // only in memory: write them before exiting.
        if let Some(oauth) = &oauth
            && let Err(error) = oauth.flush_state().await
        {
            tracing::error!(%error, "could not write the state file at shutdown");
        }
        served
    }
}

/// Resolves on Ctrl-C or SIGTERM (what Fly, Railway and Render send).
pub async fn shutdown_signal() {
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
