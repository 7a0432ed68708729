//! Accounts, password checks and login throttling.
//!
//! Passwords are argon2id PHC strings. Verification is CPU- and memory-hard
//! by design, so it runs on the blocking pool behind a small semaphore (a
//! login flood cannot starve the async workers or exhaust memory). Unknown
//! users are verified against a dummy hash so the response time does not
//! reveal which names exist.

use super::config::OAuthArgs;
use super::error::OAuthSetupError;
use super::store::{Store, UserRec};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::Semaphore;

/// Concurrent argon2 verifications (each takes ~19 MiB and tens of ms).
pub const MAX_CONCURRENT_HASHES: usize = 4;
/// Longest accepted password: bounds the hashing work per attempt.
pub const MAX_PASSWORD_LEN: usize = 256;
/// Shortest password a self-registered account may choose.
pub const MIN_SIGNUP_PASSWORD_LEN: usize = 12;
/// Longest user name.
pub const MAX_USERNAME_LEN: usize = 64;
/// Failed logins allowed per account per window, then 429 until it ends.
pub const LOGIN_FAILURES_PER_ACCOUNT: u32 = 5;
/// Failed logins allowed per client IP per window.
pub const LOGIN_FAILURES_PER_IP: u32 = 20;
/// The throttling window.
pub const LOGIN_WINDOW_SECS: u64 = 15 * 60;
/// Keys remembered by one limiter before stale or low-count ones are evicted.
pub const MAX_LIMITER_KEYS: usize = 50_000;

#[derive(Debug)]
pub struct PasswordError(String);

impl std::fmt::Display for PasswordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "password hashing failed: {}", self.0)
    }
}
impl std::error::Error for PasswordError {}

/// Hashes a password to an argon2id PHC string (blocking; call from
/// `spawn_blocking` inside async code). Used by `crypto-mcp hash-password`.
pub fn hash_password(plain: &str) -> Result<String, PasswordError> {
    if plain.is_empty() || plain.len() > MAX_PASSWORD_LEN {
        return Err(PasswordError(format!(
            "password must be 1..={MAX_PASSWORD_LEN} bytes"
        )));
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(plain.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError(e.to_string()))
}

/// For `crypto-mcp hash-password`: reads one line (the password, without
/// its newline) from `input` — a pipe or a terminal — and returns its hash.
/// Reading from stdin keeps the password out of the shell history and `ps`.
pub fn hash_password_from_reader(
    mut input: impl std::io::BufRead,
) -> Result<String, PasswordError> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|e| PasswordError(e.to_string()))?;
    let pw = line.strip_suffix('\n').unwrap_or(&line);
    let pw = pw.strip_suffix('\r').unwrap_or(pw);
    hash_password(pw)
}

fn verify_blocking(phc: &str, plain: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(plain.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

pub fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_USERNAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

/// Configured users plus the store's self-registered ones.
pub struct Users {
    configured: HashMap<String, String>,
    dummy_phc: String,
    hashing: Semaphore,
}

/// Said once at startup, by `main`, to stderr (never into logs).
#[derive(Default)]
pub struct Startup {
    /// `Some((user, password))` when no user was configured.
    pub generated_admin: Option<(String, String)>,
    /// Warnings such as plain-text passwords in the configuration.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Startup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Startup")
            .field(
                "generated_admin",
                &self.generated_admin.as_ref().map(|(u, _)| u),
            )
            .field("warnings", &self.warnings)
            .finish()
    }
}

impl Startup {
    /// The text `main` prints to stderr once.
    pub fn message(&self) -> String {
        let mut out = String::new();
        for w in &self.warnings {
            out.push_str("warning: ");
            out.push_str(w);
            out.push('\n');
        }
        if let Some((user, pw)) = &self.generated_admin {
            out.push_str(&format!(
                "No user configured: generated a one-time password for user '{user}':\n\n    {pw}\n\n\
                 It changes at every start. To set a permanent one, run `crypto-mcp hash-password` \
                 and start with MCP_USERS='{user}:<hash>' (or --user {user}:<hash>).\n"
            ));
        }
        out
    }
}

impl Users {
    pub async fn from_args(args: &OAuthArgs) -> Result<(Users, Startup), OAuthSetupError> {
        let mut startup = Startup::default();
        let mut entries: Vec<(String, String, bool)> = Vec::new();
        for entry in args.user_entries() {
            let Some((name, secret)) = entry.split_once(':') else {
                return Err(OAuthSetupError::User(
                    "expected name:secret (the secret is not shown)".into(),
                ));
            };
            if !valid_username(name) {
                return Err(OAuthSetupError::User(format!(
                    "user name {name:?} must be 1-{MAX_USERNAME_LEN} of A-Z a-z 0-9 . _ - @"
                )));
            }
            if secret.starts_with("$argon2") {
                if PasswordHash::new(secret).is_err() {
                    return Err(OAuthSetupError::User(format!(
                        "user {name}: not a valid argon2 PHC hash"
                    )));
                }
                entries.push((name.to_owned(), secret.to_owned(), false));
            } else {
                if secret.is_empty() || secret.len() > MAX_PASSWORD_LEN {
                    return Err(OAuthSetupError::User(format!(
                        "user {name}: empty or too long password"
                    )));
                }
                startup.warnings.push(format!(
                    "user '{name}' has a plain-text password in the configuration; \
                     use `crypto-mcp hash-password` and configure the hash instead"
                ));
                entries.push((name.to_owned(), secret.to_owned(), true));
            }
        }
        if entries.is_empty() {
            let pw = super::tokens::format_secret("", &super::tokens::random_bytes());
            entries.push(("admin".into(), pw.clone(), true));
            startup.generated_admin = Some(("admin".into(), pw));
        }
        let dummy = "crypto-mcp dummy password for unknown users".to_owned();
        entries.push((String::new(), dummy, true));
        let hashed = tokio::task::spawn_blocking(move || {
            entries
                .into_iter()
                .map(|(n, s, plain)| {
                    let phc = if plain { hash_password(&s)? } else { s };
                    Ok((n, phc))
                })
                .collect::<Result<Vec<_>, PasswordError>>()
        })
        .await
        .map_err(|e| OAuthSetupError::User(e.to_string()))?
        .map_err(|e| OAuthSetupError::User(e.to_string()))?;
        let mut configured = HashMap::new();
        let mut dummy_phc = String::new();
        for (n, phc) in hashed {
            if n.is_empty() {
                dummy_phc = phc;
            } else {
                configured.insert(n, phc);
            }
        }
        Ok((
            Users {
                configured,
                dummy_phc,
                hashing: Semaphore::new(MAX_CONCURRENT_HASHES),
            },
            startup,
        ))
    }

    pub fn is_configured(&self, name: &str) -> bool {
        self.configured.contains_key(name)
    }

    /// True iff `name` exists and `password` is its password. Takes about the
    /// same time whether or not the user exists.
    pub async fn verify(&self, store: &dyn Store, name: &str, password: &str) -> bool {
        if password.len() > MAX_PASSWORD_LEN {
            return false;
        }
        let found = match self.configured.get(name) {
            Some(phc) => Some(phc.clone()),
            None if valid_username(name) => store.user(name).await.map(|u| u.phc),
            None => None,
        };
        let exists = found.is_some();
        let phc = found.unwrap_or_else(|| self.dummy_phc.clone());
        let Ok(_permit) = self.hashing.acquire().await else {
            return false;
        };
        let pw = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&phc, &pw))
            .await
            .unwrap_or(false);
        ok && exists
    }

    /// Self-registration: hashes off the async workers, then creates the user.
    pub async fn sign_up(&self, store: &dyn Store, name: &str, password: &str) -> SignUp {
        if !valid_username(name) {
            return SignUp::BadName;
        }
        if password.len() < MIN_SIGNUP_PASSWORD_LEN || password.len() > MAX_PASSWORD_LEN {
            return SignUp::WeakPassword;
        }
        if self.configured.contains_key(name) || store.user(name).await.is_some() {
            return SignUp::Taken;
        }
        let Ok(_permit) = self.hashing.acquire().await else {
            return SignUp::Failed;
        };
        let pw = password.to_owned();
        let Ok(Ok(phc)) = tokio::task::spawn_blocking(move || hash_password(&pw)).await else {
            return SignUp::Failed;
        };
        match store
            .create_user(UserRec {
                name: name.to_owned(),
                phc,
            })
            .await
        {
            Ok(()) => SignUp::Created,
            Err(super::store::StoreError::AlreadyExists) => SignUp::Taken,
            Err(_) => SignUp::Failed,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SignUp {
    Created,
    BadName,
    WeakPassword,
    Taken,
    Failed,
}

/// Fixed-window counters per key (account name, client IP, "global").
pub struct Limiter {
    max: u32,
    window_secs: u64,
    map: Mutex<HashMap<String, (u32, u64)>>,
}

impl Limiter {
    pub fn new(max: u32, window_secs: u64) -> Self {
        Limiter {
            max,
            window_secs,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, u64)>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err(seconds to wait)` if `key` has used up its window.
    pub fn check(&self, key: &str, now: u64) -> Result<(), u64> {
        match self.lock().get(key) {
            Some(&(n, start)) if start + self.window_secs > now && n >= self.max => {
                Err(start + self.window_secs - now)
            }
            _ => Ok(()),
        }
    }

    /// Counts one event for `key`; `Err(wait)` if that exceeds the limit.
    pub fn hit(&self, key: &str, now: u64) -> Result<(), u64> {
        let mut map = self.lock();
        if map.len() >= MAX_LIMITER_KEYS && !map.contains_key(key) {
            let w = self.window_secs;
            map.retain(|_, (_, start)| *start + w > now);
            if map.len() >= MAX_LIMITER_KEYS {
                map.retain(|_, (n, _)| *n > 1);
            }
        }
        let e = map.entry(key.to_owned()).or_insert((0, now));
        if e.1 + self.window_secs <= now {
            *e = (0, now);
        }
        if e.0 >= self.max {
            return Err(e.1 + self.window_secs - now);
        }
        e.0 += 1;
        Ok(())
    }

    pub fn reset(&self, key: &str) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_blocking(&h, "correct horse"));
        assert!(!verify_blocking(&h, "wrong"));
        assert!(!verify_blocking("not a hash", "x"));
    }

    #[test]
    fn hash_password_reads_one_line() {
        let h = hash_password_from_reader(&b"s3cret pass\nignored"[..]).unwrap();
        assert!(verify_blocking(&h, "s3cret pass"));
        assert!(hash_password_from_reader(&b"\n"[..]).is_err());
    }

    #[test]
    fn limiter_windows() {
        let l = Limiter::new(2, 60);
        assert!(l.hit("a", 0).is_ok());
        assert!(l.hit("a", 1).is_ok());
        assert_eq!(l.hit("a", 2), Err(58));
        assert_eq!(l.check("a", 10), Err(50));
        assert!(l.check("b", 10).is_ok());
        assert!(l.hit("a", 60).is_ok());
        l.reset("a");
        assert!(l.check("a", 61).is_ok());
    }

    #[test]
    fn usernames() {
        assert!(valid_username("alice@example.com"));
        assert!(!valid_username(""));
        assert!(!valid_username("a b"));
        assert!(!valid_username("<script>"));
    }
}
