//! Placing a request in its era, and checking what that era requires of
//! its headers and `_meta`.
//!
//! The request's params are decoded here, once ([`Call::decode`]); the
//! stateless-era checks read the decoded `_meta` and name, and the method
//! goes on to dispatch as it is.

use axum::http::HeaderMap;

use super::headers::{METHOD_HEADER, NAME_HEADER, decode_header_value, header_str};
use crate::mcp::era::{Era, EraKind};
use crate::mcp::error::McpError;
use crate::mcp::jsonrpc::Request;
use crate::mcp::method::{Call, Method};
use crate::mcp::notify::ProgressToken;
use crate::mcp::session::{LogLevel, SessionView};
use crate::mcp::version::ProtocolVersion;

const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";

/// What the transport decided about one request before dispatching it.
pub struct Prepared {
    pub era: Era,
    pub method: Method,
    /// The level the client wants logs at, and the token its progress
    /// notifications carry, if it asked for either.
    pub log_level: Option<LogLevel>,
    pub progress_token: Option<ProgressToken>,
}

/// A request refused before dispatch, and the era whose rules refused it
/// (which decides how the refusal looks).
pub struct Refusal {
    pub error: McpError,
    pub era: EraKind,
}

/// Decodes `request`, places it in its era and checks it (see the
/// transport's module doc for the rules).
pub fn prepare(
    headers: &HeaderMap,
    header_version: Option<&str>,
    session: Option<SessionView>,
    request: &Request<'_>,
) -> Result<Prepared, Refusal> {
    let stateless_header = header_version
        .and_then(ProtocolVersion::parse)
        .is_some_and(ProtocolVersion::is_stateless);
    if stateless_header || request.method == "server/discover" {
        return Call::decode(request, EraKind::Stateless)
            .and_then(|call| prepare_stateless(headers, header_version, call))
            .map_err(|error| Refusal {
                error,
                era: EraKind::Stateless,
            });
    }
    let call = Call::decode(request, EraKind::Handshake).map_err(|error| Refusal {
        error,
        era: EraKind::Handshake,
    })?;
    // `_meta` naming a version marks a stateless-era request that came
    // without that era's header.
    if let Some(meta_version) = &call.meta.protocol_version {
        let mismatch = match header_version {
            None => Some(McpError::HeaderMismatch(VERSION_REQUIRED.to_owned())),
            Some(header) if header != meta_version => Some(version_mismatch(header, meta_version)),
            Some(_) => None,
        };
        if let Some(error) = mismatch {
            return Err(Refusal {
                error,
                era: EraKind::Stateless,
            });
        }
    }
    let version = header_version
        .and_then(ProtocolVersion::parse)
        .or(session.as_ref().map(|s| s.version))
        .unwrap_or(ProtocolVersion::ASSUMED_WITHOUT_HEADER);
    Ok(Prepared {
        log_level: session.as_ref().and_then(|s| s.log_level),
        progress_token: call.meta.progress_token,
        method: call.method,
        era: Era::Handshake { version, session },
    })
}

const VERSION_REQUIRED: &str =
    "MCP-Protocol-Version header is required and must equal _meta's protocol version";

fn version_mismatch(header: &str, meta_version: &str) -> McpError {
    McpError::HeaderMismatch(format!(
        "MCP-Protocol-Version header {header:?} does not match _meta protocol version {meta_version:?}"
    ))
}

fn prepare_stateless(
    headers: &HeaderMap,
    header_version: Option<&str>,
    call: Call,
) -> Result<Prepared, McpError> {
    let Call { method, meta } = call;
    let Some(meta_version) = meta.protocol_version else {
        return Err(McpError::MalformedParams(format!(
            "_meta must carry \"{META_VERSION}\" and \"{META_CAPABILITIES}\""
        )));
    };
    let Some(client_capabilities) = meta.client_capabilities else {
        return Err(McpError::MalformedParams(format!(
            "_meta must carry \"{META_CAPABILITIES}\" as an object"
        )));
    };
    match header_version {
        None => return Err(McpError::HeaderMismatch(VERSION_REQUIRED.to_owned())),
        Some(header) if header != meta_version => {
            return Err(version_mismatch(header, &meta_version));
        }
        Some(_) => {}
    }
    if ProtocolVersion::parse(&meta_version).is_none() {
        return Err(McpError::UnsupportedProtocolVersion(meta_version));
    }
    match header_str(headers, METHOD_HEADER) {
        Some(header) if header == method.name() => {}
        Some(header) => {
            return Err(McpError::HeaderMismatch(format!(
                "Mcp-Method header {header:?} does not match the body's method {:?}",
                method.name()
            )));
        }
        None => {
            return Err(McpError::HeaderMismatch(
                "Mcp-Method header is required".to_owned(),
            ));
        }
    }
    if let Some(body_name) = method.named() {
        match header_str(headers, NAME_HEADER).map(decode_header_value) {
            Some(Some(header_name)) if header_name == body_name => {}
            Some(_) => {
                return Err(McpError::HeaderMismatch(format!(
                    "Mcp-Name header does not match the body's {body_name:?}"
                )));
            }
            None => {
                return Err(McpError::HeaderMismatch(
                    "Mcp-Name header is required".to_owned(),
                ));
            }
        }
    }
    Ok(Prepared {
        era: Era::Stateless {
            client_capabilities,
        },
        method,
        log_level: meta.log_level,
        progress_token: meta.progress_token,
    })
}
