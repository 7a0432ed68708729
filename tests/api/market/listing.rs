//! The market tools' `tools/list` entries: names, required arguments,
//! output fields and annotations are part of the wire format.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn tools_list_pins_the_market_tools() {
    let app = spawn_app().await;
    let reply = app
        .post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }),
            &[("mcp-protocol-version", "2025-11-25")],
        )
        .await;
    let tools = reply.json()["result"]["tools"].clone();
    let find = |name: &str| -> Value {
        tools
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == name))
            .unwrap_or_else(|| panic!("{name} listed"))
            .clone()
    };
    for (name, required_in, required_out) in [
        (
            "binance_klines",
            json!(["symbol"]),
            json!([
                "symbol",
                "interval",
                "market",
                "price",
                "series",
                "summary",
                "count",
                "gaps",
                "missing_candles",
                "columns",
                "candles",
                "last_candle_closed",
                "data_age_ms",
                "cached"
            ]),
        ),
        (
            "binance_ticker",
            json!(null),
            json!(["window", "tickers", "data_age_ms", "cached"]),
        ),
        (
            "binance_order_book",
            json!(["symbol"]),
            json!([
                "symbol",
                "last_update_id",
                "best_bid",
                "best_ask",
                "spread",
                "spread_bps",
                "mid_price",
                "depth",
                "levels_fetched",
                "bids",
                "asks",
                "data_age_ms",
                "cached"
            ]),
        ),
        (
            "binance_trades",
            json!(["symbol"]),
            json!([
                "symbol",
                "kind",
                "summary",
                "trades",
                "data_age_ms",
                "cached"
            ]),
        ),
        (
            "binance_symbols",
            json!(null),
            json!([
                "total_matches",
                "truncated",
                "symbols",
                "data_age_ms",
                "cached"
            ]),
        ),
        (
            "binance_futures",
            json!(["symbol"]),
            json!([
                "symbol",
                "mark_price",
                "index_price",
                "premium_percent",
                "funding_rate",
                "funding_rate_percent",
                "next_funding_time",
                "interest_rate",
                "open_interest",
                "open_interest_value",
                "open_interest_time",
                "funding_history",
                "open_interest_period",
                "open_interest_history",
                "data_age_ms",
                "cached"
            ]),
        ),
        (
            "binance_positioning",
            json!(["symbol"]),
            json!([
                "symbol",
                "period",
                "summary",
                "count",
                "columns",
                "rows",
                "last_candle_closed",
                "data_age_ms",
                "cached"
            ]),
        ),
        ("search", json!(["query"]), json!(["results"])),
        (
            "fetch",
            json!(["id"]),
            json!(["id", "title", "text", "url", "metadata"]),
        ),
    ] {
        let tool = find(name);
        assert!(tool["title"].is_string(), "{name}");
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 150),
            "{name}"
        );
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
        assert_eq!(
            tool["inputSchema"]
                .get("required")
                .cloned()
                .unwrap_or(Value::Null),
            required_in,
            "{name}"
        );
        assert_eq!(tool["outputSchema"]["type"], "object", "{name}");
        let mut required: Vec<Value> = tool["outputSchema"]["required"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut expected = required_out.as_array().cloned().unwrap_or_default();
        let sort =
            |v: &mut Vec<Value>| v.sort_by_key(|x| x.as_str().unwrap_or_default().to_owned());
        sort(&mut required);
        sort(&mut expected);
        assert_eq!(required, expected, "{name}");
        assert_eq!(
            tool["annotations"],
            json!({ "title": tool["title"], "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": true }),
            "{name}"
        );
    }
    // Decimals are advertised as strings, as they are written.
    let klines = find("binance_klines");
    let candle = &klines["outputSchema"]["$defs"]["Candle"];
    assert_eq!(candle["type"], "array", "{klines}");
    let items = candle["prefixItems"].as_array().expect("typed columns");
    assert_eq!(items.len(), 11);
    assert_eq!(items[0]["type"], "integer");
    assert_eq!(items[1]["type"], "string");
    let interval = &klines["inputSchema"]["properties"]["interval"];
    assert_eq!(interval["enum"].as_array().map(Vec::len), Some(16));
    assert_eq!(interval["default"], "1h");
    assert_eq!(
        klines["inputSchema"]["properties"]["limit"]["maximum"],
        1000
    );
    let market = &klines["inputSchema"]["properties"]["market"];
    assert_eq!(market["enum"], json!(["spot", "usdm"]));
    let price = &klines["inputSchema"]["properties"]["price"];
    assert_eq!(price["enum"], json!(["trade", "mark", "index", "premium"]));
    let positioning = find("binance_positioning");
    let row = &positioning["outputSchema"]["$defs"]["PositioningRow"];
    assert_eq!(row["prefixItems"][0]["type"], "integer", "{positioning}");
    assert_eq!(row["minItems"], 20);
}
