//! USD-M futures handlers: the perpetuals are the markets marked
//! `perpetual`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::data::{Candle, HOUR_MS, MARKETS, Market, fmt_dp, fmt8, futures_series, tick};
use super::request::{
    Answer, ApiError, Params, find_market, invalid_symbol, limit, one_or_many, required_market,
    select,
};
use super::spot::{interval_candles, serve_klines};
use super::{FAKE_NOW_MS, Fake};

/// Every 8 h from the first candle, as on Binance.
const FUNDING_EVERY_MS: i64 = 8 * HOUR_MS;
/// The statistics of `/futures/data` cover only this many days before the
/// fake's now, as Binance documents.
pub const STATISTICS_DAYS: i64 = 30;

fn perpetual(params: &HashMap<String, String>) -> Result<&'static Market, ApiError> {
    let market = required_market(params)?;
    if market.perpetual {
        Ok(market)
    } else {
        Err(invalid_symbol())
    }
}

pub(super) async fn exchange_info(State(fake): State<Arc<Fake>>) -> Response {
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
        "rateLimits": [{ "rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": fake.advertised_limit(true) }],
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
pub(super) async fn premium_index(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
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

pub(super) async fn funding_rate(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
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
    (btc * market.qty_scale()).round_dp(3)
}

pub(super) async fn open_interest(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let market = perpetual(&params)?;
    let hours = fake.hourly(market).len();
    Ok(Json(json!({
        "openInterest": fmt_dp(open_interest_at(market, hours - 1), 3),
        "symbol": market.symbol,
        "time": FAKE_NOW_MS
    }))
    .into_response())
}

/// The statistics' period in ms, or Binance's error for another value.
fn period_ms(params: &HashMap<String, String>) -> Result<i64, ApiError> {
    Ok(match params.get("period").map(String::as_str) {
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
    })
}

/// The points of a statistics series: every multiple of the period from
/// [`STATISTICS_DAYS`] before the fake's now (and not before the first
/// candle) up to now, each with the index of the hour it falls in, after
/// Binance's range rule and `limit` (default 30, max 500).
fn statistics_points(
    fake: &Fake,
    market: &Market,
    params: &HashMap<String, String>,
) -> Result<Vec<(i64, usize)>, ApiError> {
    let period = period_ms(params)?;
    let limit = limit(params, 30, 500)?;
    let first = fake.hourly(market)[0].open_time;
    let kept_from = (FAKE_NOW_MS - STATISTICS_DAYS * 24 * HOUR_MS).max(first);
    let start = kept_from.div_euclid(period) * period;
    let times: Vec<i64> = (0..)
        .map(|k| start + k * period)
        .filter(|t| *t >= kept_from)
        .take_while(|t| *t <= FAKE_NOW_MS)
        .collect();
    let range = select(times.len(), |i| times[i], params, limit)?;
    Ok(times[range]
        .iter()
        .map(|&time| {
            let hour = usize::try_from((time - first) / HOUR_MS).unwrap_or_default();
            (time, hour)
        })
        .collect())
}

/// Open interest per point: that of the point's hour, valued at the hour's
/// close.
pub(super) async fn open_interest_hist(
    State(fake): State<Arc<Fake>>,
    Query(params): Params,
) -> Answer {
    let market = perpetual(&params)?;
    let candles = fake.hourly(market);
    let points: Vec<Value> = statistics_points(&fake, market, &params)?
        .into_iter()
        .map(|(time, hour)| {
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

/// The three long/short ratios, by the hour index `h` of a point:
/// the long share is 0.5 + 0.001 × (7h mod 100) for all accounts,
/// 0.45 + 0.002 × (11h mod 100) for the top accounts and
/// 0.52 + 0.0015 × (13h mod 100) for the top positions; the short share is
/// the rest of 1, and the ratio long / short to 4 decimals.
pub fn long_short_at(path: &str, hour: usize) -> (Decimal, Decimal, Decimal) {
    let (base, slope, mult) = match path {
        "/futures/data/globalLongShortAccountRatio" => (5000, 10, 7),
        "/futures/data/topLongShortAccountRatio" => (4500, 20, 11),
        _ => (5200, 15, 13),
    };
    let long = Decimal::new(base + slope * ((mult * hour as i64) % 100), 4);
    let short = Decimal::ONE - long;
    ((long / short).round_dp(4), long, short)
}

async fn long_short(fake: &Fake, path: &str, params: &HashMap<String, String>) -> Answer {
    let market = perpetual(params)?;
    let rows: Vec<Value> = statistics_points(fake, market, params)?
        .into_iter()
        .map(|(time, hour)| {
            let (ratio, long, short) = long_short_at(path, hour);
            json!({
                "symbol": market.symbol,
                "longShortRatio": fmt_dp(ratio, 4),
                "longAccount": fmt_dp(long, 4),
                "shortAccount": fmt_dp(short, 4),
                "timestamp": time.to_string()
            })
        })
        .collect();
    Ok(Json(rows).into_response())
}

pub(super) async fn global_long_short(
    State(fake): State<Arc<Fake>>,
    Query(params): Params,
) -> Answer {
    long_short(&fake, "/futures/data/globalLongShortAccountRatio", &params).await
}

pub(super) async fn top_long_short_accounts(
    State(fake): State<Arc<Fake>>,
    Query(params): Params,
) -> Answer {
    long_short(&fake, "/futures/data/topLongShortAccountRatio", &params).await
}

pub(super) async fn top_long_short_positions(
    State(fake): State<Arc<Fake>>,
    Query(params): Params,
) -> Answer {
    long_short(&fake, "/futures/data/topLongShortPositionRatio", &params).await
}

/// Taker volume of a point: the taker buy base volume of its hour as the
/// buy volume, the rest of the hour's volume as the sell volume, both to 4
/// decimals, and their ratio to 4 decimals.
pub fn taker_at(hourly: &[Candle], hour: usize) -> (Decimal, Decimal, Decimal) {
    let candle = &hourly[hour];
    let buy = candle.taker_base.round_dp(4);
    let sell = (candle.volume - candle.taker_base).round_dp(4);
    ((buy / sell).round_dp(4), buy, sell)
}

/// The rows carry no symbol, as documented.
pub(super) async fn taker_volume(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let market = perpetual(&params)?;
    let hourly = fake.hourly(market);
    let rows: Vec<Value> = statistics_points(&fake, market, &params)?
        .into_iter()
        .map(|(time, hour)| {
            let (ratio, buy, sell) = taker_at(hourly, hour);
            json!({
                "buySellRatio": fmt_dp(ratio, 4),
                "buyVol": fmt_dp(buy, 4),
                "sellVol": fmt_dp(sell, 4),
                "timestamp": time.to_string()
            })
        })
        .collect();
    Ok(Json(rows).into_response())
}

/// Basis of a point: the futures price is the hour's close × 1.0003 to the
/// tick, the index its close × 0.9999 to the tick (as the USD-M candles),
/// the basis their difference and the rate basis / index to 4 decimals.
/// `annualizedBasisRate` is empty and `timestamp` a number, as Binance
/// sends them for perpetuals.
pub fn basis_at(hourly: &[Candle], market: &Market, hour: usize) -> (Decimal, Decimal, Decimal) {
    let close = hourly[hour].close;
    let futures = (close * Decimal::new(10003, 4)).round_dp(market.price_dp);
    let index = (close * Decimal::new(9999, 4)).round_dp(market.price_dp);
    (futures, index, futures - index)
}

pub(super) async fn basis(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let pair = params.get("pair").ok_or_else(|| {
        ApiError(
            -1102,
            "Mandatory parameter 'pair' was not sent, was empty/null, or malformed.".to_owned(),
        )
    })?;
    if params.get("contractType").map(String::as_str) != Some("PERPETUAL") {
        return Err(ApiError(-1130, "Invalid contractType.".to_owned()));
    }
    let market = find_market(pair).and_then(|m| {
        if m.perpetual {
            Ok(m)
        } else {
            Err(invalid_symbol())
        }
    })?;
    let hourly = fake.hourly(market);
    let rows: Vec<Value> = statistics_points(&fake, market, &params)?
        .into_iter()
        .map(|(time, hour)| {
            let (futures, index, basis) = basis_at(hourly, market, hour);
            json!({
                "indexPrice": fmt8(index),
                "contractType": "PERPETUAL",
                "basisRate": fmt_dp((basis / index).round_dp(4), 4),
                "futuresPrice": fmt_dp(futures, market.price_dp),
                "annualizedBasisRate": "",
                "basis": fmt8(basis),
                "pair": market.symbol,
                "timestamp": time
            })
        })
        .collect();
    Ok(Json(rows).into_response())
}

/// USD-M candles of one series; index candles are asked for by `pair`.
fn series_klines(fake: &Fake, params: &HashMap<String, String>, price: &str) -> Answer {
    let market = if price == "index" {
        let pair = params.get("pair").ok_or_else(|| {
            ApiError(
                -1102,
                "Mandatory parameter 'pair' was not sent, was empty/null, or malformed.".to_owned(),
            )
        })?;
        find_market(pair)?
    } else {
        required_market(params)?
    };
    if !market.perpetual {
        return Err(invalid_symbol());
    }
    if params.get("interval").map(String::as_str) == Some("1s") {
        return Err(ApiError(-1120, "Invalid interval.".to_owned()));
    }
    let candles = futures_series(&interval_candles(fake, market, params)?, market, price);
    let limit = limit(params, 500, 1500)?;
    serve_klines(&candles, params, limit)
}

pub(super) async fn trade_klines(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    series_klines(&fake, &params, "trade")
}

pub(super) async fn mark_klines(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    series_klines(&fake, &params, "mark")
}

pub(super) async fn index_klines(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    series_klines(&fake, &params, "index")
}

pub(super) async fn premium_klines(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    series_klines(&fake, &params, "premium")
}
