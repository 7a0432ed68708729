//! GET: a session's notification stream, or a description of the server.

use std::convert::Infallible;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt, stream};

use super::headers::{SESSION_HEADER, header_str, stateless_header};
use super::page::describe;
use super::response::{method_not_allowed, sse};
use crate::mcp::error::McpError;
use crate::mcp::session::{Lookup, StreamSlot};
use crate::mcp::state::McpState;

/// GET: a notification stream for clients that ask for one, a short
/// description of the server for everyone else.
pub async fn handle(State(state): State<McpState>, headers: HeaderMap) -> Response {
    if stateless_header(&headers) {
        return method_not_allowed();
    }
    // Only an explicit `text/event-stream` opens a stream: browsers and
    // probes send `*/*` and should get the description instead.
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().contains("text/event-stream"));
    if !wants_stream {
        return describe(&state, &headers);
    }
    let registration = match header_str(&headers, SESSION_HEADER) {
        None => None,
        Some(id) => match state.sessions.lookup(id, Instant::now()) {
            Lookup::Terminated => return McpError::SessionTerminated.into_response(),
            Lookup::Unknown => None,
            Lookup::Live(view) => state.sessions.open_stream(&view.id),
        },
    };
    // Streams end when a newer one displaces them or when shutdown begins, so
    // a graceful shutdown is not held open by idle clients.
    let shutdown = state.shutdown_signal();
    match registration {
        Some(registration) => {
            let ends = async move {
                tokio::select! {
                    _ = registration.displaced => {}
                    () = shutdown => {}
                }
            };
            sse(
                notification_events(registration.notifications, registration.slot)
                    .take_until(Box::pin(ends)),
            )
        }
        None => {
            let Some(permit) = state.anonymous_stream_permit() else {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "30")],
                    "too many open notification streams; retry later",
                )
                    .into_response();
            };
            // Nothing is sent without a session: the stream only keeps its
            // permit (released when the client leaves) and keep-alives.
            let idle = stream::unfold(permit, |permit| async move {
                let _held = permit;
                std::future::pending::<Option<(Result<Event, Infallible>, _)>>().await
            });
            sse(idle.take_until(Box::pin(shutdown)))
        }
    }
}

/// Turns a session's notification channel into SSE events; a stream that
/// lagged behind skips what it missed. The stream owns its session slot, so
/// dropping it frees the slot.
fn notification_events(
    receiver: tokio::sync::broadcast::Receiver<std::sync::Arc<str>>,
    slot: StreamSlot,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    stream::unfold((receiver, slot), |(mut receiver, slot)| async move {
        loop {
            match receiver.recv().await {
                Ok(message) => {
                    return Some((Ok(Event::default().data(&*message)), (receiver, slot)));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}
