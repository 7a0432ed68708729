//! The shared [`Store`]: every instance behind one URL reads and writes the
//! same Redis, so a client may register on one, sign in on a second and
//! refresh on a third.
//!
//! Each operation that changes state is one Lua script (the `*.lua` files
//! beside this one, each prefixed by `common.lua`), so it is atomic however
//! many instances race: a code is taken once, a refresh token rotates once,
//! a throttle reservation is counted before the caller goes on. Reads that
//! change nothing are single commands.
//!
//! Records keep their own expiry and are judged by the caller's clock, as in
//! [`super::MemoryStore`]; Redis TTLs (set relative to that clock) only
//! collect what is dead, so nothing needs sweeping in production. The caps
//! of [`StoreLimits`] are kept by sorted-set indexes (member → expiry).
//!
//! Access tokens are read on every MCP request. An instance keeps the ones
//! it has seen for at most [`ACCESS_CACHE_TTL`], so a token revoked on
//! another instance stops working here within that time; revocation on this
//! instance drops them at once.
//!
//! Layout (after the prefix): `client:<id>`, `user:<name>`,
//! `consents:<user>`, `pending:<id>`, `owner:<ip>`, `bsess:<hash>`,
//! `code:<hash>`, `used:<hash>`, `grant:<family>`, `grant-at:<family>`,
//! `grant-retired:<family>`, `refresh:<hash>`, `at:<hash>`, `thr:<key>`,
//! `secret:<name>`, `idx:<collection>`. Hashes are base64url SHA-256.

mod cache;

use super::{
    AccessRec, Admit, ClientRec, CodeRec, Consent, ConsentKey, GrantInfo, IDLE_TTL_SECS, Limit,
    Mismatch, PendingAuth, Redeem, Redeemed, Revoked, Rotate, RotateReq, Session, Store,
    StoreError, StoreLimits, StoreResult, UNUSED_TTL_SECS, USED_CODE_MEMORY_SECS, UserRec,
};
use crate::oauth::tokens::{TokenHash, random_bytes};
use crate::shared::redis::Redis;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redis::{Script, ScriptInvocation};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::LazyLock;

pub use cache::ACCESS_CACHE_TTL;
use cache::AccessCache;

/// How many dead clients, accounts or consents one sweep deletes: a sweep
/// is one script, and a script holds Redis for everyone while it runs.
const SWEEP_BATCH: usize = 1000;

struct Scripts {
    register_client: Script,
    create_user: Script,
    touch_user: Script,
    record_consent: Script,
    put_pending: Script,
    post_pending: Script,
    take_pending: Script,
    create_session: Script,
    issue_code: Script,
    redeem_code: Script,
    rotate_refresh: Script,
    revoke_token: Script,
    revoke_grant: Script,
    reserve: Script,
    release: Script,
    secret: Script,
    sweep: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| {
    let common = format!(
        "local UNUSED_TTL = {UNUSED_TTL_SECS}\nlocal IDLE_TTL = {IDLE_TTL_SECS}\n\
         local USED_CODE_TTL = {USED_CODE_MEMORY_SECS}\nlocal SWEEP_BATCH = {SWEEP_BATCH}\n{}",
        include_str!("common.lua")
    );
    let script = |body: &str| Script::new(&format!("{common}\n{body}"));
    Scripts {
        register_client: script(include_str!("register_client.lua")),
        create_user: script(include_str!("create_user.lua")),
        touch_user: script(include_str!("touch_user.lua")),
        record_consent: script(include_str!("record_consent.lua")),
        put_pending: script(include_str!("put_pending.lua")),
        post_pending: script(include_str!("post_pending.lua")),
        take_pending: script(include_str!("take_pending.lua")),
        create_session: script(include_str!("create_session.lua")),
        issue_code: script(include_str!("issue_code.lua")),
        redeem_code: script(include_str!("redeem_code.lua")),
        rotate_refresh: script(include_str!("rotate_refresh.lua")),
        revoke_token: script(include_str!("revoke_token.lua")),
        revoke_grant: script(include_str!("revoke_grant.lua")),
        reserve: script(include_str!("reserve.lua")),
        release: script(include_str!("release.lua")),
        secret: script(include_str!("secret.lua")),
        sweep: script(include_str!("sweep.lua")),
    }
});

/// See the module docs.
pub struct RedisStore {
    redis: Redis,
    limits: StoreLimits,
    access: AccessCache,
}

impl RedisStore {
    pub fn new(redis: Redis, limits: StoreLimits) -> Self {
        RedisStore {
            redis,
            limits,
            access: AccessCache::default(),
        }
    }

    /// A script call with the prefix as `ARGV[1]`.
    fn call(&self, script: &'static Script) -> ScriptInvocation<'static> {
        let mut call = script.prepare_invoke();
        call.arg(self.redis.prefix());
        call
    }

    async fn run(&self, call: &ScriptInvocation<'_>) -> StoreResult<Vec<String>> {
        self.redis.run(call).await.map_err(backend)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> StoreResult<T> {
        self.redis.query(cmd).await.map_err(backend)
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.redis.prefix())
    }

    /// The common answers of the scripts that end in `ok`, `full` or `exists`.
    fn outcome(reply: &[String]) -> StoreResult<()> {
        match first(reply) {
            "ok" => Ok(()),
            "full" => Err(StoreError::Full),
            "owner_full" => Err(StoreError::OwnerFull),
            "exists" => Err(StoreError::AlreadyExists),
            other => Err(unexpected(other)),
        }
    }

    async fn insert_client(&self, c: ClientRec, replace: bool) -> StoreResult<()> {
        let mut call = self.call(&SCRIPTS.register_client);
        call.arg(&c.client_id)
            .arg(json(&c)?)
            .arg(c.created_at)
            .arg(opt(c.last_used))
            .arg(opt(c.cache_until))
            .arg(self.limits.clients)
            .arg(if replace { "1" } else { "0" });
        Self::outcome(&self.run(&call).await?)
    }

    fn grant_info(reply: &[String]) -> StoreResult<GrantInfo> {
        let [_, user, client_id, scopes, resource, ..] = reply else {
            return Err(unexpected("a short grant reply"));
        };
        Ok(GrantInfo {
            user: user.clone(),
            client_id: client_id.clone(),
            scopes: parse(scopes)?,
            resource: resource.clone(),
        })
    }
}

fn backend(e: redis::RedisError) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn unexpected(what: &str) -> StoreError {
    StoreError::Backend(format!("unexpected store reply {what:?}"))
}

fn first(reply: &[String]) -> &str {
    reply.first().map_or("", String::as_str)
}

fn b64(h: &TokenHash) -> String {
    URL_SAFE_NO_PAD.encode(h.0)
}

fn opt(v: Option<u64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

fn json<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encode: {e}")))
}

fn parse<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("decode: {e}")))
}

fn parse_hash(s: &str) -> StoreResult<TokenHash> {
    let bytes = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| unexpected("a hash that is not base64url"))?;
    bytes
        .try_into()
        .map(TokenHash)
        .map_err(|_| unexpected("a hash that is not 32 bytes"))
}

fn number(s: &str) -> StoreResult<u64> {
    s.parse().map_err(|_| unexpected(s))
}

/// `last_used` and `last_seen` change without the record being rewritten:
/// they live beside it, and win over the record's copy.
fn override_time(stored: Option<String>) -> StoreResult<Option<u64>> {
    match stored.as_deref() {
        None | Some("") => Ok(None),
        Some(n) => number(n).map(Some),
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn register_client(&self, c: ClientRec) -> StoreResult<()> {
        self.insert_client(c, false).await
    }

    async fn cache_cimd_client(&self, c: ClientRec) -> StoreResult<()> {
        self.insert_client(c, true).await
    }

    async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRec>> {
        let (rec, last_used): (Option<String>, Option<String>) = self
            .query(
                redis::cmd("HMGET")
                    .arg(self.key("client", client_id))
                    .arg("rec")
                    .arg("last_used"),
            )
            .await?;
        let Some(rec) = rec else { return Ok(None) };
        let mut c: ClientRec = parse(&rec)?;
        c.last_used = override_time(last_used)?.or(c.last_used);
        Ok(Some(c))
    }

    async fn create_user(&self, u: UserRec) -> StoreResult<()> {
        let mut call = self.call(&SCRIPTS.create_user);
        call.arg(&u.name)
            .arg(json(&u)?)
            .arg(u.created_at)
            .arg(self.limits.users);
        Self::outcome(&self.run(&call).await?)
    }

    async fn user(&self, name: &str) -> StoreResult<Option<UserRec>> {
        let (rec, last_seen): (Option<String>, Option<String>) = self
            .query(
                redis::cmd("HMGET")
                    .arg(self.key("user", name))
                    .arg("rec")
                    .arg("last_seen"),
            )
            .await?;
        let Some(rec) = rec else { return Ok(None) };
        let mut u: UserRec = parse(&rec)?;
        u.last_seen = override_time(last_seen)?.or(u.last_seen);
        Ok(Some(u))
    }

    async fn touch_user(&self, name: &str, now: u64) -> StoreResult<()> {
        let mut call = self.call(&SCRIPTS.touch_user);
        call.arg(name).arg(now);
        self.run(&call).await.map(drop)
    }

    async fn put_pending(&self, id: &str, p: PendingAuth, now: u64) -> StoreResult<()> {
        let mut call = self.call(&SCRIPTS.put_pending);
        call.arg(id)
            .arg(json(&p)?)
            .arg(&p.owner)
            .arg(p.expires_at)
            .arg(now)
            .arg(self.limits.pending)
            .arg(self.limits.pending_per_owner);
        Self::outcome(&self.run(&call).await?)
    }

    async fn post_pending(
        &self,
        id: &str,
        max_posts: u32,
        now: u64,
    ) -> StoreResult<Option<PendingAuth>> {
        let mut call = self.call(&SCRIPTS.post_pending);
        call.arg(id).arg(max_posts).arg(now);
        pending_reply(&self.run(&call).await?)
    }

    async fn take_pending(&self, id: &str, now: u64) -> StoreResult<Option<PendingAuth>> {
        let mut call = self.call(&SCRIPTS.take_pending);
        call.arg(id).arg(now);
        pending_reply(&self.run(&call).await?)
    }

    async fn create_session(&self, hash: TokenHash, s: Session, now: u64) -> StoreResult<()> {
        let mut call = self.call(&SCRIPTS.create_session);
        call.arg(b64(&hash))
            .arg(json(&s)?)
            .arg(s.expires_at)
            .arg(now)
            .arg(self.limits.sessions);
        Self::outcome(&self.run(&call).await?)
    }

    async fn session(&self, hash: &TokenHash, now: u64) -> StoreResult<Option<Session>> {
        let rec: Option<String> = self
            .query(redis::cmd("GET").arg(self.key("bsess", &b64(hash))))
            .await?;
        match rec {
            Some(rec) => Ok(Some(parse::<Session>(&rec)?).filter(|s| s.expires_at > now)),
            None => Ok(None),
        }
    }

    async fn consent(&self, key: &ConsentKey) -> StoreResult<Option<Consent>> {
        let rec: Option<String> = self
            .query(
                redis::cmd("HGET")
                    .arg(self.key("consents", &key.user))
                    .arg(consent_field(key)),
            )
            .await?;
        rec.map(|r| parse(&r)).transpose()
    }

    async fn record_consent(&self, key: ConsentKey, c: Consent) -> StoreResult<()> {
        let mut call = self.call(&SCRIPTS.record_consent);
        call.arg(&key.user)
            .arg(consent_field(&key))
            .arg(json(&c)?)
            .arg(c.granted_at)
            .arg(self.limits.consents);
        Self::outcome(&self.run(&call).await?)
    }

    async fn issue_code(&self, hash: TokenHash, code: CodeRec) -> StoreResult<()> {
        let mut call = self.call(&SCRIPTS.issue_code);
        call.arg(b64(&hash))
            .arg(&code.family)
            .arg(code.expires_at)
            .arg(code.issued_at)
            .arg(self.limits.codes)
            .arg(self.limits.grants)
            .arg(&code.user)
            .arg(&code.client_id)
            .arg(json(&code.scopes)?)
            .arg(&code.resource)
            .arg(&code.redirect_uri)
            .arg(&code.code_challenge);
        Self::outcome(&self.run(&call).await?)
    }

    async fn redeem_code(&self, hash: &TokenHash, req: Redeem) -> StoreResult<Redeemed> {
        let mut call = self.call(&SCRIPTS.redeem_code);
        call.arg(b64(hash))
            .arg(&req.client_id)
            .arg(&req.redirect_uri)
            .arg(req.challenge.as_deref().unwrap_or(""))
            .arg(req.resource.as_deref().unwrap_or(""))
            .arg(b64(&req.tokens.access))
            .arg(req.tokens.access_expires_at)
            .arg(b64(&req.tokens.refresh))
            .arg(req.tokens.refresh_expires_at)
            .arg(req.now)
            .arg(self.limits.access_tokens)
            .arg(self.limits.access_per_grant);
        let reply = self.run(&call).await?;
        match (first(&reply), reply.get(1).map(String::as_str)) {
            ("issued", _) => Ok(Redeemed::Issued(Self::grant_info(&reply)?)),
            ("replayed", Some(family)) => {
                self.access.forget_family(family);
                Ok(Redeemed::Replayed)
            }
            ("invalid", _) => Ok(Redeemed::Invalid),
            ("mismatch", Some(what)) => Ok(Redeemed::Mismatch(match what {
                "client" => Mismatch::Client,
                "redirect_uri" => Mismatch::RedirectUri,
                "pkce" => Mismatch::Pkce,
                "resource" => Mismatch::Resource,
                other => return Err(unexpected(other)),
            })),
            ("full", _) => Err(StoreError::Full),
            (other, _) => Err(unexpected(other)),
        }
    }

    async fn rotate_refresh(&self, req: RotateReq) -> StoreResult<Rotate> {
        let mut call = self.call(&SCRIPTS.rotate_refresh);
        let scopes = match &req.scopes {
            Some(s) => json(s)?,
            None => String::new(),
        };
        call.arg(b64(&req.presented))
            .arg(&req.client_id)
            .arg(b64(&req.new_refresh))
            .arg(b64(&req.successor_ct))
            .arg(b64(&req.new_access))
            .arg(req.access_expires_at)
            .arg(req.refresh_expires_at)
            .arg(scopes)
            .arg(req.resource.as_deref().unwrap_or(""))
            .arg(req.now)
            .arg(req.grace_secs)
            .arg(self.limits.access_tokens)
            .arg(self.limits.access_per_grant)
            .arg(self.limits.retired_per_grant);
        let reply = self.run(&call).await?;
        match first(&reply) {
            "rotated" => Ok(Rotate::Rotated(Self::grant_info(&reply)?)),
            "grace" => {
                let info = Self::grant_info(&reply)?;
                let ct = reply.get(5).ok_or_else(|| unexpected("grace without ct"))?;
                Ok(Rotate::Grace {
                    info,
                    successor_ct: parse_hash(ct)?,
                })
            }
            "reuse" => {
                if let Some(family) = reply.get(1) {
                    self.access.forget_family(family);
                }
                Ok(Rotate::ReuseDetected)
            }
            "invalid" => Ok(Rotate::Invalid),
            "invalid_scope" => Ok(Rotate::InvalidScope),
            "invalid_target" => Ok(Rotate::InvalidTarget),
            "full" => Err(StoreError::Full),
            other => Err(unexpected(other)),
        }
    }

    async fn access(&self, hash: &TokenHash, now: u64) -> StoreResult<Option<AccessRec>> {
        if let Some(rec) = self.access.get(hash) {
            return Ok(Some(rec).filter(|r| r.expires_at > now));
        }
        let rec: Option<String> = self
            .query(redis::cmd("GET").arg(self.key("at", &b64(hash))))
            .await?;
        let Some(rec) = rec else { return Ok(None) };
        let rec: AccessRec = parse(&rec)?;
        self.access.put(*hash, rec.clone());
        Ok(Some(rec).filter(|r| r.expires_at > now))
    }

    async fn revoke_token(&self, hash: &TokenHash, client_id: &str) -> StoreResult<Revoked> {
        let mut call = self.call(&SCRIPTS.revoke_token);
        call.arg(b64(hash)).arg(client_id);
        let reply = self.run(&call).await?;
        match first(&reply) {
            "access" => {
                self.access.forget(hash);
                Ok(Revoked::Access)
            }
            "grant" => {
                if let Some(family) = reply.get(1) {
                    self.access.forget_family(family);
                }
                Ok(Revoked::Grant)
            }
            "nothing" => Ok(Revoked::Nothing),
            other => Err(unexpected(other)),
        }
    }

    async fn revoke_grant(&self, family: &str) -> StoreResult<()> {
        let mut call = self.call(&SCRIPTS.revoke_grant);
        call.arg(family);
        self.run(&call).await?;
        self.access.forget_family(family);
        Ok(())
    }

    async fn reserve(&self, key: &str, limit: Limit, now: u64) -> StoreResult<Admit> {
        let mut call = self.call(&SCRIPTS.reserve);
        call.arg(key)
            .arg(limit.max)
            .arg(limit.window_secs)
            .arg(now)
            .arg(self.limits.throttles);
        let reply = self.run(&call).await?;
        match (first(&reply), reply.get(1)) {
            ("granted", _) => Ok(Admit::Granted),
            ("refused", Some(secs)) => Ok(Admit::Refused {
                retry_after: number(secs)?,
            }),
            (other, _) => Err(unexpected(other)),
        }
    }

    async fn release(&self, key: &str, now: u64) -> StoreResult<()> {
        let mut call = self.call(&SCRIPTS.release);
        call.arg(key).arg(now);
        self.run(&call).await.map(drop)
    }

    async fn secret(&self, name: &str) -> StoreResult<[u8; 32]> {
        let mut call = self.call(&SCRIPTS.secret);
        call.arg(name).arg(b64(&TokenHash(random_bytes())));
        let reply = self.run(&call).await?;
        Ok(parse_hash(first(&reply))?.0)
    }

    async fn sweep(&self, now: u64) -> StoreResult<()> {
        let mut call = self.call(&SCRIPTS.sweep);
        call.arg(now);
        self.run(&call).await.map(drop)
    }

    fn healthy(&self) -> bool {
        self.redis.is_healthy()
    }
}

/// A consent's field in its user's hash.
fn consent_field(key: &ConsentKey) -> String {
    format!("{}\n{}", key.client_id, key.redirect_uri)
}

fn pending_reply(reply: &[String]) -> StoreResult<Option<PendingAuth>> {
    let [rec, posts] = reply else {
        return Ok(None);
    };
    let mut p: PendingAuth = parse(rec)?;
    p.posts = u32::try_from(number(posts)?).map_err(|_| unexpected(posts))?;
    Ok(Some(p))
}
