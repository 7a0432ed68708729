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
//! The records are kept in this process, or (`--store redis://…`) in the
//! store every instance shares, so a session opened on one instance is
//! used and ended on another; GET streams stay with the instance holding
//! their connection. Time is passed in (`now`) so expiry is tested without
//! sleeping (the shared records expire by Redis TTLs).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::{broadcast, oneshot};

use super::version::ProtocolVersion;
use crate::binance::CallerKey;

mod shared;
mod view;
use shared::SharedSessions;
pub use view::{
    LogLevel, Lookup, MAX_SESSIONS, MAX_SESSIONS_PER_CALLER, MAX_STREAMS_PER_SESSION,
    MAX_SUBSCRIPTIONS, MAX_TERMINATED, SESSION_IDLE_TTL, SessionError, SessionView, TERMINATED_TTL,
};

/// Notifications buffered per session for slow GET streams; a lagging
/// stream skips ahead rather than holding memory.
const NOTIFICATION_BUFFER: usize = 32;

/// What a session remembers, when sessions are kept in this process.
struct Record {
    caller: CallerKey,
    version: ProtocolVersion,
    log_level: Option<LogLevel>,
    last_seen: Instant,
    subscriptions: HashSet<String>,
}

/// The GET streams of a session open on this instance (a stream is a
/// connection, so it never leaves the instance that holds it).
struct Streams {
    notifications: broadcast::Sender<Arc<str>>,
    open: Vec<(u64, oneshot::Sender<()>)>,
}

#[derive(Default)]
struct Sessions {
    /// Empty when the records are shared ([`SharedSessions`]).
    records: HashMap<Arc<str>, Record>,
    /// How many of `records` each caller has; callers with none are absent.
    per_caller: HashMap<CallerKey, usize>,
    terminated: HashMap<Arc<str>, Instant>,
    streams: HashMap<Arc<str>, Streams>,
    next_stream: u64,
}

impl Sessions {
    fn insert(&mut self, id: Arc<str>, record: Record) {
        *self.per_caller.entry(record.caller.clone()).or_default() += 1;
        self.records.insert(id, record);
    }

    /// Takes a record out, keeping the per-caller counts.
    fn remove_record(&mut self, id: &str) -> Option<(Arc<str>, Record)> {
        let (key, record) = self.records.remove_entry(id)?;
        if let Some(count) = self.per_caller.get_mut(&record.caller) {
            *count -= 1;
            if *count == 0 {
                self.per_caller.remove(&record.caller);
            }
        }
        Some((key, record))
    }

    /// Forgets a record, and closes its streams here.
    fn drop_session(&mut self, id: &str) {
        self.remove_record(id);
        self.streams.remove(id);
    }

    /// Drops the least recently used of the sessions `which` picks.
    fn drop_least_recent(&mut self, which: impl Fn(&Record) -> bool) {
        let oldest = self
            .records
            .iter()
            .filter(|(_, s)| which(s))
            .min_by_key(|(_, s)| s.last_seen)
            .map(|(id, _)| id.clone());
        if let Some(id) = oldest {
            self.drop_session(&id);
        }
    }
}

/// Sessions in this process (the default), or with their records in the
/// store every instance shares, so a session opened on one instance is
/// known (used, ended) on every other.
#[derive(Default)]
pub struct SessionStore {
    sessions: Mutex<Sessions>,
    shared: Option<SharedSessions>,
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
        if let Some(streams) = sessions.streams.get_mut(&self.session) {
            streams.open.retain(|(id, _)| *id != self.stream);
            if streams.open.is_empty() {
                sessions.streams.remove(&self.session);
            }
        }
    }
}

impl SessionStore {
    /// Sessions whose records live in the shared store.
    pub fn shared(redis: crate::shared::redis::Redis) -> Self {
        SessionStore {
            sessions: Mutex::default(),
            shared: Some(SharedSessions::new(redis)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Sessions> {
        // A panic while holding the lock cannot leave the maps half-updated
        // in a way that matters more than losing every session.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the store answered lately (`/healthz`).
    pub fn healthy(&self) -> bool {
        self.shared.as_ref().is_none_or(SharedSessions::healthy)
    }

    pub async fn create(
        &self,
        version: ProtocolVersion,
        caller: &CallerKey,
        now: Instant,
    ) -> Result<Arc<str>, SessionError> {
        let id: Arc<str> = uuid::Uuid::new_v4().simple().to_string().into();
        if let Some(shared) = &self.shared {
            shared.create(&id, version, caller).await?;
            return Ok(id);
        }
        let mut sessions = self.lock();
        if sessions.per_caller.get(caller).copied().unwrap_or(0) >= MAX_SESSIONS_PER_CALLER {
            sessions.drop_least_recent(|s| s.caller == *caller);
        }
        if sessions.records.len() >= MAX_SESSIONS {
            let idle: Vec<Arc<str>> = sessions
                .records
                .iter()
                .filter(|(_, s)| now.duration_since(s.last_seen) >= SESSION_IDLE_TTL)
                .map(|(id, _)| id.clone())
                .collect();
            for id in idle {
                sessions.drop_session(&id);
            }
        }
        if sessions.records.len() >= MAX_SESSIONS {
            sessions.drop_least_recent(|_| true);
        }
        sessions.insert(
            id.clone(),
            Record {
                caller: caller.clone(),
                version,
                log_level: None,
                last_seen: now,
                subscriptions: HashSet::new(),
            },
        );
        Ok(id)
    }

    pub async fn lookup(&self, id: &str, now: Instant) -> Result<Lookup, SessionError> {
        if let Some(shared) = &self.shared {
            return shared.lookup(id).await;
        }
        let mut sessions = self.lock();
        if let Some(ended) = sessions.terminated.get(id) {
            if now.duration_since(*ended) < TERMINATED_TTL {
                return Ok(Lookup::Terminated);
            }
            sessions.terminated.remove(id);
            return Ok(Lookup::Unknown);
        }
        let Some((key, session)) = sessions.records.get_key_value(id) else {
            return Ok(Lookup::Unknown);
        };
        let key = key.clone();
        if now.duration_since(session.last_seen) >= SESSION_IDLE_TTL {
            sessions.drop_session(&key);
            return Ok(Lookup::Unknown);
        }
        let Some(session) = sessions.records.get_mut(&key) else {
            return Ok(Lookup::Unknown);
        };
        session.last_seen = now;
        Ok(Lookup::Live(SessionView {
            id: key,
            version: session.version,
            log_level: session.log_level,
        }))
    }

    /// Ends a session; returns false when the id was not live.
    pub async fn terminate(&self, id: &str, now: Instant) -> Result<bool, SessionError> {
        if let Some(shared) = &self.shared {
            let ended = shared.terminate(id).await?;
            self.lock().streams.remove(id);
            return Ok(ended);
        }
        let mut sessions = self.lock();
        let Some((key, _)) = sessions.remove_record(id) else {
            return Ok(false);
        };
        sessions.streams.remove(id);
        if sessions.terminated.len() >= MAX_TERMINATED {
            sessions
                .terminated
                .retain(|_, ended| now.duration_since(*ended) < TERMINATED_TTL);
        }
        if sessions.terminated.len() < MAX_TERMINATED {
            sessions.terminated.insert(key, now);
        }
        Ok(true)
    }

    pub async fn set_log_level(&self, id: &str, level: LogLevel) -> Result<(), SessionError> {
        if let Some(shared) = &self.shared {
            return shared.set_log_level(id, level).await;
        }
        if let Some(session) = self.lock().records.get_mut(id) {
            session.log_level = Some(level);
        }
        Ok(())
    }

    /// Records a subscription; false when the session is at its limit.
    pub async fn subscribe(&self, id: &str, uri: &str) -> Result<bool, SessionError> {
        if let Some(shared) = &self.shared {
            return shared.subscribe(id, uri).await;
        }
        let mut sessions = self.lock();
        let Some(session) = sessions.records.get_mut(id) else {
            return Ok(true);
        };
        if session.subscriptions.len() >= MAX_SUBSCRIPTIONS && !session.subscriptions.contains(uri)
        {
            return Ok(false);
        }
        session.subscriptions.insert(uri.to_owned());
        Ok(true)
    }

    pub async fn unsubscribe(&self, id: &str, uri: &str) -> Result<(), SessionError> {
        if let Some(shared) = &self.shared {
            return shared.unsubscribe(id, uri).await;
        }
        if let Some(session) = self.lock().records.get_mut(id) {
            session.subscriptions.remove(uri);
        }
        Ok(())
    }

    /// Sends `message` to the GET streams, on this instance, of every
    /// session subscribed to `uri`; returns how many sessions it reached.
    pub async fn publish_resource_update(
        &self,
        uri: &str,
        message: &Arc<str>,
    ) -> Result<usize, SessionError> {
        let listening: Vec<(Arc<str>, broadcast::Sender<Arc<str>>)> = self
            .lock()
            .streams
            .iter()
            .map(|(id, s)| (id.clone(), s.notifications.clone()))
            .collect();
        let mut reached = 0;
        for (id, notifications) in listening {
            let subscribed = match &self.shared {
                Some(shared) => shared.is_subscribed(&id, uri).await?,
                None => self
                    .lock()
                    .records
                    .get(&id)
                    .is_some_and(|s| s.subscriptions.contains(uri)),
            };
            if subscribed && notifications.send(message.clone()).is_ok() {
                reached += 1;
            }
        }
        Ok(reached)
    }

    /// Registers a GET stream of a live session, displacing the session's
    /// oldest stream when it already has [`MAX_STREAMS_PER_SESSION`].
    pub fn open_stream(self: &Arc<Self>, session: &SessionView) -> StreamRegistration {
        let mut sessions = self.lock();
        sessions.next_stream += 1;
        let stream = sessions.next_stream;
        let streams = sessions
            .streams
            .entry(session.id.clone())
            .or_insert_with(|| Streams {
                notifications: broadcast::channel(NOTIFICATION_BUFFER).0,
                open: Vec::new(),
            });
        let notifications = streams.notifications.subscribe();
        while streams.open.len() >= MAX_STREAMS_PER_SESSION {
            let (_, displace) = streams.open.remove(0);
            let _ = displace.send(());
        }
        let (tx, displaced) = oneshot::channel();
        streams.open.push((stream, tx));
        StreamRegistration {
            notifications,
            displaced,
            slot: StreamSlot {
                store: self.clone(),
                session: session.id.clone(),
                stream,
            },
        }
    }

    #[cfg(test)]
    fn live_count(&self) -> usize {
        self.lock().records.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis_server::RedisServer;
    use crate::shared::redis::Redis;
    use std::time::Duration;

    fn live(lookup: Result<Lookup, SessionError>) -> SessionView {
        match lookup {
            Ok(Lookup::Live(view)) => view,
            _ => panic!("expected a live session"),
        }
    }

    const V: ProtocolVersion = ProtocolVersion::V2025_11_25;

    fn me() -> CallerKey {
        CallerKey::ip("127.0.0.1")
    }

    /// The memory store, and (when redis-server is there) two stores on one
    /// Redis, as two instances would have.
    fn backends() -> Vec<(Arc<SessionStore>, Arc<SessionStore>)> {
        let memory = Arc::new(SessionStore::default());
        let mut all = vec![(memory.clone(), memory)];
        if let Some(server) = RedisServer::shared() {
            let prefix = format!("t{}:", crate::oauth::tokens::random_id());
            let one = || Arc::new(SessionStore::shared(Redis::lazy(&server.url(), &prefix)));
            all.push((one(), one()));
        }
        all
    }

    #[tokio::test]
    async fn a_session_remembers_its_version_and_log_level_everywhere() {
        for (a, b) in backends() {
            let now = Instant::now();
            let id = a
                .create(ProtocolVersion::V2025_06_18, &me(), now)
                .await
                .unwrap();
            b.set_log_level(&id, LogLevel::Warning).await.unwrap();
            let view = live(a.lookup(&id, now).await);
            assert_eq!(view.version, ProtocolVersion::V2025_06_18);
            assert_eq!(view.log_level, Some(LogLevel::Warning));
            assert!(matches!(b.lookup("nope", now).await, Ok(Lookup::Unknown)));
        }
    }

    #[tokio::test]
    async fn an_ended_session_answers_terminated_everywhere() {
        for (a, b) in backends() {
            let t0 = Instant::now();
            let id = a.create(V, &me(), t0).await.unwrap();
            live(b.lookup(&id, t0).await);
            assert!(b.terminate(&id, t0).await.unwrap());
            assert!(!a.terminate(&id, t0).await.unwrap(), "already ended");
            assert!(matches!(a.lookup(&id, t0).await, Ok(Lookup::Terminated)));
            assert!(matches!(b.lookup(&id, t0).await, Ok(Lookup::Terminated)));
        }
    }

    #[tokio::test]
    async fn subscriptions_are_bounded_per_session() {
        for (a, b) in backends() {
            let id = a.create(V, &me(), Instant::now()).await.unwrap();
            for i in 0..MAX_SUBSCRIPTIONS {
                assert!(a.subscribe(&id, &format!("test://{i}")).await.unwrap());
            }
            assert!(!b.subscribe(&id, "test://one-more").await.unwrap());
            assert!(b.subscribe(&id, "test://0").await.unwrap(), "already in");
            b.unsubscribe(&id, "test://0").await.unwrap();
            assert!(a.subscribe(&id, "test://one-more").await.unwrap());
        }
    }

    #[tokio::test]
    async fn a_new_stream_displaces_the_oldest() {
        for (store, _) in backends() {
            let id = store.create(V, &me(), Instant::now()).await.unwrap();
            let view = live(store.lookup(&id, Instant::now()).await);
            let mut first = store.open_stream(&view);
            let _second = store.open_stream(&view);
            assert!(
                first.displaced.try_recv().is_err(),
                "still within the bound"
            );
            let _third = store.open_stream(&view);
            assert!(first.displaced.try_recv().is_ok(), "oldest closed");
        }
    }

    #[tokio::test]
    async fn resource_updates_reach_subscribers_only() {
        for (store, _) in backends() {
            let now = Instant::now();
            let watching = store.create(V, &me(), now).await.unwrap();
            let idle = store.create(V, &me(), now).await.unwrap();
            assert!(store.subscribe(&watching, "test://r").await.unwrap());
            let mut stream = store.open_stream(&live(store.lookup(&watching, now).await));
            let mut idle_stream = store.open_stream(&live(store.lookup(&idle, now).await));
            let message: Arc<str> = "update".into();
            let reached = store.publish_resource_update("test://r", &message).await;
            assert_eq!(reached.unwrap(), 1);
            assert_eq!(stream.notifications.try_recv().expect("delivered"), message);
            assert!(idle_stream.notifications.try_recv().is_err());
            store.unsubscribe(&watching, "test://r").await.unwrap();
            let reached = store.publish_resource_update("test://r", &message).await;
            assert_eq!(reached.unwrap(), 0);
        }
    }

    #[tokio::test]
    async fn a_store_that_cannot_answer_is_an_error_not_a_pass() {
        // Nothing listens on port 9.
        let store = SessionStore::shared(Redis::lazy("redis://127.0.0.1:9/", "t:"));
        let now = Instant::now();
        assert!(store.create(V, &me(), now).await.is_err());
        assert!(store.lookup("id", now).await.is_err());
        assert!(store.terminate("id", now).await.is_err());
        assert!(store.subscribe("id", "test://r").await.is_err());
    }

    #[tokio::test]
    async fn sessions_expire_when_idle() {
        let store = SessionStore::default();
        let t0 = Instant::now();
        let id = store.create(V, &me(), t0).await.unwrap();
        live(store.lookup(&id, t0 + SESSION_IDLE_TTL / 2).await);
        // Touching renewed it, so it is still live one TTL after creation.
        live(store.lookup(&id, t0 + SESSION_IDLE_TTL).await);
        assert!(matches!(
            store.lookup(&id, t0 + SESSION_IDLE_TTL * 3).await,
            Ok(Lookup::Unknown)
        ));
        assert_eq!(store.live_count(), 0);
    }

    #[tokio::test]
    async fn terminated_ids_fade() {
        let store = SessionStore::default();
        let t0 = Instant::now();
        let id = store.create(V, &me(), t0).await.unwrap();
        assert!(store.terminate(&id, t0).await.unwrap());
        assert!(matches!(
            store.lookup(&id, t0 + TERMINATED_TTL).await,
            Ok(Lookup::Unknown)
        ));
    }

    #[tokio::test]
    async fn one_caller_pushes_out_only_its_own_sessions() {
        for (a, b) in backends() {
            let t0 = Instant::now();
            let theirs = a.create(V, &CallerKey::ip("127.0.0.2"), t0).await.unwrap();
            let mut mine = Vec::new();
            for i in 1..=MAX_SESSIONS_PER_CALLER {
                let at = t0 + Duration::from_millis(i as u64);
                mine.push(a.create(V, &me(), at).await.unwrap());
            }
            let later = t0 + Duration::from_secs(60);
            let newest = b.create(V, &me(), later).await.unwrap();
            live(a.lookup(&theirs, later).await);
            live(a.lookup(&newest, later).await);
            let mut gone = 0;
            for id in &mine {
                if matches!(b.lookup(id, later).await, Ok(Lookup::Unknown)) {
                    gone += 1;
                }
            }
            assert_eq!(gone, 1, "exactly one of the caller's own went");
        }
    }

    #[tokio::test]
    async fn the_number_of_sessions_is_bounded() {
        let store = SessionStore::default();
        let t0 = Instant::now();
        let first = store.create(V, &me(), t0).await.unwrap();
        // Spread over callers, each well within its own share.
        for i in 1..=MAX_SESSIONS {
            let caller = CallerKey::ip(&format!("10.0.0.{}", i % 20));
            store
                .create(V, &caller, t0 + Duration::from_millis(i as u64))
                .await
                .unwrap();
        }
        assert_eq!(store.live_count(), MAX_SESSIONS);
        assert!(
            matches!(store.lookup(&first, t0).await, Ok(Lookup::Unknown)),
            "oldest evicted"
        );
    }

    #[test]
    fn log_levels_order_by_severity() {
        assert!(LogLevel::Debug < LogLevel::Info);
        assert!(LogLevel::Warning < LogLevel::Emergency);
        assert_eq!(LogLevel::parse("notice"), Some(LogLevel::Notice));
        assert_eq!(LogLevel::parse("loud"), None);
    }
}
