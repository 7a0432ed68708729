//! `/token`: the `authorization_code` and `refresh_token` grants, plus the
//! client authentication shared with `/revoke`.
//!
//! A code is taken from the store exactly once; a replay revokes every token
//! issued from it. Refresh tokens rotate: during a short grace window the
//! previous token yields the *same* successor (so ChatGPT's parallel refreshes
//! all end up with one valid token), and reuse after the window revokes the
//! whole grant. Responses carry `Cache-Control: no-store`.

use super::authorize::take_code;
use super::error::{ErrorCode, OAuthError, no_store};
use super::register::parse_scope;
use super::store::{AuthMethod, ClientRec, GrantInfo, Rotate, RotateReq, TakeCode};
use super::tokens::{
    ACCESS_PREFIX, REFRESH_PREFIX, TokenHash, format_secret, is_valid_pkce_verifier, mint,
    pkce_s256_matches, random_bytes, successor_pad, xor32,
};
use super::{OAuth, REFRESH_GRACE_SECS};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    resource: Option<String>,
}

impl std::fmt::Debug for TokenForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenForm")
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Longest credential accepted in a form or header field.
const MAX_CREDENTIAL_LEN: usize = 1024;

fn decode_form_component(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `Authorization: Basic` client credentials (RFC 6749 §2.3.1: each part
/// form-urlencoded). `Err` if the header is present but malformed.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad =
        || OAuthError::invalid_client("malformed Basic credentials").with_basic_challenge(true);
    let v = v.to_str().map_err(|_| bad())?;
    let Some((scheme, rest)) = v.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_request(
            "unsupported Authorization scheme",
        ));
    }
    if rest.len() > 2 * MAX_CREDENTIAL_LEN {
        return Err(bad());
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (id, secret) = s.split_once(':').ok_or_else(bad)?;
    Ok(Some((
        decode_form_component(id),
        decode_form_component(secret),
    )))
}

/// Authenticates the calling client per its registration.
pub(crate) async fn authenticate_client(
    oauth: &OAuth,
    headers: &HeaderMap,
    form_client_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<ClientRec, OAuthError> {
    let basic = basic_credentials(headers)?;
    let used_basic = basic.is_some();
    let form_secret = form_secret.filter(|s| !s.is_empty());
    let (client_id, secret) = match basic {
        Some((id, secret)) => {
            if form_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method, not several",
                ));
            }
            if form_client_id.is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match credentials",
                ));
            }
            (id, Some(secret))
        }
        None => match form_client_id {
            Some(id) => (id.to_owned(), form_secret.map(str::to_owned)),
            None => {
                return Err(OAuthError::invalid_client(
                    "client authentication is required",
                ));
            }
        },
    };
    let fail = |why: &'static str| OAuthError::invalid_client(why).with_basic_challenge(used_basic);
    if client_id.len() > MAX_CREDENTIAL_LEN
        || secret
            .as_ref()
            .is_some_and(|s| s.len() > MAX_CREDENTIAL_LEN)
    {
        return Err(fail("client authentication failed"));
    }
    let Some(client) = oauth.resolve_client(&client_id).await else {
        return Err(fail("unknown client"));
    };
    let secret_ok = |s: &Option<String>| match (&client.secret_hash, s) {
        (Some(h), Some(s)) => TokenHash::of(s).ct_eq(h),
        _ => false,
    };
    let ok = match client.auth_method {
        AuthMethod::None => !used_basic && secret.is_none(),
        AuthMethod::ClientSecretBasic => used_basic && secret_ok(&secret),
        AuthMethod::ClientSecretPost => !used_basic && secret_ok(&secret),
    };
    if !ok {
        return Err(fail("client authentication failed"));
    }
    Ok(client)
}

fn token_response(access: &str, refresh: &str, info: &GrantInfo, expires_in: u64) -> Response {
    let mut r = axum::Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": refresh,
        "scope": info.scopes.join(" "),
    }))
    .into_response();
    no_store(&mut r);
    r
}

pub async fn token(
    State(oauth): State<OAuth>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return OAuthError::invalid_request(
            "expected an application/x-www-form-urlencoded body without repeated parameters",
        )
        .into_response();
    };
    let result = match f.grant_type.as_deref() {
        Some("authorization_code") => code_grant(&oauth, &headers, &f).await,
        Some("refresh_token") => refresh_grant(&oauth, &headers, &f).await,
        None => Err(OAuthError::invalid_request("grant_type is required")),
        Some(_) => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "supported grant types: authorization_code, refresh_token",
        )),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn code_grant(
    oauth: &OAuth,
    headers: &HeaderMap,
    f: &TokenForm,
) -> Result<Response, OAuthError> {
    let client = authenticate_client(
        oauth,
        headers,
        f.client_id.as_deref(),
        f.client_secret.as_deref(),
    )
    .await?;
    let code = f
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= MAX_CREDENTIAL_LEN)
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let verifier = f
        .code_verifier
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    let redirect_uri = f
        .redirect_uri
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    let resource = match f.resource.as_deref() {
        None => None,
        Some(r) => Some(
            oauth
                .canonical_resource(r)
                .ok_or_else(|| {
                    OAuthError::new(
                        ErrorCode::InvalidTarget,
                        "resource is not served by this server",
                    )
                })?
                .to_owned(),
        ),
    };
    let rec = match take_code(oauth, code).await {
        TakeCode::Ok(rec) => rec,
        TakeCode::Replayed => {
            tracing::warn!(client_id = %client.client_id, "authorization code replayed; grant revoked");
            return Err(OAuthError::invalid_grant("authorization code already used"));
        }
        TakeCode::Invalid => {
            return Err(OAuthError::invalid_grant(
                "invalid or expired authorization code",
            ));
        }
    };
    // The code is spent from here on: any mismatch also kills its grant.
    let reject = async |e: OAuthError| {
        oauth.inner.store.revoke_grant(&rec.family).await;
        Err(e)
    };
    if rec.client_id != client.client_id {
        return reject(OAuthError::invalid_grant(
            "code was issued to another client",
        ))
        .await;
    }
    if rec.redirect_uri != redirect_uri {
        return reject(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ))
        .await;
    }
    if !is_valid_pkce_verifier(verifier) || !pkce_s256_matches(verifier, &rec.code_challenge) {
        return reject(OAuthError::invalid_grant("PKCE verification failed")).await;
    }
    if let Some(r) = resource
        && r != rec.resource
    {
        return reject(OAuthError::new(
            ErrorCode::InvalidTarget,
            "resource differs from the authorization request",
        ))
        .await;
    }
    let now = oauth.now();
    let (access, access_hash) = mint(ACCESS_PREFIX);
    let (refresh, refresh_hash) = mint(REFRESH_PREFIX);
    let info = oauth
        .inner
        .store
        .activate_grant(
            &rec.family,
            access_hash,
            now + oauth.inner.access_ttl,
            refresh_hash,
            now + oauth.inner.refresh_ttl,
            now,
        )
        .await
        .map_err(|_| OAuthError::invalid_grant("invalid or expired authorization code"))?;
    tracing::info!(client_id = %client.client_id, user = %info.user, "tokens issued");
    Ok(token_response(
        &access,
        &refresh,
        &info,
        oauth.inner.access_ttl,
    ))
}

async fn refresh_grant(
    oauth: &OAuth,
    headers: &HeaderMap,
    f: &TokenForm,
) -> Result<Response, OAuthError> {
    let client = authenticate_client(
        oauth,
        headers,
        f.client_id.as_deref(),
        f.client_secret.as_deref(),
    )
    .await?;
    let presented = f
        .refresh_token
        .as_deref()
        .filter(|t| !t.is_empty() && t.len() <= MAX_CREDENTIAL_LEN)
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let scopes = match f.scope.as_deref().map(parse_scope) {
        None => None,
        Some(Ok(s)) if s.is_empty() => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "unknown scope requested",
            ));
        }
    };
    let resource = match f.resource.as_deref() {
        None => None,
        Some(r) => Some(
            oauth
                .canonical_resource(r)
                .ok_or_else(|| {
                    OAuthError::new(
                        ErrorCode::InvalidTarget,
                        "resource is not served by this server",
                    )
                })?
                .to_owned(),
        ),
    };
    let now = oauth.now();
    let new_raw = random_bytes();
    let new_refresh = format_secret(REFRESH_PREFIX, &new_raw);
    let pad = successor_pad(presented);
    let (access, access_hash) = mint(ACCESS_PREFIX);
    let req = RotateReq {
        presented: TokenHash::of(presented),
        client_id: client.client_id.clone(),
        new_refresh: TokenHash::of(&new_refresh),
        successor_ct: TokenHash(xor32(&new_raw, &pad)),
        new_access: access_hash,
        access_expires_at: now + oauth.inner.access_ttl,
        refresh_expires_at: now + oauth.inner.refresh_ttl,
        scopes,
        resource,
        now,
        grace_secs: REFRESH_GRACE_SECS,
    };
    match oauth.inner.store.rotate_refresh(req).await {
        Rotate::Rotated(info) => Ok(token_response(
            &access,
            &new_refresh,
            &info,
            oauth.inner.access_ttl,
        )),
        Rotate::Grace { info, successor_ct } => {
            let successor = format_secret(REFRESH_PREFIX, &xor32(&successor_ct.0, &pad));
            Ok(token_response(
                &access,
                &successor,
                &info,
                oauth.inner.access_ttl,
            ))
        }
        Rotate::ReuseDetected => {
            tracing::warn!(client_id = %client.client_id, "refresh token reuse detected; grant revoked");
            Err(OAuthError::invalid_grant(
                "refresh token was already used; the grant is revoked",
            ))
        }
        Rotate::Invalid => Err(OAuthError::invalid_grant(
            "invalid or expired refresh token",
        )),
        Rotate::InvalidScope => Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "scope exceeds the original grant",
        )),
        Rotate::InvalidTarget => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "resource differs from the grant",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut h = HeaderMap::new();
        let v = base64::engine::general_purpose::STANDARD.encode("my%20id:s%2Bcret");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {v}")).unwrap(),
        );
        assert_eq!(
            basic_credentials(&h).unwrap(),
            Some(("my id".to_owned(), "s+cret".to_owned()))
        );
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(basic_credentials(&h).is_err());
    }
}
