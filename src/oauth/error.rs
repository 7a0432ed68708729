//! The errors of the authorization server, each mapped to its wire form
//! exactly once.
//!
//! - [`OAuthError`]: an RFC 6749 / 7591 / 8707 error, built through
//!   [`OAuthError::new`], answered as JSON (token, register, revoke) or as
//!   the query of a redirect back to the client (authorize). An optional
//!   internal reason goes to the log, never to the wire.
//! - [`Unauthorized`]: every 401 (and the bearer 403), with its
//!   `WWW-Authenticate` challenge: the resource server's `Bearer`, and the
//!   token endpoint's `Basic` after failed HTTP Basic client authentication.
//! - [`OAuthSetupError`]: why the server cannot start.
//!
//! Descriptions are fixed, human-readable strings chosen by our code; nothing
//! derived from a secret (code, token, password) is ever put into one.

use super::password::{HashError, PhcError};
use super::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;
use std::path::PathBuf;

/// Error codes from RFC 6749 §4.1.2.1 and §5.2, RFC 6750, RFC 7591 §3.2.2
/// and RFC 8707.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    InvalidTarget,
    InvalidRedirectUri,
    InvalidClientMetadata,
    InvalidToken,
    InsufficientScope,
    AccessDenied,
    TemporarilyUnavailable,
    ServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::ServerError => "server_error",
        }
    }
}

/// An OAuth error: code, description for the client, HTTP status, and an
/// internal reason for the log.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    pub status: StatusCode,
    /// `invalid_client` after HTTP Basic gets 401 + `WWW-Authenticate: Basic`.
    basic_challenge: bool,
    /// Seconds for `Retry-After` on 429/503.
    retry_after: Option<u64>,
    /// Logged when the error is answered; never sent.
    internal: Option<String>,
}

impl OAuthError {
    /// The one constructor; the status follows from the code.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        let status = match code {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        OAuthError {
            code,
            description: description.into(),
            status,
            basic_challenge: false,
            retry_after: None,
            internal: None,
        }
    }

    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }

    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }

    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }

    pub fn invalid_metadata(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClientMetadata, d)
    }

    /// 429 with `Retry-After`: a per-client or global budget is used up.
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            ErrorCode::TemporarilyUnavailable,
            "too many requests, try again later",
        );
        e.status = StatusCode::TOO_MANY_REQUESTS;
        e.retry_after = Some(retry_after.max(1));
        e
    }

    /// 503: the server cannot serve this now (full, store down, busy).
    pub fn unavailable(internal: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            ErrorCode::TemporarilyUnavailable,
            "the server is busy, try again later",
        );
        e.retry_after = Some(RETRY_AFTER_UNAVAILABLE);
        e.because(internal)
    }

    /// Attaches the reason to log; the client sees only the description.
    pub fn because(mut self, internal: impl std::fmt::Display) -> Self {
        self.internal = Some(internal.to_string());
        self
    }

    pub fn with_basic_challenge(mut self, basic: bool) -> Self {
        self.basic_challenge = basic;
        self
    }

    /// Logs the error once, as it is answered: server-side trouble as a
    /// warning, client mistakes at debug.
    fn log(&self) {
        let internal = self.internal.as_deref().unwrap_or("");
        if self.status.is_server_error() {
            tracing::warn!(error = self.code.as_str(), %internal, "oauth request failed");
        } else {
            tracing::debug!(error = self.code.as_str(), %internal, description = %self.description, "oauth request refused");
        }
    }

    /// The parameters of an error redirect (RFC 6749 §4.1.2.1); logs it.
    pub(crate) fn redirect_params(&self) -> [(&'static str, &str); 2] {
        self.log();
        [
            ("error", self.code.as_str()),
            ("error_description", &self.description),
        ]
    }
}

/// Seconds a client should wait after a 503.
pub const RETRY_AFTER_UNAVAILABLE: u64 = 5;

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        OAuthError::unavailable(e)
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

/// Headers every OAuth JSON response carries (RFC 6749 §5.1).
pub(crate) fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

fn json_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": error, "error_description": description });
    let mut resp = (status, axum::Json(body)).into_response();
    no_store(&mut resp);
    resp
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        self.log();
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = if self.basic_challenge {
                Challenge::Basic
            } else {
                Challenge::None
            };
            return Unauthorized {
                status: self.status,
                error: Some(self.code),
                description: self.description,
                challenge,
            }
            .into_response();
        }
        let mut resp = json_error(self.status, self.code.as_str(), &self.description);
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// The `WWW-Authenticate` challenge of an [`Unauthorized`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// RFC 6750 + RFC 9728: where to discover how to get a token.
    Bearer(String),
    /// RFC 6749 §5.2: the client tried HTTP Basic and failed.
    Basic,
    /// `invalid_client` for a client that did not use HTTP Basic.
    None,
}

/// The one 401/403 response type: a JSON body and a challenge.
#[derive(Debug, Clone)]
pub struct Unauthorized {
    pub status: StatusCode,
    /// `None` when the request carried no credentials (RFC 6750 §3.1).
    pub error: Option<ErrorCode>,
    pub description: Cow<'static, str>,
    pub challenge: Challenge,
}

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        let error = self.error.map_or("unauthorized", ErrorCode::as_str);
        let mut r = json_error(self.status, error, &self.description);
        let value = match &self.challenge {
            Challenge::Bearer(v) => HeaderValue::from_str(v).ok(),
            Challenge::Basic => Some(HeaderValue::from_static("Basic realm=\"crypto-mcp\"")),
            Challenge::None => None,
        };
        if let Some(v) = value {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    }
}

/// What is wrong with a configured user entry.
#[derive(Debug)]
pub enum UserProblem {
    Shape,
    BadName,
    Duplicate,
    WeakPassword,
    LongPassword,
    Hash(PhcError),
}

/// What is wrong with the state file.
#[derive(Debug)]
pub enum StateFileProblem {
    Io(std::io::Error),
    TooLarge(u64),
    Json(serde_json::Error),
    Version(u32),
}

/// Why the server could not start.
#[derive(Debug)]
pub enum OAuthSetupError {
    User {
        name: Option<String>,
        problem: UserProblem,
    },
    ClientIpHeader(String),
    StateFile {
        path: PathBuf,
        problem: StateFileProblem,
    },
    /// `--state-file` with a shared store: the store already keeps the state.
    StateFileWithSharedStore(PathBuf),
    Hashing(HashError),
}

impl OAuthSetupError {
    pub(crate) fn user(name: Option<&str>, problem: UserProblem) -> Self {
        OAuthSetupError::User {
            name: name.map(str::to_owned),
            problem,
        }
    }

    pub(crate) fn state_file(path: &std::path::Path, problem: StateFileProblem) -> Self {
        OAuthSetupError::StateFile {
            path: path.to_owned(),
            problem,
        }
    }
}

impl std::fmt::Display for UserProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use super::password::MAX_PASSWORD_LEN;
        use super::users::{MAX_USERNAME_LEN, MIN_PASSWORD_CHARS};
        match self {
            UserProblem::Shape => f.write_str("expected name:secret (the secret is not shown)"),
            UserProblem::BadName => write!(
                f,
                "the name must be 1-{MAX_USERNAME_LEN} of A-Z a-z 0-9 . _ - @"
            ),
            UserProblem::Duplicate => {
                f.write_str("configured more than once (names are compared in lower case)")
            }
            UserProblem::WeakPassword => write!(
                f,
                "a plain-text password must have at least {MIN_PASSWORD_CHARS} characters \
                 (or configure an argon2 hash from `crypto-mcp hash-password`)"
            ),
            UserProblem::LongPassword => {
                write!(f, "the password is longer than {MAX_PASSWORD_LEN} bytes")
            }
            UserProblem::Hash(e) => e.fmt(f),
        }
    }
}

impl std::fmt::Display for StateFileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateFileProblem::Io(e) => e.fmt(f),
            StateFileProblem::TooLarge(max) => write!(f, "larger than {max} bytes"),
            StateFileProblem::Json(e) => write!(f, "not a state file: {e}"),
            StateFileProblem::Version(v) => write!(f, "unsupported version {v}"),
        }
    }
}

impl std::fmt::Display for OAuthSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OAuthSetupError::User {
                name: Some(name),
                problem,
            } => write!(f, "invalid user entry: user {name:?}: {problem}"),
            OAuthSetupError::User {
                name: None,
                problem,
            } => write!(f, "invalid user entry: {problem}"),
            OAuthSetupError::ClientIpHeader(h) => {
                write!(f, "--client-ip-header: {h:?} is not a header name")
            }
            OAuthSetupError::StateFile { path, problem } => {
                write!(f, "state file {}: {problem}", path.display())
            }
            OAuthSetupError::StateFileWithSharedStore(path) => write!(
                f,
                "--state-file {} is for the memory store; with --store redis://… the store keeps \
                 the state: drop one of them",
                path.display()
            ),
            OAuthSetupError::Hashing(e) => write!(f, "password hashing failed: {e}"),
        }
    }
}

impl std::error::Error for OAuthSetupError {}
