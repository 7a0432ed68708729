//! Resource-server guard for the MCP endpoints (`/` and `/mcp`).
//!
//! Every request needs `Authorization: Bearer <token>` whose audience is the
//! exact resource URL of the path it hits (`PUBLIC_URL` for `/`,
//! `PUBLIC_URL/mcp` for `/mcp`). Failures are HTTP errors with a
//! `WWW-Authenticate` challenge pointing at the protected-resource metadata,
//! never a 200 with a JSON-RPC error, so clients start OAuth discovery.
//! The check is one SHA-256 and one read-locked hash-map lookup.

use super::{OAuth, SCOPE_TOOLS};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use super::tokens::TokenHash;

/// Who is calling; inserted as a request extension for the MCP handlers.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: Arc<str>,
    pub client_id: Arc<str>,
    pub scopes: Arc<[String]>,
}

/// A refused request: status plus the challenge to send.
#[derive(Debug, Clone)]
pub struct BearerError {
    pub status: StatusCode,
    pub error: Option<&'static str>,
    pub description: &'static str,
    pub challenge: String,
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let body = match self.error {
            Some(e) => serde_json::json!({"error": e, "error_description": self.description}),
            None => {
                serde_json::json!({"error": "unauthorized", "error_description": self.description})
            }
        };
        let mut r = (self.status, axum::Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&self.challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

impl OAuth {
    /// Validates the bearer token of a request to `path`. Public so a tool
    /// framework can also use it on routes that allow anonymous calls.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        path: &str,
    ) -> Result<Authenticated, BearerError> {
        let fail = |status, error: Option<&'static str>, description: &'static str| BearerError {
            status,
            error,
            description,
            challenge: self.challenge(path, error.map(|e| (e, description))),
        };
        if let Some(q) = query
            && url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
        {
            return Err(fail(
                StatusCode::UNAUTHORIZED,
                Some("invalid_request"),
                "access tokens are accepted only in the Authorization header",
            ));
        }
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(fail(
                StatusCode::UNAUTHORIZED,
                None,
                "authentication required",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .filter(|t| !t.is_empty() && t.len() <= 512);
        let Some(token) = token else {
            return Err(fail(
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "malformed Authorization header",
            ));
        };
        let now = self.now();
        let Some(rec) = self.inner.store.access(&TokenHash::of(token), now).await else {
            return Err(fail(
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "the access token is invalid, expired or revoked",
            ));
        };
        if *rec.resource != *self.resource_for_path(path) {
            return Err(fail(
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "the access token was issued for another resource",
            ));
        }
        if !rec.scopes.iter().any(|s| s == SCOPE_TOOLS) {
            return Err(fail(
                StatusCode::FORBIDDEN,
                Some("insufficient_scope"),
                "the access token lacks the mcp:tools scope",
            ));
        }
        Ok(Authenticated {
            user: rec.user,
            client_id: rec.client_id,
            scopes: rec.scopes,
        })
    }
}

/// Middleware (`route_layer`) for the MCP routes `/` and `/mcp`.
pub async fn require_bearer(State(oauth): State<OAuth>, mut req: Request, next: Next) -> Response {
    // CORS preflights carry no credentials; the outer CorsLayer answers them.
    if req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.0.path().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    match oauth
        .authenticate(req.headers(), req.uri().query(), &path)
        .await
    {
        Ok(auth) => {
            req.extensions_mut().insert(auth);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::store::CodeRec;
    use super::super::tokens::{ACCESS_PREFIX, REFRESH_PREFIX, TokenHash, mint};
    use super::*;

    /// 403 needs a token without `mcp:tools`, which the HTTP flow never
    /// issues (it is the only scope), so the grant is made in the store.
    #[tokio::test]
    async fn missing_scope_is_403_insufficient_scope() {
        let mut args = super::super::OAuthArgs::new();
        args.users = vec!["u:password-1234".parse().unwrap()];
        let (oauth, _) = OAuth::new(&args, "http://127.0.0.1:1", super::super::system_clock())
            .await
            .unwrap();
        let now = oauth.now();
        let store = &oauth.inner.store;
        let (_, code_hash) = mint("c");
        store
            .issue_code(
                code_hash,
                CodeRec {
                    family: "fam".into(),
                    client_id: "client".into(),
                    redirect_uri: "http://127.0.0.1/cb".into(),
                    code_challenge: "x".into(),
                    scopes: vec![],
                    resource: "http://127.0.0.1:1/mcp".into(),
                    user: "u".into(),
                    issued_at: now,
                    expires_at: now + 60,
                },
            )
            .await
            .unwrap();
        let (at, at_hash) = mint(ACCESS_PREFIX);
        let (_, rt_hash) = mint(REFRESH_PREFIX);
        store
            .activate_grant("fam", at_hash, now + 60, rt_hash, now + 600, now)
            .await
            .unwrap();
        assert!(store.access(&TokenHash::of(&at), now).await.is_some());
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {at}")).unwrap(),
        );
        let err = oauth.authenticate(&h, None, "/mcp").await.unwrap_err();
        assert_eq!(err.status, StatusCode::FORBIDDEN);
        assert_eq!(err.error, Some("insufficient_scope"));
        assert!(err.challenge.contains("error=\"insufficient_scope\""));
        assert!(err.challenge.contains("scope=\"mcp:tools\""));
    }
}
