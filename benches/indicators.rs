//! Times ten indicators over 1000 candles, the largest request a tool call serves.
//!
//! No criterion: the question is only "is a full indicator panel well under a
//! millisecond", so the best of many runs of the whole panel is enough and keeps the
//! dependency list empty. Run with `cargo bench --bench indicators`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crypto_mcp::analysis::indicators::{
    Bar, adx, atr, bbands, cci, ema, macd, rsi, sma, stoch, wma,
};

const CANDLES: usize = 1000;
/// Enough runs for the minimum to settle on a quiet machine, still well under a second.
const RUNS: usize = 300;
/// The budget the panel must stay under.
const TARGET: Duration = Duration::from_millis(1);

/// A deterministic random walk, so runs are comparable.
fn candles() -> Vec<Bar> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 50_000.0;
    (0..CANDLES)
        .map(|i| {
            let open = price;
            let close = open * (1.0 + (next() - 0.5) * 0.02);
            let high = open.max(close) * (1.0 + next() * 0.005);
            let low = open.min(close) * (1.0 - next() * 0.005);
            price = close;
            Bar {
                open_time: 1_735_689_600_000 + i as i64 * 3_600_000,
                open,
                high,
                low,
                close,
                volume: next() * 100.0,
            }
        })
        .collect()
}

fn panel(bars: &[Bar]) {
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    black_box(sma(&closes, 20));
    black_box(ema(&closes, 20));
    black_box(wma(&closes, 20));
    black_box(rsi(&closes, 14));
    black_box(macd(&closes, 12, 26, 9));
    black_box(bbands(&closes, 20, 2.0));
    black_box(atr(bars, 14));
    black_box(stoch(bars, 5, 3, 3));
    black_box(adx(bars, 14));
    black_box(cci(bars, 20));
}

fn main() {
    let bars = candles();
    let best = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            panel(black_box(&bars));
            started.elapsed()
        })
        .min()
        .unwrap_or_default();
    println!(
        "10 indicators x {CANDLES} candles: best of {RUNS} runs = {} us (target < {} us)",
        best.as_micros(),
        TARGET.as_micros()
    );
}
