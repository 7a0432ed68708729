//! POST: one JSON-RPC message, or a batch (see [`super::batch`]).

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::value::RawValue;
use std::convert::Infallible;
use std::time::Instant;
use tokio::sync::mpsc;

use super::batch;
use super::headers::{Accepts, SESSION_HEADER, VERSION_HEADER, header_str};
use super::prepare::{Prepared, prepare};
use super::response::{accepted, sse};
use crate::binance::CallerKey;
use crate::mcp::auth::{self, Anonymous};
use crate::mcp::era::{Era, EraKind};
use crate::mcp::error::McpError;
use crate::mcp::jsonrpc::{Message, Payload, answer};
use crate::mcp::method::{Method, ToolCall};
use crate::mcp::notify::{NOTIFICATION_QUEUE, Notifier, ProgressToken};
use crate::mcp::server;
use crate::mcp::session::{LogLevel, Lookup};
use crate::mcp::state::McpState;
use crate::mcp::version::ProtocolVersion;

/// Largest request body accepted; MCP messages are small, and this bounds
/// the memory one request can pin.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub async fn handle(
    State(state): State<McpState>,
    anonymous: Option<Extension<Anonymous>>,
    caller: CallerKey,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Without a token, what a refusal points at: the authorization server
    // of the origin this request came to.
    let anonymous = match (&state.oauth, anonymous) {
        (Some(oauth), Some(_)) => Some((oauth.clone(), oauth.issuer_for(&headers))),
        _ => None,
    };
    let accepts = Accepts::from(&headers);
    if !accepts.json && !accepts.sse {
        return McpError::NotAcceptable.into_response();
    }
    if let Some(content_type) = header_str(&headers, header::CONTENT_TYPE.as_str())
        && !content_type
            .split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
    {
        return McpError::UnsupportedMediaType.into_response();
    }
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(error) => return error.into_response(),
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return McpError::Parse("body is not UTF-8".to_owned()).into_response();
    };

    let header_version = header_str(&headers, VERSION_HEADER);
    let now = state.now();
    let session = match header_str(&headers, SESSION_HEADER) {
        None => None,
        Some(id) => match state.sessions.lookup(id, now).await {
            Ok(Lookup::Live(view)) => Some(view),
            Ok(Lookup::Unknown) => None,
            Ok(Lookup::Terminated) => return McpError::SessionTerminated.into_response(),
            Err(e) => return McpError::from(e).into_response(),
        },
    };

    if text.trim_start().starts_with('[') {
        return batch::serve(
            &state,
            &caller,
            header_version,
            session,
            text,
            anonymous
                .as_ref()
                .map(|(oauth, issuer)| (oauth, issuer, uri.path())),
        )
        .await;
    }
    let message = match Message::parse(text) {
        Ok(message) => message,
        Err(rejected) => {
            return answer(rejected.id, &Err(rejected.error), EraKind::Handshake).into_response();
        }
    };
    if let Some(raw) = header_version
        && ProtocolVersion::parse(raw).is_none()
    {
        let id = match &message {
            Message::Request(request) => Some(request.id),
            _ => None,
        };
        let error = McpError::UnsupportedProtocolVersion(raw.to_owned());
        return answer(id, &Err(error), EraKind::Handshake).into_response();
    }
    let request = match message {
        Message::Request(request) => request,
        Message::Notification { .. } | Message::Response => return accepted(),
    };
    let prepared = match prepare(&headers, header_version, session, &request) {
        Ok(prepared) => prepared,
        Err(refusal) => {
            return answer(Some(request.id), &Err(refusal.error), refusal.era).into_response();
        }
    };
    let kind = prepared.era.kind();
    if let Method::Initialize { protocol_version } = &prepared.method {
        return initialize(&state, &caller, request.id, protocol_version, now).await;
    }
    if let Some((oauth, issuer)) = &anonymous
        && !auth::open_to_anonymous(&request.method)
    {
        if !matches!(prepared.method, Method::CallTool(_)) {
            return auth::unauthorized(oauth, issuer, uri.path());
        }
        let result = auth::sign_in_result(oauth, issuer, uri.path()).to_string();
        let result = Payload::Owned(prepared.era.finish(result, None));
        return answer(Some(request.id), &Ok(result), kind).into_response();
    }
    let Prepared {
        era,
        method,
        log_level,
        progress_token,
    } = prepared;
    let streamed = accepts.sse && Notifier::wanted(progress_token.as_ref(), log_level);
    let method = match method {
        Method::CallTool(call) if streamed => {
            // The stream's task outlives this borrow of the body.
            let id = request.id.to_owned();
            return stream_call(state, caller, id, era, call, (progress_token, log_level));
        }
        method => method,
    };
    let outcome = server::dispatch(&state, &era, &caller, method, Notifier::default()).await;
    answer(Some(request.id), &outcome, kind).into_response()
}

async fn read_body(body: Body) -> Result<Bytes, McpError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|error| {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            if too_large {
                McpError::BodyTooLarge {
                    limit: MAX_BODY_BYTES,
                }
            } else {
                McpError::Parse("body could not be read".to_owned())
            }
        })
}

/// Negotiates a version and mints the session that remembers it.
async fn initialize(
    state: &McpState,
    caller: &CallerKey,
    id: &RawValue,
    requested: &str,
    now: Instant,
) -> Response {
    let version = server::negotiate(requested);
    let session = match state.sessions.create(version, caller, now).await {
        Ok(session) => session,
        Err(e) => return answer(Some(id), &Err(e.into()), EraKind::Handshake).into_response(),
    };
    let result = Payload::Owned(server::initialize_result(version));
    let mut response = answer(Some(id), &Ok(result), EraKind::Handshake).into_response();
    if let Ok(value) = HeaderValue::from_str(&session) {
        response.headers_mut().insert(SESSION_HEADER, value);
    }
    response
}

/// Runs a `tools/call` whose progress or logs the client wants to see,
/// answering with an SSE stream that ends with the result. Dropping the
/// stream (the client hung up) cancels the call.
fn stream_call(
    state: McpState,
    caller: CallerKey,
    id: Box<RawValue>,
    era: Era,
    call: ToolCall,
    (progress_token, log_level): (Option<ProgressToken>, Option<LogLevel>),
) -> Response {
    let (tx, rx) = mpsc::channel::<String>(NOTIFICATION_QUEUE);
    let notifier = Notifier::streaming(tx.clone(), progress_token, log_level);
    let task = tokio::spawn(async move {
        let outcome = server::call_tool(&state, &era, &caller, call, notifier).await;
        let _ = tx.send(answer(Some(&id), &outcome, era.kind()).body).await;
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
