#!/usr/bin/env python3
"""Generate the TA-Lib reference CSVs that tests/api/indicators.rs compares against.

Generated with: Python TA-Lib wrapper `ta-lib` 0.8.2 from PyPI (manylinux wheel with the
C library bundled; talib.__ta_version__ reports C TA-Lib "0.8.1"), numpy 2.4.6,
pandas 3.1.1, Python 3.11.7. The script refuses to run against another C TA-Lib
version so that regenerated files are comparable.

Inputs:
  ../btcusdt-1h.csv   real Binance BTCUSDT 1h candles (open_time in MICROseconds),
                      see ../README.md for source and license.
  synthetic series    built below, deterministically (no randomness from outside):
                      hourly bars with missing hours (including a gap across a UTC
                      midnight), flat stretches where O=H=L=C and volume 0 (one at the
                      very start, so every window sees a fully flat input), and a spike.
                      Written to synthetic-bars.csv with open_time in MILLIseconds.

Outputs (full float precision via repr, NaN written as an empty cell):
  btcusdt-1h.csv      one column per indicator output on the real candles
  synthetic-bars.csv  the synthetic candles themselves
  synthetic.csv       one column per indicator output on the synthetic candles
  synthetic-tiny-bars.csv, synthetic-tiny.csv
                      the same series with every price multiplied by 1e-8 (a memecoin
                      quote), to pin that no zero test in TA-Lib 0.8 is an absolute
                      threshold
  btcusdt-1h-last200.csv
                      the outputs over only the LAST 200 real candles: the window the
                      fake Binance serves for BTCUSDT 1h limit=200, which
                      tests/api/analysis/technical_analysis.rs asks technical_analysis
                      for. Adds ema_50 and sma_200 (the tool's default averages).
  btcusdt-5m-last5000.csv
                      the outputs over the 5000 candles of btcusdt-5m-last5000-bars.csv
                      (the fake Binance's last 5000 BTCUSDT 5m candles, which it derives
                      from the real hourly ones; written by the ignored Rust test
                      regenerate_the_long_window_bars), the long window
                      tests/api/analysis/long_window.rs asks technical_analysis for.
                      Only the last 50 rows are written: the tool lists at most 50.

VWAP is NOT a TA-Lib function. Its column is computed here with plain pandas: typical
price (h+l+c)/3, cumulative sum of typical*volume over cumulative volume, reset at each
UTC day boundary of open_time. A session whose cumulative volume is still 0 has no
VWAP (0/0), written as an empty cell.

Run from anywhere: python3 tests/data/talib/generate.py
"""

import math
import os

import numpy as np
import pandas as pd
import talib

EXPECTED_C_VERSION = "0.8.1"

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
TINY_SCALE = 1e-8
# Candles technical_analysis computes over by default (and the fake serves for limit=200).
WINDOW = 200
# Rows kept of the long window's references: the most values the tool lists.
LONG_TAIL = 50


def load_fixture():
    df = pd.read_csv(os.path.join(DATA, "btcusdt-1h.csv"))
    # The fixture is in microseconds; everything downstream works in milliseconds.
    df["open_time"] = df["open_time"] // 1000
    return df


def synthetic():
    """A few hundred hourly bars exercising the degenerate paths of every indicator."""
    rows = []
    t = 1_740_787_200_000  # 2025-03-01 00:00 UTC
    price = 100.0
    # Deterministic pseudo-random walk: a tiny LCG so the series does not depend on
    # numpy's generator implementation.
    state = 12345

    def rnd():
        nonlocal state
        state = (state * 1103515245 + 12345) % (2**31)
        return state / 2**31

    for i in range(360):
        # Missing hours: skip a few timestamps, including a 5-hour hole across midnight.
        if i in (40, 41, 90, 200):
            t += MS_PER_HOUR * 3
        if i == 140:
            t += MS_PER_HOUR * 5
        flat = i < 30 or 150 <= i < 185 or 300 <= i < 303
        if flat:
            o = h = l = c = price
            v = 0.0
        else:
            o = price
            c = round(o * (1 + (rnd() - 0.5) * 0.04), 2)
            h = round(max(o, c) * (1 + rnd() * 0.01), 2)
            l = round(min(o, c) * (1 - rnd() * 0.01), 2)
            v = round(rnd() * 50, 4)
            if i == 250:  # spike: a huge wick and volume burst, close back near open
                h = round(o * 3, 2)
                c = round(o * 1.05, 2)
                v = 100_000.0
            if i == 251:
                l = round(o * 0.3, 2)
            price = c
        rows.append((t, o, h, l, c, v))
        t += MS_PER_HOUR
    return pd.DataFrame(rows, columns=["open_time", "open", "high", "low", "close", "volume"])


def vwap(df):
    day = df["open_time"] // MS_PER_DAY
    tp = (df["high"] + df["low"] + df["close"]) / 3.0
    pv = (tp * df["volume"]).groupby(day).cumsum()
    vol = df["volume"].groupby(day).cumsum()
    out = pv / vol
    return out.where(vol != 0.0)


def indicators(df, p):
    """Every output column for one parameter set `p`."""
    o, h, l, c, v = (df[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close", "volume"))
    cols = {}
    cols[f"sma_{p['ma']}"] = talib.SMA(c, p["ma"])
    cols[f"ema_{p['ma']}"] = talib.EMA(c, p["ma"])
    cols[f"wma_{p['ma']}"] = talib.WMA(c, p["ma"])
    cols[f"rsi_{p['rsi']}"] = talib.RSI(c, p["rsi"])
    f, s, g = p["macd"]
    m, ms, mh = talib.MACD(c, f, s, g)
    cols[f"macd_{f}_{s}_{g}"], cols[f"macd_signal_{f}_{s}_{g}"], cols[f"macd_hist_{f}_{s}_{g}"] = m, ms, mh
    bp, bk = p["bb"]
    u, mid, lo = talib.BBANDS(c, bp, bk, bk, talib.MA_Type.SMA)
    cols[f"bb_upper_{bp}_{bk}"], cols[f"bb_middle_{bp}_{bk}"], cols[f"bb_lower_{bp}_{bk}"] = u, mid, lo
    cols[f"atr_{p['atr']}"] = talib.ATR(h, l, c, p["atr"])
    fk, sk, sd = p["stoch"]
    k, d = talib.STOCH(h, l, c, fk, sk, talib.MA_Type.SMA, sd, talib.MA_Type.SMA)
    cols[f"stoch_k_{fk}_{sk}_{sd}"], cols[f"stoch_d_{fk}_{sk}_{sd}"] = k, d
    cols[f"adx_{p['adx']}"] = talib.ADX(h, l, c, p["adx"])
    cols[f"plus_di_{p['adx']}"] = talib.PLUS_DI(h, l, c, p["adx"])
    cols[f"minus_di_{p['adx']}"] = talib.MINUS_DI(h, l, c, p["adx"])
    cols[f"mfi_{p['mfi']}"] = talib.MFI(h, l, c, v, p["mfi"])
    cols[f"cci_{p['cci']}"] = talib.CCI(h, l, c, p["cci"])
    return cols


DEFAULTS = dict(ma=20, rsi=14, macd=(12, 26, 9), bb=(20, 2.0), atr=14, stoch=(5, 3, 3), adx=14, mfi=14, cci=20)
# Short periods reach the degenerate cases (flat windows, zero volume) more often.
SHORT = dict(ma=5, rsi=2, macd=(5, 13, 4), bb=(5, 1.5), atr=1, stoch=(14, 1, 2), adx=2, mfi=3, cci=5)
# Edge parameters: the smallest periods TA-Lib accepts, MACD with fast > slow (TA-Lib
# swaps them) and signal 1, a negative band multiplier, long periods.
EDGE = dict(ma=2, rsi=30, macd=(26, 12, 1), bb=(2, -1.0), atr=30, stoch=(1, 1, 1), adx=30, mfi=30, cci=2)


def fmt(x):
    x = float(x)
    return "" if math.isnan(x) else repr(x)


def write(path, df, param_sets, extra=None, tail=None):
    """Every output over all of `df`; only the last `tail` rows written when given."""
    out = {"open_time": df["open_time"].to_numpy()}
    for p in param_sets:
        out.update(indicators(df, p))
    if extra:
        out.update(extra(df))
    out["obv"] = talib.OBV(df["close"].to_numpy(dtype=float), df["volume"].to_numpy(dtype=float))
    out["vwap"] = vwap(df).to_numpy()
    names = list(out)
    with open(path, "w", newline="\n") as fh:
        fh.write(",".join(names) + "\n")
        first = 0 if tail is None else len(df) - tail
        for i in range(first, len(df)):
            cells = [str(int(out["open_time"][i]))] + [fmt(out[n][i]) for n in names[1:]]
            fh.write(",".join(cells) + "\n")


def write_bars(path, df):
    with open(path, "w", newline="\n") as fh:
        fh.write("open_time,open,high,low,close,volume\n")
        for r in df.itertuples(index=False):
            fh.write(",".join([str(int(r.open_time))] + [repr(float(x)) for x in r[1:]]) + "\n")


def main():
    version = talib.__ta_version__.decode().split()[0]
    if version != EXPECTED_C_VERSION:
        raise SystemExit(f"C TA-Lib {version} != {EXPECTED_C_VERSION}: update the header first")

    write(os.path.join(HERE, "btcusdt-1h.csv"), load_fixture(), [DEFAULTS])

    window = load_fixture().tail(WINDOW).reset_index(drop=True)
    long_averages = lambda df: {
        "ema_50": talib.EMA(df["close"].to_numpy(dtype=float), 50),
        "sma_200": talib.SMA(df["close"].to_numpy(dtype=float), 200),
    }
    write(os.path.join(HERE, "btcusdt-1h-last200.csv"), window, [DEFAULTS], long_averages)

    long_window = pd.read_csv(os.path.join(HERE, "btcusdt-5m-last5000-bars.csv"))
    write(os.path.join(HERE, "btcusdt-5m-last5000.csv"), long_window, [DEFAULTS], long_averages, tail=LONG_TAIL)

    syn = synthetic()
    write_bars(os.path.join(HERE, "synthetic-bars.csv"), syn)
    # Re-read what was written so the references are computed from exactly the bytes
    # the Rust tests parse.
    syn = pd.read_csv(os.path.join(HERE, "synthetic-bars.csv"))
    write(os.path.join(HERE, "synthetic.csv"), syn, [DEFAULTS, SHORT, EDGE])

    tiny = syn.copy()
    for k in ("open", "high", "low", "close"):
        tiny[k] = tiny[k] * TINY_SCALE
    write_bars(os.path.join(HERE, "synthetic-tiny-bars.csv"), tiny)
    tiny = pd.read_csv(os.path.join(HERE, "synthetic-tiny-bars.csv"))
    write(os.path.join(HERE, "synthetic-tiny.csv"), tiny, [DEFAULTS, SHORT])


if __name__ == "__main__":
    main()
