//! The one error of the MCP layer: every way a request can fail, each with
//! its JSON-RPC code, its HTTP status and its `data`, decided here and
//! nowhere else.
//!
//! Statuses follow the transport rules of both eras. A JSON-RPC error inside
//! a normal exchange is HTTP 200; what the transport refuses (bad framing,
//! media types, an ended session, a foreign `Host`) has its HTTP status; the
//! stateless era adds 400 for header, version, capability and `_meta`
//! problems and 404 for unknown methods (see `mcp-spec-notes`, §2.3).

use std::fmt;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::era::EraKind;
use super::version::ProtocolVersion;
use crate::binance::BinanceError;

pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;
pub const METHOD_NOT_FOUND: i32 = -32601;
pub const INVALID_PARAMS: i32 = -32602;
pub const INTERNAL_ERROR: i32 = -32603;
/// Handshake-era code for an unknown resource URI; 2026-07-28 uses -32602.
pub const RESOURCE_NOT_FOUND: i32 = -32002;
pub const HEADER_MISMATCH: i32 = -32020;
pub const MISSING_CLIENT_CAPABILITY: i32 = -32021;
pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;

#[derive(Debug)]
pub enum McpError {
    /// The body is not JSON (or not UTF-8, or could not be read).
    Parse(String),
    /// The body is JSON but not a message we serve: a malformed JSON-RPC
    /// object, a batch where batches are not allowed, a DELETE without a
    /// session.
    InvalidRequest(String),
    /// `Accept` allows neither JSON nor an event stream.
    NotAcceptable,
    /// `Content-Type` is not JSON.
    UnsupportedMediaType,
    /// The body is longer than the transport reads.
    BodyTooLarge {
        limit: usize,
    },
    /// The `Host` or `Origin` is not one we serve (see the guard).
    Forbidden(String),
    /// The client itself ended this session with DELETE.
    SessionTerminated,
    /// A stateless-era header is missing or disagrees with the body.
    HeaderMismatch(String),
    /// A protocol version we do not speak, in a header or `_meta`.
    UnsupportedProtocolVersion(String),
    /// A tool needs client capabilities the request did not declare.
    MissingClientCapabilities {
        tool: String,
        missing: Vec<&'static str>,
    },
    /// No such method (in this era).
    MethodNotFound(String),
    /// The params (or their `_meta`) could not be read. The stateless era
    /// checks a request whole before serving it, so there this is a 400.
    MalformedParams(String),
    /// The params were read but name something we do not have or allow: an
    /// unknown tool or prompt, a cursor, one subscription too many.
    InvalidParams(String),
    ResourceNotFound {
        uri: String,
    },
    /// A resource exists but reading it failed (Binance was unreachable).
    ResourceUnreadable {
        uri: String,
        error: ReadError,
    },
    /// The shared session store cannot answer (it is down): nothing was
    /// done, and the same request may be sent again shortly.
    SessionsUnavailable,
    /// A bug on our side; the details went to the log.
    Internal,
}

impl McpError {
    /// The JSON-RPC code; only "resource not found" differs by era.
    pub fn code(&self, era: EraKind) -> i32 {
        let stateless = era == EraKind::Stateless;
        match self {
            Self::Parse(_) => PARSE_ERROR,
            Self::InvalidRequest(_)
            | Self::NotAcceptable
            | Self::UnsupportedMediaType
            | Self::BodyTooLarge { .. }
            | Self::Forbidden(_)
            | Self::SessionTerminated => INVALID_REQUEST,
            Self::HeaderMismatch(_) => HEADER_MISMATCH,
            Self::UnsupportedProtocolVersion(_) => UNSUPPORTED_PROTOCOL_VERSION,
            Self::MissingClientCapabilities { .. } => MISSING_CLIENT_CAPABILITY,
            Self::MethodNotFound(_) => METHOD_NOT_FOUND,
            Self::MalformedParams(_) | Self::InvalidParams(_) => INVALID_PARAMS,
            Self::ResourceNotFound { .. } if stateless => INVALID_PARAMS,
            Self::ResourceNotFound { .. } => RESOURCE_NOT_FOUND,
            Self::ResourceUnreadable { .. } | Self::SessionsUnavailable | Self::Internal => {
                INTERNAL_ERROR
            }
        }
    }

    /// The HTTP status of a response that carries only this error.
    pub fn status(&self, era: EraKind) -> StatusCode {
        let stateless = era == EraKind::Stateless;
        match self {
            Self::Parse(_) | Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::SessionTerminated => StatusCode::NOT_FOUND,
            Self::SessionsUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::HeaderMismatch(_)
            | Self::UnsupportedProtocolVersion(_)
            | Self::MissingClientCapabilities { .. } => StatusCode::BAD_REQUEST,
            Self::MethodNotFound(_) if stateless => StatusCode::NOT_FOUND,
            Self::MalformedParams(_) if stateless => StatusCode::BAD_REQUEST,
            Self::MethodNotFound(_)
            | Self::MalformedParams(_)
            | Self::InvalidParams(_)
            | Self::ResourceNotFound { .. }
            | Self::ResourceUnreadable { .. }
            | Self::Internal => StatusCode::OK,
        }
    }

    /// The error's `data` member, when it has one.
    pub fn data(&self) -> Option<Value> {
        match self {
            Self::MethodNotFound(method) => Some(json!({ "method": method })),
            Self::ResourceNotFound { uri } | Self::ResourceUnreadable { uri, .. } => {
                Some(json!({ "uri": uri }))
            }
            Self::UnsupportedProtocolVersion(requested) => Some(json!({
                "supported": ProtocolVersion::all_as_str(),
                "requested": requested,
            })),
            Self::MissingClientCapabilities { missing, .. } => {
                let required: Map<String, Value> = missing
                    .iter()
                    .map(|cap| ((*cap).to_owned(), json!({})))
                    .collect();
                Some(json!({ "requiredCapabilities": required }))
            }
            _ => None,
        }
    }

    /// The JSON-RPC error object: `{"code":…,"message":…,"data":…}`.
    pub fn to_object(&self, era: EraKind) -> Value {
        let mut object = json!({ "code": self.code(era), "message": self.to_string() });
        if let Some(data) = self.data() {
            object["data"] = data;
        }
        object
    }
}

/// The error's `message`, written for the client's developer.
impl fmt::Display for McpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(detail) => write!(f, "Parse error: {detail}"),
            Self::InvalidRequest(detail) => write!(f, "Invalid request: {detail}"),
            Self::NotAcceptable => f.write_str(
                "Invalid request: Accept must include application/json or text/event-stream",
            ),
            Self::UnsupportedMediaType => {
                f.write_str("Invalid request: Content-Type must be application/json")
            }
            Self::BodyTooLarge { limit } => {
                write!(f, "Invalid request: body exceeds {limit} bytes")
            }
            Self::Forbidden(detail) => write!(f, "Invalid request: {detail}"),
            Self::SessionTerminated => f.write_str(
                "Invalid request: session terminated; initialize again without Mcp-Session-Id",
            ),
            Self::HeaderMismatch(detail) => f.write_str(detail),
            Self::UnsupportedProtocolVersion(requested) => {
                write!(f, "Unsupported protocol version: {requested}")
            }
            Self::MissingClientCapabilities { tool, missing } => {
                write!(f, "Tool {tool} needs client capabilities {missing:?}")
            }
            Self::MethodNotFound(method) => write!(f, "Method not found: {method}"),
            Self::MalformedParams(detail) | Self::InvalidParams(detail) => {
                write!(f, "Invalid params: {detail}")
            }
            Self::ResourceNotFound { uri } => write!(f, "Resource not found: {uri}"),
            Self::ResourceUnreadable { error, .. } => write!(f, "{error}"),
            Self::SessionsUnavailable => {
                f.write_str("Internal error: the session store is unavailable; try again shortly")
            }
            Self::Internal => f.write_str("Internal error"),
        }
    }
}

impl std::error::Error for McpError {}

impl From<crate::mcp::session::SessionError> for McpError {
    fn from(e: crate::mcp::session::SessionError) -> Self {
        tracing::warn!(error = %e, "MCP session store unavailable");
        Self::SessionsUnavailable
    }
}

/// Why a resource the catalog knows could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Binance failed; its message already says what to do.
    Upstream(BinanceError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Upstream(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Upstream(error) => Some(error),
        }
    }
}

impl From<BinanceError> for ReadError {
    fn from(error: BinanceError) -> Self {
        Self::Upstream(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EraKind::{Handshake, Stateless};

    #[test]
    fn era_changes_only_what_the_spec_says() {
        let not_found = McpError::MethodNotFound("x".into());
        assert_eq!(not_found.status(Handshake), StatusCode::OK);
        assert_eq!(not_found.status(Stateless), StatusCode::NOT_FOUND);
        let resource = McpError::ResourceNotFound {
            uri: "a://b".into(),
        };
        assert_eq!(resource.code(Handshake), RESOURCE_NOT_FOUND);
        assert_eq!(resource.code(Stateless), INVALID_PARAMS);
        assert_eq!(resource.status(Stateless), StatusCode::OK);
        let malformed = McpError::MalformedParams("`name`: missing".into());
        assert_eq!(malformed.status(Handshake), StatusCode::OK);
        assert_eq!(malformed.status(Stateless), StatusCode::BAD_REQUEST);
        assert_eq!(
            McpError::InvalidParams("unknown tool".into()).status(Stateless),
            StatusCode::OK
        );
    }

    #[test]
    fn objects_carry_code_message_and_data() {
        let error = McpError::MissingClientCapabilities {
            tool: "t".into(),
            missing: vec!["sampling"],
        };
        assert_eq!(
            error.to_object(EraKind::Stateless),
            json!({
                "code": MISSING_CLIENT_CAPABILITY,
                "message": "Tool t needs client capabilities [\"sampling\"]",
                "data": { "requiredCapabilities": { "sampling": {} } },
            })
        );
        assert_eq!(
            McpError::Internal.to_object(EraKind::Handshake),
            json!({ "code": INTERNAL_ERROR, "message": "Internal error" })
        );
    }
}
