//! Readable market data: `binance://symbols` and
//! `binance://klines/{symbol}/{interval}`.
//!
//! Both are compact tables, because a client may put them whole into a
//! model's context: symbols as `[symbol, base, quote]` rows, candles as CSV.
//! A klines URI with a malformed symbol or an unknown interval names no
//! resource (not found); a well-formed symbol Binance does not list is a
//! read error carrying Binance's suggestions.

use futures_util::future::BoxFuture;
use serde_json::json;

use super::complete;
use crate::binance::wire::Kline;
use crate::binance::{BinanceClient, Interval, Symbol, TimeRange};
use crate::mcp::catalog::{
    Resource, ResourceDescriptor, ResourceRead, ResourceTemplate, TemplateDescriptor,
};
use crate::mcp::content::{ResourceBody, ResourceContents};
use crate::mcp::error::ReadError;

pub const SYMBOLS_URI: &str = "binance://symbols";
pub const KLINES_TEMPLATE: &str = "binance://klines/{symbol}/{interval}";
const KLINES_PREFIX: &str = "binance://klines/";

/// How long clients may keep the symbol list: the client caches exchange
/// info for an hour too, since listings change rarely.
pub const SYMBOLS_TTL_MS: u64 = 60 * 60 * 1000;
/// Candles in a klines resource: enough to see the recent shape of a
/// market, small enough (about 6 KB of CSV) to paste into a context.
pub const KLINES_RESOURCE_CANDLES: u16 = 100;
/// Bounds of a klines resource's TTL, which is a sixtieth of its interval:
/// the open candle keeps moving, so even daily candles are worth
/// refreshing within a minute, and a second is the finest Binance candle.
pub const KLINES_MIN_TTL_MS: u64 = 1_000;
/// See [`KLINES_MIN_TTL_MS`].
pub const KLINES_MAX_TTL_MS: u64 = 60_000;

/// `binance://symbols`: every spot symbol currently trading.
pub struct Symbols {
    binance: BinanceClient,
}

impl Symbols {
    pub fn new(binance: BinanceClient) -> Self {
        Self { binance }
    }
}

impl Resource for Symbols {
    fn descriptor(&self) -> ResourceDescriptor {
        ResourceDescriptor {
            uri: SYMBOLS_URI.to_owned(),
            name: "symbols",
            title: "Binance spot symbols",
            description: "Every Binance spot symbol currently TRADING, as [symbol, base asset, quote asset] rows.",
            mime_type: "application/json",
            meta: None,
        }
    }

    fn read(&self) -> BoxFuture<'_, Result<ResourceRead, ReadError>> {
        Box::pin(async move {
            let info = self.binance.exchange_info().await?;
            let rows: Vec<[&str; 3]> = info
                .value
                .symbols
                .iter()
                .filter(|s| s.status == "TRADING")
                .map(|s| {
                    [
                        s.symbol.as_str(),
                        s.base_asset.as_str(),
                        s.quote_asset.as_str(),
                    ]
                })
                .collect();
            let body = json!({
                "count": rows.len(),
                "columns": ["symbol", "base", "quote"],
                "symbols": rows,
            });
            Ok(ResourceRead {
                contents: vec![ResourceContents {
                    uri: SYMBOLS_URI.to_owned(),
                    mime_type: "application/json".to_owned(),
                    body: ResourceBody::Text(body.to_string()),
                    meta: None,
                }],
                ttl_ms: SYMBOLS_TTL_MS,
            })
        })
    }
}

/// `binance://klines/{symbol}/{interval}`: the latest candles as CSV.
pub struct Klines {
    binance: BinanceClient,
}

impl Klines {
    pub fn new(binance: BinanceClient) -> Self {
        Self { binance }
    }
}

/// The symbol and interval a klines URI names, if it is well formed.
pub fn parse_klines_uri(uri: &str) -> Option<(Symbol, Interval)> {
    let (symbol, interval) = uri.strip_prefix(KLINES_PREFIX)?.split_once('/')?;
    Some((Symbol::parse(symbol).ok()?, Interval::parse(interval).ok()?))
}

/// A sixtieth of the interval, within the TTL bounds.
pub fn klines_ttl_ms(interval: Interval) -> u64 {
    (interval.duration_ms().unsigned_abs() / 60).clamp(KLINES_MIN_TTL_MS, KLINES_MAX_TTL_MS)
}

/// Candles as CSV with Binance's decimal text, oldest first.
fn to_csv(klines: &[Kline]) -> String {
    let mut csv = String::from("open_time,open,high,low,close,volume\n");
    for k in klines {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            k.open_time, k.open, k.high, k.low, k.close, k.volume
        ));
    }
    csv
}

impl ResourceTemplate for Klines {
    fn descriptor(&self) -> TemplateDescriptor {
        TemplateDescriptor {
            uri_template: KLINES_TEMPLATE,
            name: "klines",
            title: "Binance candles",
            description: "The latest 100 candles of a Binance spot symbol at an interval (1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M) as CSV: open_time (Unix ms), open, high, low, close, volume. The last candle may still be open.",
            mime_type: "text/csv",
        }
    }

    fn read<'a>(&'a self, uri: &'a str) -> Option<BoxFuture<'a, Result<ResourceRead, ReadError>>> {
        let (symbol, interval) = parse_klines_uri(uri)?;
        Some(Box::pin(async move {
            let klines = self
                .binance
                .klines(
                    &symbol,
                    interval,
                    TimeRange::last(KLINES_RESOURCE_CANDLES),
                    None,
                )
                .await?;
            Ok(ResourceRead {
                contents: vec![ResourceContents {
                    uri: uri.to_owned(),
                    mime_type: "text/csv".to_owned(),
                    body: ResourceBody::Text(to_csv(&klines.value)),
                    meta: None,
                }],
                ttl_ms: klines_ttl_ms(interval),
            })
        }))
    }

    fn complete<'a>(&'a self, argument: &'a str, value: &'a str) -> BoxFuture<'a, Vec<String>> {
        Box::pin(complete::symbol_or_interval(&self.binance, argument, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klines_uris_name_a_symbol_and_an_interval() {
        let parsed = parse_klines_uri("binance://klines/btc-usdt/4h");
        assert_eq!(
            parsed.map(|(s, i)| (s.to_string(), i)),
            Some(("BTCUSDT".to_owned(), Interval::Hour4))
        );
        for bad in [
            "binance://klines/BTCUSDT",
            "binance://klines/BTCUSDT/2m",
            "binance://klines/BTC$USDT/1h",
            "binance://klines/BTCUSDT/1h/extra",
            "binance://symbols",
        ] {
            assert!(parse_klines_uri(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn klines_ttl_follows_the_interval() {
        assert_eq!(klines_ttl_ms(Interval::Second1), KLINES_MIN_TTL_MS);
        assert_eq!(klines_ttl_ms(Interval::Minute5), 5_000);
        assert_eq!(klines_ttl_ms(Interval::Day1), KLINES_MAX_TTL_MS);
    }
}
