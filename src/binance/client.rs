//! The HTTP side: base URLs, timeouts, retries, rate-limit state and the
//! cached request path every endpoint method goes through.
//!
//! A call walks the configured hosts in order. Connection errors, timeouts
//! and 5xx are retried (bounded, with jittered backoff) on the next host.
//! 451 marks a host region-blocked for good and moves on without spending a
//! retry. 429 and 418 end the call and block that host until `Retry-After`:
//! Binance limits by IP, so asking another host would spend the same budget
//! and risk a longer ban. Other 4xx are the caller's mistake and are never
//! retried.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::cache::{Cache, Clock, Fetched, SystemClock};
use super::error::{BinanceError, excerpt};
use super::params::{FUTURES_INTERVALS, SPOT_INTERVALS, Symbol, suggest_symbols};
use super::{futures, spot};

/// Spot hosts tried in order: the market-data-only host first (no keys,
/// its own capacity), then the main API and its GCP mirror.
pub const DEFAULT_SPOT_BASE_URLS: &str =
    "https://data-api.binance.vision,https://api.binance.com,https://api-gcp.binance.com";
pub const DEFAULT_FUTURES_BASE_URL: &str = "https://fapi.binance.com";

/// Wait assumed when a 429/418 comes without a usable `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Largest body read. The full spot exchangeInfo is the biggest answer, a
/// few MB; anything far beyond that is not Binance.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Upper bound of one backoff pause, whatever the attempt number.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Header carrying the IP's request weight used in the current minute.
const USED_WEIGHT_HEADER: &str = "x-mbx-used-weight-1m";
/// Used weight that earns a warning in the logs: 80 % of spot's usual 6000
/// per minute, early enough to act before the 429s start.
const WEIGHT_WARNING: u32 = 4800;

/// How to reach Binance. `Default` gives the production settings.
#[derive(Debug, Clone)]
pub struct BinanceConfig {
    /// Spot base URLs, tried in order (`BINANCE_BASE_URL`, comma-separated).
    pub spot_base_urls: Vec<String>,
    /// USD-M futures base URL (`BINANCE_FUTURES_BASE_URL`).
    pub futures_base_url: String,
    /// Limit on opening one TCP+TLS connection.
    pub connect_timeout: Duration,
    /// Limit on one attempt (connect, send, read the whole body). Shorter
    /// than `request_timeout` so a hung host leaves time to try the next.
    pub attempt_timeout: Duration,
    /// Limit on a whole call, retries and backoff included: no call takes
    /// longer, whatever the upstream does.
    pub request_timeout: Duration,
    /// Retries after a connection error, timeout or 5xx.
    pub max_retries: u32,
    /// First backoff pause; it doubles per retry, with ±50 % jitter.
    pub backoff: Duration,
    pub clock: Arc<dyn Clock>,
}

impl Default for BinanceConfig {
    fn default() -> Self {
        Self {
            spot_base_urls: parse_base_urls(DEFAULT_SPOT_BASE_URLS),
            futures_base_url: DEFAULT_FUTURES_BASE_URL.to_owned(),
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(5),
            // Binance itself gives up after 10 s (-1007).
            request_timeout: Duration::from_secs(10),
            max_retries: 2,
            backoff: Duration::from_millis(50),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Splits a comma-separated `BINANCE_BASE_URL` value.
pub fn parse_base_urls(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A configuration the client cannot work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid Binance configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

/// What the client knows about one host, for status tools and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostStatus {
    pub base_url: String,
    /// Last `X-MBX-USED-WEIGHT-1M` seen from this host.
    pub used_weight_1m: Option<u32>,
    /// Time left on a 429/418 block.
    pub blocked_for: Option<Duration>,
    pub banned: bool,
    pub region_blocked: bool,
}

/// Public market data from Binance spot and USD-M futures. Cheap to clone.
#[derive(Clone)]
pub struct BinanceClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    spot_hosts: Vec<Host>,
    futures_hosts: Vec<Host>,
    attempt_timeout: Duration,
    request_timeout: Duration,
    max_retries: u32,
    backoff: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) spot: spot::Caches,
    pub(crate) futures: futures::Caches,
}

/// Which market a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Spot,
    Futures,
}

/// One GET, described fully enough to cache it and explain its errors.
pub(crate) struct Request {
    pub(crate) api: Api,
    pub(crate) path: &'static str,
    /// Built in a fixed order, so it doubles as the cache key.
    pub(crate) query: Vec<(&'static str, String)>,
    /// The symbols asked for, to suggest alternatives on -1121.
    pub(crate) symbols: Vec<Symbol>,
}

struct Host {
    base_url: String,
    used_weight: AtomicU32,
    state: Mutex<HostState>,
}

#[derive(Default)]
struct HostState {
    blocked_until: Option<Instant>,
    banned: bool,
    region_blocked: bool,
}

/// The outcome of one attempt against one host.
enum Attempt {
    Body(Vec<u8>),
    /// 5xx, 408, connection error or timeout: try again elsewhere.
    Transient(String),
    RegionBlocked,
    Limited {
        retry_after: Duration,
        banned: bool,
    },
    /// A final answer, such as a 4xx with a Binance error code.
    Failed(BinanceError),
}

/// Marks "no weight seen yet" in [`Host::used_weight`].
const WEIGHT_UNKNOWN: u32 = u32::MAX;

impl Host {
    fn new(base_url: &str) -> Result<Self, ConfigError> {
        let base_url = base_url.trim_end_matches('/');
        let url = reqwest::Url::parse(base_url)
            .map_err(|e| ConfigError(format!("base URL {base_url:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError(format!(
                "base URL {base_url:?} must be an http:// or https:// URL"
            )));
        }
        Ok(Self {
            base_url: base_url.to_owned(),
            used_weight: AtomicU32::new(WEIGHT_UNKNOWN),
            state: Mutex::new(HostState::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, HostState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn status(&self, now: Instant) -> HostStatus {
        let state = self.state();
        let blocked_for = state
            .blocked_until
            .and_then(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero());
        let weight = self.used_weight.load(Ordering::Relaxed);
        HostStatus {
            base_url: self.base_url.clone(),
            used_weight_1m: (weight != WEIGHT_UNKNOWN).then_some(weight),
            blocked_for,
            banned: blocked_for.is_some() && state.banned,
            region_blocked: state.region_blocked,
        }
    }

    /// The error to give without calling, while a 429/418 block lasts.
    fn block_error(&self, now: Instant) -> Option<BinanceError> {
        let status = self.status(now);
        let retry_after = status.blocked_for?;
        let host = self.base_url.clone();
        Some(if status.banned {
            BinanceError::Banned { host, retry_after }
        } else {
            BinanceError::RateLimited { host, retry_after }
        })
    }
}

impl BinanceClient {
    pub fn new(config: BinanceConfig) -> Result<Self, ConfigError> {
        if config.spot_base_urls.is_empty() {
            return Err(ConfigError("no spot base URL".to_owned()));
        }
        let spot_hosts = config
            .spot_base_urls
            .iter()
            .map(|url| Host::new(url))
            .collect::<Result<Vec<_>, _>>()?;
        let futures_hosts = vec![Host::new(&config.futures_base_url)?];
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("crypto-mcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError(format!("HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                spot_hosts,
                futures_hosts,
                attempt_timeout: config.attempt_timeout,
                request_timeout: config.request_timeout,
                max_retries: config.max_retries,
                backoff: config.backoff,
                clock: config.clock,
                spot: spot::Caches::default(),
                futures: futures::Caches::default(),
            }),
        })
    }

    /// Rate-limit and reachability state of every host, spot then futures.
    pub fn host_status(&self) -> Vec<HostStatus> {
        let now = self.inner.clock.now();
        self.inner
            .spot_hosts
            .iter()
            .chain(&self.inner.futures_hosts)
            .map(|host| host.status(now))
            .collect()
    }

    /// Serves `request` from `cache`, or fetches it once for all concurrent
    /// callers. The body is read as `W`, turned into `T` by `convert`, and
    /// kept for `ttl(&value, now_unix_ms)`.
    pub(crate) async fn cached<W, T>(
        &self,
        cache: &Cache<T>,
        request: Request,
        convert: impl FnOnce(W) -> T,
        ttl: impl FnOnce(&T, i64) -> Duration,
    ) -> Result<Fetched<T>, BinanceError>
    where
        W: DeserializeOwned,
    {
        let key = cache_key(&request);
        let clock = Arc::clone(&self.inner.clock);
        cache
            .get_or_fetch(key, clock.as_ref(), || async {
                let wire: W = self.get(&request).await?;
                let value = convert(wire);
                let ttl = ttl(&value, clock.unix_ms());
                Ok((value, ttl))
            })
            .await
    }

    /// One GET with failover, retries and rate-limit bookkeeping; no cache.
    async fn get<W: DeserializeOwned>(&self, request: &Request) -> Result<W, BinanceError> {
        let inner = &self.inner;
        let hosts = match request.api {
            Api::Spot => &inner.spot_hosts,
            Api::Futures => &inner.futures_hosts,
        };
        let deadline = tokio::time::Instant::now() + inner.request_timeout;
        // One entry per failed attempt; its length picks the next host.
        let mut failures: Vec<String> = Vec::new();
        loop {
            let usable: Vec<&Host> = hosts.iter().filter(|h| !h.state().region_blocked).collect();
            let Some(host) = usable.get(failures.len() % usable.len().max(1)).copied() else {
                return Err(BinanceError::RegionBlocked {
                    hosts: hosts.iter().map(|h| h.base_url.clone()).collect(),
                });
            };
            if let Some(blocked) = host.block_error(inner.clock.now()) {
                return Err(blocked);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(unavailable(failures, "out of time for another attempt"));
            }
            match self
                .attempt(host, request, left.min(inner.attempt_timeout))
                .await
            {
                Attempt::Body(body) => {
                    return serde_json::from_slice(&body).map_err(|e| BinanceError::Malformed {
                        endpoint: request.path.to_owned(),
                        detail: format!(
                            "{e}; body starts {}",
                            excerpt(&String::from_utf8_lossy(&body))
                        ),
                    });
                }
                Attempt::RegionBlocked => {
                    tracing::warn!(host = %host.base_url, "HTTP 451: Binance refuses this region; not using this host again");
                    host.state().region_blocked = true;
                }
                Attempt::Limited {
                    retry_after,
                    banned,
                } => {
                    tracing::warn!(host = %host.base_url, ?retry_after, banned, "Binance rate limit hit; pausing calls");
                    let mut state = host.state();
                    state.blocked_until = Some(inner.clock.now() + retry_after);
                    state.banned = banned;
                    drop(state);
                    let host = host.base_url.clone();
                    return Err(if banned {
                        BinanceError::Banned { host, retry_after }
                    } else {
                        BinanceError::RateLimited { host, retry_after }
                    });
                }
                Attempt::Failed(error) => return Err(error),
                Attempt::Transient(detail) => {
                    tracing::debug!(host = %host.base_url, %detail, "transient Binance failure");
                    failures.push(format!("{}: {detail}", host.base_url));
                    let retry = u32::try_from(failures.len()).unwrap_or(u32::MAX);
                    if retry > inner.max_retries {
                        return Err(unavailable(failures, "retries exhausted"));
                    }
                    let pause = jittered(inner.backoff, retry);
                    if tokio::time::Instant::now() + pause >= deadline {
                        return Err(unavailable(failures, "out of time for another attempt"));
                    }
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    async fn attempt(&self, host: &Host, request: &Request, timeout: Duration) -> Attempt {
        let url = format!("{}{}", host.base_url, request.path);
        let sent = self
            .inner
            .http
            .get(&url)
            .query(&request.query)
            .timeout(timeout)
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => return Attempt::Transient(describe(&e, timeout)),
        };
        let status = response.status();
        if let Some(weight) = header_number(&response, USED_WEIGHT_HEADER) {
            host.used_weight.store(weight, Ordering::Relaxed);
            if weight >= WEIGHT_WARNING {
                tracing::warn!(host = %host.base_url, weight, "Binance request weight nearly used up");
            }
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::IM_A_TEAPOT {
            let retry_after = header_number(&response, "retry-after")
                .map_or(DEFAULT_RETRY_AFTER, |secs| Duration::from_secs(secs.into()));
            return Attempt::Limited {
                retry_after,
                banned: status == StatusCode::IM_A_TEAPOT,
            };
        }
        if status == StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS {
            return Attempt::RegionBlocked;
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_BODY_BYTES => {
                    body.extend_from_slice(&chunk)
                }
                Ok(Some(_)) => {
                    return Attempt::Failed(BinanceError::Malformed {
                        endpoint: request.path.to_owned(),
                        detail: format!("body larger than {MAX_BODY_BYTES} bytes"),
                    });
                }
                Ok(None) => break,
                Err(e) => return Attempt::Transient(describe(&e, timeout)),
            }
        }
        if status.is_success() {
            return Attempt::Body(body);
        }
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            return Attempt::Transient(format!("HTTP {}", status.as_u16()));
        }
        Attempt::Failed(self.rejection(status, &body, request).await)
    }

    /// Maps a 4xx (or other unexpected status) to a typed error.
    async fn rejection(&self, status: StatusCode, body: &[u8], request: &Request) -> BinanceError {
        #[derive(serde::Deserialize)]
        struct ErrorBody {
            code: i64,
            msg: String,
        }
        let text = String::from_utf8_lossy(body);
        let Ok(ErrorBody { code, msg }) = serde_json::from_slice::<ErrorBody>(body) else {
            return BinanceError::Unavailable {
                detail: format!(
                    "unexpected HTTP {} for {}: {}",
                    status.as_u16(),
                    request.path,
                    excerpt(&text)
                ),
            };
        };
        match code {
            -1121 => self.invalid_symbol(request).await,
            -1120 => BinanceError::InvalidInterval {
                interval: request
                    .query
                    .iter()
                    .find(|(name, _)| matches!(*name, "interval" | "period"))
                    .map(|(_, value)| value.clone())
                    .unwrap_or_default(),
                allowed: match request.api {
                    Api::Spot => SPOT_INTERVALS,
                    Api::Futures => FUTURES_INTERVALS,
                },
            },
            _ => BinanceError::InvalidParameter {
                code: Some(code),
                msg: excerpt(&msg),
            },
        }
    }

    /// InvalidSymbol naming the requested symbols the exchange does not
    /// list, with close matches for the first. Without exchange info (it
    /// failed too) the error still comes, just without suggestions.
    async fn invalid_symbol(&self, request: &Request) -> BinanceError {
        let listed: Option<Vec<String>> = match request.api {
            // Boxed: exchange info is fetched through this same request path.
            Api::Spot => Box::pin(self.exchange_info()).await.ok().map(|info| {
                info.value
                    .symbols
                    .iter()
                    .map(|s| s.symbol.clone())
                    .collect()
            }),
            Api::Futures => Box::pin(self.futures_exchange_info())
                .await
                .ok()
                .map(|info| {
                    info.value
                        .symbols
                        .iter()
                        .map(|s| s.symbol.clone())
                        .collect()
                }),
        };
        let Some(listed) = listed else {
            return BinanceError::InvalidSymbol {
                symbol: join_symbols(&request.symbols),
                suggestions: Vec::new(),
            };
        };
        let unknown: Vec<Symbol> = request
            .symbols
            .iter()
            .filter(|s| !listed.iter().any(|l| l == s.as_str()))
            .cloned()
            .collect();
        let suggestions = unknown
            .first()
            .map(|s| suggest_symbols(s.as_str(), listed.iter().map(String::as_str)))
            .unwrap_or_default();
        let named = if unknown.is_empty() {
            &request.symbols
        } else {
            &unknown
        };
        BinanceError::InvalidSymbol {
            symbol: join_symbols(named),
            suggestions,
        }
    }
}

fn join_symbols(symbols: &[Symbol]) -> String {
    symbols
        .iter()
        .map(Symbol::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn cache_key(request: &Request) -> String {
    let mut key = String::from(request.path);
    for (i, (name, value)) in request.query.iter().enumerate() {
        key.push(if i == 0 { '?' } else { '&' });
        key.push_str(name);
        key.push('=');
        key.push_str(value);
    }
    key
}

/// Unavailable, listing each failed attempt then why we stopped.
fn unavailable(failures: Vec<String>, why: &str) -> BinanceError {
    let mut detail = failures.join("; ");
    if !detail.is_empty() {
        detail.push_str("; ");
    }
    detail.push_str(why);
    BinanceError::Unavailable { detail }
}

fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        format!("no answer within {} ms", timeout.as_millis())
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "connection broke off".to_owned()
    }
}

/// `base × 2^(retry-1)`, times a random factor in [0.5, 1.5), capped.
fn jittered(base: Duration, retry: u32) -> Duration {
    let exponential = base.saturating_mul(1 << retry.saturating_sub(1).min(10));
    exponential
        .mul_f64(0.5 + rand::random::<f64>())
        .min(MAX_BACKOFF)
}

fn header_number(response: &reqwest::Response, name: &str) -> Option<u32> {
    response
        .headers()
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
