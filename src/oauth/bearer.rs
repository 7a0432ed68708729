//! Resource-server guard for the MCP endpoints (`/` and `/mcp`).
//!
//! Every request needs `Authorization: Bearer <token>` whose audience is the
//! exact resource URL of the path it hits (`PUBLIC_URL` for `/`,
//! `PUBLIC_URL/mcp` for `/mcp`; without `PUBLIC_URL`, of the loopback origin
//! it came to, see [`super::issuer`]). Failures are HTTP errors with a
//! `WWW-Authenticate` challenge pointing at the protected-resource metadata,
//! never a 200 with a JSON-RPC error, so clients start OAuth discovery.
//! The check is one SHA-256 and one store lookup (a read-locked hash map in
//! memory); a store that cannot answer refuses, never passes.

use super::error::{Challenge, ErrorCode, OAuthError, Unauthorized};
use super::tokens::TokenHash;
use super::{Issuer, OAuth, SCOPE_TOOLS};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Longest bearer token read from a header (ours are 49 characters).
const MAX_TOKEN_LEN: usize = 512;

/// Who a request that passed the guard is for: the signed-in user, which
/// the Binance weight budget keys callers by (see `crate::mcp::caller`).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: std::sync::Arc<str>,
}

/// Why a request did not pass the guard.
#[derive(Debug)]
pub enum Denied {
    /// 401 or 403 with a challenge: the client should (re)authorize.
    Unauthorized(Unauthorized),
    /// 503: the token store could not answer; the token may be fine.
    Unavailable(OAuthError),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Unauthorized(u) => u.into_response(),
            Denied::Unavailable(e) => e.into_response(),
        }
    }
}

impl OAuth {
    /// The refusal of a request to `path` of `issuer`, with the challenge
    /// that points at the protected-resource metadata; `error` is `None` when
    /// the request carried no credentials at all.
    pub fn unauthorized(
        &self,
        issuer: &Issuer,
        path: &str,
        error: Option<ErrorCode>,
        description: &'static str,
    ) -> Unauthorized {
        let status = if error == Some(ErrorCode::InsufficientScope) {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        };
        Unauthorized {
            status,
            error,
            description: description.into(),
            challenge: Challenge::Bearer(self.challenge(
                issuer,
                path,
                error.map(|e| (e.as_str(), description)),
            )),
        }
    }

    /// Checks the bearer token of a request to `path`.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        path: &str,
    ) -> Result<Authenticated, Denied> {
        let issuer = self.issuer_for(headers);
        let fail = |error, description| {
            Denied::Unauthorized(self.unauthorized(&issuer, path, error, description))
        };
        if let Some(q) = query
            && url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
        {
            return Err(fail(
                Some(ErrorCode::InvalidRequest),
                "access tokens are accepted only in the Authorization header",
            ));
        }
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(fail(None, "authentication required"));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_LEN);
        let Some(token) = token else {
            return Err(fail(
                Some(ErrorCode::InvalidToken),
                "malformed Authorization header",
            ));
        };
        let now = self.now();
        let rec = match self.inner.store.access(&TokenHash::of(token), now).await {
            Ok(Some(rec)) => rec,
            Ok(None) => {
                return Err(fail(
                    Some(ErrorCode::InvalidToken),
                    "the access token is invalid, expired or revoked",
                ));
            }
            // Never a pass, and not a 401 either: the token may be fine.
            Err(e) => return Err(Denied::Unavailable(e.into())),
        };
        if *rec.resource != issuer.resource(path) {
            return Err(fail(
                Some(ErrorCode::InvalidToken),
                "the access token was issued for another resource",
            ));
        }
        if !rec.scopes.iter().any(|s| s == SCOPE_TOOLS) {
            return Err(fail(
                Some(ErrorCode::InsufficientScope),
                "the access token lacks the mcp:tools scope",
            ));
        }
        Ok(Authenticated { user: rec.user })
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
        Ok(signed_in) => {
            req.extensions_mut().insert(signed_in);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::store::{CodeRec, NewTokens, Redeem, Redeemed};
    use super::super::tokens::{ACCESS_PREFIX, REFRESH_PREFIX, TokenHash, mint};
    use super::*;
    use axum::http::HeaderValue;

    /// 403 needs a token without `mcp:tools`, which the HTTP flow never
    /// issues (it is the only scope), so the grant is made in the store.
    #[tokio::test]
    async fn missing_scope_is_403_insufficient_scope() {
        let mut args = super::super::OAuthArgs::new();
        args.users = vec!["u:password-1234".parse().unwrap()];
        let url = crate::urls::PublicBase::Fixed("http://127.0.0.1:1".parse().unwrap());
        let (oauth, _) = OAuth::new(&args, &url, super::super::system_clock())
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
        let req = Redeem {
            client_id: "client".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            challenge: Some("x".into()),
            resource: None,
            tokens: NewTokens {
                access: at_hash,
                access_expires_at: now + 60,
                refresh: rt_hash,
                refresh_expires_at: now + 600,
            },
            now,
        };
        assert!(matches!(
            store.redeem_code(&code_hash, req).await,
            Ok(Redeemed::Issued(_))
        ));
        assert!(
            store
                .access(&TokenHash::of(&at), now)
                .await
                .unwrap()
                .is_some()
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {at}")).unwrap(),
        );
        let Err(Denied::Unauthorized(err)) = oauth.authenticate(&h, None, "/mcp").await else {
            panic!("refused");
        };
        assert_eq!(err.status, StatusCode::FORBIDDEN);
        assert_eq!(err.error, Some(ErrorCode::InsufficientScope));
        let Challenge::Bearer(challenge) = err.challenge else {
            panic!("a bearer challenge");
        };
        assert!(challenge.contains("error=\"insufficient_scope\""));
        assert!(challenge.contains("scope=\"mcp:tools\""));
    }
}
