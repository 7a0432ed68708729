//! Streamable HTTP: POST, GET and DELETE on the MCP endpoint.
//!
//! Every POST is first placed in its era. A request is stateless-era when
//! its `MCP-Protocol-Version` header is not a handshake-era revision, when
//! its `_meta` names a protocol version, or when it is `server/discover`;
//! then headers and `_meta` are checked as 2026-07-28 requires (HTTP 400
//! with -32020/-32021/-32022/-32602) and unknown methods get 404. Everything
//! else is handshake era, where an `Mcp-Session-Id` is honoured but never
//! required.
//!
//! Answers are `application/json`, except a `tools/call` whose client
//! accepts `text/event-stream` and asked for progress or logs: that one is
//! an SSE stream of notifications ending with the result.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use futures_util::{Stream, StreamExt, stream};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::auth::{self, Anonymous};
use super::jsonrpc::{self, Message, Request, RpcError, decode_params};
use super::notify::{NOTIFICATION_QUEUE, Notifier};
use super::server::{self, Era, Payload};
use super::session::{LogLevel, Lookup, SessionError, SessionView, StreamSlot};
use super::version::ProtocolVersion;
use crate::binance::CallerKey;
use crate::state::AppState;

/// Largest request body accepted; MCP messages are small, and this bounds
/// the memory one request can pin.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest 2025-03-26 batch served.
pub const MAX_BATCH_LEN: usize = 64;
/// Comment lines on idle SSE streams keep proxies from closing them.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
const METHOD_HEADER: &str = "mcp-method";
const NAME_HEADER: &str = "mcp-name";

const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// A JSON-RPC error response with an explicit HTTP status.
pub fn rpc_failure(status: StatusCode, id: Option<&RawValue>, error: RpcError) -> Response {
    json_response(status, jsonrpc::error_envelope(id, &error))
}

fn json_response(status: StatusCode, body: String) -> Response {
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

fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

/// Which response types the client's `Accept` header allows.
#[derive(Debug, Clone, Copy)]
struct Accepts {
    json: bool,
    sse: bool,
}

impl Accepts {
    fn from(headers: &HeaderMap) -> Self {
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Self {
                json: true,
                sse: false,
            };
        };
        let has = |wanted: &str| {
            accept.split(',').any(|part| {
                let media = part.split(';').next().unwrap_or_default().trim();
                media.eq_ignore_ascii_case(wanted)
                    || media == "*/*"
                    || (wanted.starts_with("application/")
                        && media.eq_ignore_ascii_case("application/*"))
                    || (wanted.starts_with("text/") && media.eq_ignore_ascii_case("text/*"))
            })
        };
        Self {
            json: has("application/json"),
            sse: has("text/event-stream"),
        }
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap_or("\u{fffd}").trim())
}

/// The `params` fields the transport itself needs, read before dispatch.
#[derive(Debug, Default, Deserialize)]
struct Envelope {
    #[serde(rename = "_meta")]
    meta: Option<Map<String, Value>>,
    name: Option<Value>,
    uri: Option<Value>,
}

impl Envelope {
    fn read(params: Option<&RawValue>) -> Result<Self, RpcError> {
        decode_params(params)
    }

    fn meta(&self, key: &str) -> Option<&Value> {
        self.meta.as_ref().and_then(|m| m.get(key))
    }

    fn progress_token(&self) -> Option<Value> {
        self.meta("progressToken")
            .filter(|t| t.is_string() || t.is_number())
            .cloned()
    }
}

/// A request refused before dispatch, answered under the request's id.
struct Refusal {
    status: StatusCode,
    error: RpcError,
}

impl Refusal {
    fn bad_request(code: i32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: RpcError::new(code, message),
        }
    }
}

/// What the transport decided about one request before dispatching it.
struct Prepared {
    era: Era,
    log_level: Option<LogLevel>,
    progress_token: Option<Value>,
}

pub async fn post(
    State(state): State<AppState>,
    anonymous: Option<Extension<Anonymous>>,
    caller: CallerKey,
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
        Some(id) => match state.sessions.lookup(id, now).await {
            Ok(Lookup::Live(view)) => Some(view),
            Ok(Lookup::Unknown) => None,
            Ok(Lookup::Terminated) => return session_gone(),
            Err(e) => return sessions_unavailable(&e),
        },
    };

    if text.trim_start().starts_with('[') {
        return batch(
            &state,
            &caller,
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
        return initialize(&state, &request, now).await;
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
        return stream_call(state, caller, request, prepared);
    }
    let outcome = server::dispatch(
        &state,
        &prepared.era,
        &caller,
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

fn unsupported_version_error(requested: &str) -> RpcError {
    RpcError::new(
        jsonrpc::UNSUPPORTED_PROTOCOL_VERSION,
        format!("Unsupported protocol version: {requested}"),
    )
    .with_data(json!({ "supported": ProtocolVersion::all_as_str(), "requested": requested }))
}

/// 503 with a JSON-RPC error: the shared session store cannot answer.
fn sessions_unavailable(e: &SessionError) -> Response {
    tracing::warn!(error = %e, "MCP session store unavailable");
    let mut response = rpc_failure(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        RpcError::sessions_unavailable(),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(crate::oauth::error::RETRY_AFTER_UNAVAILABLE),
    );
    response
}

fn session_gone() -> Response {
    rpc_failure(
        StatusCode::NOT_FOUND,
        None,
        RpcError::invalid_request("session terminated; initialize again without Mcp-Session-Id"),
    )
}

/// Whether a request belongs to the stateless era (see the module doc).
fn looks_stateless(
    header_version: Option<&str>,
    request: &Request<'_>,
    envelope: &Result<Envelope, RpcError>,
) -> bool {
    let header_is_stateless = header_version
        .and_then(ProtocolVersion::parse)
        .is_some_and(ProtocolVersion::is_stateless);
    header_is_stateless
        || request.method == "server/discover"
        || envelope
            .as_ref()
            .is_ok_and(|envelope| envelope.meta(META_VERSION).is_some())
}

async fn initialize(state: &AppState, request: &Request<'_>, now: Instant) -> Response {
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
    let session = match state.sessions.create(version, now).await {
        Ok(session) => session,
        Err(e) => return sessions_unavailable(&e),
    };
    let body = jsonrpc::result_envelope(request.id, &server::initialize_result(version));
    let mut response = json_response(StatusCode::OK, body);
    if let Ok(value) = HeaderValue::from_str(&session) {
        response.headers_mut().insert(SESSION_HEADER, value);
    }
    response
}

fn prepare(
    headers: &HeaderMap,
    header_version: Option<&str>,
    session: Option<SessionView>,
    request: &Request<'_>,
    envelope: Result<Envelope, RpcError>,
    stateless: bool,
) -> Result<Prepared, Refusal> {
    if stateless {
        return prepare_stateless(headers, header_version, request, envelope);
    }
    let envelope = envelope.map_err(|error| Refusal {
        status: StatusCode::OK,
        error,
    })?;
    let version = header_version
        .and_then(ProtocolVersion::parse)
        .or(session.as_ref().map(|s| s.version))
        .unwrap_or(ProtocolVersion::ASSUMED_WITHOUT_HEADER);
    Ok(Prepared {
        log_level: session.as_ref().and_then(|s| s.log_level),
        progress_token: envelope.progress_token(),
        era: Era::Handshake { version, session },
    })
}

fn prepare_stateless(
    headers: &HeaderMap,
    header_version: Option<&str>,
    request: &Request<'_>,
    envelope: Result<Envelope, RpcError>,
) -> Result<Prepared, Refusal> {
    let envelope = envelope.map_err(|error| Refusal {
        status: StatusCode::BAD_REQUEST,
        error,
    })?;
    let Some(meta_version) = envelope.meta(META_VERSION) else {
        return Err(Refusal::bad_request(
            jsonrpc::INVALID_PARAMS,
            format!(
                "Invalid params: _meta must carry \"{META_VERSION}\" and \"{META_CAPABILITIES}\""
            ),
        ));
    };
    let Some(meta_version) = meta_version.as_str() else {
        return Err(Refusal::bad_request(
            jsonrpc::INVALID_PARAMS,
            format!("Invalid params: _meta \"{META_VERSION}\" must be a string"),
        ));
    };
    let Some(Value::Object(client_capabilities)) = envelope.meta(META_CAPABILITIES) else {
        return Err(Refusal::bad_request(
            jsonrpc::INVALID_PARAMS,
            format!("Invalid params: _meta must carry \"{META_CAPABILITIES}\" as an object"),
        ));
    };
    match header_version {
        None => {
            return Err(Refusal::bad_request(
                jsonrpc::HEADER_MISMATCH,
                "MCP-Protocol-Version header is required and must equal _meta's protocol version",
            ));
        }
        Some(header) if header != meta_version => {
            return Err(Refusal::bad_request(
                jsonrpc::HEADER_MISMATCH,
                format!(
                    "MCP-Protocol-Version header {header:?} does not match _meta protocol version {meta_version:?}"
                ),
            ));
        }
        Some(_) => {}
    }
    if ProtocolVersion::parse(meta_version).is_none() {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            error: unsupported_version_error(meta_version),
        });
    }
    match header_str(headers, METHOD_HEADER) {
        Some(method) if method == request.method => {}
        Some(method) => {
            return Err(Refusal::bad_request(
                jsonrpc::HEADER_MISMATCH,
                format!(
                    "Mcp-Method header {method:?} does not match the body's method {:?}",
                    request.method
                ),
            ));
        }
        None => {
            return Err(Refusal::bad_request(
                jsonrpc::HEADER_MISMATCH,
                "Mcp-Method header is required",
            ));
        }
    }
    let named = match request.method.as_ref() {
        "tools/call" | "prompts/get" => envelope.name.as_ref(),
        "resources/read" => envelope.uri.as_ref(),
        _ => None,
    };
    if let Some(Value::String(body_name)) = named {
        match header_str(headers, NAME_HEADER).map(decode_header_value) {
            Some(Some(header_name)) if header_name == *body_name => {}
            Some(_) => {
                return Err(Refusal::bad_request(
                    jsonrpc::HEADER_MISMATCH,
                    format!("Mcp-Name header does not match the body's {body_name:?}"),
                ));
            }
            None => {
                return Err(Refusal::bad_request(
                    jsonrpc::HEADER_MISMATCH,
                    "Mcp-Name header is required",
                ));
            }
        }
    }
    let log_level = envelope
        .meta(META_LOG_LEVEL)
        .and_then(Value::as_str)
        .and_then(LogLevel::parse);
    Ok(Prepared {
        log_level,
        progress_token: envelope.progress_token(),
        era: Era::Stateless {
            client_capabilities: client_capabilities.clone(),
        },
    })
}

/// Header values that are not plain ASCII arrive as `=?base64?…?=`.
fn decode_header_value(raw: &str) -> Option<String> {
    match raw
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        None => Some(raw.to_owned()),
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok()),
    }
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
fn stream_call(
    state: AppState,
    caller: CallerKey,
    request: Request<'_>,
    prepared: Prepared,
) -> Response {
    let id: Box<RawValue> = request.id.to_owned();
    let params: Option<Box<RawValue>> = request.params.map(ToOwned::to_owned);
    let (tx, rx) = mpsc::channel::<String>(NOTIFICATION_QUEUE);
    let notifier = Notifier::streaming(tx.clone(), prepared.progress_token, prepared.log_level);
    let era = prepared.era;
    let task = tokio::spawn(async move {
        let outcome = server::dispatch(
            &state,
            &era,
            &caller,
            "tools/call",
            params.as_deref(),
            notifier,
        )
        .await;
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

fn sse<S>(events: S) -> Response
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

/// Serves a 2025-03-26 JSON-RPC batch; later revisions removed batching.
/// `anonymous_path` is the request path when the caller has no token.
async fn batch(
    state: &AppState,
    caller: &CallerKey,
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
                    caller,
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

/// GET: a notification stream for clients that ask for one, a short
/// description of the server for everyone else.
pub async fn get(State(state): State<AppState>, headers: HeaderMap) -> Response {
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
        Some(id) => match state.sessions.lookup(id, Instant::now()).await {
            Ok(Lookup::Terminated) => return session_gone(),
            Ok(Lookup::Unknown) => None,
            Ok(Lookup::Live(view)) => Some(state.sessions.open_stream(&view)),
            Err(e) => return sessions_unavailable(&e),
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

fn stateless_header(headers: &HeaderMap) -> bool {
    header_str(headers, VERSION_HEADER)
        .and_then(ProtocolVersion::parse)
        .is_some_and(ProtocolVersion::is_stateless)
}

fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST")],
        "protocol version 2026-07-28 is stateless: use POST",
    )
        .into_response()
}

pub async fn delete(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if stateless_header(&headers) {
        return method_not_allowed();
    }
    let Some(id) = header_str(&headers, SESSION_HEADER) else {
        return rpc_failure(
            StatusCode::BAD_REQUEST,
            None,
            RpcError::invalid_request(
                "DELETE needs the Mcp-Session-Id header of the session to end",
            ),
        );
    };
    match state.sessions.terminate(id, Instant::now()).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => session_gone(),
        Err(e) => sessions_unavailable(&e),
    }
}

/// What a browser or a probe sees on GET: who we are and how to connect.
fn describe(state: &AppState, headers: &HeaderMap) -> Response {
    let endpoint = format!("{}/mcp", state.settings.public_url);
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        let body = json!({
            "name": server::SERVER_NAME,
            "title": server::SERVER_TITLE,
            "version": server::SERVER_VERSION,
            "protocolVersions": ProtocolVersion::all_as_str(),
            "endpoint": endpoint,
            "transport": "streamable-http",
            "howToConnect": "POST JSON-RPC 2.0 messages to the endpoint; add it as a connector URL in ChatGPT, Claude or the MCP Inspector.",
        });
        return json_response(StatusCode::OK, body.to_string());
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{name}</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}code{{background:#f2f2f2;padding:.1rem .3rem}}</style></head>\
<body><h1>{title}</h1><p><strong>{name}</strong> {version} is a Model Context Protocol server (Streamable HTTP).</p>\
<p>Connect an MCP client (ChatGPT Developer Mode, Claude, the MCP Inspector) to <code>{endpoint}</code>.</p>\
<p>Protocol versions: {versions}.</p></body></html>",
        name = server::SERVER_NAME,
        title = server::SERVER_TITLE,
        version = server::SERVER_VERSION,
        endpoint = escape_html(&endpoint),
        versions = ProtocolVersion::all_as_str().join(", "),
    );
    Html(page).into_response()
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_parsing() {
        let mut headers = HeaderMap::new();
        let a = Accepts::from(&headers);
        assert!(a.json && !a.sse, "no Accept means JSON");
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        let a = Accepts::from(&headers);
        assert!(a.json && a.sse);
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        let a = Accepts::from(&headers);
        assert!(!a.json && !a.sse);
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        let a = Accepts::from(&headers);
        assert!(a.json && a.sse);
    }

    #[test]
    fn base64_header_values() {
        assert_eq!(decode_header_value("plain").as_deref(), Some("plain"));
        assert_eq!(decode_header_value("=?base64?w6k=?=").as_deref(), Some("é"));
        assert_eq!(decode_header_value("=?base64?!!?="), None);
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
