//! The application's state: each layer's own state, shared by the router.
//!
//! The MCP endpoint and the authorization server each keep their own state
//! ([`McpState`], [`OAuth`]) and never see this type, so the layers below
//! point only down; [`crate::app`] hands each router its part.

use crate::config::Settings;
use crate::mcp::state::McpState;
use crate::oauth::OAuth;

#[derive(Clone)]
pub struct AppState {
    pub mcp: McpState,
    /// The embedded authorization server; `None` with `--auth none`.
    pub oauth: Option<OAuth>,
}

impl From<McpState> for AppState {
    /// The state of a server whose MCP endpoint is `mcp`; the authorization
    /// server is the one its bearer gate asks.
    fn from(mcp: McpState) -> Self {
        Self {
            oauth: mcp.oauth.clone(),
            mcp,
        }
    }
}

impl AppState {
    pub fn settings(&self) -> &Settings {
        &self.mcp.settings
    }

    /// Tells long-lived streams to end; called when shutdown begins.
    pub fn begin_shutdown(&self) {
        self.mcp.begin_shutdown();
    }
}
