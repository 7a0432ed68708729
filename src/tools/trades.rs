//! `binance_trades`: the latest trades, or aggregate trades over a time
//! range, with the buy/sell split a model needs to talk about order flow.
//!
//! Binance marks each trade with whether the buyer was the maker. The taker
//! is the aggressor, so a buyer-maker trade is a *sell* by the taker and
//! the others are buys; that is the side reported.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{Freshness, Limit, SymbolArg, TimeArg, percent, round, time_range};
use crate::binance::TimeRange;
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};

/// Quote volumes and the VWAP are rounded to 8 dp: sums of price × qty
/// otherwise carry up to 16 decimals of noise.
const DERIVED_DP: u32 = 8;

pub struct Trades;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TradesArgs {
    pub symbol: SymbolArg,
    /// Trades returned, 1 to 1000 (default 100).
    #[serde(default)]
    pub limit: Limit<1, 1000, 100>,
    /// Aggregate trades (fills of one taker order at one price merged)
    /// instead of individual trades. Implied by startTime/endTime.
    #[serde(default)]
    pub aggregate: bool,
    /// Aggregate trades from this time on (inclusive).
    pub start_time: Option<TimeArg>,
    /// Aggregate trades up to this time (inclusive).
    pub end_time: Option<TimeArg>,
}

/// Taker side of a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TradeRow {
    /// Trade id (aggregate trade id for aggregate trades).
    pub id: u64,
    pub price: Decimal,
    /// Base-asset quantity.
    pub qty: Decimal,
    /// Unix ms.
    pub time: i64,
    /// The taker's side: `buy` lifted an ask, `sell` hit a bid.
    pub side: Side,
}

/// Totals over the returned trades.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlowSummary {
    pub count: usize,
    /// Unix ms of the first and last trade; absent with no trades.
    pub first_time: Option<i64>,
    pub last_time: Option<i64>,
    /// Base volume bought and sold by takers.
    pub buy_volume: Decimal,
    pub sell_volume: Decimal,
    /// The same in the quote asset (Σ price × qty, 8 dp).
    pub buy_quote_volume: Decimal,
    pub sell_quote_volume: Decimal,
    /// Buy volume / total volume × 100, half away from zero to 2 dp.
    pub buy_percent: Decimal,
    /// Volume-weighted average price, 8 dp; absent with no volume.
    pub vwap: Option<Decimal>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TradesOutput {
    pub symbol: String,
    /// `recent` (individual trades) or `aggregate`.
    pub kind: String,
    pub summary: FlowSummary,
    /// Oldest first.
    pub trades: Vec<TradeRow>,
    #[serde(flatten)]
    pub freshness: Freshness,
}

impl Tool for Trades {
    type Args = TradesArgs;
    type Output = TradesOutput;

    const NAME: &'static str = "binance_trades";
    const TITLE: &'static str = "Binance recent trades";
    const SUMMARY: &'static str =
        "Recent or aggregate trades, with the buy/sell split and the VWAP.";
    const DESCRIPTION: &'static str = "Recent trades of a Binance spot symbol, or aggregate trades in a \
time range (`aggregate: true`, or give startTime/endTime as Unix ms or ISO-8601). Use it for order flow: \
who is aggressive, trade sizes, prints at a given time. Returns the trades (id, price, qty, time, taker \
side buy/sell) oldest first, and a summary with taker buy vs sell volume (base and quote), buy %, VWAP \
and time span. Default limit 100, max 1000.";
    const OPEN_WORLD: bool = true;

    async fn call(
        &self,
        ctx: &ToolContext,
        args: TradesArgs,
    ) -> Result<Reply<TradesOutput>, ToolError> {
        let symbol = args.symbol.0;
        let limit = args.limit.0;
        let (start_time, end_time) = time_range(args.start_time, args.end_time)?;
        let aggregate = args.aggregate || start_time.is_some() || end_time.is_some();
        let (rows, freshness): (Vec<TradeRow>, Freshness) = if aggregate {
            let range = TimeRange {
                start_time,
                end_time,
                limit: Some(limit),
            };
            let fetched = ctx.binance.agg_trades(&symbol, range).await?;
            let rows = fetched
                .value
                .iter()
                .map(|t| TradeRow::new(t.id, t.price, t.qty, t.time, t.is_buyer_maker));
            (rows.collect(), Freshness::of(&fetched, ctx.binance.now()))
        } else {
            let fetched = ctx.binance.trades(&symbol, Some(limit)).await?;
            let rows = fetched
                .value
                .iter()
                .map(|t| TradeRow::new(t.id, t.price, t.qty, t.time, t.is_buyer_maker));
            (rows.collect(), Freshness::of(&fetched, ctx.binance.now()))
        };
        Ok(Reply::new(TradesOutput {
            symbol: symbol.to_string(),
            kind: if aggregate { "aggregate" } else { "recent" }.to_owned(),
            summary: flow(&rows),
            trades: rows,
            freshness,
        }))
    }
}

impl TradeRow {
    /// A trade or aggregate trade, with the taker's side read from
    /// Binance's buyer-is-maker flag.
    fn new(id: u64, price: Decimal, qty: Decimal, time: i64, is_buyer_maker: bool) -> Self {
        Self {
            id,
            price,
            qty,
            time,
            side: if is_buyer_maker {
                Side::Sell
            } else {
                Side::Buy
            },
        }
    }
}

pub fn flow(rows: &[TradeRow]) -> FlowSummary {
    let mut buy = (Decimal::ZERO, Decimal::ZERO);
    let mut sell = (Decimal::ZERO, Decimal::ZERO);
    for row in rows {
        let totals = match row.side {
            Side::Buy => &mut buy,
            Side::Sell => &mut sell,
        };
        totals.0 += row.qty;
        totals.1 += row.price * row.qty;
    }
    let volume = buy.0 + sell.0;
    FlowSummary {
        count: rows.len(),
        first_time: rows.first().map(|r| r.time),
        last_time: rows.last().map(|r| r.time),
        buy_volume: buy.0.normalize(),
        sell_volume: sell.0.normalize(),
        buy_quote_volume: round(buy.1, DERIVED_DP),
        sell_quote_volume: round(sell.1, DERIVED_DP),
        buy_percent: percent(buy.0, volume, 2),
        vwap: (!volume.is_zero()).then(|| round((buy.1 + sell.1) / volume, DERIVED_DP)),
    }
}
