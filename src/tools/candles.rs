//! Candles for the candle tools: their shared arguments parsed into a
//! [`Source`], klines and their `f64` bars out.
//!
//! `technical_analysis` and `binance_chart` fetch exactly what
//! `binance_klines` would for the same symbol, series and interval (the
//! most recent `limit` candles, the open one included), so numbers a model
//! sees in one tool match the other. Windows longer than one page come
//! from the client's paged window. Klines are converted to [`Bar`]s here
//! and nowhere else.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Serialize;

use super::args::{Freshness, IntervalArg, MarketArg, PriceArg, SymbolArg};
use super::klines::{Gap, MAX_GAPS_LISTED, find_gaps};
use crate::analysis::indicators::Bar;
use crate::binance::wire::Kline;
use crate::binance::{BinanceClient, CandleSeries, Fetched, Interval, Symbol};
use crate::mcp::tool::{ToolContext, ToolError};

/// Which candles a call is about: the parsed `symbol`, `interval`,
/// `market` and `price` arguments, checked together.
#[derive(Debug, Clone)]
pub struct Source {
    pub symbol: Symbol,
    pub interval: Interval,
    pub series: CandleSeries,
}

impl Source {
    /// Refuses a price series on spot and an interval the series lacks
    /// (USD-M has no `1s`).
    pub fn new(
        symbol: SymbolArg,
        interval: IntervalArg,
        market: MarketArg,
        price: PriceArg,
    ) -> Result<Self, ToolError> {
        let series = CandleSeries::new(market.0, price.0)?;
        series.check_interval(interval.0)?;
        Ok(Self {
            symbol: symbol.0,
            interval: interval.0,
            series,
        })
    }

    /// How results name the series.
    pub fn series_fields(&self) -> SeriesFields {
        SeriesFields {
            market: self.series.market().as_str(),
            price: self.series.price().as_str(),
            series: self.series.describe(),
        }
    }
}

/// How fresh a candle series is, flattened into each candle tool's output:
/// whether its last candle is final, and the data's age.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct SeriesFreshness {
    /// False while the last candle is still forming (its close time is
    /// after now on the server's clock): its close, high, low and volume
    /// will still change. True when every candle has closed.
    pub last_candle_closed: bool,
    #[serde(flatten)]
    pub freshness: Freshness,
}

impl SeriesFreshness {
    /// The freshness of `klines` now, on the Binance client's clock.
    pub fn of(klines: &Fetched<Vec<Kline>>, binance: &BinanceClient) -> Self {
        Self {
            last_candle_closed: last_closed(&klines.value, binance.unix_ms()),
            freshness: Freshness::of(klines, binance.now()),
        }
    }
}

/// Whether the last of `klines` has closed by `now_ms` (none is open in an
/// empty series).
pub fn last_closed(klines: &[Kline], now_ms: i64) -> bool {
    klines.last().is_none_or(|k| k.close_time < now_ms)
}

/// Which series a result holds, flattened into each candle tool's output.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct SeriesFields {
    /// `spot` or `usdm`.
    pub market: &'static str,
    /// `trade`, `mark`, `index` or `premium`.
    pub price: &'static str,
    /// The series in words, e.g. "USD-M mark prices".
    pub series: &'static str,
}

/// Where a series has no candles, flattened into the analysis outputs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GapFields {
    /// Total candles missing inside the window (a halt, maintenance).
    pub missing_candles: i64,
    /// The missing stretches, up to 20; empty when contiguous. Not checked
    /// for 1M, whose length varies.
    pub gaps: Vec<Gap>,
}

impl GapFields {
    pub fn of(klines: &[Kline], interval: Interval) -> Self {
        let gaps = find_gaps(klines, interval);
        Self {
            missing_candles: gaps.iter().map(|g| g.missing_candles).sum(),
            gaps: gaps.into_iter().take(MAX_GAPS_LISTED).collect(),
        }
    }
}

/// Klines and the same candles as bars, oldest first.
pub struct Candles {
    pub source: Source,
    pub klines: Fetched<Vec<Kline>>,
    pub bars: Vec<Bar>,
}

/// Fetches the most recent `limit` candles of `source`.
pub async fn fetch(ctx: &ToolContext, source: &Source, limit: u16) -> Result<Candles, ToolError> {
    let klines = ctx
        .binance
        .candle_window(
            source.series,
            &source.symbol,
            source.interval,
            usize::from(limit),
        )
        .await?;
    if klines.value.is_empty() {
        return Err(ToolError::not_found(format!(
            "Binance returned no {} candles of {} for {}; the market may be too new or halted. Try another interval.",
            source.interval,
            source.series.describe(),
            source.symbol
        )));
    }
    let bars = klines.value.iter().map(bar).collect();
    Ok(Candles {
        source: source.clone(),
        klines,
        bars,
    })
}

/// One kline as a bar. Decimals go through their decimal text so each
/// price becomes the nearest `f64`, exactly as TA-Lib's references read
/// the same numbers; a direct conversion can be an ulp off.
pub fn bar(kline: &Kline) -> Bar {
    Bar {
        open_time: kline.open_time,
        open: to_f64(kline.open),
        high: to_f64(kline.high),
        low: to_f64(kline.low),
        close: to_f64(kline.close),
        volume: to_f64(kline.volume),
    }
}

/// A `Decimal` is always a finite decimal number, so its text always parses;
/// NaN would only signal a bug, and downstream checks reject it.
fn to_f64(value: Decimal) -> f64 {
    value.to_string().parse().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::binance::{Market, Price};
    use crate::tools::args::Arg;

    #[test]
    fn decimals_become_the_nearest_f64() {
        let d = |s: &str| Decimal::from_str(s).expect("decimal");
        let kline = Kline {
            open_time: 1,
            open: d("94401.13"),
            high: d("0.1"),
            low: d("0.00000001"),
            close: d("93607.74"),
            volume: d("586.53456"),
            close_time: 2,
            quote_volume: d("0"),
            trades: 0,
            taker_buy_base_volume: d("0"),
            taker_buy_quote_volume: d("0"),
        };
        let b = bar(&kline);
        assert_eq!(
            (b.open, b.high, b.low, b.close, b.volume),
            (94401.13, 0.1, 0.00000001, 93607.74, 586.53456)
        );
    }

    #[test]
    fn a_source_checks_its_arguments_together() {
        let symbol = || Arg(Symbol::parse("BTCUSDT").expect("symbol"));
        let source =
            |interval, market, price| Source::new(symbol(), Arg(interval), Arg(market), Arg(price));
        let mark = source(Interval::Hour1, Market::UsdM, Price::Mark).expect("valid");
        assert_eq!(mark.series_fields().series, "USD-M mark prices");
        let error = source(Interval::Hour1, Market::Spot, Price::Mark).expect_err("spot mark");
        assert!(error.to_string().contains("`market` usdm"), "{error}");
        let error = source(Interval::Second1, Market::UsdM, Price::Trade).expect_err("1s");
        assert!(
            error.to_string().contains("not a valid interval"),
            "{error}"
        );
        assert!(source(Interval::Second1, Market::Spot, Price::Trade).is_ok());
    }
}
