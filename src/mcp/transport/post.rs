//! POST: one JSON-RPC message, or a batch (see [`super::batch`]).

use std::convert::Infallible;
use std::time::Instant;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum::response::sse::Event;
use futures_util::stream;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::batch::batch;
use super::headers::{Accepts, SESSION_HEADER, VERSION_HEADER, header_str};
use super::prepare::{Envelope, Prepared, looks_stateless, prepare, unsupported_version_error};
use super::response::{accepted, json_response, rpc_failure, session_gone, sse};
use crate::mcp::auth::{self, Anonymous};
use crate::mcp::jsonrpc::{self, Message, Request, RpcError, decode_params};
use crate::mcp::notify::{NOTIFICATION_QUEUE, Notifier};
use crate::mcp::server::{self, Era, Payload};
use crate::mcp::session::Lookup;
use crate::mcp::state::McpState;
use crate::mcp::version::ProtocolVersion;

/// Largest request body accepted; MCP messages are small, and this bounds
/// the memory one request can pin.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub async fn handle(
    State(state): State<McpState>,
    anonymous: Option<Extension<Anonymous>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let anonymous = anonymous.is_some();
    let accepts = Accepts::from(&headers);
    if !accepts.json && !accepts.sse {
        return rpc_failure(
            StatusCode::NOT_ACCEPTABLE,
            None,
            RpcError::invalid_request("Accept must include application/json or text/event-stream"),
        );
    }
    if let Some(content_type) = header_str(&headers, header::CONTENT_TYPE.as_str())
        && !content_type
            .split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
    {
        return rpc_failure(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            RpcError::invalid_request("Content-Type must be application/json"),
        );
    }
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return rpc_failure(
            StatusCode::BAD_REQUEST,
            None,
            RpcError::parse_error("body is not UTF-8"),
        );
    };

    let header_version = header_str(&headers, VERSION_HEADER);
    let now = Instant::now();
    let session = match header_str(&headers, SESSION_HEADER) {
        None => None,
        Some(id) => match state.sessions.lookup(id, now) {
            Lookup::Live(view) => Some(view),
            Lookup::Unknown => None,
            Lookup::Terminated => return session_gone(),
        },
    };

    if text.trim_start().starts_with('[') {
        return batch(
            &state,
            header_version,
            session,
            text,
            anonymous.then_some(uri.path()),
        )
        .await;
    }
    let message = match Message::parse(text) {
        Ok(message) => message,
        Err(rejected) => return rpc_failure(StatusCode::BAD_REQUEST, rejected.id, rejected.error),
    };
    if let Some(raw) = header_version
        && ProtocolVersion::parse(raw).is_none()
    {
        let id = match &message {
            Message::Request(request) => Some(request.id),
            _ => None,
        };
        return rpc_failure(StatusCode::BAD_REQUEST, id, unsupported_version_error(raw));
    }
    let request = match message {
        Message::Request(request) => request,
        Message::Notification { .. } | Message::Response => return accepted(),
    };
    let envelope = Envelope::read(request.params);
    let stateless = looks_stateless(header_version, &request, &envelope);
    if request.method == "initialize" && !stateless {
        return initialize(&state, &request, now);
    }
    let prepared = match prepare(
        &headers,
        header_version,
        session,
        &request,
        envelope,
        stateless,
    ) {
        Ok(prepared) => prepared,
        Err(refusal) => return rpc_failure(refusal.status, Some(request.id), refusal.error),
    };
    if anonymous
        && !auth::open_to_anonymous(&request.method)
        && let Some(oauth) = &state.oauth
    {
        if request.method != "tools/call" {
            return auth::unauthorized(oauth, uri.path());
        }
        let mut result = auth::sign_in_result(oauth, uri.path());
        if prepared.era.is_stateless() {
            result["resultType"] = json!("complete");
        }
        return json_response(
            StatusCode::OK,
            jsonrpc::result_envelope(request.id, &result.to_string()),
        );
    }
    let streamed = request.method == "tools/call"
        && accepts.sse
        && Notifier::wanted(&prepared.progress_token, prepared.log_level);
    if streamed {
        return stream_call(state, request, prepared);
    }
    let outcome = server::dispatch(
        &state,
        &prepared.era,
        &request.method,
        request.params,
        Notifier::default(),
    )
    .await;
    respond(&prepared.era, request.id, outcome)
}

async fn read_body(body: Body) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|error| {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            if too_large {
                rpc_failure(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    None,
                    RpcError::invalid_request(format!("body exceeds {MAX_BODY_BYTES} bytes")),
                )
            } else {
                rpc_failure(
                    StatusCode::BAD_REQUEST,
                    None,
                    RpcError::parse_error("body could not be read"),
                )
            }
        })
}

fn initialize(state: &McpState, request: &Request<'_>, now: Instant) -> Response {
    #[derive(Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct InitializeParams {
        protocol_version: String,
    }
    let params: InitializeParams = match decode_params(request.params) {
        Ok(params) => params,
        Err(error) => return respond_error(request.id, error, StatusCode::OK),
    };
    let version = server::negotiate(&params.protocol_version);
    let session = state.sessions.create(version, now);
    let body = jsonrpc::result_envelope(request.id, &server::initialize_result(version));
    let mut response = json_response(StatusCode::OK, body);
    if let Ok(value) = HeaderValue::from_str(&session) {
        response.headers_mut().insert(SESSION_HEADER, value);
    }
    response
}

fn respond(era: &Era, id: &RawValue, outcome: Result<Payload, RpcError>) -> Response {
    match outcome {
        Ok(payload) => json_response(
            StatusCode::OK,
            jsonrpc::result_envelope(id, payload.as_str()),
        ),
        Err(error) => {
            let status = match error.code {
                jsonrpc::METHOD_NOT_FOUND if era.is_stateless() => StatusCode::NOT_FOUND,
                jsonrpc::MISSING_CLIENT_CAPABILITY => StatusCode::BAD_REQUEST,
                _ => StatusCode::OK,
            };
            respond_error(id, error, status)
        }
    }
}

fn respond_error(id: &RawValue, error: RpcError, status: StatusCode) -> Response {
    rpc_failure(status, Some(id), error)
}

/// Runs a `tools/call` whose progress or logs the client wants to see,
/// answering with an SSE stream that ends with the result. Dropping the
/// stream (the client hung up) cancels the call.
fn stream_call(state: McpState, request: Request<'_>, prepared: Prepared) -> Response {
    let id: Box<RawValue> = request.id.to_owned();
    let params: Option<Box<RawValue>> = request.params.map(ToOwned::to_owned);
    let (tx, rx) = mpsc::channel::<String>(NOTIFICATION_QUEUE);
    let notifier = Notifier::streaming(tx.clone(), prepared.progress_token, prepared.log_level);
    let era = prepared.era;
    let task = tokio::spawn(async move {
        let outcome =
            server::dispatch(&state, &era, "tools/call", params.as_deref(), notifier).await;
        let message = match outcome {
            Ok(payload) => jsonrpc::result_envelope(&id, payload.as_str()),
            Err(error) => jsonrpc::error_envelope(Some(&id), &error),
        };
        let _ = tx.send(message).await;
    });
    let abort_on_drop = AbortOnDrop(task);
    let events = stream::unfold((rx, abort_on_drop), |(mut rx, guard)| async move {
        let message = rx.recv().await?;
        Some((
            Ok::<_, Infallible>(Event::default().data(message)),
            (rx, guard),
        ))
    });
    sse(events)
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
