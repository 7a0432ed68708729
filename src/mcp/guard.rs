//! `Origin` and `Host` checks in front of the MCP endpoint.
//!
//! A browser page on another site can reach a server on localhost through
//! DNS rebinding; the defence is to refuse requests whose `Host` is not ours
//! and whose `Origin` (sent by browsers, not by ChatGPT's backend) is not a
//! client we expect. Loopback is always allowed so a local Inspector works.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::McpError;
use super::state::McpState;

/// Refuses a request whose `Host` or `Origin` is not allowed, with 403.
pub async fn check(State(state): State<McpState>, request: Request, next: Next) -> Response {
    match verdict(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

fn verdict(state: &McpState, headers: &HeaderMap) -> Result<(), McpError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !state.settings.hosts.allows(host) {
        return Err(McpError::Forbidden(format!(
            "Host header {host:?} is not served here; use {} (or set MCP_ALLOWED_HOSTS)",
            state.settings.public_url.configured()
        )));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !state.settings.origins.allows(origin) {
            return Err(McpError::Forbidden(format!(
                "Origin {origin:?} is not allowed to call this server (set MCP_ALLOWED_ORIGINS to allow it)"
            )));
        }
    }
    Ok(())
}
