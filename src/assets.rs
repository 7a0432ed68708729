//! What people call crypto assets, and the one way a text query is matched
//! against Binance markets.
//!
//! `search` (ChatGPT's connector) and `binance_symbols` both read queries
//! like "bitcoin", "ether usdt", "BTC/USDT" or "sol perp" through [`Query`]:
//! words split on spaces and separators, common names become tickers through
//! a small table, words that only pick a market type (perp, spot) or carry
//! no name (price, the) are set aside. A market then ranks by how the query
//! names it: its exact pair, its base asset, its pair reversed, a prefix of
//! its symbol, its quote asset, or a part of its symbol.

use std::fmt;

/// Longest query read; longer text is not a market name.
pub const MAX_QUERY_CHARS: usize = 100;

/// Common names → (ticker, display name). Tickers map to themselves so the
/// display name is found for them too.
const ASSET_NAMES: &[(&str, &str, &str)] = &[
    ("bitcoin", "BTC", "Bitcoin"),
    ("btc", "BTC", "Bitcoin"),
    ("xbt", "BTC", "Bitcoin"),
    ("ether", "ETH", "Ethereum"),
    ("ethereum", "ETH", "Ethereum"),
    ("eth", "ETH", "Ethereum"),
    ("solana", "SOL", "Solana"),
    ("sol", "SOL", "Solana"),
    ("bnb", "BNB", "BNB"),
    ("xrp", "XRP", "XRP"),
    ("ripple", "XRP", "XRP"),
    ("dogecoin", "DOGE", "Dogecoin"),
    ("doge", "DOGE", "Dogecoin"),
    ("cardano", "ADA", "Cardano"),
    ("ada", "ADA", "Cardano"),
    ("tron", "TRX", "TRON"),
    ("trx", "TRX", "TRON"),
    ("litecoin", "LTC", "Litecoin"),
    ("ltc", "LTC", "Litecoin"),
    ("polkadot", "DOT", "Polkadot"),
    ("dot", "DOT", "Polkadot"),
    ("chainlink", "LINK", "Chainlink"),
    ("link", "LINK", "Chainlink"),
    ("avalanche", "AVAX", "Avalanche"),
    ("avax", "AVAX", "Avalanche"),
    ("polygon", "POL", "Polygon"),
    ("matic", "POL", "Polygon"),
    ("pol", "POL", "Polygon"),
    ("toncoin", "TON", "Toncoin"),
    ("ton", "TON", "Toncoin"),
    ("shiba", "SHIB", "Shiba Inu"),
    ("shib", "SHIB", "Shiba Inu"),
    ("pepe", "PEPE", "Pepe"),
    ("sui", "SUI", "Sui"),
    ("near", "NEAR", "NEAR Protocol"),
    ("uniswap", "UNI", "Uniswap"),
    ("uni", "UNI", "Uniswap"),
    ("tether", "USDT", "Tether"),
    ("usdt", "USDT", "Tether"),
    ("usdc", "USDC", "USD Coin"),
    ("fdusd", "FDUSD", "First Digital USD"),
];

/// Words that only say which market type is wanted.
const PERP_WORDS: [&str; 6] = [
    "perp",
    "perps",
    "perpetual",
    "perpetuals",
    "futures",
    "future",
];
/// Words that carry no market name ("bitcoin price", "eth vs usdt").
const FILLER_WORDS: [&str; 12] = [
    "price", "prices", "of", "the", "on", "binance", "market", "pair", "vs", "to", "coin", "inu",
];

/// The Binance ticker for a common name or ticker, if the table knows it.
pub fn ticker_for_name(word: &str) -> Option<&'static str> {
    let word = word.trim().to_lowercase();
    ASSET_NAMES
        .iter()
        .find(|(name, _, _)| *name == word)
        .map(|(_, ticker, _)| *ticker)
}

/// "Bitcoin" for BTC, if the table knows the ticker.
pub fn display_name(ticker: &str) -> Option<&'static str> {
    ASSET_NAMES
        .iter()
        .find(|(_, t, _)| *t == ticker)
        .map(|(_, _, name)| *name)
}

/// Levenshtein distance over chars, two rows of memory.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Where a market trades: spot, or USD-M perpetual futures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Venue {
    Spot,
    Perp,
}

impl Venue {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spot => "spot",
            Self::Perp => "perp",
        }
    }
}

/// Why a query names no market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    TooLong,
    NamesNothing,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong => write!(
                f,
                "it is longer than {MAX_QUERY_CHARS} characters. Search for one coin or pair, e.g. \"bitcoin\" or \"eth usdt\"."
            ),
            Self::NamesNothing => f.write_str(
                "it names no coin or pair. Search for e.g. \"bitcoin\", \"ETHUSDT\" or \"sol perp\".",
            ),
        }
    }
}

/// A text query, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Set when the query says `perp`/`futures` or `spot`.
    pub only: Option<Venue>,
    /// Asset tickers named, in order ("ether usdt" → ETH, USDT).
    assets: Vec<String>,
    /// The tickers run together, as a symbol ("btc/usdt" → BTCUSDT).
    compact: String,
}

impl Query {
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let mut only = None;
        let mut assets = Vec::new();
        for word in text
            .split(|c: char| c.is_whitespace() || matches!(c, '-' | '/' | '_' | ',' | ':'))
            .map(str::to_lowercase)
            .filter(|w| !w.is_empty())
        {
            if PERP_WORDS.contains(&word.as_str()) {
                only = Some(Venue::Perp);
            } else if word == "spot" {
                only = Some(Venue::Spot);
            } else if !FILLER_WORDS.contains(&word.as_str()) {
                assets.push(
                    ticker_for_name(&word).map_or_else(|| word.to_uppercase(), str::to_owned),
                );
            }
        }
        let compact = assets.concat();
        if compact.is_empty() {
            return Err(QueryError::NamesNothing);
        }
        Ok(Self {
            only,
            assets,
            compact,
        })
    }

    /// False when the query asks only for the other venue.
    pub fn wants(&self, venue: Venue) -> bool {
        self.only.is_none_or(|only| only == venue)
    }

    /// How well a market matches, lower first; `None` when it does not.
    pub fn rank(&self, symbol: &str, base: &str, quote: &str) -> Option<u8> {
        let rank = match self.assets.as_slice() {
            _ if symbol == self.compact => 0,
            [b, q] if *b == base && *q == quote => 0,
            [one] if *one == base => 1,
            [q, b] if *q == quote && *b == base => 2,
            _ if symbol.starts_with(&self.compact) => 3,
            [one] if *one == quote => 4,
            _ if symbol.contains(&self.compact) => 5,
            _ => return None,
        };
        Some(rank)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(query: &str, (symbol, base, quote): (&str, &str, &str)) -> Option<u8> {
        Query::parse(query)
            .expect("a query")
            .rank(symbol, base, quote)
    }

    const BTCUSDT: (&str, &str, &str) = ("BTCUSDT", "BTC", "USDT");
    const ETHBTC: (&str, &str, &str) = ("ETHBTC", "ETH", "BTC");

    #[test]
    fn names_pairs_and_symbols_rank_in_order() {
        assert_eq!(rank("BTC/USDT", BTCUSDT), Some(0));
        assert_eq!(rank("btcusdt", BTCUSDT), Some(0));
        assert_eq!(rank("bitcoin", BTCUSDT), Some(1));
        assert_eq!(rank("usdt bitcoin", BTCUSDT), Some(2));
        assert_eq!(rank("btcu", BTCUSDT), Some(3));
        assert_eq!(rank("bitcoin", ETHBTC), Some(4));
        assert_eq!(rank("USD", BTCUSDT), Some(5));
        assert_eq!(rank("ether usdt", BTCUSDT), None);
        assert_eq!(rank("bitcoin price on binance", BTCUSDT), Some(1));
    }

    #[test]
    fn market_words_pick_a_venue() {
        let query = Query::parse("sol perp").expect("a query");
        assert_eq!(query.only, Some(Venue::Perp));
        assert!(!query.wants(Venue::Spot));
        assert!(query.wants(Venue::Perp));
        assert!(Query::parse("eth").expect("a query").wants(Venue::Spot));
        assert_eq!(
            Query::parse("solana spot").expect("a query").only,
            Some(Venue::Spot)
        );
    }

    #[test]
    fn empty_and_long_queries_are_refused() {
        assert_eq!(Query::parse("the price"), Err(QueryError::NamesNothing));
        assert_eq!(Query::parse(" - / "), Err(QueryError::NamesNothing));
        let long = "é".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(Query::parse(&long), Err(QueryError::TooLong));
        assert!(Query::parse(&"é".repeat(MAX_QUERY_CHARS)).is_ok());
    }

    #[test]
    fn the_name_table_goes_both_ways() {
        assert_eq!(ticker_for_name(" Ethereum "), Some("ETH"));
        assert_eq!(ticker_for_name("matic"), Some("POL"));
        assert_eq!(ticker_for_name("unobtainium"), None);
        assert_eq!(display_name("BTC"), Some("Bitcoin"));
        assert_eq!(display_name("XYZ"), None);
    }
}
