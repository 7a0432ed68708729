//! `search` and `fetch` in ChatGPT's exact shapes, and the round trip from
//! every search result to a snapshot.

use serde_json::{Value, json};

use super::{error_text, ok};
use crate::helpers::spawn_app;

fn ids(out: &Value) -> Vec<String> {
    out["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_returns_chatgpts_shape() {
    let app = spawn_app().await;
    let result = app.call_tool("search", json!({ "query": "bitcoin" })).await;
    // Exactly one text item holding {"results":[{id,title,url}]}.
    let out = ok(&result);
    assert_eq!(out.as_object().unwrap().len(), 1, "only `results`");
    assert_eq!(
        out["results"][0],
        json!({
            "id": "spot:BTCUSDT",
            "title": "Bitcoin (BTC) / Tether (USDT) spot market (BTCUSDT) on Binance",
            "url": "https://www.binance.com/en/trade/BTC_USDT?type=spot"
        })
    );
    assert_eq!(
        out["results"][1],
        json!({
            "id": "perp:BTCUSDT",
            "title": "Bitcoin (BTC) / Tether (USDT) USD-M perpetual futures (BTCUSDT) on Binance",
            "url": "https://www.binance.com/en/futures/BTCUSDT"
        })
    );
    // Markets of BTC first, then those quoted in BTC.
    assert_eq!(
        ids(out),
        [
            "spot:BTCUSDT",
            "perp:BTCUSDT",
            "spot:BTCUSDC",
            "spot:ETHBTC"
        ]
    );
}

#[tokio::test]
async fn queries_use_names_pairs_symbols_and_market_words() {
    let app = spawn_app().await;
    for (query, expected) in [
        ("ether usdt", vec!["spot:ETHUSDT", "perp:ETHUSDT"]),
        (
            "Ethereum",
            vec!["spot:ETHUSDT", "perp:ETHUSDT", "spot:ETHBTC"],
        ),
        ("sol perp", vec!["perp:SOLUSDT"]),
        ("solana spot", vec!["spot:SOLUSDT"]),
        ("BTC/USDT", vec!["spot:BTCUSDT", "perp:BTCUSDT"]),
        ("ethbtc", vec!["spot:ETHBTC"]),
        ("eth btc", vec!["spot:ETHBTC"]),
        ("ripple price", vec!["spot:XRPUSDT", "perp:XRPUSDT"]),
        ("doge perpetual", vec!["perp:DOGEUSDT"]),
        ("cardano", vec!["spot:ADAUSDT", "perp:ADAUSDT"]),
        ("unobtainium", vec![]),
    ] {
        let result = app.call_tool("search", json!({ "query": query })).await;
        assert_eq!(ids(ok(&result)), expected, "{query}");
    }
    let text = error_text(
        &app.call_tool("search", json!({ "query": "the price" }))
            .await,
    );
    assert!(text.contains("names no coin"), "{text}");
}

#[tokio::test]
async fn every_search_result_fetches_as_a_snapshot() {
    let app = spawn_app().await;
    let search = app.call_tool("search", json!({ "query": "bitcoin" })).await;
    let results = ok(&search)["results"].as_array().unwrap().clone();
    assert!(!results.is_empty());
    for hit in &results {
        let result = app.call_tool("fetch", json!({ "id": hit["id"] })).await;
        let doc = ok(&result);
        let mut keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["id", "metadata", "text", "title", "url"], "{doc}");
        assert_eq!(doc["id"], hit["id"]);
        assert_eq!(doc["title"], hit["title"]);
        assert_eq!(doc["url"], hit["url"]);
        assert!(
            doc["url"]
                .as_str()
                .unwrap()
                .starts_with("https://www.binance.com/en/")
        );
        assert!(doc["text"].as_str().unwrap().len() > 200, "{doc}");
    }
}

#[tokio::test]
async fn spot_snapshot_reads_well_and_carries_futures_context() {
    let app = spawn_app().await;
    let result = app
        .call_tool("fetch", json!({ "id": "spot:BTCUSDT" }))
        .await;
    let doc = ok(&result);
    let text = doc["text"].as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Bitcoin (BTC) / Tether (USDT) spot market (BTCUSDT) on Binance, snapshot as of 2025-01-31T23:59:59Z."
    );
    assert_eq!(lines[1], "Last price: 102429.56000000");
    assert!(lines[2].starts_with("24h: change "), "{text}");
    assert!(
        lines[3].starts_with(
            "Recent candles: BTCUSDT 1h, 24 candles 2025-01-31T00:00:00Z → 2025-01-31T23:59:59Z"
        ),
        "{text}"
    );
    assert!(lines[4].starts_with("Order book: best bid 102429.55000000 (0.01000000), best ask 102429.56000000 (0.01000000), spread 0.01000000 (0.001 bps), mid 102429.555"), "{text}");
    assert!(
        text.contains("Perpetual (USD-M): mark 102429.56000000"),
        "{text}"
    );
    assert!(text.contains("Open interest: "), "{text}");
    assert!(text.contains("Recent funding: "), "{text}");
    assert!(lines.last().unwrap().starts_with("Source: Binance"));
    let metadata = &doc["metadata"];
    assert_eq!(metadata["market"], "spot");
    assert_eq!(metadata["symbol"], "BTCUSDT");
    assert_eq!(metadata["base_asset"], "BTC");
    assert_eq!(metadata["quote_asset"], "USDT");
    assert_eq!(metadata["last_price"], "102429.56000000");
    assert_eq!(metadata["mark_price"], "102429.56000000");
    assert_eq!(metadata["as_of"], "2025-01-31T23:59:59Z");
    assert!(metadata["price_change_percent_24h"].is_string());
}

#[tokio::test]
async fn perp_and_spot_only_snapshots() {
    let app = spawn_app().await;
    let result = app
        .call_tool("fetch", json!({ "id": "perp:ETHUSDT" }))
        .await;
    let doc = ok(&result);
    let text = doc["text"].as_str().unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("Perpetual (USD-M): mark "),
        "{text}"
    );
    assert!(
        text.contains("Last price: "),
        "spot context follows: {text}"
    );
    assert_eq!(doc["url"], "https://www.binance.com/en/futures/ETHUSDT");
    assert_eq!(doc["metadata"]["market"], "perp");

    let result = app.call_tool("fetch", json!({ "id": "spot:ETHBTC" })).await;
    let doc = ok(&result);
    let text = doc["text"].as_str().unwrap();
    assert!(
        !text.contains("Perpetual"),
        "ETHBTC has no perpetual: {text}"
    );
    assert!(doc["metadata"].get("mark_price").is_none());
    assert_eq!(
        doc["url"],
        "https://www.binance.com/en/trade/ETH_BTC?type=spot"
    );
    // A bare symbol means spot.
    let result = app.call_tool("fetch", json!({ "id": "ETHBTC" })).await;
    assert_eq!(ok(&result)["id"], "spot:ETHBTC");
}

#[tokio::test]
async fn unfetchable_ids_say_where_ids_come_from_or_which_id_works() {
    let app = spawn_app().await;
    let text = error_text(
        &app.call_tool("fetch", json!({ "id": "perp:BTCUSDC" }))
            .await,
    );
    assert_eq!(
        text,
        "\"perp:BTCUSDC\" is not a trading Binance market, but spot:BTCUSDC is: fetch that id."
    );
    for id in ["spot:NOPEUSDT", "spot:BNBBTC", "stock:AAPL", "spot:"] {
        let text = error_text(&app.call_tool("fetch", json!({ "id": id })).await);
        assert!(text.contains("search"), "{id}: {text}");
    }
}

#[tokio::test]
async fn the_round_trip_works_in_the_stateless_era_too() {
    use crate::helpers::{stateless_headers, stateless_meta};
    let app = spawn_app().await;
    let call = |name: &str, arguments: Value| {
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": { "name": name, "arguments": arguments, "_meta": stateless_meta() } })
    };
    let reply = app
        .post(
            &call("search", json!({ "query": "eth perp" })),
            &stateless_headers("tools/call", Some("search")),
        )
        .await;
    let result = reply.json()["result"].clone();
    assert_eq!(result["resultType"], "complete");
    assert_eq!(ids(ok(&result)), ["perp:ETHUSDT"]);
    let reply = app
        .post(
            &call("fetch", json!({ "id": "perp:ETHUSDT" })),
            &stateless_headers("tools/call", Some("fetch")),
        )
        .await;
    let result = reply.json()["result"].clone();
    assert_eq!(result["resultType"], "complete");
    assert_eq!(
        ok(&result)["url"],
        "https://www.binance.com/en/futures/ETHUSDT"
    );
}
