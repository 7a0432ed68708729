//! The tools we ship, one file per tool family.
//!
//! Each tool implements [`crate::mcp::tool::Tool`]: typed arguments and
//! output, a description written for a model, and an async `call`.
//!
//! Adding a tool: one file in this folder, one line in [`registry`].

mod args;
mod calculate;
mod candles;
mod chart;
mod futures;
mod klines;
mod order_book;
mod positioning;
mod search;
mod symbols;
mod technical_analysis;
mod ticker;
mod trades;

use crate::mcp::tool::ToolRegistry;

/// Every tool the server offers. Conformance fixtures are added by the
/// `conformance` feature only.
pub fn registry() -> ToolRegistry {
    ToolRegistry::default()
        .with(calculate::Calculate)
        .with(klines::Klines::default())
        .with(ticker::Ticker)
        .with(order_book::OrderBook)
        .with(trades::Trades)
        .with(symbols::Symbols)
        .with(futures::Futures)
        .with(positioning::Positioning)
        .with(technical_analysis::TechnicalAnalysis)
        .with(chart::BinanceChart)
        .with(search::Search)
        .with(search::Fetch)
}
