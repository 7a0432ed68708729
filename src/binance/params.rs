//! Request parameters as types, validated once at the edge.
//!
//! A [`Symbol`] or [`Interval`] that exists has already been checked, so the
//! endpoint methods never send Binance something it is bound to reject, and
//! a model gets a precise error without an upstream call.

use std::fmt;
use std::time::Duration;

use super::error::BinanceError;
use super::wire::{ExchangeInfo, MarketEntry, RowCap};

/// Longest symbol accepted. Binance's longest spot symbols have about 15
/// characters; 20 leaves room without letting arbitrary text through.
const MAX_SYMBOL_CHARS: usize = 20;

/// Most suggestions offered for an unknown symbol.
const MAX_SUGGESTIONS: usize = 5;

/// A trading-pair symbol such as `BTCUSDT`.
///
/// Parsing normalises what models and people type: surrounding space is
/// trimmed, ASCII letters are upper-cased and the separators `-`, `/`, `_`
/// and inner spaces are dropped, so `"btc-usdt"`, `"BTC/USDT"` and
/// `"btc usdt"` all become `BTCUSDT`. What remains must be letters or digits;
/// non-ASCII letters are allowed because Binance lists UTF-8 symbols.
/// Whether the symbol is listed is Binance's to say (-1121, answered with
/// suggestions); malformed input is rejected here without a call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(String);

impl Symbol {
    pub fn parse(input: &str) -> Result<Self, BinanceError> {
        let normalised: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '/' | '_' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let length = normalised.chars().count();
        let well_formed = (1..=MAX_SYMBOL_CHARS).contains(&length)
            && normalised.chars().all(|c| {
                c.is_ascii_uppercase()
                    || c.is_ascii_digit()
                    || (!c.is_ascii() && c.is_alphanumeric())
            });
        if well_formed {
            Ok(Self(normalised))
        } else {
            Err(BinanceError::InvalidParameter {
                code: None,
                msg: format!(
                    "\"{}\" is not a symbol: use 1 to {MAX_SYMBOL_CHARS} letters or digits, like BTCUSDT or ETH-BTC.",
                    input.chars().take(MAX_SYMBOL_CHARS * 2).collect::<String>()
                ),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Up to [`MAX_SUGGESTIONS`] listed symbols close to `wanted`: those that
/// extend it or that it extends (`BTC` → `BTCUSDT`), then those within a
/// small edit distance (`BTCUSD` → `BTCUSDC`, `BTCUSDT`), nearest first.
pub fn suggest_symbols<'a>(wanted: &str, listed: impl Iterator<Item = &'a str>) -> Vec<String> {
    let wanted = wanted.to_ascii_uppercase();
    let max_distance = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = listed
        .filter_map(|candidate| {
            let distance = crate::assets::edit_distance(&wanted, candidate);
            let related = candidate.starts_with(wanted.as_str()) || wanted.starts_with(candidate);
            (distance <= max_distance || related).then_some((distance, candidate))
        })
        .collect();
    scored.sort_unstable();
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, s)| s.to_owned())
        .collect()
}

/// A listed market, as the symbol errors need it.
pub(crate) struct Listed {
    pub symbol: String,
    pub base: String,
    pub quote: String,
    /// Trading now (not halted, not delisted).
    pub trading: bool,
}

impl Listed {
    /// Every market `info` lists.
    pub fn all<S: MarketEntry>(info: &ExchangeInfo<S>) -> Vec<Self> {
        info.symbols
            .iter()
            .map(|s| {
                let entry = s.entry();
                Self {
                    symbol: entry.symbol.to_owned(),
                    base: entry.base_asset.to_owned(),
                    quote: entry.quote_asset.to_owned(),
                    trading: entry.trading,
                }
            })
            .collect()
    }
}

/// Quotes people look for first, in this order.
const COMMON_QUOTES: [&str; 8] = ["USDT", "USDC", "FDUSD", "BTC", "ETH", "BNB", "EUR", "TRY"];

/// Up to [`MAX_SUGGESTIONS`] markets whose base is `asset`, the common
/// quotes first.
pub(crate) fn markets_of(asset: &str, listed: &[Listed]) -> Vec<String> {
    let rank = |quote: &str| {
        COMMON_QUOTES
            .iter()
            .position(|q| *q == quote)
            .unwrap_or(COMMON_QUOTES.len())
    };
    let mut markets: Vec<&Listed> = listed
        .iter()
        .filter(|l| l.trading && l.base == asset)
        .collect();
    markets.sort_by(|a, b| (rank(&a.quote), &a.symbol).cmp(&(rank(&b.quote), &b.symbol)));
    markets
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|l| l.symbol.clone())
        .collect()
}

/// A kline interval. Binance spells them case-sensitively (`1m` is a minute,
/// `1M` a month). USD-M futures lack `1s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    Second1,
    Minute1,
    Minute3,
    Minute5,
    Minute15,
    Minute30,
    Hour1,
    Hour2,
    Hour4,
    Hour6,
    Hour8,
    Hour12,
    Day1,
    Day3,
    Week1,
    Month1,
}

pub(crate) const SPOT_INTERVALS: &str =
    "1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M";
pub(crate) const FUTURES_INTERVALS: &str =
    "1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M";
/// The `period`s of every `/futures/data` statistics endpoint.
pub const FUTURES_DATA_PERIODS: &str = "5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d";

impl Interval {
    pub const ALL: [Interval; 16] = [
        Self::Second1,
        Self::Minute1,
        Self::Minute3,
        Self::Minute5,
        Self::Minute15,
        Self::Minute30,
        Self::Hour1,
        Self::Hour2,
        Self::Hour4,
        Self::Hour6,
        Self::Hour8,
        Self::Hour12,
        Self::Day1,
        Self::Day3,
        Self::Week1,
        Self::Month1,
    ];

    /// Parses a spot kline interval.
    pub fn parse(input: &str) -> Result<Self, BinanceError> {
        Self::ALL
            .into_iter()
            .find(|i| i.as_str() == input)
            .ok_or_else(|| BinanceError::InvalidInterval {
                interval: input.chars().take(16).collect(),
                allowed: SPOT_INTERVALS,
            })
    }

    /// Parses a `period` of the `/futures/data` statistics (open interest
    /// history, long/short ratios, taker volume, basis), a subset of the
    /// intervals.
    pub fn parse_futures_data_period(input: &str) -> Result<Self, BinanceError> {
        let invalid = || BinanceError::InvalidInterval {
            interval: input.chars().take(16).collect(),
            allowed: FUTURES_DATA_PERIODS,
        };
        let interval = Self::parse(input).map_err(|_| invalid())?;
        let allowed = FUTURES_DATA_PERIODS
            .split(", ")
            .any(|p| p == interval.as_str());
        if allowed {
            Ok(interval)
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Second1 => "1s",
            Self::Minute1 => "1m",
            Self::Minute3 => "3m",
            Self::Minute5 => "5m",
            Self::Minute15 => "15m",
            Self::Minute30 => "30m",
            Self::Hour1 => "1h",
            Self::Hour2 => "2h",
            Self::Hour4 => "4h",
            Self::Hour6 => "6h",
            Self::Hour8 => "8h",
            Self::Hour12 => "12h",
            Self::Day1 => "1d",
            Self::Day3 => "3d",
            Self::Week1 => "1w",
            Self::Month1 => "1M",
        }
    }

    /// Length in milliseconds; a month counts as 30 days (its real length
    /// varies, so use this only for estimates such as how many candles fit).
    pub fn duration_ms(self) -> i64 {
        const MINUTE: i64 = 60_000;
        const HOUR: i64 = 60 * MINUTE;
        const DAY: i64 = 24 * HOUR;
        match self {
            Self::Second1 => 1_000,
            Self::Minute1 => MINUTE,
            Self::Minute3 => 3 * MINUTE,
            Self::Minute5 => 5 * MINUTE,
            Self::Minute15 => 15 * MINUTE,
            Self::Minute30 => 30 * MINUTE,
            Self::Hour1 => HOUR,
            Self::Hour2 => 2 * HOUR,
            Self::Hour4 => 4 * HOUR,
            Self::Hour6 => 6 * HOUR,
            Self::Hour8 => 8 * HOUR,
            Self::Hour12 => 12 * HOUR,
            Self::Day1 => DAY,
            Self::Day3 => 3 * DAY,
            Self::Week1 => 7 * DAY,
            Self::Month1 => 30 * DAY,
        }
    }

    pub fn duration(self) -> Duration {
        Duration::from_millis(self.duration_ms().unsigned_abs())
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which market's candles: Binance spot, or USD-M perpetual futures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Market {
    #[default]
    Spot,
    UsdM,
}

impl Market {
    pub const ALL: [Market; 2] = [Self::Spot, Self::UsdM];

    pub fn parse(input: &str) -> Result<Self, BinanceError> {
        named(&Self::ALL, Self::as_str, input)
            .ok_or_else(|| not_one_of("market", input, "spot or usdm (USD-M perpetual futures)"))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spot => "spot",
            Self::UsdM => "usdm",
        }
    }
}

/// The one of `all` called `input`, in any case.
fn named<T: Copy>(all: &[T], name: fn(T) -> &'static str, input: &str) -> Option<T> {
    all.iter()
        .copied()
        .find(|&t| name(t).eq_ignore_ascii_case(input.trim()))
}

fn not_one_of(what: &str, input: &str, allowed: &str) -> BinanceError {
    BinanceError::InvalidParameter {
        code: None,
        msg: format!(
            "\"{}\" is not a {what}: use {allowed}.",
            input.chars().take(16).collect::<String>()
        ),
    }
}

/// Which price a USD-M candle series follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Price {
    /// Traded prices, with volumes.
    #[default]
    Trade,
    /// The mark price Binance uses for margin and liquidations.
    Mark,
    /// The index: the spot-exchange basket the mark tracks.
    Index,
    /// The premium index, (perpetual − index) / index.
    Premium,
}

impl Price {
    pub const ALL: [Price; 4] = [Self::Trade, Self::Mark, Self::Index, Self::Premium];

    pub fn parse(input: &str) -> Result<Self, BinanceError> {
        named(&Self::ALL, Self::as_str, input)
            .ok_or_else(|| not_one_of("price", input, "trade, mark, index or premium"))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trade => "trade",
            Self::Mark => "mark",
            Self::Index => "index",
            Self::Premium => "premium",
        }
    }
}

/// One candle series Binance serves: spot trades, or one of the four
/// USD-M series. Only traded series carry volumes; the others fill those
/// columns with zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CandleSeries {
    market: Market,
    price: Price,
}

impl CandleSeries {
    pub const SPOT: Self = Self {
        market: Market::Spot,
        price: Price::Trade,
    };

    /// The series of `price` on `market`; spot has traded prices only.
    pub fn new(market: Market, price: Price) -> Result<Self, BinanceError> {
        if market == Market::Spot && price != Price::Trade {
            return Err(BinanceError::InvalidParameter {
                code: None,
                msg: format!(
                    "`price` {} exists only for USD-M perpetuals: add `market` usdm, or use `price` trade for spot.",
                    price.as_str()
                ),
            });
        }
        Ok(Self { market, price })
    }

    pub fn market(self) -> Market {
        self.market
    }

    pub fn price(self) -> Price {
        self.price
    }

    /// In words, for results: which series the numbers are.
    pub fn describe(self) -> &'static str {
        match (self.market, self.price) {
            (Market::Spot, _) => "spot trade prices",
            (Market::UsdM, Price::Trade) => "USD-M perpetual trade prices",
            (Market::UsdM, Price::Mark) => "USD-M mark prices",
            (Market::UsdM, Price::Index) => "USD-M index prices",
            (Market::UsdM, Price::Premium) => "USD-M premium index ((perpetual - index) / index)",
        }
    }

    /// True for traded series, whose candles have volumes and trade counts.
    pub fn has_volume(self) -> bool {
        self.price == Price::Trade
    }

    /// Checks that Binance offers `interval` for this series (USD-M has no
    /// `1s`).
    pub fn check_interval(self, interval: Interval) -> Result<(), BinanceError> {
        if self.market == Market::UsdM && interval == Interval::Second1 {
            return Err(BinanceError::InvalidInterval {
                interval: interval.to_string(),
                allowed: FUTURES_INTERVALS,
            });
        }
        Ok(())
    }

    pub(crate) fn path(self) -> &'static str {
        match (self.market, self.price) {
            (Market::Spot, _) => "/api/v3/klines",
            (Market::UsdM, Price::Trade) => "/fapi/v1/klines",
            (Market::UsdM, Price::Mark) => "/fapi/v1/markPriceKlines",
            (Market::UsdM, Price::Index) => "/fapi/v1/indexPriceKlines",
            (Market::UsdM, Price::Premium) => "/fapi/v1/premiumIndexKlines",
        }
    }

    /// Index candles are per `pair` (the perpetual's underlying, which for
    /// a USD-M perpetual is spelled like its symbol); the rest per `symbol`.
    pub(crate) fn symbol_param(self) -> &'static str {
        if self.market == Market::UsdM && self.price == Price::Index {
            "pair"
        } else {
            "symbol"
        }
    }
}

/// The `windowSize` of the rolling-window ticker: `1m`…`59m`, `1h`…`23h` or
/// `1d`…`7d`, one unit only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowSize {
    amount: u8,
    unit: char,
}

impl WindowSize {
    pub fn parse(input: &str) -> Result<Self, BinanceError> {
        let invalid = || BinanceError::InvalidParameter {
            code: None,
            msg: format!(
                "\"{}\" is not a window size: use 1m…59m, 1h…23h or 1d…7d (one unit).",
                input.chars().take(16).collect::<String>()
            ),
        };
        let unit = input.chars().last().ok_or_else(invalid)?;
        let amount: u8 = input[..input.len() - unit.len_utf8()]
            .parse()
            .map_err(|_| invalid())?;
        let max = match unit {
            'm' => 59,
            'h' => 23,
            'd' => 7,
            _ => return Err(invalid()),
        };
        if (1..=max).contains(&amount) {
            Ok(Self { amount, unit })
        } else {
            Err(invalid())
        }
    }
}

impl fmt::Display for WindowSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit)
    }
}

/// The `timeZone` of klines: hours `[-12, +14]` with optional minutes, as
/// `8`, `-1:00` or `05:45`. It changes only how candles are bucketed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeZone(String);

impl TimeZone {
    pub fn parse(input: &str) -> Result<Self, BinanceError> {
        let invalid = || BinanceError::InvalidParameter {
            code: None,
            msg: format!(
                "\"{}\" is not a UTC offset in [-12:00, +14:00]: use e.g. 8, -1:00 or 05:45.",
                input.chars().take(16).collect::<String>()
            ),
        };
        let unsigned = input.strip_prefix(['+', '-']).unwrap_or(input);
        let (hours, minutes) = unsigned.split_once(':').unwrap_or((unsigned, "00"));
        let all_digits =
            |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(hours) || minutes.len() != 2 || !all_digits(minutes) {
            return Err(invalid());
        }
        let hours: i32 = hours.parse().map_err(|_| invalid())?;
        let minutes: i32 = minutes.parse().map_err(|_| invalid())?;
        let offset = hours * 60 + minutes;
        let offset = if input.starts_with('-') {
            -offset
        } else {
            offset
        };
        if minutes < 60 && (-12 * 60..=14 * 60).contains(&offset) {
            Ok(Self(input.to_owned()))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `startTime`, `endTime` (Unix ms, inclusive) and `limit` of the
/// time-series endpoints. As Binance documents: with neither time the most
/// recent `limit` items come back; with `start_time` the oldest from there;
/// with `end_time` the most recent up to it. Each endpoint clamps `limit` to
/// its documented maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub limit: Option<u16>,
}

impl TimeRange {
    pub fn last(limit: u16) -> Self {
        Self {
            limit: Some(limit),
            ..Self::default()
        }
    }

    /// The rows an answer may hold: `limit` (or `default`), clamped to
    /// `max`; from `start_time` the oldest, otherwise the most recent.
    pub(crate) fn row_cap(&self, default: u16, max: u16) -> RowCap {
        let rows = usize::from(self.limit.map_or(default, |l| l.clamp(1, max)));
        if self.start_time.is_some() {
            RowCap::First(rows)
        } else {
            RowCap::Last(rows)
        }
    }

    /// Checks the order of the times and adds them and the clamped limit to
    /// a query.
    pub(crate) fn push_query(
        &self,
        query: &mut Vec<(&'static str, String)>,
        max_limit: u16,
    ) -> Result<(), BinanceError> {
        if let (Some(start), Some(end)) = (self.start_time, self.end_time)
            && start > end
        {
            return Err(BinanceError::InvalidParameter {
                code: None,
                msg: format!("startTime {start} is after endTime {end}."),
            });
        }
        if let Some(start) = self.start_time {
            query.push(("startTime", start.to_string()));
        }
        if let Some(end) = self.end_time {
            query.push(("endTime", end.to_string()));
        }
        if let Some(limit) = self.limit {
            query.push(("limit", limit.clamp(1, max_limit).to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_normalised() {
        for input in ["btcusdt", " BTC-USDT ", "btc/usdt", "BTC_USDT", "btc usdt"] {
            assert_eq!(Symbol::parse(input).unwrap().as_str(), "BTCUSDT", "{input}");
        }
        assert_eq!(
            Symbol::parse("币安人生usdt").unwrap().as_str(),
            "币安人生USDT"
        );
        for bad in ["", "   ", "BTC$USDT", "BTC.USDT", &"A".repeat(21)] {
            assert!(
                matches!(
                    Symbol::parse(bad),
                    Err(BinanceError::InvalidParameter { code: None, .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn suggestions_prefer_near_and_extending_symbols() {
        let listed = [
            "BTCUSDT", "BTCUSDC", "ETHUSDT", "ETHBTC", "SOLUSDT", "DOGEUSDT",
        ];
        let suggest = |wanted| suggest_symbols(wanted, listed.into_iter());
        assert_eq!(suggest("BTCUSD"), ["BTCUSDC", "BTCUSDT"]);
        assert_eq!(suggest("ETHUSTD")[0], "ETHUSDT");
        assert_eq!(suggest("BTC"), ["BTCUSDC", "BTCUSDT"]);
        assert_eq!(suggest("DOGUSDT")[0], "DOGEUSDT");
        assert!(suggest("ZZZZZZZZ").is_empty());
        let many: Vec<String> = (0..9).map(|i| format!("BTC{i}")).collect();
        assert_eq!(
            suggest_symbols("BTC", many.iter().map(String::as_str)).len(),
            MAX_SUGGESTIONS
        );
    }

    #[test]
    fn all_sixteen_intervals_round_trip() {
        for interval in Interval::ALL {
            assert_eq!(Interval::parse(interval.as_str()), Ok(interval));
        }
        assert_eq!(
            Interval::parse("4h").unwrap().duration(),
            Duration::from_secs(4 * 3600)
        );
        assert_eq!(Interval::parse("1w").unwrap().duration_ms(), 7 * 86_400_000);
        assert!(Interval::parse("1H").is_err());
        assert!(Interval::parse("2d").is_err());
        assert!(Interval::parse_futures_data_period("5m").is_ok());
        assert!(Interval::parse_futures_data_period("1s").is_err());
        assert!(Interval::parse_futures_data_period("8h").is_err());
    }

    #[test]
    fn window_sizes_use_one_unit_in_range() {
        for ok in ["1m", "59m", "1h", "23h", "1d", "7d"] {
            assert_eq!(WindowSize::parse(ok).unwrap().to_string(), ok);
        }
        for bad in [
            "", "0m", "60m", "24h", "8d", "1w", "1h30m", "h", "-1h", "١h",
        ] {
            assert!(WindowSize::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones_stay_within_binance_range() {
        for ok in ["0", "8", "-1:00", "05:45", "+14:00", "-12:00"] {
            assert_eq!(TimeZone::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "15", "-13", "+14:30", "5:7", "5:60", "abc", "08:00:00"] {
            assert!(TimeZone::parse(bad).is_err(), "{bad}");
        }
    }
}
