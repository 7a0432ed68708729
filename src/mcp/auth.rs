//! Who may reach the MCP endpoint when OAuth is on.
//!
//! By default every request needs a valid bearer token (401 otherwise, from
//! the OAuth guard). With `--anonymous-discovery`, a request with no token
//! at all may still discover the server (initialize, ping, the lists) so a
//! client can show the tools before the user signs in; calling a tool then
//! answers the way ChatGPT expects, an `isError` result whose
//! `_meta["mcp/www_authenticate"]` starts its sign-in flow, and anything
//! else that reads data gets the usual 401. A browser asking for the
//! server's page gets it without a token in every mode: it is the one
//! answer that carries nothing but what the server says about itself.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::mcp::state::McpState;
use crate::oauth::{self, Issuer, OAuth};

/// Marks a request let through without a token.
#[derive(Debug, Clone, Copy)]
pub struct Anonymous;

/// Methods an anonymous client may use: discovery only, no market data.
pub fn open_to_anonymous(method: &str) -> bool {
    matches!(
        method,
        "initialize"
            | "ping"
            | "server/discover"
            | "tools/list"
            | "prompts/list"
            | "resources/list"
            | "resources/templates/list"
    )
}

/// Whether a request is a person's browser asking for the server's page
/// (which the gate lets through without a token): a GET (or
/// HEAD) whose `Accept` lists `text/html` and does not ask for a stream.
pub fn for_people(method: &Method, headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    matches!(*method, Method::GET | Method::HEAD)
        && accept.contains("text/html")
        && !accept.contains("text/event-stream")
}

/// Route layer for the MCP routes: the OAuth bearer check, or with
/// `--anonymous-discovery` a pass for requests that carry no token.
pub async fn gate(State(state): State<McpState>, mut request: Request, next: Next) -> Response {
    let Some(oauth) = state.oauth.clone() else {
        return next.run(request).await;
    };
    if for_people(request.method(), request.headers()) {
        return next.run(request).await;
    }
    if state.settings.anonymous_discovery && !request.headers().contains_key(header::AUTHORIZATION)
    {
        request.extensions_mut().insert(Anonymous);
        return next.run(request).await;
    }
    oauth::require_bearer(State(oauth), request, next).await
}

/// The `tools/call` result for an anonymous caller: ChatGPT reads
/// `_meta["mcp/www_authenticate"]` and offers to sign in.
pub fn sign_in_result(oauth: &OAuth, issuer: &Issuer, path: &str) -> serde_json::Value {
    json!({
        "content": [{ "type": "text", "text": "Sign in to use this tool: connect your account, then call it again." }],
        "isError": true,
        "_meta": { "mcp/www_authenticate": oauth.tool_auth_challenge(issuer, path) },
    })
}

/// The 401 for an anonymous request that reads data: like any request
/// without credentials (RFC 6750 §3.1: no error code in the challenge).
pub fn unauthorized(oauth: &OAuth, issuer: &Issuer, path: &str) -> Response {
    oauth
        .unauthorized(issuer, path, None, "sign in to use this method")
        .into_response()
}
