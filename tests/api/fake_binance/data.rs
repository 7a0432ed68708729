//! The fake's data: the markets it lists and their candles, every series
//! and interval derived from the hourly fixture (formulas in the module doc
//! of `fake_binance`).

use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

const FIXTURE_CSV: &str = include_str!("../../data/btcusdt-1h.csv");

pub const HOUR_MS: i64 = 3_600_000;
/// 1970-01-05, the first Monday: Binance's weekly candles start on Mondays.
const WEEK_OFFSET_MS: i64 = 4 * 24 * HOUR_MS;

/// A symbol the fake lists, derived from BTCUSDT.
pub struct Market {
    pub symbol: &'static str,
    pub base: &'static str,
    pub quote: &'static str,
    pub status: &'static str,
    price_scale: &'static str,
    qty_scale: &'static str,
    /// Decimals of the tick size and the lot step size.
    pub price_dp: u32,
    pub qty_dp: u32,
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

impl Market {
    pub fn qty_scale(&self) -> Decimal {
        dec(self.qty_scale)
    }
}

/// One candle with every Binance column.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Every market's hourly candles: the fixture scaled, with the synthetic
/// columns filled in.
pub fn hourly_candles() -> Vec<Vec<Candle>> {
    let rows = parse_fixture();
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

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text.trim()).expect("fixture decimal")
}

/// Binance's usual 8-decimal string.
pub fn fmt8(value: Decimal) -> String {
    fmt_dp(value, 8)
}

pub fn fmt_dp(value: Decimal, dp: u32) -> String {
    let mut value = value.round_dp(dp);
    value.rescale(dp);
    value.to_string()
}

pub fn tick(market: &Market) -> Decimal {
    Decimal::new(1, market.price_dp)
}

pub fn step(market: &Market) -> Decimal {
    Decimal::new(1, market.qty_dp)
}

/// The candles of `interval` from the hourly ones, or `None` for an
/// interval Binance does not know. `1s` and `1M` answer no candles.
pub fn interval_candles(hourly: &[Candle], interval: &str) -> Option<Vec<Candle>> {
    let hours = match interval {
        "1s" | "1M" => return Some(Vec::new()),
        "1m" => return Some(split(hourly, 60)),
        "3m" => return Some(split(hourly, 20)),
        "5m" => return Some(split(hourly, 12)),
        "15m" => return Some(split(hourly, 4)),
        "30m" => return Some(split(hourly, 2)),
        "1h" => return Some(hourly.to_vec()),
        "2h" => 2,
        "4h" => 4,
        "6h" => 6,
        "8h" => 8,
        "12h" => 12,
        "1d" => 24,
        "3d" => 72,
        "1w" => return Some(aggregate(hourly, 7 * 24 * HOUR_MS, WEEK_OFFSET_MS)),
        _ => return None,
    };
    Some(aggregate(hourly, hours * HOUR_MS, 0))
}

/// Candles per `interval_ms`, bucketed from `offset_ms`.
fn aggregate(hourly: &[Candle], interval_ms: i64, offset_ms: i64) -> Vec<Candle> {
    let mut out: Vec<Candle> = Vec::new();
    for hour in hourly {
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

/// Each hour as `parts` candles whose prices walk the hour's path: open →
/// low → high → close for a rising hour, open → high → low → close
/// otherwise, with the turns at a third and two thirds of the hour. Prices
/// are rounded to the hour's decimals; the volumes, taker volumes and
/// trade counts are shared out so that the parts sum to the hour exactly,
/// and the parts of an hour aggregate back to it.
fn split(hourly: &[Candle], parts: i64) -> Vec<Candle> {
    let length = HOUR_MS / parts;
    let parts_dec = Decimal::from(parts);
    hourly
        .iter()
        .flat_map(|hour| {
            let dp = [hour.open, hour.high, hour.low, hour.close]
                .iter()
                .map(|d| d.scale())
                .max()
                .unwrap_or(8);
            let (first, second) = if hour.close >= hour.open {
                (hour.low, hour.high)
            } else {
                (hour.high, hour.low)
            };
            // (position in parts, price): the waypoints of the hour's path.
            let turns = [
                (Decimal::ZERO, hour.open),
                (parts_dec / Decimal::from(3), first),
                (parts_dec * Decimal::TWO / Decimal::from(3), second),
                (parts_dec, hour.close),
            ];
            let at = move |t: Decimal| -> Decimal {
                let leg = turns
                    .windows(2)
                    .find(|w| t <= w[1].0)
                    .unwrap_or(&turns[2..4]);
                let ((t0, p0), (t1, p1)) = (leg[0], leg[1]);
                (p0 + (p1 - p0) * (t - t0) / (t1 - t0)).round_dp(dp)
            };
            let share = move |total: Decimal, k: i64| {
                (total * Decimal::from(k + 1) / parts_dec).round_dp(8)
                    - (total * Decimal::from(k) / parts_dec).round_dp(8)
            };
            let trades = move |k: i64| {
                hour.trades * (k as u64 + 1) / parts as u64 - hour.trades * k as u64 / parts as u64
            };
            (0..parts).map(move |k| {
                let (from, to) = (Decimal::from(k), Decimal::from(k + 1));
                let (open, close) = (at(from), at(to));
                // A turn inside this part is its high or low.
                let inside = turns[1..3].iter().filter(|(t, _)| *t > from && *t < to);
                let high = inside
                    .clone()
                    .map(|(_, p)| *p)
                    .fold(open.max(close), Decimal::max);
                let low = inside.map(|(_, p)| *p).fold(open.min(close), Decimal::min);
                let open_time = hour.open_time + k * length;
                Candle {
                    open_time,
                    close_time: open_time + length - 1,
                    open,
                    high,
                    low,
                    close,
                    volume: share(hour.volume, k),
                    quote_volume: share(hour.quote_volume, k),
                    trades: trades(k),
                    taker_base: share(hour.taker_base, k),
                    taker_quote: share(hour.taker_quote, k),
                }
            })
        })
        .collect()
}

/// The USD-M series of a market's candles, per `price`:
/// - `trade`: prices × 1.0003 rounded to the tick, volumes and trade
///   counts × 3;
/// - `mark`: the spot prices themselves (the fake's mark price is the last
///   close, as `premiumIndex` says);
/// - `index`: prices × 0.9999 rounded to the tick, as `premiumIndex`'s
///   index price;
/// - `premium`: (trade − index) / index of each price, to 8 dp, the high
///   and low being the largest and smallest of the four.
///
/// Series other than `trade` have zero volumes and as "trades" the number
/// of samples Binance's examples show: one a second (mark, index) or one
/// every 5 s (premium).
pub fn futures_series(candles: &[Candle], market: &Market, price: &str) -> Vec<Candle> {
    let trade = |d: Decimal| (d * Decimal::new(10003, 4)).round_dp(market.price_dp);
    let index = |d: Decimal| (d * Decimal::new(9999, 4)).round_dp(market.price_dp);
    let premium = |d: Decimal| ((trade(d) - index(d)) / index(d)).round_dp(8);
    candles
        .iter()
        .map(|c| {
            let seconds = u64::try_from((c.close_time + 1 - c.open_time) / 1000).unwrap_or(0);
            let prices_only = |open, high, low, close, samples| Candle {
                open,
                high,
                low,
                close,
                volume: Decimal::ZERO,
                quote_volume: Decimal::ZERO,
                trades: samples,
                taker_base: Decimal::ZERO,
                taker_quote: Decimal::ZERO,
                ..c.clone()
            };
            match price {
                "mark" => prices_only(c.open, c.high, c.low, c.close, seconds),
                "index" => prices_only(
                    index(c.open),
                    index(c.high),
                    index(c.low),
                    index(c.close),
                    seconds,
                ),
                "premium" => {
                    let values = [c.open, c.high, c.low, c.close].map(premium);
                    let high = values.iter().copied().fold(values[0], Decimal::max);
                    let low = values.iter().copied().fold(values[0], Decimal::min);
                    prices_only(values[0], high, low, values[3], seconds / 5)
                }
                _ => Candle {
                    open: trade(c.open),
                    high: trade(c.high),
                    low: trade(c.low),
                    close: trade(c.close),
                    volume: c.volume * Decimal::from(3),
                    quote_volume: c.quote_volume * Decimal::from(3),
                    trades: c.trades * 3,
                    taker_base: c.taker_base * Decimal::from(3),
                    taker_quote: c.taker_quote * Decimal::from(3),
                    ..c.clone()
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_hours_aggregate_back_to_the_hour() {
        let hourly = &hourly_candles()[0];
        for parts in [60, 20, 12, 4, 2] {
            let split = split(hourly, parts);
            assert_eq!(split.len(), hourly.len() * parts as usize);
            let back = aggregate(&split, HOUR_MS, 0);
            assert_eq!(&back, hourly, "{parts} parts");
        }
    }
}
