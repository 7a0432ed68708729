//! Pure computations behind the analysis tools: no I/O, so each part is
//! testable on its own.

pub mod expr;
