//! Windows longer than one page: `technical_analysis` over the fake's last
//! 5000 BTCUSDT 5m candles equals TA-Lib over the same candles
//! (`tests/data/talib/btcusdt-5m-last5000.csv`, written by `generate.py`
//! from `btcusdt-5m-last5000-bars.csv`), the pages are fetched once and
//! shared, and gaps inside a long window are still reported.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::technical_analysis::column_for;
use crate::fake_binance::data::Candle;
use crate::helpers::spawn_app;

const WINDOW: usize = 5000;
/// Rows at the end of the window the reference file keeps.
const TAIL: usize = 50;
const BARS: &str = "tests/data/talib/btcusdt-5m-last5000-bars.csv";
const REFERENCE: &str = "tests/data/talib/btcusdt-5m-last5000.csv";
const FIVE_MINUTES: i64 = 300_000;
/// Agreement with TA-Lib, relative to the reference value...
const REL_TOL: f64 = 1e-6;
/// ...or, near 0, relative to the largest value of the line: the residue
/// of a cancelled sum (-1e-13 for TA-Lib, -9.9e-14 here) is "0" on a 0..100
/// oscillator, as in `tests/api/indicators.rs`.
const NEAR_ZERO_TOL: f64 = 1e-12;

fn agrees(got: Option<f64>, want: Option<f64>, scale: f64) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(g), Some(w)) => {
            let diff = (g - w).abs();
            diff <= REL_TOL * w.abs() || diff <= NEAR_ZERO_TOL * scale
        }
        _ => false,
    }
}

fn path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The bars as `generate.py` reads them: the decimals the fake serves,
/// without trailing zeros (the same numbers, a third fewer bytes).
fn bars_csv(candles: &[Candle]) -> String {
    let mut csv = String::from("open_time,open,high,low,close,volume\n");
    for c in candles {
        let [open, high, low, close, volume] =
            [c.open, c.high, c.low, c.close, c.volume].map(|d| d.normalize());
        csv.push_str(&format!(
            "{},{open},{high},{low},{close},{volume}\n",
            c.open_time
        ));
    }
    csv
}

fn last_window(candles: &[Candle]) -> &[Candle] {
    &candles[candles.len() - WINDOW..]
}

/// Writes the bars `generate.py` computes the references over. Ignored: it
/// writes into the repository. Run it, then the generator, when the fake's
/// candles change:
/// `cargo test --test api regenerate_the_long_window_bars -- --ignored`.
#[tokio::test]
#[ignore]
async fn regenerate_the_long_window_bars() {
    let app = spawn_app().await;
    let candles = app.binance.candles("BTCUSDT", "5m");
    std::fs::write(path(BARS), bars_csv(last_window(&candles))).expect("write the bars");
}

#[tokio::test]
async fn the_committed_bars_are_the_ones_the_fake_serves() {
    let app = spawn_app().await;
    let candles = app.binance.candles("BTCUSDT", "5m");
    assert_eq!(candles.len(), 31 * 24 * 12);
    let committed = std::fs::read_to_string(path(BARS)).expect("bars CSV");
    assert!(
        committed == bars_csv(last_window(&candles)),
        "the fake's 5m candles changed: regenerate {BARS} and the references"
    );
}

/// The reference tail as column → cells (`None` for TA-Lib's NaN).
fn reference() -> HashMap<String, Vec<Option<f64>>> {
    let text = std::fs::read_to_string(path(REFERENCE)).expect("reference CSV");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let mut columns: Vec<Vec<Option<f64>>> = vec![Vec::new(); header.len()];
    for line in lines {
        for (column, cell) in columns.iter_mut().zip(line.split(',')) {
            column.push((!cell.is_empty()).then(|| cell.parse().expect("number")));
        }
    }
    assert!(columns.iter().all(|c| c.len() == TAIL));
    header.into_iter().map(str::to_owned).zip(columns).collect()
}

#[tokio::test]
async fn a_5000_candle_window_matches_ta_lib() {
    let app = spawn_app().await;
    // OBV is cumulated from the window's first candle: it pins that the
    // window starts exactly 5000 candles back.
    let specs = [
        "ema:20",
        "ema:50",
        "sma:200",
        "obv",
        "rsi:14",
        "macd:12,26,9",
        "bbands:20,2",
        "atr:14",
        "stoch:5,3,3",
        "adx:14",
        "mfi:14",
        "cci:20",
    ];
    let result = app
        .call_tool(
            "technical_analysis",
            json!({ "symbol": "BTCUSDT", "interval": "5m", "limit": WINDOW, "indicators": specs, "points": TAIL }),
        )
        .await;
    assert_eq!(result["isError"], false, "{result}");
    let out = &result["structuredContent"];
    assert_eq!(out["candles"], WINDOW);
    assert_eq!(out["missing_candles"], 0);
    let reference = reference();
    let times: Vec<Value> = reference["open_time"]
        .iter()
        .map(|t| json!(t.expect("time") as i64))
        .collect();
    assert_eq!(out["points_open_time"], json!(times));
    let mut checked = 0;
    for indicator in out["indicators"].as_array().expect("indicators") {
        let spec = indicator["spec"].as_str().expect("spec");
        for line in indicator["lines"].as_array().expect("lines") {
            let name = line["name"].as_str().expect("name");
            let want = &reference[&column_for(spec, name)];
            let scale = want
                .iter()
                .flatten()
                .fold(0.0_f64, |max, v| max.max(v.abs()));
            let points = line["points"].as_array().expect("points");
            assert_eq!(points.len(), TAIL);
            for (i, (got, want)) in points.iter().zip(want).enumerate() {
                assert!(
                    agrees(got.as_f64(), *want, scale),
                    "{spec}/{name} point {i}: {got} vs {want:?}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 19, "every line of every indicator");
    // The newest page, then five cells of 1000 intervals.
    assert_eq!(app.binance.calls("/api/v3/klines"), 6);
}

#[tokio::test]
async fn pages_are_fetched_once_and_shared_by_every_window() {
    let app = spawn_app().await;
    let call = |tool: &'static str, limit: u64| {
        let app = &app;
        async move {
            let result = app
                .call_tool(
                    tool,
                    json!({ "symbol": "ETHUSDT", "interval": "5m", "limit": limit, "market": "usdm", "price": "mark" }),
                )
                .await;
            assert_eq!(result["isError"], false, "{result}");
            result["structuredContent"].clone()
        }
    };
    let long = call("technical_analysis", 5000).await;
    assert_eq!(long["series"], "USD-M mark prices");
    let first_calls = app.binance.calls("/fapi/v1/markPriceKlines");
    assert_eq!(first_calls, 6);
    let shorter = call("technical_analysis", 3000).await;
    let chart = call("binance_chart", 2000).await;
    assert_eq!(
        app.binance.calls("/fapi/v1/markPriceKlines"),
        first_calls,
        "every page came from the cache"
    );
    assert_eq!(shorter["last_open_time"], long["last_open_time"]);
    assert_eq!(chart["candles"], 2000);
    assert_eq!(chart["last_open_time"], long["last_open_time"]);
    assert_eq!(
        long["first_open_time"].as_i64().unwrap(),
        long["last_open_time"].as_i64().unwrap() - 4999 * FIVE_MINUTES
    );
}

#[tokio::test]
async fn gaps_inside_a_long_window_are_reported_and_the_window_stays_full() {
    let app = spawn_app().await;
    let candles = app.binance.candles("BTCUSDT", "5m");
    let last = candles[candles.len() - 1].open_time;
    // Two hours halted, 2500 candles back: across a page boundary or not,
    // the window reaches 24 candles further back to hold 3000.
    let halt_from = last - 2500 * FIVE_MINUTES;
    let halt_to = halt_from + 23 * FIVE_MINUTES;
    app.binance.halt(halt_from, halt_to);
    let result = app
        .call_tool(
            "technical_analysis",
            json!({ "symbol": "BTCUSDT", "interval": "5m", "limit": 3000, "indicators": ["rsi"] }),
        )
        .await;
    assert_eq!(result["isError"], false, "{result}");
    let out = &result["structuredContent"];
    assert_eq!(out["candles"], 3000);
    assert_eq!(out["missing_candles"], 24);
    assert_eq!(
        out["gaps"],
        json!([{ "from_open_time": halt_from, "resumes_at": halt_to + FIVE_MINUTES, "missing_candles": 24 }])
    );
    assert_eq!(
        out["first_open_time"],
        last - (3000 + 24 - 1) * FIVE_MINUTES
    );
}
