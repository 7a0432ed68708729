//! A fake Binance on loopback, for tests, benchmarks and the offline demo.
//!
//! It serves the documented response shapes of the public spot and USD-M
//! futures endpoints from real data: the BTCUSDT 1h candles of January 2025
//! in `tests/data/btcusdt-1h.csv` (from Binance via the quantedge-ta crate).
//! Everything else is derived from them deterministically, so tests can
//! assert exact values:
//! - Other symbols are BTCUSDT scaled: price × `price_scale` rounded to the
//!   symbol's tick, volume × `qty_scale` rounded to 8 dp ([`data::MARKETS`]).
//! - Intervals of 1h and longer aggregate the hourly candles (weeks start on
//!   Monday). `1m` to `30m` split each hour along its path (see
//!   [`data`]), so 5m has 8,928 candles. `1s` and `1M` answer an empty list.
//! - The kline columns missing from the CSV are synthetic: quote volume =
//!   volume × (open+high+low+close)/4; trades = ⌊volume × 10⌋ + 100; taker
//!   buy base = volume × r and taker buy quote = quote volume × r, with
//!   r = 0.45 + 0.01 × (hours since the epoch mod 10); all rounded to 8 dp.
//! - USD-M candles (trade, mark, index, premium) are the spot candles
//!   transformed as [`data::futures_series`] says.
//! - The fake's clock stands at [`FAKE_NOW_MS`], half-way through the last
//!   candle. Tickers cover the last 24 candles (see [`spot::ticker_stats`]); the
//!   book, trades, funding, open interest and the positioning statistics
//!   follow the formulas at their handlers. The statistics keep only the
//!   last 30 days, as Binance does.
//!
//! Every request is charged its documented weight (spot and futures
//! separately, in calendar minutes of [`FakeOptions::clock`]) and the
//! count is sent back in `X-MBX-USED-WEIGHT-1M`. With
//! [`FakeOptions::weight_limit`] set, `exchangeInfo` advertises that limit
//! and a request beyond it gets Binance's 429, counted by
//! [`FakeBinance::limit_429s`].
//!
//! Faults are switched at run time ([`FakeBinance::set_fault`]) for every
//! path or one, and calls are counted per path. This folder uses no code of
//! the crate, so `examples/fake_binance.rs` can include it too; the two use
//! different parts of it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod data;
pub mod futures;
mod request;
pub mod spot;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use data::{Candle, HOUR_MS, MARKETS, Market};

/// 2025-01-31 23:30:00 UTC: the fake's "now", inside the last candle.
pub const FAKE_NOW_MS: i64 = 1_738_366_200_000;
/// Binance's documented REQUEST_WEIGHT per minute, advertised when no
/// limit is configured.
const SPOT_WEIGHT_LIMIT: u64 = 6000;
const FUTURES_WEIGHT_LIMIT: u64 = 2400;
const MINUTE_MS: i64 = 60_000;

const REGION_BLOCKED_MSG: &str = "Service unavailable from a restricted location according to 'b. Eligibility' in https://www.binance.com/en/terms. Please contact customer service if you believe you received this message in error.";

/// Unix milliseconds, as the fake's weight minutes see them.
pub type FakeClock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How a fake is set up; `Default` is the plain fake.
#[derive(Default, Clone)]
pub struct FakeOptions {
    /// REQUEST_WEIGHT per minute, for spot and for futures each, enforced
    /// with 429s and advertised in `exchangeInfo`. `None`: counted only.
    pub weight_limit: Option<u64>,
    /// The time of the weight minutes; the system clock when `None`.
    pub clock: Option<FakeClock>,
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
    /// 200 with `rows` kline rows, whatever was asked for.
    Flood { rows: usize },
}

impl FromStr for Fault {
    type Err = String;

    /// `429[:secs]`, `418[:secs]`, `451`, `500`, `slow:MS`, `hang`,
    /// `malformed`, `truncated`, `flood:ROWS`.
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
            "flood" => Fault::Flood {
                rows: number(arg)?.ok_or("flood needs a row count, as flood:200000")? as usize,
            },
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
    /// How long it lasts once it first answers, in ms; `None` for good.
    lasts_ms: Option<i64>,
    /// When it stops (Unix ms on the fake's clock), once it has answered.
    ends_at: Option<i64>,
}

struct Fake {
    /// Hourly candles per market, in the order of [`MARKETS`], computed once.
    hourly: Vec<Vec<Candle>>,
    faults: Mutex<Vec<FaultRule>>,
    calls: Mutex<HashMap<String, u64>>,
    /// Weight used per API (spot, futures) in the minute it is for.
    weights: Mutex<[(i64, u64); 2]>,
    weight_limit: Option<u64>,
    clock: FakeClock,
    limit_429s: AtomicU64,
    /// Open times whose candles are missing, as during a halt.
    halts: Mutex<Vec<(i64, i64)>>,
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
        Self::start_with(FakeOptions::default()).await
    }

    /// Starts on 127.0.0.1 with a free port and `options`.
    pub async fn start_with(options: FakeOptions) -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), options)
            .await
            .expect("bind the fake Binance")
    }

    pub async fn start_on(addr: SocketAddr, options: FakeOptions) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let fake = Arc::new(Fake {
            hourly: data::hourly_candles(),
            faults: Mutex::new(Vec::new()),
            calls: Mutex::new(HashMap::new()),
            weights: Mutex::new([(0, 0); 2]),
            weight_limit: options.weight_limit,
            clock: options.clock.unwrap_or_else(|| Arc::new(system_ms)),
            limit_429s: AtomicU64::new(0),
            halts: Mutex::new(Vec::new()),
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

    /// A `--fault` as the example's command line documents it, on `path`
    /// or every path: `429:SECS` and `418:SECS` refuse for SECS seconds
    /// from the first response they refuse (as Binance's Retry-After
    /// promises), then the fake answers normally; every other fault lasts
    /// until cleared.
    pub fn set_cli_fault(&self, path: Option<&str>, fault: Fault) {
        let lasts_ms = match fault {
            Fault::RateLimited {
                retry_after: Some(secs),
            }
            | Fault::Banned {
                retry_after: Some(secs),
            } => Some(
                i64::try_from(secs)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(1_000),
            ),
            _ => None,
        };
        self.fake.faults.lock().unwrap().push(FaultRule {
            path: path.map(str::to_owned),
            fault,
            remaining: None,
            lasts_ms,
            ends_at: None,
        });
    }

    pub fn clear_faults(&self) {
        self.fake.faults.lock().unwrap().clear();
    }

    /// Candles opening in `from..=to` (Unix ms) are missing from every
    /// klines answer from now on, as during a trading halt.
    pub fn halt(&self, from: i64, to: i64) {
        self.fake.halts.lock().unwrap().push((from, to));
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

    /// 429s answered because a request went past the weight limit.
    pub fn limit_429s(&self) -> u64 {
        self.fake.limit_429s.load(Ordering::Relaxed)
    }

    /// The hourly BTCUSDT candles as served (for expected values in tests).
    pub fn btcusdt_1h(&self) -> Vec<Candle> {
        self.fake.hourly(&MARKETS[0]).to_vec()
    }

    /// Every candle of `symbol` at `interval` as spot klines serves them.
    pub fn candles(&self, symbol: &str, interval: &str) -> Vec<Candle> {
        let market = MARKETS
            .iter()
            .find(|m| m.symbol == symbol)
            .expect("a listed symbol");
        self.fake
            .interval_candles(market, interval)
            .expect("a valid interval")
    }

    fn push_fault(&self, path: Option<String>, fault: Fault, remaining: Option<u32>) {
        self.fake.faults.lock().unwrap().push(FaultRule {
            path,
            fault,
            remaining,
            lasts_ms: None,
            ends_at: None,
        });
    }
}

fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn router(fake: Arc<Fake>) -> Router {
    Router::new()
        .route("/api/v3/ping", get(|| async { Json(json!({})) }))
        .route(
            "/api/v3/time",
            get(|| async { Json(json!({ "serverTime": FAKE_NOW_MS })) }),
        )
        .route("/api/v3/exchangeInfo", get(spot::exchange_info))
        .route("/api/v3/klines", get(spot::klines))
        .route("/api/v3/ticker/24hr", get(spot::ticker_24hr))
        .route("/api/v3/ticker", get(spot::ticker_window))
        .route("/api/v3/ticker/price", get(spot::ticker_price))
        .route("/api/v3/ticker/bookTicker", get(spot::book_ticker))
        .route("/api/v3/depth", get(spot::depth))
        .route("/api/v3/trades", get(spot::trades))
        .route("/api/v3/aggTrades", get(spot::agg_trades))
        .route("/fapi/v1/exchangeInfo", get(futures::exchange_info))
        .route("/fapi/v1/premiumIndex", get(futures::premium_index))
        .route("/fapi/v1/fundingRate", get(futures::funding_rate))
        .route("/fapi/v1/openInterest", get(futures::open_interest))
        .route("/fapi/v1/klines", get(futures::trade_klines))
        .route("/fapi/v1/markPriceKlines", get(futures::mark_klines))
        .route("/fapi/v1/indexPriceKlines", get(futures::index_klines))
        .route("/fapi/v1/premiumIndexKlines", get(futures::premium_klines))
        .route(
            "/futures/data/openInterestHist",
            get(futures::open_interest_hist),
        )
        .route(
            "/futures/data/globalLongShortAccountRatio",
            get(futures::global_long_short),
        )
        .route(
            "/futures/data/topLongShortAccountRatio",
            get(futures::top_long_short_accounts),
        )
        .route(
            "/futures/data/topLongShortPositionRatio",
            get(futures::top_long_short_positions),
        )
        .route(
            "/futures/data/takerlongshortRatio",
            get(futures::taker_volume),
        )
        .route("/futures/data/basis", get(futures::basis))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&fake),
            count_and_fault,
        ))
        .with_state(fake)
}

/// Counts the call, charges its weight (or answers 429 past the limit),
/// adds the weight header, and applies any fault.
async fn count_and_fault(State(fake): State<Arc<Fake>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    *fake.calls.lock().unwrap().entry(path.clone()).or_default() += 1;
    let params = Query::<HashMap<String, String>>::try_from_uri(request.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let (weight, over_limit) = fake.charge(&path, &params);
    if let Some(retry_after) = over_limit {
        fake.limit_429s.fetch_add(1, Ordering::Relaxed);
        let limit = fake.weight_limit.unwrap_or_default();
        let mut response = limited(
            StatusCode::TOO_MANY_REQUESTS,
            Some(retry_after),
            &format!(
                "Too much request weight used; current limit is {limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
            ),
        );
        response
            .headers_mut()
            .insert("x-mbx-used-weight-1m", HeaderValue::from(weight));
        return response;
    }
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
        Some(Fault::Flood { rows }) => {
            let hourly = fake.hourly(&MARKETS[0]);
            let flood: Vec<Value> = (0..rows)
                .map(|i| {
                    let hour = &hourly[i % hourly.len()];
                    let open_time = hourly[0].open_time + i as i64 * HOUR_MS;
                    Candle {
                        open_time,
                        close_time: open_time + HOUR_MS - 1,
                        ..hour.clone()
                    }
                    .to_json()
                })
                .collect();
            Json(flood).into_response()
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

/// The documented weight of a request (see `shared/reference`), 0 where
/// Binance documents none.
fn weight_of(path: &str, params: &HashMap<String, String>) -> u64 {
    let number = |name: &str| params.get(name).and_then(|v| v.parse::<u64>().ok());
    let listed = || {
        params
            .get("symbols")
            .and_then(|list| serde_json::from_str::<Vec<String>>(list).ok())
            .map(|names| names.len() as u64)
    };
    let one = params.contains_key("symbol");
    match path {
        "/api/v3/exchangeInfo" => 20,
        "/api/v3/trades" => 25,
        "/api/v3/aggTrades" => 4,
        "/api/v3/klines" => 2,
        "/api/v3/depth" => match number("limit").unwrap_or(100) {
            0..=100 => 5,
            101..=500 => 25,
            501..=1000 => 50,
            _ => 250,
        },
        "/api/v3/ticker/24hr" => match (one, listed()) {
            (true, _) => 2,
            (_, Some(0..=20)) => 2,
            (_, Some(21..=100)) => 40,
            _ => 80,
        },
        "/api/v3/ticker" => match (one, listed()) {
            (true, _) => 4,
            (_, Some(n)) if n > 50 => 200,
            (_, Some(n)) => 4 * n,
            _ => 0,
        },
        "/api/v3/ticker/price" | "/api/v3/ticker/bookTicker" => {
            if one {
                2
            } else {
                4
            }
        }
        "/fapi/v1/klines"
        | "/fapi/v1/markPriceKlines"
        | "/fapi/v1/indexPriceKlines"
        | "/fapi/v1/premiumIndexKlines" => match number("limit").unwrap_or(500) {
            0..100 => 1,
            100..500 => 2,
            500..=1000 => 5,
            _ => 10,
        },
        "/fapi/v1/premiumIndex" => {
            if one {
                1
            } else {
                10
            }
        }
        "/fapi/v1/fundingRate" => 0,
        path if path.starts_with("/futures/data/") => 0,
        _ => 1,
    }
}

impl Fake {
    /// Charges the weight of a request to its API's minute. Returns the
    /// minute's weight, and with a limit set and passed, the seconds until
    /// the next minute instead of charging.
    fn charge(&self, path: &str, params: &HashMap<String, String>) -> (u64, Option<u64>) {
        let api = usize::from(!path.starts_with("/api/"));
        let now = (self.clock)();
        let minute = now.div_euclid(MINUTE_MS);
        let weight = weight_of(path, params);
        let mut weights = self.weights.lock().unwrap();
        let (counted_minute, used) = &mut weights[api];
        if *counted_minute != minute {
            (*counted_minute, *used) = (minute, 0);
        }
        if let Some(limit) = self.weight_limit
            && *used + weight > limit
        {
            let next = (minute + 1) * MINUTE_MS;
            let secs = u64::try_from((next - now + 999) / 1000).unwrap_or(1);
            return (*used, Some(secs));
        }
        *used += weight;
        (*used, None)
    }

    /// The limit `exchangeInfo` advertises for spot (`false`) or futures.
    fn advertised_limit(&self, futures: bool) -> u64 {
        self.weight_limit.unwrap_or(if futures {
            FUTURES_WEIGHT_LIMIT
        } else {
            SPOT_WEIGHT_LIMIT
        })
    }

    fn take_fault(&self, path: &str) -> Option<Fault> {
        let now = (self.clock)();
        let mut rules = self.faults.lock().unwrap();
        rules.retain(|rule| rule.ends_at.is_none_or(|end| now < end));
        let index = rules
            .iter()
            .position(|rule| rule.path.as_deref().is_none_or(|p| p == path))?;
        let rule = &mut rules[index];
        if let (Some(lasts), None) = (rule.lasts_ms, rule.ends_at) {
            rule.ends_at = Some(now.saturating_add(lasts));
        }
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

    /// The candles of `market` at `interval` with the halted ones left out;
    /// `None` for an unknown interval.
    fn interval_candles(&self, market: &Market, interval: &str) -> Option<Vec<Candle>> {
        let mut candles = data::interval_candles(self.hourly(market), interval)?;
        let halts = self.halts.lock().unwrap();
        candles.retain(|c| {
            !halts
                .iter()
                .any(|(from, to)| (*from..=*to).contains(&c.open_time))
        });
        Some(candles)
    }
}
