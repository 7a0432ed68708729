//! `binance_symbols`: search and filters over exchange info.

use serde_json::json;

use super::ok;
use crate::helpers::spawn_app;

fn names(out: &serde_json::Value) -> Vec<String> {
    out["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["symbol"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn common_names_find_symbols_with_their_filters() {
    let app = spawn_app().await;
    let result = app
        .call_tool("binance_symbols", json!({ "query": "bitcoin" }))
        .await;
    let out = ok(&result);
    // BTC as the base first, then as the quote.
    assert_eq!(names(out), ["BTCUSDC", "BTCUSDT", "ETHBTC"]);
    assert_eq!(out["total_matches"], 3);
    assert_eq!(out["truncated"], false);
    assert_eq!(
        out["symbols"][1],
        json!({
            "symbol": "BTCUSDT", "status": "TRADING", "base_asset": "BTC", "quote_asset": "USDT",
            "tick_size": "0.01", "step_size": "0.00001", "min_notional": "5",
            "base_asset_precision": 8, "quote_asset_precision": 8
        })
    );
    let result = app
        .call_tool("binance_symbols", json!({ "query": "ETH-BTC" }))
        .await;
    assert_eq!(names(ok(&result)), ["ETHBTC"]);
    let result = app
        .call_tool("binance_symbols", json!({ "query": "ether usdt" }))
        .await;
    assert_eq!(names(ok(&result)), ["ETHUSDT"]);
    assert_eq!(
        app.binance.calls("/api/v3/exchangeInfo"),
        1,
        "cached for an hour"
    );
}

#[tokio::test]
async fn filters_combine_and_limits_truncate() {
    let app = spawn_app().await;
    let result = app
        .call_tool("binance_symbols", json!({ "quoteAsset": "btc" }))
        .await;
    assert_eq!(names(ok(&result)), ["ETHBTC"], "BNBBTC is on BREAK");
    let result = app
        .call_tool(
            "binance_symbols",
            json!({ "baseAsset": "BNB", "status": "any" }),
        )
        .await;
    assert_eq!(names(ok(&result)), ["BNBBTC", "BNBUSDT"]);
    let result = app
        .call_tool("binance_symbols", json!({ "status": "BREAK" }))
        .await;
    let out = ok(&result);
    assert_eq!(names(out), ["BNBBTC"]);
    assert_eq!(out["symbols"][0]["min_notional"], "0.0001");
    let result = app
        .call_tool(
            "binance_symbols",
            json!({ "quoteAsset": "USDT", "limit": 2 }),
        )
        .await;
    let out = ok(&result);
    assert_eq!(out["total_matches"], 7);
    assert_eq!(out["truncated"], true);
    assert_eq!(names(out), ["ADAUSDT", "BNBUSDT"]);
    let result = app
        .call_tool("binance_symbols", json!({ "query": "nothing-like-it" }))
        .await;
    assert_eq!(ok(&result)["total_matches"], 0);
}
