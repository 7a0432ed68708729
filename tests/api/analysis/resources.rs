//! `binance://symbols` and the `binance://klines/{symbol}/{interval}`
//! template: listed, readable, with TTLs, and errors for bad URIs.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::rpc;
use crate::helpers::{spawn_app, stateless_headers, stateless_meta};

fn contents(response: &Value) -> &Value {
    &response["result"]["contents"][0]
}

#[tokio::test]
async fn resources_and_the_template_are_listed() {
    let app = spawn_app().await;
    let resources = rpc(&app, "resources/list", json!({})).await;
    assert!(
        resources["result"]["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .any(|r| r["uri"] == "binance://symbols" && r["mimeType"] == "application/json"),
        "{resources}"
    );
    let templates = rpc(&app, "resources/templates/list", json!({})).await;
    assert!(
        templates["result"]["resourceTemplates"]
            .as_array()
            .expect("templates")
            .iter()
            .any(
                |t| t["uriTemplate"] == "binance://klines/{symbol}/{interval}"
                    && t["mimeType"] == "text/csv"
            ),
        "{templates}"
    );
}

#[tokio::test]
async fn symbols_lists_trading_pairs_with_base_and_quote() {
    let app = spawn_app().await;
    let response = rpc(
        &app,
        "resources/read",
        json!({ "uri": "binance://symbols" }),
    )
    .await;
    let item = contents(&response);
    assert_eq!(item["uri"], "binance://symbols");
    assert_eq!(item["mimeType"], "application/json");
    let body: Value = serde_json::from_str(item["text"].as_str().expect("text")).expect("JSON");
    assert_eq!(body["columns"], json!(["symbol", "base", "quote"]));
    assert_eq!(body["count"], 9, "BNBBTC is in BREAK: {body}");
    assert_eq!(body["symbols"][0], json!(["BTCUSDT", "BTC", "USDT"]));
}

#[tokio::test]
async fn klines_read_as_csv_with_a_ttl_by_interval() {
    let app = spawn_app().await;
    let uri = "binance://klines/BTCUSDT/1h";
    let response = rpc(&app, "resources/read", json!({ "uri": uri })).await;
    let item = contents(&response);
    assert_eq!(item["uri"], uri);
    assert_eq!(item["mimeType"], "text/csv");
    let csv = item["text"].as_str().expect("text");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "open_time,open,high,low,close,volume");
    assert_eq!(lines.len(), 101);
    // The fixture's last candle, as Binance writes it.
    assert_eq!(
        lines[100],
        "1738364400000,102261.29000000,102439.31000000,101955.00000000,102429.56000000,587.31239000"
    );

    // The stateless era carries the TTL: a sixtieth of the interval, at most a minute.
    let reply = app
        .post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "resources/read",
                     "params": { "uri": "binance://klines/ETHUSDT/1h", "_meta": stateless_meta() } }),
            &stateless_headers("resources/read", Some("binance://klines/ETHUSDT/1h")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["result"]["ttlMs"], 60_000);
}

#[tokio::test]
async fn bad_klines_uris_are_not_found_or_read_errors() {
    let app = spawn_app().await;
    for uri in [
        "binance://klines/BTCUSDT/2m",
        "binance://klines/BTCUSDT",
        "binance://klines/BTC$USDT/1h",
    ] {
        let response = rpc(&app, "resources/read", json!({ "uri": uri })).await;
        assert_eq!(response["error"]["code"], -32002, "{uri}: {response}");
    }
    // Well formed but not listed: Binance's answer, with suggestions.
    let response = rpc(
        &app,
        "resources/read",
        json!({ "uri": "binance://klines/BTCUSD/1h" }),
    )
    .await;
    let message = response["error"]["message"].as_str().expect("message");
    assert!(message.contains("Did you mean"), "{response}");
}
