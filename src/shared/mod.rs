//! Where the state that instances must agree on lives: in this process
//! (`--store memory`, the default: one instance, nothing to run beside it)
//! or in a Redis-protocol server every instance shares (`--store
//! redis://…`, `rediss://…` for TLS; Valkey and Upstash speak the same).
//!
//! The OAuth store ([`crate::oauth::store`]) and the handshake-era MCP
//! sessions ([`crate::mcp::session`]) each have a memory and a Redis
//! backend; this module holds what both Redis backends share: the URL, its
//! key prefix and the one connection ([`redis::Redis`]).
//!
//! A URL is never printed with its password: [`StoreUrl`]'s `Display` and
//! `Debug` drop it, so start-up errors and logs can name the store safely.

pub mod redis;

use std::fmt;
use std::str::FromStr;

/// Key prefix used when none is configured.
pub const DEFAULT_PREFIX: &str = "cmcp:";
/// Longest accepted key prefix.
const MAX_PREFIX_LEN: usize = 64;

/// `--store`: `memory`, or a Redis URL.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Memory,
    Redis(RedisUrl),
}

/// A `redis://`, `rediss://`, `valkey://`, `valkeys://` or `redis+unix://`
/// URL, kept whole for connecting and shown without its password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    raw: String,
    shown: String,
}

impl RedisUrl {
    /// The URL with its password, for the client only.
    pub(crate) fn connection_string(&self) -> &str {
        &self.raw
    }

    pub fn is_tls(&self) -> bool {
        self.raw.starts_with("rediss://") || self.raw.starts_with("valkeys://")
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.shown)
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Memory => f.write_str("memory"),
            StoreUrl::Redis(url) => url.fmt(f),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

const SCHEMES: &[&str] = &[
    "redis",
    "rediss",
    "valkey",
    "valkeys",
    "redis+unix",
    "valkey+unix",
];

/// Why a store URL was refused. Never holds the value: it may carry a
/// password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrlError {
    NotAUrl,
    Scheme(String),
}

impl fmt::Display for StoreUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expected = "expected `memory` or a URL such as redis://host:6379 or rediss://…";
        match self {
            Self::NotAUrl => write!(f, "not a store URL: {expected}"),
            Self::Scheme(scheme) => write!(f, "unsupported scheme {scheme:?}: {expected}"),
        }
    }
}

impl std::error::Error for StoreUrlError {}

impl FromStr for StoreUrl {
    type Err = StoreUrlError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("memory") {
            return Ok(StoreUrl::Memory);
        }
        let mut url = url::Url::parse(raw).map_err(|_| StoreUrlError::NotAUrl)?;
        if !SCHEMES.contains(&url.scheme()) {
            return Err(StoreUrlError::Scheme(url.scheme().to_owned()));
        }
        if url.password().is_some() {
            let _ = url.set_password(None);
        }
        Ok(StoreUrl::Redis(RedisUrl {
            raw: raw.to_owned(),
            shown: url.to_string(),
        }))
    }
}

/// `--store-prefix`: put before every key, so several deployments can share
/// one database (a managed Redis has no numbered databases on Upstash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePrefix(String);

impl StorePrefix {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for StorePrefix {
    fn default() -> Self {
        StorePrefix(DEFAULT_PREFIX.to_owned())
    }
}

impl FromStr for StorePrefix {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_PREFIX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'{' && b != b'}');
        if ok {
            Ok(StorePrefix(raw.to_owned()))
        } else {
            Err(format!(
                "1-{MAX_PREFIX_LEN} printable ASCII characters without braces, e.g. {DEFAULT_PREFIX}"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_parse_and_never_show_their_password() {
        assert_eq!("memory".parse::<StoreUrl>(), Ok(StoreUrl::Memory));
        let url: StoreUrl = "rediss://default:s3cret-pw@fly-x.upstash.io:6379"
            .parse()
            .unwrap();
        let StoreUrl::Redis(redis) = &url else {
            panic!("a redis URL");
        };
        assert!(redis.is_tls());
        assert_eq!(url.to_string(), "rediss://default@fly-x.upstash.io:6379");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(redis.connection_string().contains("s3cret-pw"));
        for bad in ["http://x:6379", "nope", "redis//x"] {
            let e = bad.parse::<StoreUrl>().unwrap_err().to_string();
            assert!(e.contains("memory"), "{e}");
        }
        let e = "postgres://u:hunter2@db/x".parse::<StoreUrl>().unwrap_err();
        assert_eq!(e, StoreUrlError::Scheme("postgres".into()));
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn prefixes_are_plain() {
        assert_eq!("app1:".parse::<StorePrefix>().unwrap().as_str(), "app1:");
        for bad in ["", "a b", "{x}", &"x".repeat(65)] {
            assert!(bad.parse::<StorePrefix>().is_err(), "{bad:?}");
        }
    }
}
