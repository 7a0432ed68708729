//! USD-M futures endpoints (`fapi`): mark price and funding, funding
//! history, open interest and its history, and which contracts exist.

use std::time::Duration;

use super::cache::{Cache, Fetched};
use super::client::{Api, BinanceClient, Request};
use super::error::BinanceError;
use super::params::{Interval, Symbol, TimeRange};
use super::wire::{
    FundingRate, FuturesExchangeInfo, OneOrMany, OpenInterest, OpenInterestHist, PremiumIndex,
};

/// Entries per endpoint cache; futures entries are small.
const CACHE_ENTRIES: usize = 256;

/// Mark price moves every second; 2 s is fresh enough for a model.
const PREMIUM_INDEX_TTL: Duration = Duration::from_secs(2);
/// Funding settles every few hours; a minute costs nothing in freshness
/// and keeps us far from the 500 per 5 min limit of this endpoint.
const FUNDING_RATE_TTL: Duration = Duration::from_secs(60);
const OPEN_INTEREST_TTL: Duration = Duration::from_secs(5);
/// The finest history period is 5 min.
const OPEN_INTEREST_HIST_TTL: Duration = Duration::from_secs(60);
const EXCHANGE_INFO_TTL: Duration = Duration::from_secs(3600);

const FUNDING_RATE_MAX_LIMIT: u16 = 1000;
const OPEN_INTEREST_HIST_MAX_LIMIT: u16 = 500;

pub(crate) struct Caches {
    premium_index: Cache<Vec<PremiumIndex>>,
    funding_rate: Cache<Vec<FundingRate>>,
    open_interest: Cache<OpenInterest>,
    open_interest_hist: Cache<Vec<OpenInterestHist>>,
    exchange_info: Cache<FuturesExchangeInfo>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            premium_index: Cache::new(CACHE_ENTRIES),
            funding_rate: Cache::new(CACHE_ENTRIES),
            open_interest: Cache::new(CACHE_ENTRIES),
            open_interest_hist: Cache::new(CACHE_ENTRIES),
            exchange_info: Cache::new(1),
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
        let request = futures_request(
            "/fapi/v1/premiumIndex",
            query,
            symbol.cloned().into_iter().collect(),
        );
        self.cached(
            &self.inner.futures.premium_index,
            request,
            OneOrMany::into_vec,
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
        let request = futures_request("/fapi/v1/fundingRate", query, vec![symbol.clone()]);
        self.cached(
            &self.inner.futures.funding_rate,
            request,
            std::convert::identity,
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
        );
        self.cached(
            &self.inner.futures.open_interest,
            request,
            std::convert::identity,
            |_, _| OPEN_INTEREST_TTL,
        )
        .await
    }

    /// `GET /futures/data/openInterestHist`: open interest per `period`
    /// (5m…1d; parse it with [`Interval::parse_open_interest_period`]),
    /// default 30 points, max 500, only the latest month.
    pub async fn open_interest_hist(
        &self,
        symbol: &Symbol,
        period: Interval,
        range: TimeRange,
    ) -> Result<Fetched<Vec<OpenInterestHist>>, BinanceError> {
        let period = Interval::parse_open_interest_period(period.as_str())?;
        let mut query = vec![
            ("symbol", symbol.to_string()),
            ("period", period.to_string()),
        ];
        range.push_query(&mut query, OPEN_INTEREST_HIST_MAX_LIMIT)?;
        let request = futures_request(
            "/futures/data/openInterestHist",
            query,
            vec![symbol.clone()],
        );
        self.cached(
            &self.inner.futures.open_interest_hist,
            request,
            std::convert::identity,
            |_, _| OPEN_INTEREST_HIST_TTL,
        )
        .await
    }

    /// `GET /fapi/v1/exchangeInfo`: the futures contracts (perpetuals have
    /// `contract_type == "PERPETUAL"`), cached an hour.
    pub async fn futures_exchange_info(
        &self,
    ) -> Result<Fetched<FuturesExchangeInfo>, BinanceError> {
        let request = futures_request("/fapi/v1/exchangeInfo", Vec::new(), Vec::new());
        self.cached(
            &self.inner.futures.exchange_info,
            request,
            std::convert::identity,
            |_, _| EXCHANGE_INFO_TTL,
        )
        .await
    }
}

fn futures_request(
    path: &'static str,
    query: Vec<(&'static str, String)>,
    symbols: Vec<Symbol>,
) -> Request {
    Request {
        api: Api::Futures,
        path,
        query,
        symbols,
    }
}
