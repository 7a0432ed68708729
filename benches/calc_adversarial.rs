//! Times the `calculate` evaluator on hostile inputs and fails if any is slow.
//!
//! The evaluator runs inside request handlers, so every input must be answered
//! in far less than a request's budget. Each case runs several times and the
//! best time counts, which filters out scheduler noise on a shared machine.
//! Plain `main` with `std::time` keeps this free of a benchmark framework.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crypto_mcp::analysis::expr::evaluate;

/// Runs per case; the fastest one is reported.
const RUNS: usize = 20;

/// Slowest acceptable best-of-runs time for a single evaluation.
const BUDGET: Duration = Duration::from_millis(10);

/// Widest result text shown, so long error sentences keep the table readable.
const RESULT_WIDTH: usize = 60;

fn cases() -> Vec<(String, String)> {
    let nest = |open: &str, n: usize| format!("{}1{}", open.repeat(n), ")".repeat(n));
    let named = |label: &str, input: String| (label.to_string(), input);
    let plain = |input: &str| (input.to_string(), input.to_string());
    vec![
        named("1 MB of '1'", "1".repeat(1 << 20)),
        named("1 MB of 'é' (2 MB)", "é".repeat(1 << 20)),
        named("100k nested parens", nest("(", 100_000)),
        named("499 nested parens", nest("(", 499)),
        named("100k unary minus", format!("{}1", "-".repeat(100_000))),
        named("999 unary minus", format!("{}1", "-".repeat(999))),
        named("150 nested sqrt(", nest("sqrt(", 150)),
        named("100 nested max(1,", nest("max(1,", 100)),
        named("64 nested parens (limit)", nest("(", 64)),
        named("499-term sum 1+1+...", format!("{}1", "1+".repeat(499))),
        named("2^2^...^2 (499)", format!("{}2", "2^".repeat(499))),
        named("500 nines", "9".repeat(500)),
        named("999 nines", "9".repeat(999)),
        named("0.000...1 (900 zeros)", format!("0.{}1", "0".repeat(900))),
        plain("9^9^9^9"),
        plain("(9^9)^(9^9)"),
        plain("1.0000001^99999999999999999999"),
        plain("(-1)^-79228162514264337593543950335"),
        plain("1e308*10"),
        plain("1e99999999999999999999"),
        plain("0^-1"),
        plain("(-8)^(1/3)"),
        plain("2^64"),
        plain("0.1+0.2"),
    ]
}

fn main() -> ExitCode {
    let mut slow = 0;
    println!(
        "{:<36} | {:<RESULT_WIDTH$} | {:>12}",
        "input", "result", "microseconds"
    );
    println!("{:-<36}-|-{:-<RESULT_WIDTH$}-|-{:->12}", "", "", "");
    for (label, input) in cases() {
        let mut best = Duration::MAX;
        let mut outcome = evaluate(&input);
        for _ in 0..RUNS {
            let start = Instant::now();
            outcome = black_box(evaluate(black_box(&input)));
            best = best.min(start.elapsed());
        }
        let shown = match outcome {
            Ok(n) => n.to_string(),
            Err(e) => format!("error: {e}"),
        };
        let shown: String = shown.chars().take(RESULT_WIDTH).collect();
        let micros = best.as_secs_f64() * 1e6;
        let flag = if best > BUDGET { "  SLOW" } else { "" };
        slow += usize::from(best > BUDGET);
        println!("{label:<36} | {shown:<RESULT_WIDTH$} | {micros:>12.2}{flag}");
    }
    if slow > 0 {
        eprintln!("{slow} input(s) took longer than {BUDGET:?}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
