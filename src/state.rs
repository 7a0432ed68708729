//! Shared application state: a cheap `Clone` around one `Arc`.
//!
//! Everything the handlers share lives here: settings derived from the
//! configuration, the Binance client (with its cache), MCP sessions (in
//! memory, or their records in the shared store) and the catalog of tools,
//! prompts and resources. A shutdown signal lets long-lived streams end so a
//! graceful shutdown can finish draining.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::apps::AppDomain;
use crate::binance::BinanceClient;
use crate::config::{Config, ConnectionLimits, PublicUrl};
use crate::mcp::catalog::Catalog;
use crate::mcp::guard::{HostPolicy, OriginPolicy};
use crate::mcp::session::SessionStore;
use crate::oauth::OAuth;

/// GET notification streams open at once without a session. Sessions bound
/// their own streams; this bounds everyone else.
pub const MAX_ANONYMOUS_STREAMS: usize = 256;

/// Settings resolved from [`Config`] once, at startup.
#[derive(Debug, Clone)]
pub struct Settings {
    pub public_url: PublicUrl,
    pub origins: OriginPolicy,
    pub hosts: HostPolicy,
    /// See `--anonymous-discovery` and [`crate::mcp::auth`].
    pub anonymous_discovery: bool,
    /// See `--app-domain` and [`crate::apps::AppDomain`].
    pub app_domain: Option<AppDomain>,
    /// See [`crate::listener`].
    pub connections: ConnectionLimits,
}

impl Settings {
    pub fn from_config(config: &Config) -> Self {
        let public_url = config.public_url();
        Self {
            origins: OriginPolicy::new(&public_url, &config.allowed_origins),
            hosts: HostPolicy::new(&public_url, &config.allowed_hosts),
            anonymous_discovery: config.anonymous_discovery,
            app_domain: config.app_domain.clone(),
            connections: config.connection_limits(),
            public_url,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub settings: Settings,
    pub binance: BinanceClient,
    /// The embedded authorization server; `None` with `--auth none`.
    pub oauth: Option<OAuth>,
    pub sessions: Arc<SessionStore>,
    pub catalog: Catalog,
    shutdown: watch::Sender<bool>,
    anonymous_streams: Arc<Semaphore>,
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl AppState {
    pub fn new(settings: Settings, binance: BinanceClient, oauth: Option<OAuth>) -> Self {
        Self::with_sessions(settings, binance, oauth, SessionStore::default())
    }

    /// [`AppState::new`] with MCP sessions kept elsewhere (the shared store).
    pub fn with_sessions(
        settings: Settings,
        binance: BinanceClient,
        oauth: Option<OAuth>,
        sessions: SessionStore,
    ) -> Self {
        let scopes = oauth.as_ref().map(|_| crate::oauth::SCOPES_SUPPORTED);
        let catalog = Catalog::builder()
            .tools(crate::tools::registry())
            .oauth_scopes(scopes);
        let catalog = crate::market::register(catalog, &binance);
        let catalog = crate::apps::register(catalog, settings.app_domain.as_ref());
        #[cfg(feature = "conformance")]
        let catalog = crate::conformance::register(catalog);
        Self {
            inner: Arc::new(Inner {
                settings,
                binance,
                oauth,
                sessions: Arc::new(sessions),
                catalog: catalog.build(),
                shutdown: watch::channel(false).0,
                anonymous_streams: Arc::new(Semaphore::new(MAX_ANONYMOUS_STREAMS)),
            }),
        }
    }

    /// Tells long-lived streams to end; called when shutdown begins.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves once shutdown has begun.
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.shutdown.subscribe();
        async move {
            let _ = receiver.wait_for(|stopping| *stopping).await;
        }
    }

    pub fn anonymous_stream_permit(&self) -> Option<OwnedSemaphorePermit> {
        self.anonymous_streams.clone().try_acquire_owned().ok()
    }
}
