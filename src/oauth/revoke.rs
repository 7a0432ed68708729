//! `/revoke` (RFC 7009). The client authenticates as at `/token`. Revoking an
//! access token drops that token; revoking a refresh token revokes its whole
//! grant (all access and refresh tokens). Unknown tokens, and tokens of other
//! clients, get the same `200` so the endpoint reveals nothing.

use super::OAuth;
use super::clients::{FormCredentials, MAX_CREDENTIAL_LEN};
use super::error::{OAuthError, no_store};
use super::store::Revoked;
use super::tokens::TokenHash;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// `token_type_hint` is not read: RFC 7009 lets a server ignore it, and
/// every token we issue is found by its hash whatever its type.
#[derive(Deserialize)]
pub struct RevokeForm {
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub async fn revoke(
    State(oauth): State<OAuth>,
    headers: HeaderMap,
    ext: Extensions,
    form: Result<Form<RevokeForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return OAuthError::invalid_request("expected an application/x-www-form-urlencoded body")
            .into_response();
    };
    let result = async {
        let creds = FormCredentials {
            client_id: f.client_id,
            client_secret: f.client_secret,
        };
        let ip = oauth.client_ip(&headers, &ext);
        let client = oauth.authenticate_client(&headers, creds, &ip).await?;
        let token = f
            .token
            .filter(|t| !t.is_empty() && t.len() <= MAX_CREDENTIAL_LEN)
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        let outcome = oauth
            .inner
            .store
            .revoke_token(&TokenHash::of(&token), &client.client_id)
            .await?;
        if outcome != Revoked::Nothing {
            tracing::info!(client_id = %client.client_id, ?outcome, "token revoked");
        }
        let mut r = StatusCode::OK.into_response();
        no_store(&mut r);
        Ok::<_, OAuthError>(r)
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}
