//! Session records in the shared Redis, so that a handshake-era session
//! opened on one instance is served, and ended, on every other.
//!
//! A record is a hash (`mcp-sess:<id>`: version, log level) beside a set of
//! subscribed URIs (`mcp-subs:<id>`), both with a TTL that every use slides
//! ([`SESSION_IDLE_TTL`]); an id ended by DELETE leaves `mcp-end:<id>` for
//! [`TERMINATED_TTL`], so every instance answers 404 for it. The number of
//! records is bounded as in memory: an index of ids by last use
//! (`idx:mcp-sessions`) drops the least recently used past
//! [`MAX_SESSIONS`], and one per caller (`idx:mcp-sessions:<caller digest>`)
//! drops a caller's own past [`MAX_SESSIONS_PER_CALLER`]. Each change is one
//! script, atomic across instances.

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use redis::{Script, ScriptInvocation};

use super::view::{
    LogLevel, Lookup, MAX_SESSIONS, MAX_SESSIONS_PER_CALLER, MAX_SUBSCRIPTIONS, SESSION_IDLE_TTL,
    SessionError, SessionView, TERMINATED_TTL,
};
use crate::binance::CallerKey;
use crate::mcp::version::ProtocolVersion;
use crate::shared::redis::Redis;

const COMMON: &str = "local P = ARGV[1]
local function k(kind, id) return P .. kind .. ':' .. id end
local idx = P .. 'idx:mcp-sessions'
local function caller_idx(caller) return idx .. ':' .. caller end
local function caller_of(id) return redis.call('HGET', k('mcp-sess', id), 'caller') end
local function forget(id)
  local caller = caller_of(id)
  if caller then redis.call('ZREM', caller_idx(caller), id) end
  redis.call('ZREM', idx, id)
  redis.call('DEL', k('mcp-sess', id), k('mcp-subs', id))
end
";

/// ARGV: prefix, id, version, ttl secs, now ms, cap, caller, caller's cap.
/// The caller's own least recently used session goes first, then the
/// least recently used of all.
const CREATE: &str = "
local id, ttl, now = ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[5])
local mine = caller_idx(ARGV[7])
local function trim(index, cap)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now - ttl * 1000)
  while redis.call('ZCARD', index) >= cap do
    local gone = redis.call('ZRANGE', index, 0, 0)[1]
    if not gone then break end
    redis.call('ZREM', index, gone)
    forget(gone)
  end
end
trim(mine, tonumber(ARGV[8]))
trim(idx, tonumber(ARGV[6]))
redis.call('HSET', k('mcp-sess', id), 'version', ARGV[3], 'log_level', '', 'caller', ARGV[7])
redis.call('EXPIRE', k('mcp-sess', id), ttl)
redis.call('ZADD', idx, now, id)
redis.call('ZADD', mine, now, id)
redis.call('EXPIRE', mine, ttl)
return 1
";

/// ARGV: prefix, id, ttl secs, now ms.
const LOOKUP: &str = "
local id, ttl = ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', k('mcp-end', id)) == 1 then return {'terminated'} end
local v = redis.call('HMGET', k('mcp-sess', id), 'version', 'log_level')
if not v[1] then return {'unknown'} end
redis.call('EXPIRE', k('mcp-sess', id), ttl)
redis.call('EXPIRE', k('mcp-subs', id), ttl)
redis.call('ZADD', idx, tonumber(ARGV[4]), id)
local caller = caller_of(id)
if caller then
  redis.call('ZADD', caller_idx(caller), tonumber(ARGV[4]), id)
  redis.call('EXPIRE', caller_idx(caller), ttl)
end
return {'live', v[1], v[2] or ''}
";

/// ARGV: prefix, id, terminated ttl secs.
const TERMINATE: &str = "
local id = ARGV[2]
if redis.call('EXISTS', k('mcp-sess', id)) == 0 then return 0 end
forget(id)
redis.call('SET', k('mcp-end', id), '1', 'EX', tonumber(ARGV[3]))
return 1
";

/// ARGV: prefix, id, level.
const SET_LEVEL: &str = "
if redis.call('EXISTS', k('mcp-sess', ARGV[2])) == 1 then
  redis.call('HSET', k('mcp-sess', ARGV[2]), 'log_level', ARGV[3])
end
return 1
";

/// ARGV: prefix, id, uri, max, ttl secs. 0 when the session is at its limit.
const SUBSCRIBE: &str = "
local id, uri = ARGV[2], ARGV[3]
if redis.call('EXISTS', k('mcp-sess', id)) == 0 then return 1 end
local subs = k('mcp-subs', id)
if redis.call('SISMEMBER', subs, uri) == 1 then return 1 end
if redis.call('SCARD', subs) >= tonumber(ARGV[4]) then return 0 end
redis.call('SADD', subs, uri)
redis.call('EXPIRE', subs, tonumber(ARGV[5]))
return 1
";

struct Scripts {
    create: Script,
    lookup: Script,
    terminate: Script,
    set_level: Script,
    subscribe: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| {
    let script = |body: &str| Script::new(&format!("{COMMON}{body}"));
    Scripts {
        create: script(CREATE),
        lookup: script(LOOKUP),
        terminate: script(TERMINATE),
        set_level: script(SET_LEVEL),
        subscribe: script(SUBSCRIBE),
    }
});

pub(super) struct SharedSessions {
    redis: Redis,
}

fn failed(e: redis::RedisError) -> SessionError {
    SessionError(e.to_string())
}

/// Wall-clock milliseconds: the order of last use, shared by instances.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl SharedSessions {
    pub fn new(redis: Redis) -> Self {
        SharedSessions { redis }
    }

    pub fn healthy(&self) -> bool {
        self.redis.is_healthy()
    }

    fn call(&self, script: &'static Script, id: &str) -> ScriptInvocation<'static> {
        let mut call = script.prepare_invoke();
        call.arg(self.redis.prefix()).arg(id);
        call
    }

    fn key(&self, kind: &str, id: &str) -> String {
        self.redis.key(&format!("{kind}:{id}"))
    }

    pub async fn create(
        &self,
        id: &str,
        version: ProtocolVersion,
        caller: &CallerKey,
    ) -> Result<(), SessionError> {
        let mut call = self.call(&SCRIPTS.create, id);
        call.arg(version.as_str())
            .arg(SESSION_IDLE_TTL.as_secs())
            .arg(now_ms())
            .arg(MAX_SESSIONS)
            .arg(caller.digest())
            .arg(MAX_SESSIONS_PER_CALLER);
        self.redis.run::<i64>(&call).await.map_err(failed)?;
        Ok(())
    }

    pub async fn lookup(&self, id: &str) -> Result<Lookup, SessionError> {
        let mut call = self.call(&SCRIPTS.lookup, id);
        call.arg(SESSION_IDLE_TTL.as_secs()).arg(now_ms());
        let reply: Vec<String> = self.redis.run(&call).await.map_err(failed)?;
        match reply.as_slice() {
            [state] if state == "terminated" => Ok(Lookup::Terminated),
            [state] if state == "unknown" => Ok(Lookup::Unknown),
            [state, version, level] if state == "live" => {
                // A record from another version of the server that this
                // one cannot read is no session: serve without one.
                let Some(version) = ProtocolVersion::parse(version) else {
                    return Ok(Lookup::Unknown);
                };
                Ok(Lookup::Live(SessionView {
                    id: id.into(),
                    version,
                    log_level: LogLevel::parse(level),
                }))
            }
            other => Err(SessionError(format!("unexpected reply {other:?}"))),
        }
    }

    pub async fn terminate(&self, id: &str) -> Result<bool, SessionError> {
        let mut call = self.call(&SCRIPTS.terminate, id);
        call.arg(TERMINATED_TTL.as_secs());
        let ended: i64 = self.redis.run(&call).await.map_err(failed)?;
        Ok(ended == 1)
    }

    pub async fn set_log_level(&self, id: &str, level: LogLevel) -> Result<(), SessionError> {
        let mut call = self.call(&SCRIPTS.set_level, id);
        call.arg(level.as_str());
        self.redis.run::<i64>(&call).await.map_err(failed)?;
        Ok(())
    }

    pub async fn subscribe(&self, id: &str, uri: &str) -> Result<bool, SessionError> {
        let mut call = self.call(&SCRIPTS.subscribe, id);
        call.arg(uri)
            .arg(MAX_SUBSCRIPTIONS)
            .arg(SESSION_IDLE_TTL.as_secs());
        let ok: i64 = self.redis.run(&call).await.map_err(failed)?;
        Ok(ok == 1)
    }

    pub async fn unsubscribe(&self, id: &str, uri: &str) -> Result<(), SessionError> {
        self.redis
            .query::<i64>(redis::cmd("SREM").arg(self.key("mcp-subs", id)).arg(uri))
            .await
            .map_err(failed)?;
        Ok(())
    }

    pub async fn is_subscribed(&self, id: &str, uri: &str) -> Result<bool, SessionError> {
        self.redis
            .query(
                redis::cmd("SISMEMBER")
                    .arg(self.key("mcp-subs", id))
                    .arg(uri),
            )
            .await
            .map_err(failed)
    }
}
