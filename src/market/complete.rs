//! Argument suggestions for `completion/complete`.
//!
//! Symbols come from exchange info (cached an hour by the client), only
//! those currently TRADING, matched by prefix after the same normalisation
//! `Symbol::parse` applies (`btc-u` finds `BTCUSDT`). They are ordered by a
//! stable, popularity-ish rule: the most traded quote assets first
//! ([`QUOTE_RANK`]), then alphabetically. The server caps the list at 100
//! and reports the total.

use crate::binance::{BinanceClient, Interval};

/// Quote assets in the order their pairs are suggested; any other quote
/// comes after these. Stablecoin pairs carry most spot volume, then BTC,
/// ETH and BNB pairs.
pub const QUOTE_RANK: [&str; 6] = ["USDT", "USDC", "FDUSD", "BTC", "ETH", "BNB"];

/// TRADING symbols starting with `typed`, best first. A Binance failure
/// yields no suggestions rather than an error: completion is a convenience.
pub async fn symbols(binance: &BinanceClient, typed: &str) -> Vec<String> {
    let prefix = normalise(typed);
    let Ok(info) = binance.exchange_info().await else {
        return Vec::new();
    };
    let mut matches: Vec<(usize, &str)> = info
        .value
        .symbols
        .iter()
        .filter(|s| s.status == "TRADING" && s.symbol.starts_with(&prefix))
        .map(|s| (quote_rank(&s.quote_asset), s.symbol.as_str()))
        .collect();
    matches.sort_unstable();
    matches.into_iter().map(|(_, s)| s.to_owned()).collect()
}

/// Suggestions for an argument named `symbol` or `interval`, as the
/// single-market prompt and the klines template take them; other arguments
/// get none.
pub async fn symbol_or_interval(
    binance: &BinanceClient,
    argument: &str,
    typed: &str,
) -> Vec<String> {
    match argument {
        "symbol" => symbols(binance, typed).await,
        "interval" => intervals(typed),
        _ => Vec::new(),
    }
}

/// Suggestions for a comma-separated list: the last item is completed and
/// each suggestion repeats the items before it, since a completion value
/// replaces the whole argument.
pub async fn symbol_list(binance: &BinanceClient, typed: &str) -> Vec<String> {
    let (done, last) = match typed.rfind(',') {
        Some(at) => typed.split_at(at + 1),
        None => ("", typed),
    };
    symbols(binance, last)
        .await
        .into_iter()
        .map(|symbol| format!("{done}{symbol}"))
        .collect()
}

/// The 16 kline intervals starting with `typed`. Case matters (`1m` is a
/// minute, `1M` a month), so an exact-case prefix is preferred and any case
/// is accepted only when nothing matches exactly.
pub fn intervals(typed: &str) -> Vec<String> {
    let typed = typed.trim();
    let pick = |exact: bool| -> Vec<String> {
        Interval::ALL
            .iter()
            .map(|i| i.as_str())
            .filter(|i| {
                if exact {
                    i.starts_with(typed)
                } else {
                    i.to_ascii_lowercase()
                        .starts_with(&typed.to_ascii_lowercase())
                }
            })
            .map(str::to_owned)
            .collect()
    };
    let exact = pick(true);
    if exact.is_empty() { pick(false) } else { exact }
}

fn normalise(typed: &str) -> String {
    typed
        .trim()
        .chars()
        .filter(|c| !matches!(c, '-' | '/' | '_' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn quote_rank(quote: &str) -> usize {
    QUOTE_RANK
        .iter()
        .position(|q| *q == quote)
        .unwrap_or(QUOTE_RANK.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_match_by_prefix_and_case() {
        assert_eq!(intervals("").len(), 16);
        assert_eq!(
            intervals("1"),
            ["1s", "1m", "15m", "1h", "12h", "1d", "1w", "1M"]
        );
        assert_eq!(intervals("1M"), ["1M"]);
        assert_eq!(intervals("1m"), ["1m"]);
        assert_eq!(intervals("15"), ["15m"]);
        assert_eq!(intervals("1H"), ["1h"]);
        assert!(intervals("7").is_empty());
    }

    #[test]
    fn typed_symbols_are_normalised_and_quotes_ranked() {
        assert_eq!(normalise(" btc-u"), "BTCU");
        assert!(quote_rank("USDT") < quote_rank("BTC"));
        assert_eq!(quote_rank("TRY"), QUOTE_RANK.len());
    }
}
