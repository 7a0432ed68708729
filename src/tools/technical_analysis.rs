//! `technical_analysis`: TA-Lib-exact indicators over the candles
//! `binance_klines` would return (spot, or a USD-M perpetual's trade, mark,
//! index or premium prices), with a reading a model can quote. Windows of
//! up to 5000 candles come in pages of 1000.
//!
//! The output is built to be small (well under 4k tokens with the defaults):
//! the open times of the last `points` candles are listed once and every
//! indicator line gives its values at those times, rounded to
//! [`SIGNIFICANT_DIGITS`] significant digits. The reading comes from the
//! rules in [`crate::analysis::reading`], applied to the first indicator of
//! each kind that was asked for; an indicator not asked for adds no reading.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{IntervalArg, Limit, MarketArg, PriceArg, SymbolArg};
use super::candles::{self, Candles, GapFields, SeriesFields, SeriesFreshness, Source};
use crate::analysis::reading::{self, RECENT_WINDOW, round_significant};
use crate::analysis::spec::{IndicatorSpec, Line};
use crate::apps::{self, chart_data};
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};
use crate::mcp::ui::ToolUi;

pub struct TechnicalAnalysis;

/// Candles when `limit` is omitted: enough for a 200-period average to
/// have one value and for every default indicator to be long past warm-up.
pub const DEFAULT_LIMIT: u16 = 200;
/// Five pages of 1000: a 200-day average on daily candles with years of
/// warm-up, at a bounded cost of six requests.
pub const MAX_LIMIT: u16 = 5000;
/// Values listed per indicator line when `points` is omitted.
pub const DEFAULT_POINTS: u16 = 10;
/// Most values per line: with [`MAX_INDICATORS`] indicators of up to three
/// lines this stays within a few thousand tokens.
pub const MAX_POINTS: u16 = 50;
/// Most indicators per call, to keep the result compact.
pub const MAX_INDICATORS: usize = 12;
/// Eight significant digits are far inside the 1e-6 agreement with TA-Lib
/// we promise, and about half the tokens of a full `f64`.
pub const SIGNIFICANT_DIGITS: usize = 8;
/// Used when `indicators` is omitted: trend, momentum, bands and volatility,
/// one of each rule's inputs.
pub const DEFAULT_INDICATORS: [&str; 7] = [
    "ema:20",
    "ema:50",
    "sma:200",
    "rsi:14",
    "macd:12,26,9",
    "bbands:20,2",
    "atr:14",
];

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TechnicalAnalysisArgs {
    pub symbol: SymbolArg,
    #[serde(default)]
    pub interval: IntervalArg,
    #[serde(default)]
    pub market: MarketArg,
    #[serde(default)]
    pub price: PriceArg,
    /// Candles in the window, the most recent ones (the last may still be
    /// open). Default 200, at most 5000 (fetched in pages of 1000).
    /// Indicators are computed over exactly these candles, as
    /// `binance_klines` returns them.
    #[serde(default)]
    pub limit: Limit<1, MAX_LIMIT, DEFAULT_LIMIT>,
    /// Indicator specs such as `["rsi:14", "ema:50", "macd:12,26,9",
    /// "bbands:20,2", "atr:14"]`. Known: sma, ema, wma, rsi, macd, bbands,
    /// atr, stoch, adx, mfi, cci, obv, vwap; a bare name uses the usual
    /// parameters. Default: ema:20, ema:50, sma:200, rsi:14, macd:12,26,9,
    /// bbands:20,2, atr:14. At most 12. mfi, obv and vwap need volume, so
    /// trade prices.
    #[serde(default)]
    pub indicators: Option<Vec<String>>,
    /// How many of the latest values to list per indicator line. Default 10,
    /// at most 50.
    #[serde(default)]
    pub points: Limit<1, MAX_POINTS, DEFAULT_POINTS>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TechnicalAnalysisOutput {
    pub symbol: String,
    pub interval: String,
    #[serde(flatten)]
    pub series: SeriesFields,
    /// Candles the indicators were computed over.
    pub candles: usize,
    /// Open time (Unix ms) of the first and last candle of the window.
    pub first_open_time: i64,
    pub last_open_time: i64,
    /// Close of the last candle, exactly as Binance reported it. The last
    /// candle may still be open, in which case this is the latest price.
    pub last_close: String,
    #[serde(flatten)]
    pub freshness: SeriesFreshness,
    #[serde(flatten)]
    pub gaps: GapFields,
    /// Open times (Unix ms) of the candles that `points` lists, oldest first.
    pub points_open_time: Vec<i64>,
    pub indicators: Vec<IndicatorOutput>,
    /// Plain-language reading derived from the values by fixed rules (see
    /// the tool description); quote it with its numbers.
    pub reading: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct IndicatorOutput {
    /// The spec in canonical form, e.g. `macd:12,26,9`.
    pub spec: String,
    pub lines: Vec<LineOutput>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LineOutput {
    /// The output's name: the indicator's for single-line ones; macd,
    /// signal, histogram; upper, middle, lower; k, d; adx, plus_di, minus_di.
    pub name: &'static str,
    /// Value on the last candle (null while warming up).
    pub latest: Option<f64>,
    /// Value on the candle before it.
    pub previous: Option<f64>,
    /// Values at `points_open_time`, oldest first.
    pub points: Vec<Option<f64>>,
}

impl Tool for TechnicalAnalysis {
    type Args = TechnicalAnalysisArgs;
    type Output = TechnicalAnalysisOutput;

    const NAME: &'static str = "technical_analysis";
    const TITLE: &'static str = "Technical analysis";
    const SUMMARY: &'static str =
        "TA-Lib-exact indicators (RSI, MACD, Bollinger, ...) with a plain reading.";
    const DESCRIPTION: &'static str = "Compute technical indicators (values identical to TA-Lib) over the \
most recent candles of a Binance spot market, or with market \"usdm\" of its USD-M perpetual (price \"trade\", \
\"mark\", \"index\" or \"premium\"): the same candles binance_klines returns for that symbol, interval and \
limit, up to 5000 candles (e.g. a 200-day average on daily candles). Indicators are specs like \"rsi:14\", \
\"ema:50\", \"macd:12,26,9\", \"bbands:20,2\", \"atr:14\" (also sma, wma, stoch, adx, mfi, cci, obv, vwap). For \
each: the latest value, the previous one, and the last `points` values at the listed open times. Also \
`reading`: plain sentences from fixed rules - trend: close above every requested moving average = uptrend, \
below every one = downtrend, else mixed; RSI >= 70 overbought, <= 30 oversold, else the side of 50; MACD \
crossing its signal on the latest candle, else its side, the zero line and whether the histogram widens; \
Bollinger %B position (near a band within 0.2) and width vs its 20-candle average (< 0.75x squeeze, > 1.25x \
wide); ATR vs its 20-candle average (> 1.2x elevated, < 0.8x subdued). Quote the reading with its numbers; it \
describes, it does not predict. The last candle may still be open; gaps in the series are listed.";
    const OPEN_WORLD: bool = true;
    const UI: Option<ToolUi> = Some(apps::chart_ui("Computing indicators…", "Indicators ready"));

    async fn call(
        &self,
        ctx: &ToolContext,
        args: TechnicalAnalysisArgs,
    ) -> Result<Reply<TechnicalAnalysisOutput>, ToolError> {
        let source = Source::new(args.symbol, args.interval, args.market, args.price)?;
        let specs = parse_specs(args.indicators.as_deref(), args.limit.0)?;
        if !source.series.has_volume()
            && let Some(spec) = specs.iter().find(|s| needs_volume(s))
        {
            return Err(ToolError::invalid_arguments(format!(
                "`indicators`: {spec} needs volume, and {} have none: use `price` trade, or an indicator of prices only.",
                source.series.describe()
            )));
        }
        let candles = candles::fetch(ctx, &source, args.limit.0).await?;
        let computed = compute(&candles, &specs);
        let freshness = SeriesFreshness::of(&candles.klines, &ctx.binance);
        let output = analyse(&candles, &computed, usize::from(args.points.0), freshness);
        // The chart app draws every line at every candle; the model reads
        // only `points` of them, so the rest travels in the result's `_meta`.
        let chart = chart_data::result_meta(&candles.klines.value, &computed, SIGNIFICANT_DIGITS)
            .map_err(|error| {
            ToolError::internal(format!("the chart series did not serialise: {error}"))
        })?;
        Ok(Reply::new(output).with_meta(chart))
    }
}

/// True for the indicators computed from volume, which only traded
/// series have.
fn needs_volume(spec: &IndicatorSpec) -> bool {
    matches!(
        spec,
        IndicatorSpec::Mfi(_) | IndicatorSpec::Obv | IndicatorSpec::Vwap
    )
}

/// The requested specs, or the defaults; duplicates are dropped. Any bad
/// spec fails the call with the list of valid ones. A spec that needs more
/// candles than `limit` is refused too, since it could never have a value.
pub fn parse_specs(
    requested: Option<&[String]>,
    limit: u16,
) -> Result<Vec<IndicatorSpec>, ToolError> {
    let default: Vec<String>;
    let requested = match requested {
        Some(list) => list,
        None => {
            default = DEFAULT_INDICATORS.map(str::to_owned).to_vec();
            &default
        }
    };
    if requested.is_empty() || requested.len() > MAX_INDICATORS {
        return Err(ToolError::invalid_arguments(format!(
            "`indicators` must list 1 to {MAX_INDICATORS} specs; got {}. Leave it out for the defaults: {}.",
            requested.len(),
            DEFAULT_INDICATORS.join(", ")
        )));
    }
    let mut specs: Vec<IndicatorSpec> = Vec::with_capacity(requested.len());
    for (i, text) in requested.iter().enumerate() {
        let spec = IndicatorSpec::parse(text)
            .map_err(|e| ToolError::invalid_arguments(format!("`indicators[{i}]`: {e}")))?;
        let needed = spec.lookback().unwrap_or(0) + 1;
        if needed > usize::from(limit) {
            return Err(ToolError::invalid_arguments(format!(
                "`indicators[{i}]`: {spec} needs at least {needed} candles but `limit` is {limit}; raise `limit` (at most {MAX_LIMIT}) or use a shorter period."
            )));
        }
        if !specs.contains(&spec) {
            specs.push(spec);
        }
    }
    Ok(specs)
}

/// Every spec's lines over the candles.
pub fn compute(candles: &Candles, specs: &[IndicatorSpec]) -> Vec<(IndicatorSpec, Vec<Line>)> {
    specs
        .iter()
        .map(|s| (*s, s.compute(&candles.bars)))
        .collect()
}

/// The output for the computed lines, with the reading derived from them.
pub fn analyse(
    candles: &Candles,
    computed: &[(IndicatorSpec, Vec<Line>)],
    points: usize,
    freshness: SeriesFreshness,
) -> TechnicalAnalysisOutput {
    let bars = &candles.bars;
    let klines = &candles.klines.value;
    let tail = bars.len().saturating_sub(points);
    let close = bars.last().map_or(f64::NAN, |b| b.close);
    let indicators = computed
        .iter()
        .map(|(spec, lines)| IndicatorOutput {
            spec: spec.to_string(),
            lines: lines
                .iter()
                .map(|line| LineOutput {
                    name: line.name,
                    latest: at_end(&line.values, 0),
                    previous: at_end(&line.values, 1),
                    points: line.values[tail..].iter().map(|v| v.map(rounded)).collect(),
                })
                .collect(),
        })
        .collect();
    TechnicalAnalysisOutput {
        symbol: candles.source.symbol.to_string(),
        interval: candles.source.interval.to_string(),
        series: candles.source.series_fields(),
        candles: bars.len(),
        first_open_time: bars.first().map_or(0, |b| b.open_time),
        last_open_time: bars.last().map_or(0, |b| b.open_time),
        last_close: klines
            .last()
            .map(|k| k.close.to_string())
            .unwrap_or_default(),
        freshness,
        gaps: GapFields::of(klines, candles.source.interval),
        points_open_time: bars[tail..].iter().map(|b| b.open_time).collect(),
        indicators,
        reading: read(close, computed),
    }
}

/// The value `back` candles before the last one, rounded for output.
fn at_end(values: &[Option<f64>], back: usize) -> Option<f64> {
    let index = values.len().checked_sub(back + 1)?;
    values[index].map(rounded)
}

fn rounded(value: f64) -> f64 {
    round_significant(value, SIGNIFICANT_DIGITS)
}

/// Applies each reading rule to the first requested indicator it needs;
/// the trend rule takes every moving average.
fn read(close: f64, computed: &[(IndicatorSpec, Vec<Line>)]) -> Vec<String> {
    let latest = |lines: &[Line], i: usize| lines.get(i).and_then(|l| *l.values.last()?);
    let first = |wanted: fn(&IndicatorSpec) -> bool| computed.iter().find(|(s, _)| wanted(s));
    let mut reading = Vec::new();

    let averages: Vec<(String, f64)> = computed
        .iter()
        .filter(|(spec, _)| spec.is_moving_average())
        .filter_map(|(spec, lines)| Some((label(spec), latest(lines, 0)?)))
        .collect();
    reading.extend(reading::trend(close, &averages));

    if let Some((spec, lines)) = first(|s| matches!(s, IndicatorSpec::Rsi(_)))
        && let Some(value) = latest(lines, 0)
    {
        let previous = lines.first().and_then(|l| at_end(&l.values, 1));
        reading.push(reading::rsi_zone(&label(spec), value, previous));
    }

    if let Some((spec, lines)) = first(|s| matches!(s, IndicatorSpec::Macd { .. }))
        && let [macd, signal, ..] = lines.as_slice()
    {
        reading.extend(reading::macd_cross(
            &label(spec),
            &macd.values,
            &signal.values,
        ));
    }

    if let Some((spec, lines)) = first(|s| matches!(s, IndicatorSpec::Bbands { .. }))
        && let [upper, middle, lower] = lines.as_slice()
        && let (Some(u), Some(m), Some(l)) = (latest(lines, 0), latest(lines, 1), latest(lines, 2))
    {
        reading.push(reading::bands(&label(spec), close, u, m, l));
        let widths: Vec<f64> = upper
            .values
            .iter()
            .zip(&middle.values)
            .zip(&lower.values)
            .filter_map(|((u, m), l)| {
                let (u, m, l) = ((*u)?, (*m)?, (*l)?);
                (m != 0.0).then(|| (u - l) / m)
            })
            .collect();
        reading.extend(reading::band_width(
            &widths[widths.len().saturating_sub(RECENT_WINDOW)..],
        ));
    }

    if let Some((spec, lines)) = first(|s| matches!(s, IndicatorSpec::Atr(_)))
        && let Some(line) = lines.first()
    {
        let values: Vec<f64> = line.values.iter().flatten().copied().collect();
        let recent = &values[values.len().saturating_sub(RECENT_WINDOW)..];
        reading.extend(reading::volatility(&label(spec), recent, close));
    }
    reading
}

/// How a spec is named in prose: "EMA 50", "Bollinger 20,2", "MACD 12,26,9".
fn label(spec: &IndicatorSpec) -> String {
    let text = spec.to_string();
    let (name, params) = text.split_once(':').unwrap_or((&text, ""));
    let name = match name {
        "bbands" => "Bollinger".to_owned(),
        other => other.to_ascii_uppercase(),
    };
    if params.is_empty() {
        name
    } else {
        format!("{name} {params}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_fit_the_default_window() {
        let specs = parse_specs(None, DEFAULT_LIMIT).expect("defaults are valid");
        assert_eq!(specs.len(), DEFAULT_INDICATORS.len());
    }

    #[test]
    fn bad_lists_are_refused_with_guidance() {
        let too_long = |limit| parse_specs(Some(&["sma:200".to_owned()]), limit);
        let error = too_long(100).expect_err("needs 200 candles");
        assert!(
            error.to_string().contains("needs at least 200 candles"),
            "{error}"
        );
        assert!(too_long(200).is_ok());

        let error = parse_specs(Some(&["rsi:14".to_owned(), "magic".to_owned()]), 200)
            .expect_err("unknown");
        assert!(error.to_string().contains("Valid indicators"), "{error}");
        assert!(parse_specs(Some(&[]), 200).is_err());
        let many = vec!["rsi".to_owned(); MAX_INDICATORS + 1];
        assert!(parse_specs(Some(&many), 200).is_err());
    }

    #[test]
    fn duplicates_collapse() {
        let specs = parse_specs(Some(&["rsi".to_owned(), "RSI:14".to_owned()]), 200);
        assert_eq!(specs.expect("valid").len(), 1);
    }

    #[test]
    fn labels_read_like_prose() {
        let label_of = |s: &str| label(&IndicatorSpec::parse(s).expect("valid"));
        assert_eq!(label_of("ema:50"), "EMA 50");
        assert_eq!(label_of("bbands"), "Bollinger 20,2");
        assert_eq!(label_of("vwap"), "VWAP");
    }
}
