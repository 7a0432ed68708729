//! The URLs the authorization server names itself by, for the origin a
//! request used: the issuer, the two resources (token audiences) and their
//! protected-resource metadata.
//!
//! With `PUBLIC_URL` set they are always that URL's. Without it they follow
//! the loopback origin of each request ([`PublicBase::Local`]), so a client
//! given `http://127.0.0.1:PORT/mcp` and one given `http://localhost:PORT/mcp`
//! both find metadata naming their own URL. Each origin is its own issuer
//! and its own resource: a token is bound to the URL the client connected
//! to, so one minted through `localhost` is refused at `127.0.0.1` (the
//! answer is a 401 pointing at `127.0.0.1`'s metadata, and the client signs
//! in there). Browsers keep cookies per origin too, so treating the two as
//! one would only half work.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::OAuth;
use crate::urls::PublicUrl;

/// The authorization server as one request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    base: String,
}

impl Issuer {
    pub fn new(base: &PublicUrl) -> Self {
        Self {
            base: base.to_string(),
        }
    }

    /// The `issuer` (RFC 8414), also the `iss` of redirects (RFC 9207).
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// An endpoint of ours, e.g. `/token`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The canonical resource (token audience) for a request path: the base
    /// for `/`, `base/mcp` for `/mcp`.
    pub fn resource(&self, path: &str) -> String {
        if is_mcp_path(path) {
            self.endpoint("/mcp")
        } else {
            self.base.clone()
        }
    }

    /// The protected-resource metadata (RFC 9728) describing the resource
    /// of a request path.
    pub fn resource_metadata(&self, path: &str) -> String {
        if is_mcp_path(path) {
            self.endpoint("/.well-known/oauth-protected-resource/mcp")
        } else {
            self.endpoint("/.well-known/oauth-protected-resource")
        }
    }

    /// The canonical form of a `resource` parameter, if it names one of the
    /// resources of this origin (a trailing slash is allowed).
    pub fn canonical_resource(&self, resource: &str) -> Option<String> {
        let resource = resource.strip_suffix('/').unwrap_or(resource);
        [self.resource("/mcp"), self.resource("/")]
            .into_iter()
            .find(|ours| ours == resource)
    }
}

fn is_mcp_path(path: &str) -> bool {
    path == "/mcp" || path.starts_with("/mcp/")
}

impl OAuth {
    /// The issuer a request with these headers talks to.
    pub fn issuer_for(&self, headers: &HeaderMap) -> Issuer {
        Issuer::new(&self.inner.base.for_request(headers))
    }
}

impl FromRequestParts<OAuth> for Issuer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, oauth: &OAuth) -> Result<Self, Infallible> {
        Ok(oauth.issuer_for(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_one_origin() {
        let issuer = Issuer::new(&"http://127.0.0.1:8080".parse().expect("valid"));
        assert_eq!(issuer.as_str(), "http://127.0.0.1:8080");
        assert_eq!(issuer.resource("/mcp"), "http://127.0.0.1:8080/mcp");
        assert_eq!(issuer.resource("/"), "http://127.0.0.1:8080");
        assert_eq!(
            issuer.resource_metadata("/mcp"),
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            issuer
                .canonical_resource("http://127.0.0.1:8080/mcp/")
                .as_deref(),
            Some("http://127.0.0.1:8080/mcp")
        );
        assert_eq!(
            issuer
                .canonical_resource("http://127.0.0.1:8080/")
                .as_deref(),
            Some("http://127.0.0.1:8080")
        );
        for foreign in [
            "http://localhost:8080/mcp",
            "http://127.0.0.1:8081/mcp",
            "http://127.0.0.1:8080/other",
        ] {
            assert_eq!(issuer.canonical_resource(foreign), None, "{foreign}");
        }
    }
}
