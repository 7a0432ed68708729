//! The addresses the server announces about itself, parsed once at the
//! edge: its public URL, the base of every URL in discovery documents,
//! challenges and token audiences, and the chart app's sandbox domain.
//!
//! With no public URL configured, the base follows the loopback address a
//! request used ([`PublicBase::Local`]): clients check that the metadata
//! names the very URL they were given, and people paste
//! `http://127.0.0.1:8080/mcp` as often as `http://localhost:8080/mcp`.
//!
//! A leaf module: configuration, the MCP layer and the authorization server
//! all read these types, so they depend on nothing else of ours.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use axum::http::uri::Authority;
use axum::http::{HeaderMap, Uri, header};

/// An absolute `http(s)://host[:port]` URL with no path, query or fragment:
/// the base every advertised URL is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl PublicUrl {
    /// `http://localhost:port`, the address people type for a server on
    /// their own machine.
    pub fn localhost(port: u16) -> Self {
        Self {
            scheme: "http".into(),
            host: "localhost".into(),
            port: Some(port),
        }
    }

    /// Host name as it appears in a `Host` header, without the port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `scheme://host[:port]` origin browsers send for pages we serve.
    pub fn origin(&self) -> String {
        self.to_string()
    }

    /// Whether the URL is https (secure cookies are possible).
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
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
    type Err = UrlError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let refuse = |problem| UrlError {
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

/// The base URL each request is answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicBase {
    /// Set by `PUBLIC_URL` or announced by the hosting platform: every
    /// request gets it, whatever its `Host` says.
    Fixed(PublicUrl),
    /// Nothing configured: a request to a loopback host (`localhost`,
    /// `127.0.0.1`, `[::1]`, any port) gets the origin it used, over http;
    /// any other host gets this default, `http://localhost:PORT`.
    Local(PublicUrl),
}

impl PublicBase {
    /// The configured URL, or the local default: what the server calls
    /// itself when no request is in view (logs, error hints, policies).
    pub fn configured(&self) -> &PublicUrl {
        match self {
            Self::Fixed(url) | Self::Local(url) => url,
        }
    }

    /// The base for a request with these headers.
    pub fn for_request(&self, headers: &HeaderMap) -> Cow<'_, PublicUrl> {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        self.for_host(host)
    }

    /// The base for a request whose `Host` header is `host`.
    pub fn for_host(&self, host: Option<&str>) -> Cow<'_, PublicUrl> {
        let Self::Local(default) = self else {
            return Cow::Borrowed(self.configured());
        };
        let loopback = host
            .and_then(|h| h.trim().parse::<Authority>().ok())
            .filter(|a| !a.as_str().contains('@') && is_loopback_host(a.host()));
        match loopback {
            Some(authority) => Cow::Owned(PublicUrl {
                scheme: "http".into(),
                host: authority.host().to_ascii_lowercase(),
                port: authority.port_u16(),
            }),
            None => Cow::Borrowed(default),
        }
    }
}

/// `localhost` or a loopback IP (`127.0.0.0/8`, `::1`, brackets allowed).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A URL refused as a public URL or origin, with what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    pub raw: String,
    pub problem: UrlProblem,
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

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = &self.raw;
        match self.problem {
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
}

impl std::error::Error for UrlError {}

/// A dedicated sandbox origin for the view (`_meta.ui.domain`), for a host
/// that asks for one (directory listings). Its form is the host's: Claude
/// wants `<first 32 hex of sha256(MCP URL)>.claudemcpcontent.com`, ChatGPT
/// an `https://` origin. There is no default, because a domain a host does
/// not expect stops it rendering the view at all, while none is always
/// accepted (the host's own sandbox origin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDomain(String);

impl AppDomain {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Longest DNS name.
const MAX_DOMAIN_LEN: usize = 253;

impl FromStr for AppDomain {
    type Err = DomainError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let text = raw.trim().to_ascii_lowercase();
        let host = text.strip_prefix("https://").unwrap_or(&text);
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if host.len() > MAX_DOMAIN_LEN
            || host.split('.').count() < 2
            || !host.split('.').all(label_ok)
        {
            return Err(DomainError(raw.to_owned()));
        }
        Ok(Self(text))
    }
}

impl fmt::Display for AppDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `--app-domain` that is not a host name or an `https://` origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainError(String);

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a domain: give a host name such as \
             0a438b56404e81245c5485e96ce8e529.claudemcpcontent.com, or an https:// origin without a path",
            self.0
        )
    }
}

impl std::error::Error for DomainError {}

#[cfg(test)]
mod tests {
    use super::*;

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
                Err(UrlError { problem, .. }) => assert_eq!(problem, expected, "{bad}"),
                other => panic!("{bad} should be refused, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_local_base_follows_loopback_hosts_only() {
        let local = PublicBase::Local(PublicUrl::localhost(8080));
        for (host, base) in [
            (Some("127.0.0.1:8080"), "http://127.0.0.1:8080"),
            (Some("localhost:8080"), "http://localhost:8080"),
            (Some("LocalHost:9999"), "http://localhost:9999"),
            (Some("[::1]:8080"), "http://[::1]:8080"),
            (Some("127.0.0.2"), "http://127.0.0.2"),
            // Anything else gets the default, as before.
            (Some("mcp.example.com"), "http://localhost:8080"),
            (Some("localhost.evil.com:8080"), "http://localhost:8080"),
            (Some("user@localhost:8080"), "http://localhost:8080"),
            (Some("0.0.0.0:8080"), "http://localhost:8080"),
            (Some("not a host"), "http://localhost:8080"),
            (None, "http://localhost:8080"),
        ] {
            assert_eq!(local.for_host(host).to_string(), base, "{host:?}");
        }
        let fixed = PublicBase::Fixed("https://mcp.example.com".parse().expect("valid"));
        assert_eq!(
            fixed.for_host(Some("127.0.0.1:8080")).to_string(),
            "https://mcp.example.com"
        );
    }

    #[test]
    fn domains_are_host_names_or_https_origins() {
        let claude = "0a438b56404e81245c5485e96ce8e529.claudemcpcontent.com";
        assert_eq!(
            claude.parse::<AppDomain>().map(|d| d.to_string()),
            Ok(claude.to_owned())
        );
        assert_eq!(
            "https://Crypto.Example.com"
                .parse::<AppDomain>()
                .map(|d| d.to_string()),
            Ok("https://crypto.example.com".to_owned())
        );
        for bad in [
            "",
            "localhost",
            "http://a.com",
            "https://a.com/path",
            "a..com",
            "-a.com",
            "a b.com",
            "a.com:8080",
        ] {
            assert!(bad.parse::<AppDomain>().is_err(), "{bad}");
        }
    }
}
