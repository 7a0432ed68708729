//! Layout and drawing: where the header, price panel, volume strip,
//! indicator pane and time labels go, and how candles, overlays and text
//! are painted onto the [`Canvas`].

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};

use super::axes::{
    TimeTicks, decimals_for_step, format_compact, format_datetime, format_number, nice_step,
    price_decimals, ticks, time_ticks,
};
use super::raster::{Area, Canvas, Mask, Rgb};
use super::{
    ChartError, ChartSpec, DEFAULT_WIDTH, MAX_OVERLAYS, Overlay, OverlayKind, Pane, Theme,
};
use crate::analysis::indicators::Bar;

/// DejaVu Sans (license in `assets/fonts/LICENSE-DejaVu.txt`), embedded so
/// rendering never depends on what fonts the host has installed.
static FONT_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Cap height of DejaVu Sans as a share of the `ab_glyph` pixel scale
/// (1493 / (1901 + 483) font units); used to centre text on a point.
const CAP_HEIGHT: f32 = 0.626;

/// Draws `spec`, already checked, onto a new canvas.
pub(super) fn draw(spec: &ChartSpec) -> Result<Canvas, ChartError> {
    let font = FontRef::try_from_slice(FONT_TTF)
        .map_err(|_| ChartError::Render("embedded font does not parse".into()))?;
    let palette = Palette::for_theme(spec.theme);
    let mut painter = Painter {
        canvas: Canvas::new(spec.width, spec.height, palette.bg),
        font,
        pal: palette,
    };
    draw_chart(&mut painter, spec);
    Ok(painter.canvas)
}

pub(super) struct Palette {
    pub(super) bg: Rgb,
    grid: Rgb,
    border: Rgb,
    text: Rgb,
    muted: Rgb,
    pub(super) up: Rgb,
    pub(super) down: Rgb,
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
    pub(super) fn for_theme(theme: Theme) -> Self {
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
