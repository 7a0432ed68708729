//! 2025-03-26 JSON-RPC batches; later revisions removed batching.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::value::RawValue;

use super::response::accepted;
use crate::binance::CallerKey;
use crate::mcp::auth;
use crate::mcp::era::{Era, EraKind};
use crate::mcp::error::McpError;
use crate::mcp::jsonrpc::{Answer, Message, answer};
use crate::mcp::method::{Call, Method};
use crate::mcp::notify::Notifier;
use crate::mcp::server;
use crate::mcp::session::SessionView;
use crate::mcp::state::McpState;
use crate::mcp::version::ProtocolVersion;
use crate::oauth::{Issuer, OAuth};

/// Largest 2025-03-26 batch served.
pub const MAX_BATCH_LEN: usize = 64;

/// Serves a 2025-03-26 JSON-RPC batch; later revisions removed batching.
/// `anonymous` is set when the caller has no token: the authorization
/// server, its issuer for this request, and the request path.
pub async fn serve(
    state: &McpState,
    caller: &CallerKey,
    header_version: Option<&str>,
    session: Option<SessionView>,
    text: &str,
    anonymous: Option<(&OAuth, &Issuer, &str)>,
) -> Response {
    // Without a token (`--anonymous-discovery`) a batch is refused before
    // it is read: discovery works one request at a time, and a batch of 64
    // lists would answer a few kB with megabytes (issue 8.8).
    if let Some((oauth, issuer, path)) = anonymous {
        return auth::unauthorized(oauth, issuer, path);
    }
    if let Some(raw) = header_version
        && ProtocolVersion::parse(raw).is_none()
    {
        return McpError::UnsupportedProtocolVersion(raw.to_owned()).into_response();
    }
    let version = header_version
        .and_then(ProtocolVersion::parse)
        .or(session.as_ref().map(|s| s.version))
        .unwrap_or(ProtocolVersion::ASSUMED_WITHOUT_HEADER);
    if !version.allows_batches() {
        return McpError::InvalidRequest(format!(
            "JSON-RPC batches are not supported in protocol version {version}; send one message per request"
        ))
        .into_response();
    }
    let items: Vec<&RawValue> = match serde_json::from_str(text) {
        Ok(items) => items,
        Err(error) => return McpError::Parse(error.to_string()).into_response(),
    };
    if items.is_empty() || items.len() > MAX_BATCH_LEN {
        return McpError::InvalidRequest(format!("a batch holds 1 to {MAX_BATCH_LEN} messages"))
            .into_response();
    }
    let era = Era::Handshake { version, session };
    let mut responses = Vec::new();
    for item in items {
        let request = match Message::parse(item.get()) {
            Err(rejected) => {
                responses.push(answer(rejected.id, &Err(rejected.error), EraKind::Handshake).body);
                continue;
            }
            Ok(Message::Notification { .. } | Message::Response) => continue,
            Ok(Message::Request(request)) => request,
        };
        let outcome = match Call::decode(&request, EraKind::Handshake) {
            Ok(Call {
                method: Method::Initialize { .. },
                ..
            }) => Err(McpError::InvalidRequest(
                "initialize must not be part of a batch".to_owned(),
            )),
            Ok(call) => {
                server::dispatch(state, &era, caller, call.method, Notifier::default()).await
            }
            Err(error) => Err(error),
        };
        responses.push(answer(Some(request.id), &outcome, EraKind::Handshake).body);
    }
    if responses.is_empty() {
        return accepted();
    }
    Answer {
        status: StatusCode::OK,
        body: format!("[{}]", responses.join(",")),
    }
    .into_response()
}
