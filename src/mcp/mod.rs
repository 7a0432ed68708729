//! The MCP endpoint: JSON-RPC 2.0 over Streamable HTTP, for both protocol
//! eras, at `/` and `/mcp`.
//!
//! We write this layer ourselves on serde rather than using an SDK so that
//! one endpoint can serve handshake-era and stateless-era clients side by
//! side, with exact control over status codes and headers; the official
//! conformance suite keeps it honest.

pub mod auth;
pub mod caller;
pub mod catalog;
pub mod content;
pub mod guard;
pub mod jsonrpc;
pub mod notify;
pub mod server;
pub mod session;
pub mod transport;
pub mod version;

use axum::Router;
use axum::middleware;
use axum::routing::get;

use crate::state::AppState;

/// The MCP routes: the `Origin`/`Host` guard first, then (with OAuth) the
/// bearer-token gate.
pub fn router(state: &AppState) -> Router<AppState> {
    let endpoint = || {
        get(transport::get)
            .post(transport::post)
            .delete(transport::delete)
    };
    Router::new()
        .route("/", endpoint())
        .route("/mcp", endpoint())
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::gate))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard::check))
}
