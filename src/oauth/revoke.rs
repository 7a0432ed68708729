//! `/revoke` (RFC 7009). The client authenticates as at `/token`. Revoking an
//! access token drops that token; revoking a refresh token revokes its whole
//! grant (all access and refresh tokens). Unknown tokens, and tokens of other
//! clients, get the same `200` so the endpoint reveals nothing.

use super::OAuth;
use super::error::{OAuthError, no_store};
use super::store::Revoked;
use super::token::authenticate_client;
use super::tokens::TokenHash;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
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
    form: Result<Form<RevokeForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return OAuthError::invalid_request("expected an application/x-www-form-urlencoded body")
            .into_response();
    };
    let client = match authenticate_client(
        &oauth,
        &headers,
        f.client_id.as_deref(),
        f.client_secret.as_deref(),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Some(token) = f
        .token
        .as_deref()
        .filter(|t| !t.is_empty() && t.len() <= 1024)
    else {
        return OAuthError::invalid_request("token is required").into_response();
    };
    let outcome = oauth
        .inner
        .store
        .revoke_token(&TokenHash::of(token), &client.client_id)
        .await;
    if outcome != Revoked::Nothing {
        tracing::info!(client_id = %client.client_id, ?outcome, "token revoked");
    }
    let mut r = StatusCode::OK.into_response();
    no_store(&mut r);
    r
}
