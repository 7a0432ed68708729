//! The market prompts and `completion/complete` for their arguments and the
//! klines template's.

use serde_json::{Value, json};

use super::rpc;
use crate::helpers::spawn_app;

fn values(response: &Value) -> Vec<&str> {
    response["result"]["completion"]["values"]
        .as_array()
        .unwrap_or_else(|| panic!("no values: {response}"))
        .iter()
        .map(|v| v.as_str().expect("string"))
        .collect()
}

fn prompt_text(response: &Value) -> &str {
    let message = &response["result"]["messages"][0];
    assert_eq!(message["role"], "user", "{response}");
    message["content"]["text"].as_str().expect("text message")
}

#[tokio::test]
async fn prompts_are_listed_with_their_arguments() {
    let app = spawn_app().await;
    let list = rpc(&app, "prompts/list", json!({})).await;
    let prompts = list["result"]["prompts"].as_array().expect("prompts");
    let find = |name: &str| {
        prompts
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {list}"))
            .clone()
    };
    let analyze = find("analyze_market");
    assert_eq!(
        analyze["arguments"],
        json!([
            { "name": "symbol", "description": "Trading pair, e.g. BTCUSDT.", "required": true },
            { "name": "interval", "description": "Candle interval such as 15m, 1h, 4h or 1d (default 1h).", "required": false }
        ])
    );
    assert_eq!(find("compare_markets")["arguments"][0]["name"], "symbols");
}

#[tokio::test]
async fn analyze_market_walks_through_the_tools_in_order() {
    let app = spawn_app().await;
    let response = rpc(
        &app,
        "prompts/get",
        json!({ "name": "analyze_market", "arguments": { "symbol": "eth-usdt", "interval": "4h" } }),
    )
    .await;
    let text = prompt_text(&response);
    assert!(text.contains("ETHUSDT on the 4h timeframe"), "{text}");
    let order: Vec<usize> = [
        "binance_ticker",
        "technical_analysis",
        "binance_chart",
        "binance_order_book",
        "binance_futures",
        "calculate",
    ]
    .iter()
    .map(|tool| {
        text.find(tool)
            .unwrap_or_else(|| panic!("{tool} missing: {text}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "order {order:?}");
    for duty in ["data_age_ms", "Cite every number", "no financial advice"] {
        assert!(text.contains(duty), "{duty}: {text}");
    }

    // An invalid interval falls back to 1h and says so.
    let fallback = rpc(
        &app,
        "prompts/get",
        json!({ "name": "analyze_market", "arguments": { "symbol": "BTCUSDT", "interval": "2m" } }),
    )
    .await;
    let text = prompt_text(&fallback);
    assert!(
        text.starts_with("\"2m\" is not a Binance interval, so 1h is used."),
        "{text}"
    );

    // The required symbol is enforced by the server.
    let missing = rpc(
        &app,
        "prompts/get",
        json!({ "name": "analyze_market", "arguments": {} }),
    )
    .await;
    assert_eq!(missing["error"]["code"], -32602, "{missing}");
}

#[tokio::test]
async fn compare_markets_normalises_and_bounds_the_list() {
    let app = spawn_app().await;
    let response = rpc(
        &app,
        "prompts/get",
        json!({ "name": "compare_markets", "arguments": { "symbols": "btcusdt, ETH/USDT,btcusdt,S$L" } }),
    )
    .await;
    let text = prompt_text(&response);
    assert!(
        text.contains("Compare the Binance markets BTCUSDT, ETHUSDT on the 1h"),
        "{text}"
    );
    assert!(
        text.contains("not Binance symbols and were left out: S$L"),
        "{text}"
    );

    let many = rpc(
        &app,
        "prompts/get",
        json!({ "name": "compare_markets", "arguments": { "symbols": "A1,B1,C1,D1,E1,F1" } }),
    )
    .await;
    assert!(
        prompt_text(&many).contains("Only the first 5 symbols are compared; F1 were left out.")
    );
}

#[tokio::test]
async fn symbols_complete_from_exchange_info_usdt_first() {
    let app = spawn_app().await;
    let complete = |reference: Value, name: &str, value: &str| {
        rpc(
            &app,
            "completion/complete",
            json!({ "ref": reference, "argument": { "name": name, "value": value } }),
        )
    };
    let prompt = json!({ "type": "ref/prompt", "name": "analyze_market" });
    assert_eq!(
        values(&complete(prompt.clone(), "symbol", "bt").await),
        ["BTCUSDT", "BTCUSDC"]
    );
    // USDT and USDC quotes rank before BTC quotes; BNBBTC is not TRADING.
    let all = complete(prompt.clone(), "symbol", "").await;
    assert_eq!(
        values(&all),
        [
            "ADAUSDT", "BNBUSDT", "BTCUSDT", "DOGEUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT",
            "BTCUSDC", "ETHBTC"
        ]
    );
    assert_eq!(all["result"]["completion"]["total"], 9);
    assert_eq!(all["result"]["completion"]["hasMore"], false);
    assert_eq!(
        values(&complete(prompt.clone(), "interval", "1").await),
        ["1s", "1m", "15m", "1h", "12h", "1d", "1w", "1M"]
    );

    let compare = json!({ "type": "ref/prompt", "name": "compare_markets" });
    assert_eq!(
        values(&complete(compare, "symbols", "BTCUSDT,so").await),
        ["BTCUSDT,SOLUSDT"]
    );

    let template = json!({ "type": "ref/resource", "uri": "binance://klines/{symbol}/{interval}" });
    assert_eq!(
        values(&complete(template.clone(), "symbol", "eth").await),
        ["ETHUSDT", "ETHBTC"]
    );
    assert_eq!(values(&complete(template, "interval", "4").await), ["4h"]);
}
