//! PNG candlestick charts, rendered in-process for the `binance_chart` tool.
//!
//! [`render_png`] draws candles, volume, overlay lines or bands, and an
//! optional RSI or MACD pane, then encodes the picture as PNG. Indicator math
//! lives in `indicators`; this module only draws series it is handed, after
//! checking that they line up with the bars and hold finite numbers.
//!
//! Two decisions shape it:
//! - We rasterise straight into an RGB buffer (anti-aliased strokes through a
//!   coverage mask, text through `ab_glyph` from an embedded DejaVu Sans) and
//!   encode with `png`, rather than going through `plotters`. Its `ab_glyph`
//!   text backend puts the baseline half a font size below the anchor, so
//!   labels drift off their ticks; its bitmap lines are aliased; and the UTC
//!   time axis (gaps, calendar-aligned ticks) needs our own logic either way.
//!   What we would keep from it (rectangles and lines) is a few dozen lines
//!   here, and the build needs two small crates, no system fonts, browser or
//!   network.
//! - The x axis is time, not bar index. A missing candle leaves a visible gap
//!   and overlay lines break across it, so an exchange outage is not silently
//!   stitched over.

use std::fmt;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};

use super::indicators::Bar;

/// Most candles a chart takes. Past ~2000 a candle is narrower than a pixel
/// at the largest size, so more bars add render time and no information.
pub const MAX_BARS: usize = 2_000;
/// Largest picture. It bounds the RGB buffer (about 11 MiB) and the PNG that
/// travels base64-encoded inside a JSON-RPC response; a phone shows no more.
pub const MAX_WIDTH: u32 = 2_400;
/// See [`MAX_WIDTH`].
pub const MAX_HEIGHT: u32 = 1_600;
/// Smallest picture. Below this the title, legend and axes no longer fit
/// beside a readable plot at the minimum font size.
pub const MIN_WIDTH: u32 = 480;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u32 = 320;
/// Suggested size. At 1200 wide the base font is 18 px (a 15.5 px em), so
/// labels stay legible when a phone scales the picture to its screen, and
/// 500 candles still get two pixels each.
pub const DEFAULT_WIDTH: u32 = 1_200;
/// See [`DEFAULT_WIDTH`].
pub const DEFAULT_HEIGHT: u32 = 800;
/// Most overlays: the legend is one row, and more lines than this turn the
/// price panel into noise.
pub const MAX_OVERLAYS: usize = 6;
/// Longest title in characters; longer text would be cut off anyway.
pub const MAX_TITLE_CHARS: usize = 80;
/// Longest overlay label in characters, so the legend row stays one row.
pub const MAX_LABEL_CHARS: usize = 24;
/// Longest candle interval. Binance's longest is one month; a year leaves
/// room and keeps time arithmetic far from overflow.
pub const MAX_INTERVAL_MS: i64 = 366 * DAY_MS;

/// Largest magnitude of any price, volume or indicator value. It is far past
/// any market's numbers and keeps every difference of two values finite, so
/// pixel math never meets infinity or NaN.
const MAX_ABS_VALUE: f64 = 1e18;

/// Latest accepted open time (9999-12-31 23:59:59.999 UTC): dates in labels
/// and the title are printed with four-digit years.
const MAX_OPEN_TIME_MS: i64 = 253_402_300_799_999;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// DejaVu Sans (license in `assets/fonts/LICENSE-DejaVu.txt`), embedded so
/// rendering never depends on what fonts the host has installed.
static FONT_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Cap height of DejaVu Sans as a share of the `ab_glyph` pixel scale
/// (1493 / (1901 + 483) font units); used to centre text on a point.
const CAP_HEIGHT: f32 = 0.626;

/// Everything a chart shows. Series in overlays and the pane are aligned with
/// `bars` (same length, `None` where an indicator is still warming up).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec<'a> {
    /// Shown as the heading, e.g. `"BTCUSDT · 1h"`.
    pub title: String,
    /// Candles, oldest first, with strictly increasing `open_time`.
    pub bars: &'a [Bar],
    /// Candle length in milliseconds; sets candle width and gap detection.
    pub interval_ms: i64,
    pub overlays: Vec<Overlay>,
    pub pane: Option<Pane>,
    pub theme: Theme,
    pub width: u32,
    pub height: u32,
}

/// A series drawn over the candles and named in the legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// Legend text, e.g. `"SMA 20"`.
    pub label: String,
    pub kind: OverlayKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OverlayKind {
    /// One line, e.g. a moving average.
    Line(Vec<Option<f64>>),
    /// A shaded channel with a centre line, e.g. Bollinger bands.
    Band {
        upper: Vec<Option<f64>>,
        middle: Vec<Option<f64>>,
        lower: Vec<Option<f64>>,
    },
}

/// The indicator pane under the price panel.
#[derive(Debug, Clone, PartialEq)]
pub enum Pane {
    /// RSI on a fixed 0–100 scale with 30/70 guides.
    Rsi {
        period: usize,
        values: Vec<Option<f64>>,
    },
    /// MACD and signal lines over a histogram, around a zero line.
    Macd {
        macd: Vec<Option<f64>>,
        signal: Vec<Option<f64>>,
        histogram: Vec<Option<f64>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    #[default]
    Dark,
    Light,
}

/// Why a chart could not be drawn. Every variant but [`ChartError::Render`]
/// describes bad input and its message is safe to show to the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum ChartError {
    NoBars,
    TooManyBars {
        got: usize,
    },
    Dimensions {
        width: u32,
        height: u32,
    },
    Interval(i64),
    TooManyOverlays {
        got: usize,
    },
    LabelTooLong {
        max: usize,
    },
    /// `open_time` out of range or not strictly after the previous bar's.
    BadTime {
        index: usize,
    },
    /// A bar with a non-finite or absurdly large value, negative volume or high/low that do not
    /// contain open and close.
    BadBar {
        index: usize,
    },
    SeriesLength {
        series: String,
        expected: usize,
        got: usize,
    },
    /// An overlay or pane value that is NaN, infinite or beyond 1e18.
    BadValue {
        series: String,
        index: usize,
    },
    /// Font or PNG encoder failure: a bug here, not bad input.
    Render(String),
}

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoBars => write!(f, "no candles to chart"),
            Self::TooManyBars { got } => {
                write!(f, "{got} candles exceed the chart limit of {MAX_BARS}")
            }
            Self::Dimensions { width, height } => write!(
                f,
                "chart size {width}x{height} is outside \
                 {MIN_WIDTH}x{MIN_HEIGHT}..={MAX_WIDTH}x{MAX_HEIGHT}"
            ),
            Self::Interval(ms) => write!(
                f,
                "candle interval {ms} ms is outside 1..={MAX_INTERVAL_MS} ms"
            ),
            Self::TooManyOverlays { got } => {
                write!(f, "{got} overlays exceed the limit of {MAX_OVERLAYS}")
            }
            Self::LabelTooLong { max } => {
                write!(f, "a title or label is longer than {max} characters")
            }
            Self::BadTime { index } => write!(
                f,
                "candle {index} has an open time out of range or not after the previous candle"
            ),
            Self::BadBar { index } => write!(
                f,
                "candle {index} has a non-finite or out-of-range value, negative volume or high/low not containing open/close"
            ),
            Self::SeriesLength {
                series,
                expected,
                got,
            } => write!(
                f,
                "series {series:?} has {got} values but there are {expected} candles"
            ),
            Self::BadValue { series, index } => {
                write!(
                    f,
                    "series {series:?} has a non-finite or out-of-range value at {index}"
                )
            }
            Self::Render(msg) => write!(f, "chart rendering failed: {msg}"),
        }
    }
}

impl std::error::Error for ChartError {}

/// Renders `spec` as an RGB PNG of exactly `spec.width` × `spec.height`.
///
/// Input is checked first and refused with a [`ChartError`] the caller can
/// show. Rendering is pure CPU work of a few milliseconds (7–11 ms for 500
/// candles at the default size in release), so an async handler should still
/// run it on `spawn_blocking` rather than on the runtime's threads.
pub fn render_png(spec: &ChartSpec) -> Result<Vec<u8>, ChartError> {
    validate(spec)?;
    let font = FontRef::try_from_slice(FONT_TTF)
        .map_err(|_| ChartError::Render("embedded font does not parse".into()))?;
    let palette = Palette::for_theme(spec.theme);
    let mut painter = Painter {
        canvas: Canvas::new(spec.width, spec.height, palette.bg),
        font,
        pal: palette,
    };
    draw_chart(&mut painter, spec);
    encode_png(&painter.canvas)
}

// ---------------------------------------------------------------------------
// Validation

fn validate(spec: &ChartSpec) -> Result<(), ChartError> {
    let (w, h) = (spec.width, spec.height);
    if !(MIN_WIDTH..=MAX_WIDTH).contains(&w) || !(MIN_HEIGHT..=MAX_HEIGHT).contains(&h) {
        return Err(ChartError::Dimensions {
            width: w,
            height: h,
        });
    }
    let bars = spec.bars;
    if bars.is_empty() {
        return Err(ChartError::NoBars);
    }
    if bars.len() > MAX_BARS {
        return Err(ChartError::TooManyBars { got: bars.len() });
    }
    if !(1..=MAX_INTERVAL_MS).contains(&spec.interval_ms) {
        return Err(ChartError::Interval(spec.interval_ms));
    }
    if spec.title.chars().count() > MAX_TITLE_CHARS {
        return Err(ChartError::LabelTooLong {
            max: MAX_TITLE_CHARS,
        });
    }
    let mut prev_time = None;
    for (index, bar) in bars.iter().enumerate() {
        let after_prev = prev_time.is_none_or(|p| bar.open_time > p);
        if !(0..=MAX_OPEN_TIME_MS).contains(&bar.open_time) || !after_prev {
            return Err(ChartError::BadTime { index });
        }
        prev_time = Some(bar.open_time);
        let values = [bar.open, bar.high, bar.low, bar.close, bar.volume];
        let consistent = bar.low <= bar.open.min(bar.close)
            && bar.high >= bar.open.max(bar.close)
            && bar.volume >= 0.0;
        if !values.into_iter().all(plottable) || !consistent {
            return Err(ChartError::BadBar { index });
        }
    }
    if spec.overlays.len() > MAX_OVERLAYS {
        return Err(ChartError::TooManyOverlays {
            got: spec.overlays.len(),
        });
    }
    for overlay in &spec.overlays {
        if overlay.label.chars().count() > MAX_LABEL_CHARS {
            return Err(ChartError::LabelTooLong {
                max: MAX_LABEL_CHARS,
            });
        }
        match &overlay.kind {
            OverlayKind::Line(values) => check_series(&overlay.label, values, bars.len())?,
            OverlayKind::Band {
                upper,
                middle,
                lower,
            } => {
                for (part, values) in [("upper", upper), ("middle", middle), ("lower", lower)] {
                    let name = format!("{} {part}", overlay.label);
                    check_series(&name, values, bars.len())?;
                }
            }
        }
    }
    match &spec.pane {
        None => {}
        Some(Pane::Rsi { values, .. }) => check_series("RSI", values, bars.len())?,
        Some(Pane::Macd {
            macd,
            signal,
            histogram,
        }) => {
            check_series("MACD", macd, bars.len())?;
            check_series("MACD signal", signal, bars.len())?;
            check_series("MACD histogram", histogram, bars.len())?;
        }
    }
    Ok(())
}

/// Finite and within [`MAX_ABS_VALUE`].
fn plottable(v: f64) -> bool {
    v.is_finite() && v.abs() <= MAX_ABS_VALUE
}

fn check_series(name: &str, values: &[Option<f64>], expected: usize) -> Result<(), ChartError> {
    if values.len() != expected {
        return Err(ChartError::SeriesLength {
            series: name.to_string(),
            expected,
            got: values.len(),
        });
    }
    match values.iter().position(|v| v.is_some_and(|v| !plottable(v))) {
        Some(index) => Err(ChartError::BadValue {
            series: name.to_string(),
            index,
        }),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// Layout and drawing

type Rgb = [u8; 3];

struct Palette {
    bg: Rgb,
    grid: Rgb,
    border: Rgb,
    text: Rgb,
    muted: Rgb,
    up: Rgb,
    down: Rgb,
    /// Text drawn on an up/down coloured tag.
    on_tag: Rgb,
    overlays: [Rgb; MAX_OVERLAYS],
    rsi: Rgb,
    macd: Rgb,
    signal: Rgb,
    /// Opacity of volume bars; lower on white, where colour reads stronger.
    volume_alpha: f32,
}

impl Palette {
    fn for_theme(theme: Theme) -> Self {
        match theme {
            Theme::Dark => Self {
                bg: [19, 23, 34],
                grid: [36, 41, 54],
                border: [70, 75, 90],
                text: [220, 223, 230],
                muted: [140, 144, 156],
                up: [38, 166, 154],
                down: [239, 83, 80],
                on_tag: [255, 255, 255],
                overlays: [
                    [255, 183, 77],
                    [66, 165, 245],
                    [206, 147, 216],
                    [77, 208, 225],
                    [240, 98, 146],
                    [174, 213, 129],
                ],
                rsi: [179, 157, 219],
                macd: [66, 165, 245],
                signal: [255, 152, 0],
                volume_alpha: 0.35,
            },
            Theme::Light => Self {
                bg: [255, 255, 255],
                grid: [236, 238, 243],
                border: [190, 194, 204],
                text: [19, 23, 34],
                muted: [100, 104, 116],
                up: [8, 153, 129],
                down: [242, 54, 69],
                on_tag: [255, 255, 255],
                overlays: [
                    [239, 108, 0],
                    [30, 136, 229],
                    [142, 36, 170],
                    [0, 151, 167],
                    [216, 27, 96],
                    [104, 159, 56],
                ],
                rsi: [126, 87, 194],
                macd: [30, 136, 229],
                signal: [239, 108, 0],
                volume_alpha: 0.28,
            },
        }
    }
}

/// An axis-aligned box in pixel coordinates; `x1`/`y1` are exclusive.
#[derive(Debug, Clone, Copy)]
struct Area {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

impl Area {
    fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self { x0, y0, x1, y1 }
    }
}

/// Maps time and values of one panel to pixels.
#[derive(Clone, Copy)]
struct Scale {
    area: Area,
    t0: i64,
    px_per_ms: f64,
    /// Value at `v_y0` and `v_y1`: the vertical mapping is linear between.
    v_lo: f64,
    v_hi: f64,
    v_y0: f32,
    v_y1: f32,
}

impl Scale {
    /// Centre of the candle that opens at `t`.
    fn x(&self, t: i64, interval_ms: i64) -> f32 {
        let offset = (t - self.t0) as f64 + interval_ms as f64 / 2.0;
        self.area.x0 + (offset * self.px_per_ms) as f32
    }
    fn y(&self, v: f64) -> f32 {
        let frac = (v - self.v_lo) / (self.v_hi - self.v_lo);
        self.v_y1 - (frac as f32) * (self.v_y1 - self.v_y0)
    }
}

/// Horizontal geometry shared by every panel.
struct Columns {
    /// Candle body width in whole pixels (odd when wider than 2, so the wick
    /// sits on its centre).
    body: i32,
    /// Wick width in whole pixels.
    wick: i32,
}

struct Painter<'f> {
    canvas: Canvas,
    font: FontRef<'f>,
    pal: Palette,
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Center,
    Right,
}

fn draw_chart(p: &mut Painter, spec: &ChartSpec) {
    let bars = spec.bars;
    let (w, h) = (spec.width as f32, spec.height as f32);
    // One base size drives every font and gap, so a larger canvas scales as a
    // whole. 18 px at 1200 wide keeps labels legible when a phone shrinks it.
    let f = (w.min(h * 1.5) / DEFAULT_WIDTH as f32 * 18.0).clamp(14.0, 34.0);
    let pad = (f * 0.9).round();
    let first = bars[0];
    let last = bars[bars.len() - 1];

    // Vertical layout: header, main panel (price over a volume strip), the
    // optional pane, time labels.
    let top = draw_header(p, spec, f, pad);
    let x_label_h = f * 1.7;
    let bottom = h - pad * 0.6 - x_label_h;
    let gap = f * 0.7;
    let avail = bottom - top;
    let pane_h = match spec.pane {
        Some(_) => ((avail - gap) * 0.27).round(),
        None => 0.0,
    };
    let main_y1 = match spec.pane {
        Some(_) => bottom - gap - pane_h,
        None => bottom,
    };
    let volume_y0 = main_y1 - (main_y1 - top) * 0.18;
    let price_y0 = top + f * 0.8;
    let price_y1 = volume_y0 - f * 0.3;

    let (lo, hi) = price_range(spec);
    let price_step = nice_step(hi - lo, ((price_y1 - price_y0) / (f * 3.2)).max(2.0));
    let price_decs = decimals_for_step(price_step);
    let price_ticks: Vec<(f64, String)> = ticks(lo, hi, price_step)
        .into_iter()
        .map(|v| (v, format_number(v, price_decs)))
        .collect();
    let pane_ticks = spec
        .pane
        .as_ref()
        .map(|pane| pane_range_and_ticks(pane, pane_h, f));
    let tag_text = format_number(last.close, price_decimals(last.close));

    // The price axis is as wide as its longest label, last-price tag included.
    let mut axis_w = p.measure(f, &tag_text) + f * 0.8;
    let pane_labels = pane_ticks.iter().flat_map(|(_, _, labels)| labels);
    for (_, label) in price_ticks.iter().chain(pane_labels) {
        axis_w = axis_w.max(p.measure(f, label));
    }
    axis_w += f * 1.2;

    // Horizontal layout: x is time, one slot per interval from the first
    // open to the last close.
    let plot_x0 = pad * 0.6;
    let plot_x1 = (w - axis_w).round();
    let t0 = first.open_time;
    let span = (last.open_time - t0) + spec.interval_ms;
    let px_per_ms = f64::from(plot_x1 - plot_x0) / span as f64;
    let slot = (spec.interval_ms as f64 * px_per_ms) as f32;
    let body = (slot * 0.72).floor().max(1.0) as i32;
    let cols = Columns {
        body: if body > 2 && body % 2 == 0 {
            body - 1
        } else {
            body
        },
        wick: if slot >= 14.0 { 2 } else { 1 },
    };
    let main = Scale {
        area: Area::new(plot_x0, top, plot_x1, main_y1),
        t0,
        px_per_ms,
        v_lo: lo,
        v_hi: hi,
        v_y0: price_y0,
        v_y1: price_y1,
    };
    // Ticks are spaced so that the widest label plus a gap fits.
    let min_spacing = p.measure(f, "Jan 30") + f * 2.5;
    let time_ticks = time_ticks(t0, t0 + span, px_per_ms, f64::from(min_spacing));
    let time_xs: Vec<(f32, i64)> = time_ticks
        .ticks
        .iter()
        .map(|&t| (plot_x0 + ((t - t0) as f64 * px_per_ms) as f32, t))
        .collect();

    // Main panel. Price labels the last-price tag would cover are left out.
    let tag_y = main.y(last.close).round();
    let tag_h = f * 1.35;
    draw_grid(p, &main, &time_xs, &price_ticks, f, |y| {
        y <= price_y1 + f * 0.3 && (y - tag_y).abs() > tag_h / 2.0 + f * 0.7
    });
    draw_volume(p, spec, &main, &cols, volume_y0, f);
    for (i, overlay) in spec.overlays.iter().enumerate() {
        if let OverlayKind::Band { upper, lower, .. } = &overlay.kind {
            let color = p.pal.overlays[i % MAX_OVERLAYS];
            fill_band(p, spec, &main, upper, lower, color);
        }
    }
    draw_candles(p, spec, &main, &cols);
    let stroke = (f / 10.0).max(1.4);
    // Band lines go under plain lines, so a moving average equal to a band's
    // middle (SMA 20 inside Bollinger 20) keeps its own colour on top.
    let (bands, lines): (Vec<_>, Vec<_>) = spec
        .overlays
        .iter()
        .enumerate()
        .partition(|(_, o)| matches!(o.kind, OverlayKind::Band { .. }));
    for (i, overlay) in bands.into_iter().chain(lines) {
        let color = p.pal.overlays[i % MAX_OVERLAYS];
        match &overlay.kind {
            OverlayKind::Line(values) => stroke_series(p, spec, &main, values, stroke, color, 1.0),
            OverlayKind::Band {
                upper,
                middle,
                lower,
            } => {
                let thin = stroke * 0.75;
                stroke_series(p, spec, &main, upper, thin, color, 0.85);
                stroke_series(p, spec, &main, lower, thin, color, 0.85);
                stroke_series(p, spec, &main, middle, thin, color, 0.55);
            }
        }
    }
    draw_last_price(p, &main, last, &tag_text, (tag_y, tag_h), f);
    let border = p.pal.border;
    p.canvas.frame(main.area, border);

    // Indicator pane, on the same time scale.
    let mut lowest = main.area;
    if let (Some(pane), Some((v_lo, v_hi, labels))) = (&spec.pane, &pane_ticks) {
        let area = Area::new(plot_x0, bottom - pane_h, plot_x1, bottom);
        let scale = Scale {
            area,
            v_lo: *v_lo,
            v_hi: *v_hi,
            v_y0: area.y0 + f * 0.5,
            v_y1: area.y1 - f * 0.5,
            ..main
        };
        draw_grid(p, &scale, &time_xs, labels, f, |_| true);
        draw_pane(p, spec, pane, &scale, &cols, f, stroke);
        p.canvas.frame(area, border);
        lowest = area;
    }
    draw_time_labels(
        p,
        &time_ticks,
        &time_xs,
        lowest.y1,
        x_label_h,
        f,
        w - pad * 0.3,
    );
}

/// Title, time range and last price, then the legend row. Returns where the
/// panels may start.
fn draw_header(p: &mut Painter, spec: &ChartSpec, f: f32, pad: f32) -> f32 {
    let w = spec.width as f32;
    let (first, last) = (spec.bars[0], spec.bars[spec.bars.len() - 1]);
    let title_size = f * 1.45;
    let title_base = pad + title_size * CAP_HEIGHT;
    let sub_base = title_base + f * (1.1 + CAP_HEIGHT);

    // Last close and its change over the charted range, on the right.
    let change = if first.open != 0.0 {
        (last.close / first.open - 1.0) * 100.0
    } else {
        0.0
    };
    let last_text = format!(
        "{}  {change:+.2}%",
        format_number(last.close, price_decimals(last.close))
    );
    let last_color = if change >= 0.0 { p.pal.up } else { p.pal.down };
    let last_size = title_size * 0.8;
    let last_w = p.measure(last_size, &last_text);
    p.text(
        last_size,
        w - pad,
        title_base,
        Align::Right,
        last_color,
        &last_text,
    );

    let title = fit_text(p, title_size, &spec.title, w - 2.0 * pad - last_w - f);
    let text_color = p.pal.text;
    p.text(title_size, pad, title_base, Align::Left, text_color, &title);

    let range = format!(
        "{} → {} UTC",
        format_datetime(first.open_time),
        format_datetime(last.open_time)
    );
    let range = fit_text(p, f, &range, w - 2.0 * pad);
    let muted = p.pal.muted;
    p.text(f, pad, sub_base, Align::Left, muted, &range);

    let top = sub_base + f * 0.8;
    if spec.overlays.is_empty() {
        return top + f * 0.4;
    }
    let last_row_mid = draw_legend(p, spec, pad, top + f * 0.9, f, w - pad);
    last_row_mid + f * 0.8
}

/// Lowest and highest value over candles and overlays, so bands are never
/// clipped; never an empty range.
fn price_range(spec: &ChartSpec) -> (f64, f64) {
    let (mut lo, mut hi) = spec.bars.iter().fold((f64::MAX, f64::MIN), |(lo, hi), b| {
        (lo.min(b.low), hi.max(b.high))
    });
    for overlay in &spec.overlays {
        for v in overlay_series(overlay).into_iter().flatten().flatten() {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
    }
    if hi - lo <= hi.abs() * 1e-9 {
        // A flat market still needs a non-zero range to map.
        let half = (hi.abs() * 0.01).max(1e-9);
        (lo - half, hi + half)
    } else {
        (lo, hi)
    }
}

/// Vertical lines at time ticks, horizontal lines at value ticks, and the
/// value labels right of the panel where `show_label(y)` allows.
fn draw_grid(
    p: &mut Painter,
    scale: &Scale,
    time_xs: &[(f32, i64)],
    value_ticks: &[(f64, String)],
    f: f32,
    show_label: impl Fn(f32) -> bool,
) {
    let area = scale.area;
    let (grid, muted) = (p.pal.grid, p.pal.muted);
    for &(x, _) in time_xs {
        let x = x.round();
        p.canvas
            .fill(Area::new(x, area.y0, x + 1.0, area.y1), area, grid, 1.0);
    }
    for (v, label) in value_ticks {
        let y = scale.y(*v).round();
        if y < area.y0 || y >= area.y1 || !show_label(y) {
            continue;
        }
        p.canvas
            .fill(Area::new(area.x0, y, area.x1, y + 1.0), area, grid, 1.0);
        p.text_centered(f, area.x1 + f * 0.6, y, Align::Left, muted, label);
    }
}

/// Dotted line at the last close and a tag with its price on the axis.
fn draw_last_price(
    p: &mut Painter,
    main: &Scale,
    last: Bar,
    text: &str,
    (y, tag_h): (f32, f32),
    f: f32,
) {
    let color = if last.close >= last.open {
        p.pal.up
    } else {
        p.pal.down
    };
    let area = main.area;
    p.canvas
        .dashed_hline((area.x0, area.x1), y, area, color, 0.7, (3, 3));
    let tag = Area::new(
        area.x1 + 1.0,
        (y - tag_h / 2.0).round(),
        area.x1 + p.measure(f, text) + f * 1.2,
        (y + tag_h / 2.0).round(),
    );
    let all = p.canvas.bounds();
    p.canvas.fill(tag, all, color, 1.0);
    let on_tag = p.pal.on_tag;
    p.text_centered(f, area.x1 + f * 0.6, y, Align::Left, on_tag, text);
}

/// Time labels under the lowest panel. A label that would collide with its
/// neighbour or run off the picture is skipped rather than overlapped.
fn draw_time_labels(
    p: &mut Painter,
    time_ticks: &TimeTicks,
    time_xs: &[(f32, i64)],
    y0: f32,
    height: f32,
    f: f32,
    max_x: f32,
) {
    let (border, muted) = (p.pal.border, p.pal.muted);
    let all = p.canvas.bounds();
    let mut prev_right = f32::MIN;
    for &(x, t) in time_xs {
        let label = time_ticks.label(t);
        let half = p.measure(f, &label) / 2.0;
        if x - half < prev_right + f || x - half < 0.0 || x + half > max_x {
            continue;
        }
        let x_px = x.round();
        p.canvas.fill(
            Area::new(x_px, y0, x_px + 1.0, y0 + f * 0.3),
            all,
            border,
            1.0,
        );
        p.text_centered(f, x, y0 + height * 0.5, Align::Center, muted, &label);
        prev_right = x + half;
    }
}

fn overlay_series(overlay: &Overlay) -> Vec<&[Option<f64>]> {
    match &overlay.kind {
        OverlayKind::Line(v) => vec![v],
        OverlayKind::Band {
            upper,
            middle,
            lower,
        } => vec![upper, middle, lower],
    }
}

/// Legend entries: a colour swatch, the label and its latest value, wrapping
/// onto further rows when needed. Returns the middle of the last row.
fn draw_legend(p: &mut Painter, spec: &ChartSpec, x0: f32, mid: f32, f: f32, max_x: f32) -> f32 {
    let size = f;
    let mut x = x0;
    let mut mid = mid;
    for (i, overlay) in spec.overlays.iter().enumerate() {
        let color = p.pal.overlays[i % MAX_OVERLAYS];
        let latest = match &overlay.kind {
            OverlayKind::Line(v) => v.iter().rev().flatten().next(),
            OverlayKind::Band { middle, .. } => middle.iter().rev().flatten().next(),
        };
        let value = latest
            .map(|v| format!(" {}", format_number(*v, price_decimals(*v))))
            .unwrap_or_default();
        let swatch = f * 1.1;
        let label_w = p.measure(size, &overlay.label);
        let value_w = p.measure(size, &value);
        if x > x0 && x + swatch + f * 0.4 + label_w + value_w > max_x {
            x = x0;
            mid += f * 1.6;
        }
        let area = p.canvas.bounds();
        let thick = (f / 7.0).round().max(2.0);
        p.canvas.fill(
            Area::new(
                x,
                (mid - thick / 2.0).round(),
                x + swatch,
                (mid - thick / 2.0).round() + thick,
            ),
            area,
            color,
            1.0,
        );
        x += swatch + f * 0.4;
        p.text_centered(size, x, mid, Align::Left, color, &overlay.label);
        x += label_w;
        let value_color = p.pal.text;
        p.text_centered(size, x, mid, Align::Left, value_color, &value);
        x += value_w + f * 1.4;
    }
    mid
}

fn draw_volume(
    p: &mut Painter,
    spec: &ChartSpec,
    scale: &Scale,
    cols: &Columns,
    strip_y0: f32,
    f: f32,
) {
    let max_volume = spec.bars.iter().map(|b| b.volume).fold(0.0, f64::max);
    if max_volume <= 0.0 {
        return;
    }
    let strip_h = f64::from(scale.area.y1 - strip_y0 - 1.0);
    let alpha = p.pal.volume_alpha;
    for bar in spec.bars {
        let height = (bar.volume / max_volume * strip_h) as f32;
        if height < 0.5 {
            continue;
        }
        let color = if bar.close >= bar.open {
            p.pal.up
        } else {
            p.pal.down
        };
        let x0 = (scale.x(bar.open_time, spec.interval_ms) - cols.body as f32 / 2.0).round();
        p.canvas.fill(
            Area::new(
                x0,
                (scale.area.y1 - height).round(),
                x0 + cols.body as f32,
                scale.area.y1,
            ),
            scale.area,
            color,
            alpha,
        );
    }
    let label = format!(
        "Vol {}",
        format_compact(spec.bars[spec.bars.len() - 1].volume)
    );
    let muted = p.pal.muted;
    p.label(
        f,
        scale.area.x0 + f * 0.4,
        strip_y0 + f * 0.5,
        muted,
        &label,
    );
}

fn draw_candles(p: &mut Painter, spec: &ChartSpec, scale: &Scale, cols: &Columns) {
    for bar in spec.bars {
        let color = if bar.close >= bar.open {
            p.pal.up
        } else {
            p.pal.down
        };
        let x0 = (scale.x(bar.open_time, spec.interval_ms) - cols.body as f32 / 2.0).round();
        let wick_x = x0 + ((cols.body - cols.wick) / 2) as f32;
        let (high, low) = (scale.y(bar.high).round(), scale.y(bar.low).round());
        p.canvas.fill(
            Area::new(wick_x, high, wick_x + cols.wick as f32, low.max(high + 1.0)),
            scale.area,
            color,
            1.0,
        );
        let top = scale.y(bar.open.max(bar.close)).round();
        let bottom = scale.y(bar.open.min(bar.close)).round().max(top + 1.0);
        p.canvas.fill(
            Area::new(x0, top, x0 + cols.body as f32, bottom),
            scale.area,
            color,
            1.0,
        );
    }
}

/// Anti-aliased line through the defined values, broken at `None` and
/// across missing candles.
fn stroke_series(
    p: &mut Painter,
    spec: &ChartSpec,
    scale: &Scale,
    values: &[Option<f64>],
    width: f32,
    color: Rgb,
    alpha: f32,
) {
    let mut mask = Mask::new(scale.area);
    let mut prev: Option<(i64, f32, f32)> = None;
    for (bar, value) in spec.bars.iter().zip(values) {
        let Some(v) = value else {
            prev = None;
            continue;
        };
        let point = (scale.x(bar.open_time, spec.interval_ms), scale.y(*v));
        if let Some((t, px, py)) = prev
            && !is_gap(bar.open_time - t, spec.interval_ms)
        {
            mask.segment((px, py), point, width / 2.0);
        }
        prev = Some((bar.open_time, point.0, point.1));
    }
    mask.composite(&mut p.canvas, color, alpha);
}

/// Consecutive bars further apart than one and a half intervals have
/// candles missing between them.
fn is_gap(delta_ms: i64, interval_ms: i64) -> bool {
    delta_ms > interval_ms + interval_ms / 2
}

/// Shades between two series, column by column, where both are defined.
fn fill_band(
    p: &mut Painter,
    spec: &ChartSpec,
    scale: &Scale,
    upper: &[Option<f64>],
    lower: &[Option<f64>],
    color: Rgb,
) {
    let mut prev: Option<(i64, f32, f32, f32)> = None;
    for ((bar, up), low) in spec.bars.iter().zip(upper).zip(lower) {
        let (Some(up), Some(low)) = (up, low) else {
            prev = None;
            continue;
        };
        let x = scale.x(bar.open_time, spec.interval_ms);
        let (yu, yl) = (scale.y(*up), scale.y(*low));
        if let Some((t, px, pu, pl)) = prev
            && !is_gap(bar.open_time - t, spec.interval_ms)
        {
            let (c0, c1) = (px.round() as i32, x.round() as i32);
            for c in c0..c1 {
                let k = (c as f32 - px) / (x - px);
                let top = pu + (yu - pu) * k;
                let bottom = pl + (yl - pl) * k;
                p.canvas.fill(
                    Area::new(
                        c as f32,
                        top.min(bottom).round(),
                        c as f32 + 1.0,
                        top.max(bottom).round(),
                    ),
                    scale.area,
                    color,
                    0.08,
                );
            }
        }
        prev = Some((bar.open_time, x, yu, yl));
    }
}

/// Value range and labelled ticks of the indicator pane.
type PaneTicks = (f64, f64, Vec<(f64, String)>);

fn pane_range_and_ticks(pane: &Pane, pane_h: f32, f: f32) -> PaneTicks {
    match pane {
        Pane::Rsi { .. } => (0.0, 100.0, vec![(30.0, "30".into()), (70.0, "70".into())]),
        Pane::Macd {
            macd,
            signal,
            histogram,
        } => {
            let (mut lo, mut hi) = (0.0f64, 0.0f64);
            for v in macd.iter().chain(signal).chain(histogram).flatten() {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
            if hi - lo <= f64::EPSILON {
                (lo, hi) = (-1.0, 1.0);
            }
            let step = nice_step(hi - lo, (pane_h / (f * 3.0)).clamp(2.0, 4.0));
            let decs = decimals_for_step(step);
            let labels = ticks(lo, hi, step)
                .into_iter()
                .map(|v| (v, format_number(v, decs)))
                .collect();
            (lo, hi, labels)
        }
    }
}

fn draw_pane(
    p: &mut Painter,
    spec: &ChartSpec,
    pane: &Pane,
    scale: &Scale,
    cols: &Columns,
    f: f32,
    stroke: f32,
) {
    let area = scale.area;
    let label_y = area.y0 + f * 0.85;
    let label_x = area.x0 + f * 0.4;
    let size = f;
    match pane {
        Pane::Rsi { period, values } => {
            let color = p.pal.rsi;
            let (y70, y30) = (scale.y(70.0), scale.y(30.0));
            p.canvas.fill(
                Area::new(area.x0, y70.round(), area.x1, y30.round()),
                area,
                color,
                0.07,
            );
            for y in [y70, y30] {
                p.canvas
                    .dashed_hline((area.x0, area.x1), y.round(), area, color, 0.6, (6, 4));
            }
            stroke_series(p, spec, scale, values, stroke, color, 1.0);
            let latest = values.iter().rev().flatten().next();
            let text = match latest {
                Some(v) => format!("RSI {period}  {v:.1}"),
                None => format!("RSI {period}"),
            };
            p.label(size, label_x, label_y, color, &text);
        }
        Pane::Macd {
            macd,
            signal,
            histogram,
        } => {
            let zero = scale.y(0.0).round();
            let border = p.pal.border;
            p.canvas.fill(
                Area::new(area.x0, zero, area.x1, zero + 1.0),
                area,
                border,
                1.0,
            );
            for (bar, value) in spec.bars.iter().zip(histogram) {
                let Some(v) = value else { continue };
                let color = if *v >= 0.0 { p.pal.up } else { p.pal.down };
                let x0 =
                    (scale.x(bar.open_time, spec.interval_ms) - cols.body as f32 / 2.0).round();
                let y = scale.y(*v).round();
                p.canvas.fill(
                    Area::new(x0, y.min(zero), x0 + cols.body as f32, y.max(zero)),
                    area,
                    color,
                    0.55,
                );
            }
            let (mc, sc) = (p.pal.macd, p.pal.signal);
            stroke_series(p, spec, scale, macd, stroke, mc, 1.0);
            stroke_series(p, spec, scale, signal, stroke, sc, 1.0);
            let latest = |s: &[Option<f64>]| s.iter().rev().flatten().next().copied();
            let mut x = label_x;
            let hist = latest(histogram);
            let hist_color = if hist.unwrap_or(0.0) >= 0.0 {
                p.pal.up
            } else {
                p.pal.down
            };
            for (name, value, color) in [
                ("MACD", latest(macd), mc),
                ("Signal", latest(signal), sc),
                ("Hist", hist, hist_color),
            ] {
                let text = match value {
                    Some(v) => format!("{name} {}", format_number(v, price_decimals(v))),
                    None => name.to_string(),
                };
                p.label(size, x, label_y, color, &text);
                x += p.measure(size, &text) + f;
            }
        }
    }
}

/// Shortens `text` with an ellipsis until it fits `max_w` pixels.
fn fit_text(p: &Painter, size: f32, text: &str, max_w: f32) -> String {
    if p.measure(size, text) <= max_w {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().chain(['…'].iter()).collect();
        if p.measure(size, &candidate) <= max_w {
            return candidate;
        }
    }
    String::new()
}

impl Painter<'_> {
    fn measure(&self, size: f32, text: &str) -> f32 {
        let font = self.font.as_scaled(PxScale::from(size));
        let mut width = 0.0;
        let mut prev: Option<GlyphId> = None;
        for ch in text.chars() {
            let id = font.glyph_id(ch);
            if let Some(prev) = prev {
                width += font.kern(prev, id);
            }
            width += font.h_advance(id);
            prev = Some(id);
        }
        width
    }

    /// Draws `text` with its baseline at `baseline`, aligned on `x`.
    fn text(&mut self, size: f32, x: f32, baseline: f32, align: Align, color: Rgb, text: &str) {
        let scale = PxScale::from(size);
        let scaled = self.font.as_scaled(scale);
        let mut caret = match align {
            Align::Left => x,
            Align::Center => x - self.measure(size, text) / 2.0,
            Align::Right => x - self.measure(size, text),
        }
        .round();
        let mut prev: Option<GlyphId> = None;
        for ch in text.chars() {
            let id = scaled.glyph_id(ch);
            if let Some(prev) = prev {
                caret += scaled.kern(prev, id);
            }
            let glyph = id.with_scale_and_position(scale, point(caret, baseline.round()));
            if let Some(outlined) = self.font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                let canvas = &mut self.canvas;
                outlined.draw(|gx, gy, coverage| {
                    canvas.blend(
                        bounds.min.x as i32 + gx as i32,
                        bounds.min.y as i32 + gy as i32,
                        color,
                        coverage,
                    );
                });
            }
            caret += scaled.h_advance(id);
            prev = Some(id);
        }
    }

    /// Left-aligned text on a backdrop of the background colour, so it stays
    /// readable where it overlaps data.
    fn label(&mut self, size: f32, x: f32, y: f32, color: Rgb, text: &str) {
        let pad = size * 0.25;
        let width = self.measure(size, text);
        let bg = self.pal.bg;
        let all = self.canvas.bounds();
        self.canvas.fill(
            Area::new(
                (x - pad).round(),
                (y - size * 0.6).round(),
                (x + width + pad).round(),
                (y + size * 0.6).round(),
            ),
            all,
            bg,
            0.8,
        );
        self.text_centered(size, x, y, Align::Left, color, text);
    }

    /// Draws `text` with its capitals vertically centred on `y`.
    fn text_centered(&mut self, size: f32, x: f32, y: f32, align: Align, color: Rgb, text: &str) {
        self.text(size, x, y + size * CAP_HEIGHT / 2.0, align, color, text);
    }
}

// ---------------------------------------------------------------------------
// Pixels

struct Canvas {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32, bg: Rgb) -> Self {
        let (w, h) = (width as usize, height as usize);
        Self {
            w,
            h,
            rgb: bg.repeat(w * h),
        }
    }

    fn blend(&mut self, x: i32, y: i32, color: Rgb, alpha: f32) {
        if x < 0 || y < 0 || x as usize >= self.w || y as usize >= self.h {
            return;
        }
        let i = (y as usize * self.w + x as usize) * 3;
        let a = alpha.clamp(0.0, 1.0);
        for (dst, src) in self.rgb[i..i + 3].iter_mut().zip(color) {
            *dst = (f32::from(*dst) + (f32::from(src) - f32::from(*dst)) * a).round() as u8;
        }
    }

    /// Fills the pixel box `[x0, x1) × [y0, y1)`, cut to `clip`.
    fn fill(&mut self, r: Area, clip: Area, color: Rgb, alpha: f32) {
        let xa = r.x0.max(clip.x0).max(0.0) as i32;
        let xb = r.x1.min(clip.x1).min(self.w as f32) as i32;
        let ya = r.y0.max(clip.y0).max(0.0) as i32;
        let yb = r.y1.min(clip.y1).min(self.h as f32) as i32;
        for y in ya..yb {
            for x in xa..xb {
                self.blend(x, y, color, alpha);
            }
        }
    }

    /// One-pixel line from `x0` to `x1`, `dash` pixels on and `gap` off.
    fn dashed_hline(
        &mut self,
        (x0, x1): (f32, f32),
        y: f32,
        clip: Area,
        color: Rgb,
        alpha: f32,
        (dash, gap): (i32, i32),
    ) {
        let mut x = x0 as i32;
        while (x as f32) < x1 {
            let end = (x + dash) as f32;
            self.fill(
                Area::new(x as f32, y, end.min(x1), y + 1.0),
                clip,
                color,
                alpha,
            );
            x += dash + gap;
        }
    }

    fn bounds(&self) -> Area {
        Area {
            x0: 0.0,
            y0: 0.0,
            x1: self.w as f32,
            y1: self.h as f32,
        }
    }

    /// One-pixel outline just inside `area`'s bottom and right edges, where
    /// the axes are.
    fn frame(&mut self, area: Area, color: Rgb) {
        let all = self.bounds();
        self.fill(
            Area::new(area.x0, area.y1 - 1.0, area.x1, area.y1),
            all,
            color,
            1.0,
        );
        self.fill(
            Area::new(area.x1 - 1.0, area.y0, area.x1, area.y1),
            all,
            color,
            1.0,
        );
    }
}

/// Coverage of one stroked series over a panel. Segments take the maximum
/// coverage instead of adding, so joints do not show darker dots, and the
/// series is blended once.
struct Mask {
    x0: i32,
    y0: i32,
    w: i32,
    h: i32,
    cov: Vec<f32>,
    /// Bounding box touched so far, to blend only that part.
    dirty: Option<(i32, i32, i32, i32)>,
}

impl Mask {
    fn new(area: Area) -> Self {
        let (x0, y0) = (area.x0.floor() as i32, area.y0.floor() as i32);
        let (w, h) = (
            (area.x1.ceil() as i32 - x0).max(0),
            (area.y1.ceil() as i32 - y0).max(0),
        );
        Self {
            x0,
            y0,
            w,
            h,
            cov: vec![0.0; (w * h) as usize],
            dirty: None,
        }
    }

    /// Adds the segment from `a` to `b`, `half` pixels either side.
    fn segment(&mut self, a: (f32, f32), b: (f32, f32), half: f32) {
        let reach = half + 1.0;
        let bx0 = ((a.0.min(b.0) - reach).floor() as i32 - self.x0).max(0);
        let bx1 = ((a.0.max(b.0) + reach).ceil() as i32 - self.x0).min(self.w);
        let by0 = ((a.1.min(b.1) - reach).floor() as i32 - self.y0).max(0);
        let by1 = ((a.1.max(b.1) + reach).ceil() as i32 - self.y0).min(self.h);
        if bx0 >= bx1 || by0 >= by1 {
            return;
        }
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = dx * dx + dy * dy;
        for my in by0..by1 {
            let py = (my + self.y0) as f32 + 0.5;
            for mx in bx0..bx1 {
                let px = (mx + self.x0) as f32 + 0.5;
                let t = if len2 > 0.0 {
                    (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (ex, ey) = (a.0 + t * dx - px, a.1 + t * dy - py);
                let coverage = (half + 0.5 - (ex * ex + ey * ey).sqrt()).clamp(0.0, 1.0);
                let cell = &mut self.cov[(my * self.w + mx) as usize];
                *cell = cell.max(coverage);
            }
        }
        self.dirty = Some(match self.dirty {
            None => (bx0, by0, bx1, by1),
            Some((x0, y0, x1, y1)) => (x0.min(bx0), y0.min(by0), x1.max(bx1), y1.max(by1)),
        });
    }

    fn composite(&self, canvas: &mut Canvas, color: Rgb, alpha: f32) {
        let Some((x0, y0, x1, y1)) = self.dirty else {
            return;
        };
        for my in y0..y1 {
            for mx in x0..x1 {
                let coverage = self.cov[(my * self.w + mx) as usize];
                if coverage > 0.0 {
                    canvas.blend(mx + self.x0, my + self.y0, color, coverage * alpha);
                }
            }
        }
    }
}

fn encode_png(canvas: &Canvas) -> Result<Vec<u8>, ChartError> {
    let failed = |e: png::EncodingError| ChartError::Render(format!("png encoding: {e}"));
    let mut out = Vec::with_capacity(canvas.rgb.len() / 8);
    let mut encoder = png::Encoder::new(&mut out, canvas.w as u32, canvas.h as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Charts are large flat areas: the fast mode is within a few percent of
    // the best size here and several times quicker.
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&canvas.rgb).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Numbers and time

/// A round step (1, 2, 2.5 or 5 × 10ⁿ) giving about `target` ticks.
fn nice_step(range: f64, target: f32) -> f64 {
    let raw = range / f64::from(target.max(1.0));
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let nice = [1.0, 2.0, 2.5, 5.0]
        .into_iter()
        .find(|n| *n >= norm)
        .unwrap_or(10.0);
    nice * magnitude
}

/// Multiples of `step` within `[lo, hi]`.
fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Fewest decimals that print every multiple of `step` exactly.
fn decimals_for_step(step: f64) -> usize {
    (0..=10)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(10)
}

/// Decimals that show a price to about five significant digits, never fewer
/// than two (how exchanges quote).
fn price_decimals(price: f64) -> usize {
    if price == 0.0 {
        return 2;
    }
    (4.0 - price.abs().log10().floor()).clamp(2.0, 8.0) as usize
}

/// `1234567.891` with 2 decimals → `1,234,567.89`.
fn format_number(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3 + 1);
    if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Volumes as `850`, `12.3K`, `4.56M`, `7.89B`.
fn format_compact(value: f64) -> String {
    let units = [(1e9, "B"), (1e6, "M"), (1e3, "K")];
    for (size, suffix) in units {
        if value >= size {
            return format!("{:.2}{suffix}", value / size);
        }
    }
    format!("{value:.0}")
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Civil UTC date of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm), to avoid a date crate for a few labels.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

struct Utc {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
}

fn utc(ms: i64) -> Utc {
    let (year, month, day) = civil_from_days(ms.div_euclid(DAY_MS));
    let in_day = ms.rem_euclid(DAY_MS);
    Utc {
        year,
        month,
        day,
        hour: in_day / HOUR_MS,
        minute: in_day % HOUR_MS / MINUTE_MS,
    }
}

fn format_datetime(ms: i64) -> String {
    let t = utc(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute
    )
}

/// Steps tried for the time axis, shortest first. Fixed steps are aligned to
/// UTC midnight; longer ones follow the calendar.
const FIXED_STEPS_MS: [i64; 17] = [
    MINUTE_MS,
    2 * MINUTE_MS,
    5 * MINUTE_MS,
    10 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    4 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    4 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
];
const MONTH_STEPS: [i64; 12] = [1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1_200, 2_400];

#[derive(Clone, Copy)]
enum TimeStep {
    Fixed(i64),
    Months(i64),
}

struct TimeTicks {
    step: TimeStep,
    ticks: Vec<i64>,
}

impl TimeTicks {
    /// Label granularity follows the step: clock times within a day (the
    /// date at midnight), dates across days, months and years beyond.
    fn label(&self, t: i64) -> String {
        let u = utc(t);
        let month = MONTHS[(u.month as usize - 1) % 12];
        match self.step {
            TimeStep::Fixed(step) if step < DAY_MS && t.rem_euclid(DAY_MS) != 0 => {
                format!("{:02}:{:02}", u.hour, u.minute)
            }
            TimeStep::Fixed(_) if u.month == 1 && u.day == 1 => u.year.to_string(),
            TimeStep::Fixed(_) => format!("{month} {}", u.day),
            TimeStep::Months(m) if m < 12 && u.month != 1 => month.to_string(),
            TimeStep::Months(_) => u.year.to_string(),
        }
    }
}

fn time_ticks(t0: i64, t1: i64, px_per_ms: f64, min_px: f64) -> TimeTicks {
    let min_ms = min_px / px_per_ms;
    if let Some(&step) = FIXED_STEPS_MS.iter().find(|&&s| s as f64 >= min_ms) {
        let first = t0.div_euclid(step) * step + if t0.rem_euclid(step) == 0 { 0 } else { step };
        let ticks = (0..)
            .map(|k| first + k * step)
            .take_while(|&t| t < t1)
            .collect();
        return TimeTicks {
            step: TimeStep::Fixed(step),
            ticks,
        };
    }
    // Calendar steps; a month is taken as 28 days so spacing is never less
    // than asked for. The last step always fits a 10000-year span.
    let months = MONTH_STEPS
        .iter()
        .copied()
        .find(|&m| (m * 28 * DAY_MS) as f64 >= min_ms)
        .unwrap_or(MONTH_STEPS[MONTH_STEPS.len() - 1]);
    let start = utc(t0);
    let mut index = start.year * 12 + i64::from(start.month) - 1;
    index = index.div_euclid(months) * months;
    let mut ticks = Vec::new();
    loop {
        let year = index.div_euclid(12);
        let month = (index.rem_euclid(12) + 1) as u32;
        let t = days_from_civil(year, month, 1) * DAY_MS;
        if t >= t1 {
            break;
        }
        if t >= t0 {
            ticks.push(t);
        }
        index += months;
    }
    TimeTicks {
        step: TimeStep::Months(months),
        ticks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic random walk, so tests need no RNG crate.
    fn synthetic_bars(n: usize, interval_ms: i64) -> Vec<Bar> {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut close = 50_000.0;
        (0..n)
            .map(|i| {
                let open = close;
                close = open * (1.0 + (next() - 0.5) * 0.02);
                let high = open.max(close) * (1.0 + next() * 0.005);
                let low = open.min(close) * (1.0 - next() * 0.005);
                Bar {
                    open_time: 1_735_689_600_000 + i as i64 * interval_ms,
                    open,
                    high,
                    low,
                    close,
                    volume: 100.0 + next() * 900.0,
                }
            })
            .collect()
    }

    fn sma(bars: &[Bar], period: usize) -> Vec<Option<f64>> {
        (0..bars.len())
            .map(|i| {
                (i + 1 >= period).then(|| {
                    bars[i + 1 - period..=i]
                        .iter()
                        .map(|b| b.close)
                        .sum::<f64>()
                        / period as f64
                })
            })
            .collect()
    }

    fn offset(series: &[Option<f64>], by: f64) -> Vec<Option<f64>> {
        series.iter().map(|v| v.map(|v| v + by)).collect()
    }

    fn overlays(bars: &[Bar]) -> Vec<Overlay> {
        let mid = sma(bars, 20);
        vec![
            Overlay {
                label: "SMA 20".into(),
                kind: OverlayKind::Line(mid.clone()),
            },
            Overlay {
                label: "SMA 50".into(),
                kind: OverlayKind::Line(sma(bars, 50)),
            },
            Overlay {
                label: "BB 20 2".into(),
                kind: OverlayKind::Band {
                    upper: offset(&mid, 800.0),
                    middle: mid.clone(),
                    lower: offset(&mid, -800.0),
                },
            },
        ]
    }

    fn rsi_pane(n: usize) -> Pane {
        Pane::Rsi {
            period: 14,
            values: (0..n)
                .map(|i| (i >= 14).then(|| 50.0 + 30.0 * (i as f64 / 9.0).sin()))
                .collect(),
        }
    }

    fn macd_pane(n: usize) -> Pane {
        let macd: Vec<Option<f64>> = (0..n)
            .map(|i| (i >= 26).then(|| 200.0 * (i as f64 / 15.0).sin()))
            .collect();
        let signal: Vec<Option<f64>> = (0..n)
            .map(|i| (i >= 34).then(|| 180.0 * ((i as f64 - 4.0) / 15.0).sin()))
            .collect();
        let histogram = macd
            .iter()
            .zip(&signal)
            .map(|(m, s)| Some((*m)? - (*s)?))
            .collect();
        Pane::Macd {
            macd,
            signal,
            histogram,
        }
    }

    fn spec<'a>(bars: &'a [Bar], pane: Option<Pane>, theme: Theme) -> ChartSpec<'a> {
        ChartSpec {
            title: "BTCUSDT · 1h".into(),
            bars,
            interval_ms: HOUR_MS,
            overlays: overlays(bars),
            pane,
            theme,
            width: DEFAULT_WIDTH,
            height: DEFAULT_HEIGHT,
        }
    }

    /// Decodes the PNG and returns (width, height, RGB pixels).
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("PNG header decodes");
        let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
        let info = reader.next_frame(&mut buf).expect("PNG frame decodes");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    fn assert_looks_like_a_chart(bytes: &[u8], theme: Theme) {
        let (w, h, rgb) = decode(bytes);
        assert_eq!((w, h), (DEFAULT_WIDTH, DEFAULT_HEIGHT));
        let bg = Palette::for_theme(theme).bg;
        let pixels: Vec<&[u8]> = rgb.chunks_exact(3).collect();
        let drawn = pixels.iter().filter(|px| **px != bg).count();
        let share = drawn as f64 / pixels.len() as f64;
        assert!(
            share > 0.05,
            "only {share:.3} of pixels differ from the background"
        );
        let mut colors: Vec<&[u8]> = pixels.clone();
        colors.sort_unstable();
        colors.dedup();
        assert!(colors.len() > 200, "only {} distinct colours", colors.len());
        // Both candle colours must appear: the chart shows ups and downs.
        let pal = Palette::for_theme(theme);
        assert!(pixels.iter().any(|px| **px == pal.up));
        assert!(pixels.iter().any(|px| **px == pal.down));
    }

    #[test]
    fn renders_500_bars_with_each_pane_and_theme() {
        let bars = synthetic_bars(500, HOUR_MS);
        for theme in [Theme::Dark, Theme::Light] {
            for pane in [None, Some(rsi_pane(500)), Some(macd_pane(500))] {
                let png = render_png(&spec(&bars, pane, theme)).expect("renders");
                assert_looks_like_a_chart(&png, theme);
            }
        }
    }

    /// SHA-256 of the PNG for each case below, so a refactor that moves a
    /// pixel fails here. A deliberate change to the picture updates them.
    #[test]
    fn pictures_are_pinned_to_the_byte() {
        use sha2::{Digest, Sha256};
        let bars = synthetic_bars(120, HOUR_MS);
        // Daily candles over more than a year: calendar ticks, a new year.
        let mut gapped = synthetic_bars(500, DAY_MS);
        gapped.drain(200..230);
        let cases = [
            (
                "dark rsi",
                spec(&bars, Some(rsi_pane(120)), Theme::Dark),
                640,
                400,
            ),
            (
                "light macd",
                spec(&bars, Some(macd_pane(120)), Theme::Light),
                480,
                320,
            ),
            (
                "gap, months",
                ChartSpec {
                    interval_ms: DAY_MS,
                    overlays: vec![],
                    ..spec(&gapped, None, Theme::Dark)
                },
                900,
                500,
            ),
        ];
        let hashes: Vec<String> = cases
            .into_iter()
            .map(|(name, s, width, height)| {
                let png = render_png(&ChartSpec { width, height, ..s }).expect(name);
                format!("{name}: {:x}", Sha256::digest(&png))
            })
            .collect();
        assert_eq!(hashes, PINNED, "{hashes:#?}");
    }

    const PINNED: [&str; 3] = [
        "dark rsi: 00863f23f31c1071d67663133c6badd4dfd3c07c6b9695842860e373ecabe184",
        "light macd: a6bf5c796f4d2734b744e613ac26e49e67ea144dd655cf000b57e4c2bbeff3c6",
        "gap, months: 5ca14f5b535a26f396e3c92e5f061bfa311e529e3a3f9cfe4b42ba03b2615fe2",
    ];

    #[test]
    fn header_records_requested_size() {
        let bars = synthetic_bars(30, HOUR_MS);
        let mut s = spec(&bars, Some(rsi_pane(30)), Theme::Light);
        (s.width, s.height) = (MIN_WIDTH, MAX_HEIGHT);
        let (w, h, _) = decode(&render_png(&s).expect("renders"));
        assert_eq!((w, h), (MIN_WIDTH, MAX_HEIGHT));
    }

    #[test]
    fn single_bar_and_flat_prices_render() {
        let bar = Bar {
            open_time: 0,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 0.0,
        };
        let bars = [bar];
        let s = ChartSpec {
            overlays: vec![],
            ..spec(&bars, None, Theme::Dark)
        };
        let (w, h, _) = decode(&render_png(&s).expect("renders"));
        assert_eq!((w, h), (DEFAULT_WIDTH, DEFAULT_HEIGHT));
    }

    #[test]
    fn extreme_but_valid_input_renders() {
        let bar = |open_time, low: f64, high: f64| Bar {
            open_time,
            open: low,
            high,
            low,
            close: high,
            volume: MAX_ABS_VALUE,
        };
        let cases: [(Vec<Bar>, i64); 4] = [
            // Sub-satoshi prices.
            (
                vec![bar(0, 1e-12, 3e-12), bar(60_000, 2e-12, 2.5e-12)],
                MINUTE_MS,
            ),
            // The largest accepted magnitude next to zero.
            (vec![bar(0, 0.0, MAX_ABS_VALUE), bar(1, 0.0, 1.0)], 1),
            // Both ends of the accepted time range, minute candles.
            (
                vec![bar(0, 1.0, 2.0), bar(MAX_OPEN_TIME_MS, 1.0, 2.0)],
                MINUTE_MS,
            ),
            // Longest interval.
            (
                vec![bar(0, 1.0, 2.0), bar(MAX_INTERVAL_MS, 1.0, 2.0)],
                MAX_INTERVAL_MS,
            ),
        ];
        for (bars, interval_ms) in cases {
            let s = ChartSpec {
                interval_ms,
                overlays: vec![Overlay {
                    label: "x".repeat(MAX_LABEL_CHARS),
                    kind: OverlayKind::Line(vec![Some(-MAX_ABS_VALUE), None]),
                }],
                pane: Some(macd_pane(2)),
                ..spec(&bars, None, Theme::Light)
            };
            let (w, h, _) = decode(&render_png(&s).expect("renders"));
            assert_eq!((w, h), (DEFAULT_WIDTH, DEFAULT_HEIGHT));
        }
    }

    #[test]
    fn missing_candles_leave_an_empty_column() {
        let mut bars = synthetic_bars(100, HOUR_MS);
        // Drop 20 hours in the middle: the x axis is time, so they leave a hole.
        bars.drain(40..60);
        let s = ChartSpec {
            overlays: vec![],
            ..spec(&bars, None, Theme::Dark)
        };
        let (w, _, rgb) = decode(&render_png(&s).expect("renders"));
        let pal = Palette::for_theme(Theme::Dark);
        let candle_columns: Vec<bool> = (0..w as usize)
            .map(|x| {
                rgb.chunks_exact(3)
                    .skip(x)
                    .step_by(w as usize)
                    .any(|px| px == pal.up || px == pal.down)
            })
            .collect();
        // The widest run of columns without candle pixels inside the plot
        // must be about 20 candle slots (~ 1/5 of the width), not one slot.
        let first = candle_columns.iter().position(|c| *c).expect("candles");
        let last = candle_columns.iter().rposition(|c| *c).expect("candles");
        let widest = candle_columns[first..=last]
            .split(|c| *c)
            .map(<[bool]>::len)
            .max()
            .unwrap_or(0);
        assert!(widest > w as usize / 8, "widest empty run {widest}px");
    }

    #[test]
    fn rejects_bad_input() {
        let bars = synthetic_bars(50, HOUR_MS);
        let ok = || spec(&bars, Some(rsi_pane(50)), Theme::Dark);
        assert!(render_png(&ok()).is_ok());

        let empty: [Bar; 0] = [];
        let s = ChartSpec {
            bars: &empty,
            overlays: vec![],
            pane: None,
            ..ok()
        };
        assert_eq!(render_png(&s), Err(ChartError::NoBars));

        let mut s = ok();
        s.overlays[0].kind = OverlayKind::Line(vec![None; 49]);
        assert!(matches!(
            render_png(&s),
            Err(ChartError::SeriesLength {
                expected: 50,
                got: 49,
                ..
            })
        ));

        let s = ChartSpec {
            pane: Some(rsi_pane(51)),
            ..ok()
        };
        assert!(matches!(
            render_png(&s),
            Err(ChartError::SeriesLength { .. })
        ));

        let mut s = ok();
        if let OverlayKind::Band { upper, .. } = &mut s.overlays[2].kind {
            upper[45] = Some(f64::INFINITY);
        }
        assert!(matches!(
            render_png(&s),
            Err(ChartError::BadValue { index: 45, .. })
        ));

        let s = ChartSpec {
            pane: Some(Pane::Rsi {
                period: 14,
                values: vec![Some(f64::NAN); 50],
            }),
            ..ok()
        };
        assert!(matches!(
            render_png(&s),
            Err(ChartError::BadValue { index: 0, .. })
        ));

        let mut s = ok();
        s.overlays[1].kind = OverlayKind::Line(vec![Some(1e300); 50]);
        assert!(matches!(render_png(&s), Err(ChartError::BadValue { .. })));

        let mut nan_bars = bars.clone();
        nan_bars[7].close = f64::NAN;
        let s = ChartSpec {
            bars: &nan_bars,
            ..ok()
        };
        assert_eq!(render_png(&s), Err(ChartError::BadBar { index: 7 }));

        let mut negative_volume = bars.clone();
        negative_volume[2].volume = -1.0;
        let s = ChartSpec {
            bars: &negative_volume,
            ..ok()
        };
        assert_eq!(render_png(&s), Err(ChartError::BadBar { index: 2 }));

        let mut unordered = bars.clone();
        unordered[10].open_time = unordered[9].open_time;
        let s = ChartSpec {
            bars: &unordered,
            ..ok()
        };
        assert_eq!(render_png(&s), Err(ChartError::BadTime { index: 10 }));

        let mut inverted = bars.clone();
        inverted[3].high = inverted[3].low - 1.0;
        let s = ChartSpec {
            bars: &inverted,
            ..ok()
        };
        assert_eq!(render_png(&s), Err(ChartError::BadBar { index: 3 }));

        for (width, height) in [
            (MAX_WIDTH + 1, DEFAULT_HEIGHT),
            (DEFAULT_WIDTH, MAX_HEIGHT + 1),
            (MIN_WIDTH - 1, DEFAULT_HEIGHT),
            (0, 0),
            (u32::MAX, u32::MAX),
        ] {
            let s = ChartSpec {
                width,
                height,
                ..ok()
            };
            assert_eq!(
                render_png(&s),
                Err(ChartError::Dimensions { width, height })
            );
        }

        for interval_ms in [0, -1, MAX_INTERVAL_MS + 1] {
            let s = ChartSpec {
                interval_ms,
                ..ok()
            };
            assert_eq!(render_png(&s), Err(ChartError::Interval(interval_ms)));
        }

        let many = synthetic_bars(MAX_BARS + 1, MINUTE_MS);
        let s = ChartSpec {
            bars: &many,
            overlays: vec![],
            pane: None,
            ..ok()
        };
        assert_eq!(
            render_png(&s),
            Err(ChartError::TooManyBars { got: MAX_BARS + 1 })
        );

        let mut s = ok();
        s.title = "x".repeat(MAX_TITLE_CHARS + 1);
        assert!(matches!(
            render_png(&s),
            Err(ChartError::LabelTooLong { .. })
        ));
    }

    #[test]
    fn formats_numbers_and_dates() {
        assert_eq!(format_number(94_401.14, 2), "94,401.14");
        assert_eq!(format_number(-1_234_567.0, 0), "-1,234,567");
        assert_eq!(format_number(-0.0001, 2), "0.00");
        assert_eq!(format_number(999.0, 0), "999");
        assert_eq!(decimals_for_step(500.0), 0);
        assert_eq!(decimals_for_step(2.5), 1);
        assert_eq!(decimals_for_step(0.0005), 4);
        assert_eq!(price_decimals(94_401.0), 2);
        assert_eq!(price_decimals(0.000_012_34), 8);
        assert_eq!(format_compact(1_234.0), "1.23K");
        assert_eq!(format_datetime(1_735_689_600_000), "2025-01-01 00:00");
        assert_eq!(format_datetime(1_738_364_400_000), "2025-01-31 23:00");
        for days in [-1, 0, 59, 60, 365, 11_016, 20_089, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn time_labels_follow_the_step() {
        let t0 = 1_735_689_600_000; // 2025-01-01 00:00 UTC
        // 6-hour ticks: the date at midnight, clock times between.
        let six_h = TimeTicks {
            step: TimeStep::Fixed(6 * HOUR_MS),
            ticks: vec![],
        };
        assert_eq!(six_h.label(t0 + DAY_MS), "Jan 2");
        assert_eq!(six_h.label(t0 + 6 * HOUR_MS), "06:00");
        let ticks = time_ticks(t0, t0 + 3 * 365 * DAY_MS, 1e-8, 100.0);
        assert!(matches!(ticks.step, TimeStep::Months(_)));
        assert!(ticks.ticks.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ticks.label(t0), "2025");
    }
}
