//! A fake Binance on loopback, for tests and the offline demo.
//!
//! It serves the documented response shapes of the public spot and USD-M
//! futures endpoints from real data: the BTCUSDT 1h candles of January 2025
//! in `tests/data/btcusdt-1h.csv` (from Binance via the quantedge-ta crate).
//! Everything else is derived from them deterministically, so tests can
//! assert exact values:
//! - Other symbols are BTCUSDT scaled: price × `price_scale` rounded to the
//!   symbol's tick, volume × `qty_scale` rounded to 8 dp ([`MARKETS`]).
//! - Intervals of 1h and longer aggregate the hourly candles (weeks start on
//!   Monday). Valid intervals below 1h and `1M` answer an empty list.
//! - The kline columns missing from the CSV are synthetic: quote volume =
//!   volume × (open+high+low+close)/4; trades = ⌊volume × 10⌋ + 100; taker
//!   buy base = volume × r and taker buy quote = quote volume × r, with
//!   r = 0.45 + 0.01 × (hours since the epoch mod 10); all rounded to 8 dp.
//! - The fake's clock stands at [`FAKE_NOW_MS`], half-way through the last
//!   candle. Tickers cover the last 24 candles (see [`ticker_stats`]); the
//!   book, trades, funding and open interest follow the formulas at their
//!   handlers.
//!
//! Faults are switched at run time ([`FakeBinance::set_fault`]) for every
//! path or one, and calls are counted per path. This file uses no code of
//! the crate, so `examples/fake_binance.rs` can include it too; the two use
//! different parts of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

const FIXTURE_CSV: &str = include_str!("../data/btcusdt-1h.csv");

/// 2025-01-31 23:30:00 UTC: the fake's "now", inside the last candle.
pub const FAKE_NOW_MS: i64 = 1_738_366_200_000;
const HOUR_MS: i64 = 3_600_000;
/// 1970-01-05, the first Monday: Binance's weekly candles start on Mondays.
const WEEK_OFFSET_MS: i64 = 4 * 24 * HOUR_MS;
/// Every 8 h from the first candle, as on Binance.
const FUNDING_EVERY_MS: i64 = 8 * HOUR_MS;
const FIRST_UPDATE_ID: u64 = 1_027_024;
/// The synthetic tape has one trade a minute.
const TRADES_PER_CANDLE: usize = 60;

const REGION_BLOCKED_MSG: &str = "Service unavailable from a restricted location according to 'b. Eligibility' in https://www.binance.com/en/terms. Please contact customer service if you believe you received this message in error.";

/// A symbol the fake lists, derived from BTCUSDT.
pub struct Market {
    pub symbol: &'static str,
    pub base: &'static str,
    pub quote: &'static str,
    pub status: &'static str,
    price_scale: &'static str,
    qty_scale: &'static str,
    /// Decimals of the tick size and the lot step size.
    price_dp: u32,
    qty_dp: u32,
    /// Listed as a USD-M perpetual too.
    pub perpetual: bool,
}

pub const MARKETS: &[Market] = &[
    market("BTCUSDT", "BTC", "USDT", "1", "1", 2, 5, true),
    market("ETHUSDT", "ETH", "USDT", "0.035", "28", 2, 4, true),
    market("SOLUSDT", "SOL", "USDT", "0.002", "500", 2, 3, true),
    market("BNBUSDT", "BNB", "USDT", "0.007", "140", 2, 3, true),
    market("XRPUSDT", "XRP", "USDT", "0.000025", "40000", 4, 1, true),
    market(
        "DOGEUSDT",
        "DOGE",
        "USDT",
        "0.0000035",
        "280000",
        5,
        0,
        true,
    ),
    market("ADAUSDT", "ADA", "USDT", "0.00001", "100000", 4, 1, true),
    market("BTCUSDC", "BTC", "USDC", "1", "0.3", 2, 5, false),
    market("ETHBTC", "ETH", "BTC", "0.00000037", "2", 5, 4, false),
    Market {
        status: "BREAK",
        ..market("BNBBTC", "BNB", "BTC", "0.000000074", "3", 6, 3, false)
    },
];

#[allow(clippy::too_many_arguments)]
const fn market(
    symbol: &'static str,
    base: &'static str,
    quote: &'static str,
    price_scale: &'static str,
    qty_scale: &'static str,
    price_dp: u32,
    qty_dp: u32,
    perpetual: bool,
) -> Market {
    Market {
        symbol,
        base,
        quote,
        status: "TRADING",
        price_scale,
        qty_scale,
        price_dp,
        qty_dp,
        perpetual,
    }
}

/// A fault the fake answers with instead of (or before) the real response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After` (omitted when `None`).
    RateLimited { retry_after: Option<u64> },
    /// 418 with `Retry-After`.
    Banned { retry_after: Option<u64> },
    /// 451 with the body seen from restricted regions.
    RegionBlocked,
    /// 500.
    ServerError,
    /// Answers normally after `ms` milliseconds.
    Slow { ms: u64 },
    /// Never answers.
    Hang,
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 with the real body cut in half.
    Truncated,
}

impl FromStr for Fault {
    type Err = String;

    /// `429[:secs]`, `418[:secs]`, `451`, `500`, `slow:MS`, `hang`,
    /// `malformed`, `truncated`.
    fn from_str(spec: &str) -> Result<Self, String> {
        let (kind, arg) = spec
            .split_once(':')
            .map_or((spec, None), |(k, a)| (k, Some(a)));
        let number = |arg: Option<&str>| {
            arg.map(str::parse::<u64>)
                .transpose()
                .map_err(|e| format!("{spec}: {e}"))
        };
        Ok(match kind {
            "429" => Fault::RateLimited {
                retry_after: number(arg)?,
            },
            "418" => Fault::Banned {
                retry_after: number(arg)?,
            },
            "451" => Fault::RegionBlocked,
            "500" => Fault::ServerError,
            "slow" => Fault::Slow {
                ms: number(arg)?.ok_or("slow needs milliseconds, as slow:300")?,
            },
            "hang" => Fault::Hang,
            "malformed" => Fault::Malformed,
            "truncated" => Fault::Truncated,
            _ => return Err(format!("unknown fault {spec:?}")),
        })
    }
}

struct FaultRule {
    /// `None` for every path.
    path: Option<String>,
    fault: Fault,
    /// How many more responses it affects; `None` for all.
    remaining: Option<u32>,
}

/// One candle with every Binance column.
#[derive(Debug, Clone)]
pub struct Candle {
    pub open_time: i64,
    pub close_time: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
    pub quote_volume: Decimal,
    pub trades: u64,
    pub taker_base: Decimal,
    pub taker_quote: Decimal,
}

impl Candle {
    pub fn to_json(&self) -> Value {
        json!([
            self.open_time,
            fmt8(self.open),
            fmt8(self.high),
            fmt8(self.low),
            fmt8(self.close),
            fmt8(self.volume),
            self.close_time,
            fmt8(self.quote_volume),
            self.trades,
            fmt8(self.taker_base),
            fmt8(self.taker_quote),
            "0"
        ])
    }
}

struct Fake {
    /// Hourly candles per market, in the order of [`MARKETS`], computed once.
    hourly: Vec<Vec<Candle>>,
    faults: Mutex<Vec<FaultRule>>,
    calls: Mutex<HashMap<String, u64>>,
    used_weight: AtomicU64,
}

/// A running fake; the server stops when this is dropped.
pub struct FakeBinance {
    addr: SocketAddr,
    fake: Arc<Fake>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBinance {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeBinance {
    /// Starts on 127.0.0.1 with a free port.
    pub async fn start() -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the fake Binance")
    }

    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let fake = Arc::new(Fake {
            hourly: hourly_candles(&parse_fixture()),
            faults: Mutex::new(Vec::new()),
            calls: Mutex::new(HashMap::new()),
            used_weight: AtomicU64::new(0),
        });
        let app = router(Arc::clone(&fake));
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake Binance stopped: {e}");
            }
        });
        Ok(Self { addr, fake, server })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every path answers with `fault` until cleared.
    pub fn set_fault(&self, fault: Fault) {
        self.push_fault(None, fault, None);
    }

    /// `path` answers with `fault` until cleared.
    pub fn set_path_fault(&self, path: &str, fault: Fault) {
        self.push_fault(Some(path.to_owned()), fault, None);
    }

    /// The next `times` responses (any path) have `fault`.
    pub fn set_fault_times(&self, fault: Fault, times: u32) {
        self.push_fault(None, fault, Some(times));
    }

    pub fn clear_faults(&self) {
        self.fake.faults.lock().unwrap().clear();
    }

    /// Requests received on `path`, faulted ones included.
    pub fn calls(&self, path: &str) -> u64 {
        self.fake
            .calls
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_calls(&self) -> u64 {
        self.fake.calls.lock().unwrap().values().sum()
    }

    /// The hourly BTCUSDT candles as served (for expected values in tests).
    pub fn btcusdt_1h(&self) -> Vec<Candle> {
        self.fake.hourly(&MARKETS[0]).to_vec()
    }

    fn push_fault(&self, path: Option<String>, fault: Fault, remaining: Option<u32>) {
        self.fake.faults.lock().unwrap().push(FaultRule {
            path,
            fault,
            remaining,
        });
    }
}

fn router(fake: Arc<Fake>) -> Router {
    Router::new()
        .route("/api/v3/ping", get(|| async { Json(json!({})) }))
        .route(
            "/api/v3/time",
            get(|| async { Json(json!({ "serverTime": FAKE_NOW_MS })) }),
        )
        .route("/api/v3/exchangeInfo", get(exchange_info))
        .route("/api/v3/klines", get(klines))
        .route("/api/v3/ticker/24hr", get(ticker_24hr))
        .route("/api/v3/ticker", get(ticker_window))
        .route("/api/v3/ticker/price", get(ticker_price))
        .route("/api/v3/ticker/bookTicker", get(book_ticker))
        .route("/api/v3/depth", get(depth))
        .route("/api/v3/trades", get(trades))
        .route("/api/v3/aggTrades", get(agg_trades))
        .route("/fapi/v1/exchangeInfo", get(futures_exchange_info))
        .route("/fapi/v1/premiumIndex", get(premium_index))
        .route("/fapi/v1/fundingRate", get(funding_rate))
        .route("/fapi/v1/openInterest", get(open_interest))
        .route("/futures/data/openInterestHist", get(open_interest_hist))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&fake),
            count_and_fault,
        ))
        .with_state(fake)
}

/// Counts the call, adds the weight header, and applies any fault.
async fn count_and_fault(State(fake): State<Arc<Fake>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    *fake.calls.lock().unwrap().entry(path.clone()).or_default() += 1;
    let weight = fake
        .used_weight
        .fetch_add(weight_of(&path), Ordering::Relaxed)
        + weight_of(&path);
    let fault = fake.take_fault(&path);
    let mut response = match fault {
        None => next.run(request).await,
        Some(Fault::RateLimited { retry_after }) => limited(
            StatusCode::TOO_MANY_REQUESTS,
            retry_after,
            "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
        ),
        Some(Fault::Banned { retry_after }) => limited(
            StatusCode::IM_A_TEAPOT,
            retry_after,
            "Way too much request weight used; IP banned until 1738366260000. Please use WebSocket Streams for live updates to avoid bans.",
        ),
        Some(Fault::RegionBlocked) => (
            StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
            Json(json!({ "code": 0, "msg": REGION_BLOCKED_MSG })),
        )
            .into_response(),
        Some(Fault::ServerError) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "code": -1000, "msg": "An unknown error occurred while processing the request." })),
        )
            .into_response(),
        Some(Fault::Slow { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(request).await
        }
        Some(Fault::Hang) => std::future::pending().await,
        Some(Fault::Malformed) => json_body("{\"symbol\": \"BTCUSDT\", \"price\": <html>oops</html>".to_owned()),
        Some(Fault::Truncated) => {
            let body = axum::body::to_bytes(next.run(request).await.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            json_body(String::from_utf8_lossy(&body[..body.len() / 2]).into_owned())
        }
    };
    response
        .headers_mut()
        .insert("x-mbx-used-weight-1m", HeaderValue::from(weight));
    response
}

fn limited(status: StatusCode, retry_after: Option<u64>, msg: &str) -> Response {
    let mut response = (status, Json(json!({ "code": -1003, "msg": msg }))).into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn json_body(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Documented request weights, simplified to one value per path.
fn weight_of(path: &str) -> u64 {
    match path {
        "/api/v3/exchangeInfo" => 20,
        "/api/v3/trades" => 25,
        "/api/v3/depth" => 5,
        "/api/v3/aggTrades" | "/api/v3/ticker" => 4,
        "/api/v3/klines"
        | "/api/v3/ticker/24hr"
        | "/api/v3/ticker/price"
        | "/api/v3/ticker/bookTicker" => 2,
        _ => 1,
    }
}

impl Fake {
    fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut rules = self.faults.lock().unwrap();
        let index = rules
            .iter()
            .position(|rule| rule.path.as_deref().is_none_or(|p| p == path))?;
        let rule = &mut rules[index];
        let fault = rule.fault.clone();
        if let Some(remaining) = &mut rule.remaining {
            *remaining -= 1;
            if *remaining == 0 {
                rules.remove(index);
            }
        }
        Some(fault)
    }

    fn hourly(&self, market: &Market) -> &[Candle] {
        let index = MARKETS
            .iter()
            .position(|m| m.symbol == market.symbol)
            .unwrap_or(0);
        &self.hourly[index]
    }

    /// Candles of `market` per `interval_ms`, bucketed from `offset_ms`.
    fn candles(&self, market: &Market, interval_ms: i64, offset_ms: i64) -> Vec<Candle> {
        let mut out: Vec<Candle> = Vec::new();
        for hour in self.hourly(market) {
            let bucket = hour.open_time - (hour.open_time - offset_ms).rem_euclid(interval_ms);
            match out.last_mut() {
                Some(last) if last.open_time == bucket => {
                    last.high = last.high.max(hour.high);
                    last.low = last.low.min(hour.low);
                    last.close = hour.close;
                    last.volume += hour.volume;
                    last.quote_volume += hour.quote_volume;
                    last.trades += hour.trades;
                    last.taker_base += hour.taker_base;
                    last.taker_quote += hour.taker_quote;
                }
                _ => out.push(Candle {
                    open_time: bucket,
                    close_time: bucket + interval_ms - 1,
                    ..hour.clone()
                }),
            }
        }
        out
    }
}

/// Every market's hourly candles: the fixture scaled, with the synthetic
/// columns filled in.
fn hourly_candles(rows: &[(i64, [Decimal; 5])]) -> Vec<Vec<Candle>> {
    MARKETS
        .iter()
        .map(|market| {
            let price_scale = dec(market.price_scale);
            let qty_scale = dec(market.qty_scale);
            let price = |d: Decimal| (d * price_scale).round_dp(market.price_dp);
            rows.iter()
                .map(|&(open_time, [open, high, low, close, volume])| {
                    synthesise(
                        open_time,
                        [price(open), price(high), price(low), price(close)],
                        (volume * qty_scale).round_dp(8),
                    )
                })
                .collect()
        })
        .collect()
}

fn synthesise(open_time: i64, [open, high, low, close]: [Decimal; 4], volume: Decimal) -> Candle {
    let quote_volume = (volume * (open + high + low + close) / Decimal::from(4)).round_dp(8);
    let taker_ratio = Decimal::new(45 + (open_time / HOUR_MS).rem_euclid(10), 2);
    Candle {
        open_time,
        close_time: open_time + HOUR_MS - 1,
        open,
        high,
        low,
        close,
        volume,
        quote_volume,
        trades: (volume * Decimal::TEN).floor().to_u64().unwrap_or_default() + 100,
        taker_base: (volume * taker_ratio).round_dp(8),
        taker_quote: (quote_volume * taker_ratio).round_dp(8),
    }
}

/// The CSV's `open_time` is in microseconds; Binance's REST API uses ms.
fn parse_fixture() -> Vec<(i64, [Decimal; 5])> {
    FIXTURE_CSV
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let micros: i64 = fields[0].parse().expect("fixture open_time");
            let values = [1, 2, 3, 4, 5].map(|i| dec(fields[i]));
            (micros / 1000, values)
        })
        .collect()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text.trim()).expect("fixture decimal")
}

/// Binance's usual 8-decimal string.
pub fn fmt8(value: Decimal) -> String {
    fmt_dp(value, 8)
}

fn fmt_dp(value: Decimal, dp: u32) -> String {
    let mut value = value.round_dp(dp);
    value.rescale(dp);
    value.to_string()
}

// ---------------------------------------------------------------------------
// Request parsing and Binance-style errors.

type Params = Query<HashMap<String, String>>;
type Answer = Result<Response, ApiError>;

/// A 400 with Binance's `{code, msg}` body.
struct ApiError(i64, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "code": self.0, "msg": self.1 })),
        )
            .into_response()
    }
}

fn invalid_symbol() -> ApiError {
    ApiError(-1121, "Invalid symbol.".to_owned())
}

fn find_market(symbol: &str) -> Result<&'static Market, ApiError> {
    MARKETS
        .iter()
        .find(|m| m.symbol == symbol)
        .ok_or_else(invalid_symbol)
}

fn required_market(params: &HashMap<String, String>) -> Result<&'static Market, ApiError> {
    let symbol = params.get("symbol").ok_or_else(|| {
        ApiError(
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.".to_owned(),
        )
    })?;
    find_market(symbol)
}

/// `symbol=X` → one, `symbols=[...]` → several, neither → all.
fn requested_markets(
    params: &HashMap<String, String>,
) -> Result<(Vec<&'static Market>, bool), ApiError> {
    if let Some(symbol) = params.get("symbol") {
        return Ok((vec![find_market(symbol)?], true));
    }
    if let Some(list) = params.get("symbols") {
        let names: Vec<String> = serde_json::from_str(list).map_err(|_| {
            ApiError(
                -1100,
                "Illegal characters found in parameter 'symbols'.".to_owned(),
            )
        })?;
        let markets = names
            .iter()
            .map(|n| find_market(n))
            .collect::<Result<_, _>>()?;
        return Ok((markets, false));
    }
    Ok((MARKETS.iter().collect(), false))
}

fn number(params: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    params
        .get(name)
        .map(|v| v.parse::<i64>())
        .transpose()
        .map_err(|_| {
            ApiError(
                -1100,
                format!("Illegal characters found in parameter '{name}'."),
            )
        })
}

/// `limit` within `1..=max`, `default` when absent.
fn limit(params: &HashMap<String, String>, default: i64, max: i64) -> Result<usize, ApiError> {
    let limit = number(params, "limit")?.unwrap_or(default).clamp(1, max);
    Ok(usize::try_from(limit).unwrap_or(1))
}

/// Binance's range rule over `len` items sorted by `time_of(index)`: those
/// with `startTime <= time <= endTime`; with a start, the first `limit` of
/// them, otherwise the last `limit`.
fn select(
    len: usize,
    time_of: impl Fn(usize) -> i64,
    params: &HashMap<String, String>,
    limit: usize,
) -> Result<std::ops::Range<usize>, ApiError> {
    let start = number(params, "startTime")?;
    let end = number(params, "endTime")?;
    let first_where = |pred: &dyn Fn(i64) -> bool| {
        let (mut lo, mut hi) = (0, len);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if pred(time_of(mid)) {
                hi = mid
            } else {
                lo = mid + 1
            }
        }
        lo
    };
    let lo = start.map_or(0, |s| first_where(&|t| t >= s));
    let hi = end.map_or(len, |e| first_where(&|t| t > e)).max(lo);
    Ok(if start.is_some() {
        lo..hi.min(lo + limit)
    } else {
        hi.saturating_sub(limit).max(lo)..hi
    })
}

fn one_or_many(mut values: Vec<Value>, single: bool) -> Response {
    if single && values.len() == 1 {
        Json(values.remove(0)).into_response()
    } else {
        Json(Value::Array(values)).into_response()
    }
}

fn tick(market: &Market) -> Decimal {
    Decimal::new(1, market.price_dp)
}

fn step(market: &Market) -> Decimal {
    Decimal::new(1, market.qty_dp)
}

// ---------------------------------------------------------------------------
// Spot handlers.

async fn exchange_info(State(_): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let (markets, _) = requested_markets(&params)?;
    let symbols: Vec<Value> = markets.iter().map(|m| spot_symbol_json(m)).collect();
    Ok(Json(json!({
        "timezone": "UTC",
        "serverTime": FAKE_NOW_MS,
        "rateLimits": [
            { "rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000 },
            { "rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100 },
            { "rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000 }
        ],
        "exchangeFilters": [],
        "symbols": symbols,
        "sors": [{ "baseAsset": "BTC", "symbols": ["BTCUSDT", "BTCUSDC"] }]
    }))
    .into_response())
}

fn spot_symbol_json(market: &Market) -> Value {
    let min_notional = if market.quote == "BTC" {
        "0.00010000"
    } else {
        "5.00000000"
    };
    json!({
        "symbol": market.symbol,
        "status": market.status,
        "baseAsset": market.base,
        "baseAssetPrecision": 8,
        "quoteAsset": market.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": true,
        "ocoAllowed": true,
        "otoAllowed": true,
        "opoAllowed": true,
        "quoteOrderQtyMarketAllowed": true,
        "allowTrailingStop": false,
        "cancelReplaceAllowed": false,
        "amendAllowed": false,
        "pegInstructionsAllowed": true,
        "isSpotTradingAllowed": true,
        "isMarginTradingAllowed": true,
        "filters": [
            { "filterType": "PRICE_FILTER", "minPrice": fmt8(tick(market)), "maxPrice": "1000000.00000000", "tickSize": fmt8(tick(market)) },
            { "filterType": "LOT_SIZE", "minQty": fmt8(step(market)), "maxQty": "9000.00000000", "stepSize": fmt8(step(market)) },
            { "filterType": "ICEBERG_PARTS", "limit": 10 },
            { "filterType": "NOTIONAL", "minNotional": min_notional, "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5 },
            { "filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200 }
        ],
        "permissions": [],
        "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]
    })
}

/// Interval → (length, bucket offset); `None` for intervals the hourly
/// fixture cannot produce.
fn interval_buckets(interval: &str) -> Result<Option<(i64, i64)>, ApiError> {
    let hours = match interval {
        "1s" | "1m" | "3m" | "5m" | "15m" | "30m" | "1M" => return Ok(None),
        "1h" => 1,
        "2h" => 2,
        "4h" => 4,
        "6h" => 6,
        "8h" => 8,
        "12h" => 12,
        "1d" => 24,
        "3d" => 72,
        "1w" => return Ok(Some((7 * 24 * HOUR_MS, WEEK_OFFSET_MS))),
        _ => return Err(ApiError(-1120, "Invalid interval.".to_owned())),
    };
    Ok(Some((hours * HOUR_MS, 0)))
}

async fn klines(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let market = required_market(&params)?;
    let interval = params.get("interval").ok_or_else(|| {
        ApiError(
            -1102,
            "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.".to_owned(),
        )
    })?;
    let Some((length, offset)) = interval_buckets(interval)? else {
        return Ok(Json(json!([])).into_response());
    };
    let limit = limit(&params, 500, 1000)?;
    let candles = fake.candles(market, length, offset);
    let range = select(candles.len(), |i| candles[i].open_time, &params, limit)?;
    Ok(Json(
        candles[range]
            .iter()
            .map(Candle::to_json)
            .collect::<Vec<_>>(),
    )
    .into_response())
}

/// Statistics over the last `hours` candles, as the 24h and rolling tickers
/// report them. `firstId`/`lastId` number the trades by the candles'
/// synthetic trade counts; the percent change has 3 decimals as on Binance.
pub fn ticker_stats(candles: &[Candle], hours: usize) -> Value {
    let window = &candles[candles.len() - hours..];
    let (first, last) = (&window[0], &window[window.len() - 1]);
    let high = window.iter().map(|c| c.high).max().unwrap_or_default();
    let low = window.iter().map(|c| c.low).min().unwrap_or_default();
    let volume: Decimal = window.iter().map(|c| c.volume).sum();
    let quote_volume: Decimal = window.iter().map(|c| c.quote_volume).sum();
    let count: u64 = window.iter().map(|c| c.trades).sum();
    let first_id: u64 = candles[..candles.len() - hours]
        .iter()
        .map(|c| c.trades)
        .sum();
    let change = last.close - first.open;
    json!({
        "priceChange": fmt8(change),
        "priceChangePercent": fmt_dp(change / first.open * Decimal::ONE_HUNDRED, 3),
        "weightedAvgPrice": fmt8(quote_volume / volume),
        "openPrice": fmt8(first.open),
        "highPrice": fmt8(high),
        "lowPrice": fmt8(low),
        "lastPrice": fmt8(last.close),
        "volume": fmt8(volume),
        "quoteVolume": fmt8(quote_volume),
        "openTime": first.open_time,
        "closeTime": last.close_time,
        "firstId": first_id,
        "lastId": first_id + count - 1,
        "count": count
    })
}

/// The 24h ticker of `market`: [`ticker_stats`] over 24 candles, plus the
/// close before them, the book top of [`depth`] and a last trade of one step
/// × 1000.
pub fn ticker_24hr_json(candles: &[Candle], market: &Market) -> Value {
    let mut stats = ticker_stats(candles, 24);
    let last = candles[candles.len() - 1].close;
    let extra = json!({
        "symbol": market.symbol,
        "prevClosePrice": fmt8(candles[candles.len() - 25].close),
        "lastQty": fmt8(step(market) * Decimal::from(1000)),
        "bidPrice": fmt8(last - tick(market)),
        "bidQty": fmt8(level_qty(market, 0)),
        "askPrice": fmt8(last),
        "askQty": fmt8(level_qty(market, 0)),
    });
    if let (Some(stats), Some(extra)) = (stats.as_object_mut(), extra.as_object()) {
        stats.extend(extra.clone());
    }
    stats
}

async fn ticker_24hr(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let (markets, single) = requested_markets(&params)?;
    let tickers = markets
        .iter()
        .map(|m| ticker_24hr_json(fake.hourly(m), m))
        .collect();
    Ok(one_or_many(tickers, single))
}

/// Rolling window: `Nh` covers N candles, `Nd` 24·N, and minute windows the
/// last candle (the fixture has nothing finer).
async fn ticker_window(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    if !params.contains_key("symbol") && !params.contains_key("symbols") {
        return Err(ApiError(
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.".to_owned(),
        ));
    }
    let (markets, single) = requested_markets(&params)?;
    let window = params.get("windowSize").map_or("1d", String::as_str);
    let bad_window = || {
        ApiError(
            -1100,
            "Illegal characters found in parameter 'windowSize'.".to_owned(),
        )
    };
    let (amount, unit) = window.split_at(window.len().saturating_sub(1));
    let amount: usize = amount.parse().map_err(|_| bad_window())?;
    let hours = match (unit, amount) {
        ("m", 1..=59) => 1,
        ("h", 1..=23) => amount,
        ("d", 1..=7) => 24 * amount,
        _ => return Err(bad_window()),
    };
    let tickers = markets
        .iter()
        .map(|m| {
            let mut stats = ticker_stats(fake.hourly(m), hours);
            stats["symbol"] = json!(m.symbol);
            stats
        })
        .collect();
    Ok(one_or_many(tickers, single))
}

fn last_close(fake: &Fake, market: &Market) -> Decimal {
    fake.hourly(market)
        .last()
        .map(|c| c.close)
        .unwrap_or_default()
}

async fn ticker_price(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let (markets, single) = requested_markets(&params)?;
    let prices = markets
        .iter()
        .map(|m| json!({ "symbol": m.symbol, "price": fmt8(last_close(&fake, m)) }))
        .collect();
    Ok(one_or_many(prices, single))
}

async fn book_ticker(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let (markets, single) = requested_markets(&params)?;
    let books = markets
        .iter()
        .map(|m| {
            let last = last_close(&fake, m);
            json!({
                "symbol": m.symbol,
                "bidPrice": fmt8(last - tick(m)),
                "bidQty": fmt8(level_qty(m, 0)),
                "askPrice": fmt8(last),
                "askQty": fmt8(level_qty(m, 0)),
            })
        })
        .collect();
    Ok(one_or_many(books, single))
}

/// Quantity at book level `k` (0 = best): (k mod 50 + 1) × step × 1000.
pub fn level_qty(market: &Market, k: usize) -> Decimal {
    Decimal::from(k % 50 + 1) * step(market) * Decimal::from(1000)
}

/// The book: best ask at the last close, best bid one tick below, then one
/// tick per level outwards, with [`level_qty`] quantities.
async fn depth(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let market = required_market(&params)?;
    let levels = limit(&params, 100, 5000)?;
    let last = last_close(&fake, market);
    let side = |sign: i64, first: Decimal| -> Vec<Value> {
        (0..levels)
            .map(|k| {
                let price = first + Decimal::from(sign) * tick(market) * Decimal::from(k);
                json!([fmt8(price), fmt8(level_qty(market, k))])
            })
            .collect()
    };
    Ok(Json(json!({
        "lastUpdateId": FIRST_UPDATE_ID,
        "bids": side(-1, last - tick(market)),
        "asks": side(1, last),
    }))
    .into_response())
}

/// Trade `i` of the synthetic tape, one a minute at :30 s: the price moves
/// linearly from the candle's open to its close, the quantity is
/// ((i·37 mod 100) + 1) × step × 100, and every third is a buyer-maker.
/// Computed one at a time: the tape has 44 640 trades.
pub struct TapeTrade {
    pub id: usize,
    pub price: Decimal,
    pub qty: Decimal,
    pub time: i64,
    pub is_buyer_maker: bool,
}

fn tape_time(candles: &[Candle], i: usize) -> i64 {
    let minute = (i % TRADES_PER_CANDLE) as i64;
    candles[i / TRADES_PER_CANDLE].open_time + minute * 60_000 + 30_000
}

pub fn tape_trade(candles: &[Candle], market: &Market, i: usize) -> TapeTrade {
    let candle = &candles[i / TRADES_PER_CANDLE];
    let progress = Decimal::from(i % TRADES_PER_CANDLE) / Decimal::from(TRADES_PER_CANDLE - 1);
    TapeTrade {
        id: i,
        price: (candle.open + (candle.close - candle.open) * progress).round_dp(market.price_dp),
        qty: Decimal::from((i * 37) % 100 + 1) * step(market) * Decimal::ONE_HUNDRED,
        time: tape_time(candles, i),
        is_buyer_maker: i.is_multiple_of(3),
    }
}

async fn trades(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let market = required_market(&params)?;
    let limit = limit(&params, 500, 1000)?;
    let candles = fake.hourly(market);
    let len = candles.len() * TRADES_PER_CANDLE;
    let trades: Vec<Value> = (len.saturating_sub(limit)..len)
        .map(|i| {
            let t = tape_trade(candles, market, i);
            json!({
                "id": t.id,
                "price": fmt8(t.price),
                "qty": fmt8(t.qty),
                "quoteQty": fmt8(t.price * t.qty),
                "time": t.time,
                "isBuyerMaker": t.is_buyer_maker,
                "isBestMatch": true
            })
        })
        .collect();
    Ok(Json(trades).into_response())
}

async fn agg_trades(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let market = required_market(&params)?;
    let limit = limit(&params, 500, 1000)?;
    let candles = fake.hourly(market);
    let len = candles.len() * TRADES_PER_CANDLE;
    let range = select(len, |i| tape_time(candles, i), &params, limit)?;
    let trades: Vec<Value> = range
        .map(|i| {
            let t = tape_trade(candles, market, i);
            json!({
                "a": t.id, "p": fmt8(t.price), "q": fmt8(t.qty),
                "f": t.id, "l": t.id, "T": t.time, "m": t.is_buyer_maker, "M": true
            })
        })
        .collect();
    Ok(Json(trades).into_response())
}

// ---------------------------------------------------------------------------
// USD-M futures handlers: the perpetuals are the markets marked `perpetual`.

fn perpetual(params: &HashMap<String, String>) -> Result<&'static Market, ApiError> {
    let market = required_market(params)?;
    if market.perpetual {
        Ok(market)
    } else {
        Err(invalid_symbol())
    }
}

async fn futures_exchange_info() -> Response {
    let mut symbols: Vec<Value> = MARKETS
        .iter()
        .filter(|m| m.perpetual)
        .map(|m| {
            json!({
                "symbol": m.symbol, "pair": m.symbol, "contractType": "PERPETUAL",
                "deliveryDate": 4_133_404_800_000_i64, "onboardDate": 1_569_398_400_000_i64,
                "status": "TRADING", "baseAsset": m.base, "quoteAsset": m.quote, "marginAsset": m.quote,
                "pricePrecision": m.price_dp, "quantityPrecision": m.qty_dp,
                "underlyingType": "COIN", "filters": [
                    { "filterType": "PRICE_FILTER", "tickSize": fmt_dp(tick(m), m.price_dp), "minPrice": "0.10", "maxPrice": "4529764" }
                ]
            })
        })
        .collect();
    symbols.push(json!({
        "symbol": "BTCUSDT_250328", "pair": "BTCUSDT", "contractType": "CURRENT_QUARTER",
        "deliveryDate": 1_743_148_800_000_i64, "onboardDate": 1_727_337_600_000_i64,
        "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT", "marginAsset": "USDT",
        "pricePrecision": 1, "quantityPrecision": 3, "underlyingType": "COIN", "filters": []
    }));
    Json(json!({
        "timezone": "UTC",
        "serverTime": FAKE_NOW_MS,
        "futuresType": "U_MARGINED",
        "rateLimits": [{ "rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400 }],
        "exchangeFilters": [],
        "assets": [],
        "symbols": symbols
    }))
    .into_response()
}

/// Funding every 8 h from the first candle: rate k =
/// 0.0001 + 0.00001 × ((7k mod 11) − 5), mark price the close of that hour.
pub fn funding_history(candles: &[Candle]) -> Vec<(i64, Decimal, Decimal)> {
    let per_funding = usize::try_from(FUNDING_EVERY_MS / HOUR_MS).unwrap_or(8);
    candles
        .iter()
        .step_by(per_funding)
        .enumerate()
        .map(|(k, candle)| {
            let rate = Decimal::new(10, 5) + Decimal::new(((7 * k as i64) % 11) - 5, 5);
            (candle.open_time, rate, candle.close)
        })
        .collect()
}

/// Mark = last close, index = mark × 0.9999 (to the tick), funding = the
/// latest of [`funding_history`], next funding at 2025-02-01 00:00 UTC.
async fn premium_index(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let (markets, single) = if params.contains_key("symbol") {
        (vec![perpetual(&params)?], true)
    } else {
        (MARKETS.iter().filter(|m| m.perpetual).collect(), false)
    };
    let entries = markets
        .iter()
        .map(|m| {
            let candles = fake.hourly(m);
            let mark = candles[candles.len() - 1].close;
            let index = (mark * Decimal::new(9999, 4)).round_dp(m.price_dp);
            let rate = funding_history(candles)
                .last()
                .map(|f| f.1)
                .unwrap_or_default();
            json!({
                "symbol": m.symbol,
                "markPrice": fmt8(mark),
                "indexPrice": fmt8(index),
                "estimatedSettlePrice": fmt8(index),
                "lastFundingRate": fmt8(rate),
                "interestRate": "0.00010000",
                "nextFundingTime": 1_738_368_000_000_i64,
                "time": FAKE_NOW_MS
            })
        })
        .collect();
    Ok(one_or_many(entries, single))
}

async fn funding_rate(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let market = perpetual(&params)?;
    let limit = limit(&params, 100, 1000)?;
    let history = funding_history(fake.hourly(market));
    let range = select(history.len(), |i| history[i].0, &params, limit)?;
    let records: Vec<Value> = history[range]
        .iter()
        .map(|(time, rate, mark)| {
            json!({ "symbol": market.symbol, "fundingRate": fmt8(*rate), "fundingTime": time, "markPrice": fmt8(*mark) })
        })
        .collect();
    Ok(Json(records).into_response())
}

/// Open interest in hour `i`: (80000 + 12.345 × (17i mod 100)) × qty scale,
/// to 3 decimals.
pub fn open_interest_at(market: &Market, hour_index: usize) -> Decimal {
    let btc =
        Decimal::from(80_000) + Decimal::new(12_345, 3) * Decimal::from((hour_index * 17) % 100);
    (btc * dec(market.qty_scale)).round_dp(3)
}

async fn open_interest(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let market = perpetual(&params)?;
    let hours = fake.hourly(market).len();
    Ok(Json(json!({
        "openInterest": fmt_dp(open_interest_at(market, hours - 1), 3),
        "symbol": market.symbol,
        "time": FAKE_NOW_MS
    }))
    .into_response())
}

/// Points every `period` from the first candle up to the fake's now, each
/// with the open interest of its hour valued at that hour's close.
async fn open_interest_hist(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let market = perpetual(&params)?;
    let period_ms = match params.get("period").map(String::as_str) {
        Some("5m") => 5 * 60_000,
        Some("15m") => 15 * 60_000,
        Some("30m") => 30 * 60_000,
        Some("1h") => HOUR_MS,
        Some("2h") => 2 * HOUR_MS,
        Some("4h") => 4 * HOUR_MS,
        Some("6h") => 6 * HOUR_MS,
        Some("12h") => 12 * HOUR_MS,
        Some("1d") => 24 * HOUR_MS,
        _ => return Err(ApiError(-1130, "Invalid period.".to_owned())),
    };
    let limit = limit(&params, 30, 500)?;
    let candles = fake.hourly(market);
    let first = candles[0].open_time;
    let times: Vec<i64> = (0..)
        .map(|k| first + k * period_ms)
        .take_while(|t| *t <= FAKE_NOW_MS)
        .collect();
    let range = select(times.len(), |i| times[i], &params, limit)?;
    let points: Vec<Value> = times[range]
        .iter()
        .map(|&time| {
            let hour = usize::try_from((time - first) / HOUR_MS).unwrap_or_default();
            let oi = open_interest_at(market, hour);
            json!({
                "symbol": market.symbol,
                "sumOpenInterest": fmt8(oi),
                "sumOpenInterestValue": fmt8(oi * candles[hour].close),
                "CMCCirculatingSupply": "19813868.000",
                "timestamp": time.to_string()
            })
        })
        .collect();
    Ok(Json(points).into_response())
}
