//! Method handlers: what each MCP method does once the transport has placed
//! the request in its era and checked its headers.
//!
//! Every handler returns its result as JSON text, serialised once and
//! finished for the era by [`Era::finish`], or an [`McpError`].

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::catalog::Catalog;
use super::content::{Content, ResourceContents};
use super::era::{Era, EraKind};
use super::error::McpError;
use super::jsonrpc::Payload;
use super::method::{Completion, CompletionRef, List, Method, PromptCall, ToolCall};
use super::notify::Notifier;
use super::session::{LogLevel, MAX_SUBSCRIPTIONS};
use super::state::McpState;
use super::tool::{CallToolResult, ToolContext};
use super::ui;
use super::version::ProtocolVersion;
use crate::binance::CallerKey;

pub const SERVER_NAME: &str = "crypto-mcp";
pub const SERVER_TITLE: &str = "Crypto market data";
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Told to the model at `initialize` and `server/discover`.
pub const INSTRUCTIONS: &str = "crypto-mcp answers questions about crypto markets with live Binance \
public data and computations on the server. Every tool is read-only. Symbols are Binance pairs such as \
BTCUSDT; if unsure, find one with `search` (\"bitcoin\", \"sol perp\") or `binance_symbols`. \
For the current price and 24h stats use `binance_ticker`; for price history `binance_klines` (default 1h \
x 100; it reports gaps in the series); for liquidity and spread `binance_order_book`; for order flow \
`binance_trades`; for leverage (mark price, funding, open interest) `binance_futures`; for who is long or \
short, taker flow and the basis `binance_positioning`. Candle tools take `market: \"usdm\"` (and `price`: \
mark, index, premium) for perpetuals. \
`fetch` turns a `search` result id into a readable market snapshot with a binance.com URL to cite. \
For indicators computed exactly like TA-Lib (RSI, MACD, moving averages, Bollinger, ATR, ...) with a \
rule-based plain-language reading, use `technical_analysis`; for a picture, `binance_chart` (PNG). The \
prompts `analyze_market` and `compare_markets` walk through a full analysis. \
Prices and quantities are exact decimal strings; times are Unix ms, and time arguments also accept \
ISO-8601. Results say how old their data is (`data_age_ms`, `cached`). Errors say what happened and what \
to do: follow them (e.g. wait the Retry-After, use a suggested symbol). Use `calculate` for exact \
arithmetic (position sizes, percentage changes, averages) instead of doing the math yourself: it reads \
decimals as written, so 0.1+0.2 is 0.3.";

/// Completion suggestions returned at most, as the spec caps them.
const MAX_COMPLETIONS: usize = 100;

/// What we serve; subscriptions need a session, so only the handshake era
/// offers them.
pub fn capabilities(era: EraKind) -> Value {
    let resources = match era {
        EraKind::Handshake => json!({ "subscribe": true }),
        EraKind::Stateless => json!({}),
    };
    json!({
        "tools": {},
        "resources": resources,
        "prompts": {},
        "completions": {},
        "logging": {},
        "extensions": { ui::EXTENSION_ID: ui::extension_capability() },
    })
}

pub fn server_info() -> Value {
    json!({ "name": SERVER_NAME, "title": SERVER_TITLE, "version": SERVER_VERSION })
}

/// The `initialize` result for a negotiated version.
pub fn initialize_result(version: ProtocolVersion) -> String {
    json!({
        "protocolVersion": version.as_str(),
        "capabilities": capabilities(EraKind::Handshake),
        "serverInfo": server_info(),
        "instructions": INSTRUCTIONS,
    })
    .to_string()
}

/// Echo a supported requested version, otherwise offer our latest.
pub fn negotiate(requested: &str) -> ProtocolVersion {
    ProtocolVersion::parse(requested)
        .filter(|v| !v.is_stateless())
        .unwrap_or(ProtocolVersion::LATEST_HANDSHAKE)
}

/// Serves one request (other than `initialize`, which the transport owns
/// because it mints the session).
pub async fn dispatch(
    state: &McpState,
    era: &Era,
    caller: &CallerKey,
    method: Method,
    notifier: Notifier,
) -> Result<Payload, McpError> {
    let catalog = &state.catalog;
    // Which methods an era serves was settled when the call was decoded.
    Ok(match method {
        Method::Ping => Payload::empty(),
        Method::Discover => Payload::Owned(discover_result(era)),
        Method::List(list) => Payload::Shared(
            match list {
                List::Tools => &catalog.tools_list,
                List::Prompts => &catalog.prompts_list,
                List::Resources => &catalog.resources_list,
                List::Templates => &catalog.templates_list,
            }
            .for_era(era),
        ),
        Method::CallTool(call) => call_tool(state, era, caller, call, notifier).await?,
        Method::ReadResource { uri } => read_resource(catalog, era, uri).await?,
        Method::Subscribe { uri } => subscribe(state, era, uri, true).await?,
        Method::Unsubscribe { uri } => subscribe(state, era, uri, false).await?,
        Method::GetPrompt(call) => get_prompt(catalog, era, call)?,
        Method::Complete(completion) => complete(catalog, era, completion).await?,
        Method::SetLevel(level) => set_level(state, era, level).await?,
        // `initialize` is the transport's: it mints the session.
        Method::Initialize { .. } | Method::Unknown(_) => {
            return Err(McpError::MethodNotFound(method.name().to_owned()));
        }
    })
}

fn discover_result(era: &Era) -> String {
    let result = json!({
        "supportedVersions": ProtocolVersion::all_as_str(),
        "capabilities": capabilities(EraKind::Stateless),
        "instructions": INSTRUCTIONS,
        "_meta": { "io.modelcontextprotocol/serverInfo": server_info() },
    });
    era.finish(result.to_string(), Some(super::catalog::LIST_TTL_MS))
}

/// Serialises a computed result once and finishes it for the era.
fn computed(era: &Era, result: &impl Serialize, ttl_ms: Option<u64>) -> Result<Payload, McpError> {
    let json = serde_json::to_string(result).map_err(|error| {
        tracing::error!(%error, "result did not serialise");
        McpError::Internal
    })?;
    Ok(Payload::Owned(era.finish(json, ttl_ms)))
}

/// Runs a tool. Its failures are results (`isError`), not errors: only an
/// unknown tool or a missing client capability fails the request.
pub async fn call_tool(
    state: &McpState,
    era: &Era,
    caller: &CallerKey,
    call: ToolCall,
    notifier: Notifier,
) -> Result<Payload, McpError> {
    let tool = state
        .catalog
        .tools
        .get(&call.name)
        .ok_or_else(|| McpError::InvalidParams(format!("Unknown tool: {}", call.name)))?;
    if let Era::Stateless {
        client_capabilities,
    } = era
    {
        let missing: Vec<&'static str> = tool
            .required_client_capabilities()
            .iter()
            .copied()
            .filter(|cap| !client_capabilities.contains_key(*cap))
            .collect();
        if !missing.is_empty() {
            return Err(McpError::MissingClientCapabilities {
                tool: call.name,
                missing,
            });
        }
    }
    let ctx = ToolContext {
        caller: caller.clone(),
        binance: state.binance.for_caller(caller.clone()),
        notifier,
    };
    let result = tool.call(&ctx, call.arguments.as_deref()).await;
    let mut buffer = Vec::with_capacity(size_hint(&result));
    serde_json::to_writer(&mut buffer, &result).map_err(|error| {
        tracing::error!(%error, tool = call.name, "tool result did not serialise");
        McpError::Internal
    })?;
    let json = String::from_utf8(buffer).map_err(|_| McpError::Internal)?;
    Ok(Payload::Owned(era.finish(json, None)))
}

/// Roughly the bytes of a serialised tool result, so writing it does not
/// regrow (and copy) the buffer again and again: escaping JSON text grows
/// it by about a quarter at most for our outputs.
fn size_hint(result: &CallToolResult) -> usize {
    let content: usize = result
        .content
        .iter()
        .map(|block| match block {
            Content::Text { text } => text.len() + text.len() / 4,
            Content::Image { data, .. } | Content::Audio { data, .. } => data.len(),
            Content::Resource { .. } => 0,
        })
        .sum();
    let raw_len = |raw: &Option<Box<RawValue>>| raw.as_ref().map_or(0, |r| r.get().len());
    content + raw_len(&result.structured_content) + raw_len(&result.meta) + 128
}

async fn read_resource(catalog: &Catalog, era: &Era, uri: String) -> Result<Payload, McpError> {
    #[derive(Serialize)]
    struct ReadResult<'a> {
        contents: &'a [ResourceContents],
    }
    match catalog.read(&uri).await {
        None => Err(McpError::ResourceNotFound { uri }),
        Some(Err(error)) => Err(McpError::ResourceUnreadable { uri, error }),
        Some(Ok(read)) => computed(
            era,
            &ReadResult {
                contents: &read.contents,
            },
            Some(read.ttl_ms),
        ),
    }
}

async fn subscribe(
    state: &McpState,
    era: &Era,
    uri: String,
    on: bool,
) -> Result<Payload, McpError> {
    if !state.catalog.knows_uri(&uri) {
        return Err(McpError::ResourceNotFound { uri });
    }
    if let Era::Handshake {
        session: Some(session),
        ..
    } = era
    {
        if on {
            if !state.sessions.subscribe(&session.id, &uri).await? {
                return Err(McpError::InvalidParams(format!(
                    "too many subscriptions in this session (limit {MAX_SUBSCRIPTIONS})"
                )));
            }
        } else {
            state.sessions.unsubscribe(&session.id, &uri).await?;
        }
    }
    Ok(Payload::empty())
}

fn get_prompt(catalog: &Catalog, era: &Era, call: PromptCall) -> Result<Payload, McpError> {
    let prompt = catalog
        .prompt(&call.name)
        .ok_or_else(|| McpError::InvalidParams(format!("Unknown prompt: {}", call.name)))?;
    if let Some(missing) = prompt
        .descriptor()
        .arguments
        .iter()
        .find(|a| a.required && !call.arguments.contains_key(a.name))
    {
        return Err(McpError::InvalidParams(format!(
            "prompt {} needs argument `{}`: {}",
            call.name, missing.name, missing.description
        )));
    }
    computed(era, &prompt.get(&call.arguments), None)
}

async fn complete(
    catalog: &Catalog,
    era: &Era,
    completion: Completion,
) -> Result<Payload, McpError> {
    let argument = &completion.argument;
    let mut values = match &completion.reference {
        CompletionRef::Prompt { name } => {
            let prompt = catalog
                .prompt(name)
                .ok_or_else(|| McpError::InvalidParams(format!("Unknown prompt: {name}")))?;
            prompt.complete(&argument.name, &argument.value).await
        }
        CompletionRef::Resource { uri } => {
            let template = catalog.template(uri).ok_or_else(|| {
                McpError::InvalidParams(format!("Unknown resource template: {uri}"))
            })?;
            template.complete(&argument.name, &argument.value).await
        }
    };
    let total = values.len();
    values.truncate(MAX_COMPLETIONS);
    let result = json!({
        "completion": { "values": values, "total": total, "hasMore": total > MAX_COMPLETIONS }
    });
    computed(era, &result, None)
}

async fn set_level(state: &McpState, era: &Era, level: LogLevel) -> Result<Payload, McpError> {
    if let Era::Handshake {
        session: Some(session),
        ..
    } = era
    {
        state.sessions.set_log_level(&session.id, level).await?;
    }
    Ok(Payload::empty())
}
