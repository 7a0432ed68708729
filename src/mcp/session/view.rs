//! What a request learns about its session, and the limits every backend
//! keeps: shared by the memory and the Redis records.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::mcp::version::ProtocolVersion;

/// Live sessions kept at once; beyond this the least recently used one is
/// dropped (its client simply continues sessionless).
pub const MAX_SESSIONS: usize = 10_000;
/// Live sessions one caller (a user, or an IP) keeps at once: past it, its
/// own least recently used one goes, so one client cannot push everyone
/// else's sessions out of [`MAX_SESSIONS`].
pub const MAX_SESSIONS_PER_CALLER: usize = MAX_SESSIONS / 10;
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

/// The session store could not answer (a shared store that is down); the
/// request gets a JSON-RPC error, never a silent pass. The reason is for
/// the log.
#[derive(Debug, Clone)]
pub struct SessionError(pub String);

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "session store: {}", self.0)
    }
}
