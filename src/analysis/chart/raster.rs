//! Pixels: an RGB buffer with alpha blending, a coverage mask that strokes
//! anti-aliased lines, and the PNG encoder.

use super::ChartError;

pub(super) type Rgb = [u8; 3];

/// An axis-aligned box in pixel coordinates; `x1`/`y1` are exclusive.
#[derive(Debug, Clone, Copy)]
pub(super) struct Area {
    pub(super) x0: f32,
    pub(super) y0: f32,
    pub(super) x1: f32,
    pub(super) y1: f32,
}

impl Area {
    pub(super) fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self { x0, y0, x1, y1 }
    }
}

pub(super) struct Canvas {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    pub(super) fn new(width: u32, height: u32, bg: Rgb) -> Self {
        let (w, h) = (width as usize, height as usize);
        Self {
            w,
            h,
            rgb: bg.repeat(w * h),
        }
    }

    pub(super) fn blend(&mut self, x: i32, y: i32, color: Rgb, alpha: f32) {
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
    pub(super) fn fill(&mut self, r: Area, clip: Area, color: Rgb, alpha: f32) {
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
    pub(super) fn dashed_hline(
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

    pub(super) fn bounds(&self) -> Area {
        Area {
            x0: 0.0,
            y0: 0.0,
            x1: self.w as f32,
            y1: self.h as f32,
        }
    }

    /// One-pixel outline just inside `area`'s bottom and right edges, where
    /// the axes are.
    pub(super) fn frame(&mut self, area: Area, color: Rgb) {
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
pub(super) struct Mask {
    x0: i32,
    y0: i32,
    w: i32,
    h: i32,
    cov: Vec<f32>,
    /// Bounding box touched so far, to blend only that part.
    dirty: Option<(i32, i32, i32, i32)>,
}

impl Mask {
    pub(super) fn new(area: Area) -> Self {
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
    pub(super) fn segment(&mut self, a: (f32, f32), b: (f32, f32), half: f32) {
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

    pub(super) fn composite(&self, canvas: &mut Canvas, color: Rgb, alpha: f32) {
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

pub(super) fn encode_png(canvas: &Canvas) -> Result<Vec<u8>, ChartError> {
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
