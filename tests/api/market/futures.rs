//! `binance_futures`: mark/index, funding now and before, open interest
//! now and before.

use rust_decimal::Decimal;
use serde_json::json;

use super::{HOUR_MS, dec, error_text, ok, rounded};
use crate::fake_binance::data::{MARKETS, fmt8};
use crate::fake_binance::futures::{funding_history, open_interest_at};
use crate::helpers::spawn_app;

#[tokio::test]
async fn perpetual_context_matches_the_fixture() {
    let app = spawn_app().await;
    let result = app
        .call_tool("binance_futures", json!({ "symbol": "BTCUSDT" }))
        .await;
    let out = ok(&result);
    let candles = app.binance.btcusdt_1h();
    let mark: Decimal = "102429.56".parse().unwrap();
    let index = (mark * Decimal::new(9999, 4)).round_dp(2);
    assert_eq!(out["mark_price"], "102429.56000000");
    assert_eq!(dec(&out["index_price"]), index);
    assert_eq!(
        dec(&out["premium_percent"]),
        rounded((mark - index) / index * Decimal::ONE_HUNDRED, 4)
    );
    let history = funding_history(&candles);
    let (_, rate, _) = history[history.len() - 1];
    assert_eq!(dec(&out["funding_rate"]), rate);
    assert_eq!(
        dec(&out["funding_rate_percent"]),
        rounded(rate * Decimal::ONE_HUNDRED, 6)
    );
    assert_eq!(out["next_funding_time"], 1_738_368_000_000_i64);
    let oi = open_interest_at(&MARKETS[0], candles.len() - 1);
    assert_eq!(dec(&out["open_interest"]), oi);
    assert_eq!(dec(&out["open_interest_value"]), rounded(oi * mark, 8));

    let funding = out["funding_history"].as_array().unwrap();
    assert_eq!(funding.len(), 9, "default: three days");
    for (point, (time, rate, mark)) in funding.iter().zip(&history[history.len() - 9..]) {
        assert_eq!(
            point,
            &json!({ "time": time, "rate": fmt8(*rate), "mark_price": fmt8(*mark) })
        );
    }
    assert_eq!(out["open_interest_period"], "1h");
    let points = out["open_interest_history"].as_array().unwrap();
    assert_eq!(points.len(), 24);
    let last = &points[23];
    assert_eq!(last["time"], candles[candles.len() - 1].open_time);
    assert_eq!(dec(&last["open_interest"]), oi);
    assert_eq!(dec(&last["open_interest_value"]), (oi * mark).round_dp(8));
    assert_eq!(points[0]["time"], candles[candles.len() - 24].open_time);
    for path in [
        "/fapi/v1/premiumIndex",
        "/fapi/v1/fundingRate",
        "/fapi/v1/openInterest",
        "/futures/data/openInterestHist",
    ] {
        assert_eq!(app.binance.calls(path), 1, "{path}");
    }
}

#[tokio::test]
async fn history_lengths_and_periods_are_arguments() {
    let app = spawn_app().await;
    let result = app
        .call_tool(
            "binance_futures",
            json!({ "symbol": "SOLUSDT", "fundingLimit": 2, "period": "4h", "openInterestLimit": 3 }),
        )
        .await;
    let out = ok(&result);
    assert_eq!(out["funding_history"].as_array().unwrap().len(), 2);
    let points = out["open_interest_history"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    assert_eq!(
        points[1]["time"].as_i64().unwrap() - points[0]["time"].as_i64().unwrap(),
        4 * HOUR_MS
    );
    let text = error_text(
        &app.call_tool(
            "binance_futures",
            json!({ "symbol": "BTCUSDT", "period": "8h" }),
        )
        .await,
    );
    assert!(text.contains("`period`: \"8h\" is not a period"), "{text}");
}

#[tokio::test]
async fn a_spot_only_symbol_is_explained() {
    let app = spawn_app().await;
    let text = error_text(
        &app.call_tool("binance_futures", json!({ "symbol": "BTCUSDC" }))
            .await,
    );
    assert_eq!(
        text,
        "\"BTCUSDC\" is a Binance spot market but has no USD-M perpetual. The perpetual of BTC: \
         BTCUSDT. Retry with it, or use the spot tools (binance_klines, binance_ticker) for BTCUSDC."
    );
}
