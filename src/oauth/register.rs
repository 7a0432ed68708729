//! RFC 7591 dynamic client registration and the redirect-URI rules shared
//! with CIMD and `/authorize`.
//!
//! Registration is open (that is how ChatGPT and the SDKs connect), so it is
//! strict about shape and size, rate-limited, and registered clients expire
//! when unused. The client's name is self-asserted: the consent page marks it
//! unverified. Redirect URIs must be https, or http on a loopback host; they
//! are later matched exactly (only a loopback port may vary, RFC 8252 §7.3).

use super::error::{ErrorCode, OAuthError};
use super::limits::{Budget, REGISTER_GLOBAL, REGISTER_PER_IP};
use super::store::{AuthMethod, ClientKind, ClientRec, StoreError};
use super::tokens::{CLIENT_SECRET_PREFIX, TokenHash, mint};
use super::{OAuth, SCOPE_TOOLS};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

/// Redirect URIs per client: real clients register one to three.
pub const MAX_REDIRECT_URIS: usize = 10;
/// Longest redirect URI (ChatGPT's and Claude's are < 100 chars).
pub const MAX_URI_LEN: usize = 1024;
/// Longest client name shown on the consent page.
pub const MAX_CLIENT_NAME_LEN: usize = 100;
/// Contacts accepted (and ignored) per registration.
pub const MAX_CONTACTS: usize = 5;

#[derive(Debug, Deserialize)]
struct RegisterRequest {
    redirect_uris: Option<Vec<String>>,
    client_name: Option<String>,
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    scope: Option<String>,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    tos_uri: Option<String>,
    policy_uri: Option<String>,
    contacts: Option<Vec<String>>,
    application_type: Option<String>,
    jwks_uri: Option<String>,
    jwks: Option<serde_json::Value>,
    software_id: Option<String>,
    software_version: Option<String>,
}

/// Why a redirect URI is refused (a fixed string, safe to return).
pub fn check_redirect_uri(raw: &str) -> Result<(), &'static str> {
    if raw.is_empty() || raw.len() > MAX_URI_LEN {
        return Err("redirect URI is empty or too long");
    }
    if raw
        .bytes()
        .any(|b| b <= 0x20 || b >= 0x7f || b == b'\\' || b == b'#')
    {
        return Err("redirect URI contains whitespace, control, non-ASCII, backslash or fragment");
    }
    let url = url::Url::parse(raw).map_err(|_| "redirect URI is not an absolute URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("redirect URI must not contain userinfo");
    }
    match url.scheme() {
        "https" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err("redirect URI has no host");
            }
            Ok(())
        }
        "http" if is_loopback_url(&url) => Ok(()),
        "http" => {
            Err("http redirect URIs are allowed only on loopback (127.0.0.1, [::1], localhost)")
        }
        _ => Err("redirect URI must use https (or http on loopback)"),
    }
}

fn is_loopback_url(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Exact string match; for loopback http URIs the port alone may differ.
pub fn redirect_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    if check_redirect_uri(requested).is_err() {
        return false;
    }
    let (Ok(a), Ok(b)) = (url::Url::parse(registered), url::Url::parse(requested)) else {
        return false;
    };
    a.scheme() == "http"
        && b.scheme() == "http"
        && is_loopback_url(&a)
        && is_loopback_url(&b)
        && a.host() == b.host()
        && a.path() == b.path()
        && a.query() == b.query()
}

fn check_other_uri(field: &'static str, v: &Option<String>) -> Result<(), OAuthError> {
    if let Some(u) = v {
        let ok = u.len() <= MAX_URI_LEN
            && url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "https" | "http"));
        if !ok {
            return Err(OAuthError::invalid_metadata(format!(
                "{field} must be an http(s) URL of at most {MAX_URI_LEN} characters"
            )));
        }
    }
    Ok(())
}

/// A scope string naming a scope this server does not have.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownScope;

/// Scope strings this server knows (`offline_access` is accepted and
/// ignored: refresh tokens are always issued).
pub fn parse_scope(scope: &str) -> Result<Vec<String>, UnknownScope> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if s == "offline_access" {
            continue;
        }
        if !super::SCOPES_SUPPORTED.contains(&s) {
            return Err(UnknownScope);
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

pub async fn register(
    State(oauth): State<OAuth>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    body: Bytes,
) -> Response {
    match register_inner(&oauth, &headers, &ext, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn register_inner(
    oauth: &OAuth,
    headers: &HeaderMap,
    ext: &axum::http::Extensions,
    body: &[u8],
) -> Result<Response, OAuthError> {
    let now = oauth.now();
    let ip = oauth.client_ip(headers, ext);
    // Every registration counts, valid or not: the budget bounds the work.
    oauth
        .reserve(
            &[
                Budget::new("register:ip", &ip, REGISTER_PER_IP),
                Budget::global("register", REGISTER_GLOBAL),
            ],
            now,
        )
        .await?
        .keep();

    let req: RegisterRequest = serde_json::from_slice(body)
        .map_err(|_| OAuthError::invalid_metadata("body must be a JSON client metadata object"))?;

    let uris = req.redirect_uris.ok_or_else(|| {
        OAuthError::new(ErrorCode::InvalidRedirectUri, "redirect_uris is required")
    })?;
    if uris.is_empty() || uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::new(
            ErrorCode::InvalidRedirectUri,
            format!("redirect_uris must hold 1 to {MAX_REDIRECT_URIS} URIs"),
        ));
    }
    for u in &uris {
        check_redirect_uri(u).map_err(|why| OAuthError::new(ErrorCode::InvalidRedirectUri, why))?;
    }

    let method = match req.token_endpoint_auth_method.as_deref() {
        None | Some("none") => AuthMethod::None,
        Some("client_secret_basic") => AuthMethod::ClientSecretBasic,
        Some("client_secret_post") => AuthMethod::ClientSecretPost,
        Some(_) => {
            return Err(OAuthError::invalid_metadata(
                "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post",
            ));
        }
    };
    if req.jwks.is_some() || req.jwks_uri.is_some() {
        return Err(OAuthError::invalid_metadata(
            "jwks and jwks_uri are not supported",
        ));
    }
    let grant_types = req
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]);
    if grant_types.is_empty()
        || grant_types.len() > 2
        || !grant_types.iter().any(|g| g == "authorization_code")
        || grant_types
            .iter()
            .any(|g| g != "authorization_code" && g != "refresh_token")
    {
        return Err(OAuthError::invalid_metadata(
            "grant_types must include authorization_code and may include refresh_token only",
        ));
    }
    let response_types = req.response_types.unwrap_or_else(|| vec!["code".into()]);
    if response_types != ["code"] {
        return Err(OAuthError::invalid_metadata(
            "response_types must be [\"code\"]",
        ));
    }
    if let Some(name) = &req.client_name
        && (name.trim().is_empty()
            || name.chars().count() > MAX_CLIENT_NAME_LEN
            || name.chars().any(char::is_control))
    {
        return Err(OAuthError::invalid_metadata(format!(
            "client_name must be 1-{MAX_CLIENT_NAME_LEN} printable characters"
        )));
    }
    if let Some(scope) = &req.scope
        && (scope.len() > 256 || parse_scope(scope).is_err())
    {
        return Err(OAuthError::invalid_metadata(format!(
            "scope may only contain {SCOPE_TOOLS} (and offline_access)"
        )));
    }
    check_other_uri("client_uri", &req.client_uri)?;
    check_other_uri("logo_uri", &req.logo_uri)?;
    check_other_uri("tos_uri", &req.tos_uri)?;
    check_other_uri("policy_uri", &req.policy_uri)?;
    if req
        .contacts
        .as_ref()
        .is_some_and(|c| c.len() > MAX_CONTACTS || c.iter().any(|s| s.len() > 256))
    {
        return Err(OAuthError::invalid_metadata(
            "too many or too long contacts",
        ));
    }
    if let Some(t) = &req.application_type
        && t != "native"
        && t != "web"
    {
        return Err(OAuthError::invalid_metadata(
            "application_type must be native or web",
        ));
    }
    for v in [&req.software_id, &req.software_version]
        .into_iter()
        .flatten()
    {
        if v.len() > 256 {
            return Err(OAuthError::invalid_metadata("software_id/version too long"));
        }
    }

    let client_id = uuid::Uuid::new_v4().to_string();
    let (secret, secret_hash): (Option<String>, Option<TokenHash>) = match method {
        AuthMethod::None => (None, None),
        _ => {
            let (s, h) = mint(CLIENT_SECRET_PREFIX);
            (Some(s), Some(h))
        }
    };
    let rec = ClientRec {
        client_id: client_id.clone(),
        client_name: req.client_name.clone(),
        redirect_uris: uris.clone(),
        auth_method: method,
        secret_hash,
        kind: ClientKind::Dcr,
        created_at: now,
        last_used: None,
        cache_until: None,
    };
    match oauth.inner.store.register_client(rec).await {
        Ok(()) => {}
        Err(StoreError::Full) => {
            return Err(OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "too many registered clients; try again later",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(%client_id, auth_method = method.as_str(), "client registered");

    let mut body = json!({
        "client_id": client_id,
        "client_id_issued_at": now,
        "redirect_uris": uris,
        "token_endpoint_auth_method": method.as_str(),
        "grant_types": grant_types,
        "response_types": response_types,
    });
    if let Some(name) = req.client_name {
        body["client_name"] = json!(name);
    }
    if let Some(scope) = req.scope {
        body["scope"] = json!(scope);
    }
    if let Some(s) = secret {
        body["client_secret"] = json!(s);
        body["client_secret_expires_at"] = json!(0);
    }
    let mut resp = (StatusCode::CREATED, axum::Json(body)).into_response();
    super::error::no_store(&mut resp);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        for ok in [
            "https://chatgpt.com/connector_platform_oauth_redirect",
            "https://claude.ai/api/mcp/auth_callback",
            "http://127.0.0.1:3000/callback",
            "http://localhost:8080/cb",
            "http://[::1]:9/cb",
            "https://example.com/cb?x=1",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "file:///etc/passwd",
            "http://evil.example/cb",
            "https://user@evil.example/cb",
            "https://a:b@evil.example/cb",
            "https://example.com/cb#frag",
            "https://example.com/c b",
            "\u{1}https://example.com/cb",
            "https://example.com/\tcb",
            "https:\\\\evil.example",
            "myapp://callback",
            "/relative",
            "http://127.0.0.1.evil.example/cb",
            "http://localhost.evil.example/cb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn matching_is_exact_except_loopback_port() {
        let reg = "http://127.0.0.1:3000/callback";
        assert!(redirect_matches(reg, reg));
        assert!(redirect_matches(reg, "http://127.0.0.1:45678/callback"));
        assert!(!redirect_matches(reg, "http://127.0.0.1:3000/callback/x"));
        assert!(!redirect_matches(reg, "http://localhost:3000/callback"));
        assert!(!redirect_matches(reg, "http://127.0.0.1:3000/callback?x=1"));
        assert!(!redirect_matches(
            reg,
            "http://127.0.0.1:3000@evil.example/callback"
        ));
        let https = "https://app.example/callback";
        assert!(!redirect_matches(https, "https://app.example/callback/"));
        assert!(!redirect_matches(https, "https://app.example/callbackx"));
        assert!(!redirect_matches(
            https,
            "https://app.example.evil.example/callback"
        ));
        assert!(!redirect_matches(https, "https://app.example:444/callback"));
        assert!(!redirect_matches(https, "https://APP.example/callback"));
    }

    #[test]
    fn scopes() {
        assert_eq!(
            parse_scope("mcp:tools offline_access").unwrap(),
            vec!["mcp:tools"]
        );
        assert!(parse_scope("admin").is_err());
        assert!(parse_scope("").unwrap().is_empty());
    }
}
