//! Command-line and environment settings of the embedded authorization server.
//!
//! These are flattened into the application's one `clap::Parser`, so every flag
//! has an environment fallback for platforms (Fly.io, Render) that configure
//! through variables. Durations are written the way people speak ("1h", "30d").

use std::path::PathBuf;
use std::time::Duration;

/// Default access-token lifetime: long enough that ChatGPT's idle reconnect
/// problems (it does not refresh after long idle) are rare, short enough to
/// bound a leaked token.
pub const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(60 * 60);
/// Default refresh-token lifetime (sliding: each rotation starts a new period).
pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

#[derive(clap::Args, Debug, Clone)]
pub struct OAuthArgs {
    /// A user as `name:secret`, where secret is an argon2 PHC hash (see
    /// `crypto-mcp hash-password`) or, with a warning, a plain password of
    /// at least 12 characters. Names are case-insensitive. Repeatable.
    /// `MCP_USERS` holds whitespace-separated entries.
    #[arg(long = "user", value_name = "NAME:SECRET")]
    pub users: Vec<Secretish>,

    /// Whitespace-separated `name:secret` entries (same rules as `--user`).
    #[arg(long = "users", env = "MCP_USERS", hide = true, hide_env_values = true)]
    pub users_env: Option<Secretish>,

    /// Let anyone create an account on the sign-in page.
    #[arg(long, env = "MCP_ALLOW_SIGNUP", default_value_t = false)]
    pub allow_signup: bool,

    /// Access-token lifetime, e.g. "1h", "45m".
    #[arg(long, env = "MCP_ACCESS_TOKEN_TTL", value_parser = parse_duration, default_value = "1h")]
    pub access_token_ttl: Duration,

    /// Refresh-token lifetime, renewed at each rotation, e.g. "30d".
    #[arg(long, env = "MCP_REFRESH_TOKEN_TTL", value_parser = parse_duration, default_value = "30d")]
    pub refresh_token_ttl: Duration,

    /// Keep users, clients, consents and refresh grants in this file so that a
    /// restart does not disconnect clients. Written atomically, mode 0600.
    #[arg(long, env = "MCP_STATE_FILE")]
    pub state_file: Option<PathBuf>,

    /// Request header carrying the client IP set by a trusted reverse proxy
    /// (e.g. `Fly-Client-IP`; for `X-Forwarded-For` the last entry is used),
    /// for login and registration throttling. Only set it behind a proxy
    /// that sets the header. Without it, the socket peer address is used.
    #[arg(long, env = "MCP_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,

    /// TEST ONLY: allow Client ID Metadata Documents on loopback/private
    /// addresses and over plain http.
    #[arg(
        long,
        env = "MCP_OAUTH_TEST_ALLOW_LOOPBACK_CIMD",
        hide = true,
        default_value_t = false
    )]
    pub oauth_allow_loopback_cimd: bool,
}

/// `--auth` (for the application's parser): OAuth is the default; `none`
/// is for local use only.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthMode {
    #[default]
    Oauth,
    None,
}

/// The startup warning for `--auth none` on a non-loopback address.
pub fn auth_none_warning(mode: AuthMode, bind: std::net::IpAddr) -> Option<String> {
    (mode == AuthMode::None && !bind.is_loopback()).then(|| {
        format!(
            "--auth none while listening on {bind}: anyone who can reach this address can use the \
             server; use --auth oauth (the default) unless this is a private network"
        )
    })
}

/// A string that must never be printed: `Debug` shows only its length.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secretish(pub String);

impl std::fmt::Debug for Secretish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secretish(<{} bytes redacted>)", self.0.len())
    }
}

impl std::str::FromStr for Secretish {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secretish(s.to_owned()))
    }
}

impl Default for OAuthArgs {
    fn default() -> Self {
        Self::new()
    }
}

impl OAuthArgs {
    /// Defaults for embedding and tests (no users, 1 h / 30 d TTLs).
    pub fn new() -> Self {
        OAuthArgs {
            users: Vec::new(),
            users_env: None,
            allow_signup: false,
            access_token_ttl: DEFAULT_ACCESS_TTL,
            refresh_token_ttl: DEFAULT_REFRESH_TTL,
            state_file: None,
            client_ip_header: None,
            oauth_allow_loopback_cimd: false,
        }
    }

    /// All configured `name:secret` entries, flags first, then `MCP_USERS`.
    pub(crate) fn user_entries(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.users.iter().map(|s| s.0.as_str()).collect();
        if let Some(env) = &self.users_env {
            out.extend(env.0.split_whitespace());
        }
        out
    }
}

/// Why a duration such as `--access-token-ttl` was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    NotANumber(String),
    Unit(String),
    TooLarge(String),
    Zero,
}

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DurationError::NotANumber(s) => {
                write!(f, "invalid duration {s:?}: expected e.g. 90s, 15m, 1h, 30d")
            }
            DurationError::Unit(s) => {
                write!(f, "invalid duration unit in {s:?}: use s, m, h, d or w")
            }
            DurationError::TooLarge(s) => write!(f, "duration {s:?} too large"),
            DurationError::Zero => f.write_str("duration must be positive"),
        }
    }
}

impl std::error::Error for DurationError {}

/// Parses "90s", "15m", "1h", "30d", "2w" or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| DurationError::NotANumber(s.to_owned()))?;
    let mult = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(DurationError::Unit(s.to_owned())),
    };
    let secs = n
        .checked_mul(mult)
        .ok_or_else(|| DurationError::TooLarge(s.to_owned()))?;
    if secs == 0 {
        return Err(DurationError::Zero);
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(2_592_000)
        );
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("0s"), Err(DurationError::Zero));
        assert_eq!(parse_duration("1y"), Err(DurationError::Unit("1y".into())));
        assert_eq!(
            parse_duration("h"),
            Err(DurationError::NotANumber("h".into()))
        );
    }

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        oauth: OAuthArgs,
    }

    #[test]
    fn flags_parse() {
        use clap::Parser;
        let c = Cli::try_parse_from([
            "x",
            "--user",
            "a:pw1",
            "--user",
            "b:$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            "--access-token-ttl",
            "45m",
            "--refresh-token-ttl",
            "7d",
            "--allow-signup",
            "--state-file",
            "/data/s.json",
        ])
        .unwrap();
        assert_eq!(c.oauth.user_entries().len(), 2);
        assert_eq!(c.oauth.access_token_ttl, Duration::from_secs(2700));
        assert_eq!(c.oauth.refresh_token_ttl, Duration::from_secs(7 * 86_400));
        assert!(c.oauth.allow_signup);
        let d = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(d.oauth.access_token_ttl, DEFAULT_ACCESS_TTL);
        assert_eq!(d.oauth.refresh_token_ttl, DEFAULT_REFRESH_TTL);
        assert!(!d.oauth.allow_signup && !d.oauth.oauth_allow_loopback_cimd);
        let e = Cli::try_parse_from(["x", "--users", "a:x  b:y\n c:z"]).unwrap();
        assert_eq!(e.oauth.user_entries(), ["a:x", "b:y", "c:z"]);
    }

    #[test]
    fn auth_none_warns_off_loopback() {
        assert!(auth_none_warning(AuthMode::None, "0.0.0.0".parse().unwrap()).is_some());
        assert!(auth_none_warning(AuthMode::None, "127.0.0.1".parse().unwrap()).is_none());
        assert!(auth_none_warning(AuthMode::Oauth, "0.0.0.0".parse().unwrap()).is_none());
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secretish("alice:hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
