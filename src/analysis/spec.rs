//! Indicator specs as tools accept them: `"rsi:14"`, `"macd:12,26,9"`,
//! `"bbands:20,2"`, or a bare name for TA-Lib's usual parameters.
//!
//! Specs are parsed once, at the tool's edge, into [`IndicatorSpec`]; a bad
//! one is refused with a message listing every valid form, so a model can
//! correct itself in one step. Parameters are checked with the indicators'
//! own `*_lookback` functions, so "valid here" and "computes a value" never
//! disagree. [`IndicatorSpec::compute`] then returns named output lines
//! aligned with the candles.

use std::fmt;

use super::indicators::{self, Bar, Series};

/// Largest period a spec may name. No request carries more candles than
/// this, so a longer period could never produce a value.
pub const MAX_SPEC_PERIOD: usize = 1_000;

/// Largest Bollinger multiplier. Past 10σ the bands leave any chart and say
/// nothing; it also keeps the band arithmetic far from overflow.
pub const MAX_BAND_WIDTH: f64 = 10.0;

/// Every accepted form, shown in errors and tool descriptions.
pub const VALID_SPECS: &str = "sma:N, ema:N, wma:N (moving averages of the close), rsi:N, \
macd:FAST,SLOW,SIGNAL, bbands:N,K (K standard deviations, 0 < K <= 10), atr:N, \
stoch:FASTK,SLOWK,SLOWD, adx:N (with +DI/-DI), mfi:N, cci:N, obv, vwap (per UTC day). \
A bare name uses the usual parameters: sma/ema/wma:20, rsi:14, macd:12,26,9, bbands:20,2, \
atr:14, stoch:5,3,3, adx:14, mfi:14, cci:20. Periods are whole numbers from 1 or 2 up to 1000";

/// One indicator with its parameters, as validated from a spec string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IndicatorSpec {
    Sma(usize),
    Ema(usize),
    Wma(usize),
    Rsi(usize),
    Macd {
        fast: usize,
        slow: usize,
        signal: usize,
    },
    Bbands {
        period: usize,
        k: f64,
    },
    Atr(usize),
    Stoch {
        fastk: usize,
        slowk: usize,
        slowd: usize,
    },
    Adx(usize),
    Mfi(usize),
    Cci(usize),
    Obv,
    Vwap,
}

/// One output series of an indicator, e.g. MACD's `"signal"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: &'static str,
    pub values: Series,
}

/// Why a spec was refused. Its message names the spec and lists the valid
/// forms, so a model can correct itself in one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The spec as given, cut to [`SHOWN_CHARS`].
    spec: String,
    problem: SpecProblem,
}

/// Characters of a refused spec echoed in the message.
const SHOWN_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecProblem {
    UnknownIndicator,
    ParameterCount {
        name: String,
        expected: usize,
    },
    NotAWholeNumber {
        text: String,
        min: usize,
    },
    BandWidth {
        text: String,
    },
    /// A period below what the indicator can compute with.
    BelowMinimum,
}

impl SpecError {
    fn new(spec: &str, problem: SpecProblem) -> Self {
        Self {
            spec: spec.chars().take(SHOWN_CHARS).collect(),
            problem,
        }
    }

    pub fn problem(&self) -> &SpecProblem {
        &self.problem
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            SpecProblem::UnknownIndicator => write!(f, "\"{}\" is not an indicator", self.spec)?,
            _ => write!(f, "\"{}\" is not valid: ", self.spec)?,
        }
        match &self.problem {
            SpecProblem::UnknownIndicator => {}
            SpecProblem::ParameterCount { name, expected: 0 } => {
                write!(f, "{name} takes no parameters")?
            }
            SpecProblem::ParameterCount { name, expected } => {
                write!(f, "{name} takes {expected} parameter(s)")?
            }
            SpecProblem::NotAWholeNumber { text, min } => write!(
                f,
                "\"{text}\" is not a whole number from {min} to {MAX_SPEC_PERIOD}"
            )?,
            SpecProblem::BandWidth { text } => write!(
                f,
                "band width \"{text}\" must be a number above 0 and at most {MAX_BAND_WIDTH}"
            )?,
            SpecProblem::BelowMinimum => f.write_str(
                "a period is below the indicator's minimum (2 for averages, RSI, Bollinger, ADX, MFI and CCI; 1 for ATR, stochastics and the MACD signal)",
            )?,
        }
        write!(f, ". Valid indicators: {VALID_SPECS}.")
    }
}

impl std::error::Error for SpecError {}

impl IndicatorSpec {
    /// Parses `"name"` or `"name:p1,p2,..."`, case-insensitive, spaces allowed.
    pub fn parse(input: &str) -> Result<Self, SpecError> {
        let invalid = |problem| SpecError::new(input, problem);
        let text = input.trim().to_ascii_lowercase();
        let (name, params) = match text.split_once(':') {
            Some((name, params)) => (name.trim(), Some(params)),
            None => (text.as_str(), None),
        };
        let params: Vec<&str> = params
            .map(|p| p.split(',').map(str::trim).collect())
            .unwrap_or_default();
        let ints = |defaults: &[usize]| -> Result<Vec<usize>, SpecError> {
            if params.is_empty() {
                return Ok(defaults.to_vec());
            }
            if params.len() != defaults.len() {
                return Err(invalid(SpecProblem::ParameterCount {
                    name: name.to_owned(),
                    expected: defaults.len(),
                }));
            }
            params
                .iter()
                .map(|p| {
                    p.parse::<usize>()
                        .ok()
                        .filter(|n| *n <= MAX_SPEC_PERIOD)
                        .ok_or_else(|| {
                            invalid(SpecProblem::NotAWholeNumber {
                                text: (*p).to_owned(),
                                min: 1,
                            })
                        })
                })
                .collect()
        };
        let spec = match name {
            "sma" => Self::Sma(ints(&[20])?[0]),
            "ema" => Self::Ema(ints(&[20])?[0]),
            "wma" => Self::Wma(ints(&[20])?[0]),
            "rsi" => Self::Rsi(ints(&[14])?[0]),
            "macd" => match ints(&[12, 26, 9])?[..] {
                [fast, slow, signal] => Self::Macd { fast, slow, signal },
                _ => {
                    return Err(invalid(SpecProblem::ParameterCount {
                        name: name.to_owned(),
                        expected: 3,
                    }));
                }
            },
            "bbands" | "bb" => match params[..] {
                [] => Self::Bbands { period: 20, k: 2.0 },
                [period, k] => {
                    let period = period
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n <= MAX_SPEC_PERIOD)
                        .ok_or_else(|| {
                            invalid(SpecProblem::NotAWholeNumber {
                                text: period.to_owned(),
                                min: 2,
                            })
                        })?;
                    let k = k
                        .parse::<f64>()
                        .ok()
                        .filter(|k| *k > 0.0 && *k <= MAX_BAND_WIDTH)
                        .ok_or_else(|| invalid(SpecProblem::BandWidth { text: k.to_owned() }))?;
                    Self::Bbands { period, k }
                }
                _ => {
                    return Err(invalid(SpecProblem::ParameterCount {
                        name: name.to_owned(),
                        expected: 2,
                    }));
                }
            },
            "atr" => Self::Atr(ints(&[14])?[0]),
            "stoch" => match ints(&[5, 3, 3])?[..] {
                [fastk, slowk, slowd] => Self::Stoch {
                    fastk,
                    slowk,
                    slowd,
                },
                _ => {
                    return Err(invalid(SpecProblem::ParameterCount {
                        name: name.to_owned(),
                        expected: 3,
                    }));
                }
            },
            "adx" => Self::Adx(ints(&[14])?[0]),
            "mfi" => Self::Mfi(ints(&[14])?[0]),
            "cci" => Self::Cci(ints(&[20])?[0]),
            "obv" | "vwap" if !params.is_empty() => {
                return Err(invalid(SpecProblem::ParameterCount {
                    name: name.to_owned(),
                    expected: 0,
                }));
            }
            "obv" => Self::Obv,
            "vwap" => Self::Vwap,
            _ => return Err(invalid(SpecProblem::UnknownIndicator)),
        };
        if spec.lookback().is_none() {
            return Err(invalid(SpecProblem::BelowMinimum));
        }
        Ok(spec)
    }

    /// Leading candles without a value; `None` if the parameters are invalid.
    pub fn lookback(&self) -> Option<usize> {
        match *self {
            Self::Sma(n) => indicators::sma_lookback(n),
            Self::Ema(n) => indicators::ema_lookback(n),
            Self::Wma(n) => indicators::wma_lookback(n),
            Self::Rsi(n) => indicators::rsi_lookback(n),
            Self::Macd { fast, slow, signal } => indicators::macd_lookback(fast, slow, signal),
            Self::Bbands { period, .. } => indicators::bbands_lookback(period),
            Self::Atr(n) => indicators::atr_lookback(n),
            Self::Stoch {
                fastk,
                slowk,
                slowd,
            } => indicators::stoch_lookback(fastk, slowk, slowd),
            Self::Adx(n) => indicators::adx_lookback(n),
            Self::Mfi(n) => indicators::mfi_lookback(n),
            Self::Cci(n) => indicators::cci_lookback(n),
            Self::Obv => Some(indicators::OBV_LOOKBACK),
            Self::Vwap => Some(indicators::VWAP_LOOKBACK),
        }
    }

    /// Whether this is a moving average of the close (drawn over price).
    pub fn is_moving_average(&self) -> bool {
        matches!(self, Self::Sma(_) | Self::Ema(_) | Self::Wma(_))
    }

    /// The output lines over `bars`, each aligned with them.
    pub fn compute(&self, bars: &[Bar]) -> Vec<Line> {
        let closes = || bars.iter().map(|b| b.close).collect::<Vec<f64>>();
        let one = |name, values| vec![Line { name, values }];
        match *self {
            Self::Sma(n) => one("sma", indicators::sma(&closes(), n)),
            Self::Ema(n) => one("ema", indicators::ema(&closes(), n)),
            Self::Wma(n) => one("wma", indicators::wma(&closes(), n)),
            Self::Rsi(n) => one("rsi", indicators::rsi(&closes(), n)),
            Self::Macd { fast, slow, signal } => {
                let m = indicators::macd(&closes(), fast, slow, signal);
                vec![
                    Line {
                        name: "macd",
                        values: m.macd,
                    },
                    Line {
                        name: "signal",
                        values: m.signal,
                    },
                    Line {
                        name: "histogram",
                        values: m.histogram,
                    },
                ]
            }
            Self::Bbands { period, k } => {
                let b = indicators::bbands(&closes(), period, k);
                vec![
                    Line {
                        name: "upper",
                        values: b.upper,
                    },
                    Line {
                        name: "middle",
                        values: b.middle,
                    },
                    Line {
                        name: "lower",
                        values: b.lower,
                    },
                ]
            }
            Self::Atr(n) => one("atr", indicators::atr(bars, n)),
            Self::Stoch {
                fastk,
                slowk,
                slowd,
            } => {
                let s = indicators::stoch(bars, fastk, slowk, slowd);
                vec![
                    Line {
                        name: "k",
                        values: s.k,
                    },
                    Line {
                        name: "d",
                        values: s.d,
                    },
                ]
            }
            Self::Adx(n) => {
                let a = indicators::adx(bars, n);
                vec![
                    Line {
                        name: "adx",
                        values: a.adx,
                    },
                    Line {
                        name: "plus_di",
                        values: a.plus_di,
                    },
                    Line {
                        name: "minus_di",
                        values: a.minus_di,
                    },
                ]
            }
            Self::Mfi(n) => one("mfi", indicators::mfi(bars, n)),
            Self::Cci(n) => one("cci", indicators::cci(bars, n)),
            Self::Obv => one("obv", indicators::obv(bars)),
            Self::Vwap => one("vwap", indicators::vwap(bars)),
        }
    }
}

/// The canonical spelling, e.g. `macd:12,26,9`; parsing it gives the same spec.
impl fmt::Display for IndicatorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sma(n) => write!(f, "sma:{n}"),
            Self::Ema(n) => write!(f, "ema:{n}"),
            Self::Wma(n) => write!(f, "wma:{n}"),
            Self::Rsi(n) => write!(f, "rsi:{n}"),
            Self::Macd { fast, slow, signal } => write!(f, "macd:{fast},{slow},{signal}"),
            Self::Bbands { period, k } => write!(f, "bbands:{period},{k}"),
            Self::Atr(n) => write!(f, "atr:{n}"),
            Self::Stoch {
                fastk,
                slowk,
                slowd,
            } => write!(f, "stoch:{fastk},{slowk},{slowd}"),
            Self::Adx(n) => write!(f, "adx:{n}"),
            Self::Mfi(n) => write!(f, "mfi:{n}"),
            Self::Cci(n) => write!(f, "cci:{n}"),
            Self::Obv => f.write_str("obv"),
            Self::Vwap => f.write_str("vwap"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_take_the_usual_parameters() {
        assert_eq!(IndicatorSpec::parse("rsi"), Ok(IndicatorSpec::Rsi(14)));
        assert_eq!(
            IndicatorSpec::parse(" MACD "),
            Ok(IndicatorSpec::Macd {
                fast: 12,
                slow: 26,
                signal: 9
            })
        );
        assert_eq!(
            IndicatorSpec::parse("bbands"),
            Ok(IndicatorSpec::Bbands { period: 20, k: 2.0 })
        );
    }

    #[test]
    fn parameters_are_read_and_echoed_canonically() {
        for (input, canonical) in [
            ("rsi:7", "rsi:7"),
            ("EMA: 50", "ema:50"),
            ("macd:5, 13, 4", "macd:5,13,4"),
            ("bbands:20,2.5", "bbands:20,2.5"),
            ("bb:10,1", "bbands:10,1"),
            ("stoch:14,3,3", "stoch:14,3,3"),
            ("atr:1", "atr:1"),
            ("vwap", "vwap"),
        ] {
            let spec = IndicatorSpec::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(spec.to_string(), canonical);
            assert_eq!(IndicatorSpec::parse(canonical), Ok(spec));
        }
    }

    #[test]
    fn bad_specs_are_refused_with_the_valid_list() {
        for input in [
            "foo:3",
            "rsi:1",
            "rsi:abc",
            "rsi:-3",
            "sma:1001",
            "macd:12,26",
            "bbands:20,0",
            "bbands:20,nan",
            "bbands:20,11",
            "bbands:1,2",
            "obv:3",
            "",
        ] {
            let error = IndicatorSpec::parse(input).expect_err(input);
            assert!(
                error.to_string().contains("Valid indicators: sma:N"),
                "{input}: {error}"
            );
        }
        let kind = |input| IndicatorSpec::parse(input).map_err(|e| e.problem().clone());
        assert_eq!(kind("foo:3"), Err(SpecProblem::UnknownIndicator));
        assert_eq!(kind("rsi:1"), Err(SpecProblem::BelowMinimum));
        assert_eq!(
            kind("obv:3"),
            Err(SpecProblem::ParameterCount {
                name: "obv".into(),
                expected: 0
            })
        );
    }

    #[test]
    fn outputs_are_named_and_aligned() {
        let bars: Vec<Bar> = (0..40)
            .map(|i| {
                let p = 100.0 + f64::from(i % 7);
                Bar {
                    open_time: i64::from(i) * 60_000,
                    open: p,
                    high: p + 1.0,
                    low: p - 1.0,
                    close: p + 0.5,
                    volume: 10.0,
                }
            })
            .collect();
        let lines = IndicatorSpec::parse("macd").map(|s| s.compute(&bars));
        let lines = lines.expect("valid");
        let names: Vec<&str> = lines.iter().map(|l| l.name).collect();
        assert_eq!(names, ["macd", "signal", "histogram"]);
        assert!(lines.iter().all(|l| l.values.len() == bars.len()));
    }
}
