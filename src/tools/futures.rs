//! `binance_futures`: the USD-M perpetual context of a symbol: mark and
//! index price, funding now and before, open interest now and before.
//!
//! The four endpoints are called concurrently; any failure fails the call,
//! since a half-filled context would invite wrong conclusions.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{Freshness, Limit, PeriodArg, SymbolArg, percent, round};
use crate::binance::TimeRange;
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};

/// Funding rates are tiny fractions; percent to 6 dp keeps every digit
/// Binance sends (8 dp as a fraction).
const FUNDING_PERCENT_DP: u32 = 6;
/// Notional values in the quote asset, to the cent and beyond.
const VALUE_DP: u32 = 8;

pub struct Futures;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FuturesArgs {
    /// Perpetual symbol, e.g. BTCUSDT.
    pub symbol: SymbolArg,
    /// Past funding events returned, newest last, 1 to 1000 (default 9:
    /// three days at Binance's usual 8-hour funding).
    #[serde(default)]
    pub funding_limit: Limit<1, 1000, 9>,
    /// Open-interest history period: 5m, 15m, 30m, 1h (default), 2h, 4h,
    /// 6h, 12h or 1d. Binance keeps only the latest 30 days.
    #[serde(default)]
    pub period: PeriodArg,
    /// Open-interest history points, 1 to 500 (default 24).
    #[serde(default)]
    pub open_interest_limit: Limit<1, 500, 24>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FundingPoint {
    /// Settlement time, Unix ms.
    pub time: i64,
    /// Rate as a fraction paid by longs to shorts per funding (negative:
    /// shorts pay).
    pub rate: Decimal,
    /// Mark price at settlement, when Binance has it.
    pub mark_price: Option<Decimal>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OpenInterestPoint {
    /// Unix ms.
    pub time: i64,
    /// Open interest in contracts (base asset).
    pub open_interest: Decimal,
    /// Its value in the quote asset.
    pub open_interest_value: Decimal,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FuturesOutput {
    pub symbol: String,
    pub mark_price: Decimal,
    pub index_price: Decimal,
    /// (mark − index) / index × 100, half away from zero to 4 dp.
    pub premium_percent: Decimal,
    /// Funding rate of the current period, as a fraction.
    pub funding_rate: Decimal,
    /// The same in percent, 6 dp.
    pub funding_rate_percent: Decimal,
    /// Next funding settlement, Unix ms.
    pub next_funding_time: i64,
    pub interest_rate: Decimal,
    /// Open interest now, in contracts (base asset).
    pub open_interest: Decimal,
    /// Open interest × mark price, in the quote asset (8 dp).
    pub open_interest_value: Decimal,
    /// Time of the open-interest reading, Unix ms.
    pub open_interest_time: i64,
    /// Oldest first.
    pub funding_history: Vec<FundingPoint>,
    pub open_interest_period: String,
    /// Oldest first.
    pub open_interest_history: Vec<OpenInterestPoint>,
    #[serde(flatten)]
    pub freshness: Freshness,
}

impl Tool for Futures {
    type Args = FuturesArgs;
    type Output = FuturesOutput;

    const NAME: &'static str = "binance_futures";
    const TITLE: &'static str = "Binance perpetual futures context";
    const SUMMARY: &'static str =
        "A USD-M perpetual's mark and index price, funding and open interest.";
    const DESCRIPTION: &'static str = "USD-M perpetual futures context for a symbol (e.g. BTCUSDT): mark \
and index price with the premium, current funding rate (fraction and percent) and next funding time, \
recent funding history, open interest now (contracts and value) and its history per period (default \
1h × 24). Use it for leverage and funding questions (\"is funding positive?\", \"is open interest \
rising?\"); for long/short ratios, taker flow and the basis use binance_positioning. Spot symbols without a \
perpetual give an error with suggestions.";
    const OPEN_WORLD: bool = true;

    async fn call(
        &self,
        ctx: &ToolContext,
        args: FuturesArgs,
    ) -> Result<Reply<FuturesOutput>, ToolError> {
        let symbol = args.symbol.0;
        let period = args.period.0;
        let binance = &ctx.binance;
        let (premium, funding, open_interest, history) = tokio::try_join!(
            binance.premium_index(Some(&symbol)),
            binance.funding_rate(&symbol, TimeRange::last(args.funding_limit.0)),
            binance.open_interest(&symbol),
            binance.open_interest_hist(
                &symbol,
                period,
                TimeRange::last(args.open_interest_limit.0)
            ),
        )?;
        let freshness = Freshness::of(&premium, ctx.binance.now())
            .and(Freshness::of(&funding, ctx.binance.now()))
            .and(Freshness::of(&open_interest, ctx.binance.now()))
            .and(Freshness::of(&history, ctx.binance.now()));
        let Some(index) = premium.value.iter().find(|p| p.symbol == symbol.as_str()) else {
            return Err(ToolError::not_found(format!(
                "Binance returned no mark price for {symbol}. Check that it is a USD-M perpetual with binance_symbols or search \"{symbol} perp\"."
            )));
        };
        let oi = open_interest.value.open_interest;
        Ok(Reply::new(FuturesOutput {
            symbol: symbol.to_string(),
            mark_price: index.mark_price,
            index_price: index.index_price,
            premium_percent: percent(index.mark_price - index.index_price, index.index_price, 4),
            funding_rate: index.last_funding_rate,
            funding_rate_percent: round(
                index.last_funding_rate * Decimal::ONE_HUNDRED,
                FUNDING_PERCENT_DP,
            ),
            next_funding_time: index.next_funding_time,
            interest_rate: index.interest_rate,
            open_interest: oi,
            open_interest_value: round(oi * index.mark_price, VALUE_DP),
            open_interest_time: open_interest.value.time,
            funding_history: funding
                .value
                .iter()
                .map(|f| FundingPoint {
                    time: f.funding_time,
                    rate: f.funding_rate,
                    mark_price: f.mark_price,
                })
                .collect(),
            open_interest_period: period.to_string(),
            open_interest_history: history
                .value
                .iter()
                .map(|h| OpenInterestPoint {
                    time: h.timestamp,
                    open_interest: h.sum_open_interest,
                    open_interest_value: h.sum_open_interest_value,
                })
                .collect(),
            freshness,
        }))
    }
}
