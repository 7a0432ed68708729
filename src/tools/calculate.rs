//! `calculate`: exact arithmetic so a model never does sums in its head.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis::expr;
use crate::mcp::session::LogLevel;
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};

pub struct Calculate;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalculateArgs {
    /// The expression, e.g. `(97250.5 - 94010) / 94010 * 100`. Operators
    /// `+ - * / % ^` and parentheses; functions sqrt, abs, ln, log10, exp,
    /// min, max, round(x[, digits]), floor, ceil; constants pi and e. At
    /// most 1000 characters.
    pub expression: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CalculateOutput {
    /// The expression that was evaluated.
    pub expression: String,
    /// The result as written by a person: exact where the arithmetic is
    /// exact (`0.1+0.2` gives `0.3`), otherwise 15 significant digits.
    pub result: String,
    /// The result as a JSON number, for further computation.
    pub value: f64,
}

impl Tool for Calculate {
    type Args = CalculateArgs;
    type Output = CalculateOutput;

    const NAME: &'static str = "calculate";
    const TITLE: &'static str = "Calculator";
    const SUMMARY: &'static str =
        "Exact decimal arithmetic on an expression: percentages, sizes, ratios.";
    const DESCRIPTION: &'static str = "Evaluate an arithmetic expression exactly and safely. Use it for \
any arithmetic on market numbers (percentage changes, position sizes, averages, ratios) instead of \
computing in your head. Decimal input is exact: 0.1+0.2 is 0.3. Supports + - * / % ^ (right-associative), \
parentheses, unary minus, sqrt, abs, ln, log10, exp, min, max, round(x[, digits]), floor, ceil, pi and e. \
Errors say what is wrong and where (e.g. 'unexpected ')' at position 5').";
    const OPEN_WORLD: bool = false;

    async fn call(
        &self,
        ctx: &ToolContext,
        args: CalculateArgs,
    ) -> Result<Reply<CalculateOutput>, ToolError> {
        let number = expr::evaluate(&args.expression).map_err(|error| {
            ToolError::invalid_arguments(format!("`expression` cannot be evaluated: {error}."))
        })?;
        ctx.notifier.log(
            LogLevel::Debug,
            Self::NAME,
            format!("{} = {number}", args.expression),
        );
        Ok(Reply::new(CalculateOutput {
            result: number.to_string(),
            value: number.to_f64(),
            expression: args.expression,
        }))
    }
}
