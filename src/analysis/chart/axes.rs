//! Axes and labels: round tick steps, number formats, and the UTC time
//! axis, whose calendar comes from `jiff`.

use jiff::Span;
use jiff::civil::{Date, date};

pub(super) const MINUTE_MS: i64 = 60_000;
pub(super) const HOUR_MS: i64 = 60 * MINUTE_MS;
pub(super) const DAY_MS: i64 = 24 * HOUR_MS;

/// A round step (1, 2, 2.5 or 5 × 10ⁿ) giving about `target` ticks.
pub(super) fn nice_step(range: f64, target: f32) -> f64 {
    let raw = range / f64::from(target.max(1.0));
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let nice = [1.0, 2.0, 2.5, 5.0]
        .into_iter()
        .find(|n| *n >= norm)
        .unwrap_or(10.0);
    nice * magnitude
}

/// Multiples of `step` within `[lo, hi]`.
pub(super) fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Fewest decimals that print every multiple of `step` exactly.
pub(super) fn decimals_for_step(step: f64) -> usize {
    (0..=10)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(10)
}

/// Decimals that show a price to about five significant digits, never fewer
/// than two (how exchanges quote).
pub(super) fn price_decimals(price: f64) -> usize {
    if price == 0.0 {
        return 2;
    }
    (4.0 - price.abs().log10().floor()).clamp(2.0, 8.0) as usize
}

/// `1234567.891` with 2 decimals → `1,234,567.89`.
pub(super) fn format_number(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3 + 1);
    if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Volumes as `850`, `12.3K`, `4.56M`, `7.89B`.
pub(super) fn format_compact(value: f64) -> String {
    let units = [(1e9, "B"), (1e6, "M"), (1e3, "K")];
    for (size, suffix) in units {
        if value >= size {
            return format!("{:.2}{suffix}", value / size);
        }
    }
    format!("{value:.0}")
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The Unix epoch as a civil date: day counts are taken from it.
const EPOCH: Date = date(1970, 1, 1);

/// A UTC calendar time, to the minute.
struct Utc {
    year: i16,
    month: i8,
    day: i8,
    hour: i64,
    minute: i64,
}

/// The UTC calendar time of `ms`. Civil dates, not timestamps, so the
/// whole accepted range (to 9999-12-31) is covered; `None` past it.
fn utc(ms: i64) -> Option<Utc> {
    let day = EPOCH
        .checked_add(Span::new().try_days(ms.div_euclid(DAY_MS)).ok()?)
        .ok()?;
    let in_day = ms.rem_euclid(DAY_MS);
    Some(Utc {
        year: day.year(),
        month: day.month(),
        day: day.day(),
        hour: in_day / HOUR_MS,
        minute: in_day % HOUR_MS / MINUTE_MS,
    })
}

/// Unix ms at 00:00 UTC on the first of a month; `None` past 9999.
fn month_start(year: i64, month: i64) -> Option<i64> {
    let first = Date::new(i16::try_from(year).ok()?, i8::try_from(month).ok()?, 1).ok()?;
    let days = EPOCH.until(first).ok()?.get_days();
    Some(i64::from(days) * DAY_MS)
}

pub(super) fn format_datetime(ms: i64) -> String {
    match utc(ms) {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year, t.month, t.day, t.hour, t.minute
        ),
        None => String::new(),
    }
}

/// Steps tried for the time axis, shortest first. Fixed steps are aligned to
/// UTC midnight; longer ones follow the calendar.
const FIXED_STEPS_MS: [i64; 17] = [
    MINUTE_MS,
    2 * MINUTE_MS,
    5 * MINUTE_MS,
    10 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    4 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    4 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
];
const MONTH_STEPS: [i64; 12] = [1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1_200, 2_400];

#[derive(Clone, Copy)]
enum TimeStep {
    Fixed(i64),
    Months(i64),
}

pub(super) struct TimeTicks {
    step: TimeStep,
    pub(super) ticks: Vec<i64>,
}

impl TimeTicks {
    /// Label granularity follows the step: clock times within a day (the
    /// date at midnight), dates across days, months and years beyond.
    pub(super) fn label(&self, t: i64) -> String {
        let Some(u) = utc(t) else {
            return String::new();
        };
        let month = MONTHS[usize::try_from(u.month - 1).unwrap_or(0) % 12];
        match self.step {
            TimeStep::Fixed(step) if step < DAY_MS && t.rem_euclid(DAY_MS) != 0 => {
                format!("{:02}:{:02}", u.hour, u.minute)
            }
            TimeStep::Fixed(_) if u.month == 1 && u.day == 1 => u.year.to_string(),
            TimeStep::Fixed(_) => format!("{month} {}", u.day),
            TimeStep::Months(m) if m < 12 && u.month != 1 => month.to_string(),
            TimeStep::Months(_) => u.year.to_string(),
        }
    }
}

pub(super) fn time_ticks(t0: i64, t1: i64, px_per_ms: f64, min_px: f64) -> TimeTicks {
    let min_ms = min_px / px_per_ms;
    if let Some(&step) = FIXED_STEPS_MS.iter().find(|&&s| s as f64 >= min_ms) {
        let first = t0.div_euclid(step) * step + if t0.rem_euclid(step) == 0 { 0 } else { step };
        let ticks = (0..)
            .map(|k| first + k * step)
            .take_while(|&t| t < t1)
            .collect();
        return TimeTicks {
            step: TimeStep::Fixed(step),
            ticks,
        };
    }
    // Calendar steps; a month is taken as 28 days so spacing is never less
    // than asked for. The last step always fits a 10000-year span.
    let months = MONTH_STEPS
        .iter()
        .copied()
        .find(|&m| (m * 28 * DAY_MS) as f64 >= min_ms)
        .unwrap_or(MONTH_STEPS[MONTH_STEPS.len() - 1]);
    let Some(start) = utc(t0) else {
        return TimeTicks {
            step: TimeStep::Months(months),
            ticks: Vec::new(),
        };
    };
    let mut index = i64::from(start.year) * 12 + i64::from(start.month) - 1;
    index = index.div_euclid(months) * months;
    let mut ticks = Vec::new();
    // Month starts past 9999 do not exist; the axis ends there.
    while let Some(t) = month_start(index.div_euclid(12), index.rem_euclid(12) + 1)
        && t < t1
    {
        if t >= t0 {
            ticks.push(t);
        }
        index += months;
    }
    TimeTicks {
        step: TimeStep::Months(months),
        ticks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_and_dates() {
        assert_eq!(format_number(94_401.14, 2), "94,401.14");
        assert_eq!(format_number(-1_234_567.0, 0), "-1,234,567");
        assert_eq!(format_number(-0.0001, 2), "0.00");
        assert_eq!(format_number(999.0, 0), "999");
        assert_eq!(decimals_for_step(500.0), 0);
        assert_eq!(decimals_for_step(2.5), 1);
        assert_eq!(decimals_for_step(0.0005), 4);
        assert_eq!(price_decimals(94_401.0), 2);
        assert_eq!(price_decimals(0.000_012_34), 8);
        assert_eq!(format_compact(1_234.0), "1.23K");
        assert_eq!(format_datetime(1_735_689_600_000), "2025-01-01 00:00");
        assert_eq!(format_datetime(1_738_364_400_000), "2025-01-31 23:00");
        assert_eq!(format_datetime(253_402_300_799_999), "9999-12-31 23:59");
        assert_eq!(month_start(2024, 3), Some(1_709_251_200_000));
        assert_eq!(month_start(1970, 1), Some(0));
        assert_eq!(month_start(10_000, 1), None);
    }

    #[test]
    fn time_labels_follow_the_step() {
        let t0 = 1_735_689_600_000; // 2025-01-01 00:00 UTC
        // 6-hour ticks: the date at midnight, clock times between.
        let six_h = TimeTicks {
            step: TimeStep::Fixed(6 * HOUR_MS),
            ticks: vec![],
        };
        assert_eq!(six_h.label(t0 + DAY_MS), "Jan 2");
        assert_eq!(six_h.label(t0 + 6 * HOUR_MS), "06:00");
        let ticks = time_ticks(t0, t0 + 3 * 365 * DAY_MS, 1e-8, 100.0);
        assert!(matches!(ticks.step, TimeStep::Months(_)));
        assert!(ticks.ticks.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ticks.label(t0), "2025");
    }
}
