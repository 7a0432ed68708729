//! Spot market-data endpoints: one method per endpoint, each cached with a
//! TTL that matches how fast its data changes (see the table in the module
//! doc of `binance`).

use std::time::Duration;

use super::cache::{Cache, Fetched};
use super::client::{Api, BinanceClient, Request};
use super::error::BinanceError;
use super::params::{Interval, Symbol, TimeRange, TimeZone, WindowSize};
use super::wire::{
    AggTrade, BookTicker, ExchangeInfo, Kline, OneOrMany, OrderBook, RollingTicker, Ticker24hr,
    TickerPrice, Trade,
};

/// Entries per endpoint cache. The largest entries are 1000 klines
/// (~150 kB), so a full klines cache stays under ~40 MB.
const CACHE_ENTRIES: usize = 256;

/// Symbols and filters change rarely; new listings can wait an hour.
const EXCHANGE_INFO_TTL: Duration = Duration::from_secs(3600);
/// Klines that may still change: the open candle, or a window that new
/// candles will extend.
const LIVE_KLINES_TTL: Duration = Duration::from_secs(2);
/// Klines and trades of a range wholly in the past never change.
const SETTLED_TTL: Duration = Duration::from_secs(15 * 60);
/// Prices move every second, but a 2 s old ticker is fine for a model.
const TICKER_TTL: Duration = Duration::from_secs(2);
/// The book and the latest trades change fastest.
const DEPTH_TTL: Duration = Duration::from_secs(1);
const TRADES_TTL: Duration = Duration::from_secs(1);

/// Documented maxima; larger limits are clamped.
const KLINES_MAX_LIMIT: u16 = 1000;
const KLINES_DEFAULT_LIMIT: u16 = 500;
const DEPTH_MAX_LIMIT: u16 = 5000;
const TRADES_MAX_LIMIT: u16 = 1000;
const AGG_TRADES_DEFAULT_LIMIT: u16 = 500;
/// Most symbols one ticker call may name.
const MAX_TICKER_SYMBOLS: usize = 100;

pub(crate) struct Caches {
    klines: Cache<Vec<Kline>>,
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
            klines: Cache::new(CACHE_ENTRIES),
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
    /// `GET /api/v3/klines`: candles, oldest first. `range.limit` defaults
    /// to 500 and is clamped to 1000.
    pub async fn klines(
        &self,
        symbol: &Symbol,
        interval: Interval,
        range: TimeRange,
        time_zone: Option<&TimeZone>,
    ) -> Result<Fetched<Vec<Kline>>, BinanceError> {
        let mut query = vec![
            ("symbol", symbol.to_string()),
            ("interval", interval.to_string()),
        ];
        range.push_query(&mut query, KLINES_MAX_LIMIT)?;
        if let Some(time_zone) = time_zone {
            query.push(("timeZone", time_zone.as_str().to_owned()));
        }
        let limit = range
            .limit
            .map_or(KLINES_DEFAULT_LIMIT, |l| l.clamp(1, KLINES_MAX_LIMIT));
        let request = spot_request("/api/v3/klines", query, vec![symbol.clone()]);
        self.cached(
            &self.inner.spot.klines,
            request,
            std::convert::identity,
            |klines: &Vec<Kline>, now| {
                let last_close = klines.last().map(|k| k.close_time);
                settled_ttl(range, limit, klines.len(), last_close, now, LIVE_KLINES_TTL)
            },
        )
        .await
    }

    /// `GET /api/v3/ticker/24hr` (FULL) for the given symbols, or for every
    /// symbol when `symbols` is empty (weight 80 instead of 2).
    pub async fn ticker_24hr(
        &self,
        symbols: &[Symbol],
    ) -> Result<Fetched<Vec<Ticker24hr>>, BinanceError> {
        let request = spot_request(
            "/api/v3/ticker/24hr",
            symbols_query(symbols)?,
            symbols.to_vec(),
        );
        self.cached(
            &self.inner.spot.ticker_24hr,
            request,
            OneOrMany::into_vec,
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
        let request = spot_request("/api/v3/ticker", query, symbols.to_vec());
        self.cached(
            &self.inner.spot.ticker_window,
            request,
            OneOrMany::into_vec,
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
        );
        self.cached(
            &self.inner.spot.ticker_price,
            request,
            OneOrMany::into_vec,
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
        );
        self.cached(
            &self.inner.spot.book_ticker,
            request,
            OneOrMany::into_vec,
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
        if let Some(limit) = limit {
            query.push(("limit", limit.clamp(1, DEPTH_MAX_LIMIT).to_string()));
        }
        let request = spot_request("/api/v3/depth", query, vec![symbol.clone()]);
        self.cached(
            &self.inner.spot.depth,
            request,
            std::convert::identity,
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
        let request = spot_request("/api/v3/trades", query, vec![symbol.clone()]);
        self.cached(
            &self.inner.spot.trades,
            request,
            std::convert::identity,
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
        let limit = range
            .limit
            .map_or(AGG_TRADES_DEFAULT_LIMIT, |l| l.clamp(1, TRADES_MAX_LIMIT));
        let request = spot_request("/api/v3/aggTrades", query, vec![symbol.clone()]);
        self.cached(
            &self.inner.spot.agg_trades,
            request,
            std::convert::identity,
            |trades: &Vec<AggTrade>, now| {
                let last = trades.last().map(|t| t.time);
                settled_ttl(range, limit, trades.len(), last, now, TRADES_TTL)
            },
        )
        .await
    }

    /// `GET /api/v3/exchangeInfo` for every symbol (weight 20), cached an
    /// hour. Also the source of suggestions for unknown symbols.
    pub async fn exchange_info(&self) -> Result<Fetched<ExchangeInfo>, BinanceError> {
        let request = spot_request("/api/v3/exchangeInfo", Vec::new(), Vec::new());
        self.cached(
            &self.inner.spot.exchange_info,
            request,
            std::convert::identity,
            |_, _| EXCHANGE_INFO_TTL,
        )
        .await
    }
}

fn spot_request(
    path: &'static str,
    query: Vec<(&'static str, String)>,
    symbols: Vec<Symbol>,
) -> Request {
    Request {
        api: Api::Spot,
        path,
        query,
        symbols,
    }
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

/// The TTL of a time series. It is settled, and cached long, when its last
/// item is in the past and no newer item can join it: the range ends in the
/// past, or it starts at a fixed time and is already full. Otherwise the
/// open candle or newer trades may still change it.
fn settled_ttl(
    range: TimeRange,
    limit: u16,
    len: usize,
    last_close: Option<i64>,
    now_ms: i64,
    live_ttl: Duration,
) -> Duration {
    let last_in_past = last_close.is_some_and(|close| close < now_ms);
    let bounded = range.end_time.is_some_and(|end| end < now_ms)
        || (range.start_time.is_some() && len == usize::from(limit));
    if last_in_past && bounded {
        SETTLED_TTL
    } else {
        live_ttl
    }
}
