//! Technical indicators that reproduce TA-Lib (C library 0.8.1, default settings)
//! value for value.
//!
//! Every function is pure and returns series *aligned to its input*: the output has
//! the input's length, `None` during the lookback (exactly where TA-Lib returns NaN)
//! and `Some(v)` afterwards. Callers can therefore zip an output with its candles
//! without index arithmetic, and `*_lookback` says how many leading `None`s to expect
//! (a caller needs `lookback + 1` candles for one value).
//!
//! Two decisions shape the code:
//!
//! - **TA-Lib's arithmetic, not just its formulas.** Each routine follows the C
//!   routine's operation order: running sums that add then subtract, Wilder
//!   smoothing as `x*(n-1)+v` then `/n`, CCI summing its ring buffer in slot order,
//!   and TA-Lib 0.8's zero tests (exact for RSI and ADX, relative 1e-14 for CCI and
//!   MFI). On flat stretches these details decide whether TA-Lib prints `0`,
//!   `-5e-14` or `66.7`, so matching "the formula" is not enough to match the
//!   numbers. None of the zero tests is an absolute band, so results do not depend
//!   on how an instrument is quoted: a coin priced 1e-8 gets the same RSI as its
//!   price × 1e8. The warm-up quirks are TA-Lib's too: MACD seeds *both* EMAs at the
//!   slow EMA's first index, ATR's first value sits at index `period`, +DI/-DI seed
//!   with `period - 1` sums, and STOCH and MACD start all their outputs together.
//!   The one deliberate difference in method is Bollinger's σ (see [`bbands`]).
//! - **Invalid parameters give all-`None` output, not an error.** A period outside
//!   TA-Lib's accepted range (below its minimum, usually 2, or above
//!   [`MAX_PERIOD`]) is reported by the `*_lookback` function returning `None`, and
//!   the indicator returns a series of `None`s. A period longer than the data is not
//!   invalid, it just never warms up. This keeps the signatures infallible; the
//!   tool layer validates arguments with the lookback functions before calling.
//!
//! Cost is O(n) except where a window is rescanned (STOCH extremes, CCI, Bollinger σ):
//! O(n·period), which is at most O(n²/4) because a period longer than the input
//! returns early; negligible for the few thousand candles a request carries.
//!
//! VWAP is not a TA-Lib function; it is session anchored (resets at each UTC day).
//! Non-finite inputs are not rejected: like TA-Lib, NaN in gives NaN out.

/// One OHLCV candle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Open time in milliseconds since the Unix epoch, UTC.
    pub open_time: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// An indicator output aligned to its input: `None` until the lookback is over.
pub type Series = Vec<Option<f64>>;

/// MACD line, its signal line and their difference, all starting at the same index.
#[derive(Debug, Clone, PartialEq)]
pub struct Macd {
    pub macd: Series,
    pub signal: Series,
    pub histogram: Series,
}

/// Bollinger Bands around a simple moving average.
#[derive(Debug, Clone, PartialEq)]
pub struct Bands {
    pub upper: Series,
    pub middle: Series,
    pub lower: Series,
}

/// Slow stochastic %K and %D, both starting at the same index.
#[derive(Debug, Clone, PartialEq)]
pub struct Stoch {
    pub k: Series,
    pub d: Series,
}

/// Wilder's directional movement system. `adx` starts at `2*period - 1`,
/// `plus_di` and `minus_di` at `period`, as TA-Lib's ADX, PLUS_DI and MINUS_DI do.
#[derive(Debug, Clone, PartialEq)]
pub struct Adx {
    pub adx: Series,
    pub plus_di: Series,
    pub minus_di: Series,
}

/// Largest period any indicator accepts. TA-Lib rejects larger ones; keeping the same
/// bound also caps the ring buffers CCI and MFI allocate from caller input.
pub const MAX_PERIOD: usize = 100_000;

/// TA-Lib's `TA_EPSILON`, used as a *relative* dead zone (about 90 ulp): CCI and MFI
/// treat a difference this small next to the prices it came from as no difference.
const TA_EPSILON: f64 = 1e-14;

/// Milliseconds in a UTC day, the VWAP session length.
const MS_PER_DAY: i64 = 86_400_000;

/// `period` if it is within `min..=MAX_PERIOD`, the range TA-Lib accepts.
fn check(period: usize, min: usize) -> Option<usize> {
    (min..=MAX_PERIOD).contains(&period).then_some(period)
}

/// Leading `None`s for `sma`: `period - 1`. `None` if `period` is invalid (< 2).
pub fn sma_lookback(period: usize) -> Option<usize> {
    check(period, 2).map(|p| p - 1)
}

/// Leading `None`s for `ema`: `period - 1`. `None` if `period` is invalid (< 2).
pub fn ema_lookback(period: usize) -> Option<usize> {
    sma_lookback(period)
}

/// Leading `None`s for `wma`: `period - 1`. `None` if `period` is invalid (< 2).
pub fn wma_lookback(period: usize) -> Option<usize> {
    sma_lookback(period)
}

/// Leading `None`s for `rsi`: `period`. `None` if `period` is invalid (< 2).
pub fn rsi_lookback(period: usize) -> Option<usize> {
    check(period, 2)
}

/// Leading `None`s for all three `macd` outputs: `max(fast, slow) - 1 + signal - 1`.
/// `None` if `fast` or `slow` is below 2 or `signal` below 1.
pub fn macd_lookback(fast: usize, slow: usize, signal: usize) -> Option<usize> {
    let fast = check(fast, 2)?;
    let slow = check(slow, 2)?;
    let signal = check(signal, 1)?;
    Some(fast.max(slow) - 1 + signal - 1)
}

/// Leading `None`s for `bbands`: `period - 1`. `None` if `period` is invalid (< 2).
pub fn bbands_lookback(period: usize) -> Option<usize> {
    sma_lookback(period)
}

/// Leading `None`s for `atr`: `period` (the first bar has no true range).
/// `None` if `period` is 0.
pub fn atr_lookback(period: usize) -> Option<usize> {
    check(period, 1)
}

/// Leading `None`s for both `stoch` outputs: `fastk - 1 + slowk - 1 + slowd - 1`.
/// `None` if any period is 0.
pub fn stoch_lookback(fastk: usize, slowk: usize, slowd: usize) -> Option<usize> {
    Some(check(fastk, 1)? - 1 + check(slowk, 1)? - 1 + check(slowd, 1)? - 1)
}

/// Leading `None`s for `obv`: 0.
pub const OBV_LOOKBACK: usize = 0;

/// Leading `None`s for `vwap`: 0. A session whose volume so far is zero still has
/// no value (0/0), so `vwap` can also be `None` later in the series.
pub const VWAP_LOOKBACK: usize = 0;

/// Leading `None`s for `Adx::adx`: `2*period - 1`. `None` if `period` is invalid (< 2).
pub fn adx_lookback(period: usize) -> Option<usize> {
    check(period, 2).map(|p| 2 * p - 1)
}

/// Leading `None`s for `Adx::plus_di` and `Adx::minus_di`: `period`.
/// `None` if `period` is invalid (< 2).
pub fn di_lookback(period: usize) -> Option<usize> {
    check(period, 2)
}

/// Leading `None`s for `mfi`: `period`. `None` if `period` is invalid (< 2).
pub fn mfi_lookback(period: usize) -> Option<usize> {
    check(period, 2)
}

/// Leading `None`s for `cci`: `period - 1`. `None` if `period` is invalid (< 2).
pub fn cci_lookback(period: usize) -> Option<usize> {
    sma_lookback(period)
}

/// `len` `None`s: the answer for invalid parameters and too-short input.
fn none(len: usize) -> Series {
    vec![None; len]
}

/// An indicator's output when it never warms up: every series all `None`.
trait Unwarmed {
    fn unwarmed(len: usize) -> Self;
}

impl Unwarmed for Series {
    fn unwarmed(len: usize) -> Self {
        none(len)
    }
}

/// Each multi-series output, all `None`: one impl per struct, written once.
macro_rules! unwarmed {
    ($($output:ident { $($series:ident),+ })+) => {$(
        impl Unwarmed for $output {
            fn unwarmed(len: usize) -> Self {
                Self { $($series: none(len)),+ }
            }
        }
    )+};
}

unwarmed! {
    Macd { macd, signal, histogram }
    Bands { upper, middle, lower }
    Stoch { k, d }
    Adx { adx, plus_di, minus_di }
}

/// `compute(lookback)` when the parameters are valid (`lookback` is `Some`)
/// and `len` inputs outlast the warm-up; all `None` otherwise. The one place
/// the invalid-parameter rule of this module is applied.
fn warmed<T: Unwarmed>(lookback: Option<usize>, len: usize, compute: impl FnOnce(usize) -> T) -> T {
    match lookback.filter(|&lb| lb < len) {
        Some(lb) => compute(lb),
        None => T::unwarmed(len),
    }
}

/// Pads `values`, which start at index `lookback` of the input, back to `len`.
fn aligned(len: usize, lookback: usize, values: impl IntoIterator<Item = f64>) -> Series {
    let mut out = Vec::with_capacity(len);
    out.resize(lookback.min(len), None);
    out.extend(values.into_iter().map(Some));
    debug_assert_eq!(out.len(), len);
    out
}

/// TA-Lib's `TA_INT_SMA`: the running total adds the new value, is read, then drops
/// the trailing one. Output `j` is for input index `period - 1 + j`.
/// Needs `1 <= period <= values.len()`.
fn sma_raw(values: &[f64], period: usize) -> Vec<f64> {
    let lookback = period - 1;
    let mut total: f64 = values[..lookback].iter().sum();
    let divisor = period as f64;
    values[lookback..]
        .iter()
        .zip(values)
        .map(|(&new, &trailing)| {
            total += new;
            let current = total;
            total -= trailing;
            current / divisor
        })
        .collect()
}

/// TA-Lib's `TA_INT_EMA` asked to start at `start` (>= `period - 1`): seeded with the
/// SMA of the `period` values ending at `start`, then `prev + (x - prev) * k`.
/// Output `j` is for input index `start + j`. Needs `start < values.len()`.
fn ema_raw(values: &[f64], period: usize, k: f64, start: usize) -> Vec<f64> {
    let seed_from = start + 1 - period;
    let mut prev = values[seed_from..=start].iter().sum::<f64>() / period as f64;
    let mut out = Vec::with_capacity(values.len() - start);
    out.push(prev);
    for &x in &values[start + 1..] {
        prev = ((x - prev) * k) + prev;
        out.push(prev);
    }
    out
}

/// TA-Lib's smoothing factor for an EMA of `period`.
fn ema_k(period: usize) -> f64 {
    2.0 / (period as f64 + 1.0)
}

/// True range of `bar` given the previous close, with TA-Lib's comparison order.
fn true_range(bar: &Bar, prev_close: f64) -> f64 {
    let mut range = bar.high - bar.low;
    let up = (bar.high - prev_close).abs();
    if up > range {
        range = up;
    }
    let down = (bar.low - prev_close).abs();
    if down > range {
        range = down;
    }
    range
}

/// Typical price, summed in TA-Lib's order.
fn typical(bar: &Bar) -> f64 {
    (bar.high + bar.low + bar.close) / 3.0
}

/// Simple moving average (TA-Lib `SMA`).
pub fn sma(values: &[f64], period: usize) -> Series {
    warmed(sma_lookback(period), values.len(), |lb| {
        aligned(values.len(), lb, sma_raw(values, period))
    })
}

/// Exponential moving average (TA-Lib `EMA`): seeded with the SMA of the first
/// `period` values, `k = 2 / (period + 1)`.
pub fn ema(values: &[f64], period: usize) -> Series {
    warmed(ema_lookback(period), values.len(), |lb| {
        aligned(values.len(), lb, ema_raw(values, period, ema_k(period), lb))
    })
}

/// Linearly weighted moving average (TA-Lib `WMA`): the newest value weighs `period`,
/// the oldest 1.
pub fn wma(values: &[f64], period: usize) -> Series {
    warmed(wma_lookback(period), values.len(), |lb| {
        // TA-Lib keeps the weighted sum and the plain sum of the window and slides both,
        // which is O(1) per value; the operation order below is its.
        let divider = (period * (period + 1) / 2) as f64;
        let weight = period as f64;
        let mut period_sub = 0.0;
        let mut period_sum = 0.0;
        for (i, &x) in values[..lb].iter().enumerate() {
            period_sub += x;
            period_sum += x * (i + 1) as f64;
        }
        let mut trailing_value = 0.0;
        let mut out = Vec::with_capacity(values.len() - lb);
        for (&x, &trailing) in values[lb..].iter().zip(values) {
            period_sub += x;
            period_sub -= trailing_value;
            period_sum += x * weight;
            trailing_value = trailing;
            out.push(period_sum / divider);
            period_sum -= period_sub;
        }
        aligned(values.len(), lb, out)
    })
}

/// Relative strength index with Wilder's smoothing (TA-Lib `RSI`). A window with no
/// movement at all (average gain + loss exactly 0) reads 0, as in TA-Lib; any
/// movement counts, however small the price, so sub-cent coins work.
pub fn rsi(values: &[f64], period: usize) -> Series {
    warmed(rsi_lookback(period), values.len(), |lb| {
        let n = period as f64;
        let n1 = (period - 1) as f64;
        let value = |gain: f64, loss: f64| {
            let total = gain + loss;
            if total == 0.0 {
                0.0
            } else {
                100.0 * (gain / total)
            }
        };
        let mut gain = 0.0;
        let mut loss = 0.0;
        for w in values[..=period].windows(2) {
            add_change(w[1] - w[0], &mut gain, &mut loss);
        }
        loss /= n;
        gain /= n;
        let mut out = Vec::with_capacity(values.len() - lb);
        out.push(value(gain, loss));
        for w in values[period..].windows(2) {
            loss *= n1;
            gain *= n1;
            add_change(w[1] - w[0], &mut gain, &mut loss);
            loss /= n;
            gain /= n;
            out.push(value(gain, loss));
        }
        aligned(values.len(), lb, out)
    })
}

/// Adds a close-to-close change to the gains, or a fall to the losses, with
/// TA-Lib's operations (`loss -= change`).
fn add_change(change: f64, gain: &mut f64, loss: &mut f64) {
    if change < 0.0 {
        *loss -= change;
    } else {
        *gain += change;
    }
}

/// Moving average convergence/divergence (TA-Lib `MACD`). If `slow < fast` the two
/// are swapped, as TA-Lib does. Both EMAs are seeded at index `slow - 1`, so the
/// fast EMA here is *not* `ema(values, fast)` during the first few dozen values.
pub fn macd(values: &[f64], fast: usize, slow: usize, signal: usize) -> Macd {
    let len = values.len();
    warmed(macd_lookback(fast, slow, signal), len, |lb| {
        let (fast, slow) = if slow < fast {
            (slow, fast)
        } else {
            (fast, slow)
        };
        let start = slow - 1;
        let slow_ema = ema_raw(values, slow, ema_k(slow), start);
        let fast_ema = ema_raw(values, fast, ema_k(fast), start);
        let line: Vec<f64> = fast_ema.iter().zip(&slow_ema).map(|(f, s)| f - s).collect();
        let signal_line = ema_raw(&line, signal, ema_k(signal), signal - 1);
        let line = &line[signal - 1..];
        Macd {
            macd: aligned(len, lb, line.iter().copied()),
            signal: aligned(len, lb, signal_line.iter().copied()),
            histogram: aligned(len, lb, line.iter().zip(&signal_line).map(|(m, s)| m - s)),
        }
    })
}

/// Bollinger Bands (TA-Lib `BBANDS` with an SMA middle): `middle ± k * σ`, σ being the
/// population standard deviation of the window.
///
/// σ is computed in two passes around the middle band, `Σ(x - mean)² / n`, per window.
/// Older TA-Lib releases used the running `E[x²] - E[x]²`, which cancels badly at high
/// prices with small spreads and zeroed any variance below 1e-14. TA-Lib 0.8.1 reports
/// σ accurately at every price scale (checked on series priced down to 1e-14) and so
/// does this, agreeing with it to about 1e-12 relative rather than bit for bit, the
/// one indicator here where TA-Lib's exact rounding is not reproduced. A non-finite
/// `k` is an invalid parameter.
pub fn bbands(values: &[f64], period: usize, k: f64) -> Bands {
    let len = values.len();
    warmed(
        bbands_lookback(period).filter(|_| k.is_finite()),
        len,
        |lb| {
            let middle = sma_raw(values, period);
            let n = period as f64;
            let mut upper = Vec::with_capacity(middle.len());
            let mut lower = Vec::with_capacity(middle.len());
            for (window, &mean) in values.windows(period).zip(&middle) {
                let variance = window.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                let sd = if variance > 0.0 { variance.sqrt() } else { 0.0 };
                let width = sd * k;
                upper.push(mean + width);
                lower.push(mean - width);
            }
            Bands {
                upper: aligned(len, lb, upper),
                middle: aligned(len, lb, middle),
                lower: aligned(len, lb, lower),
            }
        },
    )
}

/// Average true range with Wilder's smoothing (TA-Lib `ATR`): the first value, at
/// index `period`, is the plain mean of the true ranges of bars `1..=period`.
/// `period == 1` gives the true range itself, as TA-Lib's `TRANGE`.
pub fn atr(bars: &[Bar], period: usize) -> Series {
    warmed(atr_lookback(period), bars.len(), |lb| {
        let ranges: Vec<f64> = bars
            .windows(2)
            .map(|w| true_range(&w[1], w[0].close))
            .collect();
        let n = period as f64;
        let n1 = (period - 1) as f64;
        let mut prev = sma_raw(&ranges[..period], period)[0];
        let mut out = Vec::with_capacity(ranges.len() + 1 - period);
        out.push(prev);
        for &tr in &ranges[period..] {
            prev *= n1;
            prev += tr;
            prev /= n;
            out.push(prev);
        }
        aligned(bars.len(), lb, out)
    })
}

/// Slow stochastic (TA-Lib `STOCH` with SMA smoothing for both %K and %D; TA-Lib's
/// defaults are 5, 3, 3). A window with `highest == lowest` has a fast %K of 0.
pub fn stoch(bars: &[Bar], fastk: usize, slowk: usize, slowd: usize) -> Stoch {
    let len = bars.len();
    warmed(stoch_lookback(fastk, slowk, slowd), len, |lb| {
        // Windows are short (a handful of bars), so rescanning each one is cheaper than
        // maintaining a monotonic deque, and yields the same extremes TA-Lib tracks.
        let fast: Vec<f64> = bars
            .windows(fastk)
            .map(|w| {
                let lowest = w.iter().map(|b| b.low).fold(f64::INFINITY, f64::min);
                let highest = w.iter().map(|b| b.high).fold(f64::NEG_INFINITY, f64::max);
                let diff = (highest - lowest) / 100.0;
                match w.last() {
                    Some(last) if diff != 0.0 => (last.close - lowest) / diff,
                    _ => 0.0,
                }
            })
            .collect();
        let k = sma_raw(&fast, slowk);
        let d = sma_raw(&k, slowd);
        Stoch {
            k: aligned(len, lb, k[slowd - 1..].iter().copied()),
            d: aligned(len, lb, d),
        }
    })
}

/// On-balance volume (TA-Lib `OBV`): starts at the first bar's volume, then adds or
/// subtracts each bar's volume as the close rises or falls.
pub fn obv(bars: &[Bar]) -> Series {
    let Some(first) = bars.first() else {
        return Vec::new();
    };
    let mut total = first.volume;
    let mut prev_close = first.close;
    bars.iter()
        .map(|bar| {
            if bar.close > prev_close {
                total += bar.volume;
            } else if bar.close < prev_close {
                total -= bar.volume;
            }
            prev_close = bar.close;
            Some(total)
        })
        .collect()
}

/// Volume-weighted average price of the typical price `(h+l+c)/3`, anchored to the
/// UTC day of `open_time`: the sums restart whenever the day changes. Not a TA-Lib
/// function. `None` while the session has had no volume, where VWAP is 0/0.
pub fn vwap(bars: &[Bar]) -> Series {
    let mut session = None;
    let mut price_volume = 0.0;
    let mut volume = 0.0;
    bars.iter()
        .map(|bar| {
            let day = bar.open_time.div_euclid(MS_PER_DAY);
            if session != Some(day) {
                session = Some(day);
                price_volume = 0.0;
                volume = 0.0;
            }
            price_volume += typical(bar) * bar.volume;
            volume += bar.volume;
            (volume != 0.0).then(|| price_volume / volume)
        })
        .collect()
}

/// Average directional index with +DI and -DI (TA-Lib `ADX`, `PLUS_DI`, `MINUS_DI`).
///
/// As in TA-Lib, the directional movement and true range sums start from `period - 1`
/// bars and are Wilder-smoothed from index `period` on; a DI whose smoothed true range
/// is 0 is 0, and a DX that is 0/0 contributes 0 to the first ADX and leaves later
/// ADX values unchanged.
pub fn adx(bars: &[Bar], period: usize) -> Adx {
    let len = bars.len();
    warmed(di_lookback(period), len, |_| {
        let adx_lb = 2 * period - 1;
        let n = period as f64;
        let n1 = (period - 1) as f64;
        let mut adx = none(len);
        let mut plus_di = none(len);
        let mut minus_di = none(len);
        let mut plus_dm = 0.0;
        let mut minus_dm = 0.0;
        let mut tr = 0.0;
        let mut sum_dx = 0.0;
        let mut prev_adx = 0.0;
        for (i, w) in bars.windows(2).enumerate() {
            let today = i + 1;
            let (prev, bar) = (&w[0], &w[1]);
            let diff_p = bar.high - prev.high;
            let diff_m = prev.low - bar.low;
            let range = true_range(bar, prev.close);
            if today < period {
                if diff_m > 0.0 && diff_p < diff_m {
                    minus_dm += diff_m;
                } else if diff_p > 0.0 && diff_p > diff_m {
                    plus_dm += diff_p;
                }
                tr += range;
                continue;
            }
            minus_dm -= minus_dm / n;
            plus_dm -= plus_dm / n;
            if diff_m > 0.0 && diff_p < diff_m {
                minus_dm += diff_m;
            } else if diff_p > 0.0 && diff_p > diff_m {
                plus_dm += diff_p;
            }
            tr = tr - tr / n + range;
            let mut dx = None;
            let (pdi, mdi) = if tr == 0.0 {
                (0.0, 0.0)
            } else {
                let mdi = 100.0 * (minus_dm / tr);
                let pdi = 100.0 * (plus_dm / tr);
                let total = mdi + pdi;
                if total != 0.0 {
                    dx = Some(100.0 * ((mdi - pdi).abs() / total));
                }
                (pdi, mdi)
            };
            plus_di[today] = Some(pdi);
            minus_di[today] = Some(mdi);
            if today < adx_lb {
                sum_dx += dx.unwrap_or(0.0);
            } else if today == adx_lb {
                sum_dx += dx.unwrap_or(0.0);
                prev_adx = sum_dx / n;
                adx[today] = Some(prev_adx);
            } else {
                if let Some(dx) = dx {
                    prev_adx = (prev_adx * n1 + dx) / n;
                }
                adx[today] = Some(prev_adx);
            }
        }
        Adx {
            adx,
            plus_di,
            minus_di,
        }
    })
}

/// Money flow index (TA-Lib `MFI`).
///
/// Follows TA-Lib 0.8's handling of flat markets: a bar whose typical price moved by
/// no more than 1e-14 of its magnitude carries no flow, a window with no flow at all
/// reads 0 (and its running sums are reset to exactly 0), and the ratio is clamped
/// into 0..=100 against drift in the running sums.
pub fn mfi(bars: &[Bar], period: usize) -> Series {
    warmed(mfi_lookback(period), bars.len(), |lb| {
        let mut positive = vec![0.0; period];
        let mut negative = vec![0.0; period];
        let mut pos_sum = 0.0;
        let mut neg_sum = 0.0;
        let mut null_run = 0;
        let mut prev_price = typical(&bars[0]);
        let mut out = Vec::with_capacity(bars.len() - lb);
        for (i, bar) in bars[1..].iter().enumerate() {
            let slot = i % period;
            // The window is full from the `period`-th flow on: drop the oldest first.
            if i >= period {
                pos_sum -= positive[slot];
                neg_sum -= negative[slot];
            }
            let price = typical(bar);
            let change = price - prev_price;
            let scale = price.abs() + prev_price.abs();
            prev_price = price;
            let flow = if change.abs() <= TA_EPSILON * scale {
                0.0
            } else {
                price * bar.volume
            };
            let (pos, neg) = if change < 0.0 {
                (0.0, flow)
            } else {
                (flow, 0.0)
            };
            positive[slot] = pos;
            negative[slot] = neg;
            pos_sum += pos;
            neg_sum += neg;
            null_run = if flow == 0.0 { null_run + 1 } else { 0 };
            if null_run >= period {
                null_run = period;
                pos_sum = 0.0;
                neg_sum = 0.0;
            }
            if i + 1 >= period {
                let total = pos_sum + neg_sum;
                // Written out rather than `clamp`, which panics when `total` is NaN.
                let pos = if pos_sum < 0.0 {
                    0.0
                } else if pos_sum > total {
                    total
                } else {
                    pos_sum
                };
                out.push(if total <= 0.0 {
                    0.0
                } else {
                    100.0 * (pos / total)
                });
            }
        }
        aligned(bars.len(), lb, out)
    })
}

/// Commodity channel index (TA-Lib `CCI`): `(tp - mean) / (0.015 * mean deviation)`
/// over typical prices. 0 when the numerator or the mean deviation is within 1e-14
/// of the mean's magnitude: on a flat window the computed mean can be an ulp off the
/// prices, and without that dead zone 1 ulp / (0.015 * 1 ulp) prints a spurious ±66.7.
///
/// The window is kept the way TA-Lib keeps it, a ring buffer indexed by
/// `bar % period` and summed in slot order, so the rounding matches too.
pub fn cci(bars: &[Bar], period: usize) -> Series {
    warmed(cci_lookback(period), bars.len(), |lb| {
        let n = period as f64;
        let mut ring = vec![0.0; period];
        for (i, bar) in bars[..lb].iter().enumerate() {
            ring[i % period] = typical(bar);
        }
        let mut out = Vec::with_capacity(bars.len() - lb);
        for (i, bar) in bars.iter().enumerate().skip(lb) {
            let last = typical(bar);
            ring[i % period] = last;
            let mean = ring.iter().sum::<f64>() / n;
            let deviation = ring.iter().map(|x| (x - mean).abs()).sum::<f64>() / n;
            let distance = last - mean;
            // "Is this window flat?" is asked relative to the price level, so the answer
            // does not depend on how the instrument is quoted.
            let flat = |v: f64| v.abs() <= TA_EPSILON * mean.abs();
            out.push(if !flat(distance) && !flat(deviation) {
                distance / (0.015 * deviation)
            } else {
                0.0
            });
        }
        aligned(bars.len(), lb, out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Candles at a price scale from 1e-8 to 1e6, with flat zero-volume bars mixed in.
    /// Magnitudes are bounded because sums of squares of 1e300 overflow in any
    /// implementation; within the range of real quotes no NaN is acceptable.
    fn bars() -> impl Strategy<Value = Vec<Bar>> {
        let bar = prop_oneof![
            3 => (0.5f64..2.0, 0.5f64..2.0, 0.0f64..0.05, 0.0f64..0.05, 0.0f64..1e6)
                .prop_map(|(o, c, up, down, v)| (o, c, o.max(c) * (1.0 + up), o.min(c) * (1.0 - down), v)),
            1 => Just((1.0, 1.0, 1.0, 1.0, 0.0)),
        ];
        (prop::collection::vec(bar, 0..120), -8i32..=6).prop_map(|(raw, exp)| {
            let scale = 10f64.powi(exp);
            raw.into_iter()
                .enumerate()
                .map(|(i, (o, c, h, l, v))| Bar {
                    // Gaps and day boundaries: 7 hours apart.
                    open_time: i as i64 * 7 * 3_600_000,
                    open: o * scale,
                    high: h * scale,
                    low: l * scale,
                    close: c * scale,
                    volume: v,
                })
                .collect()
        })
    }

    fn closes(bars: &[Bar]) -> Vec<f64> {
        bars.iter().map(|b| b.close).collect()
    }

    /// `None` exactly before `lookback`, a finite `Some` from there on.
    fn assert_warm(name: &str, series: &[Option<f64>], lookback: Option<usize>, len: usize) {
        assert_eq!(series.len(), len, "{name}: length");
        let start = lookback.unwrap_or(usize::MAX).min(len);
        for (i, v) in series.iter().enumerate() {
            match v {
                None => assert!(i < start, "{name}[{i}]: None after lookback {start}"),
                Some(v) => {
                    assert!(i >= start, "{name}[{i}]: value during lookback {start}");
                    assert!(v.is_finite(), "{name}[{i}]: {v}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn rsi_stays_within_0_and_100(bars in bars(), period in 2usize..30) {
            for v in rsi(&closes(&bars), period).into_iter().flatten() {
                prop_assert!((0.0..=100.0).contains(&v), "{v}");
            }
        }

        #[test]
        fn sma_of_a_constant_is_that_constant(
            c in -1e6f64..1e6,
            len in 0usize..200,
            period in 2usize..50,
        ) {
            for v in sma(&vec![c; len], period).into_iter().flatten() {
                prop_assert!((v - c).abs() <= 1e-12 * c.abs(), "{v} != {c}");
            }
        }

        #[test]
        fn bollinger_middle_is_the_sma(bars in bars(), period in 2usize..30, k in 0.0f64..4.0) {
            let values = closes(&bars);
            let bands = bbands(&values, period, k);
            prop_assert_eq!(bands.middle, sma(&values, period));
            for ((u, m), l) in bands.upper.iter().zip(&sma(&values, period)).zip(&bands.lower) {
                if let (Some(u), Some(m), Some(l)) = (u, m, l) {
                    prop_assert!(l <= m && m <= u);
                }
            }
        }

        #[test]
        fn no_nan_after_the_lookback(bars in bars(), p in 2usize..30, q in 1usize..10) {
            let len = bars.len();
            let values = closes(&bars);
            assert_warm("sma", &sma(&values, p), sma_lookback(p), len);
            assert_warm("ema", &ema(&values, p), ema_lookback(p), len);
            assert_warm("wma", &wma(&values, p), wma_lookback(p), len);
            assert_warm("rsi", &rsi(&values, p), rsi_lookback(p), len);
            let m = macd(&values, p, p + q, q);
            let lb = macd_lookback(p, p + q, q);
            assert_warm("macd", &m.macd, lb, len);
            assert_warm("macd signal", &m.signal, lb, len);
            assert_warm("macd histogram", &m.histogram, lb, len);
            let b = bbands(&values, p, 2.0);
            assert_warm("bb upper", &b.upper, bbands_lookback(p), len);
            assert_warm("bb lower", &b.lower, bbands_lookback(p), len);
            assert_warm("atr", &atr(&bars, q), atr_lookback(q), len);
            let s = stoch(&bars, p, q, q);
            assert_warm("stoch k", &s.k, stoch_lookback(p, q, q), len);
            assert_warm("stoch d", &s.d, stoch_lookback(p, q, q), len);
            assert_warm("obv", &obv(&bars), Some(OBV_LOOKBACK), len);
            let a = adx(&bars, p);
            assert_warm("adx", &a.adx, adx_lookback(p), len);
            assert_warm("+di", &a.plus_di, di_lookback(p), len);
            assert_warm("-di", &a.minus_di, di_lookback(p), len);
            assert_warm("mfi", &mfi(&bars, p), mfi_lookback(p), len);
            assert_warm("cci", &cci(&bars, p), cci_lookback(p), len);
            // VWAP is None only while its session has seen no volume.
            let v = vwap(&bars);
            prop_assert_eq!(v.len(), len);
            for (bar, value) in bars.iter().zip(&v) {
                match value {
                    Some(x) => prop_assert!(x.is_finite()),
                    None => prop_assert_eq!(bar.volume, 0.0),
                }
            }
        }

        #[test]
        fn any_period_and_length_gives_an_aligned_series(
            bars in bars(),
            periods in prop::collection::vec(
                prop_oneof![0usize..40, Just(MAX_PERIOD), Just(MAX_PERIOD + 1), Just(usize::MAX)],
                3,
            ),
            k in prop_oneof![-3.0f64..3.0, Just(f64::NAN), Just(f64::INFINITY)],
        ) {
            let (a, b, c) = (periods[0], periods[1], periods[2]);
            let len = bars.len();
            let values = closes(&bars);
            let all_none = |s: &[Option<f64>]| s.iter().all(Option::is_none);
            for (series, lookback) in [
                (sma(&values, a), sma_lookback(a)),
                (ema(&values, a), ema_lookback(a)),
                (wma(&values, a), wma_lookback(a)),
                (rsi(&values, a), rsi_lookback(a)),
                (macd(&values, a, b, c).signal, macd_lookback(a, b, c)),
                (bbands(&values, a, k).upper, bbands_lookback(a).filter(|_| k.is_finite())),
                (atr(&bars, a), atr_lookback(a)),
                (stoch(&bars, a, b, c).d, stoch_lookback(a, b, c)),
                (adx(&bars, a).adx, adx_lookback(a)),
                (adx(&bars, a).plus_di, di_lookback(a)),
                (mfi(&bars, a), mfi_lookback(a)),
                (cci(&bars, a), cci_lookback(a)),
            ] {
                prop_assert_eq!(series.len(), len);
                if lookback.is_none_or(|lb| lb >= len) {
                    prop_assert!(all_none(&series));
                } else if let Some(lb) = lookback {
                    prop_assert!(all_none(&series[..lb]) && series[lb].is_some());
                }
            }
        }
    }

    #[test]
    fn flat_market_conventions_match_talib() {
        let flat = vec![
            Bar {
                open_time: 0,
                open: 5.0,
                high: 5.0,
                low: 5.0,
                close: 5.0,
                volume: 0.0,
            };
            40
        ];
        let values = closes(&flat);
        let zeros = |s: Series, from: usize| {
            assert!(s[from..].iter().all(|v| *v == Some(0.0)), "{s:?}");
        };
        // No movement at all: TA-Lib prints 0 rather than 50 or NaN.
        zeros(rsi(&values, 14), 14);
        zeros(stoch(&flat, 5, 3, 3).k, 8);
        zeros(mfi(&flat, 14), 14);
        zeros(cci(&flat, 20), 19);
        let a = adx(&flat, 14);
        zeros(a.adx, 27);
        zeros(a.plus_di, 14);
        let bands = bbands(&values, 20, 2.0);
        assert_eq!(bands.upper, bands.lower);
        assert_eq!(vwap(&flat), vec![None; 40]);
    }
}
