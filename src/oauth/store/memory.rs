//! The in-memory [`Store`]: maps behind one `RwLock`. Bearer checks take only
//! the read lock; no lock is held across an `.await`, so each operation is
//! atomic simply by running under one write lock. Every map is bounded by
//! [`StoreLimits`]; expired entries are dropped by [`Store::sweep`] and, when
//! a map is full, on the spot.

use super::{
    AccessRec, Admit, ClientRec, CodeRec, Consent, ConsentKey, GrantInfo, Limit, PendingAuth,
    Redeem, Redeemed, Revoked, Rotate, RotateReq, Session, Store, StoreError, StoreLimits,
    StoreResult, USED_CODE_MEMORY_SECS, UserRec,
};
use crate::oauth::tokens::{TokenHash, random_bytes};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Rotated {
    pub hash: TokenHash,
    pub rotated_at: u64,
    /// The successor, encrypted with a pad only the presented token derives.
    pub successor_ct: TokenHash,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Grant {
    pub family: String,
    pub user: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub resource: String,
    pub created_at: u64,
    /// Until the code is exchanged: the code's expiry. Then: refresh expiry.
    pub expires_at: u64,
    pub refresh: Option<TokenHash>,
    pub previous: Option<Rotated>,
    pub retired: Vec<TokenHash>,
    /// Live access tokens; the snapshot keeps them as access records and
    /// [`MemoryStore::restore`] links them back.
    #[serde(skip)]
    pub access: Vec<TokenHash>,
}

impl Grant {
    fn info(&self, scopes: Vec<String>) -> GrantInfo {
        GrantInfo {
            user: self.user.clone(),
            client_id: self.client_id.clone(),
            scopes,
            resource: self.resource.clone(),
        }
    }

    fn access_rec(&self, scopes: &[String], expires_at: u64) -> AccessRec {
        AccessRec {
            family: Arc::from(self.family.as_str()),
            user: Arc::from(self.user.as_str()),
            client_id: Arc::from(self.client_id.as_str()),
            scopes: Arc::from(scopes.to_vec()),
            resource: Arc::from(self.resource.as_str()),
            expires_at,
        }
    }
}

/// One throttle key's current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    count: u32,
    started: u64,
    secs: u64,
}

impl Window {
    fn ends(&self) -> u64 {
        self.started + self.secs
    }
}

#[derive(Default)]
pub(super) struct State {
    pub clients: HashMap<String, ClientRec>,
    pub users: HashMap<String, UserRec>,
    pub consents: HashMap<ConsentKey, Consent>,
    pending: HashMap<String, PendingAuth>,
    pending_by_owner: HashMap<String, usize>,
    sessions: HashMap<TokenHash, Session>,
    codes: HashMap<TokenHash, CodeRec>,
    used_codes: HashMap<TokenHash, (String, u64)>,
    pub grants: HashMap<String, Grant>,
    pub refresh_index: HashMap<TokenHash, String>,
    pub access: HashMap<TokenHash, AccessRec>,
    throttles: HashMap<String, Window>,
    pub secrets: HashMap<String, [u8; 32]>,
}

impl State {
    pub(super) fn remove_grant(&mut self, family: &str) {
        if let Some(g) = self.grants.remove(family) {
            for h in &g.access {
                self.access.remove(h);
            }
            for h in g
                .refresh
                .iter()
                .chain(g.previous.as_ref().map(|p| &p.hash))
                .chain(&g.retired)
            {
                self.refresh_index.remove(h);
            }
        }
        self.codes.retain(|_, c| c.family != family);
    }

    fn add_access(
        &mut self,
        limits: &StoreLimits,
        family: &str,
        hash: TokenHash,
        rec: AccessRec,
    ) -> StoreResult<()> {
        if self.access.len() >= limits.access_tokens {
            return Err(StoreError::Full);
        }
        let Some(g) = self.grants.get_mut(family) else {
            return Err(StoreError::Backend("grant vanished".into()));
        };
        if g.access.len() >= limits.access_per_grant {
            let old = g.access.remove(0);
            self.access.remove(&old);
        }
        g.access.push(hash);
        self.access.insert(hash, rec);
        Ok(())
    }

    fn touch_client(&mut self, client_id: &str, now: u64) {
        if let Some(c) = self.clients.get_mut(client_id) {
            c.last_used = Some(now);
        }
    }

    fn remove_pending(&mut self, id: &str) -> Option<PendingAuth> {
        let p = self.pending.remove(id)?;
        if let Some(n) = self.pending_by_owner.get_mut(&p.owner) {
            *n -= 1;
            if *n == 0 {
                self.pending_by_owner.remove(&p.owner);
            }
        }
        Some(p)
    }

    fn sweep_pending(&mut self, now: u64) {
        let dead: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.expires_at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in dead {
            self.remove_pending(&id);
        }
    }

    pub(super) fn sweep(&mut self, now: u64) {
        self.sweep_pending(now);
        self.sessions.retain(|_, s| s.expires_at > now);
        self.codes.retain(|_, c| c.expires_at > now);
        self.used_codes.retain(|_, (_, until)| *until > now);
        self.access.retain(|_, a| a.expires_at > now);
        self.throttles.retain(|_, w| w.ends() > now);
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
        self.clients.retain(|_, c| c.keep_until() > now);
        let gone: Vec<String> = self
            .users
            .values()
            .filter(|u| u.keep_until() <= now)
            .map(|u| u.name.clone())
            .collect();
        if !gone.is_empty() {
            for name in &gone {
                self.users.remove(name);
            }
            // A later account of the same name must not inherit approvals.
            // (Configured users are not in the map: theirs stay.)
            self.consents.retain(|key, _| !gone.contains(&key.user));
        }
    }

    /// Makes room for one more throttle key: expired windows go first, then
    /// the least-used ones, so a spray of one-off keys cannot grow memory.
    fn make_throttle_room(&mut self, cap: usize, now: u64) {
        if self.throttles.len() < cap {
            return;
        }
        self.throttles.retain(|_, w| w.ends() > now);
        if self.throttles.len() >= cap {
            self.throttles.retain(|_, w| w.count > 1);
        }
        while self.throttles.len() >= cap {
            let Some(k) = self.throttles.keys().next().cloned() else {
                break;
            };
            self.throttles.remove(&k);
        }
    }
}

/// See the module docs.
pub struct MemoryStore {
    state: RwLock<State>,
    limits: StoreLimits,
    /// Signalled after every change to durable data (state-file writer).
    changed: Arc<Notify>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(StoreLimits::default())
    }
}

impl MemoryStore {
    pub fn new(limits: StoreLimits) -> Self {
        MemoryStore {
            state: RwLock::new(State::default()),
            limits,
            changed: Arc::new(Notify::new()),
        }
    }

    pub fn changed(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    pub(super) fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn durable_changed(&self) {
        self.changed.notify_one();
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
            ("throttles", s.throttles.len()),
        ])
    }

    fn insert_client(&self, c: ClientRec, replace: bool) -> StoreResult<()> {
        {
            let mut s = self.write();
            let existing = s.clients.get(&c.client_id);
            if existing.is_some() && !replace {
                return Err(StoreError::AlreadyExists);
            }
            let last_used = existing.and_then(|o| o.last_used);
            if existing.is_none() && s.clients.len() >= self.limits.clients {
                s.sweep(c.created_at);
                if s.clients.len() >= self.limits.clients {
                    return Err(StoreError::Full);
                }
            }
            let last_used = last_used.or(c.last_used);
            s.clients
                .insert(c.client_id.clone(), ClientRec { last_used, ..c });
        }
        self.durable_changed();
        Ok(())
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn register_client(&self, c: ClientRec) -> StoreResult<()> {
        self.insert_client(c, false)
    }

    async fn cache_cimd_client(&self, c: ClientRec) -> StoreResult<()> {
        self.insert_client(c, true)
    }

    async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRec>> {
        Ok(self.read().clients.get(client_id).cloned())
    }

    async fn create_user(&self, u: UserRec) -> StoreResult<()> {
        {
            let mut s = self.write();
            if s.users.contains_key(&u.name) {
                return Err(StoreError::AlreadyExists);
            }
            if s.users.len() >= self.limits.users {
                s.sweep(u.created_at);
                if s.users.len() >= self.limits.users {
                    return Err(StoreError::Full);
                }
            }
            s.users.insert(u.name.clone(), u);
        }
        self.durable_changed();
        Ok(())
    }

    async fn user(&self, name: &str) -> StoreResult<Option<UserRec>> {
        Ok(self.read().users.get(name).cloned())
    }

    async fn touch_user(&self, name: &str, now: u64) -> StoreResult<()> {
        let touched = match self.write().users.get_mut(name) {
            Some(u) => {
                u.last_seen = Some(now);
                true
            }
            None => false,
        };
        if touched {
            self.durable_changed();
        }
        Ok(())
    }

    async fn put_pending(&self, id: &str, p: PendingAuth, now: u64) -> StoreResult<()> {
        let mut s = self.write();
        let mine = s.pending_by_owner.get(&p.owner).copied().unwrap_or(0);
        if mine >= self.limits.pending_per_owner || s.pending.len() >= self.limits.pending {
            s.sweep_pending(now);
        }
        if s.pending_by_owner.get(&p.owner).copied().unwrap_or(0) >= self.limits.pending_per_owner {
            return Err(StoreError::OwnerFull);
        }
        if s.pending.len() >= self.limits.pending {
            return Err(StoreError::Full);
        }
        *s.pending_by_owner.entry(p.owner.clone()).or_insert(0) += 1;
        if let Some(old) = s.pending.insert(id.to_owned(), p)
            && let Some(n) = s.pending_by_owner.get_mut(&old.owner)
        {
            // Ids are random; a collision replaces, and must not leak a count.
            *n = n.saturating_sub(1);
        }
        Ok(())
    }

    async fn post_pending(
        &self,
        id: &str,
        max_posts: u32,
        now: u64,
    ) -> StoreResult<Option<PendingAuth>> {
        let mut s = self.write();
        let Some(p) = s.pending.get_mut(id) else {
            return Ok(None);
        };
        if p.expires_at <= now || p.posts >= max_posts {
            s.remove_pending(id);
            return Ok(None);
        }
        p.posts += 1;
        Ok(Some(p.clone()))
    }

    async fn take_pending(&self, id: &str, now: u64) -> StoreResult<Option<PendingAuth>> {
        Ok(self
            .write()
            .remove_pending(id)
            .filter(|p| p.expires_at > now))
    }

    async fn create_session(&self, hash: TokenHash, sess: Session, now: u64) -> StoreResult<()> {
        let mut s = self.write();
        if s.sessions.len() >= self.limits.sessions {
            s.sessions.retain(|_, x| x.expires_at > now);
            if s.sessions.len() >= self.limits.sessions {
                return Err(StoreError::Full);
            }
        }
        s.sessions.insert(hash, sess);
        Ok(())
    }

    async fn session(&self, hash: &TokenHash, now: u64) -> StoreResult<Option<Session>> {
        Ok(self
            .read()
            .sessions
            .get(hash)
            .filter(|s| s.expires_at > now)
            .cloned())
    }

    async fn consent(&self, key: &ConsentKey) -> StoreResult<Option<Consent>> {
        Ok(self.read().consents.get(key).cloned())
    }

    async fn record_consent(&self, key: ConsentKey, c: Consent) -> StoreResult<()> {
        {
            let mut s = self.write();
            if !s.consents.contains_key(&key) && s.consents.len() >= self.limits.consents {
                // Forget consents of clients that no longer exist.
                let state = &mut *s;
                let clients = &state.clients;
                state
                    .consents
                    .retain(|key, _| clients.contains_key(&key.client_id));
                if state.consents.len() >= self.limits.consents {
                    return Err(StoreError::Full);
                }
            }
            s.consents.insert(key, c);
        }
        self.durable_changed();
        Ok(())
    }

    async fn issue_code(&self, hash: TokenHash, code: CodeRec) -> StoreResult<()> {
        let mut s = self.write();
        let now = code.issued_at;
        let full =
            |s: &State| s.codes.len() >= self.limits.codes || s.grants.len() >= self.limits.grants;
        if full(&s) {
            s.sweep(now);
            if full(&s) {
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

    async fn redeem_code(&self, hash: &TokenHash, req: Redeem) -> StoreResult<Redeemed> {
        let now = req.now;
        let info = {
            let mut s = self.write();
            if s.access.len() >= self.limits.access_tokens {
                return Err(StoreError::Full);
            }
            let Some(code) = s.codes.remove(hash) else {
                let Some((family, _)) = s.used_codes.get(hash).cloned() else {
                    return Ok(Redeemed::Invalid);
                };
                // RFC 6749 §10.5: a replayed code revokes everything issued from it.
                s.remove_grant(&family);
                drop(s);
                self.durable_changed();
                return Ok(Redeemed::Replayed);
            };
            s.used_codes
                .insert(*hash, (code.family.clone(), now + USED_CODE_MEMORY_SECS));
            if code.expires_at <= now {
                s.remove_grant(&code.family);
                return Ok(Redeemed::Invalid);
            }
            if let Some(m) = code.mismatch(&req) {
                s.remove_grant(&code.family);
                return Ok(Redeemed::Mismatch(m));
            }
            let family = code.family;
            let Some(g) = s.grants.get_mut(&family) else {
                return Ok(Redeemed::Invalid);
            };
            let tokens = req.tokens;
            g.refresh = Some(tokens.refresh);
            g.expires_at = tokens.refresh_expires_at;
            let rec = g.access_rec(&g.scopes, tokens.access_expires_at);
            let info = g.info(g.scopes.clone());
            s.refresh_index.insert(tokens.refresh, family.clone());
            s.add_access(&self.limits, &family, tokens.access, rec)?;
            s.touch_client(&info.client_id, now);
            info
        };
        self.durable_changed();
        Ok(Redeemed::Issued(info))
    }

    async fn rotate_refresh(&self, req: RotateReq) -> StoreResult<Rotate> {
        let result = {
            let mut s = self.write();
            let Some(family) = s.refresh_index.get(&req.presented).cloned() else {
                return Ok(Rotate::Invalid);
            };
            let Some(g) = s.grants.get_mut(&family) else {
                s.refresh_index.remove(&req.presented);
                return Ok(Rotate::Invalid);
            };
            if g.expires_at <= req.now || g.client_id != req.client_id {
                return Ok(Rotate::Invalid);
            }
            if req.resource.as_ref().is_some_and(|r| *r != g.resource) {
                return Ok(Rotate::InvalidTarget);
            }
            let scopes = match &req.scopes {
                None => g.scopes.clone(),
                Some(want) if !want.is_empty() && want.iter().all(|w| g.scopes.contains(w)) => {
                    want.clone()
                }
                Some(_) => return Ok(Rotate::InvalidScope),
            };
            let is_current = g.refresh.is_some_and(|h| h.ct_eq(&req.presented));
            let in_grace = g.previous.as_ref().and_then(|p| {
                (p.hash.ct_eq(&req.presented) && req.now <= p.rotated_at + req.grace_secs)
                    .then_some(p.successor_ct)
            });
            let rec = g.access_rec(&scopes, req.access_expires_at);
            let info = g.info(scopes);
            if is_current {
                let mut forgotten = None;
                if let Some(old) = g.previous.take() {
                    g.retired.push(old.hash);
                }
                if g.retired.len() > self.limits.retired_per_grant {
                    forgotten = Some(g.retired.remove(0));
                }
                g.previous = Some(Rotated {
                    hash: req.presented,
                    rotated_at: req.now,
                    successor_ct: req.successor_ct,
                });
                g.refresh = Some(req.new_refresh);
                g.expires_at = req.refresh_expires_at;
                if let Some(gone) = forgotten {
                    s.refresh_index.remove(&gone);
                }
                s.refresh_index.insert(req.new_refresh, family.clone());
                s.add_access(&self.limits, &family, req.new_access, rec)?;
                s.touch_client(&info.client_id, req.now);
                Rotate::Rotated(info)
            } else if let Some(successor_ct) = in_grace {
                s.add_access(&self.limits, &family, req.new_access, rec)?;
                // Nothing durable changed.
                return Ok(Rotate::Grace { info, successor_ct });
            } else {
                // A known but superseded token: treat as stolen.
                s.remove_grant(&family);
                Rotate::ReuseDetected
            }
        };
        self.durable_changed();
        Ok(result)
    }

    async fn access(&self, hash: &TokenHash, now: u64) -> StoreResult<Option<AccessRec>> {
        let s = self.read();
        Ok(s.access.get(hash).filter(|r| r.expires_at > now).cloned())
    }

    async fn revoke_token(&self, hash: &TokenHash, client_id: &str) -> StoreResult<Revoked> {
        let outcome = {
            let mut s = self.write();
            if let Some(a) = s.access.get(hash) {
                if &*a.client_id != client_id {
                    return Ok(Revoked::Nothing);
                }
                let family = a.family.clone();
                s.access.remove(hash);
                if let Some(g) = s.grants.get_mut(&*family) {
                    g.access.retain(|h| h != hash);
                }
                return Ok(Revoked::Access);
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
        Ok(outcome)
    }

    async fn revoke_grant(&self, family: &str) -> StoreResult<()> {
        self.write().remove_grant(family);
        self.durable_changed();
        Ok(())
    }

    async fn reserve(&self, key: &str, limit: Limit, now: u64) -> StoreResult<Admit> {
        let mut s = self.write();
        if !s.throttles.contains_key(key) {
            s.make_throttle_room(self.limits.throttles, now);
        }
        let fresh = Window {
            count: 0,
            started: now,
            secs: limit.window_secs,
        };
        let w = s.throttles.entry(key.to_owned()).or_insert(fresh);
        if w.ends() <= now {
            *w = fresh;
        }
        if w.count >= limit.max {
            return Ok(Admit::Refused {
                retry_after: w.ends() - now,
            });
        }
        w.count += 1;
        Ok(Admit::Granted)
    }

    async fn release(&self, key: &str, now: u64) -> StoreResult<()> {
        let mut s = self.write();
        if let Some(w) = s.throttles.get_mut(key)
            && w.ends() > now
        {
            w.count = w.count.saturating_sub(1);
        }
        Ok(())
    }

    async fn secret(&self, name: &str) -> StoreResult<[u8; 32]> {
        let (key, created) = {
            let mut s = self.write();
            match s.secrets.get(name) {
                Some(k) => (*k, false),
                None => {
                    let k = random_bytes();
                    s.secrets.insert(name.to_owned(), k);
                    (k, true)
                }
            }
        };
        if created {
            self.durable_changed();
        }
        Ok(key)
    }

    async fn sweep(&self, now: u64) -> StoreResult<()> {
        self.write().sweep(now);
        Ok(())
    }
}
