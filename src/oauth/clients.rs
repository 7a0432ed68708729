//! Who the client is, shared by `/authorize`, `/token` and `/revoke`:
//! resolving a client id (a DCR registration in the store, or a CIMD
//! document by URL), authenticating the client once per request (before any
//! grant logic runs), and the `resource` parameter (RFC 8707).

use super::cimd::CimdFetcher;
use super::error::{ErrorCode, OAuthError};
use super::limits::ClientKey;
use super::register::MAX_URI_LEN;
use super::store::{AuthMethod, ClientRec, StoreError};
use super::tokens::TokenHash;
use super::{Issuer, OAuth};
use axum::http::{HeaderMap, header};
use base64::Engine;

/// Longest credential accepted in a form or header field.
pub const MAX_CREDENTIAL_LEN: usize = 1024;

/// The client credentials a form carried (HTTP Basic is read separately).
#[derive(Default)]
pub struct FormCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for FormCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

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

impl OAuth {
    /// Looks a client up: DCR in the store, or CIMD by URL (fetched, or from
    /// the cache). `ip` is who asks, for the CIMD fetch budget.
    pub(crate) async fn resolve_client(
        &self,
        client_id: &str,
        ip: &ClientKey,
    ) -> Result<Option<ClientRec>, StoreError> {
        if client_id.is_empty() || client_id.len() > MAX_URI_LEN {
            return Ok(None);
        }
        if CimdFetcher::is_cimd_id(client_id) {
            return self.inner.cimd.resolve(self, client_id, ip).await;
        }
        self.inner.store.client(client_id).await
    }

    /// Authenticates the calling client per its registration: HTTP Basic or
    /// form credentials, exactly one way.
    pub(crate) async fn authenticate_client(
        &self,
        headers: &HeaderMap,
        form: FormCredentials,
        ip: &ClientKey,
    ) -> Result<ClientRec, OAuthError> {
        let basic = basic_credentials(headers)?;
        let used_basic = basic.is_some();
        let form_secret = form.client_secret.filter(|s| !s.is_empty());
        let (client_id, secret) = match basic {
            Some((id, secret)) => {
                if form_secret.is_some() {
                    return Err(OAuthError::invalid_request(
                        "use one client authentication method, not several",
                    ));
                }
                if form.client_id.as_ref().is_some_and(|f| *f != id) {
                    return Err(OAuthError::invalid_request(
                        "client_id does not match credentials",
                    ));
                }
                (id, Some(secret))
            }
            None => match form.client_id {
                Some(id) => (id, form_secret),
                None => {
                    return Err(OAuthError::invalid_client(
                        "client authentication is required",
                    ));
                }
            },
        };
        let fail =
            |why: &'static str| OAuthError::invalid_client(why).with_basic_challenge(used_basic);
        if client_id.len() > MAX_CREDENTIAL_LEN
            || secret
                .as_ref()
                .is_some_and(|s| s.len() > MAX_CREDENTIAL_LEN)
        {
            return Err(fail("client authentication failed"));
        }
        let Some(client) = self.resolve_client(&client_id, ip).await? else {
            return Err(fail("unknown client"));
        };
        let secret_ok = match (&client.secret_hash, &secret) {
            (Some(h), Some(s)) => TokenHash::of(s).ct_eq(h),
            _ => false,
        };
        let ok = match client.auth_method {
            AuthMethod::None => !used_basic && secret.is_none(),
            AuthMethod::ClientSecretBasic => used_basic && secret_ok,
            AuthMethod::ClientSecretPost => !used_basic && secret_ok,
        };
        if !ok {
            return Err(fail("client authentication failed"));
        }
        Ok(client)
    }
}

/// An optional `resource` parameter, canonical, or `invalid_target` when it
/// is not a resource of the origin the request came to.
pub(crate) fn parse_resource(
    issuer: &Issuer,
    r: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    r.map(|r| {
        issuer.canonical_resource(r).ok_or_else(|| {
            OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource is not served by this server",
            )
        })
    })
    .transpose()
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
