//! Candles of every series Binance serves (spot, and USD-M trade, mark,
//! index and premium prices), one page per request or a long window put
//! together from pages.
//!
//! A long window is the most recent `limit` candles, up to
//! [`MAX_WINDOW_CANDLES`]. Its newest page is asked for as "the most recent
//! 1000", which finds the last candle even for a halted or delisted market
//! (a clock could not). Every older page is then a fixed cell of 1000
//! intervals aligned to the Unix epoch: its range is known, so the cells
//! are fetched concurrently, and since a cell wholly in the past never
//! changes, it is cached long and shared by every window that covers it.
//! Pages only ever return what Binance has, so gaps stay gaps and are
//! found in the merged series as in a single page.

use std::time::Duration;

use futures_util::future::try_join_all;

use super::budget::Cost;
use super::cache::Fetched;
use super::client::{Api, BinanceClient, Request};
use super::error::BinanceError;
use super::futures::futures_request;
use super::params::{CandleSeries, Interval, Market, Symbol, TimeRange, TimeZone};
use super::wire::{self, Kline, RowCap};

/// Entries of the candle cache. The largest entries are 1000 klines
/// (~150 kB), so a full cache stays under ~40 MB.
pub(crate) const CACHE_ENTRIES: usize = 256;
/// Klines that may still change: the open candle, or a window that new
/// candles will extend.
const LIVE_TTL: Duration = Duration::from_secs(2);
/// Klines and trades of a range wholly in the past never change.
const SETTLED_TTL: Duration = Duration::from_secs(15 * 60);
/// Documented defaults and maxima of `limit`; larger ones are clamped.
const DEFAULT_LIMIT: u16 = 500;
const SPOT_MAX_LIMIT: u16 = 1000;
const FUTURES_MAX_LIMIT: u16 = 1500;
/// Candles per page of a long window: spot's maximum, and on USD-M the
/// largest page at weight 5 (beyond 1000 it costs 10).
pub const PAGE_CANDLES: u16 = 1000;
/// Most candles in one window: enough for a 200-day average on daily
/// candles many times over, and a bounded cost per call (six requests).
pub const MAX_WINDOW_CANDLES: usize = 5000;
/// Most pages one window may fetch: the pages `limit` spans, plus a few
/// more to reach past gaps.
const MAX_WINDOW_PAGES: usize = 9;

impl BinanceClient {
    /// `GET /api/v3/klines`: spot candles, oldest first. `range.limit`
    /// defaults to 500 and is clamped to 1000.
    pub async fn klines(
        &self,
        symbol: &Symbol,
        interval: Interval,
        range: TimeRange,
        time_zone: Option<&TimeZone>,
    ) -> Result<Fetched<Vec<Kline>>, BinanceError> {
        self.candles(CandleSeries::SPOT, symbol, interval, range, time_zone)
            .await
    }

    /// One page of candles of `series`, oldest first. `range.limit`
    /// defaults to 500 and is clamped to 1000 (spot) or 1500 (USD-M);
    /// `time_zone` exists on spot only.
    pub async fn candles(
        &self,
        series: CandleSeries,
        symbol: &Symbol,
        interval: Interval,
        range: TimeRange,
        time_zone: Option<&TimeZone>,
    ) -> Result<Fetched<Vec<Kline>>, BinanceError> {
        series.check_interval(interval)?;
        let max = match series.market() {
            Market::Spot => SPOT_MAX_LIMIT,
            Market::UsdM => FUTURES_MAX_LIMIT,
        };
        let mut query = vec![
            (series.symbol_param(), symbol.to_string()),
            ("interval", interval.to_string()),
        ];
        range.push_query(&mut query, max)?;
        let cap = range.row_cap(DEFAULT_LIMIT, max);
        let request = match (series.market(), time_zone) {
            (Market::Spot, time_zone) => {
                if let Some(time_zone) = time_zone {
                    query.push(("timeZone", time_zone.as_str().to_owned()));
                }
                Request {
                    api: Api::Spot,
                    path: series.path(),
                    query,
                    symbols: vec![symbol.clone()],
                    cost: Cost::weight(2),
                }
            }
            (Market::UsdM, None) => futures_request(
                series.path(),
                query,
                vec![symbol.clone()],
                Cost::weight(futures_weight(cap)),
            ),
            (Market::UsdM, Some(_)) => {
                return Err(BinanceError::InvalidParameter {
                    code: None,
                    msg: "`timeZone` exists for spot candles only (USD-M candles are always UTC): leave it out, or use `market` spot."
                        .to_owned(),
                });
            }
        };
        self.cached(
            &self.inner.candles,
            request,
            |body| wire::rows(body, cap),
            |klines: &Vec<Kline>, now| {
                let last_close = klines.last().map(|k| k.close_time);
                settled_ttl(range, cap, klines.len(), last_close, now, LIVE_TTL)
            },
        )
        .await
    }

    /// The most recent `limit` candles of `series` (1 to
    /// [`MAX_WINDOW_CANDLES`]), fetched in pages of [`PAGE_CANDLES`] as the
    /// module doc describes. Its freshness (age, cached) is the newest
    /// page's: older pages hold closed candles that never change.
    pub async fn candle_window(
        &self,
        series: CandleSeries,
        symbol: &Symbol,
        interval: Interval,
        limit: usize,
    ) -> Result<Fetched<Vec<Kline>>, BinanceError> {
        let limit = limit.clamp(1, MAX_WINDOW_CANDLES);
        let page = usize::from(PAGE_CANDLES);
        let first_page = u16::try_from(limit.min(page)).unwrap_or(PAGE_CANDLES);
        let newest = self
            .candles(series, symbol, interval, TimeRange::last(first_page), None)
            .await?;
        // A short newest page is all the history there is; a month's
        // length varies, and a thousand of them reach back past any market.
        let Some(last) = newest.value.last() else {
            return Ok(newest);
        };
        if limit <= page || newest.value.len() < page || interval == Interval::Month1 {
            return Ok(newest);
        }
        let step = interval.duration_ms();
        let cell_span = step * i64::from(PAGE_CANDLES);
        let newest_cell = last.open_time.div_euclid(cell_span);
        let oldest_wanted = last.open_time - (limit as i64 - 1) * step;
        let mut next_cell = newest_cell - 1;
        let mut lowest_cell = oldest_wanted.div_euclid(cell_span);
        let mut merged: Vec<Kline> = newest.value.to_vec();
        let mut pages = 1;
        loop {
            let cells: Vec<i64> = (lowest_cell..=next_cell)
                .rev()
                .take(MAX_WINDOW_PAGES - pages)
                .collect();
            let fetched = try_join_all(cells.iter().map(|&cell| {
                let range = TimeRange {
                    start_time: Some(cell * cell_span),
                    end_time: Some((cell + 1) * cell_span - 1),
                    limit: Some(PAGE_CANDLES),
                };
                self.candles(series, symbol, interval, range, None)
            }))
            .await?;
            pages += fetched.len();
            let reached_the_start = fetched.last().is_none_or(|oldest| oldest.value.is_empty());
            for page in &fetched {
                merged.extend(page.value.iter().cloned());
            }
            merged.sort_unstable_by_key(|k| k.open_time);
            merged.dedup_by_key(|k| k.open_time);
            // Gaps make the window reach further back than `limit`
            // intervals: go on, a cell at a time, until it is full, the
            // market's start is reached or the page bound is.
            if merged.len() >= limit || reached_the_start || pages >= MAX_WINDOW_PAGES {
                break;
            }
            next_cell = cells.last().map_or(next_cell, |oldest| oldest - 1);
            let missing = limit - merged.len();
            lowest_cell = next_cell - (missing.div_ceil(page) as i64 - 1);
        }
        let excess = merged.len().saturating_sub(limit);
        merged.drain(..excess);
        Ok(Fetched {
            value: merged.into(),
            fetched_at: newest.fetched_at,
            cached: newest.cached,
        })
    }
}

/// Documented USD-M kline weight by `limit`: [1,100) 1, [100,500) 2,
/// [500,1000] 5, above 10.
fn futures_weight(cap: RowCap) -> u32 {
    let (RowCap::First(limit) | RowCap::Last(limit)) = cap;
    match limit {
        0..100 => 1,
        100..500 => 2,
        500..=1000 => 5,
        _ => 10,
    }
}

/// The TTL of a time series. It is settled, and cached long, when its last
/// item is in the past and no newer item can join it: the range ends in the
/// past, or it starts at a fixed time and is already full. Otherwise the
/// open candle or newer trades may still change it.
pub(crate) fn settled_ttl(
    range: TimeRange,
    cap: RowCap,
    len: usize,
    last_close: Option<i64>,
    now_ms: i64,
    live_ttl: Duration,
) -> Duration {
    let (RowCap::First(full) | RowCap::Last(full)) = cap;
    // An empty answer for a range in the past is as final as a full one.
    let last_in_past = last_close.is_none_or(|close| close < now_ms);
    let bounded = range.end_time.is_some_and(|end| end < now_ms)
        || (range.start_time.is_some() && len == full);
    if last_in_past && bounded {
        SETTLED_TTL
    } else {
        live_ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn futures_kline_weight_follows_the_documented_table() {
        let weight = |n| futures_weight(RowCap::Last(n));
        assert_eq!(
            [1, 99, 100, 499, 500, 1000, 1001, 1500].map(weight),
            [1, 1, 2, 2, 5, 5, 10, 10]
        );
    }
}
