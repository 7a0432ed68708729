//! What a request asks for: its method with the params decoded once, into
//! types, together with the `_meta` that came with them.
//!
//! The transport reads `_meta` (era, capabilities, progress, log level) and
//! the name a stateless-era `Mcp-Name` header must match from the same
//! decoded call the method handlers then serve, so no request's params are
//! read twice. A `tools/call`'s arguments stay raw JSON here: the tool's own
//! types decode them, inside its panic guard.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::era::EraKind;
use super::error::McpError;
use super::jsonrpc::{Request, decode_params};
use super::notify::ProgressToken;
use super::session::LogLevel;

/// The request-level `_meta` fields we read; others are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct Meta {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion")]
    pub protocol_version: Option<String>,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities")]
    pub client_capabilities: Option<Map<String, Value>>,
    /// A level we do not know asks for nothing rather than failing the call:
    /// logs are advisory.
    #[serde(
        rename = "io.modelcontextprotocol/logLevel",
        default,
        deserialize_with = "ignore_invalid"
    )]
    pub log_level: Option<LogLevel>,
    /// Likewise, a token that is neither a string nor a number asks for no
    /// progress.
    #[serde(rename = "progressToken", default, deserialize_with = "ignore_invalid")]
    pub progress_token: Option<ProgressToken>,
}

fn ignore_invalid<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(serde_json::from_value(Value::deserialize(deserializer)?).ok())
}

/// A request decoded: what it asks for and its `_meta`.
#[derive(Debug)]
pub struct Call {
    pub method: Method,
    pub meta: Meta,
}

/// The lists `*/list` methods return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Tools,
    Prompts,
    Resources,
    Templates,
}

#[derive(Debug)]
pub enum Method {
    Initialize {
        protocol_version: String,
    },
    Ping,
    Discover,
    List(List),
    CallTool(ToolCall),
    ReadResource {
        uri: String,
    },
    Subscribe {
        uri: String,
    },
    Unsubscribe {
        uri: String,
    },
    GetPrompt(PromptCall),
    Complete(Completion),
    SetLevel(LogLevel),
    /// A method we do not serve, with its name.
    Unknown(String),
}

#[derive(Debug)]
pub struct ToolCall {
    pub name: String,
    /// Raw, for the tool's own types to decode.
    pub arguments: Option<Box<RawValue>>,
}

#[derive(Debug)]
pub struct PromptCall {
    pub name: String,
    pub arguments: HashMap<String, String>,
}

#[derive(Debug)]
pub struct Completion {
    pub reference: CompletionRef,
    pub argument: CompletionArgument,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub enum CompletionRef {
    #[serde(rename = "ref/prompt")]
    Prompt { name: String },
    #[serde(rename = "ref/resource")]
    Resource { uri: String },
}

#[derive(Debug, Deserialize)]
pub struct CompletionArgument {
    pub name: String,
    pub value: String,
}

/// Each method's params as they arrive: the method's own fields beside
/// `_meta`. (`#[serde(flatten)]` would share the `_meta` field, but it
/// buffers the whole object and cannot keep `arguments` raw.)
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeParams {
    #[serde(rename = "_meta", default)]
    meta: Meta,
    /// Missing reads as no preference: we offer our latest.
    #[serde(default)]
    protocol_version: String,
}

#[derive(Deserialize)]
struct MetaOnly {
    #[serde(rename = "_meta", default)]
    meta: Meta,
}

#[derive(Deserialize)]
struct ListParams {
    #[serde(rename = "_meta", default)]
    meta: Meta,
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct ToolCallParams {
    #[serde(rename = "_meta", default)]
    meta: Meta,
    name: String,
    #[serde(default)]
    arguments: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct UriParams {
    #[serde(rename = "_meta", default)]
    meta: Meta,
    uri: String,
}

#[derive(Deserialize)]
struct PromptParams {
    #[serde(rename = "_meta", default)]
    meta: Meta,
    name: String,
    #[serde(default)]
    arguments: Option<HashMap<String, String>>,
}

#[derive(Deserialize)]
struct CompleteParams {
    #[serde(rename = "_meta", default)]
    meta: Meta,
    #[serde(rename = "ref")]
    reference: CompletionRef,
    argument: CompletionArgument,
}

#[derive(Deserialize)]
struct SetLevelParams {
    #[serde(rename = "_meta", default)]
    meta: Meta,
    level: String,
}

/// Methods only the handshake era serves: 2026-07-28 removed sessions, and
/// with them these.
const HANDSHAKE_ONLY: [&str; 5] = [
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];
/// Methods only the stateless era serves.
const STATELESS_ONLY: [&str; 1] = ["server/discover"];

impl Call {
    /// Decodes a request's params for its method, as `era` serves it: a
    /// method the era does not serve is unknown, whatever its params.
    pub fn decode(request: &Request<'_>, era: EraKind) -> Result<Self, McpError> {
        let params = request.params;
        let call = |method, meta| Self { method, meta };
        let name = request.method.as_ref();
        let elsewhere = match era {
            EraKind::Handshake => STATELESS_ONLY.contains(&name),
            EraKind::Stateless => HANDSHAKE_ONLY.contains(&name),
        };
        if elsewhere {
            let meta = decode_params::<MetaOnly>(params)?.meta;
            return Ok(call(Method::Unknown(name.to_owned()), meta));
        }
        Ok(match name {
            "initialize" => {
                let p: InitializeParams = decode_params(params)?;
                call(
                    Method::Initialize {
                        protocol_version: p.protocol_version,
                    },
                    p.meta,
                )
            }
            "ping" => call(Method::Ping, decode_params::<MetaOnly>(params)?.meta),
            "server/discover" => call(Method::Discover, decode_params::<MetaOnly>(params)?.meta),
            "tools/list" => list(List::Tools, params)?,
            "prompts/list" => list(List::Prompts, params)?,
            "resources/list" => list(List::Resources, params)?,
            "resources/templates/list" => list(List::Templates, params)?,
            "tools/call" => {
                let p: ToolCallParams = decode_params(params)?;
                call(
                    Method::CallTool(ToolCall {
                        name: p.name,
                        arguments: p.arguments,
                    }),
                    p.meta,
                )
            }
            "resources/read" => {
                let p: UriParams = decode_params(params)?;
                call(Method::ReadResource { uri: p.uri }, p.meta)
            }
            "resources/subscribe" => {
                let p: UriParams = decode_params(params)?;
                call(Method::Subscribe { uri: p.uri }, p.meta)
            }
            "resources/unsubscribe" => {
                let p: UriParams = decode_params(params)?;
                call(Method::Unsubscribe { uri: p.uri }, p.meta)
            }
            "prompts/get" => {
                let p: PromptParams = decode_params(params)?;
                call(
                    Method::GetPrompt(PromptCall {
                        name: p.name,
                        arguments: p.arguments.unwrap_or_default(),
                    }),
                    p.meta,
                )
            }
            "completion/complete" => {
                let p: CompleteParams = decode_params(params)?;
                call(
                    Method::Complete(Completion {
                        reference: p.reference,
                        argument: p.argument,
                    }),
                    p.meta,
                )
            }
            "logging/setLevel" => {
                let p: SetLevelParams = decode_params(params)?;
                let level = LogLevel::parse(&p.level).ok_or_else(|| {
                    McpError::InvalidParams(format!(
                        "unknown log level {:?}; use debug, info, notice, warning, error, critical, alert or emergency",
                        p.level
                    ))
                })?;
                call(Method::SetLevel(level), p.meta)
            }
            other => call(
                Method::Unknown(other.to_owned()),
                decode_params::<MetaOnly>(params)?.meta,
            ),
        })
    }
}

fn list(list: List, params: Option<&RawValue>) -> Result<Call, McpError> {
    let p: ListParams = decode_params(params)?;
    if p.cursor.is_some() {
        // We never paginate, so no cursor we issued can come back.
        return Err(McpError::InvalidParams(
            "unknown cursor; this list is never paginated".to_owned(),
        ));
    }
    Ok(Call {
        method: Method::List(list),
        meta: p.meta,
    })
}

impl Method {
    /// The method's wire name.
    pub fn name(&self) -> &str {
        match self {
            Self::Initialize { .. } => "initialize",
            Self::Ping => "ping",
            Self::Discover => "server/discover",
            Self::List(List::Tools) => "tools/list",
            Self::List(List::Prompts) => "prompts/list",
            Self::List(List::Resources) => "resources/list",
            Self::List(List::Templates) => "resources/templates/list",
            Self::CallTool(_) => "tools/call",
            Self::ReadResource { .. } => "resources/read",
            Self::Subscribe { .. } => "resources/subscribe",
            Self::Unsubscribe { .. } => "resources/unsubscribe",
            Self::GetPrompt(_) => "prompts/get",
            Self::Complete(_) => "completion/complete",
            Self::SetLevel(_) => "logging/setLevel",
            Self::Unknown(name) => name,
        }
    }

    /// What a stateless-era `Mcp-Name` header must repeat: the tool or
    /// prompt name, or the resource URI.
    pub fn named(&self) -> Option<&str> {
        match self {
            Self::CallTool(call) => Some(&call.name),
            Self::GetPrompt(call) => Some(&call.name),
            Self::ReadResource { uri } => Some(uri),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc::Message;

    fn decode(body: &str) -> Result<Call, McpError> {
        decode_in(body, EraKind::Handshake)
    }

    fn decode_in(body: &str, era: EraKind) -> Result<Call, McpError> {
        let Ok(Message::Request(request)) = Message::parse(body) else {
            panic!("a request: {body}");
        };
        Call::decode(&request, era)
    }

    #[test]
    fn a_tool_call_keeps_its_arguments_raw() {
        let call = decode(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"calculate","arguments":{"expression":"1 + 1"},"_meta":{"progressToken":7}}}"#,
        )
        .expect("decodes");
        let Method::CallTool(tool) = call.method else {
            panic!("a tool call");
        };
        assert_eq!(tool.name, "calculate");
        assert_eq!(
            tool.arguments.as_deref().map(RawValue::get),
            Some(r#"{"expression":"1 + 1"}"#)
        );
        assert!(call.meta.progress_token.is_some());
    }

    #[test]
    fn meta_is_read_leniently_where_it_is_advisory() {
        let call = decode(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"progressToken":{},"io.modelcontextprotocol/logLevel":"loud"}}}"#,
        )
        .expect("advisory fields never fail a call");
        assert!(call.meta.progress_token.is_none() && call.meta.log_level.is_none());
        let error = decode(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":5}}}"#,
        )
        .expect_err("a version must be a string");
        assert!(matches!(error, McpError::MalformedParams(_)), "{error}");
    }

    #[test]
    fn params_fail_with_the_field_named() {
        let error = decode(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}"#)
            .expect_err("name must be a string");
        assert!(error.to_string().contains("`name`"), "{error}");
        let error =
            decode(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"x"}}"#)
                .expect_err("no cursor is ours");
        assert!(matches!(error, McpError::InvalidParams(_)), "{error}");
        let unknown = decode(r#"{"jsonrpc":"2.0","id":1,"method":"tasks/list"}"#).expect("decodes");
        assert_eq!(unknown.method.name(), "tasks/list");
    }

    #[test]
    fn each_era_serves_its_own_methods() {
        let set_level = r#"{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{}}"#;
        assert!(
            decode_in(set_level, EraKind::Handshake).is_err(),
            "needs a level"
        );
        let removed = decode_in(set_level, EraKind::Stateless).expect("unknown, not invalid");
        assert!(matches!(removed.method, Method::Unknown(_)));
        let discover = r#"{"jsonrpc":"2.0","id":1,"method":"server/discover"}"#;
        assert!(matches!(
            decode_in(discover, EraKind::Handshake).map(|c| c.method),
            Ok(Method::Unknown(_))
        ));
        assert!(matches!(
            decode_in(discover, EraKind::Stateless).map(|c| c.method),
            Ok(Method::Discover)
        ));
    }
}
