//! Safe arithmetic evaluator behind the `calculate` tool.
//!
//! Input comes straight from a model or a user, so the evaluator must answer
//! every string quickly and never panic. Three limits make that hold: the
//! length is checked before any tokenizing, the parser counts its recursion
//! against [`MAX_NESTING_DEPTH`] before each step down, and powers never loop
//! more than once per bit of the exponent.
//!
//! Numbers stay exact `Decimal`s for as long as an operation's true result is
//! representable, so `0.1+0.2` is `0.3` and `2^64` prints all its digits. An
//! operation whose result would be rounded (`1/3`), overflow, or is irrational
//! (`sqrt`, `ln`, `pi`, fractional powers) switches to `f64`, and such results
//! print with 15 significant digits, the precision `f64` carries reliably.

mod parse;

use std::f64::consts;
use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use parse::{BinOp, Constant, FUNCTIONS, Func, Node};

/// Longest accepted expression, in characters. Real calculations fit in a
/// few hundred; the cap bounds parse time and memory for hostile input.
pub const MAX_EXPRESSION_LEN: usize = 1000;

/// Deepest accepted nesting: each parenthesis, function call, unary sign and
/// exponent opens a level. Parser and evaluator recurse a fixed number of
/// frames per level; 64 is far beyond hand-written maths and peaks at about
/// 128 KiB of stack in release (512 KiB unoptimised), well inside the 2 MiB
/// a tokio worker thread has.
pub const MAX_NESTING_DEPTH: usize = 64;

/// Most decimal places `round` accepts: `Decimal` holds at most 28.
const MAX_ROUND_DIGITS: u32 = 28;

/// Significant digits shown for inexact results: what `f64` holds reliably.
const SIGNIFICANT_DIGITS: usize = 15;

/// Inexact results with a decimal exponent in this range print in plain
/// notation; outside it, scientific notation keeps them short and readable.
const PLAIN_EXPONENTS: std::ops::RangeInclusive<i32> = -5..=14;

/// Evaluates an arithmetic expression such as `sqrt(2) * (1 + 0.5)^2`.
pub fn evaluate(input: &str) -> Result<Number, CalcError> {
    // Bytes bound chars from above, so most input skips the count entirely.
    if input.len() > MAX_EXPRESSION_LEN {
        let chars = input.chars().count();
        if chars > MAX_EXPRESSION_LEN {
            return Err(CalcError::TooLong { chars });
        }
    }
    eval(&parse::parse(input)?).map(Number)
}

/// The result of [`evaluate`]; always a finite number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(Value);

impl Number {
    /// The value as the nearest `f64`, for callers that compute further.
    pub fn to_f64(&self) -> f64 {
        self.0.to_f64()
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            // Covers negative zero, which `Decimal` would print as "-0".
            Value::Exact(d) if d.is_zero() => f.write_str("0"),
            Value::Exact(d) => write!(f, "{}", d.normalize()),
            Value::Approx(v) => f.write_str(&format_approx(v)),
        }
    }
}

/// Why an expression has no value. Display is one sentence meant for the
/// model or person who wrote the expression; positions count characters
/// from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CalcError {
    Empty,
    TooLong {
        chars: usize,
    },
    TooDeep,
    UnexpectedChar {
        ch: char,
        pos: usize,
    },
    UnexpectedToken {
        found: String,
        pos: usize,
    },
    UnexpectedEnd {
        expected: &'static str,
        pos: usize,
    },
    /// Two operands side by side, as in `2pi` or `2(3)`.
    MissingOperator {
        before: String,
        pos: usize,
    },
    UnknownName {
        name: String,
        pos: usize,
        called: bool,
    },
    /// A function name without its parenthesised arguments.
    NotCalled {
        name: String,
        pos: usize,
    },
    WrongArgCount {
        func: &'static str,
        expected: &'static str,
        got: usize,
        pos: usize,
    },
    BadRoundDigits,
    DivisionByZero,
    Overflow,
    /// A domain error; holds the whole sentence.
    Undefined(&'static str),
}

impl fmt::Display for CalcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalcError::Empty => f.write_str("expression is empty"),
            CalcError::TooLong { chars } => write!(
                f,
                "expression is {chars} characters long; the limit is {MAX_EXPRESSION_LEN}"
            ),
            CalcError::TooDeep => write!(f, "nesting is deeper than {MAX_NESTING_DEPTH} levels"),
            CalcError::UnexpectedChar { ch, pos } => {
                write!(f, "unexpected character '{ch}' at position {pos}")
            }
            CalcError::UnexpectedToken { found, pos } => {
                write!(f, "unexpected '{found}' at position {pos}")
            }
            CalcError::UnexpectedEnd { expected, pos } => {
                write!(
                    f,
                    "unexpected end of expression at position {pos}; expected {expected}"
                )
            }
            CalcError::MissingOperator { before, pos } => write!(
                f,
                "missing operator before '{before}' at position {pos}; implicit multiplication is not supported, so write the * explicitly"
            ),
            CalcError::UnknownName { name, pos, called } => {
                let kind = if *called { "function" } else { "name" };
                write!(f, "unknown {kind} '{name}' at position {pos}; available: ")?;
                if !called {
                    f.write_str("pi, e, ")?;
                }
                for (i, (func, _)) in FUNCTIONS.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{func}")?;
                }
                Ok(())
            }
            CalcError::NotCalled { name, pos } => write!(
                f,
                "function '{name}' at position {pos} needs its arguments in parentheses, e.g. {name}(2)"
            ),
            CalcError::WrongArgCount {
                func,
                expected,
                got,
                pos,
            } => write!(f, "{func} at position {pos} takes {expected} but got {got}"),
            CalcError::BadRoundDigits => write!(
                f,
                "round digits must be a whole number from 0 to {MAX_ROUND_DIGITS}"
            ),
            CalcError::DivisionByZero => f.write_str("division by zero"),
            CalcError::Overflow => f.write_str("result is not a finite number (overflow)"),
            CalcError::Undefined(sentence) => f.write_str(sentence),
        }
    }
}

impl std::error::Error for CalcError {}

/// An exact decimal while results stay representable, else a finite `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Exact(Decimal),
    Approx(f64),
}

impl Value {
    fn to_f64(self) -> f64 {
        match self {
            // Every Decimal fits in an f64's range; the fallback is never hit.
            Value::Exact(d) => d.to_f64().unwrap_or(f64::NAN),
            Value::Approx(v) => v,
        }
    }

    fn is_zero(self) -> bool {
        self.to_f64() == 0.0
    }
}

/// Wraps an `f64` result, turning NaN and infinities into errors.
fn finite(v: f64) -> Result<Value, CalcError> {
    if v.is_nan() {
        Err(CalcError::Undefined("result is undefined (not a number)"))
    } else if v.is_infinite() {
        Err(CalcError::Overflow)
    } else {
        Ok(Value::Approx(v))
    }
}

fn eval(node: &Node) -> Result<Value, CalcError> {
    match node {
        Node::Literal(text) => literal(text),
        Node::Constant(Constant::Pi) => Ok(Value::Approx(consts::PI)),
        Node::Constant(Constant::E) => Ok(Value::Approx(consts::E)),
        Node::Neg(x) => Ok(match eval(x)? {
            Value::Exact(d) => Value::Exact(-d),
            Value::Approx(v) => Value::Approx(-v),
        }),
        Node::Chain(first, rest) => rest.iter().try_fold(eval(first)?, |acc, (op, node)| {
            binary(*op, acc, eval(node)?)
        }),
        Node::Power(base, exponent) => power(eval(base)?, eval(exponent)?),
        Node::Call(func, first, rest) => {
            let rest = rest.iter().map(eval).collect::<Result<Vec<_>, _>>()?;
            call(*func, eval(first)?, &rest)
        }
    }
}

/// Converts number text the lexer accepted. Rust's float parser takes the
/// same grammar and copes with any digit count or exponent.
fn literal(text: &str) -> Result<Value, CalcError> {
    match exact_literal(text) {
        Some(d) => Ok(Value::Exact(d)),
        None => finite(text.parse().unwrap_or(f64::NAN)),
    }
}

fn exact_literal(text: &str) -> Option<Decimal> {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut m: i128 = 0;
    for c in int.chars().chain(frac.chars()) {
        m = m
            .checked_mul(10)?
            .checked_add(i128::from(c.to_digit(10)?))?;
    }
    let scale = i64::try_from(frac.len()).ok()? - i64::from(exponent);
    if scale >= 0 {
        from_parts(m, u32::try_from(scale).ok()?)
    } else {
        let shift = u32::try_from(-scale).ok()?;
        from_parts(m.checked_mul(10i128.checked_pow(shift)?)?, 0)
    }
}

/// Builds `m / 10^scale` if a `Decimal` holds it exactly. Trailing zeros are
/// dropped so that later products keep their scale small.
fn from_parts(mut m: i128, mut scale: u32) -> Option<Decimal> {
    if m == 0 {
        return Some(Decimal::ZERO);
    }
    // At most 38 rounds: an i128 has no more decimal digits than that.
    while scale > 0 && m % 10 == 0 {
        m /= 10;
        scale -= 1;
    }
    Decimal::try_from_i128_with_scale(m, scale).ok()
}

/// Mantissas of `a` and `b` brought to a common scale.
fn align(a: Decimal, b: Decimal) -> Option<(i128, i128, u32)> {
    let scale = a.scale().max(b.scale());
    let up = |d: Decimal| {
        d.mantissa()
            .checked_mul(10i128.checked_pow(scale - d.scale())?)
    };
    Some((up(a)?, up(b)?, scale))
}

// `Decimal`'s own operators round silently when a result has too many digits;
// these return `None` instead, so the caller can switch to f64 knowingly.

fn exact_add(a: Decimal, b: Decimal) -> Option<Decimal> {
    let (x, y, scale) = align(a, b)?;
    from_parts(x.checked_add(y)?, scale)
}

fn exact_mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    from_parts(
        a.mantissa().checked_mul(b.mantissa())?,
        a.scale() + b.scale(),
    )
}

fn exact_div(a: Decimal, b: Decimal) -> Option<Decimal> {
    let q = a.checked_div(b)?;
    (exact_mul(q, b)? == a).then(|| q.normalize())
}

fn exact_rem(a: Decimal, b: Decimal) -> Option<Decimal> {
    let (x, y, scale) = align(a, b)?;
    from_parts(x.checked_rem(y)?, scale)
}

/// Square-and-multiply: one step per bit of the exponent (at most 128), and
/// the first inexact step gives up, so `9^9^9^9` costs microseconds.
fn exact_pow(base: Decimal, exponent: Decimal) -> Option<Decimal> {
    let n = exponent.to_i128()?;
    let (mut left, mut acc, mut square) = (n.unsigned_abs(), Decimal::ONE, base);
    loop {
        if left & 1 == 1 {
            acc = exact_mul(acc, square)?;
        }
        left >>= 1;
        if left == 0 {
            break;
        }
        square = exact_mul(square, square)?;
    }
    if n < 0 {
        exact_div(Decimal::ONE, acc)
    } else {
        Some(acc)
    }
}

fn binary(op: BinOp, a: Value, b: Value) -> Result<Value, CalcError> {
    if matches!(op, BinOp::Div | BinOp::Rem) && b.is_zero() {
        return Err(CalcError::DivisionByZero);
    }
    if let (Value::Exact(x), Value::Exact(y)) = (a, b) {
        let exact = match op {
            BinOp::Add => exact_add(x, y),
            BinOp::Sub => exact_add(x, -y),
            BinOp::Mul => exact_mul(x, y),
            BinOp::Div => exact_div(x, y),
            BinOp::Rem => exact_rem(x, y),
        };
        if let Some(d) = exact {
            return Ok(Value::Exact(d));
        }
    }
    let (x, y) = (a.to_f64(), b.to_f64());
    finite(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        // f64 `%` keeps the dividend's sign, like the exact path.
        BinOp::Rem => x % y,
    })
}

fn power(base: Value, exponent: Value) -> Result<Value, CalcError> {
    let (x, y) = (base.to_f64(), exponent.to_f64());
    if x == 0.0 && y < 0.0 {
        return Err(CalcError::DivisionByZero);
    }
    if x < 0.0 && y.fract() != 0.0 {
        return Err(CalcError::Undefined(
            "a negative number cannot be raised to a fractional power",
        ));
    }
    if let (Value::Exact(b), Value::Exact(e)) = (base, exponent)
        && e.fract().is_zero()
        && let Some(d) = exact_pow(b, e)
    {
        return Ok(Value::Exact(d));
    }
    finite(x.powf(y))
}

fn call(func: Func, x: Value, rest: &[Value]) -> Result<Value, CalcError> {
    let v = x.to_f64();
    match func {
        Func::Sqrt if v < 0.0 => Err(CalcError::Undefined(
            "sqrt is undefined for negative numbers",
        )),
        Func::Ln if v <= 0.0 => Err(CalcError::Undefined(
            "ln is undefined for 0 or negative numbers",
        )),
        Func::Log10 if v <= 0.0 => Err(CalcError::Undefined(
            "log10 is undefined for 0 or negative numbers",
        )),
        Func::Sqrt => finite(v.sqrt()),
        Func::Ln => finite(v.ln()),
        Func::Log10 => finite(v.log10()),
        Func::Exp => finite(v.exp()),
        Func::Abs => Ok(match x {
            Value::Exact(d) => Value::Exact(d.abs()),
            Value::Approx(v) => Value::Approx(v.abs()),
        }),
        Func::Floor => Ok(match x {
            Value::Exact(d) => Value::Exact(d.floor()),
            Value::Approx(v) => Value::Approx(v.floor()),
        }),
        Func::Ceil => Ok(match x {
            Value::Exact(d) => Value::Exact(d.ceil()),
            Value::Approx(v) => Value::Approx(v.ceil()),
        }),
        Func::Min | Func::Max => Ok(rest.iter().fold(x, |best, &next| {
            let (low, high) = if func == Func::Min {
                (next, best)
            } else {
                (best, next)
            };
            if less(low, high) { next } else { best }
        })),
        Func::Round => round(x, rest.first().copied()),
    }
}

/// Compares exactly when both sides are exact; f64 is close enough otherwise.
fn less(a: Value, b: Value) -> bool {
    match (a, b) {
        (Value::Exact(a), Value::Exact(b)) => a < b,
        _ => a.to_f64() < b.to_f64(),
    }
}

/// Rounds half away from zero, as people expect (`round(2.5)` is 3), not
/// `Decimal`'s default banker's rounding.
fn round(x: Value, digits: Option<Value>) -> Result<Value, CalcError> {
    let digits = match digits {
        None => 0,
        Some(Value::Exact(d)) if d.fract().is_zero() => {
            d.to_u32().ok_or(CalcError::BadRoundDigits)?
        }
        // `as` saturates, and anything past the limit is rejected below.
        Some(Value::Approx(v)) if v.fract() == 0.0 && v >= 0.0 => v as u32,
        Some(_) => return Err(CalcError::BadRoundDigits),
    };
    if digits > MAX_ROUND_DIGITS {
        return Err(CalcError::BadRoundDigits);
    }
    let d = match x {
        Value::Exact(d) => d,
        Value::Approx(v) => match Decimal::try_from(v) {
            Ok(d) => d,
            // Beyond Decimal's range every f64 is a whole number already.
            Err(_) => return Ok(x),
        },
    };
    Ok(Value::Exact(d.round_dp_with_strategy(
        digits,
        RoundingStrategy::MidpointAwayFromZero,
    )))
}

/// Formats with [`SIGNIFICANT_DIGITS`] digits, trailing zeros trimmed.
fn format_approx(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    // `{:e}` does the correct decimal rounding; we only rearrange its digits.
    let sci = format!("{:.*e}", SIGNIFICANT_DIGITS - 1, v.abs());
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return v.to_string();
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return v.to_string();
    };
    let all = mantissa.replace('.', "");
    let digits = all.trim_end_matches('0');
    if !PLAIN_EXPONENTS.contains(&exp) {
        let (lead, tail) = digits.split_at_checked(1).unwrap_or((digits, ""));
        let point = if tail.is_empty() { "" } else { "." };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{lead}{point}{tail}e{exp_sign}{}", exp.unsigned_abs());
    }
    let int_len = usize::try_from(exp + 1).unwrap_or(0);
    if int_len == 0 {
        let zeros = "0".repeat(usize::try_from(-exp - 1).unwrap_or(0));
        format!("{sign}0.{zeros}{digits}")
    } else if let Some((int, frac)) = digits.split_at_checked(int_len)
        && !frac.is_empty()
    {
        format!("{sign}{int}.{frac}")
    } else {
        let zeros = "0".repeat(int_len.saturating_sub(digits.len()));
        format!("{sign}{digits}{zeros}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn show(input: &str) -> String {
        match evaluate(input) {
            Ok(n) => n.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn valid_expressions_display_as_a_person_expects() {
        let cases = [
            ("12", "12"),
            ("0.5", "0.5"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e3", "1000"),
            ("1.5E-3", "0.0015"),
            ("1.5e+3", "1500"),
            ("1.e3", "1000"),
            (
                "1234567890123456789012345678901234567890.",
                "1.23456789012346e+39",
            ),
            ("0.1+0.2", "0.3"),
            ("1/3", "0.333333333333333"),
            ("2/3", "0.666666666666667"),
            ("(1/3)*3", "1"),
            ("1/8", "0.125"),
            ("10/4", "2.5"),
            ("10 - 0.3", "9.7"),
            ("2^64", "18446744073709551616"),
            ("2^100", "1.26765060022823e+30"),
            ("2^-2", "0.25"),
            ("2^0.5", "1.4142135623731"),
            ("4^0.5", "2"),
            ("0^0", "1"),
            ("(-2)^3", "-8"),
            ("-2^2", "-4"),
            ("2^3^2", "512"),
            ("+-+1", "-1"),
            ("--3", "3"),
            ("7 % 3", "1"),
            ("-7 % 3", "-1"),
            ("7 % -3", "1"),
            ("5.5 % 2", "1.5"),
            ("pi % 1", "0.141592653589793"),
            ("1 + 2 * 3 - 4 / 2", "5"),
            ("(1 + 2) * 3", "9"),
            (" \t1 +\n2 ", "3"),
            ("pi", "3.14159265358979"),
            ("e", "2.71828182845905"),
            ("sqrt(16)", "4"),
            ("sqrt(2)", "1.4142135623731"),
            ("abs(-3.5)", "3.5"),
            ("ln(e)", "1"),
            ("log10(1000)", "3"),
            ("exp(0)", "1"),
            ("min(3, 1, 2)", "1"),
            ("max(-1)", "-1"),
            ("max(1/3, 0.3)", "0.333333333333333"),
            ("round(2.5)", "3"),
            ("round(-2.5)", "-3"),
            ("round(3.14159, 2)", "3.14"),
            ("round(pi, 4)", "3.1416"),
            ("round(2/3, 28)", "0.666666666666667"),
            ("round(1e-300, 2)", "0"),
            ("round(5e-324, 28)", "0"),
            ("round(-1e-20, 28)", "-0.00000000000000000001"),
            ("round(1e300)", "1e+300"),
            ("floor(-1.5)", "-2"),
            ("ceil(1.2)", "2"),
            ("-0", "0"),
            ("0 * -1", "0"),
            ("1.5e300", "1.5e+300"),
            ("1e-7", "0.0000001"),
            ("1e-30", "1e-30"),
            ("1/3 * 1e-10", "3.33333333333333e-11"),
            ("79228162514264337593543950335 + 1", "7.92281625142643e+28"),
            ("0.0000000000000001 * 0.0000000000000001", "1e-32"),
            ("1e300 * 1e-300", "1"),
        ];
        for (input, want) in cases {
            assert_eq!(show(input), want, "input {input:?}");
        }
    }

    #[test]
    fn to_f64_matches_display() {
        let n = evaluate("0.1 + 0.2").expect("valid");
        assert_eq!(n.to_f64(), 0.3);
        assert_eq!(evaluate("2^0.5").expect("valid").to_f64(), 2f64.sqrt());
    }

    /// One case per line: input, `|`, message. `{F}` stands for the function
    /// list and `{M}` for the implicit multiplication hint.
    const ERROR_CASES: &str = "
1+2)           | unexpected ')' at position 4
(1+2))         | unexpected ')' at position 6
1,2            | unexpected ',' at position 2
1 ** 2         | unexpected '*' at position 4
sqrt()         | unexpected ')' at position 6
(1+2           | unexpected end of expression at position 5; expected ')'
max(1          | unexpected end of expression at position 6; expected ',' or ')'
1+             | unexpected end of expression at position 3; expected a number, a name or '('
1 # 2          | unexpected character '#' at position 3
2 × 3          | unexpected character '×' at position 3
1.2.3          | unexpected character '.' at position 4
.              | unexpected character '.' at position 1
sin(1)         | unknown function 'sin' at position 1; available: {F}
1 + x          | unknown name 'x' at position 5; available: pi, e, {F}
PI             | unknown name 'PI' at position 1; available: pi, e, {F}
2pi            | missing operator before 'pi' at position 2{M}
2(3)           | missing operator before '(' at position 2{M}
(1)(2)         | missing operator before '(' at position 4{M}
1 2            | missing operator before '2' at position 3{M}
2e             | missing operator before 'e' at position 2{M}
sqrt 4         | function 'sqrt' at position 1 needs its arguments in parentheses, e.g. sqrt(2)
1+round(1,2,3) | round at position 3 takes 1 or 2 arguments but got 3
sqrt(1,2)      | sqrt at position 1 takes 1 argument but got 2
round(1, 29)   | round digits must be a whole number from 0 to 28
round(1, 0.5)  | round digits must be a whole number from 0 to 28
round(1, -1)   | round digits must be a whole number from 0 to 28
round(1, pi)   | round digits must be a whole number from 0 to 28
1/0            | division by zero
1 % (2-2)      | division by zero
pi / 0         | division by zero
0^-1           | division by zero
1e308*10       | result is not a finite number (overflow)
exp(1000)      | result is not a finite number (overflow)
ln(0)          | ln is undefined for 0 or negative numbers
log10(-1)      | log10 is undefined for 0 or negative numbers
sqrt(-1)       | sqrt is undefined for negative numbers
(-8)^(1/3)     | a negative number cannot be raised to a fractional power
";

    #[test]
    fn every_error_kind_has_a_clear_message() {
        let funcs = "sqrt, abs, ln, log10, exp, min, max, round, floor, ceil";
        let hint = "; implicit multiplication is not supported, so write the * explicitly";
        for line in ERROR_CASES.lines().filter(|l| !l.is_empty()) {
            let (input, want) = line.split_once("| ").expect("table row");
            let want = want.replace("{F}", funcs).replace("{M}", hint);
            assert_eq!(
                show(input.trim_end()),
                format!("error: {want}"),
                "input {input:?}"
            );
        }
        assert_eq!(show(""), "error: expression is empty");
        assert_eq!(show(" \t"), "error: expression is empty");
        let too_long = "expression is 2000 characters long; the limit is 1000";
        assert_eq!(show(&"1".repeat(2000)), format!("error: {too_long}"));
        assert_eq!(
            show(&"(".repeat(65)),
            "error: nesting is deeper than 64 levels"
        );
    }

    #[test]
    fn syntax_errors_win_over_arithmetic_errors() {
        assert_eq!(
            show("1/0 +"),
            "error: unexpected end of expression at position 6; expected a number, a name or '('"
        );
    }

    #[test]
    fn nesting_limit_is_exact() {
        let depth = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
        assert_eq!(show(&depth(MAX_NESTING_DEPTH)), "1");
        assert_eq!(
            evaluate(&depth(MAX_NESTING_DEPTH + 1)),
            Err(CalcError::TooDeep)
        );
        let minus = |n: usize| format!("{}1", "-".repeat(n));
        assert_eq!(show(&minus(MAX_NESTING_DEPTH)), "1");
        assert_eq!(
            evaluate(&minus(MAX_NESTING_DEPTH + 1)),
            Err(CalcError::TooDeep)
        );
    }

    #[test]
    fn length_limit_counts_characters_not_bytes() {
        let ok = format!("1{}", " ".repeat(MAX_EXPRESSION_LEN - 1));
        assert_eq!(show(&ok), "1");
        // 'é' is two bytes: 600 of them pass the byte check but not the char count.
        assert_eq!(
            evaluate(&"é".repeat(600)),
            Err(CalcError::UnexpectedChar { ch: 'é', pos: 1 })
        );
        assert_eq!(
            evaluate(&"é".repeat(1001)),
            Err(CalcError::TooLong { chars: 1001 })
        );
    }

    #[test]
    fn adversarial_inputs_fail_cleanly() {
        let deep = |open: &str, n: usize| format!("{}1{}", open.repeat(n), ")".repeat(n));
        let cases: Vec<(String, CalcError)> = vec![
            (deep("(", 100_000), CalcError::TooLong { chars: 200_001 }),
            (deep("(", 499), CalcError::TooDeep),
            (
                format!("{}1", "-".repeat(100_000)),
                CalcError::TooLong { chars: 100_001 },
            ),
            (format!("{}1", "-".repeat(999)), CalcError::TooDeep),
            (format!("{}1", "+-".repeat(499)), CalcError::TooDeep),
            (deep("sqrt(", 150), CalcError::TooDeep),
            (deep("max(1,", 100), CalcError::TooDeep),
            (format!("{}2", "2^".repeat(499)), CalcError::TooDeep),
            ("1".repeat(1 << 20), CalcError::TooLong { chars: 1 << 20 }),
            ("9^9^9^9".into(), CalcError::Overflow),
            ("(9^9)^(9^9)".into(), CalcError::Overflow),
            ("1.0000001^99999999999999999999".into(), CalcError::Overflow),
            ("1e308*10".into(), CalcError::Overflow),
            ("9".repeat(500), CalcError::Overflow),
            ("1e99999999999999999999".into(), CalcError::Overflow),
            ("0^-1".into(), CalcError::DivisionByZero),
        ];
        for (input, want) in cases {
            assert_eq!(
                evaluate(&input),
                Err(want),
                "input starting {:?}",
                &input[..20.min(input.len())]
            );
        }
        let fine = [
            (format!("{}1", "1+".repeat(499)), "500"),
            ("9".repeat(300), "1e+300"),
            (format!("0.{}1", "0".repeat(900)), "0"),
            ("0e-99999999999".into(), "0"),
            ("1e-99999999999".into(), "0"),
            ("0.5^1000".into(), "9.33263618503219e-302"),
            ("1^79228162514264337593543950335".into(), "1"),
            ("(-1)^-79228162514264337593543950335".into(), "-1"),
        ];
        for (input, want) in fine {
            assert_eq!(show(&input), want);
        }
    }

    #[test]
    fn worst_case_inputs_fit_a_small_stack() {
        let nest = |open: &str, n: usize| format!("{}1{}", open.repeat(n), ")".repeat(n));
        let inputs = [
            nest("(", MAX_NESTING_DEPTH),
            nest("sqrt(", MAX_NESTING_DEPTH),
            nest("max(1,", MAX_NESTING_DEPTH),
            nest("(1+", MAX_NESTING_DEPTH),
            format!("{}1", "-".repeat(MAX_NESTING_DEPTH)),
            format!("{}1", "1+".repeat(MAX_EXPRESSION_LEN / 2 - 1)),
            format!("{}1", "1^".repeat(MAX_NESTING_DEPTH)),
        ];
        // Tokio's worker threads get 2 MiB; half of that must do even in an
        // unoptimised build (measured: 512 KiB debug, 128 KiB release).
        let worker = std::thread::Builder::new().stack_size(1024 * 1024);
        let results = worker
            .spawn(move || inputs.map(|i| evaluate(&i).map(|n| n.to_string())))
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert_eq!(results[0], Ok("1".to_string()));
        assert_eq!(results[5], Ok("500".to_string()));
    }

    /// Well-formed expressions built from the whole grammar.
    fn expression() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            (0u64..1_000_000).prop_map(|n| n.to_string()),
            "[0-9]{1,40}(\\.[0-9]{0,40})?([eE][+-]?[0-9]{1,3})?",
            "\\.[0-9]{1,5}",
            Just("pi".to_string()),
            Just("e".to_string()),
        ];
        const UNARY: [&str; 8] = [
            "sqrt", "abs", "ln", "log10", "exp", "round", "floor", "ceil",
        ];
        const OPS: [&str; 6] = ["+", "-", "*", "/", "%", "^"];
        leaf.prop_recursive(10, 80, 4, |inner| {
            prop_oneof![
                (inner.clone(), prop::sample::select(&OPS[..]), inner.clone())
                    .prop_map(|(a, op, b)| format!("({a}) {op} ({b})")),
                (inner.clone(), prop::sample::select(&OPS[..]), inner.clone())
                    .prop_map(|(a, op, b)| format!("{a}{op}{b}")),
                (prop::sample::select(&["-", "+"][..]), inner.clone())
                    .prop_map(|(sign, a)| format!("{sign}{a}")),
                (prop::sample::select(&UNARY[..]), inner.clone())
                    .prop_map(|(f, a)| format!("{f}({a})")),
                (inner.clone(), 0u32..=28).prop_map(|(a, d)| format!("round({a}, {d})")),
                (prop::bool::ANY, prop::collection::vec(inner, 1..4)).prop_map(|(min, args)| {
                    format!("{}({})", if min { "min" } else { "max" }, args.join(", "))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic(input in any::<String>()) {
            let _ = evaluate(&input);
        }

        #[test]
        fn operator_soup_never_panics(input in "[0-9.eE+\\-*/%^(), piqrtsabxlnogmuc]{0,300}") {
            if let Ok(n) = evaluate(&input) {
                prop_assert!(n.to_f64().is_finite());
            }
        }

        #[test]
        fn well_formed_expressions_are_finite_or_fail_cleanly(input in expression()) {
            match evaluate(&input) {
                Ok(n) => {
                    let v = n.to_f64();
                    prop_assert!(v.is_finite());
                    // What we print reads back as (nearly) the same number.
                    let back = evaluate(&n.to_string()).map(|b| b.to_f64());
                    prop_assert!(back.as_ref().is_ok_and(|&b| (b - v).abs() <= 1e-14 * v.abs() + 1e-300),
                        "{input} = {n}, reads back as {back:?}");
                }
                Err(e) => prop_assert!(
                    matches!(e, CalcError::DivisionByZero | CalcError::Overflow | CalcError::Undefined(_)
                        | CalcError::TooDeep | CalcError::TooLong { .. }),
                    "{input}: {e}"
                ),
            }
        }
    }
}
