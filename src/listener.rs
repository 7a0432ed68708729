//! The HTTP listener: accepts TCP connections and serves [`crate::app`] on
//! each with hyper's HTTP/1.1 server, within limits `axum::serve` lacks.
//!
//! A connection is in one phase at a time, and every phase but one has a
//! deadline (the flags and defaults are in [`crate::config`]):
//! - `Head`: waiting for a complete request head, from the connection's
//!   start or from its first byte after an idle spell (header-read timeout);
//! - `Body`: the head is in, the body is not (body-read timeout);
//! - `Busy`: a handler runs or its response is being sent. No deadline, so
//!   long tool calls and SSE streams (which write keep-alive comments) live;
//! - `Idle`: a keep-alive connection between requests (idle timeout).
//!
//! Whatever the phase, a write the client leaves unread for the send
//! timeout closes the connection, so not reading a large reply holds no
//! slot for good.
//!
//! Connections are capped below the descriptor limit, whose soft value is
//! raised to the hard one at start-up. At the cap a new connection takes the
//! place of the one that has waited longest on its client (`Head`, `Body` or
//! `Idle`), so a flood of idle or half-sent sockets cannot lock real clients
//! or the health check out. When every connection is busy, the new one waits
//! up to [`SLOT_WAIT`] for a slot, then gets a 503 and is closed.
//!
//! hyper's own `header_read_timeout` stays off: it runs from the end of one
//! response to the end of the next head, so it cannot give idle keep-alives
//! more time than a slow head.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::AppState;
use crate::config::ConnectionLimits;

/// How long a new connection waits for a slot when every connection is
/// busy: a burst of requests clears in far less, a full house of streams
/// does not.
pub const SLOT_WAIT: Duration = Duration::from_secs(1);
/// Pause after an accept error such as running out of descriptors, so the
/// loop does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// Descriptors assumed when the limit cannot be read: the usual default.
const FALLBACK_DESCRIPTORS: u64 = 1_024;
/// Sent to a connection refused at the cap, so its client knows to retry.
const BUSY_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\n\
content-length: 0\r\nconnection: close\r\n\r\n";

/// Serves until `shutdown` resolves, then stops accepting, tells streams to
/// end and waits for in-flight requests to finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limits = state.settings().connections;
    let descriptors = raise_descriptor_limit();
    let cap = limits.cap(descriptors);
    tracing::info!(
        max_connections = cap,
        open_file_limit = descriptors,
        "accepting connections"
    );
    let router = crate::app(state.clone());
    let slots = Arc::new(Semaphore::new(cap));
    let registry = Arc::new(Registry::default());
    let (stop, stopping) = watch::channel(false);
    // Every connection task holds a receiver; `closed()` resolves when the
    // last one has ended.
    let (drained, drain) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    if !is_connection_error(&error) {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = take_slot(&slots, &registry).await else {
            tracing::warn!(%peer, max_connections = cap, "every connection is busy; refusing one");
            // Best effort: the socket is new, so its buffer has room.
            let _ = stream.try_write(BUSY_RESPONSE);
            continue;
        };
        let connection = Connection {
            router: router.clone(),
            limits,
            peer,
            slot,
            registry: registry.clone(),
            stopping: stopping.clone(),
            drain: drain.clone(),
        };
        tokio::spawn(connection.run(stream));
    }
    drop(listener);
    state.begin_shutdown();
    stop.send_replace(true);
    drop(drain);
    drained.closed().await;
    Ok(())
}

/// Raises the soft open-file limit to the hard one and returns the limit in
/// force.
fn raise_descriptor_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or_else(|error| {
        tracing::warn!(%error, "could not raise the open-file limit");
        rlimit::Resource::NOFILE
            .get()
            .map_or(FALLBACK_DESCRIPTORS, |(soft, _)| soft)
    })
}

/// Errors that concern one connection only, not the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// A free slot, or one freed by closing the connection that has waited
/// longest on its client; `None` when none frees up within [`SLOT_WAIT`].
async fn take_slot(slots: &Arc<Semaphore>, registry: &Registry) -> Option<OwnedSemaphorePermit> {
    if let Ok(slot) = slots.clone().try_acquire_owned() {
        return Some(slot);
    }
    registry.evict_longest_waiting();
    tokio::time::timeout(SLOT_WAIT, slots.clone().acquire_owned())
        .await
        .ok()?
        .ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    Body,
    Busy,
    Idle,
}

/// The phase of a connection, when it began, and since when a write has
/// been waiting for the client to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    phase: Phase,
    since: Instant,
    stalled: Option<Instant>,
}

/// What the listener knows of one connection, shared by its task, its IO,
/// the bodies of its request and response, and the registry.
struct Tracker {
    state: Mutex<State>,
    /// Wakes the watchdog when the phase changes.
    changed: Notify,
    /// Tells the connection to close now, to make room for a new one.
    evict: Notify,
}

impl Tracker {
    fn new() -> Self {
        Self {
            state: Mutex::new(State {
                phase: Phase::Head,
                since: Instant::now(),
                stalled: None,
            }),
            changed: Notify::new(),
            evict: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain data written whole, so a poisoned lock still
        // holds a valid one.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn enter(&self, phase: Phase) {
        let mut state = self.lock();
        state.phase = phase;
        state.since = Instant::now();
        drop(state);
        self.changed.notify_one();
    }

    /// Moves from `from` to `to`; nothing happens in any other phase.
    fn advance(&self, from: Phase, to: Phase) {
        let mut state = self.lock();
        if state.phase == from {
            state.phase = to;
            state.since = Instant::now();
            drop(state);
            self.changed.notify_one();
        }
    }

    /// Notes whether the last write had to wait for the client to read.
    fn write_blocked(&self, blocked: bool) {
        let mut state = self.lock();
        match (blocked, state.stalled) {
            (true, None) => {
                state.stalled = Some(Instant::now());
                drop(state);
                self.changed.notify_one();
            }
            // The watchdog sees a cleared stall when its deadline comes.
            (false, Some(_)) => state.stalled = None,
            _ => {}
        }
    }

    /// Since when the connection has been waiting on its client, if it is.
    fn waiting_since(&self) -> Option<Instant> {
        let state = *self.lock();
        (state.phase != Phase::Busy).then_some(state.since)
    }

    /// Resolves when the current phase outlives its deadline.
    async fn expired(&self, limits: &ConnectionLimits) {
        loop {
            // A change between reading the phase and awaiting this leaves a
            // permit in `changed`, so it is never missed.
            let changed = self.changed.notified();
            let current = *self.lock();
            let phase_deadline = match current.phase {
                Phase::Head => Some(current.since + limits.header_read_timeout),
                Phase::Body => Some(current.since + limits.body_read_timeout),
                Phase::Idle => Some(current.since + limits.idle_timeout),
                Phase::Busy => None,
            };
            let send_deadline = current.stalled.map(|since| since + limits.send_timeout);
            let Some(deadline) = phase_deadline.into_iter().chain(send_deadline).min() else {
                changed.await;
                continue;
            };
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {
                    if *self.lock() == current {
                        return;
                    }
                }
                () = changed => {}
            }
        }
    }
}

/// The live connections, for eviction at the cap.
#[derive(Default)]
struct Registry {
    live: Mutex<HashMap<u64, Arc<Tracker>>>,
    next_id: AtomicU64,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Tracker>>> {
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn add(self: &Arc<Self>, tracker: Arc<Tracker>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, tracker);
        Registration {
            registry: self.clone(),
            id,
        }
    }

    /// Closes the connection that has waited longest on its client. A scan
    /// of at most the cap, and only when the cap is reached.
    fn evict_longest_waiting(&self) {
        let mut live = self.lock();
        let oldest = live
            .iter()
            .filter_map(|(id, tracker)| tracker.waiting_since().map(|since| (since, *id)))
            .min();
        if let Some(tracker) = oldest.and_then(|(_, id)| live.remove(&id)) {
            tracing::debug!("connection cap reached; closing the longest-waiting connection");
            tracker.evict.notify_one();
        }
    }
}

/// Removes a connection from the registry when its task ends.
struct Registration {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

/// One accepted connection and what its task needs.
struct Connection {
    router: Router,
    limits: ConnectionLimits,
    peer: SocketAddr,
    /// Held until the connection closes.
    slot: OwnedSemaphorePermit,
    registry: Arc<Registry>,
    stopping: watch::Receiver<bool>,
    drain: watch::Receiver<()>,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let Self {
            router,
            limits,
            peer,
            slot,
            registry,
            mut stopping,
            drain,
        } = self;
        let tracker = Arc::new(Tracker::new());
        let _registration = registry.add(tracker.clone());
        let service = hyper::service::service_fn({
            let tracker = tracker.clone();
            move |request| handle(router.clone(), tracker.clone(), peer, request)
        });
        let io = TokioIo::new(TrackedIo {
            inner: stream,
            tracker: tracker.clone(),
        });
        let mut http = http1::Builder::new();
        http.header_read_timeout(None);
        let connection = http.serve_connection(io, service);
        tokio::pin!(connection);
        let expired = tracker.expired(&limits);
        tokio::pin!(expired);
        let evicted = tracker.evict.notified();
        tokio::pin!(evicted);
        let stop = stopping.wait_for(|stop| *stop);
        tokio::pin!(stop);
        let mut draining = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                    break;
                }
                () = &mut expired => {
                    tracing::debug!(%peer, "closing a connection whose client took too long");
                    break;
                }
                () = &mut evicted => break,
                _ = &mut stop, if !draining => {
                    connection.as_mut().graceful_shutdown();
                    draining = true;
                }
            }
        }
        drop((slot, drain));
    }
}

async fn handle(
    router: Router,
    tracker: Arc<Tracker>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    tracker.enter(if request.body().is_end_stream() {
        Phase::Busy
    } else {
        Phase::Body
    });
    let mut request = request.map(|body| {
        Body::new(RequestBody {
            inner: body,
            tracker: tracker.clone(),
        })
    });
    // What `into_make_service_with_connect_info` would add: the throttles
    // key on it.
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = router.oneshot(request).await?;
    Ok(response.map(|body| {
        Body::new(ResponseBody {
            inner: body,
            tracker,
        })
    }))
}

/// A request body that marks the connection busy once it has all arrived
/// (or once the handler lets go of it).
struct RequestBody {
    inner: Incoming,
    tracker: Arc<Tracker>,
}

impl HttpBody for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let finished = matches!(polled, Poll::Ready(None | Some(Err(_))));
        if finished || (polled.is_ready() && self.inner.is_end_stream()) {
            self.tracker.advance(Phase::Body, Phase::Busy);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        self.tracker.advance(Phase::Body, Phase::Busy);
    }
}

/// A response body that marks the connection idle once hyper is done with
/// it: sent in full, or abandoned because the client left.
struct ResponseBody {
    inner: Body,
    tracker: Arc<Tracker>,
}

impl HttpBody for ResponseBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        self.tracker.advance(Phase::Busy, Phase::Idle);
    }
}

/// The socket, noticing the first byte of a request after an idle spell and
/// writes the client leaves unread.
struct TrackedIo {
    inner: TcpStream,
    tracker: Arc<Tracker>,
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.tracker.advance(Phase::Idle, Phase::Head);
        }
        polled
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.tracker.write_blocked(polled.is_pending());
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.tracker.write_blocked(polled.is_pending());
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
