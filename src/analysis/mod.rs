//! Pure computations behind the analysis tools: no I/O, so each part is
//! testable on its own. `expr` evaluates `calculate` expressions,
//! `indicators` reproduces TA-Lib, `chart` renders PNG candlesticks.

pub mod chart;
pub mod expr;
pub mod indicators;
pub mod reading;
pub mod spec;
