//! What the MCP endpoint shares between requests: a cheap `Clone` around
//! one `Arc`.
//!
//! Settings derived from the configuration, the Binance client (with its
//! cache), the authorization server the bearer gate asks, sessions (in
//! memory, or their records in the shared store) and the catalog of tools,
//! prompts and resources. A shutdown signal lets long-lived streams end so
//! a graceful shutdown can finish draining. Sessions read time from an
//! injected clock, so their expiry is tested without sleeping.

use std::collections::HashMap;
use std::future::Future;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::binance::{BinanceClient, CallerKey};
use crate::config::Settings;
use crate::oauth::OAuth;

use super::catalog::Catalog;
use super::session::SessionStore;

/// Where sessions read the time.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(Instant::now)
}

/// The share of the stream cap that streams without a session may take:
/// they never carry a notification, so they must not crowd out sessions.
const SESSIONLESS_SHARE: usize = 4;
/// The share of the stream cap one caller (a user, or an IP) may take, so
/// one client cannot hold every place (64 of the default 256)...
const CALLER_SHARE: usize = 4;
/// ...but never fewer than a client with two sessions uses.
const MIN_STREAMS_PER_CALLER: usize = 4;

#[derive(Clone)]
pub struct McpState {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub settings: Settings,
    pub binance: BinanceClient,
    /// The embedded authorization server; `None` with `--auth none`.
    pub oauth: Option<OAuth>,
    pub sessions: Arc<SessionStore>,
    pub catalog: Catalog,
    clock: Clock,
    shutdown: watch::Sender<bool>,
    /// Every open GET stream holds a place here (see `--max-streams`), and
    /// one without a session a place in `sessionless_streams` too.
    streams: Arc<Semaphore>,
    sessionless_streams: Arc<Semaphore>,
    streams_by_caller: Arc<CallerStreams>,
}

/// A GET stream's place under the caps, given back when the stream ends.
pub struct StreamPermit {
    _any: OwnedSemaphorePermit,
    _sessionless: Option<OwnedSemaphorePermit>,
    _caller: CallerPlace,
}

/// How many streams each caller holds; callers holding none are absent.
struct CallerStreams {
    per_caller: usize,
    held: Mutex<HashMap<CallerKey, usize>>,
}

impl CallerStreams {
    fn take(self: &Arc<Self>, caller: CallerKey) -> Option<CallerPlace> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(caller.clone()).or_default();
        if *count >= self.per_caller {
            return None;
        }
        *count += 1;
        Some(CallerPlace {
            streams: Arc::clone(self),
            caller,
        })
    }
}

/// One stream's place in its caller's share.
struct CallerPlace {
    streams: Arc<CallerStreams>,
    caller: CallerKey,
}

impl Drop for CallerPlace {
    fn drop(&mut self) {
        let mut held = self
            .streams
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.caller) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.caller);
            }
        }
    }
}

impl Deref for McpState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl McpState {
    /// The state for a server offering `catalog` (see [`crate::catalog`]),
    /// whose sessions (in memory, or [`SessionStore::shared`]) read time
    /// from `clock` (normally [`system_clock`]).
    pub fn new(
        settings: Settings,
        binance: BinanceClient,
        oauth: Option<OAuth>,
        catalog: Catalog,
        clock: Clock,
        sessions: SessionStore,
    ) -> Self {
        let streams = settings.max_streams;
        Self {
            inner: Arc::new(Inner {
                settings,
                binance,
                oauth,
                sessions: Arc::new(sessions),
                catalog,
                clock,
                shutdown: watch::channel(false).0,
                streams: Arc::new(Semaphore::new(streams)),
                sessionless_streams: Arc::new(Semaphore::new((streams / SESSIONLESS_SHARE).max(1))),
                streams_by_caller: Arc::new(CallerStreams {
                    per_caller: (streams / CALLER_SHARE).max(MIN_STREAMS_PER_CALLER),
                    held: Mutex::default(),
                }),
            }),
        }
    }

    pub fn now(&self) -> Instant {
        (self.clock)()
    }

    /// Tells long-lived streams to end; called when shutdown begins.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves once shutdown has begun.
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.shutdown.subscribe();
        async move {
            let _ = receiver.wait_for(|stopping| *stopping).await;
        }
    }

    /// A place for one more GET stream of `caller`, or `None` past the
    /// caller's share or the caps.
    pub fn stream_permit(&self, caller: CallerKey, with_session: bool) -> Option<StreamPermit> {
        let caller = self.streams_by_caller.take(caller)?;
        let sessionless = match with_session {
            true => None,
            false => Some(self.sessionless_streams.clone().try_acquire_owned().ok()?),
        };
        Some(StreamPermit {
            _any: self.streams.clone().try_acquire_owned().ok()?,
            _sessionless: sessionless,
            _caller: caller,
        })
    }
}
