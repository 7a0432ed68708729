//! The HTTP side: base URLs, timeouts, retries, rate-limit state, the
//! weight budget and the cached request path every endpoint method goes
//! through.
//!
//! A call walks the configured hosts in order. Before each attempt the
//! host's [`Budget`] is charged the request's documented weight; with no
//! room, the call waits (at most 2 s) or fails without being sent.
//! Connection errors, timeouts and 5xx are retried (bounded, with jittered
//! backoff) on the next host. 451 sets a host aside for a cool-down and
//! moves on without spending a retry. 429 and 418 end the call and block
//! that host until `Retry-After` (at most Binance's longest ban, 3 days):
//! Binance limits by IP, so asking another host would spend the same
//! budget and risk a longer ban. Other 4xx are the caller's mistake and
//! are never retried.
//!
//! Each host's weight limit is read from its API's `exchangeInfo`
//! (`rateLimits`, REQUEST_WEIGHT per minute) before the first call that
//! needs it, through the same cache the symbol tools use; until then, and
//! if that fails, Binance's documented default applies.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::budget::{Budget, BudgetStatus, CallerKey, Cost};
use super::cache::{Cache, Fetched};
use super::clock::{Clock, SystemClock};
use super::error::{AssetName, BinanceError, SpotOnly, excerpt};
use super::params::{
    FUTURES_INTERVALS, Listed, SPOT_INTERVALS, Symbol, markets_of, suggest_symbols,
};
use super::wire::{Kline, RateLimit};
use super::{candles, futures, spot};

/// Spot hosts tried in order: the market-data-only host first (no keys,
/// its own capacity), then the main API and its GCP mirror.
pub const DEFAULT_SPOT_BASE_URLS: &str =
    "https://data-api.binance.vision,https://api.binance.com,https://api-gcp.binance.com";
pub const DEFAULT_FUTURES_BASE_URL: &str = "https://fapi.binance.com";

/// Wait assumed when a 429/418 comes without a usable `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Longest `Retry-After` obeyed: Binance's bans "scale in duration for
/// repeat offenders, from 2 minutes to 3 days", so anything longer is a
/// broken header (4294967295 would pause a host for 136 years).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);
/// How long a host that answered 451 is set aside before it is tried
/// again: such blocks come and go (some began "only during the US night"),
/// and one request per cool-down costs nothing.
pub const REGION_BLOCK_COOL_DOWN: Duration = Duration::from_secs(10 * 60);
/// Longest a call waits for budget to free before it fails instead.
pub const MAX_BUDGET_WAIT: Duration = Duration::from_secs(2);
/// After a failed attempt to read the weight limit, calls go ahead on the
/// documented default for this long before reading it is tried again.
const LEARN_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Binance's documented REQUEST_WEIGHT per minute, used until
/// `exchangeInfo` says otherwise.
const DEFAULT_SPOT_WEIGHT_LIMIT: u32 = 6000;
const DEFAULT_FUTURES_WEIGHT_LIMIT: u32 = 2400;
/// Largest body read. The full spot exchangeInfo is the biggest answer, a
/// few MB; anything far beyond that is not Binance.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Upper bound of one backoff pause, whatever the attempt number.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Header carrying the IP's request weight used in the current minute.
const USED_WEIGHT_HEADER: &str = "x-mbx-used-weight-1m";

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

/// What the client knows about one host, for `/healthz` and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostStatus {
    pub base_url: String,
    /// `spot` or `usdm`.
    pub market: &'static str,
    /// Last `X-MBX-USED-WEIGHT-1M` seen from this host.
    pub used_weight_1m: Option<u32>,
    pub budget: BudgetStatus,
    /// Time left on a 429/418 block.
    pub blocked_for: Option<Duration>,
    pub banned: bool,
    /// Set aside after a 451, until the cool-down ends.
    pub region_blocked: bool,
}

/// Public market data from Binance spot and USD-M futures. Cheap to clone;
/// a clone made by [`BinanceClient::for_caller`] charges its requests to
/// that caller's share of the weight budget.
#[derive(Clone)]
pub struct BinanceClient {
    pub(crate) inner: Arc<Inner>,
    caller: CallerKey,
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
    /// Every candle series, one page per entry.
    pub(crate) candles: Cache<Vec<Kline>>,
    /// Per [`Api`], when reading the weight limit last failed.
    learn_failed_at: Mutex<[Option<Instant>; 2]>,
}

/// Which market a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Spot,
    Futures,
}

impl Api {
    fn index(self) -> usize {
        match self {
            Self::Spot => 0,
            Self::Futures => 1,
        }
    }

    fn exchange_info_path(self) -> &'static str {
        match self {
            Self::Spot => "/api/v3/exchangeInfo",
            Self::Futures => "/fapi/v1/exchangeInfo",
        }
    }
}

/// One GET, described fully enough to cache it, charge it and explain its
/// errors.
pub(crate) struct Request {
    pub(crate) api: Api,
    pub(crate) path: &'static str,
    /// Built in a fixed order, so it doubles as the cache key.
    pub(crate) query: Vec<(&'static str, String)>,
    /// The symbols asked for, to suggest alternatives on -1121.
    pub(crate) symbols: Vec<Symbol>,
    /// Charged to the host's budget before each attempt.
    pub(crate) cost: Cost,
}

struct Host {
    base_url: String,
    api: Api,
    used_weight: AtomicU32,
    state: Mutex<HostState>,
    budget: Budget,
}

#[derive(Default)]
struct HostState {
    blocked_until: Option<Instant>,
    banned: bool,
    region_blocked_until: Option<Instant>,
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
    fn new(base_url: &str, api: Api) -> Result<Self, ConfigError> {
        let base_url = base_url.trim_end_matches('/');
        let url = reqwest::Url::parse(base_url)
            .map_err(|e| ConfigError(format!("base URL {base_url:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError(format!(
                "base URL {base_url:?} must be an http:// or https:// URL"
            )));
        }
        let default_limit = match api {
            Api::Spot => DEFAULT_SPOT_WEIGHT_LIMIT,
            Api::Futures => DEFAULT_FUTURES_WEIGHT_LIMIT,
        };
        Ok(Self {
            base_url: base_url.to_owned(),
            api,
            used_weight: AtomicU32::new(WEIGHT_UNKNOWN),
            state: Mutex::new(HostState::default()),
            budget: Budget::new(default_limit),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, HostState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn status(&self, now: Instant, now_ms: i64) -> HostStatus {
        let state = self.state();
        let blocked_for = state
            .blocked_until
            .and_then(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero());
        let weight = self.used_weight.load(Ordering::Relaxed);
        HostStatus {
            base_url: self.base_url.clone(),
            market: match self.api {
                Api::Spot => "spot",
                Api::Futures => "usdm",
            },
            used_weight_1m: (weight != WEIGHT_UNKNOWN).then_some(weight),
            budget: self.budget.status(now_ms),
            blocked_for,
            banned: blocked_for.is_some() && state.banned,
            region_blocked: state.region_blocked_until.is_some_and(|until| until > now),
        }
    }

    fn region_blocked(&self, now: Instant) -> bool {
        self.state()
            .region_blocked_until
            .is_some_and(|until| until > now)
    }

    /// The error to give without calling, while a 429/418 block lasts.
    fn block_error(&self, now: Instant) -> Option<BinanceError> {
        let state = self.state();
        let retry_after = state
            .blocked_until
            .and_then(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero())?;
        let host = self.base_url.clone();
        Some(if state.banned {
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
            .map(|url| Host::new(url, Api::Spot))
            .collect::<Result<Vec<_>, _>>()?;
        let futures_hosts = vec![Host::new(&config.futures_base_url, Api::Futures)?];
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
                candles: Cache::new(candles::CACHE_ENTRIES),
                learn_failed_at: Mutex::new([None; 2]),
            }),
            caller: CallerKey::unattributed(),
        })
    }

    /// This client charging its requests to `caller`'s share of the weight
    /// budget. Shares the cache, hosts and budget with every other clone.
    pub fn for_caller(&self, caller: CallerKey) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            caller,
        }
    }

    /// The client's clock: freshness and open candles are read against it.
    pub fn now(&self) -> Instant {
        self.inner.clock.now()
    }

    /// The client's clock as Unix milliseconds.
    pub fn unix_ms(&self) -> i64 {
        self.inner.clock.unix_ms()
    }

    /// Rate-limit, budget and reachability state of every host, spot then
    /// futures.
    pub fn host_status(&self) -> Vec<HostStatus> {
        let now = self.inner.clock.now();
        let now_ms = self.inner.clock.unix_ms();
        self.inner
            .spot_hosts
            .iter()
            .chain(&self.inner.futures_hosts)
            .map(|host| host.status(now, now_ms))
            .collect()
    }

    fn hosts(&self, api: Api) -> &[Host] {
        match api {
            Api::Spot => &self.inner.spot_hosts,
            Api::Futures => &self.inner.futures_hosts,
        }
    }

    /// Serves `request` from `cache`, or fetches it once for all concurrent
    /// callers. The body is read by `decode` and the value kept for
    /// `ttl(&value, now_unix_ms)`.
    pub(crate) async fn cached<T>(
        &self,
        cache: &Cache<T>,
        request: Request,
        decode: impl FnOnce(&[u8]) -> serde_json::Result<T>,
        ttl: impl FnOnce(&T, i64) -> Duration,
    ) -> Result<Fetched<T>, BinanceError> {
        let key = cache_key(&request);
        let clock = Arc::clone(&self.inner.clock);
        cache
            .get_or_fetch(key, clock.as_ref(), || async {
                let body = self.get(&request).await?;
                let value = decode(&body).map_err(|e| BinanceError::Malformed {
                    endpoint: request.path.to_owned(),
                    detail: format!(
                        "{e}; body starts {}",
                        excerpt(&String::from_utf8_lossy(&body))
                    ),
                })?;
                let ttl = ttl(&value, clock.unix_ms());
                Ok((value, ttl))
            })
            .await
    }

    /// Sets the weight limit of every host of `api` from an `exchangeInfo`
    /// answer; a missing or odd entry leaves the default in place.
    pub(crate) fn learn_limit(&self, api: Api, rate_limits: &[RateLimit]) {
        let per_minute = rate_limits.iter().find(|limit| {
            limit.rate_limit_type == "REQUEST_WEIGHT"
                && limit.interval == "MINUTE"
                && limit.interval_num == 1
        });
        let Some(limit) = per_minute.and_then(|l| u32::try_from(l.limit).ok()) else {
            return;
        };
        for host in self.hosts(api) {
            host.budget.learn(limit);
        }
    }

    /// Reads the weight limit of `api` before its first charged call. The
    /// read goes through the cached `exchangeInfo`, so concurrent first
    /// calls share one request and the symbol tools reuse its answer.
    async fn ensure_limit(&self, api: Api) {
        if self.hosts(api).iter().all(|host| host.budget.learnt()) {
            return;
        }
        let now = self.inner.clock.now();
        let failed_at = self.lock_learn_failed()[api.index()];
        if failed_at.is_some_and(|at| now < at + LEARN_RETRY_AFTER) {
            return;
        }
        // The server's own request, not the caller's. Boxed: exchange info
        // is fetched through this same request path.
        let server = self.for_caller(CallerKey::unattributed());
        let learnt = match api {
            Api::Spot => Box::pin(server.exchange_info()).await.map(drop),
            Api::Futures => Box::pin(server.futures_exchange_info()).await.map(drop),
        };
        if let Err(error) = learnt {
            tracing::warn!(%error, "could not read Binance's weight limit; using the documented default for now");
            self.lock_learn_failed()[api.index()] = Some(now);
        }
    }

    fn lock_learn_failed(&self) -> std::sync::MutexGuard<'_, [Option<Instant>; 2]> {
        self.inner
            .learn_failed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserves `cost` on `host` for this client's caller, waiting for the
    /// next minute if it comes within [`MAX_BUDGET_WAIT`] (and before
    /// `deadline`, once the call has one).
    async fn charge(
        &self,
        host: &Host,
        cost: Cost,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<(), BinanceError> {
        let clock = &self.inner.clock;
        loop {
            let now_ms = clock.unix_ms();
            let Err(denied) = host.budget.reserve(&self.caller, cost, now_ms) else {
                return Ok(());
            };
            let wait =
                Duration::from_millis(u64::try_from(denied.retry_at_ms - now_ms).unwrap_or(0));
            let past_deadline = deadline.is_some_and(|deadline| {
                wait >= deadline.saturating_duration_since(tokio::time::Instant::now())
            });
            if wait > MAX_BUDGET_WAIT || past_deadline {
                tracing::debug!(host = %host.base_url, caller = ?self.caller, ?wait, share = denied.share, "weight budget spent; not calling Binance");
                return Err(BinanceError::BudgetExhausted {
                    host: host.base_url.clone(),
                    retry_after: wait,
                    share: denied.share,
                    limit: denied.limit,
                });
            }
            clock.sleep(wait).await;
        }
    }

    /// One GET with failover, retries, budget and rate-limit bookkeeping;
    /// no cache. Returns the body of a successful answer. The request
    /// timeout runs from when the budget first lets the call through, so a
    /// short wait for budget does not eat into it.
    async fn get(&self, request: &Request) -> Result<Vec<u8>, BinanceError> {
        let inner = &self.inner;
        if request.path != request.api.exchange_info_path() {
            self.ensure_limit(request.api).await;
        }
        let hosts = self.hosts(request.api);
        let mut deadline: Option<tokio::time::Instant> = None;
        // One entry per failed attempt; its length picks the next host.
        let mut failures: Vec<String> = Vec::new();
        loop {
            let now = inner.clock.now();
            let usable: Vec<&Host> = hosts.iter().filter(|h| !h.region_blocked(now)).collect();
            let Some(host) = usable.get(failures.len() % usable.len().max(1)).copied() else {
                return Err(BinanceError::RegionBlocked {
                    hosts: hosts.iter().map(|h| h.base_url.clone()).collect(),
                });
            };
            if let Some(blocked) = host.block_error(now) {
                return Err(blocked);
            }
            self.charge(host, request.cost, deadline).await?;
            let deadline = *deadline
                .get_or_insert_with(|| tokio::time::Instant::now() + inner.request_timeout);
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(unavailable(failures, "out of time for another attempt"));
            }
            match self
                .attempt(host, request, left.min(inner.attempt_timeout))
                .await
            {
                Attempt::Body(body) => return Ok(body),
                Attempt::RegionBlocked => {
                    tracing::warn!(host = %host.base_url, cool_down = ?REGION_BLOCK_COOL_DOWN, "HTTP 451: Binance refuses this region; setting this host aside");
                    host.state().region_blocked_until =
                        Some(inner.clock.now() + REGION_BLOCK_COOL_DOWN);
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
            let weight = u32::try_from(weight).unwrap_or(u32::MAX);
            host.used_weight.store(weight, Ordering::Relaxed);
            let now_ms = self.inner.clock.unix_ms();
            host.budget.resync(weight, now_ms);
            if weight > host.budget.planned() {
                tracing::warn!(host = %host.base_url, weight, "Binance counts more request weight than this server planned: another client shares the IP?");
            }
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::IM_A_TEAPOT {
            let retry_after = retry_after(&response, &host.base_url);
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

    /// The error for symbols Binance does not know: a name where a symbol
    /// belongs gets that asset's markets, a spot market asked for as a
    /// perpetual gets the perpetuals of its base asset, and anything else
    /// the requested symbols the exchange does not list, with close matches
    /// for the first. Without exchange info (it failed too) the error still
    /// comes, just without suggestions.
    async fn invalid_symbol(&self, request: &Request) -> BinanceError {
        // Boxed: exchange info is fetched through this same request path.
        let spot = || async {
            Box::pin(self.exchange_info())
                .await
                .ok()
                .map(|info| Listed::all(&info.value))
        };
        let listed = match request.api {
            Api::Spot => spot().await,
            Api::Futures => Box::pin(self.futures_exchange_info())
                .await
                .ok()
                .map(|info| Listed::all(&info.value)),
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
            .filter(|s| !listed.iter().any(|l| l.symbol == s.as_str()))
            .cloned()
            .collect();
        if let [only] = unknown.as_slice() {
            if let Some(asset) = crate::assets::ticker_for_name(only.as_str()) {
                return BinanceError::NameNotSymbol(Box::new(AssetName {
                    input: only.to_string(),
                    asset,
                    name: crate::assets::display_name(asset).unwrap_or(asset),
                    markets: markets_of(asset, &listed),
                    perpetuals: request.api == Api::Futures,
                }));
            }
            if request.api == Api::Futures
                && let Some(spot) = spot().await
                && let Some(market) = spot.iter().find(|s| s.symbol == only.as_str())
            {
                return BinanceError::NoPerpetual(Box::new(SpotOnly {
                    symbol: only.to_string(),
                    base_asset: market.base.clone(),
                    perpetuals: markets_of(&market.base, &listed),
                }));
            }
        }
        let suggestions = unknown
            .first()
            .map(|s| suggest_symbols(s.as_str(), listed.iter().map(|l| l.symbol.as_str())))
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

/// `Retry-After` in seconds, clamped to [`MAX_RETRY_AFTER`]; a minute
/// when missing or unreadable.
fn retry_after(response: &reqwest::Response, host: &str) -> Duration {
    let Some(secs) = header_number(response, "retry-after") else {
        return DEFAULT_RETRY_AFTER;
    };
    let asked = Duration::from_secs(secs);
    if asked > MAX_RETRY_AFTER {
        tracing::warn!(
            host,
            retry_after_secs = secs,
            "Retry-After is longer than Binance's longest ban (3 days); pausing 3 days instead"
        );
        return MAX_RETRY_AFTER;
    }
    asked
}

fn header_number(response: &reqwest::Response, name: &str) -> Option<u64> {
    response
        .headers()
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
