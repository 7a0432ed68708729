//! USD-M futures endpoints (`fapi`): mark price and funding, funding
//! history, open interest and its history, which contracts exist, and the
//! positioning statistics of `/futures/data` (long/short ratios, taker
//! volume, basis).

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::budget::{Cost, Group};
use super::cache::{Cache, Fetched};
use super::client::{Api, BinanceClient, Request};
use super::error::BinanceError;
use super::params::{Interval, Symbol, TimeRange};
use super::wire::{
    self, Basis, FundingRate, FuturesExchangeInfo, LongShortRatio, OneOrMany, OpenInterest,
    OpenInterestHist, PremiumIndex, TakerVolume,
};

/// Entries per endpoint cache; futures entries are small.
const CACHE_ENTRIES: usize = 256;

/// Mark price moves every second; 2 s is fresh enough for a model.
const PREMIUM_INDEX_TTL: Duration = Duration::from_secs(2);
/// Funding settles every few hours; a minute costs nothing in freshness
/// and keeps us far from the 500 per 5 min limit of this endpoint.
const FUNDING_RATE_TTL: Duration = Duration::from_secs(60);
const OPEN_INTEREST_TTL: Duration = Duration::from_secs(5);
const EXCHANGE_INFO_TTL: Duration = Duration::from_secs(3600);
/// A statistics point appears once its period has closed; this long after
/// the boundary it is assumed published.
const PUBLISH_DELAY_MS: i64 = 15_000;
/// Bounds of a statistics entry's life: short enough that a point
/// published late is picked up soon, never shorter than the delay above.
const MAX_STATISTICS_TTL: Duration = Duration::from_secs(5 * 60);
const MIN_STATISTICS_TTL: Duration = Duration::from_secs(15);

const FUNDING_RATE_DEFAULT_LIMIT: u16 = 100;
const FUNDING_RATE_MAX_LIMIT: u16 = 1000;
/// Every `/futures/data` endpoint: "Default 30, Max 500".
const STATISTICS_DEFAULT_LIMIT: u16 = 30;
const STATISTICS_MAX_LIMIT: u16 = 500;

pub(crate) struct Caches {
    premium_index: Cache<Vec<PremiumIndex>>,
    funding_rate: Cache<Vec<FundingRate>>,
    open_interest: Cache<OpenInterest>,
    open_interest_hist: Cache<Vec<OpenInterestHist>>,
    long_short: Cache<Vec<LongShortRatio>>,
    taker_volume: Cache<Vec<TakerVolume>>,
    basis: Cache<Vec<Basis>>,
    exchange_info: Cache<FuturesExchangeInfo>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            premium_index: Cache::new(CACHE_ENTRIES),
            funding_rate: Cache::new(CACHE_ENTRIES),
            open_interest: Cache::new(CACHE_ENTRIES),
            open_interest_hist: Cache::new(CACHE_ENTRIES),
            long_short: Cache::new(CACHE_ENTRIES),
            taker_volume: Cache::new(CACHE_ENTRIES),
            basis: Cache::new(CACHE_ENTRIES),
            exchange_info: Cache::new(1),
        }
    }
}

/// The three long/short ratios Binance publishes, which share one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongShort {
    /// Every account: `globalLongShortAccountRatio`.
    Accounts,
    /// The top 20 % of accounts by margin balance, counted per account:
    /// `topLongShortAccountRatio`.
    TopAccounts,
    /// The same accounts weighted by position size:
    /// `topLongShortPositionRatio`.
    TopPositions,
}

impl LongShort {
    fn path(self) -> &'static str {
        match self {
            Self::Accounts => "/futures/data/globalLongShortAccountRatio",
            Self::TopAccounts => "/futures/data/topLongShortAccountRatio",
            Self::TopPositions => "/futures/data/topLongShortPositionRatio",
        }
    }
}

impl BinanceClient {
    /// `GET /fapi/v1/premiumIndex`: mark price, index price and the current
    /// funding rate of one perpetual, or of all when `symbol` is `None`.
    pub async fn premium_index(
        &self,
        symbol: Option<&Symbol>,
    ) -> Result<Fetched<Vec<PremiumIndex>>, BinanceError> {
        let query = symbol
            .map(|s| ("symbol", s.to_string()))
            .into_iter()
            .collect();
        // Documented: 1 with a symbol, 10 for all.
        let cost = Cost::weight(if symbol.is_some() { 1 } else { 10 });
        let request = futures_request(
            "/fapi/v1/premiumIndex",
            query,
            symbol.cloned().into_iter().collect(),
            cost,
        );
        self.cached(
            &self.inner.futures.premium_index,
            request,
            |body| {
                let mut all = serde_json::from_slice::<OneOrMany<_>>(body)?.into_vec();
                if symbol.is_some() {
                    all.truncate(1);
                }
                Ok(all)
            },
            |_, _| PREMIUM_INDEX_TTL,
        )
        .await
    }

    /// `GET /fapi/v1/fundingRate`: funding history, oldest first (default
    /// 100, max 1000).
    pub async fn funding_rate(
        &self,
        symbol: &Symbol,
        range: TimeRange,
    ) -> Result<Fetched<Vec<FundingRate>>, BinanceError> {
        let mut query = vec![("symbol", symbol.to_string())];
        range.push_query(&mut query, FUNDING_RATE_MAX_LIMIT)?;
        let cap = range.row_cap(FUNDING_RATE_DEFAULT_LIMIT, FUNDING_RATE_MAX_LIMIT);
        // No weight is documented, only the shared 500 per 5 minutes; one
        // weight as well, to stay on the safe side of the minute too.
        let cost = Cost::in_group(1, Group::FundingRate);
        let request = futures_request("/fapi/v1/fundingRate", query, vec![symbol.clone()], cost);
        self.cached(
            &self.inner.futures.funding_rate,
            request,
            |body| wire::rows(body, cap),
            |_, _| FUNDING_RATE_TTL,
        )
        .await
    }

    /// `GET /fapi/v1/openInterest`: current open interest in contracts.
    pub async fn open_interest(
        &self,
        symbol: &Symbol,
    ) -> Result<Fetched<OpenInterest>, BinanceError> {
        let request = futures_request(
            "/fapi/v1/openInterest",
            vec![("symbol", symbol.to_string())],
            vec![symbol.clone()],
            Cost::weight(1),
        );
        self.cached(
            &self.inner.futures.open_interest,
            request,
            |body| serde_json::from_slice(body),
            |_, _| OPEN_INTEREST_TTL,
        )
        .await
    }

    /// `GET /futures/data/openInterestHist`: open interest per `period`
    /// (5m…1d; parse it with [`Interval::parse_futures_data_period`]),
    /// default 30 points, max 500, only the latest month.
    pub async fn open_interest_hist(
        &self,
        symbol: &Symbol,
        period: Interval,
        range: TimeRange,
    ) -> Result<Fetched<Vec<OpenInterestHist>>, BinanceError> {
        let cache = &self.inner.futures.open_interest_hist;
        let path = "/futures/data/openInterestHist";
        self.statistics(cache, path, ("symbol", symbol), &[], period, range)
            .await
    }

    /// One of the three long/short ratios per `period`, oldest first
    /// (default 30 points, max 500, only the latest 30 days).
    pub async fn long_short_ratio(
        &self,
        kind: LongShort,
        symbol: &Symbol,
        period: Interval,
        range: TimeRange,
    ) -> Result<Fetched<Vec<LongShortRatio>>, BinanceError> {
        let cache = &self.inner.futures.long_short;
        self.statistics(cache, kind.path(), ("symbol", symbol), &[], period, range)
            .await
    }

    /// `GET /futures/data/takerlongshortRatio`: taker buy and sell volume
    /// per `period`, oldest first.
    pub async fn taker_volume(
        &self,
        symbol: &Symbol,
        period: Interval,
        range: TimeRange,
    ) -> Result<Fetched<Vec<TakerVolume>>, BinanceError> {
        let cache = &self.inner.futures.taker_volume;
        let path = "/futures/data/takerlongshortRatio";
        self.statistics(cache, path, ("symbol", symbol), &[], period, range)
            .await
    }

    /// `GET /futures/data/basis` of the perpetual on `pair` (for USD-M
    /// perpetuals the pair is spelled like the symbol), per `period`.
    pub async fn basis(
        &self,
        pair: &Symbol,
        period: Interval,
        range: TimeRange,
    ) -> Result<Fetched<Vec<Basis>>, BinanceError> {
        let cache = &self.inner.futures.basis;
        let perpetual = [("contractType", "PERPETUAL")];
        self.statistics(
            cache,
            "/futures/data/basis",
            ("pair", pair),
            &perpetual,
            period,
            range,
        )
        .await
    }

    /// A `/futures/data` series: weight 0 but one request of their shared
    /// group, the rows cut to `limit`, cached until the next period.
    async fn statistics<T: DeserializeOwned>(
        &self,
        cache: &Cache<Vec<T>>,
        path: &'static str,
        (symbol_param, symbol): (&'static str, &Symbol),
        extra: &[(&'static str, &'static str)],
        period: Interval,
        range: TimeRange,
    ) -> Result<Fetched<Vec<T>>, BinanceError> {
        let period = Interval::parse_futures_data_period(period.as_str())?;
        let mut query = vec![(symbol_param, symbol.to_string())];
        query.extend(extra.iter().map(|&(name, value)| (name, value.to_owned())));
        query.push(("period", period.to_string()));
        range.push_query(&mut query, STATISTICS_MAX_LIMIT)?;
        let cap = range.row_cap(STATISTICS_DEFAULT_LIMIT, STATISTICS_MAX_LIMIT);
        let request = futures_request(
            path,
            query,
            vec![symbol.clone()],
            Cost::in_group(0, Group::FuturesData),
        );
        self.cached(
            cache,
            request,
            |body| wire::rows(body, cap),
            |_, now| statistics_ttl(period, now),
        )
        .await
    }

    /// `GET /fapi/v1/exchangeInfo`: the futures contracts (perpetuals have
    /// `contract_type == "PERPETUAL"`), cached an hour. Its `rateLimits` set
    /// the futures host's weight limit.
    pub async fn futures_exchange_info(
        &self,
    ) -> Result<Fetched<FuturesExchangeInfo>, BinanceError> {
        let request = futures_request(
            "/fapi/v1/exchangeInfo",
            Vec::new(),
            Vec::new(),
            Cost::weight(1),
        );
        let info = self
            .cached(
                &self.inner.futures.exchange_info,
                request,
                |body| serde_json::from_slice(body),
                |_, _| EXCHANGE_INFO_TTL,
            )
            .await?;
        self.learn_limit(Api::Futures, &info.value.rate_limits);
        Ok(info)
    }
}

pub(crate) fn futures_request(
    path: &'static str,
    query: Vec<(&'static str, String)>,
    symbols: Vec<Symbol>,
    cost: Cost,
) -> Request {
    Request {
        api: Api::Futures,
        path,
        query,
        symbols,
        cost,
    }
}

/// Statistics change once per period: an entry lives until the next period
/// boundary plus [`PUBLISH_DELAY_MS`], within the bounds above. This is
/// what caches them "per period".
fn statistics_ttl(period: Interval, now_ms: i64) -> Duration {
    let length = period.duration_ms();
    let next_boundary = (now_ms.div_euclid(length) + 1) * length;
    let until = next_boundary + PUBLISH_DELAY_MS - now_ms;
    Duration::from_millis(u64::try_from(until).unwrap_or(0))
        .clamp(MIN_STATISTICS_TTL, MAX_STATISTICS_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_live_until_their_next_period_is_published() {
        let hour = 3_600_000;
        let at = |minutes: i64| 1_738_364_400_000 + minutes * 60_000;
        assert_eq!(
            statistics_ttl(Interval::Minute5, at(3)),
            Duration::from_secs(2 * 60 + 15)
        );
        assert_eq!(
            statistics_ttl(Interval::Hour1, at(30)),
            MAX_STATISTICS_TTL,
            "capped"
        );
        assert_eq!(
            statistics_ttl(Interval::Minute5, at(5) - 1),
            Duration::from_millis(15_001)
        );
        assert_eq!(statistics_ttl(Interval::Day1, hour), MAX_STATISTICS_TTL);
    }
}
