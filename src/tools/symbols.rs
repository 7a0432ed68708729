//! `binance_symbols`: find spot symbols and read their trading filters.
//!
//! The whole exchange info is fetched once an hour (weight 20) and filtered
//! here, so any combination of filters costs no extra Binance weight.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{Freshness, Limit};
use crate::assets::Query;
use crate::binance::wire::SymbolInfo;
use crate::mcp::arguments::quote;
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};

pub struct Symbols;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SymbolsArgs {
    /// Text to look for in the symbol or its assets, or a common name:
    /// "btc", "bitcoin", "eth/usdc", "USDT".
    pub query: Option<String>,
    /// Base asset, exactly (e.g. BTC).
    pub base_asset: Option<String>,
    /// Quote asset, exactly (e.g. USDT).
    pub quote_asset: Option<String>,
    /// Trading status: TRADING (default), BREAK, HALT, END_OF_DAY,
    /// CANCEL_ONLY, or ANY for all.
    pub status: Option<String>,
    /// Symbols returned, 1 to 500 (default 50).
    #[serde(default)]
    pub limit: Limit<1, 500, 50>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SymbolRow {
    pub symbol: String,
    pub status: String,
    pub base_asset: String,
    pub quote_asset: String,
    /// Price increment (PRICE_FILTER tickSize).
    pub tick_size: Option<Decimal>,
    /// Quantity increment (LOT_SIZE stepSize).
    pub step_size: Option<Decimal>,
    /// Smallest order value in the quote asset (NOTIONAL minNotional).
    pub min_notional: Option<Decimal>,
    pub base_asset_precision: u32,
    pub quote_asset_precision: u32,
}

impl From<&SymbolInfo> for SymbolRow {
    fn from(s: &SymbolInfo) -> Self {
        Self {
            symbol: s.symbol.clone(),
            status: s.status.clone(),
            base_asset: s.base_asset.clone(),
            quote_asset: s.quote_asset.clone(),
            tick_size: s.tick_size.map(|d| d.normalize()),
            step_size: s.step_size.map(|d| d.normalize()),
            min_notional: s.min_notional.map(|d| d.normalize()),
            base_asset_precision: s.base_asset_precision,
            quote_asset_precision: s.quote_asset_precision,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SymbolsOutput {
    /// Symbols matching the filters, before `limit`.
    pub total_matches: usize,
    /// True when more matched than were returned; narrow the filters or
    /// raise `limit`.
    pub truncated: bool,
    pub symbols: Vec<SymbolRow>,
    #[serde(flatten)]
    pub freshness: Freshness,
}

impl Tool for Symbols {
    type Args = SymbolsArgs;
    type Output = SymbolsOutput;

    const NAME: &'static str = "binance_symbols";
    const TITLE: &'static str = "Binance symbols and trading rules";
    const SUMMARY: &'static str = "Spot symbols by name or asset, with their trading rules.";
    const DESCRIPTION: &'static str = "Search Binance spot symbols (exchange info) by text, base asset, \
quote asset and status. Use it to find the exact symbol for a coin (\"bitcoin\" → BTCUSDT, BTCUSDC, …), \
to list the markets of an asset, or to read trading rules: tick size (price increment), step size \
(quantity increment), minimum notional and precisions. Exact matches come first. Default: TRADING \
symbols only, 50 results (max 500).";
    const OPEN_WORLD: bool = true;

    async fn call(
        &self,
        ctx: &ToolContext,
        args: SymbolsArgs,
    ) -> Result<Reply<SymbolsOutput>, ToolError> {
        // No query, or a blank one, lists every symbol the filters allow.
        let query = match args.query.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Some(Query::parse(text).map_err(|e| {
                ToolError::invalid_arguments(format!("`query` {}: {e}", quote(text)))
            })?),
            _ => None,
        };
        let status = args
            .status
            .as_deref()
            .map(str::trim)
            .unwrap_or("TRADING")
            .to_ascii_uppercase();
        let base = args
            .base_asset
            .as_deref()
            .map(|a| a.trim().to_ascii_uppercase());
        let quote = args
            .quote_asset
            .as_deref()
            .map(|a| a.trim().to_ascii_uppercase());
        let info = ctx.binance.exchange_info().await?;
        let mut matches: Vec<(u8, &SymbolInfo)> = info
            .value
            .symbols
            .iter()
            .filter(|s| status == "ANY" || s.status == status)
            .filter(|s| base.as_deref().is_none_or(|b| s.base_asset == b))
            .filter(|s| quote.as_deref().is_none_or(|q| s.quote_asset == q))
            .filter_map(|s| match &query {
                Some(query) => query
                    .rank(&s.symbol, &s.base_asset, &s.quote_asset)
                    .map(|rank| (rank, s)),
                None => Some((0, s)),
            })
            .collect();
        matches.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.symbol.cmp(&b.1.symbol)));
        let total_matches = matches.len();
        let limit = usize::from(args.limit.0);
        Ok(Reply::new(SymbolsOutput {
            total_matches,
            truncated: total_matches > limit,
            symbols: matches
                .into_iter()
                .take(limit)
                .map(|(_, s)| SymbolRow::from(s))
                .collect(),
            freshness: Freshness::of(&info, ctx.binance.now()),
        }))
    }
}
