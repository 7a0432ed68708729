//! Reference tests for `analysis::indicators`.
//!
//! The TA-Lib references in `tests/data/talib/` are produced by `generate.py` there
//! (Python `ta-lib` 0.8.2, C TA-Lib 0.8.1) from the Binance candles and from a
//! synthetic series with gaps, flat zero-volume stretches and a spike. Every value
//! must agree within [`REL_TOL`] (or [`NEAR_ZERO_TOL`] near 0) and every series must start
//! at the same index as TA-Lib's, which must also be what the `*_lookback` function
//! says. The talipp fixtures from quantedge-ta are checked as a second opinion where
//! talipp and TA-Lib agree on the convention; see `talipp_*` for the two that differ.

use std::collections::HashMap;
use std::path::PathBuf;

use crypto_mcp::analysis::indicators::{
    self, Bar, OBV_LOOKBACK, VWAP_LOOKBACK, adx, atr, bbands, cci, ema, macd, mfi, obv, rsi, sma,
    stoch, vwap, wma,
};

/// Agreement required with the references, relative to the reference value.
const REL_TOL: f64 = 1e-6;
/// Slack for values near 0, relative to the largest value of the whole series: a
/// residue like TA-Lib's -5e-14 on a 0..100 oscillator is "0", but the same absolute
/// slack would hide every error on a series of 1e-6 prices.
const NEAR_ZERO_TOL: f64 = 1e-12;

fn abs_tol(series: impl Iterator<Item = f64>) -> f64 {
    NEAR_ZERO_TOL * series.fold(0.0_f64, |max, v| max.max(v.abs()))
}

/// A CSV as column name -> cells, empty cells (TA-Lib's NaN) as `None`.
struct Table {
    columns: HashMap<String, Vec<Option<f64>>>,
}

fn data_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative)
}

fn read_table(relative: &str) -> Table {
    let path = data_path(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("empty CSV").split(',').collect();
    let mut cells: Vec<Vec<Option<f64>>> = vec![Vec::new(); header.len()];
    for (row, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), header.len(), "{relative} row {row}");
        for (column, field) in cells.iter_mut().zip(fields) {
            column.push(if field.is_empty() {
                None
            } else {
                Some(
                    field.parse().unwrap_or_else(|e| {
                        panic!("{relative} row {row}: bad number {field:?}: {e}")
                    }),
                )
            });
        }
    }
    Table {
        columns: header.iter().map(|h| h.to_string()).zip(cells).collect(),
    }
}

impl Table {
    fn column(&self, name: &str) -> &[Option<f64>] {
        self.columns
            .get(name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn numbers(&self, name: &str) -> Vec<f64> {
        self.column(name)
            .iter()
            .map(|v| v.expect("missing cell"))
            .collect()
    }
}

/// Candles from a CSV whose `open_time` is `open_time_per_ms` units per millisecond.
fn read_bars(relative: &str, open_time_per_ms: i64) -> Vec<Bar> {
    let table = read_table(relative);
    let times = table.numbers("open_time");
    let [open, high, low, close, volume] =
        ["open", "high", "low", "close", "volume"].map(|c| table.numbers(c));
    (0..times.len())
        .map(|i| Bar {
            // Exact: the timestamps are integers well below 2^53.
            open_time: times[i] as i64 / open_time_per_ms,
            open: open[i],
            high: high[i],
            low: low[i],
            close: close[i],
            volume: volume[i],
        })
        .collect()
}

/// One parameter set, mirroring `DEFAULTS`, `SHORT` and `EDGE` in generate.py.
struct Params {
    ma: usize,
    rsi: usize,
    macd: (usize, usize, usize),
    bb: (usize, f64),
    atr: usize,
    stoch: (usize, usize, usize),
    adx: usize,
    mfi: usize,
    cci: usize,
}

const DEFAULTS: Params = Params {
    ma: 20,
    rsi: 14,
    macd: (12, 26, 9),
    bb: (20, 2.0),
    atr: 14,
    stoch: (5, 3, 3),
    adx: 14,
    mfi: 14,
    cci: 20,
};

/// Short periods reach the degenerate cases (flat windows, zero volume) more often.
const SHORT: Params = Params {
    ma: 5,
    rsi: 2,
    macd: (5, 13, 4),
    bb: (5, 1.5),
    atr: 1,
    stoch: (14, 1, 2),
    adx: 2,
    mfi: 3,
    cci: 5,
};

/// The smallest periods TA-Lib accepts, MACD with fast > slow (swapped, as TA-Lib
/// does) and signal 1, a negative band multiplier, long periods.
const EDGE: Params = Params {
    ma: 2,
    rsi: 30,
    macd: (26, 12, 1),
    bb: (2, -1.0),
    atr: 30,
    stoch: (1, 1, 1),
    adx: 30,
    mfi: 30,
    cci: 2,
};

/// Candles plus the TA-Lib outputs computed from them.
struct Case {
    name: &'static str,
    bars: Vec<Bar>,
    reference: Table,
    params: &'static [Params],
}

impl Case {
    fn closes(&self) -> Vec<f64> {
        self.bars.iter().map(|b| b.close).collect()
    }

    /// Asserts `ours` equals the reference column `column` and starts at `lookback`.
    fn check(&self, column: &str, lookback: Option<usize>, ours: &[Option<f64>]) {
        let what = format!("{} {column}", self.name);
        let reference = self.reference.column(column);
        assert_eq!(ours.len(), reference.len(), "{what}: length");
        let first = |s: &[Option<f64>]| s.iter().position(Option::is_some);
        assert_eq!(first(ours), first(reference), "{what}: first value index");
        assert_eq!(first(ours), lookback, "{what}: lookback function");
        let abs_tol = abs_tol(reference.iter().flatten().copied());
        for (i, (a, b)) in ours.iter().zip(reference).enumerate() {
            match (a, b) {
                (None, None) => {}
                (Some(a), Some(b)) => assert!(
                    close_enough(*a, *b, abs_tol),
                    "{what}[{i}]: ours {a:?}, TA-Lib {b:?}"
                ),
                _ => panic!("{what}[{i}]: ours {a:?}, TA-Lib {b:?}"),
            }
        }
    }
}

fn close_enough(a: f64, b: f64, abs_tol: f64) -> bool {
    let diff = (a - b).abs();
    diff <= abs_tol || diff <= REL_TOL * b.abs()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "btcusdt-1h",
            // The Binance archive file is in microseconds.
            bars: read_bars("btcusdt-1h.csv", 1000),
            reference: read_table("talib/btcusdt-1h.csv"),
            params: std::slice::from_ref(&DEFAULTS),
        },
        Case {
            name: "synthetic",
            bars: read_bars("talib/synthetic-bars.csv", 1),
            reference: read_table("talib/synthetic.csv"),
            params: &[DEFAULTS, SHORT, EDGE],
        },
        Case {
            // The synthetic prices times 1e-8: no zero test may be an absolute band.
            name: "synthetic-tiny",
            bars: read_bars("talib/synthetic-tiny-bars.csv", 1),
            reference: read_table("talib/synthetic-tiny.csv"),
            params: &[DEFAULTS, SHORT],
        },
    ]
}

#[test]
fn fixture_copies_have_the_documented_shape() {
    let btc = read_bars("btcusdt-1h.csv", 1000);
    assert_eq!(btc.len(), 744);
    assert_eq!(
        btc[0].open_time, 1_735_689_600_000,
        "2025-01-01 00:00 UTC in ms"
    );
    let synthetic = read_bars("talib/synthetic-bars.csv", 1);
    let gaps = synthetic
        .windows(2)
        .filter(|w| w[1].open_time - w[0].open_time > 3_600_000)
        .count();
    assert!(gaps >= 4, "the synthetic series must have missing hours");
    assert!(
        synthetic.iter().any(|b| b.high == b.low && b.volume == 0.0),
        "the synthetic series must have flat zero-volume bars"
    );
}

#[test]
fn sma_matches_talib() {
    for case in cases() {
        for p in case.params {
            let ours = sma(&case.closes(), p.ma);
            case.check(
                &format!("sma_{}", p.ma),
                indicators::sma_lookback(p.ma),
                &ours,
            );
        }
    }
}

#[test]
fn ema_matches_talib() {
    for case in cases() {
        for p in case.params {
            let ours = ema(&case.closes(), p.ma);
            case.check(
                &format!("ema_{}", p.ma),
                indicators::ema_lookback(p.ma),
                &ours,
            );
        }
    }
}

#[test]
fn wma_matches_talib() {
    for case in cases() {
        for p in case.params {
            let ours = wma(&case.closes(), p.ma);
            case.check(
                &format!("wma_{}", p.ma),
                indicators::wma_lookback(p.ma),
                &ours,
            );
        }
    }
}

#[test]
fn rsi_matches_talib() {
    for case in cases() {
        for p in case.params {
            let ours = rsi(&case.closes(), p.rsi);
            case.check(
                &format!("rsi_{}", p.rsi),
                indicators::rsi_lookback(p.rsi),
                &ours,
            );
        }
    }
}

#[test]
fn macd_matches_talib() {
    for case in cases() {
        for p in case.params {
            let (f, s, g) = p.macd;
            let ours = macd(&case.closes(), f, s, g);
            let lookback = indicators::macd_lookback(f, s, g);
            let suffix = format!("{f}_{s}_{g}");
            case.check(&format!("macd_{suffix}"), lookback, &ours.macd);
            case.check(&format!("macd_signal_{suffix}"), lookback, &ours.signal);
            case.check(&format!("macd_hist_{suffix}"), lookback, &ours.histogram);
        }
    }
}

#[test]
fn bbands_matches_talib() {
    for case in cases() {
        for p in case.params {
            let (period, k) = p.bb;
            let ours = bbands(&case.closes(), period, k);
            let lookback = indicators::bbands_lookback(period);
            let suffix = format!("{period}_{k:?}");
            case.check(&format!("bb_upper_{suffix}"), lookback, &ours.upper);
            case.check(&format!("bb_middle_{suffix}"), lookback, &ours.middle);
            case.check(&format!("bb_lower_{suffix}"), lookback, &ours.lower);
        }
    }
}

#[test]
fn atr_matches_talib() {
    for case in cases() {
        for p in case.params {
            let ours = atr(&case.bars, p.atr);
            case.check(
                &format!("atr_{}", p.atr),
                indicators::atr_lookback(p.atr),
                &ours,
            );
        }
    }
}

#[test]
fn stoch_matches_talib() {
    for case in cases() {
        for p in case.params {
            let (fk, sk, sd) = p.stoch;
            let ours = stoch(&case.bars, fk, sk, sd);
            let lookback = indicators::stoch_lookback(fk, sk, sd);
            case.check(&format!("stoch_k_{fk}_{sk}_{sd}"), lookback, &ours.k);
            case.check(&format!("stoch_d_{fk}_{sk}_{sd}"), lookback, &ours.d);
        }
    }
}

#[test]
fn obv_matches_talib() {
    for case in cases() {
        case.check("obv", Some(OBV_LOOKBACK), &obv(&case.bars));
    }
}

#[test]
fn vwap_matches_the_per_day_pandas_reference() {
    for case in cases() {
        let ours = vwap(&case.bars);
        // The synthetic series opens with zero-volume bars, so its first VWAP comes
        // later than the lookback; the per-index check below still covers it.
        let first = case
            .reference
            .column("vwap")
            .iter()
            .position(Option::is_some);
        case.check("vwap", first, &ours);
        if case.name == "btcusdt-1h" {
            assert_eq!(first, Some(VWAP_LOOKBACK));
        }
    }
}

#[test]
fn vwap_resets_at_utc_midnight() {
    let bar = |open_time, price, volume| Bar {
        open_time,
        open: price,
        high: price,
        low: price,
        close: price,
        volume,
    };
    let day = 86_400_000;
    let bars = [
        bar(day - 3_600_000, 10.0, 1.0),
        bar(day - 1, 20.0, 1.0),
        bar(day, 40.0, 1.0),
        bar(day + 3_600_000, 0.0, 0.0),
    ];
    assert_eq!(
        vwap(&bars),
        vec![Some(10.0), Some(15.0), Some(40.0), Some(40.0)]
    );
    // A session that has traded nothing yet has no VWAP.
    assert_eq!(vwap(&[bar(0, 5.0, 0.0)]), vec![None]);
}

#[test]
fn adx_matches_talib() {
    for case in cases() {
        for p in case.params {
            let ours = adx(&case.bars, p.adx);
            let n = p.adx;
            case.check(&format!("adx_{n}"), indicators::adx_lookback(n), &ours.adx);
            case.check(
                &format!("plus_di_{n}"),
                indicators::di_lookback(n),
                &ours.plus_di,
            );
            case.check(
                &format!("minus_di_{n}"),
                indicators::di_lookback(n),
                &ours.minus_di,
            );
        }
    }
}

#[test]
fn mfi_matches_talib() {
    for case in cases() {
        for p in case.params {
            let ours = mfi(&case.bars, p.mfi);
            case.check(
                &format!("mfi_{}", p.mfi),
                indicators::mfi_lookback(p.mfi),
                &ours,
            );
        }
    }
}

#[test]
fn cci_matches_talib() {
    for case in cases() {
        for p in case.params {
            let ours = cci(&case.bars, p.cci);
            case.check(
                &format!("cci_{}", p.cci),
                indicators::cci_lookback(p.cci),
                &ours,
            );
        }
    }
}

/// Compares `ours` with a talipp fixture column from index `from` on; talipp files
/// list only the bars that have a value, keyed by open time in microseconds.
fn check_talipp(file: &str, column: &str, ours: &[Option<f64>], from: usize) {
    let bars = read_bars("btcusdt-1h.csv", 1000);
    let index: HashMap<i64, usize> = bars
        .iter()
        .enumerate()
        .map(|(i, b)| (b.open_time, i))
        .collect();
    let fixture = read_table(&format!("talipp/{file}"));
    let times = fixture.numbers("open_time");
    let values = fixture.numbers(column);
    assert_eq!(times.len(), values.len());
    let abs_tol = abs_tol(values.iter().copied());
    let mut compared = 0;
    for (time, expected) in times.iter().zip(values) {
        let i = index[&(*time as i64 / 1000)];
        if i < from {
            continue;
        }
        let got = ours[i].unwrap_or_else(|| panic!("{file} {column}[{i}]: ours is None"));
        assert!(
            close_enough(got, expected, abs_tol),
            "{file} {column}[{i}]: ours {got}, talipp {expected}"
        );
        compared += 1;
    }
    assert!(compared > 400, "{file}: only {compared} values compared");
}

/// Index of the first bar a talipp fixture has a value for.
fn talipp_start(file: &str) -> usize {
    let first = read_table(&format!("talipp/{file}")).numbers("open_time")[0] as i64 / 1000;
    let bars = read_bars("btcusdt-1h.csv", 1000);
    bars.iter()
        .position(|b| b.open_time == first)
        .expect("fixture time not in candles")
}

#[test]
fn talipp_agrees_where_conventions_coincide() {
    let bars = read_bars("btcusdt-1h.csv", 1000);
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    check_talipp("sma-20-close.csv", "expected", &sma(&closes, 20), 0);
    check_talipp("ema-20-close.csv", "expected", &ema(&closes, 20), 0);
    check_talipp("rsi-14-close.csv", "expected", &rsi(&closes, 14), 0);
    let bands = bbands(&closes, 20, 2.0);
    check_talipp("bb-20-2-close.csv", "upper", &bands.upper, 0);
    check_talipp("bb-20-2-close.csv", "middle", &bands.middle, 0);
    check_talipp("bb-20-2-close.csv", "lower", &bands.lower, 0);
    for (file, lookback) in [
        ("sma-20-close.csv", 19),
        ("ema-20-close.csv", 19),
        ("rsi-14-close.csv", 14),
        ("bb-20-2-close.csv", 19),
        ("macd-12-26-9-close.csv", 33),
    ] {
        assert_eq!(talipp_start(file), lookback, "{file}");
    }
}

/// talipp seeds MACD's fast EMA at index 11 (its own SMA warm-up); TA-Lib seeds it at
/// index 25 with the slow one. Both start printing at 33, the values differ by up to
/// 15% of the histogram at first and the gap decays geometrically, so from bar 200 on
/// the two agree within tolerance.
#[test]
fn talipp_macd_converges_to_talib() {
    let closes: Vec<f64> = read_bars("btcusdt-1h.csv", 1000)
        .iter()
        .map(|b| b.close)
        .collect();
    let ours = macd(&closes, 12, 26, 9);
    let file = "macd-12-26-9-close.csv";
    check_talipp(file, "macd", &ours.macd, 200);
    check_talipp(file, "signal", &ours.signal, 200);
    check_talipp(file, "histogram", &ours.histogram, 200);
}

/// talipp's ATR starts one bar earlier than TA-Lib's (index 13: it counts the first
/// bar's high-low as a true range) and so seeds with a different mean. TA-Lib wins the
/// warm-up; Wilder smoothing forgets the seed, so from bar 300 on they agree.
#[test]
fn talipp_atr_converges_to_talib() {
    let bars = read_bars("btcusdt-1h.csv", 1000);
    assert_eq!(talipp_start("atr-14.csv"), 13);
    assert_eq!(indicators::atr_lookback(14), Some(14));
    check_talipp("atr-14.csv", "expected", &atr(&bars, 14), 300);
}
