//! The durable part of [`MemoryStore`], as written to the state file: users,
//! clients (DCR registrations and the last good CIMD documents), consents,
//! active grants with the hashes of their live access tokens, and the shared
//! secrets. Pending pages, codes, sessions and throttle windows are
//! short-lived and start empty.

use super::memory::{Grant, MemoryStore};
use super::{AccessRec, ClientRec, Consent, ConsentKey, UserRec};
use crate::oauth::tokens::TokenHash;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const SNAPSHOT_VERSION: u32 = 1;

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
    /// Keys from [`super::Store::secret`], so that device cookies stay valid
    /// across a restart.
    #[serde(default)]
    secrets: HashMap<String, SecretBytes>,
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
    #[serde(flatten)]
    pub key: ConsentKey,
    pub consent: Consent,
}

/// A secret key in the file: base64url like the hashes, never `Debug`-printed.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct SecretBytes(TokenHash);

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBytes(<redacted>)")
    }
}

impl MemoryStore {
    pub fn snapshot(&self) -> Snapshot {
        let s = self.read();
        let persisted = |family: &str| s.grants.get(family).is_some_and(|g| g.refresh.is_some());
        Snapshot {
            version: SNAPSHOT_VERSION,
            users: s.users.values().cloned().collect(),
            clients: s.clients.values().cloned().collect(),
            consents: s
                .consents
                .iter()
                .map(|(key, consent)| SnapshotConsent {
                    key: key.clone(),
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
                .filter(|(_, a)| persisted(&a.family))
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
            secrets: s
                .secrets
                .iter()
                .map(|(k, v)| (k.clone(), SecretBytes(TokenHash(*v))))
                .collect(),
        }
    }

    /// Loads a snapshot into an empty store. Access tokens are linked back
    /// to their grants, so revoking a grant (or detecting reuse) after a
    /// restart still kills the tokens issued before it.
    pub fn restore(&self, snap: Snapshot, now: u64) {
        let mut s = self.write();
        for mut u in snap.users {
            // Older files kept names as typed; names are now compared in
            // lower case. They also lack timestamps: count the account as
            // in use from now.
            u.name.make_ascii_lowercase();
            if u.created_at == 0 && u.last_seen.is_none() {
                u.last_seen = Some(now);
            }
            s.users.entry(u.name.clone()).or_insert(u);
        }
        for c in snap.clients {
            s.clients.insert(c.client_id.clone(), c);
        }
        for SnapshotConsent { mut key, consent } in snap.consents {
            key.user.make_ascii_lowercase();
            s.consents.insert(key, consent);
        }
        for g in snap.grants {
            for h in g
                .refresh
                .iter()
                .chain(g.previous.as_ref().map(|p| &p.hash))
                .chain(&g.retired)
            {
                s.refresh_index.insert(*h, g.family.clone());
            }
            s.grants.insert(g.family.clone(), g);
        }
        for a in snap.access {
            let Some(g) = s.grants.get_mut(&a.family) else {
                continue;
            };
            g.access.push(a.hash);
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
        for (name, key) in snap.secrets {
            s.secrets.insert(name, key.0.0);
        }
        s.sweep(now);
    }
}

#[cfg(test)]
mod tests {
    use super::super::contract::active_grant;
    use super::super::{Revoked, Store};
    use super::*;

    #[tokio::test]
    async fn a_restored_grant_keeps_its_access_tokens_and_revokes_them() {
        let a = MemoryStore::default();
        let now = 100;
        let (access, refresh) = active_grant(&a, "f", now).await;
        let key = a.secret("k").await.unwrap();

        let json = serde_json::to_string(&a.snapshot()).unwrap();
        let b = MemoryStore::default();
        b.restore(serde_json::from_str(&json).unwrap(), now);
        assert!(b.access(&access, now).await.unwrap().is_some());
        assert_eq!(b.secret("k").await.unwrap(), key);
        assert_eq!(
            b.revoke_token(&refresh, "c1").await.unwrap(),
            Revoked::Grant
        );
        assert!(b.access(&access, now).await.unwrap().is_none());
    }
}
