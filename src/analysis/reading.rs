//! The plain-language reading `technical_analysis` returns beside its numbers.
//!
//! Each rule is a small pure function from indicator values to one sentence
//! that quotes the numbers it used, so a model can repeat it and a person
//! can check it. Nothing here guesses or predicts: the thresholds below are
//! the textbook ones, stated once, and documented in `docs/analysis.md`.

/// RSI at or above this is called overbought (Wilder's level).
pub const RSI_OVERBOUGHT: f64 = 70.0;
/// RSI at or below this is called oversold (Wilder's level).
pub const RSI_OVERSOLD: f64 = 30.0;
/// A close within this share of the band width from a band is "near" it
/// (%B of 0.8 or more, 0.2 or less).
pub const NEAR_BAND: f64 = 0.2;
/// Candles over which "usual" band width and ATR are averaged: about one
/// Bollinger period, recent enough to describe the current regime.
pub const RECENT_WINDOW: usize = 20;
/// Band width below this share of its recent average is a squeeze, above
/// [`WIDE_RATIO`] wide; in between it is usual.
pub const SQUEEZE_RATIO: f64 = 0.75;
/// See [`SQUEEZE_RATIO`].
pub const WIDE_RATIO: f64 = 1.25;
/// ATR above this share of its recent average is elevated volatility, below
/// [`SUBDUED_RATIO`] subdued.
pub const ELEVATED_RATIO: f64 = 1.2;
/// See [`ELEVATED_RATIO`].
pub const SUBDUED_RATIO: f64 = 0.8;

/// Trend: where the close sits against each moving average. Above all of
/// them reads as an uptrend, below all as a downtrend, anything else mixed.
/// `averages` holds (label, latest value), e.g. ("EMA 50", 97000.0).
pub fn trend(close: f64, averages: &[(String, f64)]) -> Option<String> {
    if averages.is_empty() {
        return None;
    }
    let above = averages.iter().filter(|(_, ma)| close > *ma).count();
    let below = averages.iter().filter(|(_, ma)| close < *ma).count();
    let detail: Vec<String> = averages
        .iter()
        .map(|(label, ma)| format!("{label} {} ({})", num(*ma), signed_pct(close, *ma)))
        .collect();
    let verdict = if above == averages.len() {
        "above every moving average: uptrend"
    } else if below == averages.len() {
        "below every moving average: downtrend"
    } else {
        "above some moving averages and not others: mixed, no clear trend"
    };
    Some(format!(
        "Trend: the close {} is {verdict}. {}.",
        num(close),
        detail.join(", ")
    ))
}

/// RSI zone: overbought at 70 or more, oversold at 30 or less, otherwise
/// the side of the 50 midline; plus the direction since the previous candle.
pub fn rsi_zone(label: &str, latest: f64, previous: Option<f64>) -> String {
    let zone = if latest >= RSI_OVERBOUGHT {
        format!("overbought (at or above {RSI_OVERBOUGHT})")
    } else if latest <= RSI_OVERSOLD {
        format!("oversold (at or below {RSI_OVERSOLD})")
    } else if latest > 50.0 {
        "between 50 and 70: the bullish side of neutral".to_owned()
    } else if latest < 50.0 {
        "between 30 and 50: the bearish side of neutral".to_owned()
    } else {
        "exactly neutral (50)".to_owned()
    };
    format!(
        "Momentum: {label} is {}, {zone}{}.",
        fixed(latest),
        since(latest, previous)
    )
}

/// MACD cross: a cross on the latest candle when MACD moved from at-or-below
/// its signal to above it (bullish) or the reverse (bearish); otherwise which
/// side it is on, for how many candles, the zero line, and whether the
/// histogram grew (momentum strengthening) or shrank.
pub fn macd_cross(label: &str, macd: &[Option<f64>], signal: &[Option<f64>]) -> Option<String> {
    let pairs: Vec<(f64, f64)> = macd
        .iter()
        .zip(signal)
        .filter_map(|(m, s)| Some(((*m)?, (*s)?)))
        .collect();
    let &(m1, s1) = pairs.last()?;
    let zero = if m1 > 0.0 {
        "above zero"
    } else if m1 < 0.0 {
        "below zero"
    } else {
        "at zero"
    };
    let head = format!("{label}: MACD {} vs signal {}, {zero}", num(m1), num(s1));
    let Some(&(m0, s0)) = pairs.len().checked_sub(2).and_then(|i| pairs.get(i)) else {
        return Some(format!("{head}."));
    };
    if m0 <= s0 && m1 > s1 {
        return Some(format!(
            "{head}; bullish cross: MACD crossed above its signal on the latest candle."
        ));
    }
    if m0 >= s0 && m1 < s1 {
        return Some(format!(
            "{head}; bearish cross: MACD crossed below its signal on the latest candle."
        ));
    }
    let side = if m1 > s1 {
        "above"
    } else if m1 < s1 {
        "below"
    } else {
        "level with"
    };
    let run = pairs
        .iter()
        .rev()
        .take_while(|(m, s)| (m - s).signum() == (m1 - s1).signum())
        .count();
    let momentum = if (m1 - s1).abs() > (m0 - s0).abs() {
        "histogram widening: momentum strengthening"
    } else {
        "histogram narrowing: momentum fading"
    };
    Some(format!(
        "{head}; MACD has been {side} its signal for {run} candle(s), no cross on the latest candle, {momentum}."
    ))
}

/// Band position: %B = (close − lower) / (upper − lower) places the close
/// outside the bands, near one (within [`NEAR_BAND`] of the width) or
/// away from both.
pub fn bands(label: &str, close: f64, upper: f64, middle: f64, lower: f64) -> String {
    let span = upper - lower;
    if span <= 0.0 {
        return format!("{label}: the bands have zero width (prices were flat over the period).");
    }
    let percent_b = (close - lower) / span;
    let position = if close > upper {
        "above the upper band"
    } else if close < lower {
        "below the lower band"
    } else if percent_b >= 1.0 - NEAR_BAND {
        "inside the bands, near the upper band"
    } else if percent_b <= NEAR_BAND {
        "inside the bands, near the lower band"
    } else {
        "inside the bands, away from both"
    };
    format!(
        "{label}: the close is {position} (%B {}; upper {}, middle {}, lower {}).",
        fixed(percent_b),
        num(upper),
        num(middle),
        num(lower)
    )
}

/// Band width: (upper − lower) / middle, compared with its average over the
/// last [`RECENT_WINDOW`] candles: below 0.75× is a squeeze, above 1.25×
/// wide. `widths` holds those widths, latest last; `None` when empty.
pub fn band_width(widths: &[f64]) -> Option<String> {
    let (&latest, _) = widths.split_last()?;
    let average = mean(widths)?;
    if average <= 0.0 {
        return None;
    }
    let ratio = latest / average;
    let verdict = if ratio < SQUEEZE_RATIO {
        "narrow: a squeeze (volatility compressed)"
    } else if ratio > WIDE_RATIO {
        "wide: volatility expanded"
    } else {
        "about usual"
    };
    Some(format!(
        "Band width is {}% of the middle band, {}× its {}-candle average: {verdict}.",
        fixed(latest * 100.0),
        fixed(ratio),
        widths.len()
    ))
}

/// Volatility: the latest ATR against its average over the last
/// [`RECENT_WINDOW`] candles: above 1.2× is elevated, below 0.8× subdued.
/// `recent` holds those ATR values, latest last.
pub fn volatility(label: &str, recent: &[f64], close: f64) -> Option<String> {
    let (&latest, _) = recent.split_last()?;
    let average = mean(recent)?;
    if average <= 0.0 {
        return Some(format!(
            "Volatility: {label} is {} (no price movement over the period).",
            num(latest)
        ));
    }
    let ratio = latest / average;
    let verdict = if ratio > ELEVATED_RATIO {
        "elevated"
    } else if ratio < SUBDUED_RATIO {
        "subdued"
    } else {
        "about average"
    };
    let of_close = if close > 0.0 {
        format!(" ({}% of the close)", fixed(latest / close * 100.0))
    } else {
        String::new()
    };
    Some(format!(
        "Volatility: {label} is {}{of_close}, {}× its {}-candle average: {verdict}.",
        num(latest),
        fixed(ratio),
        recent.len()
    ))
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn since(latest: f64, previous: Option<f64>) -> String {
    match previous {
        Some(p) if latest > p => format!(", rising from {}", fixed(p)),
        Some(p) if latest < p => format!(", falling from {}", fixed(p)),
        Some(_) => ", unchanged from the previous candle".to_owned(),
        None => String::new(),
    }
}

fn signed_pct(value: f64, reference: f64) -> String {
    if reference == 0.0 {
        return "n/a".to_owned();
    }
    let pct = (value - reference) / reference * 100.0;
    format!("{}{}%", if pct >= 0.0 { "+" } else { "" }, fixed(pct))
}

/// A price or indicator value for prose: eight significant digits, as the
/// tool's numbers, so the sentence quotes exactly what the data shows.
pub fn num(value: f64) -> String {
    round_significant(value, 8).to_string()
}

/// A percentage, ratio or oscillator for prose: two decimals.
pub fn fixed(value: f64) -> String {
    format!("{value:.2}")
}

/// `value` rounded to `digits` significant digits (via the exact decimal
/// rendering, so 0.1 stays 0.1).
pub fn round_significant(value: f64, digits: usize) -> f64 {
    if !value.is_finite() || value == 0.0 {
        return value;
    }
    format!("{value:.*e}", digits.saturating_sub(1))
        .parse()
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mas(values: &[(&str, f64)]) -> Vec<(String, f64)> {
        values.iter().map(|(l, v)| (l.to_string(), *v)).collect()
    }

    #[test]
    fn trend_needs_all_averages_on_one_side() {
        let up = trend(110.0, &mas(&[("EMA 20", 100.0), ("SMA 50", 105.0)])).expect("some");
        assert!(up.contains("uptrend"), "{up}");
        assert!(up.contains("EMA 20 100 (+10.00%)"), "{up}");
        let down = trend(90.0, &mas(&[("EMA 20", 100.0)])).expect("some");
        assert!(down.contains("downtrend"), "{down}");
        let mixed = trend(102.0, &mas(&[("EMA 20", 100.0), ("SMA 50", 105.0)])).expect("some");
        assert!(mixed.contains("mixed"), "{mixed}");
        // On an average is neither above nor below it.
        let on = trend(100.0, &mas(&[("EMA 20", 100.0)])).expect("some");
        assert!(on.contains("mixed"), "{on}");
        assert_eq!(trend(1.0, &[]), None);
    }

    #[test]
    fn rsi_zones_follow_wilders_levels() {
        assert!(rsi_zone("RSI 14", 70.0, None).contains("overbought"));
        assert!(rsi_zone("RSI 14", 30.0, None).contains("oversold"));
        assert!(rsi_zone("RSI 14", 55.0, Some(50.0)).contains("bullish side"));
        assert!(rsi_zone("RSI 14", 55.0, Some(50.0)).contains("55.00, between 50 and 70"));
        assert!(rsi_zone("RSI 14", 55.0, Some(50.0)).contains("rising from 50.00"));
        assert!(rsi_zone("RSI 14", 45.0, Some(50.0)).contains("bearish side"));
        assert!(rsi_zone("RSI 14", 45.0, Some(50.0)).contains("falling from 50.00"));
        assert!(rsi_zone("RSI 14", 50.0, Some(50.0)).contains("neutral (50)"));
    }

    #[test]
    fn macd_crosses_are_on_the_latest_candle_only() {
        let bull = macd_cross("MACD", &[Some(-1.0), Some(1.0)], &[Some(0.0), Some(0.0)]);
        assert!(bull.expect("some").contains("bullish cross"));
        let bear = macd_cross("MACD", &[Some(1.0), Some(-1.0)], &[Some(0.0), Some(0.0)]);
        assert!(bear.expect("some").contains("bearish cross"));
        let above = macd_cross(
            "MACD",
            &[None, Some(2.0), Some(3.0), Some(3.5)],
            &[None, Some(1.0), Some(1.0), Some(1.0)],
        )
        .expect("some");
        assert!(
            above.contains("above its signal for 3 candle(s)"),
            "{above}"
        );
        assert!(above.contains("widening"), "{above}");
        assert!(above.contains("above zero"), "{above}");
        assert_eq!(macd_cross("MACD", &[None], &[None]), None);
    }

    #[test]
    fn band_position_uses_percent_b() {
        assert!(bands("BB", 111.0, 110.0, 100.0, 90.0).contains("above the upper band"));
        assert!(bands("BB", 89.0, 110.0, 100.0, 90.0).contains("below the lower band"));
        assert!(bands("BB", 107.0, 110.0, 100.0, 90.0).contains("near the upper band"));
        assert!(bands("BB", 93.0, 110.0, 100.0, 90.0).contains("near the lower band"));
        assert!(bands("BB", 100.0, 110.0, 100.0, 90.0).contains("away from both"));
        assert!(bands("BB", 100.0, 100.0, 100.0, 100.0).contains("zero width"));
    }

    #[test]
    fn band_width_and_atr_compare_with_their_recent_average() {
        let squeeze = band_width(&[0.1, 0.1, 0.1, 0.05]).expect("some");
        assert!(squeeze.contains("squeeze"), "{squeeze}");
        let wide = band_width(&[0.1, 0.1, 0.1, 0.3]).expect("some");
        assert!(wide.contains("wide"), "{wide}");
        assert!(
            band_width(&[0.1, 0.1])
                .expect("some")
                .contains("about usual")
        );
        assert_eq!(band_width(&[]), None);

        let hot = volatility("ATR 14", &[1.0, 1.0, 1.0, 2.0], 100.0).expect("some");
        assert!(
            hot.contains("elevated") && hot.contains("2.00% of the close"),
            "{hot}"
        );
        let calm = volatility("ATR 14", &[1.0, 1.0, 1.0, 0.5], 100.0).expect("some");
        assert!(calm.contains("subdued"), "{calm}");
        let flat = volatility("ATR 14", &[0.0, 0.0], 100.0).expect("some");
        assert!(flat.contains("no price movement"), "{flat}");
    }

    #[test]
    fn numbers_are_rounded_for_prose() {
        assert_eq!(num(102345.678), "102345.68");
        assert_eq!(num(0.000012345678901), "0.000012345679");
        assert_eq!(fixed(1.23456), "1.23");
        assert_eq!(round_significant(1.23456789, 8), 1.2345679);
        assert_eq!(num(0.0), "0");
    }
}
