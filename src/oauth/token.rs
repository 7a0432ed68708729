//! `/token`: the `authorization_code` and `refresh_token` grants.
//!
//! The form is parsed into a [`TokenRequest`] first, the client is
//! authenticated once, and only then is the grant run. A code is redeemed
//! in one store operation (taken, checked, its grant activated), so it
//! yields tokens exactly once; a replay revokes every token issued from it.
//! Refresh tokens rotate: during a short grace window the previous token
//! yields the *same* successor (so ChatGPT's parallel refreshes all end up
//! with one valid token), and reuse after the window revokes the whole
//! grant. Responses carry `Cache-Control: no-store`.

use super::clients::{FormCredentials, MAX_CREDENTIAL_LEN, parse_resource};
use super::error::{ErrorCode, OAuthError, no_store};
use super::register::parse_scope;
use super::store::{
    ClientRec, GrantInfo, Mismatch, NewTokens, Redeem, Redeemed, Rotate, RotateReq,
};
use super::tokens::{
    ACCESS_PREFIX, REFRESH_PREFIX, TokenHash, format_secret, is_valid_pkce_verifier, mint,
    pkce_s256, random_bytes, successor_pad, xor32,
};
use super::{Issuer, OAuth, REFRESH_GRACE_SECS};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

/// The form as sent; [`TokenForm::parse`] turns it into what it asks for.
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

/// A token request whose parameters are all present and well-formed.
enum TokenRequest {
    AuthorizationCode {
        code: String,
        redirect_uri: String,
        verifier: String,
        resource: Option<String>,
    },
    RefreshToken {
        refresh_token: String,
        /// `None`: the grant's scopes.
        scopes: Option<Vec<String>>,
        resource: Option<String>,
    },
}

/// A credential-sized, non-empty parameter.
fn credential(value: Option<String>, missing: &'static str) -> Result<String, OAuthError> {
    value
        .filter(|v| !v.is_empty() && v.len() <= MAX_CREDENTIAL_LEN)
        .ok_or_else(|| OAuthError::invalid_request(missing))
}

impl TokenForm {
    fn parse(self, issuer: &Issuer) -> Result<(FormCredentials, TokenRequest), OAuthError> {
        let creds = FormCredentials {
            client_id: self.client_id,
            client_secret: self.client_secret,
        };
        let resource = parse_resource(issuer, self.resource.as_deref())?;
        let request = match self.grant_type.as_deref() {
            Some("authorization_code") => TokenRequest::AuthorizationCode {
                code: credential(self.code, "code is required")?,
                verifier: self.code_verifier.ok_or_else(|| {
                    OAuthError::invalid_request("code_verifier is required (PKCE)")
                })?,
                redirect_uri: self
                    .redirect_uri
                    .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?,
                resource,
            },
            Some("refresh_token") => TokenRequest::RefreshToken {
                refresh_token: credential(self.refresh_token, "refresh_token is required")?,
                scopes: match self.scope.as_deref().map(parse_scope) {
                    None => None,
                    Some(Ok(s)) if s.is_empty() => None,
                    Some(Ok(s)) => Some(s),
                    Some(Err(_)) => {
                        return Err(OAuthError::new(
                            ErrorCode::InvalidScope,
                            "unknown scope requested",
                        ));
                    }
                },
                resource,
            },
            None => return Err(OAuthError::invalid_request("grant_type is required")),
            Some(_) => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "supported grant types: authorization_code, refresh_token",
                ));
            }
        };
        Ok((creds, request))
    }
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
    issuer: Issuer,
    headers: HeaderMap,
    ext: Extensions,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return OAuthError::invalid_request(
            "expected an application/x-www-form-urlencoded body without repeated parameters",
        )
        .into_response();
    };
    let result = async {
        let (creds, request) = f.parse(&issuer)?;
        let ip = oauth.client_ip(&headers, &ext);
        let client = oauth.authenticate_client(&headers, creds, &ip).await?;
        let response = match request {
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                verifier,
                resource,
            } => code_grant(&oauth, &client, &code, &redirect_uri, &verifier, resource).await?,
            TokenRequest::RefreshToken {
                refresh_token,
                scopes,
                resource,
            } => refresh_grant(&oauth, &client, &refresh_token, scopes, resource).await?,
        };
        Ok::<_, OAuthError>(response)
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

async fn code_grant(
    oauth: &OAuth,
    client: &ClientRec,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    resource: Option<String>,
) -> Result<Response, OAuthError> {
    let store = oauth.inner.store.as_ref();
    let now = oauth.now();
    let (access, access_hash) = mint(ACCESS_PREFIX);
    let (refresh, refresh_hash) = mint(REFRESH_PREFIX);
    let req = Redeem {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        challenge: is_valid_pkce_verifier(verifier).then(|| pkce_s256(verifier)),
        resource,
        tokens: NewTokens {
            access: access_hash,
            access_expires_at: now + oauth.inner.access_ttl,
            refresh: refresh_hash,
            refresh_expires_at: now + oauth.inner.refresh_ttl,
        },
        now,
    };
    let info = match store.redeem_code(&TokenHash::of(code), req).await? {
        Redeemed::Issued(info) => info,
        Redeemed::Replayed => {
            tracing::warn!(client_id = %client.client_id, "authorization code replayed; grant revoked");
            return Err(OAuthError::invalid_grant("authorization code already used"));
        }
        Redeemed::Invalid => {
            return Err(OAuthError::invalid_grant(
                "invalid or expired authorization code",
            ));
        }
        // The code is spent: a mismatch also killed its grant.
        Redeemed::Mismatch(Mismatch::Client) => {
            return Err(OAuthError::invalid_grant(
                "code was issued to another client",
            ));
        }
        Redeemed::Mismatch(Mismatch::RedirectUri) => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        Redeemed::Mismatch(Mismatch::Pkce) => {
            return Err(OAuthError::invalid_grant("PKCE verification failed"));
        }
        Redeemed::Mismatch(Mismatch::Resource) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource differs from the authorization request",
            ));
        }
    };
    store.touch_user(&info.user, now).await?;
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
    client: &ClientRec,
    presented: &str,
    scopes: Option<Vec<String>>,
    resource: Option<String>,
) -> Result<Response, OAuthError> {
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
    let (info, refresh) = match oauth.inner.store.rotate_refresh(req).await? {
        Rotate::Rotated(info) => (info, new_refresh),
        Rotate::Grace { info, successor_ct } => {
            let successor = format_secret(REFRESH_PREFIX, &xor32(&successor_ct.0, &pad));
            (info, successor)
        }
        Rotate::ReuseDetected => {
            tracing::warn!(client_id = %client.client_id, "refresh token reuse detected; grant revoked");
            return Err(OAuthError::invalid_grant(
                "refresh token was already used; the grant is revoked",
            ));
        }
        Rotate::Invalid => {
            return Err(OAuthError::invalid_grant(
                "invalid or expired refresh token",
            ));
        }
        Rotate::InvalidScope => {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "scope exceeds the original grant",
            ));
        }
        Rotate::InvalidTarget => {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource differs from the grant",
            ));
        }
    };
    oauth.inner.store.touch_user(&info.user, now).await?;
    Ok(token_response(
        &access,
        &refresh,
        &info,
        oauth.inner.access_ttl,
    ))
}
