//! The analysis features over MCP against the fake Binance:
//! `technical_analysis`, `binance_chart`, the market prompts, resources and
//! completions.

mod chart;
mod prompts;
mod resources;
mod technical_analysis;

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// The first text block of a tool result (the JSON mirror or the error).
fn text_of(result: &Value) -> &str {
    result["content"]
        .as_array()
        .and_then(|blocks| blocks.iter().find(|b| b["type"] == "text"))
        .and_then(|b| b["text"].as_str())
        .unwrap_or_else(|| panic!("no text block: {result}"))
}

/// Sends one handshake-era JSON-RPC request and returns the whole response
/// (`result` or `error`).
async fn rpc(app: &TestApp, method: &str, params: Value) -> Value {
    let reply = app
        .post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }),
            &[("mcp-protocol-version", "2025-11-25")],
        )
        .await;
    assert_eq!(reply.status, reqwest::StatusCode::OK, "{}", reply.text);
    reply.json()
}
