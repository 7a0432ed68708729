//! Every candle series says whether its last candle has closed, read
//! against the server's clock, and every market result's `data_age_ms`
//! and `cached` agree: fetched by this call means `cached: false` and
//! about as old as the call; older data came from the cache.

use std::sync::Arc;
use std::time::Duration;

use crypto_mcp::binance::ManualClock;
use serde_json::{Value, json};

use super::ok;
use crate::fake_binance::FAKE_NOW_MS;
use crate::helpers::{Options, TestApp, spawn_app, spawn_app_with};

/// The app with its Binance client's clock at the fake's now, 23:30 on
/// 2025-01-31: the 23:00 candle is still open.
async fn at_the_fakes_now() -> (TestApp, Arc<ManualClock>) {
    let clock = ManualClock::new(FAKE_NOW_MS);
    let app = spawn_app_with(Options::new().binance_clock(clock.clone())).await;
    (app, clock)
}

/// Each candle tool and where its `last_candle_closed` is.
fn calls() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "binance_klines",
            json!({ "symbol": "BTCUSDT", "limit": 5 }),
            "",
        ),
        (
            "binance_klines",
            json!({ "symbol": "BTCUSDT", "limit": 5, "market": "usdm", "price": "mark" }),
            "",
        ),
        (
            "technical_analysis",
            json!({ "symbol": "BTCUSDT", "limit": 60, "indicators": ["rsi:14"] }),
            "",
        ),
        // A long window, fetched in pages: the newest page decides.
        (
            "technical_analysis",
            json!({ "symbol": "BTCUSDT", "limit": 1500, "interval": "5m", "indicators": ["sma:20"] }),
            "",
        ),
        (
            "binance_positioning",
            json!({ "symbol": "BTCUSDT", "limit": 3 }),
            "",
        ),
        ("fetch", json!({ "id": "spot:BTCUSDT" }), "metadata"),
    ]
}

fn closed_flag<'a>(structured: &'a Value, at: &str) -> &'a Value {
    match at {
        "" => &structured["last_candle_closed"],
        field => &structured[field]["last_candle_closed"],
    }
}

#[tokio::test]
async fn the_last_candle_is_open_until_its_close_time_on_the_servers_clock() {
    let (app, clock) = at_the_fakes_now().await;
    for (tool, arguments, at) in calls() {
        let result = app.call_tool(tool, arguments.clone()).await;
        assert_eq!(
            closed_flag(ok(&result), at),
            &json!(false),
            "{tool} {arguments}"
        );
    }
    // The chart's summary comes after its image.
    let chart = app
        .call_tool("binance_chart", json!({ "symbol": "BTCUSDT", "limit": 50 }))
        .await;
    assert_eq!(chart["structuredContent"]["last_candle_closed"], false);
    let fetch = app
        .call_tool("fetch", json!({ "id": "spot:BTCUSDT" }))
        .await;
    assert!(
        ok(&fetch)["text"].as_str().is_some_and(
            |t| t.contains("The last candle is still open (it closes at 2025-01-31T23:59:59Z)")
        ),
        "{fetch}"
    );
    // A range that ends earlier holds closed candles only.
    let past = app
        .call_tool(
            "binance_klines",
            json!({ "symbol": "BTCUSDT", "limit": 5, "endTime": "2025-01-31T10:00Z" }),
        )
        .await;
    assert_eq!(ok(&past)["last_candle_closed"], true);

    // Past midnight every candle of the fixture has closed.
    clock.advance(Duration::from_secs(31 * 60));
    for (tool, arguments, at) in calls() {
        let result = app.call_tool(tool, arguments.clone()).await;
        assert_eq!(
            closed_flag(ok(&result), at),
            &json!(true),
            "{tool} {arguments}"
        );
    }
}

#[tokio::test]
async fn with_the_system_clock_the_fixtures_candles_have_all_closed() {
    let app = spawn_app().await;
    let result = app
        .call_tool("binance_klines", json!({ "symbol": "BTCUSDT", "limit": 2 }))
        .await;
    assert_eq!(ok(&result)["last_candle_closed"], true);
}

fn freshness(structured: &Value) -> (u64, bool) {
    (
        structured["data_age_ms"].as_u64().expect("data_age_ms"),
        structured["cached"].as_bool().expect("cached"),
    )
}

#[tokio::test]
async fn age_and_cached_agree() {
    let (app, clock) = at_the_fakes_now().await;
    let klines = json!({ "symbol": "BTCUSDT", "limit": 24 });
    let first = app.call_tool("binance_klines", klines.clone()).await;
    assert_eq!(freshness(ok(&first)), (0, false), "fetched by this call");
    clock.advance(Duration::from_millis(1_500));
    let again = app.call_tool("binance_klines", klines.clone()).await;
    assert_eq!(freshness(ok(&again)), (1_500, true), "from the cache");

    // A snapshot combining the cached candles with fresh requests is as
    // old as its oldest part, and says that part was cached.
    let fetch = app
        .call_tool("fetch", json!({ "id": "spot:BTCUSDT" }))
        .await;
    assert_eq!(freshness(&ok(&fetch)["metadata"]), (1_500, true));
    // A fresh snapshot (nothing it needs is cached any more) is neither.
    clock.advance(Duration::from_secs(60));
    let fresh = app
        .call_tool("fetch", json!({ "id": "spot:BTCUSDT" }))
        .await;
    assert_eq!(freshness(&ok(&fresh)["metadata"]), (0, false));

    let analysis = app
        .call_tool(
            "technical_analysis",
            json!({ "symbol": "BTCUSDT", "limit": 24, "indicators": ["rsi:14"] }),
        )
        .await;
    assert_eq!(
        freshness(ok(&analysis)),
        (0, true),
        "the candles fetch just read"
    );
}
