//! How answers are written: JSON-RPC bodies with their status, 202, SSE.

use std::convert::Infallible;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde_json::value::RawValue;

use crate::mcp::jsonrpc::{self, RpcError};

/// Comment lines on idle SSE streams keep proxies from closing them.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A JSON-RPC error response with an explicit HTTP status.
pub fn rpc_failure(status: StatusCode, id: Option<&RawValue>, error: RpcError) -> Response {
    json_response(status, jsonrpc::error_envelope(id, &error))
}

pub fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

pub fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

pub fn session_gone() -> Response {
    rpc_failure(
        StatusCode::NOT_FOUND,
        None,
        RpcError::invalid_request("session terminated; initialize again without Mcp-Session-Id"),
    )
}

pub fn sse<S>(events: S) -> Response
where
    S: Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // Reverse proxies (nginx, Fly's) must not buffer a stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

pub fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST")],
        "protocol version 2026-07-28 is stateless: use POST",
    )
        .into_response()
}
