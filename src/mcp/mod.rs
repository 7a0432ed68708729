//! The MCP endpoint: JSON-RPC 2.0 over Streamable HTTP, for both protocol
//! eras, at `/` and `/mcp`.
//!
//! We write this layer ourselves on serde rather than using an SDK so that
//! one endpoint can serve handshake-era and stateless-era clients side by
//! side, with exact control over status codes and headers; the official
//! conformance suite keeps it honest.
//!
//! Inside, each module uses only those below it: the wire (`version`,
//! `content`, `error`, `jsonrpc`, `era`, `session`, `notify`, `schema`),
//! what a request asks for and what we offer (`method`, `arguments`,
//! `tool`, `catalog`, `state`), the method handlers (`server`), and at the
//! top the HTTP side (`transport`, with `guard` and `auth` in front of it).

pub mod arguments;
pub mod auth;
pub mod caller;
pub mod catalog;
pub mod content;
pub mod era;
pub mod error;
pub mod guard;
pub mod jsonrpc;
pub mod method;
pub mod notify;
pub mod schema;
pub mod server;
pub mod session;
pub mod state;
pub mod tool;
pub mod transport;
pub mod ui;
pub mod version;

use axum::Router;
use axum::middleware;
use axum::routing::get;

use crate::mcp::state::McpState;

/// The MCP routes: the `Origin`/`Host` guard first, then (with OAuth) the
/// bearer-token gate.
pub fn router(state: McpState) -> Router {
    let endpoint = || {
        get(transport::get::handle)
            .post(transport::post::handle)
            .delete(transport::delete::handle)
    };
    Router::new()
        .route("/", endpoint())
        .route("/mcp", endpoint())
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::gate))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard::check))
        .with_state(state)
}
