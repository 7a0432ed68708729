//! Every tool's argument errors, pinned word for word: each names the
//! argument as the schema spells it, says what it accepts and what came,
//! writes times as ISO-8601 with the milliseconds in brackets, and never
//! speaks Rust, serde or JSON positions. Symbols that are names, or spot
//! markets asked for as perpetuals, say what to use instead.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// A text ending in `…` is pinned up to there (the rest is a long list).
const TABLE: &[(&str, &str, &str)] = &[
    (
        "calculate",
        r#""1+1""#,
        r#"Invalid arguments for calculate: arguments must be an object of named arguments, like {"expression": …}, not the string "1+1". Its arguments: expression (required)."#,
    ),
    (
        "calculate",
        "{}",
        "Invalid arguments for calculate: `expression` is required: a string.",
    ),
    (
        "calculate",
        r#"{"expression":5}"#,
        "Invalid arguments for calculate: `expression` must be a string; got the number 5.",
    ),
    (
        "calculate",
        r#"{"expression":"1/0"}"#,
        "Invalid arguments for calculate: `expression` cannot be evaluated: division by zero.",
    ),
    (
        "calculate",
        r#"{"expr":"1"}"#,
        "Invalid arguments for calculate: `expr` is not an argument of this tool. The arguments are: expression.",
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","limit":"10"}"#,
        r#"Invalid arguments for binance_klines: `limit` must be an integer from 1 to 1000 (default 100); got the string "10"."#,
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","limit":0}"#,
        "Invalid arguments for binance_klines: `limit`: 0 is out of range: use 1 to 1000 (default 100).",
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","interval":"1H"}"#,
        r#"Invalid arguments for binance_klines: `interval`: "1H" is not a valid interval here. Use one of: 1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M (case-sensitive: 1m is one minute, 1M one month)."#,
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTC$"}"#,
        r#"Invalid arguments for binance_klines: `symbol`: "BTC$" is not a symbol: use 1 to 20 letters or digits, like BTCUSDT or ETH-BTC."#,
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","startTime":"yesterday"}"#,
        r#"Invalid arguments for binance_klines: `startTime`: "yesterday" is not a time: use Unix milliseconds or ISO-8601 like 2025-01-31T12:00:00Z."#,
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","startTime":1738281600}"#,
        "Invalid arguments for binance_klines: `startTime`: 1738281600 looks like Unix seconds (2025-01-31T00:00:00Z), not milliseconds: send 1738281600000 or an ISO-8601 time.",
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","startTime":"2025-01-31","endTime":"2025-01-01"}"#,
        "Invalid arguments for binance_klines: `startTime` 2025-01-31T00:00:00Z [1738281600000] is after `endTime` 2025-01-01T00:00:00Z [1735689600000]: swap them, or leave one out.",
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","start_time":"2025-01-01"}"#,
        "Invalid arguments for binance_klines: `start_time` is not an argument of this tool; did you mean `startTime`? The arguments are: endTime, interval, limit, market, price, startTime, symbol, timeZone.",
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","market":"usdm","timeZone":"8"}"#,
        "Invalid arguments for binance_klines: `timeZone` exists for spot candles only (USD-M candles are always UTC): leave it out, or use `market` spot.",
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","price":"mark"}"#,
        "Invalid arguments for binance_klines: `price` mark exists only for USD-M perpetuals: add `market` usdm, or use `price` trade for spot.",
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","market":"futures"}"#,
        r#"Invalid arguments for binance_klines: `market`: "futures" is not a market: use spot or usdm (USD-M perpetual futures)."#,
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","timeZone":"+15:00"}"#,
        r#"Invalid arguments for binance_klines: `timeZone`: "+15:00" is not a UTC offset in [-12:00, +14:00]: use e.g. 8, -1:00 or 05:45."#,
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSDT","timeZone":true}"#,
        r#"Invalid arguments for binance_klines: `timeZone` must be an offset such as "-1:00" or "05:45" or whole hours from -12 to 14; got true."#,
    ),
    (
        "binance_ticker",
        "{}",
        r#"Invalid arguments for binance_ticker: give `symbol` (e.g. "BTCUSDT") or `symbols` (e.g. ["BTCUSDT", "ETHUSDT"]). To find a symbol, use binance_symbols or search."#,
    ),
    (
        "binance_ticker",
        r#"{"symbols":"BTCUSDT"}"#,
        r#"Invalid arguments for binance_ticker: `symbols` must be a list, each a string; got the string "BTCUSDT"."#,
    ),
    (
        "binance_ticker",
        r#"{"symbols":["A","B","C","D","E","F","G","H","I","J","K","L","M","N","O","P","Q","R","S","T","U"]}"#,
        "Invalid arguments for binance_ticker: `symbols` must list at most 20 symbols; got 21. Split the list into several calls.",
    ),
    (
        "binance_ticker",
        r#"{"symbol":"BTCUSDT","windowSize":"8d"}"#,
        r#"Invalid arguments for binance_ticker: `windowSize`: "8d" is not a window size: use 1m…59m, 1h…23h or 1d…7d (one unit)."#,
    ),
    (
        "binance_order_book",
        r#"{"symbol":"BTCUSDT","limit":6000}"#,
        "Invalid arguments for binance_order_book: `limit`: 6000 is out of range: use 1 to 5000 (default 20).",
    ),
    (
        "binance_order_book",
        r#"{"symbol":"BTCUSDT","limit":1.5}"#,
        "Invalid arguments for binance_order_book: `limit` must be an integer from 1 to 5000 (default 20); got the number 1.5.",
    ),
    (
        "binance_trades",
        r#"{"symbol":"BTCUSDT","aggregate":"yes"}"#,
        r#"Invalid arguments for binance_trades: `aggregate` must be true or false (default false); got the string "yes"."#,
    ),
    (
        "binance_trades",
        r#"{"symbol":"BTCUSDT","startTime":"2025-01-31T12:00Z","endTime":1738195200000}"#,
        "Invalid arguments for binance_trades: `startTime` 2025-01-31T12:00:00Z [1738324800000] is after `endTime` 2025-01-30T00:00:00Z [1738195200000]: swap them, or leave one out.",
    ),
    (
        "binance_symbols",
        r#"{"limit":0}"#,
        "Invalid arguments for binance_symbols: `limit`: 0 is out of range: use 1 to 500 (default 50).",
    ),
    (
        "binance_symbols",
        r#"{"query":"the"}"#,
        r#"Invalid arguments for binance_symbols: `query` "the": it names no coin or pair. Search for e.g. "bitcoin", "ETHUSDT" or "sol perp"."#,
    ),
    (
        "binance_futures",
        r#"{"symbol":"BTCUSDT","period":"1s"}"#,
        r#"Invalid arguments for binance_futures: `period`: "1s" is not a period: use one of 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d."#,
    ),
    (
        "binance_futures",
        r#"{"symbol":"BTCUSDT","fundingLimit":0}"#,
        "Invalid arguments for binance_futures: `fundingLimit`: 0 is out of range: use 1 to 1000 (default 9).",
    ),
    (
        "binance_positioning",
        r#"{"symbol":"BTCUSDT","period":"3m"}"#,
        r#"Invalid arguments for binance_positioning: `period`: "3m" is not a period: use one of 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d."#,
    ),
    (
        "binance_positioning",
        r#"{"symbol":"BTCUSDT","limit":501}"#,
        "Invalid arguments for binance_positioning: `limit`: 501 is out of range: use 1 to 500 (default 30).",
    ),
    (
        "technical_analysis",
        r#"{"symbol":"BTCUSDT","indicators":["foo"]}"#,
        r#"Invalid arguments for technical_analysis: `indicators[0]`: "foo" is not an indicator. Valid indicators: …"#,
    ),
    (
        "technical_analysis",
        r#"{"symbol":"BTCUSDT","indicators":"rsi"}"#,
        r#"Invalid arguments for technical_analysis: `indicators` must be a list, each a string; got the string "rsi"."#,
    ),
    (
        "technical_analysis",
        r#"{"symbol":"BTCUSDT","indicators":[]}"#,
        "Invalid arguments for technical_analysis: `indicators` must list 1 to 12 specs; got 0. Leave it out for the defaults: ema:20, ema:50, sma:200, rsi:14, macd:12,26,9, bbands:20,2, atr:14.",
    ),
    (
        "technical_analysis",
        r#"{"symbol":"BTCUSDT","points":0}"#,
        "Invalid arguments for technical_analysis: `points`: 0 is out of range: use 1 to 50 (default 10).",
    ),
    (
        "technical_analysis",
        r#"{"symbol":"BTCUSDT","limit":10,"indicators":["sma:50"]}"#,
        "Invalid arguments for technical_analysis: `indicators[0]`: sma:50 needs at least 50 candles but `limit` is 10; raise `limit` (at most 5000) or use a shorter period.",
    ),
    (
        "binance_chart",
        r#"{"symbol":"BTCUSDT","width":10}"#,
        "Invalid arguments for binance_chart: `width`: 10 is out of range: use 480 to 2400 (default 1200).",
    ),
    (
        "binance_chart",
        r#"{"symbol":"BTCUSDT","theme":"blue"}"#,
        r#"Invalid arguments for binance_chart: `theme` must be one of dark, light; got the string "blue"."#,
    ),
    (
        "binance_chart",
        r#"{"symbol":"BTCUSDT","pane":"ema:20"}"#,
        "Invalid arguments for binance_chart: `pane` ema:20 is not a pane: use rsi:N, macd:FAST,SLOW,SIGNAL or none.",
    ),
    (
        "binance_chart",
        r#"{"symbol":"BTCUSDT","overlays":["rsi:14"]}"#,
        "Invalid arguments for binance_chart: `overlays[0]`: rsi:14 cannot be drawn over prices: overlays are sma:N, ema:N, wma:N or bbands:N,K (use `pane` for rsi or macd).",
    ),
    (
        "search",
        "{}",
        "Invalid arguments for search: `query` is required: a string.",
    ),
    (
        "search",
        r#"{"query":"the"}"#,
        r#"Invalid arguments for search: `query` "the": it names no coin or pair. Search for e.g. "bitcoin", "ETHUSDT" or "sol perp"."#,
    ),
    (
        "fetch",
        r#"{"id":"x:BTCUSDT"}"#,
        r#"Invalid arguments for fetch: `id` "x:BTCUSDT" is not a fetch id: ids look like spot:BTCUSDT or perp:BTCUSDT; get them from `search`."#,
    ),
    (
        "fetch",
        r#"["spot:BTCUSDT"]"#,
        r#"Invalid arguments for fetch: arguments must be an object of named arguments, like {"id": …}, not a list of 1 item. Its arguments: id (required)."#,
    ),
    (
        "binance_futures",
        r#"{"symbol":"ETHBTC"}"#,
        r#""ETHBTC" is a Binance spot market but has no USD-M perpetual. The perpetual of ETH: ETHUSDT. Retry with it, or use the spot tools (binance_klines, binance_ticker) for ETHBTC."#,
    ),
    (
        "binance_ticker",
        r#"{"symbol":"bitcoin"}"#,
        r#""BITCOIN" names the asset Bitcoin (BTC), not a trading pair. Its spot markets include BTCUSDT, BTCUSDC: retry with one of these exact symbols, or call `search` with "bitcoin" to list them all."#,
    ),
    (
        "binance_klines",
        r#"{"symbol":"ether"}"#,
        r#""ETHER" names the asset Ethereum (ETH), not a trading pair. Its spot markets include ETHUSDT, ETHBTC: retry with one of these exact symbols, or call `search` with "ether" to list them all."#,
    ),
    (
        "binance_positioning",
        r#"{"symbol":"ether"}"#,
        r#""ETHER" names the asset Ethereum (ETH), not a trading pair. Its USD-M perpetuals include ETHUSDT: retry with one of these exact symbols, or call `search` with "ether" to list them all."#,
    ),
    (
        "binance_klines",
        r#"{"symbol":"BTCUSD"}"#,
        r#""BTCUSD" is not a Binance symbol. Did you mean BTCUSDC, BTCUSDT? Retry with one of these exact symbols."#,
    ),
    (
        "fetch",
        r#"{"id":"perp:ETHBTC"}"#,
        r#""perp:ETHBTC" is not a trading Binance market, but spot:ETHBTC is: fetch that id."#,
    ),
];

/// What no message to a caller may contain.
const RUST: &[&str] = &[
    "i64",
    "u16",
    "u32",
    "usize",
    "struct ",
    "serde",
    " at line ",
    "column",
    "sequence",
    "start_time",
    "end_time",
    "Args",
];

async fn text_of(app: &TestApp, tool: &str, arguments: &str) -> String {
    let arguments: Value = serde_json::from_str(arguments).expect("JSON");
    let result = app.call_tool(tool, arguments).await;
    assert_eq!(result["isError"], json!(true), "{tool}: {result}");
    result["content"][0]["text"]
        .as_str()
        .expect("text")
        .to_owned()
}

#[tokio::test]
async fn every_tool_explains_its_bad_arguments_in_the_callers_words() {
    let app = spawn_app().await;
    let tools: std::collections::BTreeSet<&str> = TABLE.iter().map(|(tool, _, _)| *tool).collect();
    assert_eq!(tools.len(), 12, "every tool has rows: {tools:?}");
    for (tool, arguments, expected) in TABLE {
        let text = text_of(&app, tool, arguments).await;
        match expected.strip_suffix('…') {
            Some(start) => assert!(text.starts_with(start), "{tool} {arguments}:\n{text}"),
            None => assert_eq!(&text, expected, "{tool} {arguments}"),
        }
        // Words the caller wrote may be quoted back.
        for rust in RUST.iter().filter(|r| !arguments.contains(*r)) {
            assert!(!text.contains(rust), "{tool} {arguments}: {rust} in {text}");
        }
    }
}
