//! Storage of the authorization server, as a trait of *whole operations*
//! (register a client, take a code once, rotate a refresh token, reserve a
//! sign-in attempt, …) rather than get/put on maps. Each operation is atomic
//! as a unit, so a shared backend (Redis, one Lua script or `MULTI` per
//! operation) can replace [`MemoryStore`] without the handlers changing, and
//! nothing is read in one call and written back in another.
//!
//! Every record carries its expiry (`expires_at`, a throttle's window), so a
//! backend with TTLs needs no sweeping; [`MemoryStore`] sweeps. Every call can
//! fail with [`StoreError::Backend`]: handlers answer 503, never pass.
//!
//! Secrets are never stored: codes, access and refresh tokens, client secrets
//! and cookies are kept as SHA-256 hashes ([`TokenHash`]). The one exception
//! is [`Store::secret`], keys every instance must share (the device-cookie
//! signing key), created once by whichever instance asks first.

mod memory;
mod redis;
mod snapshot;

#[cfg(test)]
pub(crate) mod contract;

pub use self::redis::{ACCESS_CACHE_TTL, RedisStore};
pub use memory::MemoryStore;
pub use snapshot::{SNAPSHOT_VERSION, Snapshot};

use super::tokens::TokenHash;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How many entries each collection may hold. The defaults suit one small
/// VM; tests lower them to reach [`StoreError::Full`].
#[derive(Debug, Clone)]
pub struct StoreLimits {
    /// Registered and cached clients. ChatGPT registers a fresh client per
    /// connection, so this is large; unused ones expire after a day.
    pub clients: usize,
    /// Self-registered accounts (configured users are not counted).
    pub users: usize,
    /// Pending sign-in pages (opened but not yet answered), in total …
    pub pending: usize,
    /// … and per client IP, so one client cannot fill them for everyone.
    pub pending_per_owner: usize,
    /// Browser sign-in sessions.
    pub sessions: usize,
    /// Authorization codes not yet exchanged (they live ≤ 5 min).
    pub codes: usize,
    /// Grants (one per connected client and user).
    pub grants: usize,
    /// Live access tokens across all grants.
    pub access_tokens: usize,
    /// Live access tokens per grant: a client refreshing in a loop cannot
    /// grow memory; the oldest is dropped (revoked) first.
    pub access_per_grant: usize,
    /// Old refresh-token hashes remembered per grant to detect reuse.
    pub retired_per_grant: usize,
    /// Consent records (user, client, redirect URI).
    pub consents: usize,
    /// Throttle counters (per IP, account, device, host).
    pub throttles: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            clients: 10_000,
            users: 1_000,
            pending: 10_000,
            pending_per_owner: 30,
            sessions: 10_000,
            codes: 10_000,
            grants: 50_000,
            access_tokens: 200_000,
            access_per_grant: 16,
            retired_per_grant: 8,
            consents: 50_000,
            throttles: 50_000,
        }
    }
}

/// How long a used code is remembered so that a replay revokes its grant.
pub const USED_CODE_MEMORY_SECS: u64 = 60 * 60;
/// A DCR client that never obtained a token is forgotten after a day
/// (ChatGPT registers clients it then abandons); so is a self-registered
/// account that never connected a client (a sign-up flood fades away).
pub const UNUSED_TTL_SECS: u64 = 24 * 60 * 60;
/// A client or self-registered account that did obtain tokens expires 90
/// days after its last use. A CIMD document is kept as long, past its cache
/// lifetime, as the last good copy to serve while a refetch is throttled.
pub const IDLE_TTL_SECS: u64 = 90 * 24 * 60 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// RFC 7591 dynamic registration: name is self-asserted (unverified).
    Dcr,
    /// Client ID Metadata Document: the client id is the document's URL.
    Cimd,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientRec {
    pub client_id: String,
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub auth_method: AuthMethod,
    pub secret_hash: Option<TokenHash>,
    pub kind: ClientKind,
    pub created_at: u64,
    /// Last time a token was issued to it; `None` if never.
    pub last_used: Option<u64>,
    /// CIMD: until when the document is fresh (unix seconds); after that it
    /// is refetched when the budget allows. `None` for DCR clients.
    #[serde(default)]
    pub cache_until: Option<u64>,
}

impl ClientRec {
    /// Until when the record is kept (see [`UNUSED_TTL_SECS`], [`IDLE_TTL_SECS`]).
    pub fn keep_until(&self) -> u64 {
        let used = match self.last_used {
            None => self.created_at + UNUSED_TTL_SECS,
            Some(t) => t + IDLE_TTL_SECS,
        };
        used.max(self.cache_until.unwrap_or(0))
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct UserRec {
    /// The canonical (lower-case) name.
    pub name: String,
    /// argon2 PHC string.
    pub phc: String,
    #[serde(default)]
    pub created_at: u64,
    /// Last time a client got tokens for this account; `None` if never.
    #[serde(default)]
    pub last_seen: Option<u64>,
}

impl UserRec {
    pub fn keep_until(&self) -> u64 {
        match self.last_seen {
            None => self.created_at + UNUSED_TTL_SECS,
            Some(t) => t + IDLE_TTL_SECS,
        }
    }
}

impl std::fmt::Debug for UserRec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRec")
            .field("name", &self.name)
            .field("phc", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("last_seen", &self.last_seen)
            .finish()
    }
}

/// Whose approval, of which client, for which redirect URI: a consent
/// holds for exactly this triple, so a client registering a second redirect
/// URI is asked again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConsentKey {
    pub user: String,
    pub client_id: String,
    pub redirect_uri: String,
}

impl ConsentKey {
    pub fn new(user: &str, client_id: &str, redirect_uri: &str) -> Self {
        Self {
            user: user.to_owned(),
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Consent {
    pub scopes: Vec<String>,
    pub granted_at: u64,
}

/// A browser that signed in: lets a returning user skip the password, and
/// (with a remembered consent) the page. Keyed by the cookie's hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user: String,
    pub expires_at: u64,
}

/// A validated authorization request waiting for the user's answer. The page
/// carries only its id and a CSRF token; everything else stays here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingAuth {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    /// `None` = the client sent no scope: resolved after login to the user's
    /// previous consent or the default.
    pub scopes: Option<Vec<String>>,
    pub state: Option<String>,
    pub resource: String,
    pub csrf: TokenHash,
    /// Hash of the browser-binding cookie the page was served with.
    pub browser: TokenHash,
    /// `prompt=login`: the password is required even with a session.
    pub force_login: bool,
    /// Who opened the page (the client IP key): pages are bounded per owner.
    pub owner: String,
    /// Form submissions so far (see [`Store::post_pending`]).
    pub posts: u32,
    pub expires_at: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeRec {
    pub family: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub scopes: Vec<String>,
    pub resource: String,
    pub user: String,
    pub issued_at: u64,
    pub expires_at: u64,
}

impl CodeRec {
    /// What in `req` differs from what the code was issued for, checked in
    /// the order a client would fix them.
    pub fn mismatch(&self, req: &Redeem) -> Option<Mismatch> {
        if req.client_id != self.client_id {
            Some(Mismatch::Client)
        } else if req.redirect_uri != self.redirect_uri {
            Some(Mismatch::RedirectUri)
        } else if req.challenge.as_deref() != Some(self.code_challenge.as_str()) {
            Some(Mismatch::Pkce)
        } else if req.resource.as_ref().is_some_and(|r| *r != self.resource) {
            Some(Mismatch::Resource)
        } else {
            None
        }
    }
}

/// What a bearer token grants. Cheap to clone (shared strings), because the
/// resource server clones one per request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessRec {
    pub family: Arc<str>,
    pub user: Arc<str>,
    pub client_id: Arc<str>,
    pub scopes: Arc<[String]>,
    pub resource: Arc<str>,
    pub expires_at: u64,
}

/// The first tokens of a grant, minted by the caller (hashes only).
#[derive(Debug, Clone, Copy)]
pub struct NewTokens {
    pub access: TokenHash,
    pub access_expires_at: u64,
    pub refresh: TokenHash,
    pub refresh_expires_at: u64,
}

/// The facts about a grant a token response needs.
#[derive(Debug, Clone)]
pub struct GrantInfo {
    pub user: String,
    pub client_id: String,
    /// Scopes of the access token just issued.
    pub scopes: Vec<String>,
    pub resource: String,
}

/// A code exchange, prepared by the caller: what the token request says,
/// and the first tokens of the grant (hashes only), issued only if the code
/// was issued for exactly this.
#[derive(Debug, Clone)]
pub struct Redeem {
    pub client_id: String,
    pub redirect_uri: String,
    /// The S256 challenge of the request's verifier; `None` when the
    /// verifier is malformed (which fails like a wrong one).
    pub challenge: Option<String>,
    /// `None`: the client named no resource (the code's is used).
    pub resource: Option<String>,
    pub tokens: NewTokens,
    pub now: u64,
}

#[derive(Debug)]
pub enum Redeemed {
    /// The code was valid and is spent; its grant is active.
    Issued(GrantInfo),
    /// The code was already used: its grant has been revoked.
    Replayed,
    /// Unknown or expired.
    Invalid,
    /// The request does not match the code, which is spent all the same
    /// (a guess must not get a second try) and its grant revoked.
    Mismatch(Mismatch),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    Client,
    RedirectUri,
    Pkce,
    Resource,
}

/// A refresh request, fully prepared by the caller (new secrets minted).
#[derive(Debug, Clone)]
pub struct RotateReq {
    pub presented: TokenHash,
    pub client_id: String,
    pub new_refresh: TokenHash,
    pub successor_ct: TokenHash,
    pub new_access: TokenHash,
    pub access_expires_at: u64,
    pub refresh_expires_at: u64,
    pub scopes: Option<Vec<String>>,
    pub resource: Option<String>,
    pub now: u64,
    pub grace_secs: u64,
}

#[derive(Debug)]
pub enum Rotate {
    Rotated(GrantInfo),
    /// The presented token was rotated moments ago (parallel refresh): the
    /// caller decrypts and returns the same successor, with a new access token.
    Grace {
        info: GrantInfo,
        successor_ct: TokenHash,
    },
    /// An old refresh token came back after the grace window: family revoked.
    ReuseDetected,
    Invalid,
    InvalidScope,
    InvalidTarget,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Revoked {
    Access,
    Grant,
    /// Unknown, expired or owned by another client: nothing done (RFC 7009).
    Nothing,
}

/// A fixed-window budget: at most `max` events per `window_secs` per key.
/// In Redis: `INCR` with `EXPIRE` on the first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: u64,
}

/// The answer to [`Store::reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Granted,
    /// The window is used up; it ends in this many seconds.
    Refused {
        retry_after: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A bounded collection is full even after sweeping.
    Full,
    /// The owner's share of a collection is used up (pending pages per IP).
    OwnerFull,
    AlreadyExists,
    /// The backend failed; the reason is for the log, never for the client.
    Backend(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Full => f.write_str("store full"),
            StoreError::OwnerFull => f.write_str("store share of this client used up"),
            StoreError::AlreadyExists => f.write_str("already exists"),
            StoreError::Backend(why) => write!(f, "store backend: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

/// The storage operations. Each is atomic on its own; none needs a read and
/// a later write to be consistent.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn register_client(&self, c: ClientRec) -> StoreResult<()>;
    /// Inserts or refreshes a fetched CIMD document (bounded like DCR
    /// clients), keeping the client's `last_used`.
    async fn cache_cimd_client(&self, c: ClientRec) -> StoreResult<()>;
    async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRec>>;

    /// `AlreadyExists` if the (canonical) name is taken; `Full` at the cap.
    async fn create_user(&self, u: UserRec) -> StoreResult<()>;
    async fn user(&self, name: &str) -> StoreResult<Option<UserRec>>;
    /// Records that a client got tokens for the account (a no-op for names
    /// the store does not hold, such as configured users).
    async fn touch_user(&self, name: &str, now: u64) -> StoreResult<()>;

    /// `OwnerFull` when `p.owner` has its share of pages open, `Full` when
    /// everyone together has.
    async fn put_pending(&self, id: &str, p: PendingAuth, now: u64) -> StoreResult<()>;
    /// Counts one form submission and returns the request, or `None` if it
    /// is unknown, expired, or has had `max_posts` already (it is dropped).
    async fn post_pending(
        &self,
        id: &str,
        max_posts: u32,
        now: u64,
    ) -> StoreResult<Option<PendingAuth>>;
    /// Removes and returns the request: it can be answered only once.
    async fn take_pending(&self, id: &str, now: u64) -> StoreResult<Option<PendingAuth>>;

    async fn create_session(&self, hash: TokenHash, s: Session, now: u64) -> StoreResult<()>;
    async fn session(&self, hash: &TokenHash, now: u64) -> StoreResult<Option<Session>>;

    async fn consent(&self, key: &ConsentKey) -> StoreResult<Option<Consent>>;
    async fn record_consent(&self, key: ConsentKey, c: Consent) -> StoreResult<()>;

    /// Stores a code and opens its (not yet active) grant family.
    async fn issue_code(&self, hash: TokenHash, code: CodeRec) -> StoreResult<()>;
    /// Exchanges a code for its grant's first tokens, in one step: the
    /// code is taken once, checked against the request and the grant
    /// activated, so of concurrent redemptions exactly one is issued, and
    /// the later ones (replays) revoke the grant.
    async fn redeem_code(&self, hash: &TokenHash, req: Redeem) -> StoreResult<Redeemed>;
    async fn rotate_refresh(&self, req: RotateReq) -> StoreResult<Rotate>;

    /// The resource server's lookup (one hash-map read in memory).
    async fn access(&self, hash: &TokenHash, now: u64) -> StoreResult<Option<AccessRec>>;
    /// RFC 7009: an access token is dropped; a refresh token revokes its grant.
    async fn revoke_token(&self, hash: &TokenHash, client_id: &str) -> StoreResult<Revoked>;
    /// Revokes the grant and every token issued from it.
    async fn revoke_grant(&self, family: &str) -> StoreResult<()>;

    /// Counts one event against `key` if its window has room; otherwise
    /// counts nothing. Reserve before the costly work, not after it.
    async fn reserve(&self, key: &str, limit: Limit, now: u64) -> StoreResult<Admit>;
    /// Gives back one reservation of the current window (an attempt that
    /// succeeded, or was refused by a later budget).
    async fn release(&self, key: &str, now: u64) -> StoreResult<()>;

    /// A 256-bit key shared by every instance: created at the first call,
    /// the same ever after (`SET NX` then `GET` in Redis).
    async fn secret(&self, name: &str) -> StoreResult<[u8; 32]>;

    /// Drops everything expired that reads do not judge by a clock
    /// (clients, accounts, consents).
    async fn sweep(&self, now: u64) -> StoreResult<()>;

    /// Whether the backend answered lately (`/healthz`); memory always does.
    fn healthy(&self) -> bool {
        true
    }
}
