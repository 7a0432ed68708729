//! The instance's short memory of access tokens it has looked up, so an MCP
//! request usually costs no round trip to the store.
//!
//! An entry is trusted for [`ACCESS_CACHE_TTL`] only: a token revoked on
//! another instance keeps working here for at most that long (the promise
//! is "revocation is effective everywhere within a second"). Revocations
//! made through this instance drop their entries at once. Only tokens that
//! exist are kept; unknown ones always ask the store.

use crate::oauth::store::AccessRec;
use crate::oauth::tokens::TokenHash;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long a looked-up token is trusted without asking the store again.
pub const ACCESS_CACHE_TTL: Duration = Duration::from_millis(500);
/// Tokens remembered at once; past it, stale entries go, then all.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(super) struct AccessCache {
    entries: RwLock<HashMap<TokenHash, (AccessRec, Instant)>>,
}

impl AccessCache {
    pub fn get(&self, hash: &TokenHash) -> Option<AccessRec> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let (rec, seen) = entries.get(hash)?;
        (seen.elapsed() < ACCESS_CACHE_TTL).then(|| rec.clone())
    }

    pub fn put(&self, hash: TokenHash, rec: AccessRec) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, seen)| seen.elapsed() < ACCESS_CACHE_TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(hash, (rec, Instant::now()));
    }

    pub fn forget(&self, hash: &TokenHash) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(hash);
    }

    pub fn forget_family(&self, family: &str) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (rec, _)| &*rec.family != family);
    }
}
