//! 2025-03-26 JSON-RPC batches; later revisions removed batching.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::value::RawValue;

use super::prepare::unsupported_version_error;
use super::response::{accepted, json_response, rpc_failure};
use crate::mcp::auth;
use crate::mcp::jsonrpc::{self, Message, RpcError};
use crate::mcp::notify::Notifier;
use crate::mcp::server::{self, Era};
use crate::mcp::session::SessionView;
use crate::mcp::state::McpState;
use crate::mcp::version::ProtocolVersion;

/// Largest 2025-03-26 batch served.
pub const MAX_BATCH_LEN: usize = 64;

/// Serves a 2025-03-26 JSON-RPC batch; later revisions removed batching.
/// `anonymous_path` is the request path when the caller has no token.
pub async fn batch(
    state: &McpState,
    header_version: Option<&str>,
    session: Option<SessionView>,
    text: &str,
    anonymous_path: Option<&str>,
) -> Response {
    if let Some(raw) = header_version
        && ProtocolVersion::parse(raw).is_none()
    {
        return rpc_failure(
            StatusCode::BAD_REQUEST,
            None,
            unsupported_version_error(raw),
        );
    }
    let version = header_version
        .and_then(ProtocolVersion::parse)
        .or(session.as_ref().map(|s| s.version))
        .unwrap_or(ProtocolVersion::ASSUMED_WITHOUT_HEADER);
    if !version.allows_batches() {
        return rpc_failure(
            StatusCode::BAD_REQUEST,
            None,
            RpcError::invalid_request(format!(
                "JSON-RPC batches are not supported in protocol version {version}; send one message per request"
            )),
        );
    }
    let items: Vec<&RawValue> = match serde_json::from_str(text) {
        Ok(items) => items,
        Err(error) => {
            return rpc_failure(StatusCode::BAD_REQUEST, None, RpcError::parse_error(error));
        }
    };
    if items.is_empty() || items.len() > MAX_BATCH_LEN {
        return rpc_failure(
            StatusCode::BAD_REQUEST,
            None,
            RpcError::invalid_request(format!("a batch holds 1 to {MAX_BATCH_LEN} messages")),
        );
    }
    if let (Some(path), Some(oauth)) = (anonymous_path, &state.oauth) {
        let reads_data = items.iter().any(|item| {
            matches!(Message::parse(item.get()), Ok(Message::Request(r)) if !auth::open_to_anonymous(&r.method))
        });
        if reads_data {
            return auth::unauthorized(oauth, path);
        }
    }
    let era = Era::Handshake { version, session };
    let mut responses = Vec::new();
    for item in items {
        match Message::parse(item.get()) {
            Err(rejected) => responses.push(jsonrpc::error_envelope(rejected.id, &rejected.error)),
            Ok(Message::Notification { .. } | Message::Response) => {}
            Ok(Message::Request(request)) if request.method == "initialize" => {
                responses.push(jsonrpc::error_envelope(
                    Some(request.id),
                    &RpcError::invalid_request("initialize must not be part of a batch"),
                ))
            }
            Ok(Message::Request(request)) => {
                let outcome = server::dispatch(
                    state,
                    &era,
                    &request.method,
                    request.params,
                    Notifier::default(),
                )
                .await;
                responses.push(match outcome {
                    Ok(payload) => jsonrpc::result_envelope(request.id, payload.as_str()),
                    Err(error) => jsonrpc::error_envelope(Some(request.id), &error),
                });
            }
        }
    }
    if responses.is_empty() {
        return accepted();
    }
    json_response(StatusCode::OK, format!("[{}]", responses.join(",")))
}
