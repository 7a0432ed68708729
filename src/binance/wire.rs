//! Serde types for Binance's documented response shapes.
//!
//! Prices and quantities are `rust_decimal::Decimal`, read from Binance's
//! strings and written back as strings (feature `serde-str`), so a value
//! reaches the user digit for digit and never passes through `f64`; a JSON
//! number where Binance documents a string is rejected as malformed. Times
//! are Unix milliseconds (`i64`). Types serialise with snake_case names for
//! tool output; they deserialise from Binance's camelCase.

use std::collections::VecDeque;
use std::marker::PhantomData;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeOwned, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// One candle. Binance sends it as an array of 12 columns
/// `[int, str×5, int, str, int, str, str, "0"]`; the last is unused (USD-M
/// puts a value there), so it and any column Binance adds later are
/// skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kline {
    pub open_time: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
    pub close_time: i64,
    pub quote_volume: Decimal,
    pub trades: u64,
    pub taker_buy_base_volume: Decimal,
    pub taker_buy_quote_volume: Decimal,
}

impl<'de> Deserialize<'de> for Kline {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Row;
        impl<'de> Visitor<'de> for Row {
            type Value = Kline;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a kline row of at least 11 columns")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kline, A::Error> {
                let mut column = 0;
                // Fields are evaluated in the order written: the columns'.
                let kline = Kline {
                    open_time: next_column(&mut seq, &mut column)?,
                    open: next_column(&mut seq, &mut column)?,
                    high: next_column(&mut seq, &mut column)?,
                    low: next_column(&mut seq, &mut column)?,
                    close: next_column(&mut seq, &mut column)?,
                    volume: next_column(&mut seq, &mut column)?,
                    close_time: next_column(&mut seq, &mut column)?,
                    quote_volume: next_column(&mut seq, &mut column)?,
                    trades: next_column(&mut seq, &mut column)?,
                    taker_buy_base_volume: next_column(&mut seq, &mut column)?,
                    taker_buy_quote_volume: next_column(&mut seq, &mut column)?,
                };
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(kline)
            }
        }
        d.deserialize_seq(Row)
    }
}

fn next_column<'de, A: SeqAccess<'de>, T: Deserialize<'de>>(
    seq: &mut A,
    column: &mut usize,
) -> Result<T, A::Error> {
    let value = seq
        .next_element()?
        .ok_or_else(|| de::Error::invalid_length(*column, &"a kline row of 12 columns"))?;
    *column += 1;
    Ok(value)
}

/// Which rows to keep when an answer holds more than were asked for: the
/// oldest (a request from `startTime`) or the newest (the most recent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowCap {
    First(usize),
    Last(usize),
}

/// A JSON array of rows, keeping at most the rows `cap` allows. Rows past
/// the cap are skipped while parsing, so an upstream that sends 200,000
/// candles for `limit=5` costs parsing time, never memory.
pub(crate) fn rows<T: DeserializeOwned>(body: &[u8], cap: RowCap) -> serde_json::Result<Vec<T>> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let rows = deserializer.deserialize_seq(CappedRows {
        cap,
        row: PhantomData,
    })?;
    deserializer.end()?;
    Ok(rows)
}

struct CappedRows<T> {
    cap: RowCap,
    row: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for CappedRows<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        match self.cap {
            RowCap::First(keep) => {
                let mut kept = Vec::with_capacity(keep.min(seq.size_hint().unwrap_or(0)));
                while kept.len() < keep {
                    match seq.next_element()? {
                        Some(row) => kept.push(row),
                        None => return Ok(kept),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(kept)
            }
            RowCap::Last(keep) => {
                let mut kept: VecDeque<T> = VecDeque::new();
                while let Some(row) = seq.next_element()? {
                    if kept.len() == keep {
                        kept.pop_front();
                    }
                    if keep > 0 {
                        kept.push_back(row);
                    }
                }
                Ok(kept.into())
            }
        }
    }
}

/// `GET /api/v3/ticker/24hr`, type FULL: the rolling-window statistics
/// over the last 24 hours, plus the book top and previous close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct Ticker24hr {
    #[serde(flatten)]
    pub stats: RollingTicker,
    pub prev_close_price: Decimal,
    pub last_qty: Decimal,
    pub bid_price: Decimal,
    pub bid_qty: Decimal,
    pub ask_price: Decimal,
    pub ask_qty: Decimal,
}

/// `GET /api/v3/ticker` (rolling window), type FULL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct RollingTicker {
    pub symbol: String,
    pub price_change: Decimal,
    pub price_change_percent: Decimal,
    pub weighted_avg_price: Decimal,
    pub open_price: Decimal,
    pub high_price: Decimal,
    pub low_price: Decimal,
    pub last_price: Decimal,
    pub volume: Decimal,
    pub quote_volume: Decimal,
    pub open_time: i64,
    pub close_time: i64,
    /// -1 when the window has no trades.
    pub first_id: i64,
    pub last_id: i64,
    pub count: u64,
}

/// `GET /api/v3/ticker/price`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickerPrice {
    pub symbol: String,
    pub price: Decimal,
}

/// `GET /api/v3/ticker/bookTicker`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct BookTicker {
    pub symbol: String,
    pub bid_price: Decimal,
    pub bid_qty: Decimal,
    pub ask_price: Decimal,
    pub ask_qty: Decimal,
}

/// `GET /api/v3/depth`: bids best (highest) first, asks best (lowest) first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct OrderBook {
    pub last_update_id: u64,
    pub bids: Vec<PriceLevel>,
    pub asks: Vec<PriceLevel>,
}

/// One book level, sent by Binance as `["price", "qty"]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(Decimal, Decimal)")]
pub struct PriceLevel {
    pub price: Decimal,
    pub qty: Decimal,
}

impl From<(Decimal, Decimal)> for PriceLevel {
    fn from((price, qty): (Decimal, Decimal)) -> Self {
        Self { price, qty }
    }
}

/// `GET /api/v3/trades`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct Trade {
    pub id: u64,
    pub price: Decimal,
    pub qty: Decimal,
    pub quote_qty: Decimal,
    pub time: i64,
    pub is_buyer_maker: bool,
    pub is_best_match: bool,
}

/// `GET /api/v3/aggTrades`, whose one-letter keys get names here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggTrade {
    #[serde(rename(deserialize = "a"))]
    pub id: u64,
    #[serde(rename(deserialize = "p"))]
    pub price: Decimal,
    #[serde(rename(deserialize = "q"))]
    pub qty: Decimal,
    #[serde(rename(deserialize = "f"))]
    pub first_trade_id: u64,
    #[serde(rename(deserialize = "l"))]
    pub last_trade_id: u64,
    #[serde(rename(deserialize = "T"))]
    pub time: i64,
    #[serde(rename(deserialize = "m"))]
    pub is_buyer_maker: bool,
    #[serde(rename(deserialize = "M"))]
    pub is_best_match: bool,
}

/// `GET /api/v3/exchangeInfo` (spot: [`SymbolInfo`]s) or
/// `GET /fapi/v1/exchangeInfo` ([`FuturesExchangeInfo`]), reduced to what
/// the tools and the weight budget use. The USD-M answer is not in our
/// reference notes' examples, so only long-stable fields are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct ExchangeInfo<S = SymbolInfo> {
    pub server_time: i64,
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    pub symbols: Vec<S>,
}

/// The USD-M contracts that exist.
pub type FuturesExchangeInfo = ExchangeInfo<FuturesSymbol>;

/// An entry of `symbols` in either market, as [`Entry`].
pub trait MarketEntry {
    fn entry(&self) -> Entry<'_>;
}

/// What every entry of `symbols` says: its name, its assets and whether
/// it trades now.
pub struct Entry<'a> {
    pub symbol: &'a str,
    pub base_asset: &'a str,
    pub quote_asset: &'a str,
    /// Open for trading now (not halted, not delisted; on USD-M, a
    /// perpetual rather than a dated contract).
    pub trading: bool,
}

/// An entry of `rateLimits`, e.g. REQUEST_WEIGHT per 1 MINUTE: 6000.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct RateLimit {
    pub rate_limit_type: String,
    pub interval: String,
    pub interval_num: u32,
    pub limit: u64,
}

/// A spot symbol. `status` stays a string (`TRADING`, `HALT`, `BREAK`, … and
/// new values appear). Filters are read leniently: only the tick size, step
/// size and minimum notional are kept, unknown filter types are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawSymbolInfo")]
pub struct SymbolInfo {
    pub symbol: String,
    pub status: String,
    pub base_asset: String,
    pub quote_asset: String,
    pub base_asset_precision: u32,
    pub quote_asset_precision: u32,
    pub tick_size: Option<Decimal>,
    pub step_size: Option<Decimal>,
    pub min_notional: Option<Decimal>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSymbolInfo {
    symbol: String,
    status: String,
    base_asset: String,
    quote_asset: String,
    base_asset_precision: u32,
    quote_asset_precision: u32,
    #[serde(default)]
    filters: Vec<Filter>,
}

impl From<RawSymbolInfo> for SymbolInfo {
    fn from(raw: RawSymbolInfo) -> Self {
        let (tick_size, step_size, min_notional) = read_filters(&raw.filters);
        Self {
            symbol: raw.symbol,
            status: raw.status,
            base_asset: raw.base_asset,
            quote_asset: raw.quote_asset,
            base_asset_precision: raw.base_asset_precision,
            quote_asset_precision: raw.quote_asset_precision,
            tick_size,
            step_size,
            min_notional,
        }
    }
}

impl MarketEntry for SymbolInfo {
    fn entry(&self) -> Entry<'_> {
        Entry {
            symbol: &self.symbol,
            base_asset: &self.base_asset,
            quote_asset: &self.quote_asset,
            trading: self.status == "TRADING",
        }
    }
}

/// The filters we read; the rest (and those of unknown types) are skipped.
#[derive(Deserialize)]
#[serde(tag = "filterType")]
enum Filter {
    #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
    Price { tick_size: Decimal },
    #[serde(rename = "LOT_SIZE", rename_all = "camelCase")]
    LotSize { step_size: Decimal },
    #[serde(rename = "NOTIONAL", alias = "MIN_NOTIONAL", rename_all = "camelCase")]
    Notional { min_notional: Decimal },
    #[serde(other)]
    Other,
}

/// (tick size, step size, min notional).
fn read_filters(filters: &[Filter]) -> (Option<Decimal>, Option<Decimal>, Option<Decimal>) {
    let (mut tick, mut step, mut notional) = (None, None, None);
    for filter in filters {
        match filter {
            Filter::Price { tick_size } => tick = Some(*tick_size),
            Filter::LotSize { step_size } => step = Some(*step_size),
            Filter::Notional { min_notional } => notional = Some(*min_notional),
            Filter::Other => {}
        }
    }
    (tick, step, notional)
}

/// `GET /fapi/v1/premiumIndex`: mark price and funding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct PremiumIndex {
    pub symbol: String,
    pub mark_price: Decimal,
    pub index_price: Decimal,
    /// Meaningful only in the hour before settlement.
    pub estimated_settle_price: Decimal,
    pub last_funding_rate: Decimal,
    pub interest_rate: Decimal,
    pub next_funding_time: i64,
    pub time: i64,
}

/// `GET /fapi/v1/fundingRate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct FundingRate {
    pub symbol: String,
    pub funding_rate: Decimal,
    pub funding_time: i64,
    /// Binance sends `""` for old records, read as `None`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub mark_price: Option<Decimal>,
}

/// `GET /fapi/v1/openInterest`, in contracts (base asset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct OpenInterest {
    pub symbol: String,
    pub open_interest: Decimal,
    pub time: i64,
}

/// `GET /futures/data/openInterestHist`. `timestamp` is documented as a
/// string and seen as a number, so both are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct OpenInterestHist {
    pub symbol: String,
    pub sum_open_interest: Decimal,
    pub sum_open_interest_value: Decimal,
    #[serde(
        default,
        rename(deserialize = "CMCCirculatingSupply"),
        deserialize_with = "empty_as_none"
    )]
    pub cmc_circulating_supply: Option<Decimal>,
    #[serde(deserialize_with = "int_or_string")]
    pub timestamp: i64,
}

/// `GET /futures/data/globalLongShortAccountRatio`,
/// `topLongShortAccountRatio` and `topLongShortPositionRatio`, which share
/// one shape. For the position ratio, `long_account` and `short_account`
/// hold the shares of *positions*, as Binance documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct LongShortRatio {
    pub long_short_ratio: Decimal,
    pub long_account: Decimal,
    pub short_account: Decimal,
    #[serde(deserialize_with = "int_or_string")]
    pub timestamp: i64,
}

/// `GET /futures/data/takerlongshortRatio`: taker buy and sell volume per
/// period (the rows carry no symbol).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct TakerVolume {
    pub buy_sell_ratio: Decimal,
    pub buy_vol: Decimal,
    pub sell_vol: Decimal,
    #[serde(deserialize_with = "int_or_string")]
    pub timestamp: i64,
}

/// `GET /futures/data/basis`. Binance sends `annualizedBasisRate` as `""`
/// for perpetuals, read as `None`; its `timestamp` is a number, unlike the
/// other statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct Basis {
    pub index_price: Decimal,
    pub futures_price: Decimal,
    pub basis: Decimal,
    pub basis_rate: Decimal,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub annualized_basis_rate: Option<Decimal>,
    #[serde(deserialize_with = "int_or_string")]
    pub timestamp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "camelCase"))]
pub struct FuturesSymbol {
    pub symbol: String,
    pub pair: String,
    /// `PERPETUAL`, `CURRENT_QUARTER`, … (empty for delisted contracts).
    pub contract_type: String,
    pub status: String,
    pub base_asset: String,
    pub quote_asset: String,
    pub margin_asset: String,
}

impl MarketEntry for FuturesSymbol {
    fn entry(&self) -> Entry<'_> {
        Entry {
            symbol: &self.symbol,
            base_asset: &self.base_asset,
            quote_asset: &self.quote_asset,
            trading: self.contract_type == "PERPETUAL" && self.status == "TRADING",
        }
    }
}

/// Endpoints that answer one object for `symbol=` and an array otherwise.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub(crate) fn into_vec(self) -> Vec<T> {
        match self {
            Self::One(one) => vec![one],
            Self::Many(many) => many,
        }
    }
}

fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let text = String::deserialize(d)?;
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrString {
        Int(i64),
        String(String),
    }
    match IntOrString::deserialize(d)? {
        IntOrString::Int(n) => Ok(n),
        IntOrString::String(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented kline example, comments stripped.
    #[test]
    fn kline_rows_parse_from_the_documented_array() {
        let body = r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100",
            "148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#;
        let klines: Vec<Kline> = serde_json::from_str(body).unwrap();
        assert_eq!(klines[0].open_time, 1_499_040_000_000);
        assert_eq!(klines[0].open.to_string(), "0.01634790");
        assert_eq!(klines[0].trades, 308);
        let out = serde_json::to_value(&klines[0]).unwrap();
        assert_eq!(out["taker_buy_quote_volume"], "28.46694368");
        // Futures put a value in the last column; it is ignored.
        let futures = body.replace(r#""0"]]"#, r#""17928899.62484339"]]"#);
        assert!(serde_json::from_str::<Vec<Kline>>(&futures).is_ok());
    }

    #[test]
    fn prices_must_be_strings_never_floats() {
        let as_number = r#"{"symbol":"LTCBTC","price":4.000002}"#;
        assert!(serde_json::from_str::<TickerPrice>(as_number).is_err());
        let exact: TickerPrice =
            serde_json::from_str(r#"{"symbol":"LTCBTC","price":"4.00000200"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&exact).unwrap(),
            r#"{"symbol":"LTCBTC","price":"4.00000200"}"#
        );
    }

    #[test]
    fn open_interest_hist_timestamp_is_a_string_or_a_number() {
        let documented = r#"{"symbol":"BTCUSDT","sumOpenInterest":"20403.63700000",
            "sumOpenInterestValue":"150570784.07809979","CMCCirculatingSupply":"165880.538",
            "timestamp":"1583127900000"}"#;
        let seen = r#"{"symbol":"BTCUSDT","sumOpenInterest":"20403.637",
            "sumOpenInterestValue":"150570784.07809979","timestamp":1583127900000}"#;
        let a: OpenInterestHist = serde_json::from_str(documented).unwrap();
        let b: OpenInterestHist = serde_json::from_str(seen).unwrap();
        assert_eq!(a.timestamp, 1_583_127_900_000);
        assert_eq!(b.timestamp, a.timestamp);
        assert_eq!(a.cmc_circulating_supply.unwrap().to_string(), "165880.538");
        assert_eq!(b.cmc_circulating_supply, None);
    }

    #[test]
    fn old_funding_records_may_lack_a_mark_price() {
        let body = r#"[{"symbol":"BTCUSDT","fundingRate":"-0.03750000","fundingTime":1570608000000,"markPrice":""},
            {"symbol":"BTCUSDT","fundingRate":"0.00010000","fundingTime":1570636800000,"markPrice":"34287.54619963"}]"#;
        let rates: Vec<FundingRate> = serde_json::from_str(body).unwrap();
        assert_eq!(rates[0].mark_price, None);
        assert_eq!(rates[1].mark_price.unwrap().to_string(), "34287.54619963");
    }

    #[test]
    fn unknown_filters_and_fields_are_ignored() {
        let body = r#"{"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","baseAssetPrecision":8,
            "quoteAsset":"BTC","quotePrecision":8,"quoteAssetPrecision":8,"newField":[1],
            "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.00001000","maxPrice":"922327.00000000","tickSize":"0.00001000"},
                {"filterType":"LOT_SIZE","minQty":"0.00010000","maxQty":"100000.00000000","stepSize":"0.00010000"},
                {"filterType":"SOME_FUTURE_FILTER","x":1},
                {"filterType":"MIN_NOTIONAL","minNotional":"0.00010000","applyToMarket":true,"avgPriceMins":5}]}"#;
        let info: SymbolInfo = serde_json::from_str(body).unwrap();
        assert_eq!(info.tick_size.unwrap().to_string(), "0.00001000");
        assert_eq!(info.step_size.unwrap().to_string(), "0.00010000");
        assert_eq!(info.min_notional.unwrap().to_string(), "0.00010000");
    }

    #[test]
    fn single_and_many_answers_both_become_lists() {
        let one = r#"{"symbol":"LTCBTC","bidPrice":"4.00000000","bidQty":"431.00000000","askPrice":"4.00000200","askQty":"9.00000000"}"#;
        let many = format!("[{one},{one}]");
        let parsed: OneOrMany<BookTicker> = serde_json::from_str(one).unwrap();
        assert_eq!(parsed.into_vec().len(), 1);
        let parsed: OneOrMany<BookTicker> = serde_json::from_str(&many).unwrap();
        assert_eq!(parsed.into_vec().len(), 2);
    }

    #[test]
    fn aggregate_trades_get_readable_names() {
        let body = r#"[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true}]"#;
        let trades: Vec<AggTrade> = serde_json::from_str(body).unwrap();
        let out = serde_json::to_value(&trades[0]).unwrap();
        assert_eq!(out["price"], "0.01633102");
        assert_eq!(out["first_trade_id"], 27781);
        assert_eq!(out["is_best_match"], true);
    }

    #[test]
    fn rows_past_the_cap_are_skipped_from_either_end() {
        let body = b"[1,2,3,4,5,6]";
        assert_eq!(rows::<u8>(body, RowCap::First(2)).unwrap(), [1, 2]);
        assert_eq!(rows::<u8>(body, RowCap::Last(2)).unwrap(), [5, 6]);
        assert_eq!(
            rows::<u8>(body, RowCap::Last(10)).unwrap(),
            [1, 2, 3, 4, 5, 6]
        );
        assert!(rows::<u8>(body, RowCap::Last(0)).unwrap().is_empty());
        // Skipped rows are still checked for being JSON, not for their type.
        assert!(rows::<u8>(b"[1,2,\"x\"]", RowCap::First(2)).is_ok());
        assert!(rows::<u8>(b"[1,2,", RowCap::First(2)).is_err());
        assert!(rows::<u8>(b"[1] trailing", RowCap::First(2)).is_err());
    }

    #[test]
    fn a_kline_needs_eleven_columns_and_ignores_later_ones() {
        let eleven = r#"[1,"1","2","0.5","1.5","10",2,"15",3,"4","5"]"#;
        assert!(serde_json::from_str::<Kline>(eleven).is_ok());
        let more = r#"[1,"1","2","0.5","1.5","10",2,"15",3,"4","5","0",[7],{"x":1}]"#;
        assert_eq!(
            serde_json::from_str::<Kline>(more).unwrap(),
            serde_json::from_str::<Kline>(eleven).unwrap()
        );
        let ten = r#"[1,"1","2","0.5","1.5","10",2,"15",3,"4"]"#;
        let error = serde_json::from_str::<Kline>(ten).unwrap_err();
        assert!(error.to_string().contains("12 columns"), "{error}");
        // The documented mark-price example has a tab in the volume.
        let mark = "[1591256460000,\"9653.29201333\",\"9654.56401333\",\"9653.07367333\",\"9653.07367333\",\"0\",1591256519999,\"0\",60,\"0\",\"0\",\"0\"]";
        assert_eq!(serde_json::from_str::<Kline>(mark).unwrap().trades, 60);
    }

    #[test]
    fn the_24h_ticker_is_the_rolling_one_plus_the_book_top() {
        let body = r#"{"symbol":"BNBBTC","priceChange":"-94.99999800","priceChangePercent":"-95.960",
            "weightedAvgPrice":"0.29628482","prevClosePrice":"0.10002000","lastPrice":"4.00000200",
            "lastQty":"200.00000000","bidPrice":"4.00000000","bidQty":"100.00000000","askPrice":"4.00000200",
            "askQty":"100.00000000","openPrice":"99.00000000","highPrice":"100.00000000","lowPrice":"0.10000000",
            "volume":"8913.30000000","quoteVolume":"15.30000000","openTime":1499783499040,"closeTime":1499869899040,
            "firstId":28385,"lastId":28460,"count":76}"#;
        let ticker: Ticker24hr = serde_json::from_str(body).unwrap();
        assert_eq!(ticker.stats.last_price.to_string(), "4.00000200");
        assert_eq!(ticker.ask_qty.to_string(), "100.00000000");
        let as_number = body.replace(r#""lastPrice":"4.00000200""#, r#""lastPrice":4.000002"#);
        assert!(
            serde_json::from_str::<Ticker24hr>(&as_number).is_err(),
            "prices stay strings through the flattened part too"
        );
    }

    /// The documented examples of the positioning statistics.
    #[test]
    fn futures_statistics_parse_from_their_documented_shapes() {
        let ratio = r#"[{"symbol":"BTCUSDT","longShortRatio":"0.1960","longAccount":"0.6622","shortAccount":"0.3378","timestamp":"1583139600000"}]"#;
        let ratio: Vec<LongShortRatio> = serde_json::from_str(ratio).unwrap();
        assert_eq!(ratio[0].timestamp, 1_583_139_600_000);
        assert_eq!(ratio[0].long_account.to_string(), "0.6622");
        let taker = r#"[{"buySellRatio":"1.5586","buyVol":"387.3300","sellVol":"248.5030","timestamp":"1585614900000"}]"#;
        let taker: Vec<TakerVolume> = serde_json::from_str(taker).unwrap();
        assert_eq!(taker[0].sell_vol.to_string(), "248.5030");
        let basis = r#"[{"indexPrice":"34400.15945055","contractType":"PERPETUAL","basisRate":"0.0004","futuresPrice":"34414.10",
            "annualizedBasisRate":"","basis":"13.94054945","pair":"BTCUSDT","timestamp":1698742800000}]"#;
        let basis: Vec<Basis> = serde_json::from_str(basis).unwrap();
        assert_eq!(basis[0].annualized_basis_rate, None);
        assert_eq!(basis[0].timestamp, 1_698_742_800_000);
        assert_eq!(basis[0].basis.to_string(), "13.94054945");
    }
}
