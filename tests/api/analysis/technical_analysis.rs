//! `technical_analysis` end to end: the values over the fake's BTCUSDT 1h
//! window equal TA-Lib's over the same 200 candles
//! (`tests/data/talib/btcusdt-1h-last200.csv`, from `generate.py`), the
//! reading is present and the result stays compact.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::text_of;
use crate::helpers::spawn_app;

/// Agreement required with TA-Lib, relative to the reference value.
const REL_TOL: f64 = 1e-6;
/// The window the reference file covers.
const WINDOW: usize = 200;
const POINTS: usize = 10;

/// The reference CSV as column → cells, empty cells (NaN) as `None`.
fn reference() -> HashMap<String, Vec<Option<f64>>> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/talib/btcusdt-1h-last200.csv");
    let text = std::fs::read_to_string(&path).expect("reference CSV");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_owned)
        .collect();
    let mut columns: Vec<Vec<Option<f64>>> = vec![Vec::new(); header.len()];
    for line in lines {
        for (column, cell) in columns.iter_mut().zip(line.split(',')) {
            column.push(if cell.is_empty() {
                None
            } else {
                Some(cell.parse().expect("number"))
            });
        }
    }
    assert!(columns.iter().all(|c| c.len() == WINDOW));
    header.into_iter().zip(columns).collect()
}

/// The reference column for an output line of a spec.
pub(super) fn column_for(spec: &str, line: &str) -> String {
    let params = spec
        .split_once(':')
        .map_or("", |(_, p)| p)
        .replace(',', "_");
    match (spec.split(':').next().unwrap_or(spec), line) {
        ("macd", "macd") => format!("macd_{params}"),
        ("macd", other) => format!(
            "macd_{}_{params}",
            if other == "histogram" { "hist" } else { other }
        ),
        // generate.py names the multiplier as a float: bb_upper_20_2.0.
        ("bbands", side) => format!("bb_{side}_{params}.0"),
        ("stoch", side) => format!("stoch_{side}_{params}"),
        ("obv" | "vwap", name) => name.to_owned(),
        (_, name) => format!("{name}_{params}"),
    }
}

pub(super) fn close_enough(got: Option<f64>, want: Option<f64>) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(g), Some(w)) => (g - w).abs() <= REL_TOL * w.abs().max(f64::MIN_POSITIVE),
        _ => false,
    }
}

/// Checks every line of every indicator of a result against the reference.
fn assert_matches_talib(
    structured: &Value,
    reference: &HashMap<String, Vec<Option<f64>>>,
) -> usize {
    let times: Vec<i64> = structured["points_open_time"]
        .as_array()
        .expect("times")
        .iter()
        .map(|t| t.as_i64().expect("ms"))
        .collect();
    let want_times: Vec<i64> = reference["open_time"][WINDOW - POINTS..]
        .iter()
        .map(|t| t.expect("time") as i64)
        .collect();
    assert_eq!(times, want_times);
    let mut checked = 0;
    for indicator in structured["indicators"].as_array().expect("indicators") {
        let spec = indicator["spec"].as_str().expect("spec");
        for line in indicator["lines"].as_array().expect("lines") {
            let name = line["name"].as_str().expect("name");
            let column = column_for(spec, name);
            let want = reference
                .get(&column)
                .unwrap_or_else(|| panic!("no reference column {column} for {spec}/{name}"));
            let got = |v: &Value| v.as_f64();
            assert!(
                close_enough(got(&line["latest"]), want[WINDOW - 1]),
                "{spec}/{name} latest {} vs {:?}",
                line["latest"],
                want[WINDOW - 1]
            );
            assert!(
                close_enough(got(&line["previous"]), want[WINDOW - 2]),
                "{spec}/{name} previous {} vs {:?}",
                line["previous"],
                want[WINDOW - 2]
            );
            let points = line["points"].as_array().expect("points");
            assert_eq!(points.len(), POINTS);
            for (i, (point, want)) in points.iter().zip(&want[WINDOW - POINTS..]).enumerate() {
                assert!(
                    close_enough(got(point), *want),
                    "{spec}/{name} point {i}: {point} vs {want:?}"
                );
            }
            checked += 1;
        }
    }
    checked
}

#[tokio::test]
async fn values_equal_talib_on_the_same_window() {
    let app = spawn_app().await;
    let reference = reference();
    let batches = [
        json!([
            "sma:20",
            "ema:20",
            "wma:20",
            "rsi:14",
            "macd:12,26,9",
            "bbands:20,2"
        ]),
        json!([
            "atr:14",
            "stoch:5,3,3",
            "adx:14",
            "mfi:14",
            "cci:20",
            "obv",
            "vwap"
        ]),
        json!(["ema:50", "sma:200"]),
    ];
    let mut lines = 0;
    for indicators in batches {
        let result = app
            .call_tool(
                "technical_analysis",
                json!({ "symbol": "BTCUSDT", "interval": "1h", "limit": 200, "indicators": indicators }),
            )
            .await;
        assert_eq!(result["isError"], false, "{result}");
        let structured = &result["structuredContent"];
        assert_eq!(structured["candles"], WINDOW);
        lines += assert_matches_talib(structured, &reference);
    }
    // 1+1+1+1+3+3 lines in the first batch, 1+2+3+1+1+1+1 in the second, 2 in the third.
    assert_eq!(lines, 22);
}

#[tokio::test]
async fn defaults_give_values_a_reading_and_a_compact_result() {
    let app = spawn_app().await;
    let result = app
        .call_tool("technical_analysis", json!({ "symbol": "btc-usdt" }))
        .await;
    assert_eq!(result["isError"], false, "{result}");
    let structured = &result["structuredContent"];
    // The defaults are ema:20, ema:50, sma:200, rsi:14, macd, bbands, atr over
    // 200 hourly candles: the same window as the reference.
    let specs: Vec<&str> = structured["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .map(|i| i["spec"].as_str().expect("spec"))
        .collect();
    assert_eq!(
        specs,
        [
            "ema:20",
            "ema:50",
            "sma:200",
            "rsi:14",
            "macd:12,26,9",
            "bbands:20,2",
            "atr:14"
        ]
    );
    assert_matches_talib(structured, &reference());
    assert_eq!(structured["symbol"], "BTCUSDT");
    assert_eq!(structured["interval"], "1h");
    assert_eq!(structured["last_close"], "102429.56000000");

    let reading: Vec<&str> = structured["reading"]
        .as_array()
        .expect("reading")
        .iter()
        .map(|r| r.as_str().expect("sentence"))
        .collect();
    for prefix in [
        "Trend:",
        "Momentum:",
        "MACD 12,26,9:",
        "Bollinger 20,2:",
        "Band width",
        "Volatility:",
    ] {
        assert!(
            reading.iter().any(|r| r.starts_with(prefix)),
            "no {prefix} in {reading:#?}"
        );
    }
    // The RSI sentence quotes the value the numbers report.
    let rsi = structured["indicators"][3]["lines"][0]["latest"]
        .as_f64()
        .expect("rsi");
    let momentum = reading
        .iter()
        .find(|r| r.starts_with("Momentum"))
        .expect("rsi");
    assert!(
        momentum.contains(&format!("RSI 14 is {rsi:.2}")),
        "{momentum} vs {rsi}"
    );

    // Compact: what the model reads (structured content plus its text
    // mirror) is well under 4k tokens at ~4 characters a token. The chart
    // app's series in `_meta` go to the app's view, not to the model.
    let mut for_model = result.clone();
    if let Some(fields) = for_model.as_object_mut() {
        fields.remove("_meta");
    }
    let size = for_model.to_string().len();
    assert!(size < 12_000, "result is {size} characters");
    // The trend sentence quotes the close to the cent.
    assert!(reading[0].contains("close 102429.56"), "{}", reading[0]);
    let mirrored: Value = serde_json::from_str(text_of(&result)).expect("JSON mirror");
    assert_eq!(&mirrored, structured);
}

#[tokio::test]
async fn output_shape_is_pinned() {
    let app = spawn_app().await;
    let result = app
        .call_tool(
            "technical_analysis",
            json!({ "symbol": "ETHUSDT", "interval": "4h", "limit": 50, "indicators": ["rsi"], "points": 3 }),
        )
        .await;
    assert_eq!(result["isError"], false, "{result}");
    let structured = &result["structuredContent"];
    let mut keys: Vec<&str> = structured
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "cached",
            "candles",
            "data_age_ms",
            "first_open_time",
            "gaps",
            "indicators",
            "interval",
            "last_candle_closed",
            "last_close",
            "last_open_time",
            "market",
            "missing_candles",
            "points_open_time",
            "price",
            "reading",
            "series",
            "symbol"
        ]
    );
    let line = &structured["indicators"][0]["lines"][0];
    assert_eq!(structured["indicators"][0]["spec"], "rsi:14");
    assert_eq!(line["name"], "rsi");
    assert_eq!(line["points"].as_array().map(Vec::len), Some(3));
    assert_eq!(line["latest"], line["points"][2]);
    assert_eq!(line["previous"], line["points"][1]);
    assert_eq!(structured["candles"], 50);
}

#[tokio::test]
async fn bad_arguments_are_tool_errors_that_say_what_is_valid() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "symbol": "BTCUSDT", "indicators": ["rsi:14", "supertrend:10,3"] }),
            "Valid indicators: sma:N",
        ),
        (
            json!({ "symbol": "BTCUSDT", "indicators": ["macd:12,26"] }),
            "macd takes 3 parameter(s)",
        ),
        (
            json!({ "symbol": "BTCUSDT", "indicators": ["sma:200"], "limit": 100 }),
            "needs at least 200 candles",
        ),
        (
            json!({ "symbol": "BTCUSDT", "limit": 5001 }),
            "use 1 to 5000",
        ),
        (
            json!({ "symbol": "BTCUSDT", "market": "usdm", "price": "mark", "indicators": ["obv"] }),
            "obv needs volume",
        ),
        (
            json!({ "symbol": "BTCUSDT", "price": "index" }),
            "add `market` usdm",
        ),
        (
            json!({ "symbol": "BTCUSDT", "market": "coinm" }),
            "use spot or usdm",
        ),
        (json!({ "symbol": "BTCUSDT", "points": 0 }), "use 1 to 50"),
        (json!({ "symbol": "BTCUSDT", "interval": "2m" }), "2m"),
        (json!({ "symbol": "BTCUSD" }), "Did you mean"),
        (
            json!({ "symbol": "BTCUSDT", "colour": "red" }),
            "`colour` is not an argument of this tool",
        ),
    ];
    for (arguments, needle) in cases {
        let result = app.call_tool("technical_analysis", arguments.clone()).await;
        assert_eq!(result["isError"], true, "{arguments}: {result}");
        let text = text_of(&result);
        assert!(text.contains(needle), "{arguments}: {text}");
    }
}
