//! The tool framework and the tools we ship.
//!
//! A tool is a type implementing [`Tool`]: typed arguments and output whose
//! JSON Schemas (via schemars) become `inputSchema` and `outputSchema`, a
//! title, a description written for a model, and an async `call`. The
//! framework turns bad arguments into an `isError` result naming the field,
//! mirrors the structured output as JSON text, and contains panics, so one
//! failing tool never takes the server down.
//!
//! Adding a tool: one file in this folder, one line in [`registry`].

mod args;
mod calculate;
mod candles;
mod chart;
mod futures;
mod klines;
mod order_book;
mod positioning;
mod search;
mod symbols;
mod technical_analysis;
mod ticker;
mod trades;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::apps::ToolUi;
use crate::binance::{BinanceClient, BinanceError};
use crate::mcp::content::Content;
use crate::mcp::jsonrpc::decode_with_path;
use crate::mcp::notify::Notifier;

/// Every tool the server offers. Conformance fixtures are added by the
/// `conformance` feature only.
pub fn registry() -> ToolRegistry {
    ToolRegistry::default()
        .with(calculate::Calculate)
        .with(klines::Klines::default())
        .with(ticker::Ticker)
        .with(order_book::OrderBook)
        .with(trades::Trades)
        .with(symbols::Symbols)
        .with(futures::Futures)
        .with(positioning::Positioning)
        .with(technical_analysis::TechnicalAnalysis)
        .with(chart::BinanceChart)
        .with(search::Search)
        .with(search::Fetch)
}

/// What a tool gets besides its arguments.
pub struct ToolContext {
    pub binance: BinanceClient,
    pub notifier: Notifier,
    /// Client capabilities declared for this request (stateless era) or at
    /// `initialize` (handshake era), when known.
    pub client_capabilities: Option<Value>,
}

/// A tool with typed arguments and output.
pub trait Tool: Send + Sync + 'static {
    type Args: DeserializeOwned + JsonSchema + Send;
    type Output: Serialize + JsonSchema + Send;

    const NAME: &'static str;
    const TITLE: &'static str;
    const DESCRIPTION: &'static str;
    /// True when results come from the outside world (Binance) rather than
    /// from the arguments alone.
    const OPEN_WORLD: bool;
    /// The MCP Apps view that renders this tool's results, if any; it
    /// becomes the descriptor's `_meta` (see [`crate::apps`]).
    const UI: Option<ToolUi> = None;

    fn call(
        &self,
        ctx: &ToolContext,
        args: Self::Args,
    ) -> impl Future<Output = Result<Reply<Self::Output>, ToolError>> + Send;
}

/// A successful tool result: the structured value, plus content blocks (an
/// image, say) placed before its JSON mirror, and the result's `_meta`
/// (data for an app's view that the model does not see).
pub struct Reply<T> {
    pub value: T,
    pub leading: Vec<Content>,
    pub meta: Option<Box<RawValue>>,
}

impl<T> Reply<T> {
    pub fn new(value: T) -> Self {
        Self {
            value,
            leading: Vec::new(),
            meta: None,
        }
    }

    pub fn with_meta(self, meta: Box<RawValue>) -> Self {
        Self {
            meta: Some(meta),
            ..self
        }
    }
}

/// A failure the model should read and act on. The message says what
/// happened and what to do; it becomes an `isError: true` result.
#[derive(Debug)]
pub struct ToolError {
    pub message: String,
}

impl ToolError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Binance's errors are already written for a model (what happened, what
/// to do), so they become the tool error text unchanged.
impl From<BinanceError> for ToolError {
    fn from(error: BinanceError) -> Self {
        Self::new(error.to_string())
    }
}

/// The wire form of a `tools/call` result.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    pub content: Vec<Content>,
    /// Kept as serialised JSON: a result is written once and never parsed
    /// back, which matters for large outputs such as 1000 candles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Box<RawValue>>,
    pub is_error: bool,
    /// For an app's view only, e.g. the chart's full series.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Box<RawValue>>,
}

impl CallToolResult {
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            content: vec![Content::text(message)],
            structured_content: None,
            is_error: true,
            meta: None,
        }
    }
}

/// A tool with its types erased, as the registry stores it. Fixture tools
/// with hand-written results implement this directly.
pub trait DynTool: Send + Sync {
    fn name(&self) -> &'static str;
    /// The `tools/list` entry.
    fn descriptor(&self) -> Value;
    /// Client capabilities the tool cannot work without.
    fn required_client_capabilities(&self) -> &'static [&'static str] {
        &[]
    }
    fn call<'a>(
        &'a self,
        ctx: &'a ToolContext,
        args: Option<&'a RawValue>,
    ) -> BoxFuture<'a, CallToolResult>;
}

struct Typed<T>(T);

impl<T: Tool> DynTool for Typed<T> {
    fn name(&self) -> &'static str {
        T::NAME
    }

    fn descriptor(&self) -> Value {
        let mut descriptor = json!({
            "name": T::NAME,
            "title": T::TITLE,
            "description": T::DESCRIPTION,
            "inputSchema": schemars::schema_for!(T::Args),
            "outputSchema": output_schema::<T::Output>(),
            "annotations": {
                "title": T::TITLE,
                "readOnlyHint": true,
                "destructiveHint": false,
                "idempotentHint": true,
                "openWorldHint": T::OPEN_WORLD,
            },
        });
        if let Some(ui) = T::UI {
            descriptor["_meta"] = ui.descriptor_meta();
        }
        descriptor
    }

    fn call<'a>(
        &'a self,
        ctx: &'a ToolContext,
        args: Option<&'a RawValue>,
    ) -> BoxFuture<'a, CallToolResult> {
        Box::pin(async move {
            let args = args.map_or("{}", RawValue::get);
            let args: T::Args = match decode_with_path(args) {
                Ok(args) => args,
                Err(problem) => {
                    return CallToolResult::error(format!(
                        "Invalid arguments for {}: {problem}. See the tool's inputSchema for the expected fields.",
                        T::NAME
                    ));
                }
            };
            match AssertUnwindSafe(self.0.call(ctx, args))
                .catch_unwind()
                .await
            {
                Ok(Ok(reply)) => success(reply),
                Ok(Err(error)) => CallToolResult::error(error.message),
                Err(_) => {
                    tracing::error!(tool = T::NAME, "tool panicked");
                    CallToolResult::error(format!(
                        "{} failed unexpectedly on the server. This is a bug on our side; try different arguments or another tool.",
                        T::NAME
                    ))
                }
            }
        })
    }
}

/// The schema of what a tool *serialises*: output types may read and write
/// differently (decimals are read from strings or numbers but always written
/// as strings), and `structuredContent` must match this schema.
fn output_schema<T: JsonSchema>() -> schemars::Schema {
    schemars::generate::SchemaSettings::default()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
}

/// Serialises the output once; the text mirror is the same JSON.
fn success<T: Serialize>(reply: Reply<T>) -> CallToolResult {
    // `to_raw_value` wraps the JSON it writes without parsing it again.
    match serde_json::value::to_raw_value(&reply.value) {
        Ok(structured) => {
            let mut content = reply.leading;
            content.push(Content::text(structured.get()));
            CallToolResult {
                content,
                structured_content: Some(structured),
                is_error: false,
                meta: reply.meta,
            }
        }
        Err(error) => {
            tracing::error!(%error, "tool output did not serialise");
            CallToolResult::error("The tool produced a result that could not be encoded.")
        }
    }
}

/// The tools, in the order `tools/list` shows them.
#[derive(Default, Clone)]
pub struct ToolRegistry {
    tools: Vec<Arc<dyn DynTool>>,
}

impl ToolRegistry {
    pub fn with<T: Tool>(self, tool: T) -> Self {
        self.with_dyn(Arc::new(Typed(tool)))
    }

    pub fn with_dyn(mut self, tool: Arc<dyn DynTool>) -> Self {
        assert!(
            self.get(tool.name()).is_none(),
            "tool {} registered twice",
            tool.name()
        );
        self.tools.push(tool);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn DynTool>> {
        self.tools.iter().find(|t| t.name() == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn DynTool>> {
        self.tools.iter()
    }

    pub fn descriptors(&self) -> Vec<Value> {
        self.tools.iter().map(|t| t.descriptor()).collect()
    }
}
