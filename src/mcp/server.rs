//! Method handlers: what each MCP method does once the transport has placed
//! the request in its era and checked its headers.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::catalog::{Catalog, Prebuilt};
use super::content::Content;
use super::jsonrpc::{self, RpcError, decode_params};
use super::notify::Notifier;
use super::session::{LogLevel, SessionView};
use super::version::ProtocolVersion;
use crate::apps;
use crate::binance::CallerKey;
use crate::state::AppState;
use crate::tools::{CallToolResult, ToolContext};

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

/// The era a request is served in, with what that era tells us.
#[derive(Debug, Clone)]
pub enum Era {
    Handshake {
        version: ProtocolVersion,
        session: Option<SessionView>,
    },
    Stateless {
        client_capabilities: Map<String, Value>,
    },
}

impl Era {
    pub fn is_stateless(&self) -> bool {
        matches!(self, Self::Stateless { .. })
    }
}

/// A result as JSON text: shared when prebuilt, owned when computed.
#[derive(Debug)]
pub enum Payload {
    Shared(Arc<str>),
    Owned(String),
}

impl Payload {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Shared(text) => text,
            Self::Owned(text) => text,
        }
    }

    fn empty() -> Self {
        Self::Shared(Arc::from("{}"))
    }
}

pub fn capabilities(stateless: bool) -> Value {
    let resources = if stateless {
        json!({})
    } else {
        json!({ "subscribe": true })
    };
    json!({
        "tools": {},
        "resources": resources,
        "prompts": {},
        "completions": {},
        "logging": {},
        "extensions": { apps::EXTENSION_ID: apps::extension_capability() },
    })
}

pub fn server_info() -> Value {
    json!({ "name": SERVER_NAME, "title": SERVER_TITLE, "version": SERVER_VERSION })
}

/// The `initialize` result for a negotiated version.
pub fn initialize_result(version: ProtocolVersion) -> String {
    json!({
        "protocolVersion": version.as_str(),
        "capabilities": capabilities(false),
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

#[derive(Debug, Default, Deserialize)]
struct ListParams {
    cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct CallParams {
    name: String,
    #[serde(default)]
    arguments: Option<Box<RawValue>>,
}

#[derive(Debug, Default, Deserialize)]
struct UriParams {
    uri: String,
}

#[derive(Debug, Default, Deserialize)]
struct GetPromptParams {
    name: String,
    #[serde(default)]
    arguments: Option<HashMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum CompletionRef {
    #[serde(rename = "ref/prompt")]
    Prompt { name: String },
    #[serde(rename = "ref/resource")]
    Resource { uri: String },
}

#[derive(Debug, Deserialize)]
struct CompletionArgument {
    name: String,
    value: String,
}

#[derive(Debug, Deserialize)]
struct CompleteParams {
    #[serde(rename = "ref")]
    reference: CompletionRef,
    argument: CompletionArgument,
}

impl Default for CompleteParams {
    fn default() -> Self {
        Self {
            reference: CompletionRef::Prompt {
                name: String::new(),
            },
            argument: CompletionArgument {
                name: String::new(),
                value: String::new(),
            },
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct SetLevelParams {
    level: String,
}

/// Serves one request (other than `initialize`, which the transport owns
/// because it mints the session).
pub async fn dispatch(
    state: &AppState,
    era: &Era,
    caller: &CallerKey,
    method: &str,
    params: Option<&RawValue>,
    notifier: Notifier,
) -> Result<Payload, RpcError> {
    let catalog = &state.catalog;
    let stateless = era.is_stateless();
    let payload = match (method, stateless) {
        ("ping", false) => Payload::empty(),
        ("server/discover", true) => Payload::Owned(discover_result()),
        ("tools/list", _) => list(params, &catalog.tools_list, stateless)?,
        ("prompts/list", _) => list(params, &catalog.prompts_list, stateless)?,
        ("resources/list", _) => list(params, &catalog.resources_list, stateless)?,
        ("resources/templates/list", _) => list(params, &catalog.templates_list, stateless)?,
        ("tools/call", _) => call_tool(state, era, caller, params, notifier).await?,
        ("resources/read", _) => read_resource(catalog, stateless, params).await?,
        ("resources/subscribe", false) => subscribe(state, era, params, true).await?,
        ("resources/unsubscribe", false) => subscribe(state, era, params, false).await?,
        ("prompts/get", _) => get_prompt(catalog, stateless, params)?,
        ("completion/complete", _) => complete(catalog, stateless, params).await?,
        ("logging/setLevel", false) => set_level(state, era, params).await?,
        _ => return Err(RpcError::method_not_found(method)),
    };
    Ok(payload)
}

fn discover_result() -> String {
    json!({
        "supportedVersions": ProtocolVersion::all_as_str(),
        "capabilities": capabilities(true),
        "instructions": INSTRUCTIONS,
        "resultType": "complete",
        "ttlMs": super::catalog::LIST_TTL_MS,
        "cacheScope": "public",
        "_meta": { "io.modelcontextprotocol/serverInfo": server_info() },
    })
    .to_string()
}

fn list(
    params: Option<&RawValue>,
    prebuilt: &Prebuilt,
    stateless: bool,
) -> Result<Payload, RpcError> {
    let params: ListParams = decode_params(params)?;
    if params.cursor.is_some() {
        // We never paginate, so no cursor we issued can come back.
        return Err(RpcError::invalid_params(
            "unknown cursor; this list is never paginated",
        ));
    }
    Ok(Payload::Shared(if stateless {
        prebuilt.stateless.clone()
    } else {
        prebuilt.handshake.clone()
    }))
}

/// Serialises a computed result, adding `resultType` (and cache hints when
/// given) in the stateless era.
fn computed(mut result: Value, stateless: bool, ttl_ms: Option<u64>) -> Payload {
    if stateless && let Some(object) = result.as_object_mut() {
        object.insert("resultType".into(), json!("complete"));
        if let Some(ttl) = ttl_ms {
            object.insert("ttlMs".into(), json!(ttl));
            object.insert("cacheScope".into(), json!("public"));
        }
    }
    Payload::Owned(result.to_string())
}

async fn call_tool(
    state: &AppState,
    era: &Era,
    caller: &CallerKey,
    params: Option<&RawValue>,
    notifier: Notifier,
) -> Result<Payload, RpcError> {
    let params: CallParams = decode_params(params)?;
    let tool = state
        .catalog
        .tools
        .get(&params.name)
        .ok_or_else(|| RpcError::invalid_params(format!("Unknown tool: {}", params.name)))?;
    let client_capabilities = match era {
        Era::Stateless {
            client_capabilities,
        } => {
            let missing: Map<String, Value> = tool
                .required_client_capabilities()
                .iter()
                .filter(|cap| !client_capabilities.contains_key(**cap))
                .map(|cap| ((*cap).to_owned(), json!({})))
                .collect();
            if !missing.is_empty() {
                let names: Vec<&String> = missing.keys().collect();
                return Err(RpcError::new(
                    jsonrpc::MISSING_CLIENT_CAPABILITY,
                    format!("Tool {} needs client capabilities {names:?}", params.name),
                )
                .with_data(json!({ "requiredCapabilities": missing })));
            }
            Some(Value::Object(client_capabilities.clone()))
        }
        Era::Handshake { .. } => None,
    };
    let ctx = ToolContext {
        binance: state.binance.for_caller(caller.clone()),
        notifier,
        client_capabilities,
    };
    let result = tool.call(&ctx, params.arguments.as_deref()).await;
    let mut buffer = Vec::with_capacity(size_hint(&result));
    serde_json::to_writer(&mut buffer, &result).map_err(|_| RpcError::internal())?;
    let json = String::from_utf8(buffer).map_err(|_| RpcError::internal())?;
    Ok(Payload::Owned(if era.is_stateless() {
        with_result_type(json)
    } else {
        json
    }))
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

/// Adds the stateless era's `"resultType":"complete"` to a serialised tool
/// result by splicing, not by parsing and printing it again: results can
/// be tens of kB, and that round trip cost more than the tool itself.
fn with_result_type(json: String) -> String {
    const FIELD: &str = r#""resultType":"complete""#;
    match json.strip_prefix('{') {
        Some("}") => format!("{{{FIELD}}}"),
        Some(rest) => format!("{{{FIELD},{rest}"),
        None => json,
    }
}

fn not_found(uri: &str, stateless: bool) -> RpcError {
    let code = if stateless {
        jsonrpc::INVALID_PARAMS
    } else {
        jsonrpc::RESOURCE_NOT_FOUND
    };
    RpcError::new(code, format!("Resource not found: {uri}")).with_data(json!({ "uri": uri }))
}

async fn read_resource(
    catalog: &Catalog,
    stateless: bool,
    params: Option<&RawValue>,
) -> Result<Payload, RpcError> {
    let UriParams { uri } = decode_params(params)?;
    match catalog.read(&uri).await {
        None => Err(not_found(&uri, stateless)),
        Some(Err(error)) => {
            Err(RpcError::new(jsonrpc::INTERNAL_ERROR, error.0).with_data(json!({ "uri": uri })))
        }
        Some(Ok(read)) => Ok(computed(
            json!({ "contents": read.contents }),
            stateless,
            Some(read.ttl_ms),
        )),
    }
}

async fn subscribe(
    state: &AppState,
    era: &Era,
    params: Option<&RawValue>,
    on: bool,
) -> Result<Payload, RpcError> {
    let UriParams { uri } = decode_params(params)?;
    if !state.catalog.knows_uri(&uri) {
        return Err(not_found(&uri, false));
    }
    if let Era::Handshake {
        session: Some(session),
        ..
    } = era
    {
        let unavailable = |e: super::session::SessionError| {
            tracing::warn!(error = %e, "MCP session store unavailable");
            RpcError::sessions_unavailable()
        };
        if on {
            if !state
                .sessions
                .subscribe(&session.id, &uri)
                .await
                .map_err(unavailable)?
            {
                return Err(RpcError::invalid_params(format!(
                    "too many subscriptions in this session (limit {})",
                    super::session::MAX_SUBSCRIPTIONS
                )));
            }
        } else {
            state
                .sessions
                .unsubscribe(&session.id, &uri)
                .await
                .map_err(unavailable)?;
        }
    }
    Ok(Payload::empty())
}

fn get_prompt(
    catalog: &Catalog,
    stateless: bool,
    params: Option<&RawValue>,
) -> Result<Payload, RpcError> {
    let params: GetPromptParams = decode_params(params)?;
    let prompt = catalog
        .prompt(&params.name)
        .ok_or_else(|| RpcError::invalid_params(format!("Unknown prompt: {}", params.name)))?;
    let args = params.arguments.unwrap_or_default();
    if let Some(missing) = prompt
        .descriptor()
        .arguments
        .iter()
        .find(|a| a.required && !args.contains_key(a.name))
    {
        return Err(RpcError::invalid_params(format!(
            "prompt {} needs argument `{}`: {}",
            params.name, missing.name, missing.description
        )));
    }
    let result = serde_json::to_value(prompt.get(&args)).map_err(|_| RpcError::internal())?;
    Ok(computed(result, stateless, None))
}

async fn complete(
    catalog: &Catalog,
    stateless: bool,
    params: Option<&RawValue>,
) -> Result<Payload, RpcError> {
    let params: CompleteParams = decode_params(params)?;
    let argument = &params.argument;
    let mut values = match &params.reference {
        CompletionRef::Prompt { name } => {
            let prompt = catalog
                .prompt(name)
                .ok_or_else(|| RpcError::invalid_params(format!("Unknown prompt: {name}")))?;
            prompt.complete(&argument.name, &argument.value).await
        }
        CompletionRef::Resource { uri } => {
            let template = catalog.template(uri).ok_or_else(|| {
                RpcError::invalid_params(format!("Unknown resource template: {uri}"))
            })?;
            template.complete(&argument.name, &argument.value).await
        }
    };
    let total = values.len();
    values.truncate(MAX_COMPLETIONS);
    let result = json!({
        "completion": { "values": values, "total": total, "hasMore": total > MAX_COMPLETIONS }
    });
    Ok(computed(result, stateless, None))
}

async fn set_level(
    state: &AppState,
    era: &Era,
    params: Option<&RawValue>,
) -> Result<Payload, RpcError> {
    let SetLevelParams { level } = decode_params(params)?;
    let level = LogLevel::parse(&level).ok_or_else(|| {
        RpcError::invalid_params(format!(
            "unknown log level {level:?}; use debug, info, notice, warning, error, critical, alert or emergency"
        ))
    })?;
    if let Era::Handshake {
        session: Some(session),
        ..
    } = era
    {
        state
            .sessions
            .set_log_level(&session.id, level)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "MCP session store unavailable");
                RpcError::sessions_unavailable()
            })?;
    }
    Ok(Payload::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_type_is_spliced_into_any_object() {
        let spliced = with_result_type(r#"{"content":[],"isError":false}"#.to_owned());
        let value: Value = serde_json::from_str(&spliced).expect("still JSON");
        assert_eq!(
            value,
            json!({ "resultType": "complete", "content": [], "isError": false })
        );
        assert_eq!(
            with_result_type("{}".to_owned()),
            r#"{"resultType":"complete"}"#
        );
    }
}
