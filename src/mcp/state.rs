//! What the MCP endpoint shares between requests: a cheap `Clone` around
//! one `Arc`.
//!
//! Everything lives in memory: settings derived from the configuration, the
//! Binance client (with its cache), the authorization server the bearer gate
//! asks, sessions and the catalog of tools, prompts and resources. A shutdown
//! signal lets long-lived streams end so a graceful shutdown can finish
//! draining.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::binance::BinanceClient;
use crate::config::Settings;
use crate::oauth::OAuth;

use super::catalog::Catalog;
use super::session::SessionStore;

/// GET notification streams open at once without a session. Sessions bound
/// their own streams; this bounds everyone else.
pub const MAX_ANONYMOUS_STREAMS: usize = 256;

#[derive(Clone)]
pub struct McpState {
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

impl Deref for McpState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl McpState {
    pub fn new(
        settings: Settings,
        binance: BinanceClient,
        oauth: Option<OAuth>,
        catalog: Catalog,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                binance,
                oauth,
                sessions: Arc::default(),
                catalog,
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
