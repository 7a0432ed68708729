//! What a browser or a probe sees on GET: who we are and how to connect.

use axum::Json;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::html;
use crate::mcp::server;
use crate::mcp::state::McpState;
use crate::mcp::version::ProtocolVersion;

/// What a browser or a probe sees on GET: who we are and how to connect.
pub fn describe(state: &McpState, headers: &HeaderMap) -> Response {
    let endpoint = format!("{}/mcp", state.settings.public_url.for_request(headers));
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        let body = json!({
            "name": server::SERVER_NAME,
            "title": server::SERVER_TITLE,
            "version": server::SERVER_VERSION,
            "protocolVersions": ProtocolVersion::all_as_str(),
            "endpoint": endpoint,
            "transport": "streamable-http",
            "howToConnect": "POST JSON-RPC 2.0 messages to the endpoint; add it as a connector URL in ChatGPT, Claude or the MCP Inspector.",
        });
        return Json(body).into_response();
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{name}</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}code{{background:#f2f2f2;padding:.1rem .3rem}}</style></head>\
<body><h1>{title}</h1><p><strong>{name}</strong> {version} is a Model Context Protocol server (Streamable HTTP).</p>\
<p>Connect an MCP client (ChatGPT Developer Mode, Claude, the MCP Inspector) to <code>{endpoint}</code>.</p>\
<p>Protocol versions: {versions}.</p></body></html>",
        name = server::SERVER_NAME,
        title = server::SERVER_TITLE,
        version = server::SERVER_VERSION,
        endpoint = html::escape(&endpoint),
        versions = ProtocolVersion::all_as_str().join(", "),
    );
    Html(page).into_response()
}
