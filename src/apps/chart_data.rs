//! The series a `technical_analysis` result hands the chart view in its
//! `_meta` under [`META_KEY`].
//!
//! Its `structuredContent` lists only the last few values of each line,
//! because models read it (ChatGPT's do). A chart needs every candle and
//! every line at every candle; hosts pass a result's `_meta` to the view and
//! not to the model, so that is where they go. Candles are rows like
//! `binance_klines` rows (open time, then OHLCV as Binance's exact decimal
//! text), so the view reads both tools' candles the same way; line values
//! are aligned with the candles, `null` while an indicator warms up.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::analysis::reading::round_significant;
use crate::analysis::spec::{IndicatorSpec, Line};
use crate::binance::wire::Kline;

/// The `_meta` key: namespaced, as MCP asks of `_meta` keys.
pub const META_KEY: &str = "crypto-mcp/chart";
/// Most candles handed over, the latest ones: about 200 kB of series with a
/// dozen lines, and more than a chart pane can show one by one.
pub const MAX_CANDLES: usize = 1000;

#[derive(Serialize)]
struct Meta<'a> {
    #[serde(rename = "crypto-mcp/chart")]
    chart: ChartData<'a>,
}

#[derive(Serialize)]
struct ChartData<'a> {
    columns: [&'static str; 6],
    candles: Vec<Row<'a>>,
    indicators: Vec<IndicatorSeries>,
}

#[derive(Serialize)]
struct Row<'a>(
    i64,
    &'a Decimal,
    &'a Decimal,
    &'a Decimal,
    &'a Decimal,
    &'a Decimal,
);

#[derive(Serialize)]
struct IndicatorSeries {
    spec: String,
    lines: Vec<LineSeries>,
}

#[derive(Serialize)]
struct LineSeries {
    name: &'static str,
    values: Vec<Option<f64>>,
}

/// The result `_meta` for these candles and the lines computed over them
/// (each line as long as `klines`), values rounded to `digits` significant
/// digits as in the structured output.
pub fn result_meta(
    klines: &[Kline],
    computed: &[(IndicatorSpec, Vec<Line>)],
    digits: usize,
) -> serde_json::Result<Box<RawValue>> {
    let skip = klines.len().saturating_sub(MAX_CANDLES);
    let meta = Meta {
        chart: ChartData {
            columns: ["open_time", "open", "high", "low", "close", "volume"],
            candles: klines[skip..]
                .iter()
                .map(|k| Row(k.open_time, &k.open, &k.high, &k.low, &k.close, &k.volume))
                .collect(),
            indicators: computed
                .iter()
                .map(|(spec, lines)| IndicatorSeries {
                    spec: spec.to_string(),
                    lines: lines
                        .iter()
                        .map(|line| LineSeries {
                            name: line.name,
                            values: line
                                .values
                                .iter()
                                .skip(skip)
                                .map(|v| v.map(|v| round_significant(v, digits)))
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        },
    };
    serde_json::value::to_raw_value(&meta)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn kline(open_time: i64, close: i64) -> Kline {
        let d = Decimal::from;
        Kline {
            open_time,
            open: d(close - 1),
            high: d(close + 1),
            low: d(close - 2),
            close: d(close),
            volume: d(7),
            close_time: open_time + 59_999,
            quote_volume: d(0),
            trades: 0,
            taker_buy_base_volume: d(0),
            taker_buy_quote_volume: d(0),
        }
    }

    #[test]
    fn lines_are_aligned_with_the_latest_candles() {
        let klines: Vec<Kline> = (0..MAX_CANDLES as i64 + 5)
            .map(|i| kline(i * 60_000, 100 + i))
            .collect();
        let values: Vec<Option<f64>> = (0..klines.len())
            .map(|i| (i > 0).then_some(1.0 / 3.0 + i as f64))
            .collect();
        let computed = vec![(
            IndicatorSpec::Sma(2),
            vec![Line {
                name: "sma",
                values,
            }],
        )];
        let meta: Value =
            serde_json::from_str(result_meta(&klines, &computed, 8).expect("json").get())
                .expect("parse");
        let chart = &meta[META_KEY];
        let candles = chart["candles"].as_array().expect("rows");
        assert_eq!(candles.len(), MAX_CANDLES);
        assert_eq!(
            candles[0],
            serde_json::json!([5 * 60_000, "104", "106", "103", "105", "7"])
        );
        let line = &chart["indicators"][0];
        assert_eq!(line["spec"], "sma:2");
        let values = line["lines"][0]["values"].as_array().expect("values");
        assert_eq!(values.len(), MAX_CANDLES);
        assert_eq!(values[0], 5.333_333_3);
    }

    #[test]
    fn warm_up_is_null() {
        let klines = vec![kline(0, 10), kline(60_000, 11)];
        let computed = vec![(
            IndicatorSpec::Sma(2),
            vec![Line {
                name: "sma",
                values: vec![None, Some(10.5)],
            }],
        )];
        let meta: Value =
            serde_json::from_str(result_meta(&klines, &computed, 8).expect("json").get())
                .expect("parse");
        assert_eq!(
            meta[META_KEY]["indicators"][0]["lines"][0]["values"],
            serde_json::json!([null, 10.5])
        );
    }
}
