//! The analysis features over MCP against the fake Binance:
//! `technical_analysis`, `binance_chart`, the market prompts, resources and
//! completions.

mod chart;
mod long_window;
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
pub(crate) async fn rpc(app: &TestApp, method: &str, params: Value) -> Value {
    let reply = app
        .post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }),
            &[("mcp-protocol-version", "2025-11-25")],
        )
        .await;
    assert_eq!(reply.status, reqwest::StatusCode::OK, "{}", reply.text);
    reply.json()
}

/// `tools/list` entries of the analysis tools: names, argument names and
/// required fields are part of the wire format.
#[tokio::test]
async fn tools_list_pins_the_analysis_tools() {
    let app = crate::helpers::spawn_app().await;
    let list = rpc(&app, "tools/list", json!({})).await;
    let tools = list["result"]["tools"].as_array().expect("tools");
    for (name, properties) in [
        (
            "technical_analysis",
            &[
                "indicators",
                "interval",
                "limit",
                "market",
                "points",
                "price",
                "symbol",
            ][..],
        ),
        (
            "binance_chart",
            &[
                "height", "interval", "limit", "market", "overlays", "pane", "price", "symbol",
                "theme", "width",
            ][..],
        ),
    ] {
        let tool = tools
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed"));
        let schema = &tool["inputSchema"];
        let mut keys: Vec<&str> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, properties, "{name}");
        assert_eq!(schema["required"], json!(["symbol"]), "{name}");
        assert_eq!(tool["annotations"]["readOnlyHint"], true);
        assert_eq!(tool["annotations"]["openWorldHint"], true);
        assert!(tool["outputSchema"]["properties"].is_object(), "{name}");
    }
}
