//! `binance_positioning`: every value of every row equals the fake's
//! formulas, the series are aligned on one time axis, the summary quotes
//! the latest numbers, and a request past Binance's 30 days says so.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{HOUR_MS, LAST_OPEN, dec, error_text, ok, rounded};
use crate::fake_binance::data::MARKETS;
use crate::fake_binance::futures::{basis_at, long_short_at, open_interest_at, taker_at};
use crate::helpers::spawn_app;

const PATHS: [&str; 6] = [
    "/futures/data/globalLongShortAccountRatio",
    "/futures/data/topLongShortAccountRatio",
    "/futures/data/topLongShortPositionRatio",
    "/futures/data/takerlongshortRatio",
    "/futures/data/basis",
    "/futures/data/openInterestHist",
];

fn cell(row: &Value, column: usize) -> Decimal {
    dec(&row[column])
}

#[tokio::test]
async fn every_value_matches_the_fake_exactly() {
    let app = spawn_app().await;
    let result = app
        .call_tool("binance_positioning", json!({ "symbol": "ETHUSDT" }))
        .await;
    let out = ok(&result);
    assert_eq!(out["symbol"], "ETHUSDT");
    assert_eq!(out["period"], "1h");
    assert_eq!(out["count"], 30, "the default");
    assert!(
        out.get("note").is_none(),
        "30 hours are well inside 30 days"
    );
    let columns = out["columns"].as_array().expect("columns");
    assert_eq!(columns.len(), 20);
    assert_eq!(columns[0], "time");
    assert_eq!(columns[7], "top_position_long_short_ratio");
    assert_eq!(columns[17], "basis_annualized");

    let market = &MARKETS[1];
    let hourly = app.binance.candles("ETHUSDT", "1h");
    let rows = out["rows"].as_array().expect("rows");
    for (i, row) in rows.iter().enumerate() {
        let hour = hourly.len() - 30 + i;
        assert_eq!(row[0], hourly[hour].open_time, "one row per hour");
        for (first, path) in PATHS[..3].iter().enumerate() {
            let (ratio, long, short) = long_short_at(path, hour);
            let at = 1 + 3 * first;
            assert_eq!(
                [cell(row, at), cell(row, at + 1), cell(row, at + 2)],
                [ratio, long, short],
                "{path} at row {i}"
            );
        }
        let (ratio, buy, sell) = taker_at(&hourly, hour);
        assert_eq!(
            [cell(row, 10), cell(row, 11), cell(row, 12)],
            [buy, sell, ratio]
        );
        let (futures, index, basis) = basis_at(&hourly, market, hour);
        let rate = (basis / index).round_dp(4);
        assert_eq!(
            [cell(row, 13), cell(row, 14), cell(row, 15), cell(row, 16)],
            [futures, index, basis, rate]
        );
        assert_eq!(cell(row, 17), rounded(rate * Decimal::from(1095), 6));
        let oi = open_interest_at(market, hour);
        assert_eq!(cell(row, 18), oi);
        assert_eq!(cell(row, 19), (oi * hourly[hour].close).round_dp(8));
    }
    assert_eq!(rows[29][0], LAST_OPEN);
    for path in PATHS {
        assert_eq!(app.binance.calls(path), 1, "{path}");
    }
}

#[tokio::test]
async fn the_summary_quotes_the_latest_numbers() {
    let app = spawn_app().await;
    let out = ok(&app
        .call_tool(
            "binance_positioning",
            json!({ "symbol": "BTCUSDT", "period": "4h", "limit": 12 }),
        )
        .await)
    .clone();
    assert_eq!(out["count"], 12);
    let rows = out["rows"].as_array().expect("rows");
    assert_eq!(
        rows[11][0].as_i64().unwrap() - rows[10][0].as_i64().unwrap(),
        4 * HOUR_MS
    );
    let summary = out["summary"].as_str().expect("summary");
    let latest = &rows[11];
    let first = &rows[0];
    let expected_top = format!(
        "top traders' positions {} : 1 long/short ({}% long), {} from {} : 1",
        cell(latest, 7),
        rounded(cell(latest, 8) * Decimal::ONE_HUNDRED, 2),
        if cell(latest, 7) > cell(first, 7) {
            "up"
        } else {
            "down"
        },
        cell(first, 7)
    );
    assert!(summary.contains(&expected_top), "{summary}\n{expected_top}");
    let recent = &rows[8..];
    let bought: Decimal = recent.iter().map(|r| cell(r, 10)).sum();
    let sold: Decimal = recent.iter().map(|r| cell(r, 11)).sum();
    let (side, share) = if sold > bought {
        ("sold", sold)
    } else {
        ("bought", bought)
    };
    let expected_takers = format!(
        "takers {side} {}% of volume over the last 4 period(s)",
        rounded(share / (bought + sold) * Decimal::ONE_HUNDRED, 1)
    );
    assert!(summary.contains(&expected_takers), "{summary}");
    assert!(
        summary.contains("annualised at three fundings a day"),
        "{summary}"
    );
    assert!(summary.contains("open interest"), "{summary}");
    for word in ["will", "expect", "likely", "predict"] {
        assert!(
            !summary.contains(word),
            "describes, never predicts: {summary}"
        );
    }
}

#[tokio::test]
async fn a_request_past_thirty_days_says_binance_keeps_no_more() {
    let app = spawn_app().await;
    let out = ok(&app
        .call_tool(
            "binance_positioning",
            json!({ "symbol": "SOLUSDT", "period": "1d", "limit": 500 }),
        )
        .await)
    .clone();
    assert_eq!(out["count"], 30, "the fake keeps 30 days, as Binance does");
    let note = out["note"].as_str().expect("note");
    assert!(
        note.contains("Binance keeps only the last 30 days") && note.contains("500 periods of 1d"),
        "{note}"
    );
    assert!(out["summary"].as_str().unwrap().ends_with(note));
}

#[tokio::test]
async fn bad_arguments_and_spot_only_symbols_are_explained() {
    let app = spawn_app().await;
    let text = error_text(
        &app.call_tool("binance_positioning", json!({ "symbol": "BTCUSDC" }))
            .await,
    );
    assert!(text.contains("BTCUSDT"), "suggests the perpetual: {text}");
    let text = error_text(
        &app.call_tool(
            "binance_positioning",
            json!({ "symbol": "BTCUSDT", "period": "8h" }),
        )
        .await,
    );
    assert!(text.contains("5m, 15m, 30m, 1h"), "{text}");
    let text = error_text(
        &app.call_tool(
            "binance_positioning",
            json!({ "symbol": "BTCUSDT", "limit": 501 }),
        )
        .await,
    );
    assert!(text.contains("use 1 to 500"), "{text}");
}
