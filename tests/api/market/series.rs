//! `binance_klines` beyond spot trades and one page: the four USD-M series
//! equal the fake's, each result says which series it is, and `next_page`
//! walks a range page by page, in both directions, to its end.

use serde_json::{Value, json};

use super::{LAST_OPEN, dec, error_text, ok};
use crate::fake_binance::data::{Candle, MARKETS, futures_series};
use crate::helpers::{TestApp, spawn_app};

/// The candles of a result as the fake's `Candle`s, for exact comparison.
fn candles_of(out: &Value) -> Vec<(i64, [rust_decimal::Decimal; 5], u64)> {
    out["candles"]
        .as_array()
        .expect("candles")
        .iter()
        .map(|row| {
            (
                row[0].as_i64().expect("open time"),
                [1, 2, 3, 4, 5].map(|i| dec(&row[i])),
                row[8].as_u64().expect("trades"),
            )
        })
        .collect()
}

fn expected(candles: &[Candle]) -> Vec<(i64, [rust_decimal::Decimal; 5], u64)> {
    candles
        .iter()
        .map(|c| {
            (
                c.open_time,
                [c.open, c.high, c.low, c.close, c.volume],
                c.trades,
            )
        })
        .collect()
}

#[tokio::test]
async fn every_usdm_series_is_served_and_named() {
    let app = spawn_app().await;
    let spot = app.binance.candles("BTCUSDT", "4h");
    for (price, path, series) in [
        ("trade", "/fapi/v1/klines", "USD-M perpetual trade prices"),
        ("mark", "/fapi/v1/markPriceKlines", "USD-M mark prices"),
        ("index", "/fapi/v1/indexPriceKlines", "USD-M index prices"),
        (
            "premium",
            "/fapi/v1/premiumIndexKlines",
            "USD-M premium index ((perpetual - index) / index)",
        ),
    ] {
        let result = app
            .call_tool(
                "binance_klines",
                json!({ "symbol": "BTCUSDT", "interval": "4h", "limit": 6, "market": "usdm", "price": price }),
            )
            .await;
        let out = ok(&result);
        assert_eq!(
            (&out["market"], &out["price"], &out["series"]),
            (&json!("usdm"), &json!(price), &json!(series))
        );
        let want = futures_series(&spot[spot.len() - 6..], &MARKETS[0], price);
        assert_eq!(candles_of(out), expected(&want), "{price}");
        assert_eq!(app.binance.calls(path), 1, "{path}");
    }
    assert_eq!(app.binance.calls("/api/v3/klines"), 0, "no spot call");
    let spot_out = app
        .call_tool("binance_klines", json!({ "symbol": "BTCUSDT", "limit": 1 }))
        .await;
    let spot_out = ok(&spot_out);
    assert_eq!(
        (&spot_out["market"], &spot_out["price"]),
        (&json!("spot"), &json!("trade"))
    );
}

#[tokio::test]
async fn series_arguments_are_checked_before_any_call() {
    let app = spawn_app().await;
    for (arguments, needle) in [
        (
            json!({ "symbol": "BTCUSDT", "price": "mark" }),
            "exists only for USD-M perpetuals",
        ),
        (
            json!({ "symbol": "BTCUSDT", "market": "usdm", "interval": "1s" }),
            "\"1s\" is not a valid interval",
        ),
        (
            json!({ "symbol": "BTCUSDT", "market": "usdm", "timeZone": "8" }),
            "spot candles only",
        ),
        (
            json!({ "symbol": "BTCUSDT", "market": "futures" }),
            "\"futures\" is not a market: use spot or usdm",
        ),
        (
            json!({ "symbol": "BTCUSDT", "market": "usdm", "price": "last" }),
            "trade, mark, index or premium",
        ),
    ] {
        let text = error_text(&app.call_tool("binance_klines", arguments.clone()).await);
        assert!(text.contains(needle), "{arguments}: {text}");
    }
    assert_eq!(app.binance.total_calls(), 0);
}

/// Follows `next_page` from `arguments` to the end; returns every page's
/// open times.
async fn walk(app: &TestApp, mut arguments: Value) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    loop {
        let result = app.call_tool("binance_klines", arguments.clone()).await;
        let out = ok(&result).clone();
        pages.push(candles_of(&out).into_iter().map(|c| c.0).collect());
        match out.get("next_page") {
            Some(next) => arguments = next.clone(),
            None => return pages,
        }
        assert!(pages.len() < 20, "the walk ends");
    }
}

#[tokio::test]
async fn next_page_walks_back_through_history_to_the_first_candle() {
    let app = spawn_app().await;
    let pages = walk(
        &app,
        json!({ "symbol": "BTCUSDT", "interval": "2h", "limit": 100 }),
    )
    .await;
    let all = app.binance.candles("BTCUSDT", "2h");
    assert_eq!(all.len(), 372);
    // 100, 100, 100, 72: the last page is short, so no next page.
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [100, 100, 100, 72]
    );
    let mut seen: Vec<i64> = pages.into_iter().rev().flatten().collect();
    let want: Vec<i64> = all.iter().map(|c| c.open_time).collect();
    assert_eq!(seen, want, "every candle once, none skipped");
    seen.dedup();
    assert_eq!(seen.len(), 372);
}

#[tokio::test]
async fn next_page_walks_forward_from_a_start_and_keeps_the_arguments() {
    let app = spawn_app().await;
    let first = app.binance.candles("ETHUSDT", "1h")[0].open_time;
    let start = json!({
        "symbol": "ETHUSDT", "interval": "1h", "limit": 300,
        "startTime": first, "endTime": LAST_OPEN, "market": "usdm", "price": "mark"
    });
    let result = app.call_tool("binance_klines", start.clone()).await;
    let out = ok(&result);
    let next = &out["next_page"];
    assert_eq!(
        next,
        &json!({
            "symbol": "ETHUSDT", "interval": "1h", "market": "usdm", "price": "mark",
            "limit": 300, "startTime": first + 300 * 3_600_000, "endTime": LAST_OPEN
        }),
        "the exact arguments of the next call"
    );
    let pages = walk(&app, start).await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [300, 300, 144]
    );
    assert_eq!(pages[2].last(), Some(&LAST_OPEN));
}
