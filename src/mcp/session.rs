//! Handshake-era sessions: bounded, idle-expiring, never required.
//!
//! `initialize` mints an `Mcp-Session-Id`, but ChatGPT does not always send
//! it back, so no request depends on one: a session only remembers the
//! negotiated version, the `logging/setLevel` level, resource subscriptions
//! and the GET notification streams. An id we no longer know (expired, or
//! issued before a restart) is served as sessionless rather than answered
//! with 404, so a client returning after a long idle never loops; only ids
//! the client itself ended with DELETE get 404, as the spec requires.
//!
//! Time is passed in (`now`) so expiry is tested without sleeping.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::{broadcast, oneshot};

use super::version::ProtocolVersion;

/// Live sessions kept at once; beyond this the least recently used one is
/// dropped (its client simply continues sessionless).
pub const MAX_SESSIONS: usize = 10_000;
/// A session unused this long is forgotten. ChatGPT has been seen idling
/// for two hours between calls; forgetting costs it nothing since sessions
/// are optional.
pub const SESSION_IDLE_TTL: Duration = Duration::from_secs(60 * 60);
/// How long a DELETEd id keeps answering 404, and how many we remember.
pub const TERMINATED_TTL: Duration = Duration::from_secs(60 * 60);
pub const MAX_TERMINATED: usize = 10_000;
/// GET notification streams per session; opening one more closes the
/// oldest instead of refusing, so a reconnecting client never sees a 4xx.
pub const MAX_STREAMS_PER_SESSION: usize = 2;
/// Resource subscriptions per session.
pub const MAX_SUBSCRIPTIONS: usize = 64;
/// Notifications buffered per session for slow GET streams; a lagging
/// stream skips ahead rather than holding memory.
const NOTIFICATION_BUFFER: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
            Self::Alert => "alert",
            Self::Emergency => "emergency",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
    }
}

/// What a request needs to know about its session.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub id: Arc<str>,
    pub version: ProtocolVersion,
    pub log_level: Option<LogLevel>,
}

pub enum Lookup {
    Live(SessionView),
    /// Ended by DELETE: the spec requires 404.
    Terminated,
    /// Never issued, expired or evicted: serve without a session.
    Unknown,
}

struct Session {
    version: ProtocolVersion,
    log_level: Option<LogLevel>,
    last_seen: Instant,
    subscriptions: HashSet<String>,
    notifications: broadcast::Sender<Arc<str>>,
    streams: Vec<(u64, oneshot::Sender<()>)>,
}

#[derive(Default)]
struct Sessions {
    live: HashMap<Arc<str>, Session>,
    terminated: HashMap<Arc<str>, Instant>,
    next_stream: u64,
}

#[derive(Default)]
pub struct SessionStore {
    sessions: Mutex<Sessions>,
}

/// A GET stream's registration: it yields the session's notifications and
/// resolves `closed` when a newer stream displaces it.
pub struct StreamRegistration {
    pub notifications: broadcast::Receiver<Arc<str>>,
    pub displaced: oneshot::Receiver<()>,
    pub slot: StreamSlot,
}

/// Frees a stream's place in its session when the stream ends.
pub struct StreamSlot {
    store: Arc<SessionStore>,
    session: Arc<str>,
    stream: u64,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut sessions = self.store.lock();
        if let Some(session) = sessions.live.get_mut(&self.session) {
            session.streams.retain(|(id, _)| *id != self.stream);
        }
    }
}

impl SessionStore {
    fn lock(&self) -> MutexGuard<'_, Sessions> {
        // A panic while holding the lock cannot leave the maps half-updated
        // in a way that matters more than losing every session.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn create(&self, version: ProtocolVersion, now: Instant) -> Arc<str> {
        let id: Arc<str> = uuid::Uuid::new_v4().simple().to_string().into();
        let mut sessions = self.lock();
        if sessions.live.len() >= MAX_SESSIONS {
            sessions
                .live
                .retain(|_, s| now.duration_since(s.last_seen) < SESSION_IDLE_TTL);
        }
        if sessions.live.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .live
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(id, _)| id.clone())
        {
            sessions.live.remove(&oldest);
        }
        sessions.live.insert(
            id.clone(),
            Session {
                version,
                log_level: None,
                last_seen: now,
                subscriptions: HashSet::new(),
                notifications: broadcast::channel(NOTIFICATION_BUFFER).0,
                streams: Vec::new(),
            },
        );
        id
    }

    pub fn lookup(&self, id: &str, now: Instant) -> Lookup {
        let mut sessions = self.lock();
        if let Some(ended) = sessions.terminated.get(id) {
            if now.duration_since(*ended) < TERMINATED_TTL {
                return Lookup::Terminated;
            }
            sessions.terminated.remove(id);
            return Lookup::Unknown;
        }
        let Some((key, session)) = sessions.live.get_key_value(id) else {
            return Lookup::Unknown;
        };
        if now.duration_since(session.last_seen) >= SESSION_IDLE_TTL {
            let key = key.clone();
            sessions.live.remove(&key);
            return Lookup::Unknown;
        }
        let key = key.clone();
        let Some(session) = sessions.live.get_mut(&key) else {
            return Lookup::Unknown;
        };
        session.last_seen = now;
        Lookup::Live(SessionView {
            id: key,
            version: session.version,
            log_level: session.log_level,
        })
    }

    /// Ends a session; returns false when the id was not live.
    pub fn terminate(&self, id: &str, now: Instant) -> bool {
        let mut sessions = self.lock();
        let Some((key, _)) = sessions.live.remove_entry(id) else {
            return false;
        };
        if sessions.terminated.len() >= MAX_TERMINATED {
            sessions
                .terminated
                .retain(|_, ended| now.duration_since(*ended) < TERMINATED_TTL);
        }
        if sessions.terminated.len() < MAX_TERMINATED {
            sessions.terminated.insert(key, now);
        }
        true
    }

    pub fn set_log_level(&self, id: &str, level: LogLevel) {
        if let Some(session) = self.lock().live.get_mut(id) {
            session.log_level = Some(level);
        }
    }

    /// Records a subscription; false when the session is at its limit.
    pub fn subscribe(&self, id: &str, uri: &str) -> bool {
        let mut sessions = self.lock();
        let Some(session) = sessions.live.get_mut(id) else {
            return true;
        };
        if session.subscriptions.len() >= MAX_SUBSCRIPTIONS && !session.subscriptions.contains(uri)
        {
            return false;
        }
        session.subscriptions.insert(uri.to_owned());
        true
    }

    pub fn unsubscribe(&self, id: &str, uri: &str) {
        if let Some(session) = self.lock().live.get_mut(id) {
            session.subscriptions.remove(uri);
        }
    }

    /// Sends `message` to the GET streams of every session subscribed to
    /// `uri`; returns how many sessions it reached.
    pub fn publish_resource_update(&self, uri: &str, message: &Arc<str>) -> usize {
        self.lock()
            .live
            .values()
            .filter(|s| s.subscriptions.contains(uri))
            .filter(|s| s.notifications.send(message.clone()).is_ok())
            .count()
    }

    /// Registers a GET stream, displacing the session's oldest stream when
    /// it already has [`MAX_STREAMS_PER_SESSION`].
    pub fn open_stream(self: &Arc<Self>, id: &str) -> Option<StreamRegistration> {
        let mut sessions = self.lock();
        sessions.next_stream += 1;
        let stream = sessions.next_stream;
        let (key, session) = sessions.live.get_key_value(id)?;
        let key = key.clone();
        let notifications = session.notifications.subscribe();
        let session = sessions.live.get_mut(&key)?;
        while session.streams.len() >= MAX_STREAMS_PER_SESSION {
            let (_, displace) = session.streams.remove(0);
            let _ = displace.send(());
        }
        let (tx, displaced) = oneshot::channel();
        session.streams.push((stream, tx));
        Some(StreamRegistration {
            notifications,
            displaced,
            slot: StreamSlot {
                store: self.clone(),
                session: key,
                stream,
            },
        })
    }

    #[cfg(test)]
    fn live_count(&self) -> usize {
        self.lock().live.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(lookup: Lookup) -> SessionView {
        match lookup {
            Lookup::Live(view) => view,
            _ => panic!("expected a live session"),
        }
    }

    #[test]
    fn sessions_expire_when_idle() {
        let store = SessionStore::default();
        let t0 = Instant::now();
        let id = store.create(ProtocolVersion::V2025_11_25, t0);
        live(store.lookup(&id, t0 + SESSION_IDLE_TTL / 2));
        // Touching renewed it, so it is still live one TTL after creation.
        live(store.lookup(&id, t0 + SESSION_IDLE_TTL));
        assert!(matches!(
            store.lookup(&id, t0 + SESSION_IDLE_TTL * 3),
            Lookup::Unknown
        ));
        assert_eq!(store.live_count(), 0);
    }

    #[test]
    fn terminated_ids_answer_terminated_then_fade() {
        let store = SessionStore::default();
        let t0 = Instant::now();
        let id = store.create(ProtocolVersion::V2025_06_18, t0);
        assert!(store.terminate(&id, t0));
        assert!(!store.terminate(&id, t0), "already ended");
        assert!(matches!(store.lookup(&id, t0), Lookup::Terminated));
        assert!(matches!(
            store.lookup(&id, t0 + TERMINATED_TTL),
            Lookup::Unknown
        ));
    }

    #[test]
    fn the_number_of_sessions_is_bounded() {
        let store = SessionStore::default();
        let t0 = Instant::now();
        let first = store.create(ProtocolVersion::V2025_11_25, t0);
        for i in 1..=MAX_SESSIONS {
            store.create(
                ProtocolVersion::V2025_11_25,
                t0 + Duration::from_millis(i as u64),
            );
        }
        assert_eq!(store.live_count(), MAX_SESSIONS);
        assert!(
            matches!(store.lookup(&first, t0), Lookup::Unknown),
            "oldest evicted"
        );
    }

    #[test]
    fn a_new_stream_displaces_the_oldest() {
        let store = Arc::new(SessionStore::default());
        let id = store.create(ProtocolVersion::V2025_11_25, Instant::now());
        let mut first = store.open_stream(&id).expect("live session");
        let _second = store.open_stream(&id).expect("live session");
        assert!(
            first.displaced.try_recv().is_err(),
            "still within the bound"
        );
        let _third = store.open_stream(&id).expect("live session");
        assert!(first.displaced.try_recv().is_ok(), "oldest closed");
        assert!(store.open_stream("unknown").is_none());
    }

    #[test]
    fn resource_updates_reach_subscribers_only() {
        let store = Arc::new(SessionStore::default());
        let now = Instant::now();
        let watching = store.create(ProtocolVersion::V2025_11_25, now);
        let idle = store.create(ProtocolVersion::V2025_11_25, now);
        assert!(store.subscribe(&watching, "test://r"));
        let mut stream = store.open_stream(&watching).expect("live");
        let mut idle_stream = store.open_stream(&idle).expect("live");
        let message: Arc<str> = "update".into();
        assert_eq!(store.publish_resource_update("test://r", &message), 1);
        assert_eq!(stream.notifications.try_recv().expect("delivered"), message);
        assert!(idle_stream.notifications.try_recv().is_err());
        store.unsubscribe(&watching, "test://r");
        assert_eq!(store.publish_resource_update("test://r", &message), 0);
    }

    #[test]
    fn log_levels_order_by_severity() {
        assert!(LogLevel::Debug < LogLevel::Info);
        assert!(LogLevel::Warning < LogLevel::Emergency);
        assert_eq!(LogLevel::parse("notice"), Some(LogLevel::Notice));
        assert_eq!(LogLevel::parse("loud"), None);
    }
}
