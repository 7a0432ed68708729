//! Pieces shared by the Binance market-data tools: argument newtypes that
//! validate at the edge, time parsing and formatting, freshness, and the
//! rounding of derived numbers.
//!
//! Arguments deserialize straight into checked types ([`SymbolArg`],
//! [`IntervalArg`], [`Limit`], [`TimeArg`], ...), so a bad value fails in
//! the framework's decoder, whose message names the field
//! (`` `symbol`: "BTC$" is not a symbol: ... ``), before any upstream call.
//! Their messages are the problem alone, for the decoder to put after the
//! argument's name; times in messages are ISO-8601 with the milliseconds
//! in brackets ([`iso_ms`]).
//! Times are accepted as Unix milliseconds or ISO-8601 dates and date-times
//! with an optional UTC offset, parsed by `jiff`.

use std::borrow::Cow;
use std::fmt;
use std::time::Instant;

use jiff::Timestamp;
use jiff::civil::Time;
use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;
use rust_decimal::{Decimal, RoundingStrategy};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::binance::{
    BinanceError, FUTURES_DATA_PERIODS, Fetched, Interval, Market, Price, Symbol, TimeZone,
    WindowSize,
};
use crate::mcp::arguments::quote;
use crate::mcp::tool::ToolError;

/// Unix ms below this are refused as "probably seconds": 10^11 ms is March
/// 1973, long before any crypto market, while 10^11 s is far in the future.
const MIN_PLAUSIBLE_MS: i64 = 100_000_000_000;
/// Years accepted in ISO-8601 input: Unix time starts in 1970, and no data
/// is dated past 9999 (jiff's own limit too).
const MIN_YEAR: i16 = 1970;
const MAX_YEAR: i16 = 9999;
/// Widest UTC offset in use anywhere (Kiribati, +14:00); jiff accepts up to
/// ±25:59:59, which no clock shows.
const MAX_OFFSET_SECS: i32 = 14 * 3600;
/// Longest text echoed back in an error, so a huge argument never floods
/// the model's context.
const MAX_ECHO_CHARS: usize = 40;

fn echo(input: &str) -> String {
    input.chars().take(MAX_ECHO_CHARS).collect()
}

/// An argument read from its text by the Binance type it becomes
/// (`"btc-usdt"` → `BTCUSDT` by [`Symbol::parse`]), described to clients by
/// that type's schema. A refusal is the decoder's problem, after the name.
pub trait FromArg: Sized {
    const SCHEMA_NAME: &'static str;
    fn parse(text: &str) -> Result<Self, BinanceError>;
    fn schema() -> Schema;
}

/// A [`FromArg`] value that an absent argument takes.
pub trait Defaulted: FromArg {
    fn when_absent() -> Self;
}

/// An argument of type `T`, checked as it is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg<T>(pub T);

/// A trading-pair symbol.
pub type SymbolArg = Arg<Symbol>;
/// A kline interval; 1h when absent.
pub type IntervalArg = Arg<Interval>;
/// `spot` (default) or `usdm` (the symbol's USD-M perpetual).
pub type MarketArg = Arg<Market>;
/// With `usdm`: `trade` (default), `mark`, `index` or `premium`.
pub type PriceArg = Arg<Price>;
/// A rolling-window size: `1m`…`59m`, `1h`…`23h`, `1d`…`7d`.
pub type WindowSizeArg = Arg<WindowSize>;

impl<'de, T: FromArg> Deserialize<'de> for Arg<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(d)?;
        T::parse(&text).map(Self).map_err(refused)
    }
}

impl<T: FromArg> JsonSchema for Arg<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        T::SCHEMA_NAME.into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        T::schema()
    }
}

impl<T: Defaulted> Default for Arg<T> {
    fn default() -> Self {
        Self(T::when_absent())
    }
}

/// A value the Binance type refused, as the decoder's problem.
fn refused<E: de::Error>(error: BinanceError) -> E {
    E::custom(
        error
            .argument_problem()
            .unwrap_or_else(|| error.to_string()),
    )
}

/// The schema of an argument that is one of `names`, `default` when absent.
fn one_of(names: Vec<&str>, default: &str, description: &str) -> Schema {
    json_schema!({
        "type": "string",
        "enum": names,
        "default": default,
        "description": description,
    })
}

impl FromArg for Symbol {
    const SCHEMA_NAME: &'static str = "Symbol";
    fn parse(text: &str) -> Result<Self, BinanceError> {
        Self::parse(text)
    }
    fn schema() -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": 40,
            "description": "Binance trading pair, base asset + quote asset, e.g. BTCUSDT (case, '-', '/' and '_' are ignored: btc-usdt works).",
        })
    }
}

impl FromArg for Interval {
    const SCHEMA_NAME: &'static str = "Interval";
    fn parse(text: &str) -> Result<Self, BinanceError> {
        Self::parse(text)
    }
    fn schema() -> Schema {
        one_of(
            Self::ALL.iter().map(|i| i.as_str()).collect(),
            Self::when_absent().as_str(),
            "Candle length, case-sensitive: 1s, 1m…30m, 1h…12h, 1d, 3d, 1w, 1M (1m is a minute, 1M a month).",
        )
    }
}

impl Defaulted for Interval {
    fn when_absent() -> Self {
        Self::Hour1
    }
}

impl FromArg for Market {
    const SCHEMA_NAME: &'static str = "Market";
    fn parse(text: &str) -> Result<Self, BinanceError> {
        Self::parse(text)
    }
    fn schema() -> Schema {
        one_of(
            Self::ALL.iter().map(|m| m.as_str()).collect(),
            Self::default().as_str(),
            "spot (default) or usdm: the USD-M perpetual of the same symbol.",
        )
    }
}

impl Defaulted for Market {
    fn when_absent() -> Self {
        Self::default()
    }
}

impl FromArg for Price {
    const SCHEMA_NAME: &'static str = "Price";
    fn parse(text: &str) -> Result<Self, BinanceError> {
        Self::parse(text)
    }
    fn schema() -> Schema {
        one_of(
            Self::ALL.iter().map(|p| p.as_str()).collect(),
            Self::default().as_str(),
            "With market usdm: trade (default, traded prices with volume), mark (the mark price used for margin and liquidations), index (the spot index the mark tracks) or premium ((perpetual - index) / index). Only trade candles have volumes.",
        )
    }
}

impl Defaulted for Price {
    fn when_absent() -> Self {
        Self::default()
    }
}

impl FromArg for WindowSize {
    const SCHEMA_NAME: &'static str = "WindowSize";
    fn parse(text: &str) -> Result<Self, BinanceError> {
        Self::parse(text)
    }
    fn schema() -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0-9]{1,2}[mhd]$",
            "description": "Rolling window, one unit: 1m…59m, 1h…23h or 1d…7d.",
        })
    }
}

/// A `period` of the futures statistics (`5m` … `1d`); 1h when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodArg(pub Interval);

impl Default for PeriodArg {
    fn default() -> Self {
        Self(Interval::Hour1)
    }
}

impl<'de> Deserialize<'de> for PeriodArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(d)?;
        Interval::parse_futures_data_period(text.trim())
            .map(Self)
            .map_err(|_| {
                de::Error::custom(format!(
                    "{} is not a period: use one of {FUTURES_DATA_PERIODS}",
                    quote(&text)
                ))
            })
    }
}

impl JsonSchema for PeriodArg {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Period".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let all: Vec<&str> = FUTURES_DATA_PERIODS.split(", ").collect();
        json_schema!({
            "type": "string",
            "enum": all,
            "default": "1h",
        })
    }
}

/// A count within `MIN..=MAX`, `DEFAULT` when absent. Out-of-range values
/// are refused rather than clamped, so the model learns the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit<const MIN: u16, const MAX: u16, const DEFAULT: u16>(pub u16);

impl<const MIN: u16, const MAX: u16, const DEFAULT: u16> Default for Limit<MIN, MAX, DEFAULT> {
    fn default() -> Self {
        Self(DEFAULT)
    }
}

impl<'de, const MIN: u16, const MAX: u16, const DEFAULT: u16> Deserialize<'de>
    for Limit<MIN, MAX, DEFAULT>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(d)?;
        match u16::try_from(value) {
            Ok(n) if (MIN..=MAX).contains(&n) => Ok(Self(n)),
            _ => Err(de::Error::custom(format!(
                "{value} is out of range: use {MIN} to {MAX} (default {DEFAULT})"
            ))),
        }
    }
}

impl<const MIN: u16, const MAX: u16, const DEFAULT: u16> JsonSchema for Limit<MIN, MAX, DEFAULT> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("Limit{MIN}to{MAX}").into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": MIN,
            "maximum": MAX,
            "default": DEFAULT,
        })
    }
}

/// A point in time given as Unix milliseconds (number or digit string) or
/// ISO-8601 text, held as Unix ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeArg(pub i64);

impl<'de> Deserialize<'de> for TimeArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TimeVisitor;
        impl Visitor<'_> for TimeVisitor {
            type Value = TimeArg;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Unix milliseconds or an ISO-8601 time like 2025-01-31T12:00:00Z")
            }
            fn visit_i64<E: de::Error>(self, ms: i64) -> Result<TimeArg, E> {
                plausible_ms(ms).map(TimeArg).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, ms: u64) -> Result<TimeArg, E> {
                let ms = i64::try_from(ms).map_err(|_| E::custom("time is too large"))?;
                self.visit_i64(ms)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<TimeArg, E> {
                parse_time(text).map(TimeArg).map_err(E::custom)
            }
        }
        d.deserialize_any(TimeVisitor)
    }
}

impl JsonSchema for TimeArg {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Time".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "integer", "minimum": MIN_PLAUSIBLE_MS, "description": "Unix milliseconds" },
                { "type": "string", "minLength": 1, "description": "an ISO-8601 date or time such as 2025-01-31T12:00:00Z" },
            ],
            "description": "Unix milliseconds (e.g. 1738281600000) or ISO-8601 (2025-01-31, 2025-01-31T00:00Z, 2025-01-31T08:00:00+08:00); UTC when no offset is given.",
        })
    }
}

fn plausible_ms(ms: i64) -> Result<i64, String> {
    if ms >= MIN_PLAUSIBLE_MS {
        return Ok(ms);
    }
    match ms.checked_mul(1000).filter(|ms| *ms >= MIN_PLAUSIBLE_MS) {
        Some(as_ms) => Err(format!(
            "{ms} looks like Unix seconds ({}), not milliseconds: send {as_ms} or an ISO-8601 time",
            iso(as_ms)
        )),
        None => Err(format!(
            "{ms} is before 1973 in Unix milliseconds: send Unix milliseconds such as 1738281600000 or an ISO-8601 time"
        )),
    }
}

/// Unix ms from digits or ISO-8601 `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH:MM]`.
pub fn parse_time(input: &str) -> Result<i64, String> {
    let text = input.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let ms = text
            .parse::<i64>()
            .map_err(|_| format!("\"{}\" is too large", echo(text)))?;
        return plausible_ms(ms);
    }
    parse_iso(text)
}

fn parse_iso(text: &str) -> Result<i64, String> {
    let not_a_time = || {
        format!(
            "\"{}\" is not a time: use Unix milliseconds or ISO-8601 like 2025-01-31T12:00:00Z",
            echo(text)
        )
    };
    let pieces = Pieces::parse(text).map_err(|_| not_a_time())?;
    if pieces.time_zone_annotation().is_some() {
        return Err(format!(
            "\"{}\" names a time zone: give a UTC offset instead, like 2025-01-31T08:00:00+08:00",
            echo(text)
        ));
    }
    let date = pieces.date();
    if !(MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
        return Err(format!(
            "\"{}\" is out of range: years {MIN_YEAR} to {MAX_YEAR}",
            echo(text)
        ));
    }
    let offset = pieces
        .offset()
        .map_or(Offset::UTC, |offset| offset.to_numeric_offset());
    if offset.seconds().abs() > MAX_OFFSET_SECS {
        return Err(format!("\"{}\" has a UTC offset beyond ±14:00", echo(text)));
    }
    let civil = date.to_datetime(pieces.time().unwrap_or(Time::midnight()));
    // Milliseconds are the finest unit; finer digits are dropped.
    offset
        .to_timestamp(civil)
        .map(Timestamp::as_millisecond)
        .map_err(|_| not_a_time())
}

/// `2025-01-31T23:59:59Z`: Unix ms as UTC, to the second (milliseconds are
/// dropped; every time a tool shows is also given in exact ms).
pub fn iso(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(at) => at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => format!("{ms} ms after 1970"),
    }
}

/// `2025-01-31T00:00:00Z [1738281600000]`: a time in a message, readable
/// and exact.
pub fn iso_ms(ms: i64) -> String {
    format!("{} [{ms}]", iso(ms))
}

/// `startTime` and `endTime` in Unix ms, refused when they are out of
/// order.
pub fn time_range(
    start: Option<TimeArg>,
    end: Option<TimeArg>,
) -> Result<(Option<i64>, Option<i64>), ToolError> {
    let (start, end) = (start.map(|t| t.0), end.map(|t| t.0));
    if let (Some(start), Some(end)) = (start, end)
        && start > end
    {
        return Err(ToolError::invalid_arguments(format!(
            "`startTime` {} is after `endTime` {}: swap them, or leave one out.",
            iso_ms(start),
            iso_ms(end)
        )));
    }
    Ok((start, end))
}

/// A `timeZone` argument for klines: `8`, `-1:00`, `05:45`; a number works too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneArg(pub TimeZone);

impl<'de> Deserialize<'de> for TimeZoneArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = string_or_number(d)?;
        TimeZone::parse(&text).map(Self).map_err(refused)
    }
}

impl JsonSchema for TimeZoneArg {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "TimeZone".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string", "minLength": 1, "description": "an offset such as \"-1:00\" or \"05:45\"" },
                { "type": "integer", "minimum": -12, "maximum": 14, "description": "whole hours from -12 to 14" },
            ],
            "description": "UTC offset used to bucket daily and longer candles, in [-12:00, +14:00]: 8, \"-1:00\", \"05:45\". Default UTC. startTime/endTime stay UTC.",
        })
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Either;
    impl Visitor<'_> for Either {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an integer")
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<String, E> {
            Ok(n.to_string())
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<String, E> {
            Ok(n.to_string())
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<String, E> {
            Ok(s.to_owned())
        }
    }
    d.deserialize_any(Either)
}

/// How fresh a result is, flattened into every market tool's output. The
/// two agree: a result fetched by this call is `cached: false` and about
/// as old as the call; an older one came, at least in part, from the cache.
#[derive(Debug, Clone, Copy, Default, Serialize, JsonSchema)]
pub struct Freshness {
    /// Milliseconds since Binance answered for this data, when the result
    /// was written (the oldest part when several requests were combined).
    pub data_age_ms: u64,
    /// True when some of this data came from this server's short-lived
    /// cache rather than a Binance request made by this call.
    pub cached: bool,
}

impl Freshness {
    /// The freshness of `fetched` at `now` (the Binance client's clock).
    pub fn of<T>(fetched: &Fetched<T>, now: Instant) -> Self {
        Self {
            data_age_ms: u64::try_from(fetched.age(now).as_millis()).unwrap_or(u64::MAX),
            cached: fetched.cached,
        }
    }

    /// The freshness of a result built from several requests.
    pub fn and(self, other: Self) -> Self {
        Self {
            data_age_ms: self.data_age_ms.max(other.data_age_ms),
            cached: self.cached || other.cached,
        }
    }
}

/// `part / whole × 100`, rounded half away from zero to `dp` decimals; zero
/// when `whole` is zero.
pub fn percent(part: Decimal, whole: Decimal, dp: u32) -> Decimal {
    ratio(part * Decimal::ONE_HUNDRED, whole, dp)
}

/// `a / b` rounded half away from zero to `dp` decimals; zero when `b` is
/// zero. Checked, so absurd inputs give zero rather than a panic.
pub fn ratio(a: Decimal, b: Decimal, dp: u32) -> Decimal {
    a.checked_div(b)
        .map(|q| round(q, dp))
        .unwrap_or(Decimal::ZERO)
}

/// Half away from zero, as people round; trailing zeros removed.
pub fn round(value: Decimal, dp: u32) -> Decimal {
    value
        .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// `+1.23` / `-0.5`: a signed change for summaries.
pub fn signed(value: Decimal) -> String {
    if value.is_sign_negative() && !value.is_zero() {
        value.to_string()
    } else {
        format!("+{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_parse_in_every_documented_form() {
        let midnight = 1_738_281_600_000; // 2025-01-31T00:00:00Z
        for (text, ms) in [
            ("2025-01-31", midnight),
            ("2025-01-31T00:00Z", midnight),
            ("2025-01-31T00:00:00Z", midnight),
            ("2025-01-31 00:00:00", midnight),
            ("2025-01-31T08:00:00+08:00", midnight),
            ("2025-01-30T19:00-0500", midnight),
            ("2025-01-31T00:00:00.250Z", midnight + 250),
            ("2025-01-31T00:00:00.2Z", midnight + 200),
            ("1738281600000", midnight),
            ("2024-02-29T12:30:15Z", 1_709_209_815_000),
            // ISO-8601's reduced precision: the hour alone.
            ("2025-01-31T12", midnight + 12 * 3_600_000),
            // ISO dates are unambiguous, so no plausibility check applies.
            ("1970-01-01", 0),
        ] {
            assert_eq!(parse_time(text), Ok(ms), "{text}");
        }
        for bad in [
            "",
            "2025-13-01",
            "2025-02-29",
            "2025-01-31T24:00",
            "2025-01-31T12:00:00+15:00",
            // Once a worker panic (a multibyte offset split mid-character).
            "2025-01-31+aéb",
            "2025-01-31T00:00+é",
            "2025-01-31T00:00Z[Europe/Paris]",
            "1969-12-31",
            "2025-01-31X",
            "31/01/2025",
            "1738281600",
            "２０２５-01-31",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_format_back_to_iso() {
        assert_eq!(iso(1_738_281_600_000), "2025-01-31T00:00:00Z");
        assert_eq!(iso(1_738_367_999_999), "2025-01-31T23:59:59Z");
        assert_eq!(iso(1_709_209_815_000), "2024-02-29T12:30:15Z");
        assert_eq!(iso(i64::MAX), "9223372036854775807 ms after 1970");
    }

    #[test]
    fn arguments_validate_at_the_edge() {
        let symbol: SymbolArg = serde_json::from_str("\"btc-usdt\"").unwrap();
        assert_eq!(symbol.0.as_str(), "BTCUSDT");
        assert!(serde_json::from_str::<SymbolArg>("\"BTC$\"").is_err());
        let interval: IntervalArg = serde_json::from_str("\"1M\"").unwrap();
        assert_eq!(interval.0, Interval::Month1);
        assert!(serde_json::from_str::<IntervalArg>("\"1H\"").is_err());
        type L = Limit<1, 1000, 100>;
        assert_eq!(L::default().0, 100);
        assert_eq!(serde_json::from_str::<L>("1000").unwrap().0, 1000);
        for bad in ["0", "1001", "-1", "1.5", "\"10\""] {
            assert!(serde_json::from_str::<L>(bad).is_err(), "{bad}");
        }
        let time: TimeArg = serde_json::from_str("1738281600000").unwrap();
        assert_eq!(time.0, 1_738_281_600_000);
        let error = serde_json::from_str::<TimeArg>("1738281600").unwrap_err();
        assert!(error.to_string().contains("seconds"), "{error}");
        let zone: TimeZoneArg = serde_json::from_str("8").unwrap();
        assert_eq!(zone.0.as_str(), "8");
    }

    #[test]
    fn derived_numbers_round_half_away_from_zero() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(percent(d("1"), d("8"), 2), d("12.5"));
        assert_eq!(percent(d("-1"), d("3"), 2).to_string(), "-33.33");
        assert_eq!(round(d("0.125"), 2).to_string(), "0.13");
        assert_eq!(ratio(d("1"), Decimal::ZERO, 2), Decimal::ZERO);
        assert_eq!(signed(d("1.5")), "+1.5");
        assert_eq!(signed(d("-1.5")), "-1.5");
    }
}
