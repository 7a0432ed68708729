//! The one error type of the Binance client.
//!
//! Every `Display` text is written for a model calling a tool: it says what
//! happened and what to do next, in one or two sentences. Upstream bodies
//! appear only as short excerpts ([`excerpt`]), never whole.

use std::fmt;
use std::time::Duration;

/// Longest slice of an upstream body quoted in an error.
const EXCERPT_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub enum BinanceError {
    /// Binance does not list this symbol (code -1121, or rejected locally).
    /// `suggestions` holds up to five close matches from exchange info.
    InvalidSymbol {
        symbol: String,
        suggestions: Vec<String>,
    },
    /// A coin's name or ticker where a symbol belongs (`bitcoin`, `BTC`).
    NameNotSymbol(Box<AssetName>),
    /// A spot market asked for as a USD-M perpetual it does not have.
    NoPerpetual(Box<SpotOnly>),
    /// Not one of the intervals (or periods) this endpoint accepts (code -1120).
    InvalidInterval {
        interval: String,
        allowed: &'static str,
    },
    /// Any other rejected parameter: `code` is Binance's, `None` when we
    /// rejected it before calling.
    InvalidParameter { code: Option<i64>, msg: String },
    /// HTTP 429: the IP's request weight is used up until `retry_after`.
    RateLimited { host: String, retry_after: Duration },
    /// HTTP 418: the IP is banned until `retry_after`.
    Banned { host: String, retry_after: Duration },
    /// This server's own weight budget for `host` has no room (see
    /// `budget`): nothing was sent. `share` when the caller's half share ran
    /// out rather than the whole budget; `limit` names the limit in words.
    BudgetExhausted {
        host: String,
        retry_after: Duration,
        share: bool,
        limit: &'static str,
    },
    /// HTTP 451 from every configured host: Binance refuses this region.
    RegionBlocked { hosts: Vec<String> },
    /// Connection errors, timeouts or 5xx after the bounded retries.
    Unavailable { detail: String },
    /// A response that does not have the documented shape.
    Malformed { endpoint: String, detail: String },
}

impl std::error::Error for BinanceError {}

/// See [`BinanceError::NameNotSymbol`].
#[derive(Debug, Clone, PartialEq)]
pub struct AssetName {
    pub input: String,
    pub asset: &'static str,
    pub name: &'static str,
    /// Listed symbols of the asset, spot or USD-M as the request was.
    pub markets: Vec<String>,
    pub perpetuals: bool,
}

/// See [`BinanceError::NoPerpetual`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpotOnly {
    pub symbol: String,
    pub base_asset: String,
    /// The perpetuals of the same base asset.
    pub perpetuals: Vec<String>,
}

impl BinanceError {
    /// For an argument refused before anything was sent (or an interval
    /// Binance does not have), the problem alone, to follow the argument's
    /// name: `"1H" is not a valid interval here. Use one of: …`.
    pub fn argument_problem(&self) -> Option<String> {
        match self {
            Self::InvalidParameter { code: None, msg } => Some(msg.clone()),
            Self::InvalidInterval { interval, allowed } => Some(format!(
                "\"{interval}\" is not a valid interval here. Use one of: {allowed} \
                 (case-sensitive: 1m is one minute, 1M one month)."
            )),
            _ => None,
        }
    }
}

impl fmt::Display for BinanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSymbol {
                symbol,
                suggestions,
            } if suggestions.is_empty() => write!(
                f,
                "\"{symbol}\" is not a Binance symbol and nothing similar is listed. \
                 Use an exact trading-pair symbol (base asset + quote asset, e.g. BTCUSDT); \
                 the exchange info lists them all."
            ),
            Self::InvalidSymbol {
                symbol,
                suggestions,
            } => write!(
                f,
                "\"{symbol}\" is not a Binance symbol. Did you mean {}? \
                 Retry with one of these exact symbols.",
                suggestions.join(", ")
            ),
            Self::NameNotSymbol(help) => {
                let AssetName {
                    input,
                    asset,
                    name,
                    markets,
                    perpetuals,
                } = help.as_ref();
                let kind = if *perpetuals {
                    "USD-M perpetuals"
                } else {
                    "spot markets"
                };
                let search = input.to_lowercase();
                if markets.is_empty() {
                    write!(
                        f,
                        "\"{input}\" names the asset {name} ({asset}), not a trading pair, and {asset} has no \
                         {kind} on Binance. Call `search` with \"{search}\" to see where it trades."
                    )
                } else {
                    write!(
                        f,
                        "\"{input}\" names the asset {name} ({asset}), not a trading pair. Its {kind} \
                         include {}: retry with one of these exact symbols, or call `search` with \
                         \"{search}\" to list them all.",
                        markets.join(", ")
                    )
                }
            }
            Self::NoPerpetual(spot) if spot.perpetuals.is_empty() => write!(
                f,
                "\"{symbol}\" is a Binance spot market but has no USD-M perpetual, and {base} has \
                 none at all. Use the spot tools (binance_klines, binance_ticker, technical_analysis) \
                 for {symbol}.",
                symbol = spot.symbol,
                base = spot.base_asset,
            ),
            Self::NoPerpetual(spot) => {
                let SpotOnly {
                    symbol,
                    base_asset,
                    perpetuals,
                } = spot.as_ref();
                let (these, them) = match perpetuals.len() {
                    1 => ("The perpetual of", "it"),
                    _ => ("The perpetuals of", "one of them"),
                };
                write!(
                    f,
                    "\"{symbol}\" is a Binance spot market but has no USD-M perpetual. {these} \
                     {base_asset}: {}. Retry with {them}, or use the spot tools (binance_klines, \
                     binance_ticker) for {symbol}.",
                    perpetuals.join(", ")
                )
            }
            Self::InvalidInterval { interval, allowed } => write!(
                f,
                "\"{interval}\" is not a valid interval here. Use one of: {allowed} \
                 (case-sensitive: 1m is one minute, 1M one month)."
            ),
            Self::InvalidParameter {
                code: Some(code),
                msg,
            } => write!(
                f,
                "Binance rejected the request (code {code}): {msg} \
                 Change the arguments; retrying them unchanged fails the same way."
            ),
            Self::InvalidParameter { code: None, msg } => write!(
                f,
                "Invalid argument: {msg} Change the arguments and try again."
            ),
            Self::RateLimited { host, retry_after } => {
                let secs = whole_seconds(*retry_after);
                write!(
                    f,
                    "Rate limited by Binance ({host}, HTTP 429): this server pauses its calls \
                     there for {secs} s. Retry after {secs} s, and fetch less data or fewer \
                     symbols per call meanwhile."
                )
            }
            Self::Banned { host, retry_after } => {
                let secs = whole_seconds(*retry_after);
                write!(
                    f,
                    "Binance has banned this server's IP ({host}, HTTP 418) for calling while \
                     rate limited; calls there are paused for {secs} s. Retry after {secs} s; \
                     until then no market data can be fetched."
                )
            }
            Self::BudgetExhausted {
                host,
                retry_after,
                share: false,
                limit,
            } => {
                let secs = whole_seconds(*retry_after);
                write!(
                    f,
                    "This server has used the part of Binance's {limit} it plans to use for \
                     {host} (it stays well below the limit so that Binance never rate-limits or \
                     bans it); nothing was sent to Binance. Retry after {secs} s, and fetch less \
                     data per call meanwhile (cached data stays available)."
                )
            }
            Self::BudgetExhausted {
                host,
                retry_after,
                share: true,
                limit,
            } => {
                let secs = whole_seconds(*retry_after);
                write!(
                    f,
                    "You have used half of this server's share of Binance's {limit} for {host} \
                     while other users are active; nothing was sent to Binance. Retry after \
                     {secs} s, and fetch less data per call meanwhile (cached data stays \
                     available)."
                )
            }
            Self::RegionBlocked { hosts } => write!(
                f,
                "Binance refuses this server's region (HTTP 451, restricted location) on every \
                 configured host ({}). Retrying will not help: deploy the server in a non-US \
                 region such as Fly fra, ams, nrt or sin, or set BINANCE_BASE_URL (spot) or \
                 BINANCE_FUTURES_BASE_URL (futures) to a reachable host.",
                hosts.join(", ")
            ),
            Self::Unavailable { detail } => write!(
                f,
                "Binance is unavailable right now ({detail}). This is temporary, on Binance's \
                 side or the network's; retry in a minute."
            ),
            Self::Malformed { endpoint, detail } => write!(
                f,
                "Binance answered {endpoint} with data this server cannot read ({detail}). \
                 The request was fine; retry shortly, and report it if it persists."
            ),
        }
    }
}

/// Seconds for a message, rounded up so "retry after 0 s" never appears.
fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The first [`EXCERPT_CHARS`] characters of an upstream body, on one line.
pub(crate) fn excerpt(body: &str) -> String {
    let one_line: String = body
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.chars().count() > EXCERPT_CHARS {
        format!("{one_line}…")
    } else {
        one_line
    }
}
