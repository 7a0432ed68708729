//! `binance_positioning`: who is long, who is short and who is hitting the
//! bid on a USD-M perpetual, per period, on one time axis.
//!
//! Six `/futures/data` series are fetched concurrently (each cached until
//! its next period): the long/short ratios of all accounts, of the top
//! traders' accounts and of their positions, taker buy/sell volume, the
//! basis against the index, and open interest. They are aligned on their
//! timestamps into rows named by `columns`; a series without a point at
//! some time leaves `null` there rather than shifting the others. The
//! summary quotes the numbers and never predicts.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Serialize, Serializer};

use super::args::{Freshness, Limit, PeriodArg, SymbolArg, iso, percent, round, signed};
use crate::binance::wire::{Basis, LongShortRatio, OpenInterestHist, TakerVolume};
use crate::binance::{Interval, LongShort, TimeRange};
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};

/// Binance keeps the statistics this long ("Only the data of the latest
/// 30 days is available").
const RETENTION_MS: i64 = 30 * 24 * 3_600_000;
/// Periods the taker-flow sentence of the summary sums over.
const RECENT_PERIODS: usize = 4;
/// A perpetual's basis annualised as if the premium were paid at each of
/// Binance's usual three fundings a day, all year: 3 × 365.
const FUNDINGS_PER_YEAR: i64 = 1095;
const RATE_DP: u32 = 6;

pub struct Positioning;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PositioningArgs {
    /// USD-M perpetual symbol, e.g. BTCUSDT.
    pub symbol: SymbolArg,
    /// Period of each row: 5m, 15m, 30m, 1h (default), 2h, 4h, 6h, 12h or
    /// 1d.
    #[serde(default)]
    pub period: PeriodArg,
    /// Rows, the most recent periods: 1 to 500 (default 30). Binance keeps
    /// only the last 30 days.
    #[serde(default)]
    pub limit: Limit<1, 500, 30>,
}

/// The columns of a row, in order.
pub const COLUMNS: [&str; 20] = [
    "time",
    "long_short_ratio",
    "long_account",
    "short_account",
    "top_account_long_short_ratio",
    "top_long_account",
    "top_short_account",
    "top_position_long_short_ratio",
    "top_long_position",
    "top_short_position",
    "taker_buy_volume",
    "taker_sell_volume",
    "taker_buy_sell_ratio",
    "futures_price",
    "index_price",
    "basis",
    "basis_rate",
    "basis_annualized",
    "open_interest",
    "open_interest_value",
];

/// One period: its time (Unix ms, the period's start as Binance stamps
/// it), then 19 exact decimals (or `null` where that series has no point)
/// in [`COLUMNS`] order:
/// - all accounts: long/short account ratio, long share, short share;
/// - the top 20 % of accounts by margin: the same by account;
/// - the same by position size;
/// - takers: buy volume, sell volume (base asset), buy/sell ratio;
/// - futures price, index price, basis (futures − index), basis rate
///   (basis / index), annualised basis (rate × 1095: the premium paid at
///   three fundings a day for a year; perpetuals do not expire);
/// - open interest (contracts, base asset) and its value (quote asset).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub time: i64,
    pub values: [Option<Decimal>; 19],
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut row = serializer.serialize_tuple(COLUMNS.len())?;
        row.serialize_element(&self.time)?;
        for value in &self.values {
            row.serialize_element(value)?;
        }
        row.end()
    }
}

impl JsonSchema for Row {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PositioningRow".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "description": "One period: time (Unix ms) then 19 exact decimals or null, in `columns` order.",
            "prefixItems": [{ "type": "integer" }],
            "items": { "type": ["string", "null"] },
            "minItems": COLUMNS.len(),
            "maxItems": COLUMNS.len(),
        })
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PositioningOutput {
    pub symbol: String,
    pub period: String,
    /// Plain language quoting the numbers: the top traders' positions, all
    /// accounts, recent taker flow, the basis and open interest. It
    /// describes; it does not predict.
    pub summary: String,
    /// Set when the request reaches past the 30 days Binance keeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub count: usize,
    /// Names of the values in each row of `rows`.
    pub columns: [&'static str; 20],
    /// Oldest first.
    pub rows: Vec<Row>,
    /// False while the last row's period is still running on the server's
    /// clock (its statistics may still change), as for a candle; true when
    /// it has ended, or there are no rows.
    pub last_candle_closed: bool,
    #[serde(flatten)]
    pub freshness: Freshness,
}

impl Tool for Positioning {
    type Args = PositioningArgs;
    type Output = PositioningOutput;

    const NAME: &'static str = "binance_positioning";
    const TITLE: &'static str = "Binance perpetual positioning";
    const SUMMARY: &'static str =
        "A perpetual's long/short ratios, taker flow, basis and open interest.";
    const DESCRIPTION: &'static str = "Positioning and sentiment of a Binance USD-M perpetual (e.g. BTCUSDT) \
per `period` (5m … 1d, default 1h) over the last `limit` periods (default 30, max 500): the long/short \
account ratio of all traders, the top traders' long/short ratio by accounts and by positions, taker buy \
and sell volume and their ratio, the basis (futures minus index, as a rate and annualised) and open \
interest, aligned on one time axis as rows named by `columns`, plus a plain-language `summary` quoting the \
numbers. Use it for \"who is long or short\", \"are takers buying\", \"is the perp at a premium\". It \
describes, it does not predict. Binance keeps only the last 30 days of these.";
    const OPEN_WORLD: bool = true;

    async fn call(
        &self,
        ctx: &ToolContext,
        args: PositioningArgs,
    ) -> Result<Reply<PositioningOutput>, ToolError> {
        let symbol = args.symbol.0;
        let period = args.period.0;
        let limit = args.limit.0;
        let range = TimeRange::last(limit);
        let binance = &ctx.binance;
        let (accounts, top_accounts, top_positions, taker, basis, open_interest) = tokio::try_join!(
            binance.long_short_ratio(LongShort::Accounts, &symbol, period, range),
            binance.long_short_ratio(LongShort::TopAccounts, &symbol, period, range),
            binance.long_short_ratio(LongShort::TopPositions, &symbol, period, range),
            binance.taker_volume(&symbol, period, range),
            binance.basis(&symbol, period, range),
            binance.open_interest_hist(&symbol, period, range),
        )?;
        let freshness = Freshness::of(&accounts, ctx.binance.now())
            .and(Freshness::of(&top_accounts, ctx.binance.now()))
            .and(Freshness::of(&top_positions, ctx.binance.now()))
            .and(Freshness::of(&taker, ctx.binance.now()))
            .and(Freshness::of(&basis, ctx.binance.now()))
            .and(Freshness::of(&open_interest, ctx.binance.now()));
        let series = Series {
            accounts: &accounts.value,
            top_accounts: &top_accounts.value,
            top_positions: &top_positions.value,
            taker: &taker.value,
            basis: &basis.value,
            open_interest: &open_interest.value,
        };
        let rows = series.align(usize::from(limit));
        let reach_ms = i64::from(limit) * period.duration_ms();
        let note = (reach_ms > RETENTION_MS).then(|| {
            format!(
                "Binance keeps only the last 30 days of positioning data: {limit} periods of {period} reach back {} days, so at most {} periods exist.",
                reach_ms / (24 * 3_600_000),
                RETENTION_MS / period.duration_ms()
            )
        });
        let mut summary = summarise(symbol.as_str(), period, &series, &rows);
        if let Some(note) = &note {
            summary.push(' ');
            summary.push_str(note);
        }
        let now_ms = ctx.binance.unix_ms();
        let last_candle_closed = rows
            .last()
            .is_none_or(|row| row.time + period.duration_ms() <= now_ms);
        Ok(Reply::new(PositioningOutput {
            symbol: symbol.to_string(),
            period: period.to_string(),
            summary,
            note,
            count: rows.len(),
            columns: COLUMNS,
            rows,
            last_candle_closed,
            freshness,
        }))
    }
}

/// The six answers of one call.
struct Series<'a> {
    accounts: &'a [LongShortRatio],
    top_accounts: &'a [LongShortRatio],
    top_positions: &'a [LongShortRatio],
    taker: &'a [TakerVolume],
    basis: &'a [Basis],
    open_interest: &'a [OpenInterestHist],
}

impl Series<'_> {
    /// One row per timestamp any series has, oldest first, the most recent
    /// `limit` of them.
    fn align(&self, limit: usize) -> Vec<Row> {
        let mut rows: BTreeMap<i64, [Option<Decimal>; 19]> = BTreeMap::new();
        let mut put = |time: i64, first: usize, values: &[Decimal]| {
            let row = rows.entry(time).or_insert([None; 19]);
            for (slot, value) in row[first..].iter_mut().zip(values) {
                *slot = Some(*value);
            }
        };
        for (first, ratios) in [
            (0, self.accounts),
            (3, self.top_accounts),
            (6, self.top_positions),
        ] {
            for r in ratios {
                put(
                    r.timestamp,
                    first,
                    &[r.long_short_ratio, r.long_account, r.short_account],
                );
            }
        }
        for t in self.taker {
            put(t.timestamp, 9, &[t.buy_vol, t.sell_vol, t.buy_sell_ratio]);
        }
        for b in self.basis {
            let annualized = b
                .annualized_basis_rate
                .unwrap_or_else(|| round(b.basis_rate * Decimal::from(FUNDINGS_PER_YEAR), RATE_DP));
            put(
                b.timestamp,
                12,
                &[
                    b.futures_price,
                    b.index_price,
                    b.basis,
                    b.basis_rate,
                    annualized,
                ],
            );
        }
        for o in self.open_interest {
            put(
                o.timestamp,
                17,
                &[o.sum_open_interest, o.sum_open_interest_value],
            );
        }
        let skip = rows.len().saturating_sub(limit);
        rows.into_iter()
            .skip(skip)
            .map(|(time, values)| Row { time, values })
            .collect()
    }
}

/// "BTCUSDT perpetual, 30 periods of 1h to …: top traders' positions 1.43 :
/// 1 long (58.9 % long), up from 1.38 : 1; …"
fn summarise(symbol: &str, period: Interval, series: &Series<'_>, rows: &[Row]) -> String {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return format!(
            "{symbol}: Binance has no positioning data for this perpetual at {period} (it may be newly listed)."
        );
    };
    let mut parts = Vec::new();
    if let Some(text) = ratio_sentence("top traders' positions", series.top_positions) {
        parts.push(text);
    }
    if let Some(text) = ratio_sentence("top traders' accounts", series.top_accounts) {
        parts.push(text);
    }
    if let Some(text) = ratio_sentence("all accounts", series.accounts) {
        parts.push(text);
    }
    let recent = &series.taker[series.taker.len().saturating_sub(RECENT_PERIODS)..];
    let bought: Decimal = recent.iter().map(|t| t.buy_vol).sum();
    let sold: Decimal = recent.iter().map(|t| t.sell_vol).sum();
    if !(bought + sold).is_zero() {
        let (side, share) = if sold > bought {
            ("sold", sold)
        } else {
            ("bought", bought)
        };
        parts.push(format!(
            "takers {side} {}% of volume over the last {} period(s) ({bought} bought, {sold} sold)",
            percent(share, bought + sold, 1),
            recent.len()
        ));
    }
    if let Some(b) = series.basis.last() {
        let annualized = b
            .annualized_basis_rate
            .unwrap_or_else(|| round(b.basis_rate * Decimal::from(FUNDINGS_PER_YEAR), RATE_DP));
        parts.push(format!(
            "basis {} ({}% of the index {}; {}% annualised at three fundings a day)",
            signed(b.basis),
            signed(round(b.basis_rate * Decimal::ONE_HUNDRED, 4)),
            b.index_price,
            signed(round(annualized * Decimal::ONE_HUNDRED, 2))
        ));
    }
    if let (Some(old), Some(now)) = (series.open_interest.first(), series.open_interest.last()) {
        let change = percent(
            now.sum_open_interest - old.sum_open_interest,
            old.sum_open_interest,
            2,
        );
        parts.push(format!(
            "open interest {} contracts ({} quote), {}% since {}",
            now.sum_open_interest,
            round(now.sum_open_interest_value, 2),
            signed(change),
            iso(old.timestamp)
        ));
    }
    format!(
        "{symbol} perpetual, {} period(s) of {period} from {} to {}: {}.",
        rows.len(),
        iso(first.time),
        iso(last.time),
        parts.join("; ")
    )
}

/// "top traders' positions 1.43 : 1 long (58.9% long), up from 1.38 : 1".
fn ratio_sentence(who: &str, ratios: &[LongShortRatio]) -> Option<String> {
    let (first, last) = (ratios.first()?, ratios.last()?);
    let trend = match last.long_short_ratio.cmp(&first.long_short_ratio) {
        std::cmp::Ordering::Greater => format!(", up from {} : 1", first.long_short_ratio),
        std::cmp::Ordering::Less => format!(", down from {} : 1", first.long_short_ratio),
        std::cmp::Ordering::Equal => ", unchanged over the window".to_owned(),
    };
    Some(format!(
        "{who} {} : 1 long/short ({}% long){trend}",
        last.long_short_ratio,
        round(last.long_account * Decimal::ONE_HUNDRED, 2)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    fn ratio(timestamp: i64, ratio: &str, long: &str, short: &str) -> LongShortRatio {
        LongShortRatio {
            long_short_ratio: d(ratio),
            long_account: d(long),
            short_account: d(short),
            timestamp,
        }
    }

    #[test]
    fn series_align_on_their_timestamps_with_gaps_left_empty() {
        let accounts = [
            ratio(1, "1.5", "0.6", "0.4"),
            ratio(2, "2", "0.6667", "0.3333"),
        ];
        let top = [ratio(2, "1", "0.5", "0.5")];
        let taker = [TakerVolume {
            buy_sell_ratio: d("0.5"),
            buy_vol: d("10"),
            sell_vol: d("20"),
            timestamp: 3,
        }];
        let basis = [Basis {
            index_price: d("100"),
            futures_price: d("100.04"),
            basis: d("0.04"),
            basis_rate: d("0.0004"),
            annualized_basis_rate: None,
            timestamp: 2,
        }];
        let series = Series {
            accounts: &accounts,
            top_accounts: &top,
            top_positions: &[],
            taker: &taker,
            basis: &basis,
            open_interest: &[],
        };
        let rows = series.align(10);
        assert_eq!(rows.iter().map(|r| r.time).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(rows[0].values[0], Some(d("1.5")));
        assert_eq!(rows[0].values[3], None, "no top-account point at 1");
        assert_eq!(rows[1].values[3], Some(d("1")));
        assert_eq!(rows[1].values[16], Some(d("0.438")), "0.0004 × 1095");
        assert_eq!(
            rows[2].values[9..12],
            [Some(d("10")), Some(d("20")), Some(d("0.5"))]
        );
        assert_eq!(series.align(2).len(), 2, "the most recent ones");
        let json = serde_json::to_value(&rows[2]).expect("row");
        assert_eq!(json.as_array().map(Vec::len), Some(COLUMNS.len()));
        assert_eq!(json[0], 3);
        assert_eq!(json[10], "10");
        assert!(json[1].is_null());

        let summary = summarise("X", Interval::Hour1, &series, &rows);
        assert!(
            summary.contains("all accounts 2 : 1 long/short (66.67% long), up from 1.5 : 1"),
            "{summary}"
        );
        assert!(
            summary.contains("takers sold 66.7% of volume over the last 1 period(s)"),
            "{summary}"
        );
        assert!(summary.contains("+43.8% annualised"), "{summary}");
    }
}
