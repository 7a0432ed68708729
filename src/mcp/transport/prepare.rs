//! Placing a request in its era, and checking what that era requires of
//! its headers and `_meta`.

use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::headers::{METHOD_HEADER, NAME_HEADER, decode_header_value, header_str};
use crate::mcp::jsonrpc::{self, Request, RpcError, decode_params};
use crate::mcp::server::Era;
use crate::mcp::session::{LogLevel, SessionView};
use crate::mcp::version::ProtocolVersion;

const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// The `params` fields the transport itself needs, read before dispatch.
#[derive(Debug, Default, Deserialize)]
pub struct Envelope {
    #[serde(rename = "_meta")]
    meta: Option<Map<String, Value>>,
    name: Option<Value>,
    uri: Option<Value>,
}

impl Envelope {
    pub fn read(params: Option<&RawValue>) -> Result<Self, RpcError> {
        decode_params(params)
    }

    pub fn meta(&self, key: &str) -> Option<&Value> {
        self.meta.as_ref().and_then(|m| m.get(key))
    }

    pub fn progress_token(&self) -> Option<Value> {
        self.meta("progressToken")
            .filter(|t| t.is_string() || t.is_number())
            .cloned()
    }
}

/// A request refused before dispatch, answered under the request's id.
pub struct Refusal {
    pub status: StatusCode,
    pub error: RpcError,
}

impl Refusal {
    fn bad_request(code: i32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: RpcError::new(code, message),
        }
    }
}

/// What the transport decided about one request before dispatching it.
pub struct Prepared {
    pub era: Era,
    pub log_level: Option<LogLevel>,
    pub progress_token: Option<Value>,
}

pub fn unsupported_version_error(requested: &str) -> RpcError {
    RpcError::new(
        jsonrpc::UNSUPPORTED_PROTOCOL_VERSION,
        format!("Unsupported protocol version: {requested}"),
    )
    .with_data(json!({ "supported": ProtocolVersion::all_as_str(), "requested": requested }))
}

/// Whether a request belongs to the stateless era (see the module doc).
pub fn looks_stateless(
    header_version: Option<&str>,
    request: &Request<'_>,
    envelope: &Result<Envelope, RpcError>,
) -> bool {
    let header_is_stateless = header_version
        .and_then(ProtocolVersion::parse)
        .is_some_and(ProtocolVersion::is_stateless);
    header_is_stateless
        || request.method == "server/discover"
        || envelope
            .as_ref()
            .is_ok_and(|envelope| envelope.meta(META_VERSION).is_some())
}

pub fn prepare(
    headers: &HeaderMap,
    header_version: Option<&str>,
    session: Option<SessionView>,
    request: &Request<'_>,
    envelope: Result<Envelope, RpcError>,
    stateless: bool,
) -> Result<Prepared, Refusal> {
    if stateless {
        return prepare_stateless(headers, header_version, request, envelope);
    }
    let envelope = envelope.map_err(|error| Refusal {
        status: StatusCode::OK,
        error,
    })?;
    let version = header_version
        .and_then(ProtocolVersion::parse)
        .or(session.as_ref().map(|s| s.version))
        .unwrap_or(ProtocolVersion::ASSUMED_WITHOUT_HEADER);
    Ok(Prepared {
        log_level: session.as_ref().and_then(|s| s.log_level),
        progress_token: envelope.progress_token(),
        era: Era::Handshake { version, session },
    })
}

fn prepare_stateless(
    headers: &HeaderMap,
    header_version: Option<&str>,
    request: &Request<'_>,
    envelope: Result<Envelope, RpcError>,
) -> Result<Prepared, Refusal> {
    let envelope = envelope.map_err(|error| Refusal {
        status: StatusCode::BAD_REQUEST,
        error,
    })?;
    let Some(meta_version) = envelope.meta(META_VERSION) else {
        return Err(Refusal::bad_request(
            jsonrpc::INVALID_PARAMS,
            format!(
                "Invalid params: _meta must carry \"{META_VERSION}\" and \"{META_CAPABILITIES}\""
            ),
        ));
    };
    let Some(meta_version) = meta_version.as_str() else {
        return Err(Refusal::bad_request(
            jsonrpc::INVALID_PARAMS,
            format!("Invalid params: _meta \"{META_VERSION}\" must be a string"),
        ));
    };
    let Some(Value::Object(client_capabilities)) = envelope.meta(META_CAPABILITIES) else {
        return Err(Refusal::bad_request(
            jsonrpc::INVALID_PARAMS,
            format!("Invalid params: _meta must carry \"{META_CAPABILITIES}\" as an object"),
        ));
    };
    match header_version {
        None => {
            return Err(Refusal::bad_request(
                jsonrpc::HEADER_MISMATCH,
                "MCP-Protocol-Version header is required and must equal _meta's protocol version",
            ));
        }
        Some(header) if header != meta_version => {
            return Err(Refusal::bad_request(
                jsonrpc::HEADER_MISMATCH,
                format!(
                    "MCP-Protocol-Version header {header:?} does not match _meta protocol version {meta_version:?}"
                ),
            ));
        }
        Some(_) => {}
    }
    if ProtocolVersion::parse(meta_version).is_none() {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            error: unsupported_version_error(meta_version),
        });
    }
    match header_str(headers, METHOD_HEADER) {
        Some(method) if method == request.method => {}
        Some(method) => {
            return Err(Refusal::bad_request(
                jsonrpc::HEADER_MISMATCH,
                format!(
                    "Mcp-Method header {method:?} does not match the body's method {:?}",
                    request.method
                ),
            ));
        }
        None => {
            return Err(Refusal::bad_request(
                jsonrpc::HEADER_MISMATCH,
                "Mcp-Method header is required",
            ));
        }
    }
    let named = match request.method.as_ref() {
        "tools/call" | "prompts/get" => envelope.name.as_ref(),
        "resources/read" => envelope.uri.as_ref(),
        _ => None,
    };
    if let Some(Value::String(body_name)) = named {
        match header_str(headers, NAME_HEADER).map(decode_header_value) {
            Some(Some(header_name)) if header_name == *body_name => {}
            Some(_) => {
                return Err(Refusal::bad_request(
                    jsonrpc::HEADER_MISMATCH,
                    format!("Mcp-Name header does not match the body's {body_name:?}"),
                ));
            }
            None => {
                return Err(Refusal::bad_request(
                    jsonrpc::HEADER_MISMATCH,
                    "Mcp-Name header is required",
                ));
            }
        }
    }
    let log_level = envelope
        .meta(META_LOG_LEVEL)
        .and_then(Value::as_str)
        .and_then(LogLevel::parse);
    Ok(Prepared {
        log_level,
        progress_token: envelope.progress_token(),
        era: Era::Stateless {
            client_capabilities: client_capabilities.clone(),
        },
    })
}
