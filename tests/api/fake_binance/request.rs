//! Request parsing and Binance-style errors, shared by the handlers.

use std::collections::HashMap;

use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::data::{MARKETS, Market};

pub type Params = Query<HashMap<String, String>>;
pub type Answer = Result<Response, ApiError>;

/// A 400 with Binance's `{code, msg}` body.
pub struct ApiError(pub i64, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "code": self.0, "msg": self.1 })),
        )
            .into_response()
    }
}

pub fn invalid_symbol() -> ApiError {
    ApiError(-1121, "Invalid symbol.".to_owned())
}

pub fn find_market(symbol: &str) -> Result<&'static Market, ApiError> {
    MARKETS
        .iter()
        .find(|m| m.symbol == symbol)
        .ok_or_else(invalid_symbol)
}

pub fn required_market(params: &HashMap<String, String>) -> Result<&'static Market, ApiError> {
    let symbol = params.get("symbol").ok_or_else(|| {
        ApiError(
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.".to_owned(),
        )
    })?;
    find_market(symbol)
}

/// `symbol=X` → one, `symbols=[...]` → several, neither → all.
pub fn requested_markets(
    params: &HashMap<String, String>,
) -> Result<(Vec<&'static Market>, bool), ApiError> {
    if let Some(symbol) = params.get("symbol") {
        return Ok((vec![find_market(symbol)?], true));
    }
    if let Some(list) = params.get("symbols") {
        let names: Vec<String> = serde_json::from_str(list).map_err(|_| {
            ApiError(
                -1100,
                "Illegal characters found in parameter 'symbols'.".to_owned(),
            )
        })?;
        let markets = names
            .iter()
            .map(|n| find_market(n))
            .collect::<Result<_, _>>()?;
        return Ok((markets, false));
    }
    Ok((MARKETS.iter().collect(), false))
}

pub fn number(params: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    params
        .get(name)
        .map(|v| v.parse::<i64>())
        .transpose()
        .map_err(|_| {
            ApiError(
                -1100,
                format!("Illegal characters found in parameter '{name}'."),
            )
        })
}

/// `limit` within `1..=max`, `default` when absent.
pub fn limit(params: &HashMap<String, String>, default: i64, max: i64) -> Result<usize, ApiError> {
    let limit = number(params, "limit")?.unwrap_or(default).clamp(1, max);
    Ok(usize::try_from(limit).unwrap_or(1))
}

/// Binance's range rule over `len` items sorted by `time_of(index)`: those
/// with `startTime <= time <= endTime`; with a start, the first `limit` of
/// them, otherwise the last `limit`.
pub fn select(
    len: usize,
    time_of: impl Fn(usize) -> i64,
    params: &HashMap<String, String>,
    limit: usize,
) -> Result<std::ops::Range<usize>, ApiError> {
    let start = number(params, "startTime")?;
    let end = number(params, "endTime")?;
    let first_where = |pred: &dyn Fn(i64) -> bool| {
        let (mut lo, mut hi) = (0, len);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if pred(time_of(mid)) {
                hi = mid
            } else {
                lo = mid + 1
            }
        }
        lo
    };
    let lo = start.map_or(0, |s| first_where(&|t| t >= s));
    let hi = end.map_or(len, |e| first_where(&|t| t > e)).max(lo);
    Ok(if start.is_some() {
        lo..hi.min(lo + limit)
    } else {
        hi.saturating_sub(limit).max(lo)..hi
    })
}

pub fn one_or_many(mut values: Vec<Value>, single: bool) -> Response {
    if single && values.len() == 1 {
        Json(values.remove(0)).into_response()
    } else {
        Json(Value::Array(values)).into_response()
    }
}
