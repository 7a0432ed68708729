//! Market prompts, resources and completions: the parts of the catalog
//! that are not tools.
//!
//! - [`prompts`]: `analyze_market` and `compare_markets`, user messages that
//!   walk a model through our tools in a sensible order and ask it to cite
//!   numbers and data age.
//! - [`resources`]: `binance://symbols` and the template
//!   `binance://klines/{symbol}/{interval}`.
//! - [`complete`]: suggestions for symbol and interval arguments, shared by
//!   the prompts and the template.
//!
//! Catalog traits receive no tool context, so each item holds its own
//! [`BinanceClient`] clone (cheap: the client is an `Arc` inside).

pub mod complete;
pub mod prompts;
pub mod resources;

use std::sync::Arc;

use crate::binance::BinanceClient;
use crate::mcp::catalog::CatalogBuilder;

/// Adds the market prompts, resources and templates to the catalog.
pub fn register(catalog: CatalogBuilder, binance: &BinanceClient) -> CatalogBuilder {
    catalog
        .prompt(Arc::new(prompts::AnalyzeMarket::new(binance.clone())))
        .prompt(Arc::new(prompts::CompareMarkets::new(binance.clone())))
        .resource(Arc::new(resources::Symbols::new(binance.clone())))
        .template(Arc::new(resources::Klines::new(binance.clone())))
}
