//! A typed client for Binance's public market data, spot and USD-M futures.
//!
//! It is modelled on zero-to-production's external API client: one struct
//! holding the HTTP client, base URLs and timeouts, one method per endpoint,
//! tested against a loopback fake (`tests/api/fake_binance/`). No API keys
//! are used or accepted.
//!
//! Decisions worth knowing:
//! - **Exact numbers.** Prices and quantities are `rust_decimal::Decimal`,
//!   read from and written as strings; nothing goes through `f64`.
//! - **Edge validation.** [`Symbol`], [`Interval`], [`CandleSeries`],
//!   [`WindowSize`] and [`TimeZone`] are parsed before any call, so bad
//!   input fails fast.
//! - **A weight budget per host** ([`budget`]): each request is charged its
//!   documented weight before it is sent and never planned past 80 % of
//!   the limit `exchangeInfo` gives; one caller gets at most half while
//!   others are active. Cache hits cost nothing.
//! - **Failover and limits.** Spot tries `BINANCE_BASE_URL`'s hosts in order
//!   (see [`client`] for the retry, 451, 429 and 418 rules). A 429/418 blocks
//!   that host until `Retry-After` (at most 3 days); callers meanwhile get
//!   [`BinanceError::RateLimited`]/[`BinanceError::Banned`] at once.
//! - **Never more rows than asked.** List answers are cut to the `limit`
//!   asked for while they are parsed, whatever the upstream sends.
//! - **Cache.** Every endpoint is cached with request coalescing: concurrent
//!   identical calls share one upstream request. Errors are never cached.
//!   Results come as [`Fetched`], which says how old the data is.
//!
//! | endpoint | TTL | why |
//! |---|---|---|
//! | exchangeInfo (spot, futures) | 1 h | listings and filters change rarely |
//! | klines of every series, range settled (see below) | 15 min | closed candles never change |
//! | klines, otherwise | 2 s | the open candle moves |
//! | ticker/24hr, ticker, ticker/price, bookTicker | 2 s | prices move |
//! | depth | 1 s | the book moves fastest |
//! | trades | 1 s | new trades every moment |
//! | aggTrades | 1 s, or 15 min when settled | as klines |
//! | premiumIndex | 2 s | mark price moves |
//! | fundingRate | 60 s | funding settles every few hours |
//! | openInterest | 5 s | |
//! | `/futures/data/*` (open interest history, ratios, taker volume, basis) | to the next period, 15 s to 5 min | a point per closed period |
//!
//! A klines or aggTrades result is *settled* when its last item is in the
//! past and nothing newer can join it: `end_time` is in the past, or
//! `start_time` is set and the result already holds `limit` items. Long
//! candle windows are put together from such pages ([`candles`]).

pub mod budget;
mod cache;
pub mod candles;
pub mod client;
mod clock;
mod error;
mod futures;
mod params;
mod spot;
pub mod wire;

pub use budget::{BudgetStatus, CallerKey};
pub use cache::Fetched;
pub use client::{
    BinanceClient, BinanceConfig, ConfigError, DEFAULT_FUTURES_BASE_URL, DEFAULT_SPOT_BASE_URLS,
    HostStatus, parse_base_urls,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AssetName, BinanceError, SpotOnly};
pub use futures::LongShort;
pub use params::{
    CandleSeries, FUTURES_DATA_PERIODS, Interval, Market, Price, Symbol, TimeRange, TimeZone,
    WindowSize, suggest_symbols,
};
