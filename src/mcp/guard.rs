//! `Origin` and `Host` checks in front of the MCP endpoint.
//!
//! A browser page on another site can reach a server on localhost through
//! DNS rebinding; the defence is to refuse requests whose `Host` is not ours
//! and whose `Origin` (sent by browsers, not by ChatGPT's backend) is not a
//! client we expect. Loopback is always allowed so a local Inspector works.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::config::{HostRule, OriginRule, PublicUrl};
use crate::state::AppState;

use super::transport::rpc_failure;

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
        let Ok(authority) = host_header.trim().parse::<axum::http::uri::Authority>() else {
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
    rest.parse::<axum::http::uri::Authority>()
        .is_ok_and(|a| !a.as_str().contains('@') && is_loopback_host(a.host()))
}

/// Refuses a request whose `Host` or `Origin` is not allowed, with 403.
pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match verdict(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(message) => rpc_failure(
            StatusCode::FORBIDDEN,
            None,
            super::jsonrpc::RpcError::invalid_request(message),
        ),
    }
}

fn verdict(state: &AppState, headers: &HeaderMap) -> Result<(), String> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !state.settings.hosts.allows(host) {
        return Err(format!(
            "Host header {host:?} is not served here; use {} (or set MCP_ALLOWED_HOSTS)",
            state.settings.public_url
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !state.settings.origins.allows(origin) {
            return Err(format!(
                "Origin {origin:?} is not allowed to call this server (set MCP_ALLOWED_ORIGINS to allow it)"
            ));
        }
    }
    Ok(())
}

/// The CORS `Access-Control-Allow-Origin` decision uses the same policy.
pub fn cors_allows(state: &AppState, origin: &axum::http::HeaderValue) -> bool {
    origin
        .to_str()
        .is_ok_and(|origin| state.settings.origins.allows(origin))
}

#[cfg(test)]
mod tests {
    use super::*;

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
