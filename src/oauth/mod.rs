//! Embedded OAuth 2.1 authorization server and resource-server guard.
//!
//! ChatGPT, Claude and the official SDK clients connect to `PUBLIC_URL/mcp`
//! (or `PUBLIC_URL`; without one, any loopback URL: see [`issuer`]), get `401` with a `WWW-Authenticate` challenge, discover
//! this server through RFC 9728 / RFC 8414 metadata, register (RFC 7591 DCR),
//! send the user to `/authorize` (login + consent page, PKCE S256), exchange
//! the code at `/token`, and call MCP with a bearer token bound to the exact
//! resource URL they connected to. Refresh tokens rotate with a short grace
//! window; `/revoke` implements RFC 7009.
//!
//! Two decisions shape the module:
//! - **Opaque tokens, hashed at rest.** Tokens are 256-bit random strings; the
//!   store keeps SHA-256 hashes only, so a leaked state file or memory dump
//!   yields no usable token, and a bearer check is one hash-map lookup.
//! - **Storage is a trait of whole operations** ([`store::Store`]), the
//!   throttles and shared keys included: in memory for one instance
//!   (optionally kept in a state file), or in Redis for several instances
//!   behind one URL ([`OAuth::with_store`]).
//!
//! Layout: `issuer` (the URLs we name ourselves by), `metadata`
//! (discovery), `register` (DCR) and `cimd` (client
//! documents), `clients` (resolving and authenticating a client),
//! `authorize` (the page) and `signin` (its answer) with `cookies`, `device`
//! and `users`/`password`, `token` and `revoke`, `bearer` (the resource
//! server's guard), `limits` (per-client budgets), `store` (storage) and
//! `persist` (the state file), `error` (every error's wire form).
//!
//! Scopes: a single honest scope, `mcp:tools` (call the read-only market-data
//! tools), which is also the default when a client asks for none.
//!
//! Wiring: [`crate::app`] merges [`router`] and puts the MCP routes behind
//! [`require_bearer`]; the crate's doc shows the startup in order.

pub mod authorize;
pub mod bearer;
pub mod cimd;
pub mod clients;
pub mod config;
pub mod cookies;
pub mod device;
pub mod error;
pub mod issuer;
pub mod limits;
pub mod metadata;
pub mod page;
pub mod password;
pub mod persist;
pub mod register;
pub mod revoke;
pub mod signin;
pub mod store;
pub mod token;
pub mod tokens;
pub mod users;

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderMap;
use axum::routing::{get, post};

pub use bearer::{Authenticated, require_bearer};
pub use config::{AuthMode, OAuthArgs, auth_none_warning};
pub use error::{ErrorCode, OAuthError, OAuthSetupError};
pub use issuer::Issuer;
pub use password::{PasswordError, hash_password, hash_password_from_reader};
pub use users::Startup;

use crate::urls::PublicBase;
use limits::ClientKey;
use store::{MemoryStore, Store, StoreLimits};
use users::Users;

/// The one scope: permission to list and call the (read-only) tools.
pub const SCOPE_TOOLS: &str = "mcp:tools";
/// Everything this server can grant.
pub const SCOPES_SUPPORTED: &[&str] = &[SCOPE_TOOLS];
/// Granted when a client names no scope and has no earlier consent.
pub const DEFAULT_SCOPES: &[&str] = &[SCOPE_TOOLS];

/// Authorization-code lifetime: the client exchanges it within seconds;
/// OAuth 2.1 recommends ≤ 10 minutes.
pub const CODE_TTL_SECS: u64 = 5 * 60;
/// How long a browser stays signed in (a returning user with a remembered
/// consent is sent straight back to the client).
pub const SESSION_TTL_SECS: u64 = 7 * 24 * 60 * 60;
/// How long a login/consent page stays answerable.
pub const PENDING_TTL_SECS: u64 = 10 * 60;
/// A rotated refresh token still yields the same successor for this long, so
/// ChatGPT's parallel refreshes (and a retry after a lost response) do not
/// force the user to reconnect. Outside it, reuse revokes the grant.
pub const REFRESH_GRACE_SECS: u64 = 2 * 60;
/// How often expired entries are swept from the store.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// Request body cap for the form and JSON endpoints: real requests are a few
/// hundred bytes; a registration with 10 long redirect URIs fits easily.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Injected time source so expiry tests never sleep.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

/// Cheap-to-clone handle shared by every OAuth route and the bearer guard.
#[derive(Clone)]
pub struct OAuth {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// What the server calls itself; per request, see [`Issuer`].
    pub base: PublicBase,
    pub store: Arc<dyn Store>,
    /// The same store as `store` when it is the in-memory one, for the
    /// state file and diagnostics.
    pub memory: Option<Arc<MemoryStore>>,
    pub users: Users,
    pub clock: Clock,
    pub access_ttl: u64,
    pub refresh_ttl: u64,
    pub allow_signup: bool,
    pub secure_cookies: bool,
    pub client_ip_header: Option<axum::http::HeaderName>,
    pub cimd: cimd::CimdFetcher,
    pub state_file: Option<std::path::PathBuf>,
    pub scope_string: String,
    /// The device-cookie signing key, read from the store once.
    pub device_key: tokio::sync::OnceCell<[u8; 32]>,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("base", &self.inner.base)
            .finish_non_exhaustive()
    }
}

impl OAuth {
    /// Builds the server with the in-memory store. The returned [`Startup`]
    /// holds warnings and, when no user is configured, a generated `admin`
    /// password: print it once to stderr.
    pub async fn new(
        args: &OAuthArgs,
        public_url: &PublicBase,
        clock: Clock,
    ) -> Result<(Self, Startup), OAuthSetupError> {
        Self::with_limits(args, public_url, clock, StoreLimits::default()).await
    }

    /// [`OAuth::new`] with other store caps (tests lower them).
    pub async fn with_limits(
        args: &OAuthArgs,
        public_url: &PublicBase,
        clock: Clock,
        limits: StoreLimits,
    ) -> Result<(Self, Startup), OAuthSetupError> {
        let memory = Arc::new(MemoryStore::new(limits));
        if let Some(path) = &args.state_file {
            persist::remove_stale_temporaries(path);
            if let Some(snap) = persist::load(path)? {
                memory.restore(snap, unix(&clock));
            }
        }
        let built = Self::build(
            args,
            public_url,
            clock,
            memory.clone(),
            Some(memory.clone()),
        )
        .await?;
        if let Some(path) = &args.state_file {
            // Fail fast if the file cannot be written (volume not mounted,
            // wrong permissions) rather than losing state at the first change.
            persist::write_snapshot(&memory, path)
                .await
                .map_err(|e| OAuthSetupError::state_file(path, error::StateFileProblem::Io(e)))?;
            persist::spawn_writer(Arc::downgrade(&memory), memory.changed(), path.clone());
        }
        Ok(built)
    }

    /// Builds the server on a store several instances share (Redis). The
    /// state file belongs to the in-memory store: with a shared store it is
    /// refused, never silently ignored.
    pub async fn with_store(
        args: &OAuthArgs,
        public_url: &PublicBase,
        clock: Clock,
        store: Arc<dyn Store>,
    ) -> Result<(Self, Startup), OAuthSetupError> {
        if let Some(path) = &args.state_file {
            return Err(OAuthSetupError::StateFileWithSharedStore(path.clone()));
        }
        Self::build(args, public_url, clock, store, None).await
    }

    async fn build(
        args: &OAuthArgs,
        public_url: &PublicBase,
        clock: Clock,
        store: Arc<dyn Store>,
        memory: Option<Arc<MemoryStore>>,
    ) -> Result<(Self, Startup), OAuthSetupError> {
        let (users, mut startup) = Users::from_args(args).await?;
        let secure_cookies = public_url.configured().is_https();
        match public_url {
            PublicBase::Fixed(url) if !secure_cookies => startup.warnings.push(format!(
                "PUBLIC_URL {url} is not https: tokens and passwords travel in clear text; \
                 use this only on loopback"
            )),
            PublicBase::Fixed(_) => {}
            PublicBase::Local(url) => startup.warnings.push(format!(
                "PUBLIC_URL is not set: sign-in works through loopback URLs only ({url}/mcp, \
                 or 127.0.0.1 and [::1] on the same port); set PUBLIC_URL to the https address \
                 people use before exposing the server"
            )),
        }
        let client_ip_header = match &args.client_ip_header {
            Some(h) => Some(
                axum::http::HeaderName::try_from(h.as_str())
                    .map_err(|_| OAuthSetupError::ClientIpHeader(h.clone()))?,
            ),
            None => None,
        };
        let inner = Arc::new(Inner {
            base: public_url.clone(),
            store,
            memory,
            users,
            clock,
            access_ttl: args.access_token_ttl.as_secs(),
            refresh_ttl: args.refresh_token_ttl.as_secs(),
            allow_signup: args.allow_signup,
            secure_cookies,
            client_ip_header,
            cimd: cimd::CimdFetcher::new(args.oauth_allow_loopback_cimd),
            state_file: args.state_file.clone(),
            scope_string: SCOPES_SUPPORTED.join(" "),
            device_key: tokio::sync::OnceCell::new(),
        });
        spawn_sweeper(Arc::downgrade(&inner));
        Ok((OAuth { inner }, startup))
    }

    pub fn scopes_supported(&self) -> &[&str] {
        SCOPES_SUPPORTED
    }

    /// The `WWW-Authenticate` value for a resource path ("/" or "/mcp") as
    /// `issuer` serves it, optionally with an `(error, error_description)`.
    /// Also what ChatGPT wants in a tool result's
    /// `_meta["mcp/www_authenticate"]`.
    pub fn challenge(
        &self,
        issuer: &Issuer,
        resource_path: &str,
        error: Option<(&str, &str)>,
    ) -> String {
        let mut s = format!(
            "Bearer resource_metadata=\"{}\", scope=\"{}\"",
            issuer.resource_metadata(resource_path),
            self.inner.scope_string
        );
        if let Some((err, desc)) = error {
            s.push_str(&format!(
                ", error=\"{}\", error_description=\"{}\"",
                quote_safe(err),
                quote_safe(desc)
            ));
        }
        s
    }

    /// The `_meta["mcp/www_authenticate"]` value for a tool result when a
    /// call arrives without a usable token (ChatGPT wants `error` and
    /// `error_description` in it to show its linking UI).
    pub fn tool_auth_challenge(&self, issuer: &Issuer, resource_path: &str) -> String {
        self.challenge(
            issuer,
            resource_path,
            Some(("invalid_token", "Sign in to use this tool")),
        )
    }

    /// Writes the state file now (if configured). The background writer does
    /// this shortly after changes; call it at shutdown and in tests.
    pub async fn flush_state(&self) -> std::io::Result<()> {
        match (&self.inner.state_file, &self.inner.memory) {
            (Some(p), Some(memory)) => persist::write_snapshot(memory, p).await,
            _ => Ok(()),
        }
    }

    /// Sweeps expired entries now (the background sweeper does this every
    /// minute; tests with an injected clock call it directly).
    pub async fn sweep_now(&self) {
        if let Err(e) = self.inner.store.sweep(self.now()).await {
            tracing::warn!(error = %e, "sweep failed");
        }
    }

    /// Sizes of the in-memory store's maps (diagnostics, tests); empty for
    /// a shared store.
    pub fn store_counts(&self) -> std::collections::HashMap<&'static str, usize> {
        self.inner
            .memory
            .as_ref()
            .map(|m| m.counts())
            .unwrap_or_default()
    }

    /// Whether the store answered lately (`/healthz`).
    pub fn store_healthy(&self) -> bool {
        self.inner.store.healthy()
    }

    pub(crate) fn now(&self) -> u64 {
        unix(&self.inner.clock)
    }

    /// Who a request is, for the per-client budgets: the trusted proxy
    /// header if configured, else the socket peer (if the server provides it).
    pub(crate) fn client_ip(&self, headers: &HeaderMap, ext: &axum::http::Extensions) -> ClientKey {
        if let Some(h) = &self.inner.client_ip_header
            && let Some(v) = headers.get(h).and_then(|v| v.to_str().ok())
        {
            // The last entry is the one the nearest (trusted) proxy added;
            // earlier ones in a list like X-Forwarded-For are client-supplied.
            let last = v.rsplit(',').next().unwrap_or("").trim();
            if !last.is_empty() && last.len() <= 64 {
                return ClientKey::from_header(last);
            }
        }
        ext.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| ClientKey::from_ip(c.0.ip()))
            .unwrap_or_else(ClientKey::unknown)
    }
}

pub(crate) fn unix(clock: &Clock) -> u64 {
    clock()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Keeps a header parameter value inside its quotes.
fn quote_safe(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect()
}

fn spawn_sweeper(inner: Weak<Inner>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_INTERVAL);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(inner) = inner.upgrade() else { return };
            let now = unix(&inner.clock);
            if let Err(e) = inner.store.sweep(now).await {
                tracing::warn!(error = %e, "sweep failed");
            }
        }
    });
}

/// All authorization-server routes: discovery documents, `/authorize`,
/// `/token`, `/register`, `/revoke`. Merge into the app; put
/// [`require_bearer`] on the MCP routes.
pub fn router() -> Router<OAuth> {
    Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(metadata::protected_resource_root),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(metadata::protected_resource_mcp),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::authorization_server),
        )
        .route(
            "/authorize",
            get(authorize::authorize_get).post(signin::authorize_post),
        )
        .route("/token", post(token::token))
        .route("/register", post(register::register))
        .route("/revoke", post(revoke::revoke))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_safe_strips_injection() {
        assert_eq!(quote_safe("a\"b\\c\nd"), "abcd");
    }
}
