//! Accounts: the configured users (`MCP_USERS`, `--user`) plus those created
//! on the sign-in page, and the password checks behind both.
//!
//! User names are a plain ASCII set compared in lower case, so `Admin` and
//! `admin` are one account (and one lockout). Unknown names are verified
//! against a dummy hash so the response time does not reveal which exist.
//! Hashing runs in the bounded pool of [`super::password`].

use super::config::OAuthArgs;
use super::error::{OAuthSetupError, UserProblem};
use super::password::{HASHER, HashError, MAX_PASSWORD_LEN, Phc};
use super::store::{Store, StoreError, UserRec};
use std::collections::HashMap;

/// Shortest plain-text password accepted anywhere: in the configuration
/// (hashes are taken as they are) and on the sign-up form.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest user name.
pub const MAX_USERNAME_LEN: usize = 64;

/// A user name in canonical form: 1-64 of `A-Z a-z 0-9 . _ - @`, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Option<UserName> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_USERNAME_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
        ok.then(|| UserName(raw.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Configured users plus the store's self-registered ones.
pub struct Users {
    configured: HashMap<UserName, Phc>,
    dummy: Phc,
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

/// A configured secret, before plain-text passwords are hashed.
enum Secret {
    Hashed(Phc),
    Plain(String),
}

fn parse_entry(entry: &str) -> Result<(UserName, Secret), OAuthSetupError> {
    let Some((raw_name, secret)) = entry.split_once(':') else {
        return Err(OAuthSetupError::user(None, UserProblem::Shape));
    };
    let Some(name) = UserName::parse(raw_name) else {
        return Err(OAuthSetupError::user(Some(raw_name), UserProblem::BadName));
    };
    let problem = |p| OAuthSetupError::user(Some(name.as_str()), p);
    let secret = if secret.starts_with("$argon2") {
        Secret::Hashed(secret.parse().map_err(|e| problem(UserProblem::Hash(e)))?)
    } else if secret.chars().count() < MIN_PASSWORD_CHARS {
        return Err(problem(UserProblem::WeakPassword));
    } else if secret.len() > MAX_PASSWORD_LEN {
        return Err(problem(UserProblem::LongPassword));
    } else {
        Secret::Plain(secret.to_owned())
    };
    Ok((name, secret))
}

async fn hashed(secret: Secret) -> Result<Phc, OAuthSetupError> {
    match secret {
        Secret::Hashed(phc) => Ok(phc),
        Secret::Plain(pw) => HASHER.hash(&pw).await.map_err(OAuthSetupError::Hashing),
    }
}

impl Users {
    pub async fn from_args(args: &OAuthArgs) -> Result<(Users, Startup), OAuthSetupError> {
        let mut startup = Startup::default();
        let mut entries: Vec<(UserName, Secret)> = Vec::new();
        for entry in args.user_entries() {
            let (name, secret) = parse_entry(entry)?;
            if entries.iter().any(|(n, _)| *n == name) {
                return Err(OAuthSetupError::user(
                    Some(name.as_str()),
                    UserProblem::Duplicate,
                ));
            }
            if matches!(secret, Secret::Plain(_)) {
                startup.warnings.push(format!(
                    "user '{name}' has a plain-text password in the configuration; \
                     use `crypto-mcp hash-password` and configure the hash instead"
                ));
            }
            entries.push((name, secret));
        }
        if entries.is_empty() {
            let pw = super::tokens::format_secret("", &super::tokens::random_bytes());
            let admin = UserName("admin".into());
            startup.generated_admin = Some((admin.to_string(), pw.clone()));
            entries.push((admin, Secret::Plain(pw)));
        }
        let mut configured = HashMap::new();
        for (name, secret) in entries {
            configured.insert(name, hashed(secret).await?);
        }
        let dummy = hashed(Secret::Plain(
            "crypto-mcp dummy password for unknown users".into(),
        ))
        .await?;
        Ok((Users { configured, dummy }, startup))
    }

    pub fn is_configured(&self, name: &UserName) -> bool {
        self.configured.contains_key(name)
    }

    /// True iff `name` exists and `password` is its password. Takes about the
    /// same time whether or not the user exists.
    pub async fn verify(
        &self,
        store: &dyn Store,
        name: Option<&UserName>,
        password: &str,
    ) -> Result<bool, VerifyError> {
        let found = match name {
            Some(n) => match self.configured.get(n) {
                Some(phc) => Some(phc.clone()),
                None => store
                    .user(n.as_str())
                    .await
                    .map_err(VerifyError::Store)?
                    .and_then(|u| u.phc.parse().ok()),
            },
            None => None,
        };
        let exists = found.is_some();
        let phc = found.unwrap_or_else(|| self.dummy.clone());
        let ok = HASHER
            .verify(phc, password)
            .await
            .map_err(VerifyError::Hash)?;
        Ok(ok && exists)
    }

    /// Self-registration: checks the name and password, hashes in the pool,
    /// then creates the account.
    pub async fn sign_up(
        &self,
        store: &dyn Store,
        name: Option<&UserName>,
        password: &str,
        now: u64,
    ) -> SignUp {
        let Some(name) = name else {
            return SignUp::BadName;
        };
        if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_LEN {
            return SignUp::WeakPassword;
        }
        if self.is_configured(name) {
            return SignUp::Taken;
        }
        match store.user(name.as_str()).await {
            Ok(None) => {}
            Ok(Some(_)) => return SignUp::Taken,
            Err(e) => return SignUp::Failed(VerifyError::Store(e)),
        }
        let phc = match HASHER.hash(password).await {
            Ok(phc) => phc,
            Err(e) => return SignUp::Failed(VerifyError::Hash(e)),
        };
        let rec = UserRec {
            name: name.to_string(),
            phc: phc.to_string(),
            created_at: now,
            last_seen: None,
        };
        match store.create_user(rec).await {
            Ok(()) => SignUp::Created,
            Err(StoreError::AlreadyExists) => SignUp::Taken,
            Err(StoreError::Full) => SignUp::Closed,
            Err(e) => SignUp::Failed(VerifyError::Store(e)),
        }
    }
}

/// A password check that could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    Hash(HashError),
    Store(StoreError),
}

#[derive(Debug, PartialEq, Eq)]
pub enum SignUp {
    Created,
    BadName,
    WeakPassword,
    Taken,
    /// The account cap is reached (until unused accounts expire).
    Closed,
    Failed(VerifyError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_ascii_and_case_insensitive() {
        assert_eq!(
            UserName::parse("Alice@Example.com").unwrap().as_str(),
            "alice@example.com"
        );
        assert_eq!(UserName::parse("Admin"), UserName::parse("admin"));
        for bad in ["", "a b", "<script>", "ädmin", "аdmin", &"x".repeat(65)] {
            assert!(UserName::parse(bad).is_none(), "{bad}");
        }
    }

    fn args(entries: &[&str]) -> OAuthArgs {
        let mut a = OAuthArgs::new();
        a.users = entries.iter().map(|e| e.parse().unwrap()).collect();
        a
    }

    async fn setup_error(entries: &[&str]) -> String {
        match Users::from_args(&args(entries)).await {
            Ok(_) => panic!("{entries:?} should be refused"),
            Err(e) => e.to_string(),
        }
    }

    #[tokio::test]
    async fn short_plain_passwords_stop_the_server_naming_the_user() {
        let e = setup_error(&["bob:eleven-char"]).await;
        assert!(e.contains("bob") && e.contains("12"), "{e}");
        assert!(!e.contains("eleven-char"), "the password is not shown: {e}");
        assert!(!e.contains('\n'), "one line: {e}");
        // Twelve characters (not bytes) are enough.
        assert!(Users::from_args(&args(&["bob:ééééééééééé1"])).await.is_ok());
    }

    #[tokio::test]
    async fn hashes_are_taken_as_they_are_within_bounds() {
        let weak = "$argon2id$v=19$m=64,t=1,p=1$c2l4dGVlbiBieXRlIHNsdA$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(
            Users::from_args(&args(&[&format!("bob:{weak}")]))
                .await
                .is_ok()
        );
        let costly = weak.replace("m=64", "m=65536");
        let e = setup_error(&[&format!("bob:{costly}")]).await;
        assert!(e.contains("bob") && e.contains("m=65536"), "{e}");
    }

    #[tokio::test]
    async fn names_differing_only_in_case_are_one_user() {
        let e = setup_error(&["alice:long-password-1", "Alice:long-password-2"]).await;
        assert!(e.contains("alice") && e.contains("more than once"), "{e}");
    }
}
