//! `search` and `fetch` in the exact shapes ChatGPT's connectors and deep
//! research expect (one text item holding the JSON, mirrored as
//! `structuredContent`): `search` finds markets, `fetch` turns a result id
//! into a readable market snapshot with a binance.com URL to cite.
//!
//! Ids are `spot:SYMBOL` or `perp:SYMBOL` (USD-M perpetual), so every id a
//! search returns names exactly one fetchable market. Queries may use
//! tickers, symbols or common names ("bitcoin", "ether usdt", "sol perp"),
//! read by [`crate::assets::Query`] and matched against exchange info.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{Freshness, iso, percent, signed};
use super::candles::last_closed;
use super::klines::{find_gaps, stats, summarise as summarise_klines};
use super::order_book::{MIN_LEVELS_FETCHED, summarise as summarise_book};
use crate::assets::{Query, Venue, display_name};
use crate::binance::wire::{ExchangeInfo, MarketEntry};
use crate::binance::{BinanceError, Interval, Symbol, TimeRange};
use crate::mcp::arguments::quote;
use crate::mcp::tool::{Reply, Tool, ToolContext, ToolError};

/// Results per search: enough for every quote market of a major coin
/// without burying the best match.
const MAX_RESULTS: usize = 10;
/// Candles summarised in a snapshot: the last day of 1h candles.
const SNAPSHOT_CANDLES: u16 = 24;
/// Funding events shown in a snapshot: the last day at 8-hour funding.
const SNAPSHOT_FUNDING: u16 = 3;
/// Quote assets preferred when a query names only the base, most liquid
/// first; any other quote sorts after these.
const QUOTE_PREFERENCE: [&str; 7] = ["USDT", "USDC", "FDUSD", "BTC", "ETH", "BNB", "EUR"];

/// A market found by search or named by a fetch id.
#[derive(Clone)]
struct Listing {
    market: Venue,
    symbol: String,
    base: String,
    quote: String,
}

impl Listing {
    fn id(&self) -> String {
        format!("{}:{}", self.market.as_str(), self.symbol)
    }

    fn url(&self) -> String {
        match self.market {
            Venue::Spot => format!(
                "https://www.binance.com/en/trade/{}_{}?type=spot",
                self.base, self.quote
            ),
            Venue::Perp => format!("https://www.binance.com/en/futures/{}", self.symbol),
        }
    }

    fn title(&self) -> String {
        let name = |ticker: &str| match display_name(ticker) {
            Some(name) if name != ticker => format!("{name} ({ticker})"),
            _ => ticker.to_owned(),
        };
        let kind = match self.market {
            Venue::Spot => "spot market",
            Venue::Perp => "USD-M perpetual futures",
        };
        format!(
            "{} / {} {kind} ({}) on Binance",
            name(&self.base),
            name(&self.quote),
            self.symbol
        )
    }
}

// ---------------------------------------------------------------------------
// search

pub struct Search;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// A coin, pair or symbol: "bitcoin", "ether usdt", "SOLUSDT", "sol perp".
    pub query: String,
}

/// One search hit, as ChatGPT expects it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchResult {
    /// `spot:SYMBOL` or `perp:SYMBOL`; pass it to `fetch`.
    pub id: String,
    pub title: String,
    /// The market's page on binance.com, for citation.
    pub url: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchOutput {
    /// Best match first; empty when nothing matched.
    pub results: Vec<SearchResult>,
}

impl Tool for Search {
    type Args = SearchArgs;
    type Output = SearchOutput;

    const NAME: &'static str = "search";
    const TITLE: &'static str = "Search Binance markets";
    const SUMMARY: &'static str =
        "Find markets by coin name, ticker or symbol (bitcoin, sol perp).";
    const DESCRIPTION: &'static str = "Find Binance markets by coin name, ticker or symbol, e.g. \"bitcoin\", \
\"ether usdt\", \"SOLUSDT\", \"sol perp\" (perp/futures selects USD-M perpetuals, spot selects spot). \
Returns {\"results\": [{\"id\", \"title\", \"url\"}]}, best match first, at most 10. Every id (spot:BTCUSDT, \
perp:BTCUSDT) can be passed to `fetch` for a full market snapshot.";
    const OPEN_WORLD: bool = true;

    async fn call(
        &self,
        ctx: &ToolContext,
        args: SearchArgs,
    ) -> Result<Reply<SearchOutput>, ToolError> {
        let query = Query::parse(&args.query).map_err(|e| {
            ToolError::invalid_arguments(format!("`query` {}: {e}", quote(&args.query)))
        })?;
        let (spot, futures) = tokio::join!(
            async {
                if query.wants(Venue::Spot) {
                    Some(ctx.binance.exchange_info().await)
                } else {
                    None
                }
            },
            async {
                if query.wants(Venue::Perp) {
                    Some(ctx.binance.futures_exchange_info().await)
                } else {
                    None
                }
            },
        );
        let mut ranked: Vec<(u8, usize, Listing)> = Vec::new();
        match spot {
            Some(Ok(info)) => {
                ranked.extend(listings(&info.value, Venue::Spot).filter_map(|l| rank(&query, l)))
            }
            // Spot was only a bonus to a perpetual search.
            Some(Err(_)) if query.only == Some(Venue::Perp) => {}
            Some(Err(error)) => return Err(error.into()),
            None => {}
        }
        match futures {
            Some(Ok(info)) => {
                ranked.extend(listings(&info.value, Venue::Perp).filter_map(|l| rank(&query, l)));
            }
            Some(Err(error)) if query.only == Some(Venue::Perp) => return Err(error.into()),
            // A futures outage must not hide spot markets.
            Some(Err(_)) | None => {}
        }
        ranked.sort_by(|a, b| {
            (a.0, a.1, a.2.market != Venue::Spot, &a.2.symbol).cmp(&(
                b.0,
                b.1,
                b.2.market != Venue::Spot,
                &b.2.symbol,
            ))
        });
        let results = ranked
            .into_iter()
            .take(MAX_RESULTS)
            .map(|(_, _, listing)| SearchResult {
                id: listing.id(),
                title: listing.title(),
                url: listing.url(),
            })
            .collect();
        Ok(Reply::new(SearchOutput { results }))
    }
}

/// The markets of `info` that trade now, on `market`.
fn listings<S: MarketEntry>(
    info: &ExchangeInfo<S>,
    market: Venue,
) -> impl Iterator<Item = Listing> + '_ {
    info.symbols
        .iter()
        .map(MarketEntry::entry)
        .filter(|entry| entry.trading)
        .map(move |entry| Listing {
            market,
            symbol: entry.symbol.to_owned(),
            base: entry.base_asset.to_owned(),
            quote: entry.quote_asset.to_owned(),
        })
}

/// (rank, quote preference, listing) for a match; lower ranks first.
fn rank(query: &Query, listing: Listing) -> Option<(u8, usize, Listing)> {
    let rank = query.rank(&listing.symbol, &listing.base, &listing.quote)?;
    let preference = QUOTE_PREFERENCE
        .iter()
        .position(|q| *q == listing.quote)
        .unwrap_or(QUOTE_PREFERENCE.len());
    Some((rank, preference, listing))
}

// ---------------------------------------------------------------------------
// fetch

pub struct Fetch;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchArgs {
    /// An id from `search`: `spot:BTCUSDT` or `perp:BTCUSDT` (a bare symbol
    /// means spot).
    pub id: String,
}

/// Key facts of the snapshot, for filtering and display.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FetchMetadata {
    /// `spot` or `perp`.
    pub market: String,
    pub symbol: String,
    pub base_asset: String,
    pub quote_asset: String,
    /// Last spot trade price, when the symbol trades spot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_change_percent_24h: Option<Decimal>,
    /// Perpetual mark price, when the symbol has a perpetual.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funding_rate: Option<Decimal>,
    /// With the spot candles in `text`: false while the last of them is
    /// still open on the server's clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_candle_closed: Option<bool>,
    /// Time the data describes, ISO-8601 UTC.
    pub as_of: String,
    pub source: String,
    #[serde(flatten)]
    pub freshness: Freshness,
}

/// A market snapshot document, as ChatGPT expects it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FetchOutput {
    pub id: String,
    pub title: String,
    /// The snapshot as readable text.
    pub text: String,
    /// The market's page on binance.com, for citation.
    pub url: String,
    pub metadata: FetchMetadata,
}

impl Tool for Fetch {
    type Args = FetchArgs;
    type Output = FetchOutput;

    const NAME: &'static str = "fetch";
    const TITLE: &'static str = "Fetch a Binance market snapshot";
    const SUMMARY: &'static str =
        "A readable snapshot of one market (price, 24h, candles, book, funding) to cite.";
    const DESCRIPTION: &'static str = "Fetch a readable snapshot of one Binance market by its `search` \
result id (spot:BTCUSDT or perp:BTCUSDT): last price, 24h statistics, a summary of the last 24 hourly \
candles, order-book summary (spread, depth within ±1%), and perpetual futures context (mark/index, \
funding, open interest) where a perpetual exists. Returns {id, title, text, url, metadata} with an \
absolute binance.com URL to cite.";
    const OPEN_WORLD: bool = true;

    async fn call(
        &self,
        ctx: &ToolContext,
        args: FetchArgs,
    ) -> Result<Reply<FetchOutput>, ToolError> {
        let (market, symbol) = parse_id(&args.id)?;
        let (spot_info, futures_info) = tokio::join!(
            ctx.binance.exchange_info(),
            ctx.binance.futures_exchange_info()
        );
        let spot_listing = spot_info.as_ref().ok().and_then(|info| {
            listings(&info.value, Venue::Spot).find(|l| l.symbol == symbol.as_str())
        });
        let perp_listing = futures_info.as_ref().ok().and_then(|info| {
            listings(&info.value, Venue::Perp).find(|l| l.symbol == symbol.as_str())
        });
        let listing = match market {
            Venue::Spot => own_listing(
                spot_info.as_ref().err(),
                spot_listing.as_ref(),
                perp_listing.as_ref(),
                &args.id,
            )?,
            Venue::Perp => own_listing(
                futures_info.as_ref().err(),
                perp_listing.as_ref(),
                spot_listing.as_ref(),
                &args.id,
            )?,
        }
        .clone();

        let mut doc = Document::new(&listing);
        let (spot, perp) = tokio::join!(
            async {
                match spot_listing {
                    Some(_) => Some(spot_section(ctx, &symbol).await),
                    None => None,
                }
            },
            async {
                match perp_listing {
                    Some(_) => Some(perp_section(ctx, &symbol).await),
                    None => None,
                }
            },
        );
        // The market asked for comes first; the other is context.
        let sections = match market {
            Venue::Spot => [(spot, true), (perp, false)],
            Venue::Perp => [(perp, true), (spot, false)],
        };
        for (section, own) in sections {
            match section {
                Some(Ok(section)) => doc.add(section),
                Some(Err(error)) if own => return Err(error.into()),
                Some(Err(error)) => doc
                    .lines
                    .push(format!("(Related market data unavailable: {error})")),
                None => {}
            }
        }
        Ok(Reply::new(doc.finish(listing)))
    }
}

/// The listing an id names, or an error saying why it cannot be fetched
/// (and which id would work when the symbol trades on the other venue).
fn own_listing<'a>(
    info_error: Option<&BinanceError>,
    listing: Option<&'a Listing>,
    other: Option<&Listing>,
    id: &str,
) -> Result<&'a Listing, ToolError> {
    if let Some(error) = info_error {
        return Err(error.clone().into());
    }
    listing.ok_or_else(|| {
        let id = quote(id);
        ToolError::not_found(match other {
            Some(other) => format!(
                "{id} is not a trading Binance market, but {} is: fetch that id.",
                other.id()
            ),
            None => format!(
                "{id} is not a trading Binance market. Use `search` to find ids such as spot:BTCUSDT or perp:BTCUSDT."
            ),
        })
    })
}

fn parse_id(id: &str) -> Result<(Venue, Symbol), ToolError> {
    let id = id.trim();
    let (market, symbol) = match id.split_once(':') {
        Some((prefix, symbol)) => match prefix.to_ascii_lowercase().as_str() {
            "spot" => (Venue::Spot, symbol),
            "perp" => (Venue::Perp, symbol),
            _ => return Err(bad_id(id)),
        },
        None => (Venue::Spot, id),
    };
    let symbol = Symbol::parse(symbol).map_err(|_| bad_id(id))?;
    Ok((market, symbol))
}

fn bad_id(id: &str) -> ToolError {
    ToolError::invalid_arguments(format!(
        "`id` {} is not a fetch id: ids look like spot:BTCUSDT or perp:BTCUSDT; get them from `search`.",
        quote(id)
    ))
}

/// A piece of the snapshot: text lines plus the metadata it supplies.
#[derive(Default)]
struct Section {
    lines: Vec<String>,
    last_price: Option<Decimal>,
    change_percent: Option<Decimal>,
    mark_price: Option<Decimal>,
    funding_rate: Option<Decimal>,
    as_of: Option<i64>,
    last_candle_closed: Option<bool>,
    freshness: Freshness,
}

async fn spot_section(ctx: &ToolContext, symbol: &Symbol) -> Result<Section, BinanceError> {
    let symbols = [symbol.clone()];
    let (ticker, klines, book) = tokio::try_join!(
        ctx.binance.ticker_24hr(&symbols),
        ctx.binance.klines(
            symbol,
            Interval::Hour1,
            TimeRange::last(SNAPSHOT_CANDLES),
            None
        ),
        ctx.binance.depth(symbol, Some(MIN_LEVELS_FETCHED)),
    )?;
    let freshness = Freshness::of(&ticker, ctx.binance.now())
        .and(Freshness::of(&klines, ctx.binance.now()))
        .and(Freshness::of(&book, ctx.binance.now()));
    let mut section = Section {
        freshness,
        ..Section::default()
    };
    let mut tickers = ticker.value.iter().map(|t| &t.stats);
    if let Some(t) = tickers.find(|t| t.symbol == symbol.as_str()) {
        section.last_price = Some(t.last_price);
        section.change_percent = Some(t.price_change_percent);
        section.as_of = Some(t.close_time);
        section.lines.push(format!("Last price: {}", t.last_price));
        section.lines.push(format!(
            "24h: change {} ({}%), open {}, high {}, low {}, weighted average {}, volume {} base / {} quote, {} trades.",
            signed(t.price_change),
            signed(t.price_change_percent),
            t.open_price,
            t.high_price,
            t.low_price,
            t.weighted_avg_price,
            t.volume,
            t.quote_volume,
            t.count
        ));
    }
    let candles = klines.value.as_slice();
    let gaps = find_gaps(candles, Interval::Hour1);
    let closed = last_closed(candles, ctx.binance.unix_ms());
    section.last_candle_closed = Some(closed);
    let mut line = format!(
        "Recent candles: {}",
        summarise_klines(
            symbol.as_str(),
            Interval::Hour1,
            candles,
            stats(candles).as_ref(),
            &gaps
        )
    );
    if let Some(last) = candles.last().filter(|_| !closed) {
        line.push_str(&format!(
            " The last candle is still open (it closes at {}): its close is the latest price.",
            iso(last.close_time)
        ));
    }
    section.lines.push(line);
    let summary = summarise_book(&book.value, usize::from(MIN_LEVELS_FETCHED));
    if let (Some(bid), Some(ask), Some(spread), Some(bps), Some(mid)) = (
        book.value.bids.first(),
        book.value.asks.first(),
        summary.spread,
        summary.spread_bps,
        summary.mid,
    ) {
        let mut line = format!(
            "Order book: best bid {} ({}), best ask {} ({}), spread {spread} ({bps} bps), mid {mid}",
            bid.price, bid.qty, ask.price, ask.qty
        );
        if let Some(band) = summary.bands.iter().find(|b| b.percent == Decimal::ONE) {
            line.push_str(&format!(
                "; within ±1%: bids {} ({} quote), asks {} ({} quote){}",
                band.bid_qty,
                band.bid_notional,
                band.ask_qty,
                band.ask_notional,
                if band.complete {
                    ""
                } else {
                    " (at least; the fetched book ends inside the band)"
                }
            ));
        }
        line.push('.');
        section.lines.push(line);
    }
    Ok(section)
}

async fn perp_section(ctx: &ToolContext, symbol: &Symbol) -> Result<Section, BinanceError> {
    let (premium, open_interest, funding) = tokio::try_join!(
        ctx.binance.premium_index(Some(symbol)),
        ctx.binance.open_interest(symbol),
        ctx.binance
            .funding_rate(symbol, TimeRange::last(SNAPSHOT_FUNDING)),
    )?;
    let freshness = Freshness::of(&premium, ctx.binance.now())
        .and(Freshness::of(&open_interest, ctx.binance.now()))
        .and(Freshness::of(&funding, ctx.binance.now()));
    let mut section = Section {
        freshness,
        ..Section::default()
    };
    if let Some(p) = premium.value.iter().find(|p| p.symbol == symbol.as_str()) {
        section.mark_price = Some(p.mark_price);
        section.funding_rate = Some(p.last_funding_rate);
        section.as_of = Some(p.time);
        section.lines.push(format!(
            "Perpetual (USD-M): mark {}, index {} (premium {}%), funding rate {} ({}% per period), next funding {}.",
            p.mark_price,
            p.index_price,
            signed(percent(p.mark_price - p.index_price, p.index_price, 4)),
            p.last_funding_rate,
            percent(p.last_funding_rate, Decimal::ONE, 6),
            iso(p.next_funding_time)
        ));
        let oi = open_interest.value.open_interest;
        section.lines.push(format!(
            "Open interest: {oi} contracts (≈ {} quote at mark).",
            (oi * p.mark_price).round_dp(2)
        ));
    }
    section.lines.push(format!(
        "Perpetual candles: binance_klines {{\"symbol\":\"{symbol}\",\"market\":\"usdm\"}} (add \"price\": \"mark\", \"index\" or \"premium\" for those series); positioning: binance_positioning {{\"symbol\":\"{symbol}\"}}."
    ));
    if !funding.value.is_empty() {
        let history: Vec<String> = funding
            .value
            .iter()
            .map(|f| format!("{} at {}", f.funding_rate, iso(f.funding_time)))
            .collect();
        section
            .lines
            .push(format!("Recent funding: {}.", history.join(", ")));
    }
    Ok(section)
}

/// The snapshot under construction.
struct Document {
    lines: Vec<String>,
    metadata: Section,
    any_section: bool,
}

impl Document {
    fn new(listing: &Listing) -> Self {
        Self {
            lines: vec![listing.title()],
            metadata: Section::default(),
            any_section: false,
        }
    }

    fn add(&mut self, section: Section) {
        let m = &mut self.metadata;
        m.last_price = m.last_price.or(section.last_price);
        m.change_percent = m.change_percent.or(section.change_percent);
        m.mark_price = m.mark_price.or(section.mark_price);
        m.funding_rate = m.funding_rate.or(section.funding_rate);
        m.as_of = m.as_of.or(section.as_of);
        m.last_candle_closed = m.last_candle_closed.or(section.last_candle_closed);
        m.freshness = if self.any_section {
            m.freshness.and(section.freshness)
        } else {
            section.freshness
        };
        self.any_section = true;
        self.lines.extend(section.lines);
    }

    fn finish(mut self, listing: Listing) -> FetchOutput {
        let m = self.metadata;
        let as_of = m.as_of.map(iso).unwrap_or_default();
        if let Some(first) = self.lines.first_mut() {
            first.push_str(&format!(", snapshot as of {as_of}."));
        }
        self.lines.push(
            "Source: Binance public market data; prices are exact decimals as Binance reports them."
                .to_owned(),
        );
        FetchOutput {
            id: listing.id(),
            title: listing.title(),
            url: listing.url(),
            text: self.lines.join("\n"),
            metadata: FetchMetadata {
                market: listing.market.as_str().to_owned(),
                symbol: listing.symbol.clone(),
                base_asset: listing.base.clone(),
                quote_asset: listing.quote.clone(),
                last_price: m.last_price,
                price_change_percent_24h: m.change_percent,
                mark_price: m.mark_price,
                funding_rate: m.funding_rate,
                last_candle_closed: m.last_candle_closed,
                as_of,
                source: "Binance public market data".to_owned(),
                freshness: m.freshness,
            },
        }
    }
}
