//! Renders the sample chart kept at `docs/chart-example.png` from the
//! Binance BTCUSDT 1h fixture: the last 200 candles with SMA 20, EMA 50,
//! Bollinger 20/2 and an RSI 14 pane, dark theme. A light-theme and a MACD
//! variant go to the system temp directory for review.
//!
//! The indicators are computed naively here because this is only a sample;
//! the real ones live in `analysis::indicators`.
//!
//! Run with `cargo run --release --example chart_sample`.

use std::error::Error;
use std::path::Path;

use crypto_mcp::analysis::chart::{
    ChartSpec, DEFAULT_HEIGHT, DEFAULT_WIDTH, Overlay, OverlayKind, Pane, Theme, render_png,
};
use crypto_mcp::analysis::indicators::Bar;

const FIXTURE: &str = "tests/data/btcusdt-1h.csv";
const SHOWN: usize = 200;
const HOUR_MS: i64 = 3_600_000;

fn main() -> Result<(), Box<dyn Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bars = load(&root.join(FIXTURE))?;
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();

    // Indicators run over the whole file so the shown window has no warm-up.
    let start = bars.len().saturating_sub(SHOWN);
    let window = |v: Vec<Option<f64>>| v[start..].to_vec();
    let (mid, upper, lower) = bollinger(&closes, 20, 2.0);
    let overlays = vec![
        Overlay {
            label: "SMA 20".into(),
            kind: OverlayKind::Line(window(sma(&closes, 20))),
        },
        Overlay {
            label: "EMA 50".into(),
            kind: OverlayKind::Line(window(ema(&closes, 50))),
        },
        Overlay {
            label: "BB 20 2".into(),
            kind: OverlayKind::Band {
                upper: window(upper),
                middle: window(mid),
                lower: window(lower),
            },
        },
    ];
    let (macd_line, signal, histogram) = macd(&closes);
    let rsi_pane = Pane::Rsi {
        period: 14,
        values: window(rsi(&closes, 14)),
    };
    let macd_pane = Pane::Macd {
        macd: window(macd_line),
        signal: window(signal),
        histogram: window(histogram),
    };

    let mut spec = ChartSpec {
        title: "BTCUSDT · 1h".into(),
        bars: &bars[start..],
        interval_ms: HOUR_MS,
        overlays,
        pane: Some(rsi_pane),
        theme: Theme::Dark,
        width: DEFAULT_WIDTH,
        height: DEFAULT_HEIGHT,
    };
    let out = root.join("docs/chart-example.png");
    std::fs::write(&out, render_png(&spec)?)?;
    println!("wrote {}", out.display());

    let tmp = std::env::temp_dir();
    spec.theme = Theme::Light;
    let light = tmp.join("chart-example-light.png");
    std::fs::write(&light, render_png(&spec)?)?;
    println!("wrote {}", light.display());

    spec.pane = Some(macd_pane);
    let light_macd = tmp.join("chart-example-light-macd.png");
    std::fs::write(&light_macd, render_png(&spec)?)?;
    println!("wrote {}", light_macd.display());
    Ok(())
}

/// Reads `open_time,open,high,low,close,volume` rows; the fixture's open
/// times are in microseconds.
fn load(path: &Path) -> Result<Vec<Bar>, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let [time, open, high, low, close, volume] = fields[..] else {
                return Err(format!("expected 6 fields in {line:?}").into());
            };
            Ok(Bar {
                open_time: time.parse::<i64>()? / 1_000,
                open: open.parse()?,
                high: high.parse()?,
                low: low.parse()?,
                close: close.parse()?,
                volume: volume.parse()?,
            })
        })
        .collect()
}

fn sma(values: &[f64], period: usize) -> Vec<Option<f64>> {
    (0..values.len())
        .map(|i| {
            (i + 1 >= period)
                .then(|| values[i + 1 - period..=i].iter().sum::<f64>() / period as f64)
        })
        .collect()
}

/// EMA seeded with the SMA of the first `period` values.
fn ema(values: &[f64], period: usize) -> Vec<Option<f64>> {
    let k = 2.0 / (period as f64 + 1.0);
    let mut out = vec![None; values.len()];
    if values.len() < period {
        return out;
    }
    let mut prev = values[..period].iter().sum::<f64>() / period as f64;
    out[period - 1] = Some(prev);
    for i in period..values.len() {
        prev += (values[i] - prev) * k;
        out[i] = Some(prev);
    }
    out
}

type Series = Vec<Option<f64>>;

fn bollinger(values: &[f64], period: usize, width: f64) -> (Series, Series, Series) {
    let mid = sma(values, period);
    let mut upper = vec![None; values.len()];
    let mut lower = vec![None; values.len()];
    for (i, m) in mid.iter().enumerate() {
        let Some(m) = m else { continue };
        let window = &values[i + 1 - period..=i];
        let var = window.iter().map(|v| (v - m).powi(2)).sum::<f64>() / period as f64;
        upper[i] = Some(m + width * var.sqrt());
        lower[i] = Some(m - width * var.sqrt());
    }
    (mid, upper, lower)
}

/// Wilder's RSI.
fn rsi(values: &[f64], period: usize) -> Series {
    let mut out = vec![None; values.len()];
    if values.len() <= period {
        return out;
    }
    let (mut gain, mut loss) = (0.0, 0.0);
    for i in 1..=period {
        let d = values[i] - values[i - 1];
        gain += d.max(0.0);
        loss += (-d).max(0.0);
    }
    gain /= period as f64;
    loss /= period as f64;
    let value = |g: f64, l: f64| {
        if l == 0.0 {
            100.0
        } else {
            100.0 - 100.0 / (1.0 + g / l)
        }
    };
    out[period] = Some(value(gain, loss));
    for i in period + 1..values.len() {
        let d = values[i] - values[i - 1];
        gain = (gain * (period as f64 - 1.0) + d.max(0.0)) / period as f64;
        loss = (loss * (period as f64 - 1.0) + (-d).max(0.0)) / period as f64;
        out[i] = Some(value(gain, loss));
    }
    out
}

/// MACD 12/26/9.
fn macd(values: &[f64]) -> (Series, Series, Series) {
    let (fast, slow) = (ema(values, 12), ema(values, 26));
    let line: Series = fast
        .iter()
        .zip(&slow)
        .map(|(f, s)| Some((*f)? - (*s)?))
        .collect();
    let first = line.iter().position(Option::is_some).unwrap_or(line.len());
    let defined: Vec<f64> = line.iter().flatten().copied().collect();
    let mut signal = vec![None; first];
    signal.extend(ema(&defined, 9));
    let histogram = line
        .iter()
        .zip(&signal)
        .map(|(m, s)| Some((*m)? - (*s)?))
        .collect();
    (line, signal, histogram)
}
