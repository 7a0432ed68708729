//! PNG candlestick charts, rendered in-process for the `binance_chart` tool.
//!
//! [`render_png`] draws candles, volume, overlay lines or bands, and an
//! optional RSI or MACD pane, then encodes the picture as PNG. Indicator math
//! lives in `indicators`; this module only draws series it is handed, after
//! checking that they line up with the bars and hold finite numbers.
//!
//! Layout: this file holds the input types and their checks; [`draw`] lays
//! the panels out and draws them, [`raster`] holds the pixel buffer, the
//! anti-aliasing mask and the PNG encoder, and [`axes`] picks ticks and
//! formats numbers and UTC times.
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

mod axes;
mod draw;
mod raster;

use std::fmt;

use super::indicators::Bar;
use axes::DAY_MS;

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
    let canvas = draw::draw(spec)?;
    raster::encode_png(&canvas)
}

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

#[cfg(test)]
mod tests {
    use super::axes::{HOUR_MS, MINUTE_MS};
    use super::draw::Palette;
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
}
