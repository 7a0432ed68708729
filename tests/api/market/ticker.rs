//! `binance_ticker`: 24h statistics for one or several symbols, rolling
//! windows, and the symbol-list rules.

use serde_json::{Value, json};

use super::{error_text, ok};
use crate::fake_binance::data::MARKETS;
use crate::fake_binance::spot::{ticker_24hr_json, ticker_stats};
use crate::helpers::spawn_app;

/// The tool's field for each of Binance's 24h ticker fields.
const FIELDS: [(&str, &str); 19] = [
    ("symbol", "symbol"),
    ("last_price", "lastPrice"),
    ("price_change", "priceChange"),
    ("price_change_percent", "priceChangePercent"),
    ("open_price", "openPrice"),
    ("high_price", "highPrice"),
    ("low_price", "lowPrice"),
    ("weighted_avg_price", "weightedAvgPrice"),
    ("volume", "volume"),
    ("quote_volume", "quoteVolume"),
    ("open_time", "openTime"),
    ("close_time", "closeTime"),
    ("trade_count", "count"),
    ("prev_close_price", "prevClosePrice"),
    ("last_qty", "lastQty"),
    ("bid_price", "bidPrice"),
    ("bid_qty", "bidQty"),
    ("ask_price", "askPrice"),
    ("ask_qty", "askQty"),
];

fn assert_matches(served: &Value, binance: &Value, fields: &[(&str, &str)]) {
    for (ours, theirs) in fields {
        assert_eq!(served[ours], binance[theirs], "{ours}");
    }
}

#[tokio::test]
async fn one_symbol_gets_every_24h_field() {
    let app = spawn_app().await;
    let result = app
        .call_tool("binance_ticker", json!({ "symbol": "BTCUSDT" }))
        .await;
    let out = ok(&result);
    assert_eq!(out["window"], "24h");
    let tickers = out["tickers"].as_array().unwrap();
    assert_eq!(tickers.len(), 1);
    let expected = ticker_24hr_json(&app.binance.btcusdt_1h(), &MARKETS[0]);
    assert_matches(&tickers[0], &expected, &FIELDS);
    assert_eq!(tickers[0]["last_price"], "102429.56000000");
    assert_eq!(tickers[0]["bid_price"], "102429.55000000");
    assert_eq!(tickers[0].as_object().unwrap().len(), FIELDS.len());
    assert_eq!(out["cached"], false);
}

#[tokio::test]
async fn several_symbols_and_a_rolling_window() {
    let app = spawn_app().await;
    let result = app
        .call_tool(
            "binance_ticker",
            json!({ "symbols": ["BTCUSDT", "eth/usdt"], "symbol": "BTCUSDT" }),
        )
        .await;
    let out = ok(&result);
    let symbols: Vec<&str> = out["tickers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(
        symbols,
        ["BTCUSDT", "ETHUSDT"],
        "merged, duplicates dropped"
    );

    let result = app
        .call_tool(
            "binance_ticker",
            json!({ "symbol": "BTCUSDT", "windowSize": "4h" }),
        )
        .await;
    let out = ok(&result);
    assert_eq!(out["window"], "4h");
    let ticker = &out["tickers"][0];
    let expected = ticker_stats(&app.binance.btcusdt_1h(), 4);
    assert_matches(ticker, &expected, &FIELDS[1..13]);
    assert!(
        ticker.get("bid_price").is_none(),
        "rolling tickers have no book"
    );
    assert_eq!(app.binance.calls("/api/v3/ticker"), 1);
}

#[tokio::test]
async fn symbol_list_rules_are_explained() {
    let app = spawn_app().await;
    let text = error_text(&app.call_tool("binance_ticker", json!({})).await);
    assert!(text.contains("give `symbol`"), "{text}");
    let many: Vec<String> = (0..21).map(|i| format!("AAA{i}USDT")).collect();
    let text = error_text(
        &app.call_tool("binance_ticker", json!({ "symbols": many }))
            .await,
    );
    assert!(text.contains("at most 20 symbols"), "{text}");
    let text = error_text(
        &app.call_tool(
            "binance_ticker",
            json!({ "symbol": "BTCUSDT", "windowSize": "8d" }),
        )
        .await,
    );
    assert!(text.contains("`windowSize`"), "{text}");
    assert_eq!(app.binance.total_calls(), 0);
}
