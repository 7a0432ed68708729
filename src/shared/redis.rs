//! The one connection to the shared Redis, used by every backend that keeps
//! state there.
//!
//! One multiplexed connection (redis-rs's `ConnectionManager`) serves every
//! request concurrently, so there is no pool; it reconnects by itself after
//! the server comes back. Every state transition is one Lua script, atomic
//! in Redis (never `WATCH`/`MULTI`, whose state belongs to a connection that
//! all tasks share). Only Redis 6.2 commands are used, which Upstash serves.
//!
//! Failures are never waited out: an operation that cannot finish within
//! [`OP_TIMEOUT`] fails, and the caller answers 503 (OAuth) or a JSON-RPC
//! error. A background task pings every [`HEALTH_INTERVAL`], so `/healthz`
//! can report the store without sending it traffic per request, and so a
//! dead connection is replaced even while no request comes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, RedisError, Script, ScriptInvocation};

use super::{RedisUrl, StorePrefix};

/// The server must be reachable within this long at start-up, or the
/// process stops (a deploy that cannot reach its store must fail loudly,
/// never fall back to memory and split the instances' state).
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(4);
/// One connection attempt (TCP + TLS + AUTH) may take this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest one operation may take, waiting for a reconnect included. A
/// request is never held longer than this on a store that is down.
pub const OP_TIMEOUT: Duration = Duration::from_secs(2);
/// Reply timeout of one command on a live connection: a loopback or
/// same-region round trip is well under a millisecond.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(1500);
/// How often the background task checks the connection.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(2);
/// The layout of our keys. A store written by a newer layout is refused,
/// never silently misread.
const SCHEMA: &str = "1";

/// Why the store could not be used at start-up.
#[derive(Debug)]
pub enum ConnectError {
    Unreachable(RedisError),
    TimedOut,
    CaFile(std::io::Error),
    Schema(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Unreachable(e) => write!(f, "unreachable: {e}"),
            ConnectError::TimedOut => {
                write!(f, "no answer within {} s", CONNECT_DEADLINE.as_secs_f32())
            }
            ConnectError::CaFile(e) => write!(f, "cannot read --store-ca-file: {e}"),
            ConnectError::Schema(v) => write!(
                f,
                "holds state of a newer crypto-mcp (layout {v}, this one reads {SCHEMA}); upgrade"
            ),
        }
    }
}

/// The shared connection: cheap to clone.
#[derive(Clone)]
pub struct Redis {
    conn: ConnectionManager,
    prefix: Arc<str>,
    healthy: Arc<AtomicBool>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Connects, checks the key layout and starts the health task. `ca` is
    /// a PEM bundle to trust instead of the public roots (a self-hosted
    /// server with a private CA).
    pub async fn connect(
        url: &RedisUrl,
        prefix: &StorePrefix,
        ca: Option<&std::path::Path>,
    ) -> Result<Self, ConnectError> {
        let redis = tokio::time::timeout(CONNECT_DEADLINE, Self::open(url, prefix, ca))
            .await
            .map_err(|_| ConnectError::TimedOut)??;
        redis.spawn_health_task();
        Ok(redis)
    }

    async fn open(
        url: &RedisUrl,
        prefix: &StorePrefix,
        ca: Option<&std::path::Path>,
    ) -> Result<Self, ConnectError> {
        let client = match ca {
            Some(path) => {
                let pem = std::fs::read(path).map_err(ConnectError::CaFile)?;
                redis::Client::build_with_tls(
                    url.connection_string(),
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem),
                    },
                )
            }
            None => redis::Client::open(url.connection_string()),
        }
        .map_err(ConnectError::Unreachable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            // Retry once, quickly: a request waits for the reconnect, and
            // it must fail within OP_TIMEOUT rather than hang.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(250));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(ConnectError::Unreachable)?;
        let redis = Redis {
            conn,
            prefix: prefix.as_str().into(),
            healthy: Arc::new(AtomicBool::new(true)),
        };
        let script = Script::new(
            "redis.call('SET', KEYS[1], ARGV[1], 'NX') return redis.call('GET', KEYS[1])",
        );
        let mut call = script.key(redis.key("schema"));
        call.arg(SCHEMA);
        let schema: String = redis.run(&call).await.map_err(ConnectError::Unreachable)?;
        if schema != SCHEMA {
            return Err(ConnectError::Schema(schema));
        }
        Ok(redis)
    }

    /// A connection made on first use, for the store tests (which may not
    /// await in their constructors).
    #[cfg(test)]
    pub(crate) fn lazy(url: &str, prefix: &str) -> Self {
        let client = redis::Client::open(url).expect("test redis URL");
        let config = ConnectionManagerConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
        Redis {
            conn: ConnectionManager::new_lazy_with_config(client, config).expect("lazy connection"),
            prefix: prefix.into(),
            healthy: Arc::new(AtomicBool::new(true)),
        }
    }

    /// The configured prefix, which every key starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `prefix + name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Runs a script (EVALSHA, loading it on first use) within [`OP_TIMEOUT`].
    pub async fn run<T: FromRedisValue>(
        &self,
        call: &ScriptInvocation<'_>,
    ) -> Result<T, RedisError> {
        let mut conn = self.conn.clone();
        let result = match tokio::time::timeout(OP_TIMEOUT, call.invoke_async(&mut conn)).await {
            Ok(result) => result,
            Err(_) => Err(timed_out()),
        };
        self.note(&result);
        result
    }

    /// Runs one command within [`OP_TIMEOUT`].
    pub async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, RedisError> {
        let mut conn = self.conn.clone();
        let result = match tokio::time::timeout(OP_TIMEOUT, cmd.query_async(&mut conn)).await {
            Ok(result) => result,
            Err(_) => Err(timed_out()),
        };
        self.note(&result);
        result
    }

    /// A lost connection shows in `/healthz` at once, not at the next ping.
    fn note<T>(&self, result: &Result<T, RedisError>) {
        if let Err(e) = result
            && (e.is_io_error() || e.is_timeout() || e.is_connection_dropped())
        {
            self.healthy.store(false, Ordering::Relaxed);
        }
    }

    /// What the health task saw last: `false` after a failed ping or a
    /// failed operation, until a ping succeeds again.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    async fn ping(&self) -> bool {
        let pong: Result<String, _> = self.query(&redis::cmd("PING")).await;
        pong.is_ok()
    }

    fn spawn_health_task(&self) {
        let conn = self.clone();
        // Holding only a weak link would need the manager's internals; the
        // task instead stops with the runtime, as the server does.
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEALTH_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let up = conn.ping().await;
                let was = conn.healthy.swap(up, Ordering::Relaxed);
                if up != was {
                    if up {
                        tracing::info!("store reachable again");
                    } else {
                        tracing::warn!("store unreachable; requests needing it get 503");
                    }
                }
            }
        });
    }
}

fn timed_out() -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "store operation timed out",
    ))
}
