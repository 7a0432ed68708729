//! `analyze_market` and `compare_markets`: prompts that steer a model
//! through our tools and ask it to present results honestly.
//!
//! Each returns one user message: which tools to call, in which order, with
//! which arguments, then how to report (cite every number with its tool,
//! state data age, separate facts from interpretation, never predict).
//! Arguments are normalised the way the tools will read them; something
//! that is not a symbol or interval is named in the message rather than
//! silently dropped, since `prompts/get` cannot fail once its required
//! arguments are present.

use std::collections::HashMap;

use futures_util::future::BoxFuture;

use super::complete;
use crate::binance::{BinanceClient, Interval, Symbol};
use crate::mcp::catalog::{
    GetPromptResult, Prompt, PromptArgument, PromptDescriptor, PromptMessage,
};
use crate::mcp::content::Content;

/// Interval used when none (or an invalid one) is given: the tools' default.
pub const DEFAULT_INTERVAL: Interval = Interval::Hour1;
/// Most markets one comparison covers: each costs several tool calls and
/// their results share the model's context.
pub const MAX_COMPARE_SYMBOLS: usize = 5;
/// Longest argument text echoed into a message, so a pasted essay does not
/// become the prompt.
const MAX_ECHO_CHARS: usize = 40;

/// How to present results; shared by both prompts.
const HONESTY: &str = "\
Present the results honestly:
- Cite every number with the tool it came from, and do arithmetic (differences, percentages, ratios) with `calculate`, never in your head.
- State how fresh the data is: the candle open times, `data_age_ms`, and that the last candle may still be open.
- Quote the `reading` sentences of technical_analysis as they are; they come from fixed rules over the numbers. Keep your own interpretation separate and labelled as such.
- If a tool fails or a market has no futures listing, say so; do not fill gaps with guesses.
- Describe, do not predict: no price targets and no financial advice.";

pub struct AnalyzeMarket {
    binance: BinanceClient,
}

impl AnalyzeMarket {
    pub fn new(binance: BinanceClient) -> Self {
        Self { binance }
    }
}

pub struct CompareMarkets {
    binance: BinanceClient,
}

impl CompareMarkets {
    pub fn new(binance: BinanceClient) -> Self {
        Self { binance }
    }
}

const INTERVAL_ARGUMENT: PromptArgument = PromptArgument {
    name: "interval",
    description: "Candle interval such as 15m, 1h, 4h or 1d (default 1h).",
    required: false,
};

impl Prompt for AnalyzeMarket {
    fn descriptor(&self) -> PromptDescriptor {
        PromptDescriptor {
            name: "analyze_market",
            title: "Analyze a market",
            description: "A step-by-step technical look at one Binance market: price, indicators with their rule-based reading, a chart, order book and futures data, reported with sources and data age.",
            arguments: vec![
                PromptArgument {
                    name: "symbol",
                    description: "Trading pair, e.g. BTCUSDT.",
                    required: true,
                },
                INTERVAL_ARGUMENT,
            ],
        }
    }

    fn get(&self, args: &HashMap<String, String>) -> GetPromptResult {
        let raw = args.get("symbol").map_or("", String::as_str);
        let (symbol, symbol_note) = match Symbol::parse(raw) {
            Ok(symbol) => (symbol.to_string(), String::new()),
            Err(_) => (
                echo(raw),
                format!(
                    "\"{}\" does not look like a Binance symbol; ask the user which pair they mean before calling tools.\n\n",
                    echo(raw)
                ),
            ),
        };
        let (interval, interval_note) = interval_of(args);
        let text = format!(
            "{symbol_note}{interval_note}Analyse the Binance market {symbol} on the {interval} timeframe using the crypto-mcp tools, in this order:
1. binance_ticker for {symbol}: last price, 24h change and volume.
2. technical_analysis with symbol {symbol} and interval {interval} (default indicators): note the latest values and quote its `reading`.
3. binance_chart with symbol {symbol}, interval {interval}, overlays [\"ema:20\", \"ema:50\", \"bbands:20,2\"] and pane \"rsi:14\"; show the image.
4. binance_order_book for {symbol}: spread and the depth near the price.
5. binance_futures for {symbol}: funding rate and open interest, if a perpetual is listed.
6. calculate for any arithmetic, e.g. the distance from the price to a band or average in percent.

Then summarise in a few short paragraphs: price and 24h change, trend, momentum, volatility, liquidity, and derivatives positioning.

{HONESTY}"
        );
        GetPromptResult {
            description: format!("Technical analysis of {symbol} on {interval}"),
            messages: vec![user(text)],
        }
    }

    fn complete<'a>(&'a self, argument: &'a str, value: &'a str) -> BoxFuture<'a, Vec<String>> {
        Box::pin(complete::symbol_or_interval(&self.binance, argument, value))
    }
}

impl Prompt for CompareMarkets {
    fn descriptor(&self) -> PromptDescriptor {
        PromptDescriptor {
            name: "compare_markets",
            title: "Compare markets",
            description: "A side-by-side comparison of 2 to 5 Binance markets: performance, trend, momentum and volatility on the same timeframe, in one table with sources.",
            arguments: vec![
                PromptArgument {
                    name: "symbols",
                    description: "2 to 5 trading pairs separated by commas, e.g. BTCUSDT,ETHUSDT,SOLUSDT.",
                    required: true,
                },
                INTERVAL_ARGUMENT,
            ],
        }
    }

    fn get(&self, args: &HashMap<String, String>) -> GetPromptResult {
        let raw = args.get("symbols").map_or("", String::as_str);
        let mut symbols: Vec<String> = Vec::new();
        let mut rejected: Vec<String> = Vec::new();
        for item in raw.split([',', ';', ' ']).filter(|s| !s.trim().is_empty()) {
            match Symbol::parse(item) {
                Ok(symbol) if !symbols.contains(&symbol.to_string()) => {
                    symbols.push(symbol.to_string())
                }
                Ok(_) => {}
                Err(_) => rejected.push(echo(item)),
            }
        }
        let mut notes = String::new();
        if !rejected.is_empty() {
            notes.push_str(&format!(
                "These are not Binance symbols and were left out: {}.\n",
                rejected.join(", ")
            ));
        }
        if symbols.len() > MAX_COMPARE_SYMBOLS {
            notes.push_str(&format!(
                "Only the first {MAX_COMPARE_SYMBOLS} symbols are compared; {} were left out.\n",
                symbols.split_off(MAX_COMPARE_SYMBOLS).join(", ")
            ));
        }
        if symbols.len() < 2 {
            notes.push_str("A comparison needs at least two symbols; ask the user which markets to compare before calling tools.\n");
        }
        if !notes.is_empty() {
            notes.push('\n');
        }
        let (interval, interval_note) = interval_of(args);
        let list = symbols.join(", ");
        let text = format!(
            "{notes}{interval_note}Compare the Binance markets {list} on the {interval} timeframe using the crypto-mcp tools:
1. binance_ticker for all of them in one call: last price, 24h change and volume.
2. technical_analysis for each, with interval {interval} and indicators [\"ema:20\", \"ema:50\", \"rsi:14\", \"macd:12,26,9\", \"atr:14\"]: note the trend, RSI zone and MACD state from its `reading`.
3. binance_futures for each that has a perpetual: funding rate and open interest.
4. calculate for every derived number, e.g. ATR as a percent of price so volatility is comparable across prices.
5. Optionally binance_chart for the one or two markets that stand out.

Then give one table with a row per market (price, 24h change, trend, RSI, MACD state, ATR %, funding) and a few sentences on what differs, naming the strongest and weakest by the numbers shown.

{HONESTY}"
        );
        GetPromptResult {
            description: format!("Comparison of {list} on {interval}"),
            messages: vec![user(text)],
        }
    }

    fn complete<'a>(&'a self, argument: &'a str, value: &'a str) -> BoxFuture<'a, Vec<String>> {
        Box::pin(async move {
            match argument {
                "symbols" => complete::symbol_list(&self.binance, value).await,
                "interval" => complete::intervals(value),
                _ => Vec::new(),
            }
        })
    }
}

/// The interval argument, or the default with a note when it is invalid.
fn interval_of(args: &HashMap<String, String>) -> (Interval, String) {
    match args
        .get("interval")
        .map(|i| i.trim())
        .filter(|i| !i.is_empty())
    {
        None => (DEFAULT_INTERVAL, String::new()),
        Some(raw) => match Interval::parse(raw) {
            Ok(interval) => (interval, String::new()),
            Err(_) => (
                DEFAULT_INTERVAL,
                format!(
                    "\"{}\" is not a Binance interval, so {DEFAULT_INTERVAL} is used.\n\n",
                    echo(raw)
                ),
            ),
        },
    }
}

fn echo(text: &str) -> String {
    text.trim().chars().take(MAX_ECHO_CHARS).collect()
}

fn user(text: String) -> PromptMessage {
    PromptMessage {
        role: "user",
        content: Content::text(text),
    }
}
