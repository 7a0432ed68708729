//! Command-line and environment configuration.
//!
//! One clap struct: every flag has an environment fallback so the same binary
//! is configured by flags locally and by variables on Fly.io, Railway or
//! Render. Values are parsed into typed forms here (a public URL, origins,
//! hosts), so the rest of the server never re-validates a string, and
//! resolved once into [`Settings`], which hold the `Host` and `Origin`
//! policies the MCP guard and CORS apply.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use axum::http::Uri;
use axum::http::uri::Authority;
use clap::{Parser, Subcommand, ValueEnum};

use crate::binance::{
    BinanceClient, BinanceConfig, DEFAULT_FUTURES_BASE_URL, DEFAULT_SPOT_BASE_URLS, parse_base_urls,
};
use crate::oauth::{AuthMode, OAuthArgs};

/// Browser origins allowed by default: the chat products people connect us
/// to. Loopback origins (a local Inspector) and the public URL's own origin
/// are always allowed on top of this list.
pub const DEFAULT_ALLOWED_ORIGINS: &str =
    "https://chatgpt.com,https://chat.openai.com,https://claude.ai,https://claude.com";

/// GET notification streams open at once by default. Each holds a
/// connection, and so a file descriptor, for as long as its client likes;
/// 256 leaves most of a 1,024-descriptor process for requests.
pub const DEFAULT_MAX_STREAMS: usize = 256;

/// Bounds of `--binance-timeout-ms`: below 50 ms even a loopback call can
/// miss; above a minute a model's client has long given up.
const MIN_BINANCE_TIMEOUT_MS: u64 = 50;
const MAX_BINANCE_TIMEOUT_MS: u64 = 60_000;
/// One attempt gets at most this long, and at most half the whole budget,
/// so a hung host leaves time to try the next.
const MAX_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Parser, Debug, Clone)]
#[command(
    name = "crypto-mcp",
    version,
    about = "Remote MCP server for crypto market data"
)]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to bind.
    #[arg(long, env = "HOST", default_value = "0.0.0.0")]
    pub host: IpAddr,

    /// Port to bind.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// Externally visible base URL, e.g. https://crypto-mcp.fly.dev
    /// (default: http://localhost:PORT).
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<PublicUrl>,

    /// Public URLs the hosting platforms announce, used when PUBLIC_URL is
    /// not set so a fresh deploy answers on its own domain.
    #[arg(long, env = "RENDER_EXTERNAL_URL", hide = true)]
    pub render_external_url: Option<PublicUrl>,
    #[arg(long, env = "RAILWAY_PUBLIC_DOMAIN", hide = true)]
    pub railway_public_domain: Option<String>,
    #[arg(long, env = "FLY_APP_NAME", hide = true)]
    pub fly_app_name: Option<String>,

    /// Who may call the MCP endpoint: `oauth` (the embedded authorization
    /// server) or `none` (local use only).
    #[arg(long, env = "MCP_AUTH", value_enum, default_value_t = AuthMode::Oauth)]
    pub auth: AuthMode,

    #[command(flatten)]
    pub oauth: OAuthArgs,

    /// With OAuth, let clients without a token discover the server (list its
    /// tools) before signing in; calling a tool then asks them to sign in.
    #[arg(long, env = "MCP_ANONYMOUS_DISCOVERY", default_value_t = false)]
    pub anonymous_discovery: bool,

    /// Comma-separated browser origins allowed to call the MCP endpoint, or
    /// `*` for any. Loopback origins and the public URL's origin are always
    /// allowed.
    #[arg(
        long,
        env = "MCP_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = DEFAULT_ALLOWED_ORIGINS
    )]
    pub allowed_origins: Vec<OriginRule>,

    /// Extra comma-separated `Host` header values accepted besides the public
    /// URL's host and loopback (e.g. a reverse proxy's internal name), or `*`
    /// to accept any host.
    #[arg(long, env = "MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<HostRule>,

    /// Most GET notification streams open at once, across all sessions;
    /// past it a new stream gets 503 with Retry-After. Keep it well below
    /// the connection limit.
    #[arg(long, env = "MCP_MAX_STREAMS", default_value_t = DEFAULT_MAX_STREAMS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=65_536))]
    pub max_streams: usize,

    /// Binance spot REST base URLs, comma-separated, tried in order on
    /// connection errors, 5xx and 451.
    #[arg(long, env = "BINANCE_BASE_URL", default_value = DEFAULT_SPOT_BASE_URLS)]
    pub binance_base_url: String,

    /// Binance USD-M futures REST base URL.
    #[arg(long, env = "BINANCE_FUTURES_BASE_URL", default_value = DEFAULT_FUTURES_BASE_URL)]
    pub binance_futures_base_url: String,

    /// Longest a Binance call may take, retries included, in milliseconds.
    /// Binance itself gives up after 10 s, so waiting longer gains nothing.
    #[arg(long, env = "BINANCE_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(MIN_BINANCE_TIMEOUT_MS..=MAX_BINANCE_TIMEOUT_MS))]
    pub binance_timeout_ms: u64,

    /// Log output format: `text` or `json`. Verbosity comes from RUST_LOG.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    pub fn bind_addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// The public URL: PUBLIC_URL, else what Render, Railway or Fly.io
    /// announce, else the local address people type.
    pub fn public_url(&self) -> PublicUrl {
        let platform = || {
            let https = |host: &str| format!("https://{host}").parse::<PublicUrl>().ok();
            self.render_external_url
                .clone()
                .or_else(|| self.railway_public_domain.as_deref().and_then(https))
                .or_else(|| {
                    self.fly_app_name
                        .as_deref()
                        .and_then(|app| https(&format!("{app}.fly.dev")))
                })
        };
        self.public_url
            .clone()
            .or_else(platform)
            .unwrap_or_else(|| PublicUrl {
                scheme: "http".into(),
                host: "localhost".into(),
                port: Some(self.port),
            })
    }

    /// The Binance client, configured from the `--binance-*` flags.
    pub fn binance_client(&self) -> Result<BinanceClient, ConfigError> {
        let request_timeout = Duration::from_millis(self.binance_timeout_ms);
        BinanceClient::new(BinanceConfig {
            spot_base_urls: parse_base_urls(&self.binance_base_url),
            futures_base_url: self.binance_futures_base_url.trim().to_owned(),
            request_timeout,
            attempt_timeout: (request_timeout / 2).min(MAX_ATTEMPT_TIMEOUT),
            ..BinanceConfig::default()
        })
        .map_err(ConfigError::Binance)
    }
}

/// What the server needs from [`Config`], resolved once at startup.
#[derive(Debug, Clone)]
pub struct Settings {
    pub public_url: PublicUrl,
    pub origins: OriginPolicy,
    pub hosts: HostPolicy,
    /// See `--anonymous-discovery` and [`crate::mcp::auth`].
    pub anonymous_discovery: bool,
    /// See `--max-streams`.
    pub max_streams: usize,
}

impl Settings {
    pub fn from_config(config: &Config) -> Self {
        let public_url = config.public_url();
        Self {
            origins: OriginPolicy::new(&public_url, &config.allowed_origins),
            hosts: HostPolicy::new(&public_url, &config.allowed_hosts),
            anonymous_discovery: config.anonymous_discovery,
            max_streams: config.max_streams,
            public_url,
        }
    }
}

/// `crypto-mcp <command>`: tasks other than serving.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Read a password from standard input and print its argon2 hash, for
    /// `--user name:HASH` or `MCP_USERS`.
    HashPassword,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// An absolute `http(s)://host[:port]` URL with no path, query or fragment:
/// the base every advertised URL is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl PublicUrl {
    /// Host name as it appears in a `Host` header, without the port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `scheme://host[:port]` origin browsers send for pages we serve.
    pub fn origin(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}://{}:{port}", self.scheme, self.host),
            None => write!(f, "{}://{}", self.scheme, self.host),
        }
    }
}

impl FromStr for PublicUrl {
    type Err = ConfigError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let refuse = |problem| ConfigError::Url {
            raw: raw.to_owned(),
            problem,
        };
        let trimmed = raw.trim().trim_end_matches('/');
        let uri: Uri = trimmed.parse().map_err(|_| refuse(UrlProblem::NotAUrl))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_owned(),
            _ => return Err(refuse(UrlProblem::Scheme)),
        };
        let authority = uri.authority().ok_or_else(|| refuse(UrlProblem::NoHost))?;
        if authority.as_str().contains('@') {
            return Err(refuse(UrlProblem::UserInfo));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(refuse(UrlProblem::NotBare));
        }
        Ok(Self {
            scheme,
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16(),
        })
    }
}

/// One entry of `--allowed-origins`: an exact origin or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginRule {
    Any,
    Exact(String),
}

impl FromStr for OriginRule {
    type Err = ConfigError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if raw == "*" {
            return Ok(Self::Any);
        }
        match raw.parse::<PublicUrl>() {
            Ok(url) => Ok(Self::Exact(url.origin())),
            Err(ConfigError::Url { raw, problem }) => Err(ConfigError::Origin { raw, problem }),
            Err(other) => Err(other),
        }
    }
}

/// One entry of `--allowed-hosts`: a host name (port ignored) or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRule {
    Any,
    Exact(String),
}

impl FromStr for HostRule {
    type Err = ConfigError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if raw == "*" {
            return Ok(Self::Any);
        }
        let not_a_host = || ConfigError::Host(raw.to_owned());
        let authority: Authority = raw.parse().map_err(|_| not_a_host())?;
        if authority.as_str().contains('@') || authority.host().is_empty() {
            return Err(not_a_host());
        }
        Ok(Self::Exact(authority.host().to_ascii_lowercase()))
    }
}

/// Why a configuration value was refused; the message names the value and
/// what would be accepted.
#[derive(Debug)]
pub enum ConfigError {
    /// `--public-url` (or a platform's announced URL).
    Url { raw: String, problem: UrlProblem },
    /// An entry of `--allowed-origins`.
    Origin { raw: String, problem: UrlProblem },
    /// An entry of `--allowed-hosts`.
    Host(String),
    /// `--binance-base-url` / `--binance-futures-base-url`.
    Binance(crate::binance::ConfigError),
}

/// What is wrong with a URL that must be a bare `http(s)://host[:port]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    NotAUrl,
    Scheme,
    NoHost,
    UserInfo,
    NotBare,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url { raw, problem } => write_url_problem(f, raw, *problem),
            Self::Origin { raw, problem } => {
                f.write_str("origin ")?;
                write_url_problem(f, raw, *problem)?;
                f.write_str("; expected e.g. https://chatgpt.com")
            }
            Self::Host(raw) => write!(f, "'{raw}' is not a host name"),
            Self::Binance(error) => {
                write!(
                    f,
                    "--binance-base-url / --binance-futures-base-url: {error}"
                )
            }
        }
    }
}

fn write_url_problem(f: &mut fmt::Formatter<'_>, raw: &str, problem: UrlProblem) -> fmt::Result {
    match problem {
        UrlProblem::NotAUrl => write!(f, "'{raw}' is not a URL like https://mcp.example.com"),
        UrlProblem::Scheme => write!(f, "'{raw}' must start with http:// or https://"),
        UrlProblem::NoHost => write!(f, "'{raw}' has no host"),
        UrlProblem::UserInfo => write!(f, "'{raw}' must not contain user information"),
        UrlProblem::NotBare => write!(
            f,
            "'{raw}' must be a bare origin without a path or query, e.g. https://mcp.example.com"
        ),
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Binance(error) => Some(error),
            _ => None,
        }
    }
}

/// Which browser origins may call us: the public URL's own origin, the
/// configured ones, and loopback (a local Inspector) always.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    any: bool,
    exact: Vec<String>,
}

impl OriginPolicy {
    pub fn new(public_url: &PublicUrl, rules: &[OriginRule]) -> Self {
        let mut exact = vec![public_url.origin()];
        let mut any = false;
        for rule in rules {
            match rule {
                OriginRule::Any => any = true,
                OriginRule::Exact(origin) => exact.push(origin.clone()),
            }
        }
        Self { any, exact }
    }

    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        self.any || self.exact.contains(&origin) || origin_is_loopback(&origin)
    }
}

/// Which `Host` headers we answer: the public URL's host, the configured
/// ones, and loopback always. Anything else may be DNS rebinding.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    any: bool,
    hosts: Vec<String>,
}

impl HostPolicy {
    pub fn new(public_url: &PublicUrl, rules: &[HostRule]) -> Self {
        let mut hosts = vec![public_url.host().to_owned()];
        let mut any = false;
        for rule in rules {
            match rule {
                HostRule::Any => any = true,
                HostRule::Exact(host) => hosts.push(host.clone()),
            }
        }
        Self { any, hosts }
    }

    pub fn allows(&self, host_header: &str) -> bool {
        if self.any {
            return true;
        }
        let Ok(authority) = host_header.trim().parse::<Authority>() else {
            return false;
        };
        if authority.as_str().contains('@') {
            return false;
        }
        let host = authority.host().to_ascii_lowercase();
        is_loopback_host(&host) || self.hosts.contains(&host)
    }
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn origin_is_loopback(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    rest.parse::<Authority>()
        .is_ok_and(|a| !a.as_str().contains('@') && is_loopback_host(a.host()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("crypto-mcp").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_give_a_local_public_url() {
        let config = parse(&["--port", "9000"]).expect("defaults parse");
        assert_eq!(config.public_url().to_string(), "http://localhost:9000");
        assert_eq!(config.allowed_origins.len(), 4);
        assert_eq!(config.auth, AuthMode::Oauth);
    }

    #[test]
    fn platforms_announce_the_public_url() {
        let fly = parse(&["--fly-app-name", "my-mcp"]).expect("parses");
        assert_eq!(fly.public_url().to_string(), "https://my-mcp.fly.dev");
        let railway = parse(&[
            "--railway-public-domain",
            "x.up.railway.app",
            "--fly-app-name",
            "y",
        ])
        .expect("parses");
        assert_eq!(railway.public_url().to_string(), "https://x.up.railway.app");
        let explicit = parse(&[
            "--public-url",
            "https://mcp.example.com",
            "--fly-app-name",
            "y",
        ])
        .expect("parses");
        assert_eq!(explicit.public_url().to_string(), "https://mcp.example.com");
    }

    #[test]
    fn public_url_is_normalised_and_strict() {
        let url: PublicUrl = "https://MCP.Example.com/".parse().expect("valid");
        assert_eq!(url.to_string(), "https://mcp.example.com");
        assert_eq!(url.host(), "mcp.example.com");
        for (bad, expected) in [
            ("ftp://x.example", UrlProblem::Scheme),
            ("https://x.example/mcp", UrlProblem::NotBare),
            ("https://u@x.example", UrlProblem::UserInfo),
            ("nope", UrlProblem::Scheme),
            ("http://exa mple.com", UrlProblem::NotAUrl),
        ] {
            match bad.parse::<PublicUrl>() {
                Err(ConfigError::Url { problem, .. }) => assert_eq!(problem, expected, "{bad}"),
                other => panic!("{bad} should be refused, got {other:?}"),
            }
        }
        let origin = "chatgpt.com/x"
            .parse::<OriginRule>()
            .expect_err("no scheme");
        assert!(matches!(origin, ConfigError::Origin { .. }), "{origin}");
        assert!(
            origin
                .to_string()
                .ends_with("expected e.g. https://chatgpt.com")
        );
    }

    #[test]
    fn bad_values_name_the_flag() {
        let error = parse(&["--port", "eighty"]).expect_err("bad port");
        assert!(error.to_string().contains("--port"), "{error}");
        let error = parse(&["--auth", "maybe"]).expect_err("bad auth");
        assert!(error.to_string().contains("--auth"), "{error}");
        let error = parse(&["--allowed-origins", "chatgpt.com/x"]).expect_err("bad origin");
        assert!(error.to_string().contains("--allowed-origins"), "{error}");
    }

    #[test]
    fn binance_urls_are_checked() {
        let config = parse(&["--binance-base-url", "ftp://nope"]).expect("parses");
        let Err(error) = config.binance_client() else {
            panic!("a non-http base URL must be refused");
        };
        assert!(matches!(error, ConfigError::Binance(_)), "{error}");
        assert!(error.to_string().contains("--binance-base-url"), "{error}");
        let config = parse(&[
            "--binance-base-url",
            "http://127.0.0.1:9900, http://127.0.0.1:9901",
        ])
        .expect("parses");
        assert!(config.binance_client().is_ok());
    }

    #[test]
    fn hash_password_is_a_subcommand() {
        let config = parse(&["hash-password"]).expect("parses");
        assert!(matches!(config.command, Some(Command::HashPassword)));
    }

    #[test]
    fn binance_timeout_is_bounded() {
        assert_eq!(parse(&[]).expect("defaults").binance_timeout_ms, 10_000);
        let config = parse(&["--binance-timeout-ms", "300"]).expect("parses");
        assert!(config.binance_client().is_ok());
        for bad in ["10", "600000", "soon"] {
            let error = parse(&["--binance-timeout-ms", bad]).expect_err(bad);
            assert!(
                error.to_string().contains("--binance-timeout-ms"),
                "{error}"
            );
        }
    }

    fn public() -> PublicUrl {
        "https://mcp.example.com".parse().expect("valid")
    }

    #[test]
    fn origins() {
        let policy = OriginPolicy::new(
            &public(),
            &[OriginRule::Exact("https://chatgpt.com".into())],
        );
        for ok in [
            "https://chatgpt.com",
            "https://mcp.example.com",
            "http://localhost:6274",
            "http://127.0.0.1:3000",
            "http://[::1]:8080",
        ] {
            assert!(policy.allows(ok), "{ok}");
        }
        for bad in [
            "http://evil.example.com",
            "https://chatgpt.com.evil.com",
            "http://localhost.evil.com",
            "null",
            "http://user@localhost",
        ] {
            assert!(!policy.allows(bad), "{bad}");
        }
        assert!(OriginPolicy::new(&public(), &[OriginRule::Any]).allows("http://anything.example"));
    }

    #[test]
    fn hosts() {
        let policy = HostPolicy::new(&public(), &[HostRule::Exact("internal.svc".into())]);
        for ok in [
            "mcp.example.com",
            "MCP.example.com:443",
            "localhost:8080",
            "127.0.0.1",
            "[::1]:9",
            "internal.svc:80",
        ] {
            assert!(policy.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example.com",
            "",
            "mcp.example.com.evil.com",
            "a@localhost",
        ] {
            assert!(!policy.allows(bad), "{bad}");
        }
    }
}
