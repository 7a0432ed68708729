//! `binance_klines`: every field, the summary, ranges and argument errors.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{HOUR_MS, LAST_OPEN, dec, error_text, ok, rounded};
use crate::fake_binance::data::fmt8;
use crate::helpers::{Options, spawn_app, spawn_app_with};

/// The candles of a result as objects, named by its `columns`.
fn candles(out: &Value) -> Vec<Value> {
    let columns = out["columns"].as_array().expect("columns");
    out["candles"]
        .as_array()
        .expect("candles")
        .iter()
        .map(|row| {
            let row = row.as_array().expect("a candle is a row");
            assert_eq!(row.len(), columns.len());
            let named = columns
                .iter()
                .zip(row)
                .map(|(name, value)| (name.as_str().unwrap().to_owned(), value.clone()));
            Value::Object(named.collect())
        })
        .collect()
}

#[tokio::test]
async fn defaults_give_the_last_100_hourly_candles_with_every_field() {
    let app = spawn_app().await;
    let result = app
        .call_tool("binance_klines", json!({ "symbol": "BTCUSDT" }))
        .await;
    let out = ok(&result);
    assert_eq!(out["symbol"], "BTCUSDT");
    assert_eq!(out["interval"], "1h");
    assert_eq!(out["count"], 100);
    assert_eq!(
        out["columns"],
        json!([
            "open_time",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "close_time",
            "quote_volume",
            "trades",
            "taker_buy_base_volume",
            "taker_buy_quote_volume"
        ])
    );
    assert_eq!(
        out["candles"][99],
        json!([
            LAST_OPEN,
            "102261.29000000",
            "102439.31000000",
            "101955.00000000",
            "102429.56000000",
            "587.31239000",
            LAST_OPEN + 3_599_999,
            "60065195.75828310",
            5973,
            "317.14869060",
            "32435205.70947287"
        ])
    );
    let candles = candles(out);
    assert_eq!(candles.len(), 100);
    assert_eq!(candles[0]["open_time"], LAST_OPEN - 99 * HOUR_MS);
    assert_eq!(
        candles[99],
        json!({
            "open_time": LAST_OPEN, "open": "102261.29000000", "high": "102439.31000000",
            "low": "101955.00000000", "close": "102429.56000000", "volume": "587.31239000",
            "close_time": LAST_OPEN + 3_599_999, "quote_volume": "60065195.75828310",
            "trades": 5973, "taker_buy_base_volume": "317.14869060",
            "taker_buy_quote_volume": "32435205.70947287"
        })
    );
    // Every candle is the fixture's, digit for digit.
    let fixture = app.binance.btcusdt_1h();
    for (served, expected) in candles.iter().zip(&fixture[fixture.len() - 100..]) {
        assert_eq!(
            served,
            &json!({
                "open_time": expected.open_time, "open": fmt8(expected.open), "high": fmt8(expected.high),
                "low": fmt8(expected.low), "close": fmt8(expected.close), "volume": fmt8(expected.volume),
                "close_time": expected.close_time, "quote_volume": fmt8(expected.quote_volume),
                "trades": expected.trades, "taker_buy_base_volume": fmt8(expected.taker_base),
                "taker_buy_quote_volume": fmt8(expected.taker_quote)
            })
        );
    }

    let window = &fixture[fixture.len() - 100..];
    let open = window[0].open;
    let close = window[99].close;
    let high = window.iter().max_by_key(|c| c.high).unwrap();
    let low = window.iter().min_by_key(|c| c.low).unwrap();
    let change_percent = rounded((close - open) / open * Decimal::ONE_HUNDRED, 2);
    let stats = &out["stats"];
    assert_eq!(dec(&stats["open"]), open);
    assert_eq!(stats["close"], "102429.56000000");
    assert_eq!(dec(&stats["change"]), close - open);
    assert_eq!(dec(&stats["change_percent"]), change_percent);
    assert_eq!(dec(&stats["high"]), high.high);
    assert_eq!(stats["high_time"], high.open_time);
    assert_eq!(dec(&stats["low"]), low.low);
    assert_eq!(stats["low_time"], low.open_time);
    let volume: Decimal = window.iter().map(|c| c.volume).sum();
    assert_eq!(dec(&stats["volume"]), volume);
    assert_eq!(out["gaps"], json!([]));
    assert_eq!(out["missing_candles"], 0);
    let summary = out["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(
            "BTCUSDT 1h, 100 candles 2025-01-27T20:00:00Z → 2025-01-31T23:59:59Z: open "
        ),
        "{summary}"
    );
    let sign = if change_percent.is_sign_negative() {
        ""
    } else {
        "+"
    };
    assert!(
        summary.contains(&format!("({sign}{change_percent}%)")),
        "{summary}"
    );
    assert!(summary.ends_with("; no gaps."), "{summary}");
    assert_eq!(out["cached"], false);
    assert!(out["data_age_ms"].is_u64());

    // The same call again is served from the cache.
    let again = app
        .call_tool(
            "binance_klines",
            json!({ "symbol": "btc-usdt", "interval": "1h", "limit": 100 }),
        )
        .await;
    assert_eq!(ok(&again)["cached"], true);
    assert_eq!(ok(&again)["candles"], out["candles"]);
    assert_eq!(app.binance.calls("/api/v3/klines"), 1);
}

#[tokio::test]
async fn times_accept_iso_8601_and_milliseconds() {
    let app = spawn_app().await;
    let first_hour = 1_735_689_600_000_i64; // 2025-01-01T00:00:00Z
    for start in [
        json!("2025-01-01T00:00:00Z"),
        json!("2025-01-01"),
        json!(first_hour),
        json!("2025-01-01T08:00+08:00"),
    ] {
        let result = app
            .call_tool(
                "binance_klines",
                json!({ "symbol": "BTCUSDT", "startTime": start, "limit": 3 }),
            )
            .await;
        let out = ok(&result);
        assert_eq!(out["count"], 3, "{start}");
        let candles = candles(out);
        assert_eq!(candles[0]["open_time"], first_hour);
        assert_eq!(candles[0]["open"], "93576.00000000");
        assert_eq!(candles[2]["open_time"], first_hour + 2 * HOUR_MS);
    }
    let result = app
        .call_tool(
            "binance_klines",
            json!({ "symbol": "BTCUSDT", "endTime": "2025-01-01T05:00:00Z", "limit": 1000 }),
        )
        .await;
    let out = ok(&result);
    assert_eq!(out["count"], 6, "the range ends at 05:00, inclusive");
    assert_eq!(candles(out)[5]["open_time"], first_hour + 5 * HOUR_MS);
}

#[tokio::test]
async fn every_interval_is_accepted_and_daily_candles_aggregate() {
    let app = spawn_app().await;
    for interval in [
        "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d",
        "1w", "1M",
    ] {
        let result = app
            .call_tool(
                "binance_klines",
                json!({ "symbol": "ETHUSDT", "interval": interval, "limit": 2 }),
            )
            .await;
        let out = ok(&result);
        assert_eq!(out["interval"], interval);
        let summary = out["summary"].as_str().unwrap();
        if out["count"] == 0 {
            assert!(summary.contains("no candles"), "{summary}");
            assert!(out.get("stats").is_none());
        }
    }
    let result = app
        .call_tool(
            "binance_klines",
            json!({ "symbol": "BTCUSDT", "interval": "1d", "limit": 1 }),
        )
        .await;
    let out = ok(&result);
    let fixture = app.binance.btcusdt_1h();
    let day = &fixture[fixture.len() - 24..];
    let candle = &candles(out)[0];
    assert_eq!(candle["open_time"], day[0].open_time);
    assert_eq!(dec(&candle["open"]), day[0].open);
    assert_eq!(dec(&candle["close"]), day[23].close);
    assert_eq!(
        dec(&candle["high"]),
        day.iter().map(|c| c.high).max().unwrap()
    );
    assert_eq!(candle["trades"], day.iter().map(|c| c.trades).sum::<u64>());
}

#[tokio::test]
async fn bad_arguments_name_the_field_and_make_no_upstream_call() {
    let app = spawn_app().await;
    for (arguments, needles) in [
        (json!({}), vec!["`symbol` is required"]),
        (
            json!({ "symbol": "BTC$USDT" }),
            vec!["`symbol`", "letters or digits"],
        ),
        (
            json!({ "symbol": "BTCUSDT", "interval": "1H" }),
            vec!["`interval`", "1m is one minute"],
        ),
        (
            json!({ "symbol": "BTCUSDT", "limit": 0 }),
            vec!["`limit`", "1 to 1000"],
        ),
        (
            json!({ "symbol": "BTCUSDT", "limit": 1001 }),
            vec!["`limit`", "1 to 1000"],
        ),
        (
            json!({ "symbol": "BTCUSDT", "startTime": 1_735_689_600 }),
            vec!["`startTime`", "seconds"],
        ),
        (
            json!({ "symbol": "BTCUSDT", "endTime": "yesterday" }),
            vec!["`endTime`", "ISO-8601"],
        ),
        (
            json!({ "symbol": "BTCUSDT", "timeZone": "+15:00" }),
            vec!["`timeZone`", "[-12:00, +14:00]"],
        ),
        (
            json!({ "symbol": "BTCUSDT", "range": "1d" }),
            vec!["`range` is not an argument of this tool"],
        ),
    ] {
        let text = error_text(&app.call_tool("binance_klines", arguments.clone()).await);
        for needle in needles {
            assert!(text.contains(needle), "{arguments}: {text}");
        }
    }
    let text = error_text(
        &app.call_tool(
            "binance_klines",
            json!({ "symbol": "BTCUSDT", "startTime": "2025-01-02", "endTime": "2025-01-01" }),
        )
        .await,
    );
    assert!(
        text.contains("is after `endTime` 2025-01-01T00:00:00Z [1735689600000]"),
        "{text}"
    );
    assert_eq!(app.binance.total_calls(), 0);
}

#[tokio::test]
async fn an_unknown_symbol_gets_suggestions() {
    let app = spawn_app().await;
    let text = error_text(
        &app.call_tool("binance_klines", json!({ "symbol": "BTCUSD" }))
            .await,
    );
    assert!(
        text.contains("\"BTCUSD\" is not a Binance symbol"),
        "{text}"
    );
    assert!(text.contains("BTCUSDC, BTCUSDT"), "{text}");
}

/// Binance skips candles while a market is halted; the fake never does, so
/// this test serves a series with a hole from its own tiny upstream.
#[tokio::test]
async fn gaps_in_the_series_are_reported() {
    use axum::routing::get;
    use serde_json::Value;

    let fixture = crate::fake_binance::FakeBinance::start().await.btcusdt_1h();
    // Six hours with the third and fourth missing.
    let rows: Vec<Value> = [0, 1, 4, 5].iter().map(|&i| fixture[i].to_json()).collect();
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_url = format!("http://{}", upstream.local_addr().unwrap());
    let body = Value::Array(rows);
    tokio::spawn(async move {
        let router = axum::Router::new().route(
            "/api/v3/klines",
            get(move || {
                let body = body.clone();
                async move { axum::Json(body) }
            }),
        );
        axum::serve(upstream, router).await.unwrap();
    });
    let app = spawn_app_with(Options::new().binance_url(&upstream_url)).await;
    let result = app
        .call_tool("binance_klines", json!({ "symbol": "BTCUSDT", "limit": 6 }))
        .await;
    let out = ok(&result);
    let first = fixture[0].open_time;
    assert_eq!(out["count"], 4);
    assert_eq!(
        out["gaps"],
        json!([{ "from_open_time": first + 2 * HOUR_MS, "resumes_at": first + 4 * HOUR_MS, "missing_candles": 2 }])
    );
    assert_eq!(out["missing_candles"], 2);
    let summary = out["summary"].as_str().unwrap();
    assert!(
        summary.ends_with("1 gap(s), 2 candle(s) missing, first at 2025-01-01T02:00:00Z."),
        "{summary}"
    );
}
