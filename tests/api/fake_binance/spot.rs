//! Spot handlers.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::data::{Candle, Market, fmt_dp, fmt8, step, tick};
use super::request::{
    Answer, ApiError, Params, limit, one_or_many, requested_markets, required_market, select,
};
use super::{FAKE_NOW_MS, Fake};

const FIRST_UPDATE_ID: u64 = 1_027_024;
/// The synthetic tape has one trade a minute.
const TRADES_PER_CANDLE: usize = 60;

pub(super) async fn exchange_info(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let (markets, _) = requested_markets(&params)?;
    let symbols: Vec<Value> = markets.iter().map(|m| spot_symbol_json(m)).collect();
    Ok(Json(json!({
        "timezone": "UTC",
        "serverTime": FAKE_NOW_MS,
        "rateLimits": [
            { "rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": fake.advertised_limit(false) },
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

pub(super) async fn klines(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let market = required_market(&params)?;
    let candles = interval_candles(&fake, market, &params)?;
    let limit = limit(&params, 500, 1000)?;
    serve_klines(&candles, &params, limit)
}

/// The halted-aware candles of `market` at the `interval` asked for.
pub(super) fn interval_candles(
    fake: &Fake,
    market: &Market,
    params: &std::collections::HashMap<String, String>,
) -> Result<Vec<Candle>, ApiError> {
    let interval = params.get("interval").ok_or_else(|| {
        ApiError(
            -1102,
            "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.".to_owned(),
        )
    })?;
    fake.interval_candles(market, interval)
        .ok_or_else(|| ApiError(-1120, "Invalid interval.".to_owned()))
}

/// The candles Binance's range rule selects, as kline rows.
pub(super) fn serve_klines(
    candles: &[Candle],
    params: &std::collections::HashMap<String, String>,
    limit: usize,
) -> Answer {
    let range = select(candles.len(), |i| candles[i].open_time, params, limit)?;
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

pub(super) async fn ticker_24hr(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let (markets, single) = requested_markets(&params)?;
    let tickers = markets
        .iter()
        .map(|m| ticker_24hr_json(fake.hourly(m), m))
        .collect();
    Ok(one_or_many(tickers, single))
}

/// Rolling window: `Nh` covers N candles, `Nd` 24·N, and minute windows the
/// last candle (the fixture has nothing finer).
pub(super) async fn ticker_window(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
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

pub(super) fn last_close(fake: &Fake, market: &Market) -> Decimal {
    fake.hourly(market)
        .last()
        .map(|c| c.close)
        .unwrap_or_default()
}

pub(super) async fn ticker_price(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
    let (markets, single) = requested_markets(&params)?;
    let prices = markets
        .iter()
        .map(|m| json!({ "symbol": m.symbol, "price": fmt8(last_close(&fake, m)) }))
        .collect();
    Ok(one_or_many(prices, single))
}

pub(super) async fn book_ticker(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
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
pub(super) async fn depth(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
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

pub(super) async fn trades(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
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

pub(super) async fn agg_trades(State(fake): State<Arc<Fake>>, Query(params): Params) -> Answer {
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
