//! `binance_chart`: a PNG candlestick chart with volume, optional overlays
//! and an RSI or MACD pane, returned as MCP image content.
//!
//! The picture comes first in `content` (clients show it inline) and the
//! structured summary follows, so a model that cannot see images still
//! knows what was drawn. Rendering is CPU work of a few milliseconds, done
//! on `spawn_blocking` so it never stalls the runtime's threads, and at most
//! [`MAX_CONCURRENT_RENDERS`] at once, so a burst of large charts queues
//! instead of multiplying memory (64 at once once peaked at 572 MB). A
//! caller's charts take their turns one after another before joining that
//! queue, so a single client cannot fill the queue everyone waits in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

use super::args::{IntervalArg, Limit, MarketArg, PriceArg, SymbolArg};
use super::candles::{self, Candles, GapFields, SeriesFields, SeriesFreshness, Source};
use crate::analysis::chart::{
    self, ChartSpec, DEFAULT_HEIGHT, DEFAULT_WIDTH, MAX_HEIGHT, MAX_WIDTH, MIN_HEIGHT, MIN_WIDTH,
    Overlay, OverlayKind, Pane, Theme,
};
use crate::analysis::indicators::Bar;
use crate::analysis::spec::IndicatorSpec;
use crate::binance::{CallerKey, Market, Price};
use crate::mcp::content::Content;
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};

pub struct BinanceChart;

/// Charts rendered at once. A full-size render holds tens of megabytes of
/// pixels and coverage masks for its few milliseconds; on the 1-CPU VM more
/// renders at once would only share the core while adding memory.
pub const MAX_CONCURRENT_RENDERS: usize = 2;
/// How long a call waits for a render slot. Renders take milliseconds, so a
/// queue of dozens clears well within it; past it the server is overloaded
/// and the model is told to retry rather than left waiting.
pub const RENDER_WAIT: Duration = Duration::from_secs(5);

static RENDERS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_RENDERS);
/// Each caller's turn at the render queue, while it has charts in flight;
/// an entry goes with its caller's last chart, so the map is bounded by the
/// calls in flight.
static TURNS: Mutex<Option<HashMap<CallerKey, Arc<Semaphore>>>> = Mutex::new(None);

/// A caller's place in line for its own charts: held while waiting for its
/// turn and while rendering, removing the caller's entry once it is the last.
struct CallerTurn {
    caller: CallerKey,
    line: Arc<Semaphore>,
    turn: Option<OwnedSemaphorePermit>,
}

impl CallerTurn {
    /// Waits up to [`RENDER_WAIT`] for `caller`'s previous chart to finish.
    async fn take(caller: &CallerKey) -> Result<Self, ToolError> {
        let line = {
            let mut turns = TURNS.lock().unwrap_or_else(PoisonError::into_inner);
            let line = turns
                .get_or_insert_with(HashMap::new)
                .entry(caller.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(1)));
            Arc::clone(line)
        };
        let mut place = Self {
            caller: caller.clone(),
            line,
            turn: None,
        };
        match tokio::time::timeout(RENDER_WAIT, Arc::clone(&place.line).acquire_owned()).await {
            Ok(Ok(turn)) => {
                place.turn = Some(turn);
                Ok(place)
            }
            // The semaphore is never closed, so only the wait can fail.
            Ok(Err(_)) | Err(_) => Err(ToolError::busy(format!(
                "Your previous charts are still being drawn; try again in a few seconds (waited {} s).",
                RENDER_WAIT.as_secs()
            ))),
        }
    }
}

impl Drop for CallerTurn {
    fn drop(&mut self) {
        self.turn.take();
        let mut turns = TURNS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(map) = turns.as_mut()
            && Arc::strong_count(&self.line) == 2
        {
            // Only the map and this place hold the line: nobody is waiting.
            map.remove(&self.caller);
        }
    }
}

/// Candles when `limit` is omitted: about a week of hourly candles, each
/// still several pixels wide on a phone.
pub const DEFAULT_LIMIT: u16 = 200;
/// Most candles per chart: at the widest picture (2400 px) about one pixel
/// each, the most a chart can show; narrower pictures draw them thinner.
pub const MAX_LIMIT: u16 = 2000;
/// Overlays when `overlays` is omitted: a short and a medium trend line.
pub const DEFAULT_OVERLAYS: [&str; 2] = ["ema:20", "ema:50"];

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BinanceChartArgs {
    pub symbol: SymbolArg,
    #[serde(default)]
    pub interval: IntervalArg,
    #[serde(default)]
    pub market: MarketArg,
    #[serde(default)]
    pub price: PriceArg,
    /// Candles to draw, the most recent ones. Default 200, at most 2000
    /// (fetched in pages of 1000).
    #[serde(default)]
    pub limit: Limit<1, MAX_LIMIT, DEFAULT_LIMIT>,
    /// Lines over the candles: `sma:N`, `ema:N`, `wma:N`, `bbands:N,K`. At
    /// most 6. Default `["ema:20", "ema:50"]`; `[]` draws none.
    #[serde(default)]
    pub overlays: Option<Vec<String>>,
    /// Indicator pane under the price: `rsi:N` or `macd:FAST,SLOW,SIGNAL`
    /// (bare `rsi` and `macd` use 14 and 12,26,9). Default none.
    #[serde(default)]
    pub pane: Option<String>,
    /// `dark` (default) or `light`.
    #[serde(default)]
    pub theme: ChartTheme,
    /// Picture width in pixels, 480 to 2400. Default 1200.
    #[serde(default)]
    pub width: Width,
    /// Picture height in pixels, 320 to 1600. Default 800.
    #[serde(default)]
    pub height: Height,
}

// The picture's bounds are u32 for the renderer; every one fits a u16.
type Width = Limit<{ MIN_WIDTH as u16 }, { MAX_WIDTH as u16 }, { DEFAULT_WIDTH as u16 }>;
type Height = Limit<{ MIN_HEIGHT as u16 }, { MAX_HEIGHT as u16 }, { DEFAULT_HEIGHT as u16 }>;

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChartTheme {
    #[default]
    Dark,
    Light,
}

/// What the picture shows, in words and numbers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BinanceChartOutput {
    pub symbol: String,
    pub interval: String,
    #[serde(flatten)]
    pub series: SeriesFields,
    /// Candles drawn.
    pub candles: usize,
    /// Open time (Unix ms) of the first and last candle drawn.
    pub first_open_time: i64,
    pub last_open_time: i64,
    /// First candle's open and last candle's close, as Binance reported them.
    pub first_open: String,
    pub last_close: String,
    /// Change from `first_open` to `last_close` in percent, 2 decimals.
    pub change_percent: Option<String>,
    /// Highest high and lowest low of the window.
    pub high: String,
    pub low: String,
    /// Overlays drawn, as canonical specs.
    pub overlays: Vec<String>,
    /// Pane drawn, if any.
    pub pane: Option<String>,
    pub theme: ChartTheme,
    pub width: u32,
    pub height: u32,
    #[serde(flatten)]
    pub freshness: SeriesFreshness,
    #[serde(flatten)]
    pub gaps: GapFields,
}

impl Tool for BinanceChart {
    type Args = BinanceChartArgs;
    type Output = BinanceChartOutput;

    const NAME: &'static str = "binance_chart";
    const TITLE: &'static str = "Binance candlestick chart";
    const SUMMARY: &'static str =
        "A PNG candlestick chart with volume, overlays and an RSI or MACD pane.";
    const DESCRIPTION: &'static str = "Draw a candlestick chart (PNG image) of a Binance spot market's most \
recent candles (or with market \"usdm\" its USD-M perpetual's trade, mark, index or premium prices; up to 2000 \
candles), with volume bars, optional overlays (\"sma:20\", \"ema:50\", \"bbands:20,2\"; default ema:20 \
and ema:50) and an optional pane (\"rsi:14\" or \"macd:12,26,9\"). Dark or light theme. Returns the image \
and a summary (range, last close, change %, what was drawn). Show the image to the user; for exact \
indicator values use technical_analysis.";
    const OPEN_WORLD: bool = true;

    async fn call(
        &self,
        ctx: &ToolContext,
        args: BinanceChartArgs,
    ) -> Result<Reply<BinanceChartOutput>, ToolError> {
        let source = Source::new(args.symbol.clone(), args.interval, args.market, args.price)?;
        let overlays = parse_overlays(args.overlays.as_deref())?;
        let pane = parse_pane(args.pane.as_deref())?;
        let candles = candles::fetch(ctx, &source, args.limit.0).await?;
        let freshness = SeriesFreshness::of(&candles.klines, &ctx.binance);
        let summary = summarise(&candles, &overlays, pane, &args, freshness);
        let png = render(&ctx.caller, candles, overlays, pane, &args).await?;
        Ok(Reply {
            value: summary,
            leading: vec![Content::Image {
                data: STANDARD.encode(png),
                mime_type: "image/png".to_owned(),
            }],
            meta: None,
        })
    }
}

fn parse_overlays(requested: Option<&[String]>) -> Result<Vec<IndicatorSpec>, ToolError> {
    let default: Vec<String>;
    let requested = match requested {
        Some(list) => list,
        None => {
            default = DEFAULT_OVERLAYS.map(str::to_owned).to_vec();
            &default
        }
    };
    if requested.len() > chart::MAX_OVERLAYS {
        return Err(ToolError::invalid_arguments(format!(
            "`overlays` must list at most {} lines; got {}.",
            chart::MAX_OVERLAYS,
            requested.len()
        )));
    }
    requested
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let spec = IndicatorSpec::parse(text)
                .map_err(|e| ToolError::invalid_arguments(format!("`overlays[{i}]`: {e}")))?;
            if spec.is_moving_average() || matches!(spec, IndicatorSpec::Bbands { .. }) {
                Ok(spec)
            } else {
                Err(ToolError::invalid_arguments(format!(
                    "`overlays[{i}]`: {spec} cannot be drawn over prices: overlays are sma:N, ema:N, wma:N or bbands:N,K (use `pane` for rsi or macd)."
                )))
            }
        })
        .collect()
}

fn parse_pane(requested: Option<&str>) -> Result<Option<IndicatorSpec>, ToolError> {
    let Some(text) = requested.filter(|t| !t.trim().eq_ignore_ascii_case("none")) else {
        return Ok(None);
    };
    let spec = IndicatorSpec::parse(text)
        .map_err(|e| ToolError::invalid_arguments(format!("`pane`: {e}")))?;
    match spec {
        IndicatorSpec::Rsi(_) | IndicatorSpec::Macd { .. } => Ok(Some(spec)),
        _ => Err(ToolError::invalid_arguments(format!(
            "`pane` {spec} is not a pane: use rsi:N, macd:FAST,SLOW,SIGNAL or none."
        ))),
    }
}

fn summarise(
    candles: &Candles,
    overlays: &[IndicatorSpec],
    pane: Option<IndicatorSpec>,
    args: &BinanceChartArgs,
    freshness: SeriesFreshness,
) -> BinanceChartOutput {
    let klines = &candles.klines.value;
    let first = klines.first();
    let last = klines.last();
    let open = first.map(|k| k.open).unwrap_or_default();
    let close = last.map(|k| k.close).unwrap_or_default();
    let change_percent = (close - open)
        .checked_div(open)
        .and_then(|ratio| ratio.checked_mul(Decimal::ONE_HUNDRED))
        .map(|pct| pct.round_dp(2).to_string());
    let high = klines.iter().map(|k| k.high).max().unwrap_or_default();
    let low = klines.iter().map(|k| k.low).min().unwrap_or_default();
    BinanceChartOutput {
        symbol: candles.source.symbol.to_string(),
        interval: candles.source.interval.to_string(),
        series: candles.source.series_fields(),
        candles: klines.len(),
        first_open_time: first.map_or(0, |k| k.open_time),
        last_open_time: last.map_or(0, |k| k.open_time),
        first_open: open.to_string(),
        last_close: close.to_string(),
        change_percent,
        high: high.to_string(),
        low: low.to_string(),
        overlays: overlays.iter().map(ToString::to_string).collect(),
        pane: pane.map(|p| p.to_string()),
        theme: args.theme,
        width: u32::from(args.width.0),
        height: u32::from(args.height.0),
        freshness,
        gaps: GapFields::of(klines, candles.source.interval),
    }
}

/// Computes the series and renders off the async threads.
async fn render(
    caller: &CallerKey,
    candles: Candles,
    overlays: Vec<IndicatorSpec>,
    pane: Option<IndicatorSpec>,
    args: &BinanceChartArgs,
) -> Result<Vec<u8>, ToolError> {
    let title = match candles.source.series.price() {
        Price::Trade if candles.source.series.market() == Market::Spot => {
            format!("{} · {}", candles.source.symbol, candles.source.interval)
        }
        price => format!(
            "{} {} · {}",
            candles.source.symbol,
            match price {
                Price::Trade => "perp",
                Price::Mark => "mark",
                Price::Index => "index",
                Price::Premium => "premium",
            },
            candles.source.interval
        ),
    };
    let interval_ms = candles.source.interval.duration_ms();
    let theme = match args.theme {
        ChartTheme::Dark => Theme::Dark,
        ChartTheme::Light => Theme::Light,
    };
    let (width, height) = (u32::from(args.width.0), u32::from(args.height.0));
    let job = move || {
        let bars = &candles.bars;
        let spec = ChartSpec {
            title,
            bars,
            interval_ms,
            overlays: overlays.iter().map(|o| overlay(o, bars)).collect(),
            pane: pane.and_then(|p| pane_series(p, bars)),
            theme,
            width,
            height,
        };
        chart::render_png(&spec)
    };
    let _turn = CallerTurn::take(caller).await?;
    let _slot = render_slot().await?;
    match tokio::task::spawn_blocking(job).await {
        Ok(Ok(png)) => Ok(png),
        Ok(Err(chart::ChartError::Render(detail))) => {
            Err(ToolError::internal(format!("rendering failed: {detail}")))
        }
        Ok(Err(bad_input)) => Err(ToolError::invalid_arguments(format!(
            "the chart could not be drawn: {bad_input}."
        ))),
        Err(error) => Err(ToolError::internal(format!(
            "the renderer stopped: {error}"
        ))),
    }
}

/// A place among the renders running at once, waited for up to
/// [`RENDER_WAIT`].
async fn render_slot() -> Result<SemaphorePermit<'static>, ToolError> {
    match tokio::time::timeout(RENDER_WAIT, RENDERS.acquire()).await {
        Ok(Ok(slot)) => Ok(slot),
        // The semaphore is never closed, so only the wait can fail.
        Ok(Err(_)) | Err(_) => Err(ToolError::busy(format!(
            "The chart renderer is busy with other charts; try again in a few seconds (waited {} s).",
            RENDER_WAIT.as_secs()
        ))),
    }
}

fn overlay(spec: &IndicatorSpec, bars: &[Bar]) -> Overlay {
    // "SMA 20", "BB 20 2": short enough for a one-row legend on a phone.
    let label = spec
        .to_string()
        .to_ascii_uppercase()
        .replace("BBANDS", "BB")
        .replace([':', ','], " ");
    let mut lines = spec.compute(bars).into_iter().map(|l| l.values);
    let kind = match (lines.next(), lines.next(), lines.next()) {
        (Some(upper), Some(middle), Some(lower)) => OverlayKind::Band {
            upper,
            middle,
            lower,
        },
        (line, _, _) => OverlayKind::Line(line.unwrap_or_default()),
    };
    Overlay { label, kind }
}

fn pane_series(spec: IndicatorSpec, bars: &[Bar]) -> Option<Pane> {
    let mut lines = spec.compute(bars).into_iter().map(|l| l.values);
    match spec {
        IndicatorSpec::Rsi(period) => Some(Pane::Rsi {
            period,
            values: lines.next()?,
        }),
        IndicatorSpec::Macd { .. } => Some(Pane::Macd {
            macd: lines.next()?,
            signal: lines.next()?,
            histogram: lines.next()?,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn renders_past_the_limit_wait_then_get_a_clear_error() {
        let mut held = Vec::new();
        for _ in 0..MAX_CONCURRENT_RENDERS {
            held.push(render_slot().await.expect("a free slot"));
        }
        let started = tokio::time::Instant::now();
        let Err(error) = render_slot().await else {
            panic!("a render past the limit must not start");
        };
        assert!(error.to_string().contains("busy"), "{error}");
        assert_eq!(started.elapsed(), RENDER_WAIT);
        // A finished render lets the next one in.
        held.pop();
        assert!(render_slot().await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_callers_charts_take_turns_without_holding_up_others() {
        let alice = CallerKey::ip("10.0.0.1");
        let first = CallerTurn::take(&alice).await.expect("alice's first chart");
        let started = tokio::time::Instant::now();
        let Err(error) = CallerTurn::take(&alice).await else {
            panic!("alice's second chart must wait for her first");
        };
        assert!(error.to_string().contains("previous charts"), "{error}");
        assert_eq!(started.elapsed(), RENDER_WAIT);
        let bob = CallerTurn::take(&CallerKey::ip("10.0.0.2")).await;
        assert!(bob.is_ok(), "others are not held up");
        drop(bob);
        let waiting = tokio::spawn({
            let alice = alice.clone();
            async move { CallerTurn::take(&alice).await.map(drop) }
        });
        tokio::task::yield_now().await;
        drop(first);
        assert!(waiting.await.expect("joined").is_ok(), "next in line");
        let turns = TURNS.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(
            turns.as_ref().is_none_or(HashMap::is_empty),
            "no entry outlives its caller's charts"
        );
    }
}
