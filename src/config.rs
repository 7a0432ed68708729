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

use axum::http::uri::Authority;
use clap::{Parser, Subcommand, ValueEnum};

use crate::binance::{
    BinanceClient, BinanceConfig, DEFAULT_FUTURES_BASE_URL, DEFAULT_SPOT_BASE_URLS, parse_base_urls,
};
use crate::oauth::config::Secretish;
use crate::oauth::{AuthMode, OAuthArgs};
use crate::shared::{DEFAULT_PREFIX, StorePrefix, StoreUrl, StoreUrlError};
use crate::urls::{AppDomain, PublicBase, PublicUrl, UrlError, is_loopback_host};

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

/// How long a client may take to send a complete request head, counted
/// from when the connection opens or from its first byte after an idle
/// keep-alive. Real clients send a head in one packet; slowloris clients
/// dribble it to hold a socket.
pub const HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// How long a client may take to send a whole request body once its head is
/// in. Bodies are at most 1 MiB, so this allows ~100 KiB/s, far below any
/// real link, and closes bodies left half-sent.
pub const BODY_READ_TIMEOUT_SECS: u64 = 10;
/// How long a keep-alive connection may sit between requests, as Apache
/// and Node keep them: a client making several calls in a row reuses its
/// connection, and a forgotten one is gone soon. Behind a proxy that pools
/// connections longer, set it above the proxy's pool timeout so the proxy
/// never reuses a connection we are closing. Open response streams (SSE)
/// are busy, never idle.
pub const IDLE_TIMEOUT_SECS: u64 = 10;
/// How long a response may make no progress because the client does not
/// read it. Any byte accepted restarts the clock, so a slow link is fine;
/// a client that stops reading a large reply would otherwise hold its
/// connection for good.
pub const SEND_TIMEOUT_SECS: u64 = 30;
/// Connections served at once unless `--max-connections` says otherwise:
/// about 16 KiB each when idle, so a full house fits a 256 MB VM.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1_024;
/// Descriptors kept free of client connections: the listener, Binance
/// connections, the state file, logs, the runtime's own.
pub const RESERVED_DESCRIPTORS: u64 = 128;
/// Longest timeout an operator may set; past an hour a timeout protects
/// nothing.
const MAX_TIMEOUT_SECS: u64 = 3_600;

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
    /// (default: the loopback address a request used, such as
    /// http://localhost:PORT or http://127.0.0.1:PORT).
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

    /// Where the state instances must share is kept: `memory` (this process
    /// only; `--state-file` keeps it across restarts) or a Redis or Valkey
    /// URL, `redis://…` or `rediss://…` (TLS), that every instance of the
    /// deployment is given. Default: REDIS_URL if set, else memory.
    #[arg(
        long,
        env = "MCP_STORE",
        value_name = "memory|URL",
        hide_env_values = true
    )]
    pub store: Option<Secretish>,

    /// The URL platforms set when a Redis is attached (Render, Railway).
    #[arg(long, env = "REDIS_URL", hide = true, hide_env_values = true)]
    pub redis_url: Option<Secretish>,

    /// Put before every key in the shared store, so deployments can share
    /// one database.
    #[arg(long, env = "MCP_STORE_PREFIX", default_value = DEFAULT_PREFIX)]
    pub store_prefix: StorePrefix,

    /// PEM file of the CA that signed a `rediss://` store's certificate, for
    /// a self-hosted server with a private CA (managed offers need none).
    #[arg(long, env = "MCP_STORE_CA_FILE")]
    pub store_ca_file: Option<std::path::PathBuf>,

    /// With OAuth, let clients without a token discover the server (list its
    /// tools) before signing in; calling a tool then asks them to sign in.
    #[arg(long, env = "MCP_ANONYMOUS_DISCOVERY", default_value_t = false)]
    pub anonymous_discovery: bool,

    /// A dedicated sandbox domain for the chart app (`_meta.ui.domain`), in
    /// the form the host wants, for hosts whose app directory asks for one:
    /// Claude's is `<first 32 hex of sha256(MCP URL)>.claudemcpcontent.com`.
    /// Leave it unset otherwise: a domain a host does not expect stops it
    /// showing the app.
    #[arg(long, env = "MCP_APP_DOMAIN")]
    pub app_domain: Option<AppDomain>,

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

    /// Most GET notification streams open at once, across all sessions (one
    /// caller may hold a quarter, at least 4); past it a new stream gets 503
    /// with Retry-After. Keep it well below the connection limit.
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

    /// Most client connections served at once (default 1024, fewer when the
    /// descriptor limit is lower). At the cap, a new connection replaces the
    /// one that has waited longest for a request; when every connection is
    /// busy it waits a moment, then gets a 503.
    #[arg(long, env = "MCP_MAX_CONNECTIONS",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: Option<u64>,

    /// Seconds a client may take to send a request head.
    #[arg(long, env = "MCP_HEADER_READ_TIMEOUT_SECS", default_value_t = HEADER_READ_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub header_read_timeout_secs: u64,

    /// Seconds a client may take to send a request body.
    #[arg(long, env = "MCP_BODY_READ_TIMEOUT_SECS", default_value_t = BODY_READ_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub body_read_timeout_secs: u64,

    /// Seconds a keep-alive connection may wait for its next request.
    #[arg(long, env = "MCP_IDLE_TIMEOUT_SECS", default_value_t = IDLE_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub idle_timeout_secs: u64,

    /// Seconds a response may wait for the client to read any of it.
    #[arg(long, env = "MCP_SEND_TIMEOUT_SECS", default_value_t = SEND_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub send_timeout_secs: u64,

    /// Log output format: `text` or `json`. Verbosity comes from RUST_LOG.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    pub fn bind_addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// The public URL: PUBLIC_URL, else what Render, Railway or Fly.io
    /// announce, else the loopback address each request used (see
    /// [`PublicBase::Local`]).
    pub fn public_url(&self) -> PublicBase {
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
        match self.public_url.clone().or_else(platform) {
            Some(url) => PublicBase::Fixed(url),
            None => PublicBase::Local(PublicUrl::localhost(self.port)),
        }
    }

    /// The store: `--store`, else `REDIS_URL`, else memory. Parsed here and
    /// not by clap, whose errors would repeat the value, password included.
    pub fn store_url(&self) -> Result<StoreUrl, ConfigError> {
        match (&self.store, &self.redis_url) {
            (Some(raw), _) => raw.0.parse().map_err(|error| ConfigError::Store {
                source: "--store / MCP_STORE",
                error,
            }),
            (None, Some(raw)) => raw.0.parse().map_err(|error| ConfigError::Store {
                source: "REDIS_URL",
                error,
            }),
            (None, None) => Ok(StoreUrl::Memory),
        }
    }

    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: self
                .max_connections
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            send_timeout: Duration::from_secs(self.send_timeout_secs),
        }
    }

    /// The Binance client, configured from the `--binance-*` flags.
    pub fn binance_client(&self) -> Result<BinanceClient, ConfigError> {
        BinanceClient::new(self.binance_config()).map_err(ConfigError::Binance)
    }

    /// What the `--binance-*` flags say, for [`Config::binance_client`] (or
    /// a test that brings its own clock).
    pub fn binance_config(&self) -> BinanceConfig {
        let request_timeout = Duration::from_millis(self.binance_timeout_ms);
        BinanceConfig {
            spot_base_urls: parse_base_urls(&self.binance_base_url),
            futures_base_url: self.binance_futures_base_url.trim().to_owned(),
            request_timeout,
            attempt_timeout: (request_timeout / 2).min(MAX_ATTEMPT_TIMEOUT),
            ..BinanceConfig::default()
        }
    }
}

/// What the server needs from [`Config`], resolved once at startup.
#[derive(Debug, Clone)]
pub struct Settings {
    pub public_url: PublicBase,
    pub origins: OriginPolicy,
    pub hosts: HostPolicy,
    /// See `--anonymous-discovery` and [`crate::mcp::auth`].
    pub anonymous_discovery: bool,
    /// See `--max-streams`.
    pub max_streams: usize,
    /// See `--app-domain` and [`AppDomain`].
    pub app_domain: Option<AppDomain>,
    /// See [`crate::listener`].
    pub connections: ConnectionLimits,
}

impl Settings {
    pub fn from_config(config: &Config) -> Self {
        let public_url = config.public_url();
        Self {
            origins: OriginPolicy::new(public_url.configured(), &config.allowed_origins),
            hosts: HostPolicy::new(public_url.configured(), &config.allowed_hosts),
            anonymous_discovery: config.anonymous_discovery,
            max_streams: config.max_streams,
            app_domain: config.app_domain.clone(),
            connections: config.connection_limits(),
            public_url,
        }
    }
}

/// The listener's limits, from the connection flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `None`: [`DEFAULT_MAX_CONNECTIONS`], within the descriptor limit.
    pub max_connections: Option<usize>,
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub send_timeout: Duration,
}

impl ConnectionLimits {
    /// The connection cap for a process allowed `descriptors` open files.
    pub fn cap(&self, descriptors: u64) -> usize {
        let room = usize::try_from(descriptors.saturating_sub(RESERVED_DESCRIPTORS).max(1))
            .unwrap_or(usize::MAX);
        self.max_connections
            .unwrap_or(DEFAULT_MAX_CONNECTIONS)
            .min(room)
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: None,
            header_read_timeout: Duration::from_secs(HEADER_READ_TIMEOUT_SECS),
            body_read_timeout: Duration::from_secs(BODY_READ_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(IDLE_TIMEOUT_SECS),
            send_timeout: Duration::from_secs(SEND_TIMEOUT_SECS),
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
        let url: PublicUrl = raw.parse().map_err(ConfigError::Origin)?;
        Ok(Self::Exact(url.origin()))
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
    /// An entry of `--allowed-origins`.
    Origin(UrlError),
    /// An entry of `--allowed-hosts`.
    Host(String),
    /// `--binance-base-url` / `--binance-futures-base-url`.
    Binance(crate::binance::ConfigError),
    /// `--store` / `MCP_STORE` or `REDIS_URL`, as `source` names it.
    Store {
        source: &'static str,
        error: StoreUrlError,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Origin(error) => write!(f, "origin {error}; expected e.g. https://chatgpt.com"),
            Self::Host(raw) => write!(f, "'{raw}' is not a host name"),
            Self::Binance(error) => {
                write!(
                    f,
                    "--binance-base-url / --binance-futures-base-url: {error}"
                )
            }
            Self::Store { source, error } => write!(f, "{source}: {error}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Origin(error) => Some(error),
            Self::Binance(error) => Some(error),
            Self::Store { error, .. } => Some(error),
            Self::Host(_) => None,
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
        assert_eq!(
            config.public_url(),
            PublicBase::Local(PublicUrl::localhost(9000))
        );
        assert_eq!(config.allowed_origins.len(), 4);
        assert_eq!(config.auth, AuthMode::Oauth);
    }

    #[test]
    fn platforms_announce_the_public_url() {
        let fly = parse(&["--fly-app-name", "my-mcp"]).expect("parses");
        assert_eq!(
            fly.public_url(),
            PublicBase::Fixed("https://my-mcp.fly.dev".parse().expect("valid"))
        );
        let railway = parse(&[
            "--railway-public-domain",
            "x.up.railway.app",
            "--fly-app-name",
            "y",
        ])
        .expect("parses");
        assert_eq!(
            railway.public_url().configured().to_string(),
            "https://x.up.railway.app"
        );
        let explicit = parse(&[
            "--public-url",
            "https://mcp.example.com",
            "--fly-app-name",
            "y",
        ])
        .expect("parses");
        assert_eq!(
            explicit.public_url().configured().to_string(),
            "https://mcp.example.com"
        );
    }

    #[test]
    fn origins_are_bare_urls() {
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
    fn the_store_is_memory_unless_a_url_is_given() {
        assert_eq!(parse(&[]).unwrap().store_url().ok(), Some(StoreUrl::Memory));
        let c = parse(&["--redis-url", "redis://r:6379", "--store", "memory"]).unwrap();
        assert_eq!(c.store_url().ok(), Some(StoreUrl::Memory), "--store wins");
        let c = parse(&["--redis-url", "redis://u:pw@r:6379"]).unwrap();
        assert_eq!(c.store_url().unwrap().to_string(), "redis://u@r:6379");
        let c = parse(&["--store", "mysql://u:hunter2@db"]).unwrap();
        let e = c.store_url().unwrap_err().to_string();
        assert!(e.contains("--store") && !e.contains("hunter2"), "{e}");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn connection_limits_have_defaults_flags_and_bounds() {
        let limits = parse(&[]).expect("defaults").connection_limits();
        assert_eq!(limits, ConnectionLimits::default());
        assert_eq!(limits.cap(1_048_576), DEFAULT_MAX_CONNECTIONS);
        // A low descriptor limit lowers the cap, never to zero.
        assert_eq!(limits.cap(1_024), 1_024 - RESERVED_DESCRIPTORS as usize);
        assert_eq!(limits.cap(10), 1);
        let config = parse(&[
            "--max-connections",
            "5000",
            "--header-read-timeout-secs",
            "2",
            "--body-read-timeout-secs",
            "3",
            "--idle-timeout-secs",
            "4",
            "--send-timeout-secs",
            "5",
        ])
        .expect("parses");
        let limits = config.connection_limits();
        assert_eq!(limits.cap(1_048_576), 5_000);
        assert_eq!(limits.cap(2_000), 2_000 - RESERVED_DESCRIPTORS as usize);
        assert_eq!(limits.header_read_timeout, Duration::from_secs(2));
        assert_eq!(limits.body_read_timeout, Duration::from_secs(3));
        assert_eq!(limits.idle_timeout, Duration::from_secs(4));
        assert_eq!(limits.send_timeout, Duration::from_secs(5));
        for (flag, bad) in [
            ("--max-connections", "0"),
            ("--header-read-timeout-secs", "0"),
            ("--body-read-timeout-secs", "86400"),
            ("--idle-timeout-secs", "soon"),
            ("--send-timeout-secs", "3601"),
        ] {
            let error = parse(&[flag, bad]).expect_err(bad);
            assert!(error.to_string().contains(flag), "{error}");
        }
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
