//! `binance_ticker`: 24-hour statistics, or a rolling window, for one or a
//! few symbols.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{Arg, Freshness, SymbolArg, WindowSizeArg};
use crate::binance::Symbol;
use crate::binance::wire::{RollingTicker, Ticker24hr};
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};

/// Most symbols per call. Binance charges weight 2 for up to 20 symbols and
/// 40 beyond, and 20 tickers (~10 kB) is as much as a chat needs at once.
const MAX_SYMBOLS: usize = 20;

pub struct Ticker;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TickerArgs {
    /// One symbol, e.g. BTCUSDT. Give this or `symbols`.
    pub symbol: Option<SymbolArg>,
    /// Several symbols (at most 20), e.g. ["BTCUSDT", "ETHUSDT"].
    pub symbols: Option<Vec<SymbolArg>>,
    /// Rolling window instead of the last 24 hours: 1m…59m, 1h…23h or
    /// 1d…7d. Rolling tickers have no bid/ask or previous close.
    pub window_size: Option<WindowSizeArg>,
}

/// Statistics of one symbol over the window; decimals are exact strings.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct TickerStats {
    pub symbol: String,
    pub last_price: Decimal,
    pub price_change: Decimal,
    /// As Binance computes it (3 dp).
    pub price_change_percent: Decimal,
    pub open_price: Decimal,
    pub high_price: Decimal,
    pub low_price: Decimal,
    /// Volume-weighted average price over the window.
    pub weighted_avg_price: Decimal,
    /// Base-asset volume.
    pub volume: Decimal,
    /// Quote-asset volume.
    pub quote_volume: Decimal,
    /// Window start and end, Unix ms.
    pub open_time: i64,
    pub close_time: i64,
    pub trade_count: u64,
    /// 24h ticker only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_close_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_qty: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bid_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bid_qty: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask_qty: Option<Decimal>,
}

/// `TickerStats` from either ticker: the window fields both carry, then
/// the given rest. Written once so the two conversions cannot drift apart.
macro_rules! stats_from {
    ($t:expr, $($rest:tt)*) => {
        TickerStats {
            symbol: $t.symbol.clone(),
            last_price: $t.last_price,
            price_change: $t.price_change,
            price_change_percent: $t.price_change_percent,
            open_price: $t.open_price,
            high_price: $t.high_price,
            low_price: $t.low_price,
            weighted_avg_price: $t.weighted_avg_price,
            volume: $t.volume,
            quote_volume: $t.quote_volume,
            open_time: $t.open_time,
            close_time: $t.close_time,
            trade_count: $t.count,
            $($rest)*
        }
    };
}

impl From<&Ticker24hr> for TickerStats {
    fn from(t: &Ticker24hr) -> Self {
        Self {
            prev_close_price: Some(t.prev_close_price),
            last_qty: Some(t.last_qty),
            bid_price: Some(t.bid_price),
            bid_qty: Some(t.bid_qty),
            ask_price: Some(t.ask_price),
            ask_qty: Some(t.ask_qty),
            ..Self::from(&t.stats)
        }
    }
}

/// Rolling windows have no book or previous close.
impl From<&RollingTicker> for TickerStats {
    fn from(t: &RollingTicker) -> Self {
        stats_from!(t, ..Self::default())
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TickerOutput {
    /// `24h`, or the rolling window asked for.
    pub window: String,
    pub tickers: Vec<TickerStats>,
    #[serde(flatten)]
    pub freshness: Freshness,
}

impl Tool for Ticker {
    type Args = TickerArgs;
    type Output = TickerOutput;

    const NAME: &'static str = "binance_ticker";
    const TITLE: &'static str = "Binance 24h ticker";
    const SUMMARY: &'static str =
        "Price and 24-hour (or rolling-window) statistics for up to 20 symbols.";
    const DESCRIPTION: &'static str = "Current price and 24-hour statistics for one Binance spot symbol \
or up to 20 (`symbol` or `symbols`): last price, change and change %, open, high, low, weighted average \
price, base and quote volume, trade count, best bid/ask. Use it for \"what is the price of X\" and \"how \
did X do today\". With `windowSize` (1m…59m, 1h…23h, 1d…7d) it reports a rolling window instead (no \
bid/ask). Decimals are exact strings.";
    const OPEN_WORLD: bool = true;

    async fn call(
        &self,
        ctx: &ToolContext,
        args: TickerArgs,
    ) -> Result<Reply<TickerOutput>, ToolError> {
        let symbols = requested_symbols(args.symbol, args.symbols)?;
        let (window, tickers, freshness) = match args.window_size {
            None => {
                let fetched = ctx.binance.ticker_24hr(&symbols).await?;
                let tickers = fetched.value.iter().map(TickerStats::from).collect();
                (
                    "24h".to_owned(),
                    tickers,
                    Freshness::of(&fetched, ctx.binance.now()),
                )
            }
            Some(window) => {
                let fetched = ctx.binance.ticker_window(&symbols, window.0).await?;
                let tickers = fetched.value.iter().map(TickerStats::from).collect();
                (
                    window.0.to_string(),
                    tickers,
                    Freshness::of(&fetched, ctx.binance.now()),
                )
            }
        };
        Ok(Reply::new(TickerOutput {
            window,
            tickers,
            freshness,
        }))
    }
}

/// `symbol` and `symbols` merged, duplicates dropped, order kept.
fn requested_symbols(
    symbol: Option<SymbolArg>,
    symbols: Option<Vec<SymbolArg>>,
) -> Result<Vec<Symbol>, ToolError> {
    let mut all: Vec<Symbol> = Vec::new();
    for Arg(s) in symbol.into_iter().chain(symbols.into_iter().flatten()) {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    if all.is_empty() {
        return Err(ToolError::invalid_arguments(
            "give `symbol` (e.g. \"BTCUSDT\") or `symbols` \
             (e.g. [\"BTCUSDT\", \"ETHUSDT\"]). To find a symbol, use binance_symbols or search.",
        ));
    }
    if all.len() > MAX_SYMBOLS {
        return Err(ToolError::invalid_arguments(format!(
            "`symbols` must list at most {MAX_SYMBOLS} symbols; got {}. \
             Split the list into several calls.",
            all.len()
        )));
    }
    Ok(all)
}
