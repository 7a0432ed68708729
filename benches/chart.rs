//! Times `render_png` on 500 candles with two lines, a Bollinger band and an
//! RSI or MACD pane at the default size: best of 10 runs, in milliseconds.
//! The budget is 200 ms. Run with `cargo bench --bench chart`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crypto_mcp::analysis::chart::{
    ChartSpec, DEFAULT_HEIGHT, DEFAULT_WIDTH, Overlay, OverlayKind, Pane, Theme, render_png,
};
use crypto_mcp::analysis::indicators::Bar;

const BARS: usize = 500;
const RUNS: usize = 10;
const HOUR_MS: i64 = 3_600_000;

fn main() {
    let bars = synthetic_bars(BARS);
    let mid = moving_average(&bars, 20);
    let shifted = |by: f64| mid.iter().map(|v| v.map(|v| v + by)).collect::<Vec<_>>();
    let overlays = vec![
        Overlay {
            label: "SMA 20".into(),
            kind: OverlayKind::Line(mid.clone()),
        },
        Overlay {
            label: "SMA 50".into(),
            kind: OverlayKind::Line(moving_average(&bars, 50)),
        },
        Overlay {
            label: "BB 20 2".into(),
            kind: OverlayKind::Band {
                upper: shifted(600.0),
                middle: mid.clone(),
                lower: shifted(-600.0),
            },
        },
    ];
    let wave = |amp: f64, lag: f64| -> Vec<Option<f64>> {
        (0..BARS)
            .map(|i| Some(amp * ((i as f64 - lag) / 12.0).sin()))
            .collect()
    };
    let panes = [
        (
            "RSI",
            Pane::Rsi {
                period: 14,
                values: wave(30.0, 0.0)
                    .into_iter()
                    .map(|v| v.map(|v| v + 50.0))
                    .collect(),
            },
        ),
        (
            "MACD",
            Pane::Macd {
                macd: wave(150.0, 0.0),
                signal: wave(140.0, 3.0),
                histogram: wave(40.0, -5.0),
            },
        ),
    ];
    for (name, pane) in panes {
        let spec = ChartSpec {
            title: "BTCUSDT · 1h".into(),
            bars: &bars,
            interval_ms: HOUR_MS,
            overlays: overlays.clone(),
            pane: Some(pane),
            theme: Theme::Dark,
            width: DEFAULT_WIDTH,
            height: DEFAULT_HEIGHT,
        };
        let mut best = Duration::MAX;
        let mut size = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            let png = render_png(black_box(&spec)).expect("bench chart renders");
            best = best.min(start.elapsed());
            size = png.len();
        }
        println!(
            "render_png {BARS} candles + 3 overlays + {name} pane, {DEFAULT_WIDTH}x{DEFAULT_HEIGHT}: \
             best of {RUNS} = {:.1} ms ({size} bytes)",
            best.as_secs_f64() * 1e3
        );
    }
}

fn synthetic_bars(n: usize) -> Vec<Bar> {
    let mut close = 95_000.0;
    (0..n)
        .map(|i| {
            let open = close;
            close =
                open * (1.0 + 0.006 * ((i as f64) * 0.7).sin() + 0.002 * ((i as f64) * 0.13).cos());
            Bar {
                open_time: 1_735_689_600_000 + i as i64 * HOUR_MS,
                open,
                high: open.max(close) * 1.002,
                low: open.min(close) * 0.998,
                close,
                volume: 500.0 + 400.0 * ((i as f64) * 0.3).sin(),
            }
        })
        .collect()
}

fn moving_average(bars: &[Bar], period: usize) -> Vec<Option<f64>> {
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
