//! Spot market-data endpoints: one method per endpoint, each cached with a
//! TTL that matches how fast its data changes (see the table in the module
//! doc of `binance`).

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::budget::Cost;
use super::cache::{Cache, Fetched};
use super::candles::settled_ttl;
use super::client::{Api, BinanceClient, Request};
use super::error::BinanceError;
use super::params::{Symbol, TimeRange, WindowSize};
use super::wire::{
    self, AggTrade, BookTicker, ExchangeInfo, OneOrMany, OrderBook, RollingTicker, Ticker24hr,
    TickerPrice, Trade,
};

/// Entries per endpoint cache; the largest entries are 1000 trades.
const CACHE_ENTRIES: usize = 256;

/// Symbols and filters change rarely; new listings can wait an hour.
const EXCHANGE_INFO_TTL: Duration = Duration::from_secs(3600);
/// Prices move every second, but a 2 s old ticker is fine for a model.
const TICKER_TTL: Duration = Duration::from_secs(2);
/// The book and the latest trades change fastest.
const DEPTH_TTL: Duration = Duration::from_secs(1);
const TRADES_TTL: Duration = Duration::from_secs(1);

/// Documented defaults and maxima; larger limits are clamped.
const DEPTH_DEFAULT_LIMIT: u16 = 100;
const DEPTH_MAX_LIMIT: u16 = 5000;
const TRADES_DEFAULT_LIMIT: u16 = 500;
const TRADES_MAX_LIMIT: u16 = 1000;
/// Most symbols one ticker call may name.
const MAX_TICKER_SYMBOLS: usize = 100;

pub(crate) struct Caches {
    ticker_24hr: Cache<Vec<Ticker24hr>>,
    ticker_window: Cache<Vec<RollingTicker>>,
    ticker_price: Cache<Vec<TickerPrice>>,
    book_ticker: Cache<Vec<BookTicker>>,
    depth: Cache<OrderBook>,
    trades: Cache<Vec<Trade>>,
    agg_trades: Cache<Vec<AggTrade>>,
    exchange_info: Cache<ExchangeInfo>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            ticker_24hr: Cache::new(CACHE_ENTRIES),
            ticker_window: Cache::new(CACHE_ENTRIES),
            ticker_price: Cache::new(CACHE_ENTRIES),
            book_ticker: Cache::new(CACHE_ENTRIES),
            depth: Cache::new(CACHE_ENTRIES),
            trades: Cache::new(CACHE_ENTRIES),
            agg_trades: Cache::new(CACHE_ENTRIES),
            exchange_info: Cache::new(1),
        }
    }
}

impl BinanceClient {
    /// `GET /api/v3/ticker/24hr` (FULL) for the given symbols, or for every
    /// symbol when `symbols` is empty (weight 80 instead of 2).
    pub async fn ticker_24hr(
        &self,
        symbols: &[Symbol],
    ) -> Result<Fetched<Vec<Ticker24hr>>, BinanceError> {
        // Documented: 2 for one symbol or up to 20, 40 up to 100, 80 for all.
        let weight = match symbols.len() {
            1..=20 => 2,
            21..=100 => 40,
            _ => 80,
        };
        let request = spot_request(
            "/api/v3/ticker/24hr",
            symbols_query(symbols)?,
            symbols.to_vec(),
            weight,
        );
        self.cached(
            &self.inner.spot.ticker_24hr,
            request,
            |body| listing(body, symbols.len()),
            |_, _| TICKER_TTL,
        )
        .await
    }

    /// `GET /api/v3/ticker`: statistics over a rolling window of
    /// `window` (1m…7d) for one or more symbols.
    pub async fn ticker_window(
        &self,
        symbols: &[Symbol],
        window: WindowSize,
    ) -> Result<Fetched<Vec<RollingTicker>>, BinanceError> {
        if symbols.is_empty() {
            return Err(BinanceError::InvalidParameter {
                code: None,
                msg: "the rolling-window ticker needs at least one symbol.".to_owned(),
            });
        }
        let mut query = symbols_query(symbols)?;
        query.push(("windowSize", window.to_string()));
        // Documented: 4 per symbol, capped at 200 beyond 50 symbols.
        let weight = if symbols.len() > 50 {
            200
        } else {
            4 * u32::try_from(symbols.len()).unwrap_or(50)
        };
        let request = spot_request("/api/v3/ticker", query, symbols.to_vec(), weight);
        self.cached(
            &self.inner.spot.ticker_window,
            request,
            |body| listing(body, symbols.len()),
            |_, _| TICKER_TTL,
        )
        .await
    }

    /// `GET /api/v3/ticker/price`: last price per symbol (all when empty).
    pub async fn ticker_price(
        &self,
        symbols: &[Symbol],
    ) -> Result<Fetched<Vec<TickerPrice>>, BinanceError> {
        let request = spot_request(
            "/api/v3/ticker/price",
            symbols_query(symbols)?,
            symbols.to_vec(),
            one_or_all_weight(symbols),
        );
        self.cached(
            &self.inner.spot.ticker_price,
            request,
            |body| listing(body, symbols.len()),
            |_, _| TICKER_TTL,
        )
        .await
    }

    /// `GET /api/v3/ticker/bookTicker`: best bid and ask (all when empty).
    pub async fn book_ticker(
        &self,
        symbols: &[Symbol],
    ) -> Result<Fetched<Vec<BookTicker>>, BinanceError> {
        let request = spot_request(
            "/api/v3/ticker/bookTicker",
            symbols_query(symbols)?,
            symbols.to_vec(),
            one_or_all_weight(symbols),
        );
        self.cached(
            &self.inner.spot.book_ticker,
            request,
            |body| listing(body, symbols.len()),
            |_, _| TICKER_TTL,
        )
        .await
    }

    /// `GET /api/v3/depth`: the order book, `limit` levels a side (default
    /// 100, clamped to 5000; weight grows from 5 to 250 with it).
    pub async fn depth(
        &self,
        symbol: &Symbol,
        limit: Option<u16>,
    ) -> Result<Fetched<OrderBook>, BinanceError> {
        let mut query = vec![("symbol", symbol.to_string())];
        let levels = limit.map_or(DEPTH_DEFAULT_LIMIT, |l| l.clamp(1, DEPTH_MAX_LIMIT));
        if limit.is_some() {
            query.push(("limit", levels.to_string()));
        }
        // Documented: 5 up to 100 levels, 25 up to 500, 50 up to 1000, 250 beyond.
        let weight = match levels {
            0..=100 => 5,
            101..=500 => 25,
            501..=1000 => 50,
            _ => 250,
        };
        let request = spot_request("/api/v3/depth", query, vec![symbol.clone()], weight);
        self.cached(
            &self.inner.spot.depth,
            request,
            |body| {
                let mut book: OrderBook = serde_json::from_slice(body)?;
                book.bids.truncate(usize::from(levels));
                book.asks.truncate(usize::from(levels));
                Ok(book)
            },
            |_, _| DEPTH_TTL,
        )
        .await
    }

    /// `GET /api/v3/trades`: the most recent trades (default 500, max 1000).
    pub async fn trades(
        &self,
        symbol: &Symbol,
        limit: Option<u16>,
    ) -> Result<Fetched<Vec<Trade>>, BinanceError> {
        let mut query = vec![("symbol", symbol.to_string())];
        if let Some(limit) = limit {
            query.push(("limit", limit.clamp(1, TRADES_MAX_LIMIT).to_string()));
        }
        let cap = TimeRange {
            limit,
            ..TimeRange::default()
        }
        .row_cap(TRADES_DEFAULT_LIMIT, TRADES_MAX_LIMIT);
        let request = spot_request("/api/v3/trades", query, vec![symbol.clone()], 25);
        self.cached(
            &self.inner.spot.trades,
            request,
            |body| wire::rows(body, cap),
            |_, _| TRADES_TTL,
        )
        .await
    }

    /// `GET /api/v3/aggTrades`: aggregated trades in `range` (default 500,
    /// max 1000), the most recent when the range is open.
    pub async fn agg_trades(
        &self,
        symbol: &Symbol,
        range: TimeRange,
    ) -> Result<Fetched<Vec<AggTrade>>, BinanceError> {
        let mut query = vec![("symbol", symbol.to_string())];
        range.push_query(&mut query, TRADES_MAX_LIMIT)?;
        let cap = range.row_cap(TRADES_DEFAULT_LIMIT, TRADES_MAX_LIMIT);
        let request = spot_request("/api/v3/aggTrades", query, vec![symbol.clone()], 4);
        self.cached(
            &self.inner.spot.agg_trades,
            request,
            |body| wire::rows(body, cap),
            |trades: &Vec<AggTrade>, now| {
                let last = trades.last().map(|t| t.time);
                settled_ttl(range, cap, trades.len(), last, now, TRADES_TTL)
            },
        )
        .await
    }

    /// `GET /api/v3/exchangeInfo` for every symbol (weight 20), cached an
    /// hour. Also the source of suggestions for unknown symbols.
    /// Its `rateLimits` set the spot hosts' weight limit.
    pub async fn exchange_info(&self) -> Result<Fetched<ExchangeInfo>, BinanceError> {
        let request = spot_request("/api/v3/exchangeInfo", Vec::new(), Vec::new(), 20);
        let info = self
            .cached(
                &self.inner.spot.exchange_info,
                request,
                |body| serde_json::from_slice(body),
                |_, _| EXCHANGE_INFO_TTL,
            )
            .await?;
        self.learn_limit(Api::Spot, &info.value.rate_limits);
        Ok(info)
    }
}

fn spot_request(
    path: &'static str,
    query: Vec<(&'static str, String)>,
    symbols: Vec<Symbol>,
    weight: u32,
) -> Request {
    Request {
        api: Api::Spot,
        path,
        query,
        symbols,
        cost: Cost::weight(weight),
    }
}

/// Documented weight of `ticker/price` and `bookTicker`: 2 for one symbol,
/// 4 for several or all.
fn one_or_all_weight(symbols: &[Symbol]) -> u32 {
    if symbols.len() == 1 { 2 } else { 4 }
}

/// One object or a list of them, at most one per requested symbol (all
/// when none was named).
fn listing<T: DeserializeOwned>(body: &[u8], requested: usize) -> serde_json::Result<Vec<T>> {
    let mut all = serde_json::from_slice::<OneOrMany<T>>(body)?.into_vec();
    if requested > 0 {
        all.truncate(requested);
    }
    Ok(all)
}

/// `symbol=X` for one, `symbols=["X","Y"]` for several, nothing for all.
fn symbols_query(symbols: &[Symbol]) -> Result<Vec<(&'static str, String)>, BinanceError> {
    match symbols {
        [] => Ok(Vec::new()),
        [one] => Ok(vec![("symbol", one.to_string())]),
        many if many.len() > MAX_TICKER_SYMBOLS => Err(BinanceError::InvalidParameter {
            code: None,
            msg: format!(
                "at most {MAX_TICKER_SYMBOLS} symbols per call, got {}.",
                many.len()
            ),
        }),
        many => {
            let quoted: Vec<String> = many.iter().map(|s| format!("\"{s}\"")).collect();
            Ok(vec![("symbols", format!("[{}]", quoted.join(",")))])
        }
    }
}
