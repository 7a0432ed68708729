//! The Binance market tools over MCP, against the fake Binance: exact
//! values from the fixture, argument errors, faults, caching, the weight
//! budget, and the ChatGPT `search` → `fetch` round trip.

mod budget;
mod faults;
mod freshness;
mod futures;
mod klines;
mod listing;
mod order_book;
mod positioning;
mod search;
mod series;
mod symbols;
mod ticker;
mod trades;

use rust_decimal::Decimal;
use serde_json::Value;

/// Open time of the fixture's last BTCUSDT 1h candle, 2025-01-31T23:00Z.
pub const LAST_OPEN: i64 = 1_738_364_400_000;
pub const HOUR_MS: i64 = 3_600_000;

/// The structured content of a successful result, after checking that the
/// text content is exactly one item mirroring it.
pub fn ok(result: &Value) -> &Value {
    assert_eq!(result["isError"], false, "{result}");
    let content = result["content"].as_array().expect("content");
    assert_eq!(content.len(), 1, "one text item: {result}");
    assert_eq!(content[0]["type"], "text");
    let mirrored: Value =
        serde_json::from_str(content[0]["text"].as_str().expect("text")).expect("JSON text");
    assert_eq!(mirrored, result["structuredContent"]);
    &result["structuredContent"]
}

/// The text of an error result.
pub fn error_text(result: &Value) -> String {
    assert_eq!(result["isError"], true, "{result}");
    result["content"][0]["text"]
        .as_str()
        .expect("error text")
        .to_owned()
}

pub fn dec(value: &Value) -> Decimal {
    value
        .as_str()
        .unwrap_or_else(|| panic!("decimal string, got {value}"))
        .parse()
        .expect("decimal")
}

/// Half away from zero, trailing zeros dropped: the tools' rounding.
pub fn rounded(value: Decimal, dp: u32) -> Decimal {
    value
        .round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}
