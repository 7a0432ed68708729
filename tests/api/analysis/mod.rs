//! The analysis features over MCP against the fake Binance:
//! `technical_analysis`, `binance_chart`, the market prompts, resources and
//! completions.

mod chart;
mod technical_analysis;

use serde_json::Value;

/// The first text block of a tool result (the JSON mirror or the error).
fn text_of(result: &Value) -> &str {
    result["content"]
        .as_array()
        .and_then(|blocks| blocks.iter().find(|b| b["type"] == "text"))
        .and_then(|b| b["text"].as_str())
        .unwrap_or_else(|| panic!("no text block: {result}"))
}
