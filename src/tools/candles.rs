//! Candles for the analysis tools: parsed arguments in, klines and their
//! `f64` bars out.
//!
//! `technical_analysis` and `binance_chart` fetch exactly what
//! `binance_klines` would for the same symbol, interval and limit (the most
//! recent `limit` candles, the open one included), so numbers a model sees
//! in one tool match the other. Klines are converted to [`Bar`]s here and
//! nowhere else.

use rust_decimal::Decimal;

use crate::analysis::indicators::Bar;
use crate::binance::wire::Kline;
use crate::binance::{Fetched, Interval, Symbol, TimeRange};
use crate::mcp::tool::{ToolContext, ToolError};

/// Klines and the same candles as bars, oldest first.
pub struct Candles {
    pub symbol: Symbol,
    pub interval: Interval,
    pub klines: Fetched<Vec<Kline>>,
    pub bars: Vec<Bar>,
}

/// Fetches the most recent `limit` candles, refusing a limit outside
/// `1..=max` with a message naming both.
pub async fn fetch(
    ctx: &ToolContext,
    symbol: &Symbol,
    interval: Interval,
    limit: u16,
    max: u16,
) -> Result<Candles, ToolError> {
    if !(1..=max).contains(&limit) {
        return Err(ToolError::invalid_arguments(format!(
            "limit {limit} is out of range: ask for 1 to {max} candles."
        )));
    }
    let klines = ctx
        .binance
        .klines(symbol, interval, TimeRange::last(limit), None)
        .await?;
    if klines.value.is_empty() {
        return Err(ToolError::not_found(format!(
            "Binance returned no {interval} candles for {symbol}; the market may be too new or halted. Try another interval."
        )));
    }
    let bars = klines.value.iter().map(bar).collect();
    Ok(Candles {
        symbol: symbol.clone(),
        interval,
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

/// Milliseconds since Binance answered, for "how old is this" in outputs.
pub fn age_ms<T>(fetched: &Fetched<T>) -> u64 {
    u64::try_from(fetched.age.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

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
}
