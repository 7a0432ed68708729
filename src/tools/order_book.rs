//! `binance_order_book`: the top of the book plus what a model usually
//! wants from it: spread, mid price and how much size sits near the mid.
//!
//! The depth bands need more levels than a chat wants to read, so the tool
//! fetches at least [`MIN_LEVELS_FETCHED`] levels but shows only `limit`.
//! A band the fetched book does not reach is marked incomplete rather than
//! silently understated.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{Freshness, Limit, SymbolArg, ratio, round};
use crate::binance::wire::{OrderBook as Book, PriceLevel};
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};

/// Levels fetched at least, for the depth bands. Binance charges weight 5
/// up to 100 levels, 25 up to 500 and 50 up to 1000; 500 reaches ±2 % on
/// most liquid books for a quarter of the weight of 1000.
pub const MIN_LEVELS_FETCHED: u16 = 500;
/// The bands reported, in percent from the mid price.
const BANDS_PERCENT: [(u32, u32); 3] = [(5, 1), (1, 0), (2, 0)];
/// Spread in basis points to 4 dp: BTCUSDT's one-tick spread is ~0.001 bps.
const SPREAD_BPS_DP: u32 = 4;
/// Notional sums are rounded to 8 dp: exact enough for any quote asset.
const NOTIONAL_DP: u32 = 8;

pub struct OrderBook;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrderBookArgs {
    pub symbol: SymbolArg,
    /// Levels shown per side, 1 to 5000 (default 20). Depth bands always
    /// use at least 500 levels whatever this is.
    #[serde(default)]
    pub limit: Limit<1, 5000, 20>,
}

/// One price level.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Level {
    pub price: Decimal,
    pub qty: Decimal,
}

impl From<&PriceLevel> for Level {
    fn from(l: &PriceLevel) -> Self {
        Self {
            price: l.price,
            qty: l.qty,
        }
    }
}

/// Size resting within ±`percent` of the mid price.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DepthBand {
    /// Distance from the mid, in percent: 0.5, 1 or 2.
    pub percent: Decimal,
    /// Bids priced at or above mid × (1 − percent/100), in the base asset.
    pub bid_qty: Decimal,
    /// The same bids' value in the quote asset (Σ price × qty, 8 dp).
    pub bid_notional: Decimal,
    /// Asks priced at or below mid × (1 + percent/100).
    pub ask_qty: Decimal,
    pub ask_notional: Decimal,
    /// False when the fetched levels end inside the band on either side, so
    /// the real depth is larger than reported.
    pub complete: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderBookOutput {
    pub symbol: String,
    /// Binance's book sequence number.
    pub last_update_id: u64,
    pub best_bid: Option<Level>,
    pub best_ask: Option<Level>,
    /// Best ask − best bid.
    pub spread: Option<Decimal>,
    /// Spread / mid × 10 000, rounded half away from zero to 4 dp (liquid
    /// pairs trade at a fraction of a basis point).
    pub spread_bps: Option<Decimal>,
    /// (best bid + best ask) / 2.
    pub mid_price: Option<Decimal>,
    pub depth: Vec<DepthBand>,
    /// Levels fetched per side (bands use all of them).
    pub levels_fetched: usize,
    /// Best first, `limit` per side.
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    #[serde(flatten)]
    pub freshness: Freshness,
}

impl Tool for OrderBook {
    type Args = OrderBookArgs;
    type Output = OrderBookOutput;

    const NAME: &'static str = "binance_order_book";
    const TITLE: &'static str = "Binance order book";
    const SUMMARY: &'static str =
        "Best bid and ask, spread, and depth within 0.5, 1 and 2 % of the mid.";
    const DESCRIPTION: &'static str = "Order book (market depth) of a Binance spot symbol. Use it for \
liquidity, spread and slippage questions. Returns best bid and ask, spread (absolute and in basis \
points), mid price, cumulative bid/ask size and notional within ±0.5%, ±1% and ±2% of the mid (marked \
incomplete if the book fetched does not reach that far), and the top `limit` levels per side (default \
20, max 5000). Decimals are exact strings.";
    const OPEN_WORLD: bool = true;

    async fn call(
        &self,
        ctx: &ToolContext,
        args: OrderBookArgs,
    ) -> Result<Reply<OrderBookOutput>, ToolError> {
        let shown = args.limit.0;
        let fetched = ctx
            .binance
            .depth(&args.symbol.0, Some(shown.max(MIN_LEVELS_FETCHED)))
            .await?;
        let book = fetched.value.as_ref();
        let summary = summarise(book, usize::from(shown.max(MIN_LEVELS_FETCHED)));
        let take = usize::from(shown);
        Ok(Reply::new(OrderBookOutput {
            symbol: args.symbol.0.to_string(),
            last_update_id: book.last_update_id,
            best_bid: book.bids.first().map(Level::from),
            best_ask: book.asks.first().map(Level::from),
            spread: summary.spread,
            spread_bps: summary.spread_bps,
            mid_price: summary.mid,
            depth: summary.bands,
            levels_fetched: book.bids.len().max(book.asks.len()),
            bids: book.bids.iter().take(take).map(Level::from).collect(),
            asks: book.asks.iter().take(take).map(Level::from).collect(),
            freshness: Freshness::of(&fetched, ctx.binance.now()),
        }))
    }
}

/// What is derived from a book, also used by `fetch`.
pub struct BookSummary {
    pub spread: Option<Decimal>,
    pub spread_bps: Option<Decimal>,
    pub mid: Option<Decimal>,
    pub bands: Vec<DepthBand>,
}

/// Spread, mid and depth bands of `book`, fetched with `requested` levels a
/// side (a side shorter than that is the whole side, so complete).
pub fn summarise(book: &Book, requested: usize) -> BookSummary {
    let (Some(bid), Some(ask)) = (book.bids.first(), book.asks.first()) else {
        return BookSummary {
            spread: None,
            spread_bps: None,
            mid: None,
            bands: Vec::new(),
        };
    };
    let mid = (bid.price + ask.price) / Decimal::TWO;
    let spread = ask.price - bid.price;
    let bands = BANDS_PERCENT
        .iter()
        .map(|&(units, scale)| {
            let percent = Decimal::new(i64::from(units), scale);
            let offset = mid * percent / Decimal::ONE_HUNDRED;
            let (bid_qty, bid_notional, bids_reach) =
                side(&book.bids, requested, |p| p >= mid - offset);
            let (ask_qty, ask_notional, asks_reach) =
                side(&book.asks, requested, |p| p <= mid + offset);
            DepthBand {
                percent,
                bid_qty,
                bid_notional: round(bid_notional, NOTIONAL_DP),
                ask_qty,
                ask_notional: round(ask_notional, NOTIONAL_DP),
                complete: bids_reach && asks_reach,
            }
        })
        .collect();
    BookSummary {
        spread: Some(spread),
        spread_bps: Some(ratio(spread * Decimal::from(10_000), mid, SPREAD_BPS_DP)),
        mid: Some(mid.normalize()),
        bands,
    }
}

/// Σ qty and Σ price × qty of the levels `inside` the band, and whether
/// the band is fully known: some fetched level lies outside it, or the side
/// was shorter than requested (Binance sent all it has).
fn side(
    levels: &[PriceLevel],
    requested: usize,
    inside: impl Fn(Decimal) -> bool,
) -> (Decimal, Decimal, bool) {
    let mut qty = Decimal::ZERO;
    let mut notional = Decimal::ZERO;
    let mut reached_edge = levels.len() < requested;
    for level in levels {
        if !inside(level.price) {
            reached_edge = true;
            break;
        }
        qty += level.qty;
        notional += level.price * level.qty;
    }
    (qty, notional, reached_edge)
}
