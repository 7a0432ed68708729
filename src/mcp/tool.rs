//! The tool framework: how a typed tool becomes a `tools/list` entry and a
//! `tools/call` result.
//!
//! A tool is a type implementing [`Tool`]: typed arguments and output whose
//! JSON Schemas (via schemars) become `inputSchema` and `outputSchema`, a
//! title, a description written for a model, and an async `call`; the
//! schemas are made portable once ([`super::schema`]). The
//! framework turns bad arguments into an `isError` result naming the field,
//! mirrors the structured output as JSON text, and contains panics, so one
//! failing tool never takes the server down. The tools themselves live in
//! [`crate::tools`].

use std::fmt;
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

use super::arguments;
use super::content::Content;
use super::notify::Notifier;
use super::schema::{Direction, portable};
use super::ui::ToolUi;
use crate::binance::{BinanceClient, BinanceError, CallerKey};

/// What a tool gets besides its arguments.
pub struct ToolContext {
    /// Who is calling, as limits count callers (see [`crate::mcp::caller`]).
    pub caller: CallerKey,
    /// Charges the caller's share of the Binance weight budget.
    pub binance: BinanceClient,
    pub notifier: Notifier,
}

/// A tool with typed arguments and output.
pub trait Tool: Send + Sync + 'static {
    type Args: DeserializeOwned + JsonSchema + Send;
    type Output: Serialize + JsonSchema + Send;

    const NAME: &'static str;
    const TITLE: &'static str;
    /// One line for people, on the server's page; the description is for
    /// models.
    const SUMMARY: &'static str;
    const DESCRIPTION: &'static str;
    /// True when results come from the outside world (Binance) rather than
    /// from the arguments alone.
    const OPEN_WORLD: bool;
    /// The MCP Apps view that renders this tool's results, if any; it
    /// becomes the descriptor's `_meta` (see [`super::ui`]).
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

/// Why a call failed. Each kind becomes an `isError: true` result whose
/// text says what happened and what to do, so the model can act on it.
#[derive(Debug)]
pub enum ToolError {
    /// The arguments decoded but do not make a valid call: a limit out of
    /// range, an unknown indicator, a malformed id. The framework writes
    /// `"Invalid arguments for <tool>: "` before the problem.
    InvalidArguments(String),
    /// Binance failed. Its errors are already written for a model (what
    /// happened, what to do), so they are the text unchanged.
    Upstream(BinanceError),
    /// Binance answered, but what was asked for is not there: no candles in
    /// that interval, no perpetual for that symbol. Said as it is.
    NotFound(String),
    /// The server is busy with other callers' work (the chart renderer): said
    /// as it is, with when to try again.
    Busy(String),
    /// A bug on our side. The detail goes to the log; the model is told the
    /// call failed on the server and to try something else.
    Internal(String),
}

impl ToolError {
    pub fn invalid_arguments(problem: impl Into<String>) -> Self {
        Self::InvalidArguments(problem.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    pub fn busy(message: impl Into<String>) -> Self {
        Self::Busy(message.into())
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::Internal(detail.into())
    }

    /// The result `tool` answers with.
    fn into_result(self, tool: &str) -> CallToolResult {
        match self {
            Self::InvalidArguments(problem) => {
                CallToolResult::error(format!("Invalid arguments for {tool}: {problem}"))
            }
            Self::Upstream(error) => CallToolResult::error(error.to_string()),
            Self::NotFound(message) | Self::Busy(message) => CallToolResult::error(message),
            Self::Internal(detail) => {
                tracing::error!(tool, %detail, "tool failed");
                CallToolResult::error(format!(
                    "{tool} failed unexpectedly on the server. This is a bug on our side; try different arguments or another tool."
                ))
            }
        }
    }
}

/// The failure itself, without the framework's framing.
impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidArguments(text)
            | Self::NotFound(text)
            | Self::Busy(text)
            | Self::Internal(text) => f.write_str(text),
            Self::Upstream(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ToolError {}

/// An argument the Binance client refused before sending anything is an
/// argument error like any other; everything else is Binance's.
impl From<BinanceError> for ToolError {
    fn from(error: BinanceError) -> Self {
        match error.argument_problem() {
            Some(problem) => Self::InvalidArguments(problem),
            None => Self::Upstream(error),
        }
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
    /// The one line people read about the tool on the server's page, if it
    /// has one worth showing.
    fn summary(&self) -> Option<&'static str> {
        None
    }
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

/// A typed tool with its `inputSchema`, made once: the descriptor shows it
/// and argument errors are explained from it.
struct Typed<T> {
    tool: T,
    input_schema: Value,
}

impl<T: Tool> Typed<T> {
    fn new(tool: T) -> Self {
        Self {
            tool,
            input_schema: portable(schemars::schema_for!(T::Args).to_value(), Direction::Input),
        }
    }
}

impl<T: Tool> DynTool for Typed<T> {
    fn name(&self) -> &'static str {
        T::NAME
    }

    fn summary(&self) -> Option<&'static str> {
        Some(T::SUMMARY)
    }

    fn descriptor(&self) -> Value {
        let mut descriptor = json!({
            "name": T::NAME,
            "title": T::TITLE,
            "description": T::DESCRIPTION,
            "inputSchema": self.input_schema.clone(),
            "outputSchema": portable(output_schema::<T::Output>().to_value(), Direction::Output),
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
        // Decoding runs inside the guard too: a deserialiser that panics on
        // odd input (a time zone split inside a multibyte character, say)
        // must not drop the connection either.
        let call = async move {
            let args = arguments::decode(args.map(RawValue::get), &self.input_schema)
                .map_err(ToolError::InvalidArguments)?;
            self.tool.call(ctx, args).await
        };
        Box::pin(async move {
            let outcome = AssertUnwindSafe(call)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(ToolError::internal("panicked")));
            match outcome {
                Ok(reply) => success(T::NAME, reply),
                Err(error) => error.into_result(T::NAME),
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
fn success<T: Serialize>(tool: &str, reply: Reply<T>) -> CallToolResult {
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
            ToolError::internal(format!("output did not serialise: {error}")).into_result(tool)
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
        self.with_dyn(Arc::new(Typed::new(tool)))
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

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Deserializer};

    use super::*;
    use crate::binance::BinanceConfig;

    /// Decodes like a string, but a deserialiser bug is one value away.
    #[derive(JsonSchema)]
    struct Mode(String);

    impl<'de> Deserialize<'de> for Mode {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let mode = String::deserialize(deserializer)?;
            assert_ne!(mode, "panic-while-decoding", "a decoder bug");
            Ok(Self(mode))
        }
    }

    #[derive(Deserialize, JsonSchema)]
    struct Args {
        mode: Mode,
    }

    struct Probe;

    impl Tool for Probe {
        type Args = Args;
        type Output = Value;

        const NAME: &'static str = "probe";
        const TITLE: &'static str = "Probe";
        const SUMMARY: &'static str = "Fails.";
        const DESCRIPTION: &'static str = "Fails in every way a tool can.";
        const OPEN_WORLD: bool = false;

        async fn call(&self, _: &ToolContext, args: Args) -> Result<Reply<Value>, ToolError> {
            match args.mode.0.as_str() {
                "ok" => Ok(Reply::new(json!({ "fine": true }))),
                "bad" => Err(ToolError::invalid_arguments("mode bad is not a mode")),
                "missing" => Err(ToolError::not_found("nothing listed under that name")),
                "bug" => Err(ToolError::internal("the secret detail")),
                _ => panic!("a tool bug"),
            }
        }
    }

    async fn call(arguments: &str) -> CallToolResult {
        let ctx = ToolContext {
            caller: CallerKey::ip("127.0.0.1"),
            binance: BinanceClient::new(BinanceConfig::default()).expect("client"),
            notifier: Notifier::default(),
        };
        let registry = ToolRegistry::default().with(Probe);
        let tool = registry.get("probe").expect("registered");
        let raw = RawValue::from_string(arguments.to_owned()).expect("JSON");
        tool.call(&ctx, Some(&raw)).await
    }

    fn text(result: &CallToolResult) -> &str {
        match result.content.last() {
            Some(Content::Text { text }) => text,
            other => panic!("text content expected, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn every_failure_is_a_result_with_its_kind_said_once() {
        let ok = call(r#"{"mode":"ok"}"#).await;
        assert!(!ok.is_error);
        assert_eq!(text(&ok), r#"{"fine":true}"#);

        let bad = call(r#"{"mode":"bad"}"#).await;
        assert!(bad.is_error);
        assert_eq!(
            text(&bad),
            "Invalid arguments for probe: mode bad is not a mode"
        );
        let undecodable = call(r#"{"mode":5}"#).await;
        assert_eq!(
            text(&undecodable),
            "Invalid arguments for probe: `mode` must be a string; got the number 5."
        );
        assert_eq!(
            text(&call(r#"{"mode":"missing"}"#).await),
            "nothing listed under that name"
        );
        let bug = call(r#"{"mode":"bug"}"#).await;
        assert!(bug.is_error);
        assert!(text(&bug).starts_with("probe failed unexpectedly on the server"));
        assert!(
            !text(&bug).contains("secret"),
            "internal details stay in the log"
        );
    }

    #[tokio::test]
    async fn panics_while_calling_or_decoding_are_contained() {
        for arguments in [
            r#"{"mode":"panic-while-calling"}"#,
            r#"{"mode":"panic-while-decoding"}"#,
        ] {
            let result = call(arguments).await;
            assert!(result.is_error, "{arguments}");
            assert!(
                text(&result).starts_with("probe failed unexpectedly on the server"),
                "{arguments}: {}",
                text(&result)
            );
        }
    }
}
