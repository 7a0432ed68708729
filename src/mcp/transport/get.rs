//! GET: a session's notification stream, or a description of the server
//! (a page for people, JSON for programs).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, stream};
use tokio::sync::broadcast::error::RecvError;

use super::headers::{SESSION_HEADER, header_str, stateless_header};
use super::page::{describe, page};
use super::response::{method_not_allowed, sse};
use crate::binance::CallerKey;
use crate::mcp::auth::for_people;
use crate::mcp::error::McpError;
use crate::mcp::session::{Lookup, StreamRegistration};
use crate::mcp::state::{McpState, StreamPermit};

/// What a refused stream is told to wait, in seconds: streams end when
/// their clients leave, so places free up steadily.
const STREAMS_RETRY_AFTER_SECS: &str = "30";

/// GET: a notification stream for clients that ask for one, a short
/// description of the server for everyone else.
pub async fn handle(
    State(state): State<McpState>,
    caller: CallerKey,
    method: Method,
    headers: HeaderMap,
) -> Response {
    if for_people(&method, &headers) {
        return page(&state, &headers);
    }
    if stateless_header(&headers) {
        return method_not_allowed();
    }
    // Only an explicit `text/event-stream` opens a stream: probes send
    // `*/*` and get the description instead.
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().contains("text/event-stream"));
    if !wants_stream {
        return describe(&state, &headers);
    }
    let session = match header_str(&headers, SESSION_HEADER) {
        None => None,
        Some(id) => match state.sessions.lookup(id, state.now()).await {
            Ok(Lookup::Terminated) => return McpError::SessionTerminated.into_response(),
            Ok(Lookup::Unknown) => None,
            Ok(Lookup::Live(view)) => Some(view),
            Err(e) => return McpError::from(e).into_response(),
        },
    };
    // The place is taken before a session's oldest stream is displaced, so
    // a refused stream leaves the others alone.
    let Some(permit) = state.stream_permit(caller, session.is_some()) else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, STREAMS_RETRY_AFTER_SECS)],
            "too many open notification streams; retry later",
        )
            .into_response();
    };
    // Streams end when a newer one displaces them or when shutdown begins,
    // so a graceful shutdown is not held open by idle clients.
    let shutdown = Box::pin(state.shutdown_signal());
    match session.map(|view| state.sessions.open_stream(&view)) {
        Some(registration) => sse(notification_events(registration, permit, shutdown)),
        // Nothing is sent without a session: the stream only keeps its
        // place and its keep-alives until shutdown.
        None => sse(stream::unfold(
            (permit, shutdown),
            |(permit, shutdown)| async move {
                shutdown.await;
                drop(permit);
                None::<(Result<Event, Infallible>, _)>
            },
        )),
    }
}

/// Turns a session's notification channel into SSE events, until the
/// stream is displaced or shutdown begins; a stream that lagged behind
/// skips what it missed. The stream owns its session slot and its permit,
/// and gives both back before its last byte is sent.
fn notification_events(
    registration: StreamRegistration,
    permit: StreamPermit,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    let StreamRegistration {
        notifications,
        displaced,
        slot,
    } = registration;
    let ends = Box::pin(async move {
        tokio::select! {
            _ = displaced => {}
            () = shutdown => {}
        }
    });
    stream::unfold(
        (notifications, ends, slot, permit),
        |(mut notifications, mut ends, slot, permit)| async move {
            loop {
                tokio::select! {
                    () = &mut ends => return None,
                    received = notifications.recv() => match received {
                        Ok(message) => {
                            let event = Event::default().data(&*message);
                            return Some((Ok(event), (notifications, ends, slot, permit)));
                        }
                        Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return None,
                    },
                }
            }
        },
    )
}
