//! The application's state: each layer's own state, shared by the router.
//!
//! The MCP endpoint and the authorization server each keep their own state
//! ([`McpState`], [`OAuth`]) and never see this type, so the layers below
//! point only down; [`crate::app`] hands each router its part.

use crate::binance::BinanceClient;
use crate::config::Settings;
use crate::mcp::catalog::Catalog;
use crate::mcp::session::SessionStore;
#[cfg(doc)]
use crate::mcp::state::system_clock;
use crate::mcp::state::{Clock, McpState};
use crate::oauth::OAuth;

#[derive(Clone)]
pub struct AppState {
    pub mcp: McpState,
    /// The embedded authorization server; `None` with `--auth none`.
    pub oauth: Option<OAuth>,
}

impl AppState {
    /// The state for a server offering `catalog` (see [`crate::catalog`]),
    /// whose MCP sessions read time from `clock` (normally
    /// [`crate::mcp::state::system_clock`]).
    pub fn new(
        settings: Settings,
        binance: BinanceClient,
        oauth: Option<OAuth>,
        catalog: Catalog,
        clock: Clock,
    ) -> Self {
        Self::with_sessions(
            settings,
            binance,
            oauth,
            catalog,
            clock,
            SessionStore::default(),
        )
    }

    /// [`AppState::new`] with MCP sessions kept elsewhere (in the store the
    /// instances share, [`SessionStore::shared`]).
    pub fn with_sessions(
        settings: Settings,
        binance: BinanceClient,
        oauth: Option<OAuth>,
        catalog: Catalog,
        clock: Clock,
        sessions: SessionStore,
    ) -> Self {
        Self {
            mcp: McpState::new(settings, binance, oauth.clone(), catalog, clock, sessions),
            oauth,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.mcp.settings
    }

    /// Tells long-lived streams to end; called when shutdown begins.
    pub fn begin_shutdown(&self) {
        self.mcp.begin_shutdown();
    }
}
