//! Storage of the authorization server, as a trait of *whole operations*
//! (register a client, take a code once, rotate a refresh token, revoke a
//! grant, …) rather than get/put on maps. Each operation states its own
//! atomicity, so a shared backend (Redis with one Lua script per operation)
//! can replace [`MemoryStore`] without the handlers changing.
//!
//! Secrets are never stored: codes, access and refresh tokens and client
//! secrets are kept as SHA-256 hashes ([`TokenHash`]). Every map is bounded
//! and expired entries are swept. [`MemoryStore`] can snapshot the durable
//! part (users, clients, consents, active grants) for the state file.

use super::tokens::TokenHash;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;

/// Registered clients. ChatGPT registers a fresh client per connection, so
/// this must be large, but unused ones expire after a day.
pub const MAX_CLIENTS: usize = 10_000;
/// Sign-up accounts (configured users are not counted).
pub const MAX_USERS: usize = 1_000;
/// Pending authorization requests (a page someone opened but did not submit).
pub const MAX_PENDING: usize = 10_000;
/// Browser sign-in sessions (one per browser that signed in recently).
pub const MAX_SESSIONS: usize = 10_000;
/// Authorization codes not yet exchanged (they live ≤ 10 min).
pub const MAX_CODES: usize = 10_000;
/// Grants (one per connected client and user).
pub const MAX_GRANTS: usize = 50_000;
/// Live access tokens across all grants.
pub const MAX_ACCESS_TOKENS: usize = 200_000;
/// Consent records (user, client, redirect URI).
pub const MAX_CONSENTS: usize = 50_000;
/// Live access tokens per grant: a client refreshing in a loop cannot grow
/// memory; the oldest is dropped (revoked) first.
pub const MAX_ACCESS_PER_GRANT: usize = 16;
/// Old refresh-token hashes remembered per grant to detect reuse (theft).
pub const MAX_RETIRED_PER_GRANT: usize = 8;
/// How long a used code is remembered so that a replay revokes its grant.
pub const USED_CODE_MEMORY_SECS: u64 = 60 * 60;
/// A DCR client that never obtained a token is forgotten after a day
/// (ChatGPT registers clients it then abandons).
pub const UNUSED_CLIENT_TTL_SECS: u64 = 24 * 60 * 60;
/// A client that did obtain tokens expires 90 days after its last use.
pub const IDLE_CLIENT_TTL_SECS: u64 = 90 * 24 * 60 * 60;

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
    /// CIMD cache expiry (unix seconds); `None` for DCR clients.
    #[serde(default)]
    pub cache_until: Option<u64>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct UserRec {
    pub name: String,
    /// argon2 PHC string.
    pub phc: String,
}

impl std::fmt::Debug for UserRec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRec")
            .field("name", &self.name)
            .field("phc", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Consent {
    pub scopes: Vec<String>,
    pub granted_at: u64,
}

/// A browser that signed in: lets a returning user skip the password, and
/// (with a remembered consent) the page. Keyed by the cookie's hash.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub expires_at: u64,
}

/// A validated authorization request waiting for the user's answer. The page
/// carries only its id and a CSRF token; everything else stays here.
#[derive(Debug, Clone)]
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
    pub expires_at: u64,
}

#[derive(Debug, Clone)]
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

/// What a bearer token grants. Cheap to clone (shared strings), because the
/// resource server clones one per request.
#[derive(Debug, Clone)]
pub struct AccessRec {
    pub family: Arc<str>,
    pub user: Arc<str>,
    pub client_id: Arc<str>,
    pub scopes: Arc<[String]>,
    pub resource: Arc<str>,
    pub expires_at: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Rotated {
    hash: TokenHash,
    rotated_at: u64,
    /// The successor, encrypted with a pad only the presented token derives.
    successor_ct: TokenHash,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Grant {
    family: String,
    user: String,
    client_id: String,
    scopes: Vec<String>,
    resource: String,
    created_at: u64,
    /// Until the code is exchanged: the code's expiry. Then: refresh expiry.
    expires_at: u64,
    refresh: Option<TokenHash>,
    previous: Option<Rotated>,
    retired: Vec<TokenHash>,
    #[serde(skip)]
    access: Vec<TokenHash>,
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

#[derive(Debug)]
pub enum TakeCode {
    Ok(CodeRec),
    /// The code was already used: its grant has been revoked.
    Replayed,
    Invalid,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A bounded map is full even after sweeping.
    Full,
    AlreadyExists,
    Backend(String),
}

/// The storage operations. Each is atomic on its own.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn register_client(&self, c: ClientRec) -> Result<(), StoreError>;
    /// Inserts or refreshes a cached CIMD client (bounded like DCR clients).
    async fn cache_cimd_client(&self, c: ClientRec) -> Result<(), StoreError>;
    async fn client(&self, client_id: &str) -> Option<ClientRec>;

    async fn create_user(&self, u: UserRec) -> Result<(), StoreError>;
    async fn user(&self, name: &str) -> Option<UserRec>;

    async fn put_pending(&self, id: &str, p: PendingAuth, now: u64) -> Result<(), StoreError>;
    async fn pending(&self, id: &str, now: u64) -> Option<PendingAuth>;
    /// Removes and returns the request: it can be answered only once.
    async fn take_pending(&self, id: &str, now: u64) -> Option<PendingAuth>;

    async fn create_session(&self, hash: TokenHash, s: Session, now: u64)
    -> Result<(), StoreError>;
    async fn session(&self, hash: &TokenHash, now: u64) -> Option<Session>;

    async fn consent(&self, user: &str, client_id: &str, redirect_uri: &str) -> Option<Consent>;
    async fn record_consent(
        &self,
        user: &str,
        client_id: &str,
        redirect_uri: &str,
        c: Consent,
    ) -> Result<(), StoreError>;

    /// Stores a code and opens its (not yet active) grant family.
    async fn issue_code(&self, hash: TokenHash, code: CodeRec) -> Result<(), StoreError>;
    /// Single use: the first call returns the code; later calls revoke its grant.
    async fn take_code(&self, hash: &TokenHash, now: u64) -> TakeCode;
    /// Activates a grant after a successful code exchange, with its first tokens.
    #[allow(clippy::too_many_arguments)]
    async fn activate_grant(
        &self,
        family: &str,
        access: TokenHash,
        access_expires_at: u64,
        refresh: TokenHash,
        refresh_expires_at: u64,
        now: u64,
    ) -> Result<GrantInfo, StoreError>;
    async fn rotate_refresh(&self, req: RotateReq) -> Rotate;

    /// The resource server's lookup: one hash-map read.
    async fn access(&self, hash: &TokenHash, now: u64) -> Option<AccessRec>;
    /// RFC 7009: an access token is dropped; a refresh token revokes its grant.
    async fn revoke_token(&self, hash: &TokenHash, client_id: &str) -> Revoked;
    async fn revoke_grant(&self, family: &str);

    /// Drops everything expired.
    async fn sweep(&self, now: u64);
}

#[derive(Default)]
struct State {
    clients: HashMap<String, ClientRec>,
    users: HashMap<String, UserRec>,
    consents: HashMap<(String, String, String), Consent>,
    pending: HashMap<String, PendingAuth>,
    sessions: HashMap<TokenHash, Session>,
    codes: HashMap<TokenHash, CodeRec>,
    used_codes: HashMap<TokenHash, (String, u64)>,
    grants: HashMap<String, Grant>,
    refresh_index: HashMap<TokenHash, String>,
    access: HashMap<TokenHash, AccessRec>,
}

impl State {
    fn remove_grant(&mut self, family: &str) {
        if let Some(g) = self.grants.remove(family) {
            for h in &g.access {
                self.access.remove(h);
            }
            if let Some(h) = g.refresh {
                self.refresh_index.remove(&h);
            }
            if let Some(p) = &g.previous {
                self.refresh_index.remove(&p.hash);
            }
            for h in &g.retired {
                self.refresh_index.remove(h);
            }
        }
        self.codes.retain(|_, c| c.family != family);
    }

    fn add_access(
        &mut self,
        family: &str,
        hash: TokenHash,
        rec: AccessRec,
    ) -> Result<(), StoreError> {
        if self.access.len() >= MAX_ACCESS_TOKENS {
            return Err(StoreError::Full);
        }
        let Some(g) = self.grants.get_mut(family) else {
            return Err(StoreError::Backend("grant vanished".into()));
        };
        if g.access.len() >= MAX_ACCESS_PER_GRANT {
            let old = g.access.remove(0);
            self.access.remove(&old);
        }
        g.access.push(hash);
        self.access.insert(hash, rec);
        Ok(())
    }

    fn sweep(&mut self, now: u64) {
        self.pending.retain(|_, p| p.expires_at > now);
        self.sessions.retain(|_, s| s.expires_at > now);
        self.codes.retain(|_, c| c.expires_at > now);
        self.used_codes.retain(|_, (_, until)| *until > now);
        self.access.retain(|_, a| a.expires_at > now);
        let dead: Vec<String> = self
            .grants
            .values()
            .filter(|g| g.expires_at <= now)
            .map(|g| g.family.clone())
            .collect();
        for f in dead {
            self.remove_grant(&f);
        }
        let access = &self.access;
        for g in self.grants.values_mut() {
            g.access.retain(|h| access.contains_key(h));
        }
        self.clients.retain(|_, c| match c.kind {
            ClientKind::Dcr => match c.last_used {
                None => c.created_at + UNUSED_CLIENT_TTL_SECS > now,
                Some(t) => t + IDLE_CLIENT_TTL_SECS > now,
            },
            ClientKind::Cimd => c.cache_until.is_some_and(|t| t > now),
        });
    }
}

/// The durable part of the state, as written to the state file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub users: Vec<UserRec>,
    pub clients: Vec<ClientRec>,
    pub consents: Vec<SnapshotConsent>,
    grants: Vec<Grant>,
    /// Hashes of live access tokens of the persisted grants: without them a
    /// client whose token is still valid gets 401 right after a restart,
    /// and some clients answer a 401 with a fresh login, not a refresh.
    #[serde(default)]
    access: Vec<SnapshotAccess>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SnapshotAccess {
    hash: TokenHash,
    family: String,
    user: String,
    client_id: String,
    scopes: Vec<String>,
    resource: String,
    expires_at: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SnapshotConsent {
    pub user: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub consent: Consent,
}

pub const SNAPSHOT_VERSION: u32 = 1;

/// The first [`Store`]: maps behind one `RwLock` (bearer checks take only the
/// read lock; no lock is held across an `.await`).
#[derive(Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    /// Signalled after every change to durable data (state-file writer).
    changed: Arc<Notify>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn changed(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
    fn durable_changed(&self) {
        self.changed.notify_one();
    }

    pub fn snapshot(&self) -> Snapshot {
        let s = self.read();
        Snapshot {
            version: SNAPSHOT_VERSION,
            users: s.users.values().cloned().collect(),
            clients: s
                .clients
                .values()
                .filter(|c| c.kind == ClientKind::Dcr)
                .cloned()
                .collect(),
            consents: s
                .consents
                .iter()
                .map(|((u, c, r), consent)| SnapshotConsent {
                    user: u.clone(),
                    client_id: c.clone(),
                    redirect_uri: r.clone(),
                    consent: consent.clone(),
                })
                .collect(),
            grants: s
                .grants
                .values()
                .filter(|g| g.refresh.is_some())
                .cloned()
                .collect(),
            access: s
                .access
                .iter()
                .filter(|(_, a)| {
                    s.grants
                        .get(&*a.family)
                        .is_some_and(|g| g.refresh.is_some())
                })
                .map(|(hash, a)| SnapshotAccess {
                    hash: *hash,
                    family: a.family.to_string(),
                    user: a.user.to_string(),
                    client_id: a.client_id.to_string(),
                    scopes: a.scopes.to_vec(),
                    resource: a.resource.to_string(),
                    expires_at: a.expires_at,
                })
                .collect(),
        }
    }

    pub fn restore(&self, snap: Snapshot, now: u64) {
        let mut s = self.write();
        for u in snap.users {
            s.users.insert(u.name.clone(), u);
        }
        for c in snap.clients {
            s.clients.insert(c.client_id.clone(), c);
        }
        for c in snap.consents {
            s.consents
                .insert((c.user, c.client_id, c.redirect_uri), c.consent);
        }
        for g in snap.grants {
            if let Some(h) = g.refresh {
                s.refresh_index.insert(h, g.family.clone());
            }
            if let Some(p) = &g.previous {
                s.refresh_index.insert(p.hash, g.family.clone());
            }
            for h in &g.retired {
                s.refresh_index.insert(*h, g.family.clone());
            }
            s.grants.insert(g.family.clone(), g);
        }
        for a in snap.access {
            if s.grants.contains_key(&a.family) {
                s.access.insert(
                    a.hash,
                    AccessRec {
                        family: a.family.into(),
                        user: a.user.into(),
                        client_id: a.client_id.into(),
                        scopes: a.scopes.into(),
                        resource: a.resource.into(),
                        expires_at: a.expires_at,
                    },
                );
            }
        }
        s.sweep(now);
    }

    /// Sizes of every map, for tests and diagnostics.
    pub fn counts(&self) -> HashMap<&'static str, usize> {
        let s = self.read();
        HashMap::from([
            ("clients", s.clients.len()),
            ("users", s.users.len()),
            ("consents", s.consents.len()),
            ("pending", s.pending.len()),
            ("sessions", s.sessions.len()),
            ("codes", s.codes.len()),
            ("grants", s.grants.len()),
            ("refresh", s.refresh_index.len()),
            ("access", s.access.len()),
        ])
    }

    fn grant_info(g: &Grant, scopes: Vec<String>) -> GrantInfo {
        GrantInfo {
            user: g.user.clone(),
            client_id: g.client_id.clone(),
            scopes,
            resource: g.resource.clone(),
        }
    }

    fn access_rec(g: &Grant, scopes: &[String], expires_at: u64) -> AccessRec {
        AccessRec {
            family: Arc::from(g.family.as_str()),
            user: Arc::from(g.user.as_str()),
            client_id: Arc::from(g.client_id.as_str()),
            scopes: Arc::from(scopes.to_vec()),
            resource: Arc::from(g.resource.as_str()),
            expires_at,
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn register_client(&self, c: ClientRec) -> Result<(), StoreError> {
        {
            let mut s = self.write();
            if s.clients.len() >= MAX_CLIENTS {
                s.sweep(c.created_at);
            }
            if s.clients.len() >= MAX_CLIENTS {
                return Err(StoreError::Full);
            }
            if s.clients.contains_key(&c.client_id) {
                return Err(StoreError::AlreadyExists);
            }
            s.clients.insert(c.client_id.clone(), c);
        }
        self.durable_changed();
        Ok(())
    }

    async fn cache_cimd_client(&self, c: ClientRec) -> Result<(), StoreError> {
        let mut s = self.write();
        if !s.clients.contains_key(&c.client_id) && s.clients.len() >= MAX_CLIENTS {
            s.sweep(c.created_at);
            if s.clients.len() >= MAX_CLIENTS {
                return Err(StoreError::Full);
            }
        }
        let last_used = s.clients.get(&c.client_id).and_then(|o| o.last_used);
        s.clients
            .insert(c.client_id.clone(), ClientRec { last_used, ..c });
        Ok(())
    }

    async fn client(&self, client_id: &str) -> Option<ClientRec> {
        self.read().clients.get(client_id).cloned()
    }

    async fn create_user(&self, u: UserRec) -> Result<(), StoreError> {
        {
            let mut s = self.write();
            if s.users.contains_key(&u.name) {
                return Err(StoreError::AlreadyExists);
            }
            if s.users.len() >= MAX_USERS {
                return Err(StoreError::Full);
            }
            s.users.insert(u.name.clone(), u);
        }
        self.durable_changed();
        Ok(())
    }

    async fn user(&self, name: &str) -> Option<UserRec> {
        self.read().users.get(name).cloned()
    }

    async fn put_pending(&self, id: &str, p: PendingAuth, now: u64) -> Result<(), StoreError> {
        let mut s = self.write();
        if s.pending.len() >= MAX_PENDING {
            s.pending.retain(|_, p| p.expires_at > now);
            if s.pending.len() >= MAX_PENDING {
                return Err(StoreError::Full);
            }
        }
        s.pending.insert(id.to_owned(), p);
        Ok(())
    }

    async fn pending(&self, id: &str, now: u64) -> Option<PendingAuth> {
        self.read()
            .pending
            .get(id)
            .filter(|p| p.expires_at > now)
            .cloned()
    }

    async fn take_pending(&self, id: &str, now: u64) -> Option<PendingAuth> {
        self.write()
            .pending
            .remove(id)
            .filter(|p| p.expires_at > now)
    }

    async fn create_session(
        &self,
        hash: TokenHash,
        sess: Session,
        now: u64,
    ) -> Result<(), StoreError> {
        let mut s = self.write();
        if s.sessions.len() >= MAX_SESSIONS {
            s.sessions.retain(|_, x| x.expires_at > now);
            if s.sessions.len() >= MAX_SESSIONS {
                return Err(StoreError::Full);
            }
        }
        s.sessions.insert(hash, sess);
        Ok(())
    }

    async fn session(&self, hash: &TokenHash, now: u64) -> Option<Session> {
        self.read()
            .sessions
            .get(hash)
            .filter(|s| s.expires_at > now)
            .cloned()
    }

    async fn consent(&self, user: &str, client_id: &str, redirect_uri: &str) -> Option<Consent> {
        self.read()
            .consents
            .get(&(
                user.to_owned(),
                client_id.to_owned(),
                redirect_uri.to_owned(),
            ))
            .cloned()
    }

    async fn record_consent(
        &self,
        user: &str,
        client_id: &str,
        redirect_uri: &str,
        c: Consent,
    ) -> Result<(), StoreError> {
        {
            let mut s = self.write();
            let key = (
                user.to_owned(),
                client_id.to_owned(),
                redirect_uri.to_owned(),
            );
            if !s.consents.contains_key(&key) && s.consents.len() >= MAX_CONSENTS {
                // Forget consents of clients that no longer exist.
                let clients: std::collections::HashSet<String> =
                    s.clients.keys().cloned().collect();
                s.consents.retain(|(_, c, _), _| clients.contains(c));
                if s.consents.len() >= MAX_CONSENTS {
                    return Err(StoreError::Full);
                }
            }
            s.consents.insert(key, c);
        }
        self.durable_changed();
        Ok(())
    }

    async fn issue_code(&self, hash: TokenHash, code: CodeRec) -> Result<(), StoreError> {
        let mut s = self.write();
        let now = code.issued_at;
        if s.codes.len() >= MAX_CODES || s.grants.len() >= MAX_GRANTS {
            s.sweep(now);
            if s.codes.len() >= MAX_CODES || s.grants.len() >= MAX_GRANTS {
                return Err(StoreError::Full);
            }
        }
        let g = Grant {
            family: code.family.clone(),
            user: code.user.clone(),
            client_id: code.client_id.clone(),
            scopes: code.scopes.clone(),
            resource: code.resource.clone(),
            created_at: now,
            expires_at: code.expires_at,
            refresh: None,
            previous: None,
            retired: Vec::new(),
            access: Vec::new(),
        };
        s.grants.insert(code.family.clone(), g);
        s.codes.insert(hash, code);
        Ok(())
    }

    async fn take_code(&self, hash: &TokenHash, now: u64) -> TakeCode {
        let mut s = self.write();
        if let Some(code) = s.codes.remove(hash) {
            s.used_codes
                .insert(*hash, (code.family.clone(), now + USED_CODE_MEMORY_SECS));
            if code.expires_at <= now {
                s.remove_grant(&code.family);
                return TakeCode::Invalid;
            }
            return TakeCode::Ok(code);
        }
        if let Some((family, _)) = s.used_codes.get(hash).cloned() {
            // RFC 6749 §10.5: a replayed code revokes everything issued from it.
            s.remove_grant(&family);
            drop(s);
            self.durable_changed();
            return TakeCode::Replayed;
        }
        TakeCode::Invalid
    }

    async fn activate_grant(
        &self,
        family: &str,
        access: TokenHash,
        access_expires_at: u64,
        refresh: TokenHash,
        refresh_expires_at: u64,
        now: u64,
    ) -> Result<GrantInfo, StoreError> {
        let info = {
            let mut s = self.write();
            let Some(g) = s.grants.get_mut(family) else {
                return Err(StoreError::Backend("grant not found".into()));
            };
            if g.refresh.is_some() {
                return Err(StoreError::AlreadyExists);
            }
            g.refresh = Some(refresh);
            g.expires_at = refresh_expires_at;
            let rec = Self::access_rec(g, &g.scopes, access_expires_at);
            let info = Self::grant_info(g, g.scopes.clone());
            let client_id = g.client_id.clone();
            s.refresh_index.insert(refresh, family.to_owned());
            s.add_access(family, access, rec)?;
            if let Some(c) = s.clients.get_mut(&client_id) {
                c.last_used = Some(now);
            }
            info
        };
        self.durable_changed();
        Ok(info)
    }

    async fn rotate_refresh(&self, req: RotateReq) -> Rotate {
        let result = {
            let mut s = self.write();
            let Some(family) = s.refresh_index.get(&req.presented).cloned() else {
                return Rotate::Invalid;
            };
            let Some(g) = s.grants.get(&family) else {
                s.refresh_index.remove(&req.presented);
                return Rotate::Invalid;
            };
            if g.expires_at <= req.now || g.client_id != req.client_id {
                return Rotate::Invalid;
            }
            if let Some(r) = &req.resource
                && *r != g.resource
            {
                return Rotate::InvalidTarget;
            }
            let scopes = match &req.scopes {
                None => g.scopes.clone(),
                Some(want) if !want.is_empty() && want.iter().all(|w| g.scopes.contains(w)) => {
                    want.clone()
                }
                Some(_) => return Rotate::InvalidScope,
            };
            let is_current = g.refresh.is_some_and(|h| h.ct_eq(&req.presented));
            let in_grace = g.previous.as_ref().and_then(|p| {
                (p.hash.ct_eq(&req.presented) && req.now <= p.rotated_at + req.grace_secs)
                    .then_some(p.successor_ct)
            });
            if is_current {
                let g = s.grants.get_mut(&family).expect("checked above");
                if let Some(old) = g.previous.take() {
                    g.retired.push(old.hash);
                }
                if g.retired.len() > MAX_RETIRED_PER_GRANT {
                    let gone = g.retired.remove(0);
                    s.refresh_index.remove(&gone);
                }
                let g = s.grants.get_mut(&family).expect("checked above");
                g.previous = Some(Rotated {
                    hash: req.presented,
                    rotated_at: req.now,
                    successor_ct: req.successor_ct,
                });
                g.refresh = Some(req.new_refresh);
                g.expires_at = req.refresh_expires_at;
                let rec = Self::access_rec(g, &scopes, req.access_expires_at);
                let info = Self::grant_info(g, scopes);
                let client_id = g.client_id.clone();
                s.refresh_index.insert(req.new_refresh, family.clone());
                if s.add_access(&family, req.new_access, rec).is_err() {
                    return Rotate::Invalid;
                }
                if let Some(c) = s.clients.get_mut(&client_id) {
                    c.last_used = Some(req.now);
                }
                Rotate::Rotated(info)
            } else if let Some(successor_ct) = in_grace {
                let rec = Self::access_rec(g, &scopes, req.access_expires_at);
                let info = Self::grant_info(g, scopes);
                if s.add_access(&family, req.new_access, rec).is_err() {
                    return Rotate::Invalid;
                }
                // Nothing durable changed.
                return Rotate::Grace { info, successor_ct };
            } else {
                // A known but superseded token: treat as stolen.
                s.remove_grant(&family);
                Rotate::ReuseDetected
            }
        };
        self.durable_changed();
        result
    }

    async fn access(&self, hash: &TokenHash, now: u64) -> Option<AccessRec> {
        let s = self.read();
        let rec = s.access.get(hash)?;
        (rec.expires_at > now).then(|| rec.clone())
    }

    async fn revoke_token(&self, hash: &TokenHash, client_id: &str) -> Revoked {
        let outcome = {
            let mut s = self.write();
            if let Some(a) = s.access.get(hash) {
                if &*a.client_id != client_id {
                    return Revoked::Nothing;
                }
                let family = a.family.clone();
                s.access.remove(hash);
                if let Some(g) = s.grants.get_mut(&*family) {
                    g.access.retain(|h| h != hash);
                }
                return Revoked::Access;
            }
            match s.refresh_index.get(hash).cloned() {
                Some(family)
                    if s.grants
                        .get(&family)
                        .is_some_and(|g| g.client_id == client_id) =>
                {
                    s.remove_grant(&family);
                    Revoked::Grant
                }
                _ => Revoked::Nothing,
            }
        };
        if outcome == Revoked::Grant {
            self.durable_changed();
        }
        outcome
    }

    async fn revoke_grant(&self, family: &str) {
        self.write().remove_grant(family);
        self.durable_changed();
    }

    async fn sweep(&self, now: u64) {
        self.write().sweep(now);
    }
}

/// The contract every [`Store`] must meet, written against the trait so the
/// next backend (shared/Redis) runs the very same checks.
#[cfg(test)]
pub(crate) mod contract {
    use super::*;
    use crate::oauth::tokens::{TokenHash, mint};

    fn code(family: &str, now: u64) -> CodeRec {
        CodeRec {
            family: family.into(),
            client_id: "c1".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            code_challenge: "x".into(),
            scopes: vec!["mcp:tools".into()],
            resource: "https://h/mcp".into(),
            user: "alice".into(),
            issued_at: now,
            expires_at: now + 300,
        }
    }

    /// Opens a grant and returns (access hash, refresh hash).
    async fn active_grant(s: &dyn Store, family: &str, now: u64) -> (TokenHash, TokenHash) {
        let (_, ch) = mint("c");
        s.issue_code(ch, code(family, now)).await.unwrap();
        assert!(matches!(s.take_code(&ch, now).await, TakeCode::Ok(_)));
        let (_, at) = mint("a");
        let (_, rt) = mint("r");
        s.activate_grant(family, at, now + 3600, rt, now + 86_400, now)
            .await
            .unwrap();
        (at, rt)
    }

    fn rotate_req(presented: TokenHash, now: u64) -> (RotateReq, TokenHash, TokenHash) {
        let (_, new_rt) = mint("r");
        let (_, new_at) = mint("a");
        let (_, ct) = mint("ct");
        (
            RotateReq {
                presented,
                client_id: "c1".into(),
                new_refresh: new_rt,
                successor_ct: ct,
                new_access: new_at,
                access_expires_at: now + 3600,
                refresh_expires_at: now + 86_400,
                scopes: None,
                resource: None,
                now,
                grace_secs: 120,
            },
            new_rt,
            new_at,
        )
    }

    pub async fn codes_are_single_use_and_replay_revokes(s: &dyn Store) {
        let now = 1_000;
        let (_, ch) = mint("c");
        s.issue_code(ch, code("f1", now)).await.unwrap();
        assert!(matches!(s.take_code(&ch, now).await, TakeCode::Ok(c) if c.user == "alice"));
        let (at, rt) = {
            let (_, at) = mint("a");
            let (_, rt) = mint("r");
            s.activate_grant("f1", at, now + 3600, rt, now + 86_400, now)
                .await
                .unwrap();
            (at, rt)
        };
        assert!(s.access(&at, now).await.is_some());
        assert!(matches!(s.take_code(&ch, now).await, TakeCode::Replayed));
        assert!(s.access(&at, now).await.is_none());
        let (req, _, _) = rotate_req(rt, now);
        assert!(matches!(s.rotate_refresh(req).await, Rotate::Invalid));
        let (_, unknown) = mint("c");
        assert!(matches!(
            s.take_code(&unknown, now).await,
            TakeCode::Invalid
        ));
    }

    pub async fn expired_codes_are_invalid(s: &dyn Store) {
        let (_, ch) = mint("c");
        s.issue_code(ch, code("f2", 0)).await.unwrap();
        assert!(matches!(s.take_code(&ch, 301).await, TakeCode::Invalid));
    }

    pub async fn rotation_grace_and_reuse(s: &dyn Store) {
        let now = 5_000;
        let (_, rt1) = active_grant(s, "f3", now).await;
        let (req, rt2, at2) = rotate_req(rt1, now);
        let ct = req.successor_ct;
        assert!(matches!(s.rotate_refresh(req).await, Rotate::Rotated(i) if i.user == "alice"));
        assert!(s.access(&at2, now).await.is_some());
        // Within grace: same successor ciphertext, a new access token.
        let (req, _, at3) = rotate_req(rt1, now + 60);
        match s.rotate_refresh(req).await {
            Rotate::Grace { successor_ct, .. } => assert_eq!(successor_ct, ct),
            other => panic!("expected grace, got {other:?}"),
        }
        assert!(s.access(&at3, now + 60).await.is_some());
        // After grace: reuse revokes everything.
        let (req, _, _) = rotate_req(rt1, now + 121);
        assert!(matches!(s.rotate_refresh(req).await, Rotate::ReuseDetected));
        assert!(s.access(&at2, now + 121).await.is_none());
        let (req, _, _) = rotate_req(rt2, now + 122);
        assert!(matches!(s.rotate_refresh(req).await, Rotate::Invalid));
    }

    pub async fn rotation_checks_client_scope_and_target(s: &dyn Store) {
        let now = 9_000;
        let (_, rt) = active_grant(s, "f4", now).await;
        let (mut req, _, _) = rotate_req(rt, now);
        req.client_id = "other".into();
        assert!(matches!(s.rotate_refresh(req).await, Rotate::Invalid));
        let (mut req, _, _) = rotate_req(rt, now);
        req.scopes = Some(vec!["admin".into()]);
        assert!(matches!(s.rotate_refresh(req).await, Rotate::InvalidScope));
        let (mut req, _, _) = rotate_req(rt, now);
        req.resource = Some("https://h".into());
        assert!(matches!(s.rotate_refresh(req).await, Rotate::InvalidTarget));
        // None of those consumed the token.
        let (req, _, _) = rotate_req(rt, now);
        assert!(matches!(s.rotate_refresh(req).await, Rotate::Rotated(_)));
    }

    pub async fn revocation_checks_ownership(s: &dyn Store) {
        let now = 20_000;
        let (at, rt) = active_grant(s, "f5", now).await;
        assert_eq!(s.revoke_token(&at, "other").await, Revoked::Nothing);
        assert_eq!(s.revoke_token(&rt, "other").await, Revoked::Nothing);
        assert!(s.access(&at, now).await.is_some());
        assert_eq!(s.revoke_token(&at, "c1").await, Revoked::Access);
        assert!(s.access(&at, now).await.is_none());
        assert_eq!(s.revoke_token(&rt, "c1").await, Revoked::Grant);
        let (req, _, _) = rotate_req(rt, now);
        assert!(matches!(s.rotate_refresh(req).await, Rotate::Invalid));
    }

    pub async fn pending_requests_are_taken_once(s: &dyn Store) {
        let (_, h) = mint("x");
        let p = PendingAuth {
            client_id: "c1".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            code_challenge: "x".into(),
            scopes: None,
            state: None,
            resource: "https://h/mcp".into(),
            csrf: h,
            browser: h,
            force_login: false,
            expires_at: 600,
        };
        s.put_pending("r1", p, 0).await.unwrap();
        assert!(s.pending("r1", 1).await.is_some());
        assert!(s.take_pending("r1", 1).await.is_some());
        assert!(s.take_pending("r1", 1).await.is_none());
        s.put_pending("r2", s_pending_expired(h), 0).await.unwrap();
        assert!(s.pending("r2", 601).await.is_none());
    }

    fn s_pending_expired(h: TokenHash) -> PendingAuth {
        PendingAuth {
            client_id: "c1".into(),
            redirect_uri: "u".into(),
            code_challenge: "x".into(),
            scopes: None,
            state: None,
            resource: "r".into(),
            csrf: h,
            browser: h,
            force_login: false,
            expires_at: 600,
        }
    }

    pub async fn clients_users_consents(s: &dyn Store) {
        let c = ClientRec {
            client_id: "c9".into(),
            client_name: None,
            redirect_uris: vec!["https://a/cb".into()],
            auth_method: AuthMethod::None,
            secret_hash: None,
            kind: ClientKind::Dcr,
            created_at: 0,
            last_used: None,
            cache_until: None,
        };
        s.register_client(c.clone()).await.unwrap();
        assert_eq!(s.register_client(c).await, Err(StoreError::AlreadyExists));
        assert!(s.client("c9").await.is_some());
        let u = UserRec {
            name: "bob".into(),
            phc: "$argon2id$x".into(),
        };
        s.create_user(u.clone()).await.unwrap();
        assert_eq!(s.create_user(u).await, Err(StoreError::AlreadyExists));
        let consent = Consent {
            scopes: vec!["mcp:tools".into()],
            granted_at: 1,
        };
        s.record_consent("bob", "c9", "https://a/cb", consent)
            .await
            .unwrap();
        assert!(s.consent("bob", "c9", "https://a/cb").await.is_some());
        assert!(s.consent("bob", "c9", "https://a/other").await.is_none());
        // Unused DCR clients are swept after a day.
        s.sweep(UNUSED_CLIENT_TTL_SECS + 1).await;
        assert!(s.client("c9").await.is_none());
    }

    pub async fn run_all(make: impl Fn() -> Box<dyn Store>) {
        codes_are_single_use_and_replay_revokes(make().as_ref()).await;
        expired_codes_are_invalid(make().as_ref()).await;
        rotation_grace_and_reuse(make().as_ref()).await;
        rotation_checks_client_scope_and_target(make().as_ref()).await;
        revocation_checks_ownership(make().as_ref()).await;
        pending_requests_are_taken_once(make().as_ref()).await;
        clients_users_consents(make().as_ref()).await;
    }

    #[tokio::test]
    async fn memory_store_meets_the_contract() {
        run_all(|| Box::new(MemoryStore::new())).await;
    }

    #[tokio::test]
    async fn snapshot_roundtrip_keeps_grants_and_their_access_tokens() {
        let a = MemoryStore::new();
        let now = 100;
        let (at, rt) = active_grant(&a, "f", now).await;
        let json = serde_json::to_string(&a.snapshot()).unwrap();
        let b = MemoryStore::new();
        b.restore(serde_json::from_str(&json).unwrap(), now);
        assert!(b.access(&at, now).await.is_some());
        let (req, _, _) = rotate_req(rt, now + 1);
        assert!(matches!(b.rotate_refresh(req).await, Rotate::Rotated(_)));
    }
}
