//! `binance_klines`: candles of a spot market or of a USD-M perpetual's
//! trade, mark, index or premium prices, with every Binance column, a
//! one-line summary, the gaps in the series, and the exact arguments of the
//! next page when more history exists in the range asked for.
//!
//! Binance skips candles while a market is halted (maintenance, delisting
//! pauses), so a series can jump. A model that assumes contiguous candles
//! would misread such a jump as one huge move; the gaps are listed instead.
//!
//! The candles are the bulk of the output and, on a cache hit, the same as
//! last time: their JSON is kept with the cached series ([`CandleMemo`]),
//! so a hot market costs a copy rather than formatting ~1000 decimals per
//! call.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use rust_decimal::Decimal;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::args::{
    IntervalArg, Limit, MarketArg, PriceArg, SymbolArg, TimeArg, TimeZoneArg, iso, percent, signed,
    time_range,
};
use super::candles::{SeriesFields, SeriesFreshness, Source};
use crate::apps;
use crate::binance::wire::Kline;
use crate::binance::{Interval, TimeRange};
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};
use crate::mcp::ui::ToolUi;

/// Most gaps listed: beyond a handful, the count says enough.
pub const MAX_GAPS_LISTED: usize = 20;
/// Candle series whose JSON is kept. Each holds its series alive too
/// (≤ ~150 kB for 1000 candles), so 64 stay under ~20 MB; hot markets are
/// far fewer than that.
const MEMO_ENTRIES: usize = 64;

#[derive(Default)]
pub struct Klines {
    memo: CandleMemo,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KlinesArgs {
    pub symbol: SymbolArg,
    #[serde(default)]
    pub interval: IntervalArg,
    #[serde(default)]
    pub market: MarketArg,
    #[serde(default)]
    pub price: PriceArg,
    /// Number of candles, 1 to 1000 (default 100). For more, follow
    /// `next_page`.
    #[serde(default)]
    pub limit: Limit<1, 1000, 100>,
    /// First candle's open time, inclusive. With it, candles come from there
    /// forwards; without it, the most recent ones up to `endTime` (or now).
    pub start_time: Option<TimeArg>,
    /// Last candle's open time, inclusive.
    pub end_time: Option<TimeArg>,
    /// Spot only.
    pub time_zone: Option<TimeZoneArg>,
}

/// The arguments of the call that fetches the next page of the same
/// range: older candles when the call had no `startTime`, newer ones from
/// just after this page when it had one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NextPage {
    pub symbol: String,
    pub interval: String,
    pub market: &'static str,
    pub price: &'static str,
    pub limit: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// The columns of a candle row, in order. Rows instead of objects halve
/// the output (and a model's tokens): 100 candles take ~15 kB, not ~30 kB.
pub const CANDLE_COLUMNS: [&str; 11] = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
];

/// One candle as a row in [`CANDLE_COLUMNS`] order: open time (Unix ms),
/// open, high, low, close, volume (base asset), close time (Unix ms, open
/// time + interval − 1), quote volume, number of trades, taker buy base
/// volume, taker buy quote volume. Decimals are exact strings.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Candle(
    i64,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    i64,
    Decimal,
    u64,
    Decimal,
    Decimal,
);

impl From<&Kline> for Candle {
    fn from(k: &Kline) -> Self {
        Self(
            k.open_time,
            k.open,
            k.high,
            k.low,
            k.close,
            k.volume,
            k.close_time,
            k.quote_volume,
            k.trades,
            k.taker_buy_base_volume,
            k.taker_buy_quote_volume,
        )
    }
}

/// Candles missing between two returned candles.
#[derive(Debug, Serialize, JsonSchema, PartialEq, Eq)]
pub struct Gap {
    /// Open time of the first missing candle, Unix ms.
    pub from_open_time: i64,
    /// Open time of the candle after the gap, Unix ms.
    pub resumes_at: i64,
    pub missing_candles: i64,
}

/// Figures over the returned candles.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KlinesStats {
    /// First candle's open.
    pub open: Decimal,
    /// Last candle's close.
    pub close: Decimal,
    pub change: Decimal,
    /// (close − open) / open × 100, rounded half away from zero to 2 dp.
    pub change_percent: Decimal,
    pub high: Decimal,
    /// Open time of the candle that made the high.
    pub high_time: i64,
    pub low: Decimal,
    pub low_time: i64,
    /// Base-asset volume summed over the candles.
    pub volume: Decimal,
    pub quote_volume: Decimal,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KlinesOutput {
    pub symbol: String,
    pub interval: String,
    #[serde(flatten)]
    pub series: SeriesFields,
    /// One line: range, change %, high and low, gaps.
    pub summary: String,
    pub count: usize,
    /// Absent when no candle matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<KlinesStats>,
    /// Missing stretches (up to 20 listed); empty when the series is
    /// contiguous. Not checked for 1M, whose length varies.
    pub gaps: Vec<Gap>,
    /// Total candles missing, including gaps beyond those listed.
    pub missing_candles: i64,
    /// Names of the values in each row of `candles`.
    pub columns: [&'static str; 11],
    /// Oldest first, one row per candle, values in `columns` order.
    pub candles: CandlesJson,
    /// Exact arguments for the next page when this one is full (more
    /// history may exist in the range); absent when the range is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page: Option<NextPage>,
    #[serde(flatten)]
    pub freshness: SeriesFreshness,
}

/// A series of [`Candle`]s already serialised; its schema is theirs.
#[derive(Debug, Clone)]
pub struct CandlesJson(Arc<RawValue>);

impl Serialize for CandlesJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl JsonSchema for CandlesJson {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        <Vec<Candle>>::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Vec<Candle>>::json_schema(generator)
    }
}

/// The JSON of recently served candle series, found by the identity of the
/// cached series (the `Arc` the Binance cache hands out). Holding that
/// `Arc` keeps its address from being reused while the entry lives.
#[derive(Default)]
struct CandleMemo {
    entries: Mutex<Vec<(Arc<Vec<Kline>>, CandlesJson)>>,
}

impl CandleMemo {
    fn json(&self, klines: &Arc<Vec<Kline>>) -> Result<CandlesJson, ToolError> {
        let lock = || self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, json)) = lock().iter().find(|(k, _)| Arc::ptr_eq(k, klines)) {
            return Ok(json.clone());
        }
        let candles: Vec<Candle> = klines.iter().map(Candle::from).collect();
        let json = serde_json::to_string(&candles)
            .and_then(RawValue::from_string)
            .map(|raw| CandlesJson(Arc::from(raw)))
            .map_err(|error| ToolError::internal(format!("candles did not serialise: {error}")))?;
        let mut entries = lock();
        if entries.len() >= MEMO_ENTRIES {
            entries.remove(0);
        }
        entries.push((Arc::clone(klines), json.clone()));
        Ok(json)
    }
}

impl Tool for Klines {
    type Args = KlinesArgs;
    type Output = KlinesOutput;

    const NAME: &'static str = "binance_klines";
    const TITLE: &'static str = "Binance candles (klines)";
    const SUMMARY: &'static str =
        "Candles of a spot pair or its USD-M perpetual, with a summary, stats and gaps.";
    const DESCRIPTION: &'static str = "OHLCV candles for a Binance spot pair, or with market \"usdm\" for its \
USD-M perpetual: traded prices (price \"trade\", default), or the mark, index or premium-index series (price \
\"mark\", \"index\", \"premium\"; these carry no volume). Use it for price history, trends, ranges and volume \
over time (for the current price and 24h stats, binance_ticker is smaller). Returns every kline field per \
candle as compact rows named by `columns` (open/close time in Unix ms, open, high, low, close, volume, quote \
volume, trades, taker buy volumes; decimals as exact strings), a one-line summary (time range, change %, \
high and low), stats, any gaps where Binance has no candles (e.g. maintenance), and which series it is. \
Defaults: interval 1h, limit 100 (max 1000 per call); when the page is full, `next_page` holds the exact \
arguments for the next one (older candles, or newer ones when startTime was given). Without \
startTime/endTime you get the most recent candles; the last one may still be open. Times accept Unix ms \
or ISO-8601.";
    const OPEN_WORLD: bool = true;
    const UI: Option<ToolUi> = Some(apps::chart_ui("Fetching candles…", "Candles ready"));

    async fn call(
        &self,
        ctx: &ToolContext,
        args: KlinesArgs,
    ) -> Result<Reply<KlinesOutput>, ToolError> {
        let source = Source::new(args.symbol, args.interval, args.market, args.price)?;
        let limit = args.limit.0;
        // With no time given this is exactly the analysis tools' request, so
        // a chart and a table of the same market show the same candles (and
        // share one cache entry).
        let range = match time_range(args.start_time, args.end_time)? {
            (None, None) => TimeRange::last(limit),
            (start_time, end_time) => TimeRange {
                start_time,
                end_time,
                limit: Some(limit),
            },
        };
        let time_zone = args.time_zone.map(|z| z.0);
        let fetched = ctx
            .binance
            .candles(
                source.series,
                &source.symbol,
                source.interval,
                range,
                time_zone.as_ref(),
            )
            .await?;
        let klines = fetched.value.as_slice();
        let gaps = find_gaps(klines, source.interval);
        let missing_candles = gaps.iter().map(|g| g.missing_candles).sum();
        let stats = stats(klines);
        let summary = summarise(
            source.symbol.as_str(),
            source.interval,
            klines,
            stats.as_ref(),
            &gaps,
        );
        let next_page = next_range(range, klines).map(|next| NextPage {
            symbol: source.symbol.to_string(),
            interval: source.interval.to_string(),
            market: source.series.market().as_str(),
            price: source.series.price().as_str(),
            limit,
            start_time: next.start_time,
            end_time: next.end_time,
            time_zone: time_zone.map(|z| z.as_str().to_owned()),
        });
        Ok(Reply::new(KlinesOutput {
            symbol: source.symbol.to_string(),
            interval: source.interval.to_string(),
            series: source.series_fields(),
            summary,
            count: klines.len(),
            stats,
            missing_candles,
            gaps: gaps.into_iter().take(MAX_GAPS_LISTED).collect(),
            columns: CANDLE_COLUMNS,
            candles: self.memo.json(&fetched.value)?,
            next_page,
            freshness: SeriesFreshness::of(&fetched, &ctx.binance),
        }))
    }
}

/// The range of the page after `klines`, fetched for `range`: only a full
/// page suggests more. From a start, the next page starts after the last
/// candle (unless the asked range ends there); otherwise it ends before the
/// first, going back in time.
pub fn next_range(range: TimeRange, klines: &[Kline]) -> Option<TimeRange> {
    let (first, last) = (klines.first()?, klines.last()?);
    if klines.len() < usize::from(range.limit?) {
        return None;
    }
    match range.start_time {
        Some(_) => {
            let start = last.close_time + 1;
            range
                .end_time
                .is_none_or(|end| start <= end)
                .then_some(TimeRange {
                    start_time: Some(start),
                    ..range
                })
        }
        None => Some(TimeRange {
            end_time: Some(first.open_time - 1),
            ..range
        }),
    }
}

/// Stretches where the next candle opens later than one interval after the
/// previous one. Months vary in length, so 1M is not checked.
pub fn find_gaps(klines: &[Kline], interval: Interval) -> Vec<Gap> {
    if interval == Interval::Month1 {
        return Vec::new();
    }
    let step = interval.duration_ms();
    klines
        .windows(2)
        .filter_map(|pair| {
            let expected = pair[0].open_time + step;
            let actual = pair[1].open_time;
            (actual > expected).then(|| Gap {
                from_open_time: expected,
                resumes_at: actual,
                missing_candles: (actual - expected) / step,
            })
        })
        .collect()
}

pub fn stats(klines: &[Kline]) -> Option<KlinesStats> {
    let (first, last) = (klines.first()?, klines.last()?);
    let high = klines.iter().max_by_key(|k| k.high)?;
    let low = klines.iter().min_by_key(|k| k.low)?;
    let change = last.close - first.open;
    Some(KlinesStats {
        open: first.open,
        close: last.close,
        change,
        change_percent: percent(change, first.open, 2),
        high: high.high,
        high_time: high.open_time,
        low: low.low,
        low_time: low.open_time,
        volume: klines.iter().map(|k| k.volume).sum(),
        quote_volume: klines.iter().map(|k| k.quote_volume).sum(),
    })
}

/// `BTCUSDT 1h, 100 candles 2025-01-27T20:00:00Z → 2025-01-31T23:59:59Z:
/// open 1 → close 2 (+1.5%), high 3 at …, low 0.5 at …; no gaps.`
pub fn summarise(
    symbol: &str,
    interval: Interval,
    klines: &[Kline],
    stats: Option<&KlinesStats>,
    gaps: &[Gap],
) -> String {
    let (Some(first), Some(last), Some(s)) = (klines.first(), klines.last(), stats) else {
        return format!(
            "{symbol} {interval}: no candles in this range (Binance has none for it, or the range is before the market existed)."
        );
    };
    let gap_text = if gaps.is_empty() {
        "no gaps".to_owned()
    } else {
        let missing: i64 = gaps.iter().map(|g| g.missing_candles).sum();
        format!(
            "{} gap(s), {missing} candle(s) missing, first at {}",
            gaps.len(),
            iso(gaps[0].from_open_time)
        )
    };
    format!(
        "{symbol} {interval}, {} candles {} → {}: open {} → close {} ({}%), high {} at {}, low {} at {}; {gap_text}.",
        klines.len(),
        iso(first.open_time),
        iso(last.close_time),
        s.open,
        s.close,
        signed(s.change_percent),
        s.high,
        iso(s.high_time),
        s.low,
        iso(s.low_time),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kline(open_time: i64) -> Kline {
        Kline {
            open_time,
            open: Decimal::ONE,
            high: Decimal::TWO,
            low: Decimal::ONE,
            close: Decimal::TWO,
            volume: Decimal::ONE,
            close_time: open_time + 3_599_999,
            quote_volume: Decimal::ONE,
            trades: 1,
            taker_buy_base_volume: Decimal::ONE,
            taker_buy_quote_volume: Decimal::ONE,
        }
    }

    #[test]
    fn candle_json_is_reused_for_the_same_cached_series_only() {
        let memo = CandleMemo::default();
        let series = Arc::new(vec![kline(0), kline(3_600_000)]);
        let first = memo.json(&series).unwrap();
        let again = memo.json(&series).unwrap();
        assert!(Arc::ptr_eq(&first.0, &again.0), "served from the memo");
        let expected: Vec<Candle> = series.iter().map(Candle::from).collect();
        assert_eq!(first.0.get(), serde_json::to_string(&expected).unwrap());
        let equal_but_new = Arc::new(series.as_ref().clone());
        assert!(!Arc::ptr_eq(
            &memo.json(&equal_but_new).unwrap().0,
            &first.0
        ));
        for _ in 0..MEMO_ENTRIES {
            memo.json(&Arc::new(vec![kline(0)])).unwrap();
        }
        assert_eq!(memo.entries.lock().unwrap().len(), MEMO_ENTRIES, "bounded");
    }

    #[test]
    fn the_next_page_continues_the_range_asked_for() {
        const H: i64 = 3_600_000;
        let page: Vec<Kline> = (10..13).map(|h| kline(h * H)).collect();
        let full = |start_time, end_time| TimeRange {
            start_time,
            end_time,
            limit: Some(3),
        };
        // Most recent, or up to an end: the next page is older.
        assert_eq!(
            next_range(full(None, None), &page),
            Some(full(None, Some(10 * H - 1)))
        );
        assert_eq!(
            next_range(full(None, Some(99 * H)), &page),
            Some(full(None, Some(10 * H - 1)))
        );
        // From a start: newer, until the asked end.
        assert_eq!(
            next_range(full(Some(10 * H), None), &page),
            Some(full(Some(13 * H), None))
        );
        assert_eq!(
            next_range(full(Some(10 * H), Some(20 * H)), &page),
            Some(full(Some(13 * H), Some(20 * H)))
        );
        assert_eq!(next_range(full(Some(10 * H), Some(12 * H)), &page), None);
        // A page that is not full is the end of the range.
        assert_eq!(next_range(full(None, None), &page[..2]), None);
        assert_eq!(next_range(full(None, None), &[]), None);
    }

    #[test]
    fn gaps_are_found_and_counted() {
        const H: i64 = 3_600_000;
        let klines: Vec<Kline> = [0, 1, 2, 5, 6, 9].iter().map(|h| kline(h * H)).collect();
        let gaps = find_gaps(&klines, Interval::Hour1);
        assert_eq!(
            gaps,
            [
                Gap {
                    from_open_time: 3 * H,
                    resumes_at: 5 * H,
                    missing_candles: 2
                },
                Gap {
                    from_open_time: 7 * H,
                    resumes_at: 9 * H,
                    missing_candles: 2
                }
            ]
        );
        let summary = summarise(
            "X",
            Interval::Hour1,
            &klines,
            stats(&klines).as_ref(),
            &gaps,
        );
        assert!(
            summary.ends_with("2 gap(s), 4 candle(s) missing, first at 1970-01-01T03:00:00Z."),
            "{summary}"
        );
        assert!(find_gaps(&klines, Interval::Month1).is_empty());
        assert!(find_gaps(&klines[..3], Interval::Hour1).is_empty());
    }
}
