//! Answers that are not a JSON-RPC body (those are [`crate::mcp::jsonrpc::answer`]):
//! 202, SSE streams, 405.

use std::convert::Infallible;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;

/// Comment lines on idle SSE streams keep proxies from closing them.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
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
