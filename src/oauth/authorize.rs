//! `GET /authorize`: validates the request, shows the sign-in / consent page
//! (answered by [`super::signin`]), and the redirect back to the client
//! carrying `code`, `state` and `iss`.
//!
//! Order matters: the client and the exact redirect URI are validated first,
//! and until they are, every error is a local page, never a redirect (an
//! attacker must not be able to bounce users to arbitrary URLs). The
//! validated request is kept server-side; the page carries only an opaque
//! request id and a CSRF token, and the POST is bound to the browser that
//! loaded the page by a cookie. Nothing in the form decides the client,
//! redirect URI, PKCE challenge or scopes. Pages are budgeted per client IP,
//! both how many it opens and how many it keeps open.

use super::clients::parse_resource;
use super::cookies::BROWSER_COOKIE;
use super::error::{ErrorCode, OAuthError};
use super::limits::{AUTHORIZE_PER_IP, Budget, Refused};
use super::page::{self, ConsentPage};
use super::register::{parse_scope, redirect_matches};
use super::store::{ClientKind, ClientRec, CodeRec, Consent, ConsentKey, PendingAuth, StoreError};
use super::tokens::{CODE_PREFIX, TokenHash, is_valid_s256_challenge, mint, random_id};
use super::{CODE_TTL_SECS, DEFAULT_SCOPES, Issuer, OAuth, PENDING_TTL_SECS};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Longest `state` we carry back (clients use ~43 chars).
pub const MAX_STATE_LEN: usize = 1024;

#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    resource: Option<String>,
    /// OIDC-style `prompt`: `login` ignores the session, `consent` (or
    /// `login`) always shows the page.
    prompt: Option<String>,
}

pub(crate) fn local_error(status: StatusCode, title: &str, message: &str) -> Response {
    let nonce = random_id();
    page::html(
        status,
        page::error_page(title, message, &nonce),
        &nonce,
        None,
    )
}

/// The local page for a store that cannot answer (logged, never shown).
pub(crate) fn unavailable_page(e: &StoreError) -> Response {
    tracing::warn!(error = %e, "sign-in page: store unavailable");
    let mut r = local_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Busy",
        "The server is busy. Try again in a few minutes.",
    );
    retry_after(&mut r, super::error::RETRY_AFTER_UNAVAILABLE);
    r
}

pub(crate) fn retry_after(r: &mut Response, secs: u64) {
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
}

/// The local page for a used-up budget (429) or a store error (503).
fn refused_page(r: Refused, message: &str) -> Response {
    match r {
        Refused::Wait(secs) => {
            let mut resp = local_error(StatusCode::TOO_MANY_REQUESTS, "Slow down", message);
            retry_after(&mut resp, secs);
            resp
        }
        Refused::Store(e) => unavailable_page(&e),
    }
}

/// The redirect back to the client, with `iss` always (RFC 9207).
fn redirect_to(redirect_uri: &str, params: &[(&str, &str)], issuer: &str) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return local_error(
            StatusCode::BAD_REQUEST,
            "Invalid redirect",
            "The redirect URI is invalid.",
        );
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        q.append_pair("iss", issuer);
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// An error sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
pub(crate) fn error_redirect(
    issuer: &Issuer,
    redirect_uri: &str,
    state: Option<&str>,
    e: OAuthError,
) -> Response {
    let mut p = e.redirect_params().to_vec();
    if let Some(s) = state {
        p.push(("state", s));
    }
    redirect_to(redirect_uri, &p, issuer.as_str())
}

fn redirect_display(uri: &str) -> (String, bool, Option<String>) {
    match url::Url::parse(uri) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("").to_owned();
            let shown = match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            };
            let loopback = u.scheme() == "http";
            (shown, loopback, Some(u.origin().ascii_serialization()))
        }
        Err(_) => (uri.to_owned(), false, None),
    }
}

/// What the sign-in page shows.
pub(crate) struct Render<'a> {
    pub client: &'a ClientRec,
    pub pending: &'a PendingAuth,
    pub request_id: &'a str,
    pub csrf_token: &'a str,
    pub error: Option<&'a str>,
    pub username: &'a str,
    pub signed_in_as: Option<&'a str>,
}

pub(crate) fn render(oauth: &OAuth, r: Render<'_>, status: StatusCode) -> Response {
    let nonce = random_id();
    let (host, loopback, origin) = redirect_display(&r.pending.redirect_uri);
    let scopes: Vec<String> = r
        .pending
        .scopes
        .clone()
        .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect());
    let verified = match r.client.kind {
        ClientKind::Cimd => url::Url::parse(&r.client.client_id)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned)),
        ClientKind::Dcr => None,
    };
    let body = page::consent(&ConsentPage {
        client_name: r.client.client_name.as_deref(),
        verified_host: verified.as_deref(),
        client_id: &r.client.client_id,
        redirect_host: &host,
        redirect_is_loopback: loopback,
        scopes: &scopes,
        request_id: r.request_id,
        csrf_token: r.csrf_token,
        error: r.error,
        username: r.username,
        signed_in_as: r.signed_in_as,
        allow_signup: oauth.inner.allow_signup,
        nonce: &nonce,
    });
    page::html(status, body, &nonce, origin.as_deref())
}

pub async fn authorize_get(
    State(oauth): State<OAuth>,
    issuer: Issuer,
    headers: HeaderMap,
    ext: Extensions,
    query: Result<Query<AuthorizeQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return local_error(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "The authorization request is malformed (invalid or repeated parameters).",
        );
    };
    let now = oauth.now();
    let ip = oauth.client_ip(&headers, &ext);
    // Before anything costly: resolving the client may fetch a document.
    match oauth
        .reserve(&[Budget::new("authorize:ip", &ip, AUTHORIZE_PER_IP)], now)
        .await
    {
        Ok(held) => held.keep(),
        Err(r) => {
            return refused_page(
                r,
                "Too many sign-in pages were opened from your network. Wait a minute and try again.",
            );
        }
    }
    // 1. Client, then exact redirect URI: until both are known, no redirects.
    let Some(client_id) = q.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return local_error(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "client_id is missing.",
        );
    };
    let client = match oauth.resolve_client(client_id, &ip).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return local_error(
                StatusCode::BAD_REQUEST,
                "Unknown app",
                "This app is not registered (or its registration expired). Go back and connect again.",
            );
        }
        Err(e) => return unavailable_page(&e),
    };
    let redirect_uri = match q.redirect_uri.as_deref() {
        Some(r)
            if client
                .redirect_uris
                .iter()
                .any(|reg| redirect_matches(reg, r)) =>
        {
            r.to_owned()
        }
        Some(_) => {
            return local_error(
                StatusCode::BAD_REQUEST,
                "Invalid redirect",
                "The redirect_uri does not match the app's registration.",
            );
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return local_error(
                StatusCode::BAD_REQUEST,
                "Invalid request",
                "redirect_uri is missing.",
            );
        }
    };

    // 2. From here on, errors go back to the client.
    let state = match q.state.as_deref() {
        Some(s) if s.len() > MAX_STATE_LEN => {
            return error_redirect(
                &issuer,
                &redirect_uri,
                None,
                OAuthError::invalid_request("state is too long"),
            );
        }
        s => s,
    };
    let err = |e: OAuthError| error_redirect(&issuer, &redirect_uri, state, e);
    match q.response_type.as_deref() {
        Some("code") => {}
        None => return err(OAuthError::invalid_request("response_type is required")),
        Some(_) => {
            return err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if q.code_challenge_method.as_deref() != Some("S256") {
        return err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        ));
    }
    let challenge = match q.code_challenge.as_deref() {
        Some(c) if is_valid_s256_challenge(c) => c.to_owned(),
        _ => {
            return err(OAuthError::invalid_request(
                "a valid S256 code_challenge is required",
            ));
        }
    };
    let scopes = match q.scope.as_deref().map(parse_scope) {
        None => None,
        Some(Ok(s)) if s.is_empty() => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => {
            return err(OAuthError::new(
                ErrorCode::InvalidScope,
                "unknown scope requested",
            ));
        }
    };
    let resource = match parse_resource(&issuer, q.resource.as_deref()) {
        Ok(r) => r.unwrap_or_else(|| issuer.resource("/mcp")),
        Err(e) => return err(e),
    };

    // 3. A signed-in browser whose user already approved this client and
    //    redirect URI for these scopes gets its code without a page.
    let prompt = q.prompt.as_deref().unwrap_or("");
    let force_login = prompt.split(' ').any(|p| p == "login");
    let force_page = force_login || prompt.split(' ').any(|p| p == "consent");
    let signed_in = if force_login {
        None
    } else {
        match oauth.session_user(&headers, now).await {
            Ok(u) => u,
            Err(e) => return unavailable_page(&e),
        }
    };
    if let Some(user) = signed_in.as_deref()
        && !force_page
    {
        let consent = match oauth
            .inner
            .store
            .consent(&ConsentKey::new(user, &client.client_id, &redirect_uri))
            .await
        {
            Ok(c) => c,
            Err(e) => return err(e.into()),
        };
        if let Some(consent) = consent {
            let wanted = scopes.clone().unwrap_or_else(|| consent.scopes.clone());
            if !wanted.is_empty() && wanted.iter().all(|w| consent.scopes.contains(w)) {
                let grant = Approved {
                    client: &client,
                    user,
                    redirect_uri: &redirect_uri,
                    code_challenge: &challenge,
                    scopes: wanted,
                    resource: &resource,
                    state,
                };
                return issue_code_and_redirect(&oauth, &issuer, grant, now).await;
            }
        }
    }

    // 4. Keep the request server-side and show the page.
    let (browser, new_cookie) = match oauth.secret_cookie(&headers, BROWSER_COOKIE) {
        Some(c) => (c, false),
        None => (
            super::tokens::format_secret("", &super::tokens::random_bytes()),
            true,
        ),
    };
    let (csrf_token, csrf_hash) = mint("");
    let request_id = random_id();
    let pending = PendingAuth {
        client_id: client.client_id.clone(),
        redirect_uri,
        code_challenge: challenge,
        scopes,
        state: state.map(str::to_owned),
        resource,
        csrf: csrf_hash,
        browser: TokenHash::of(&browser),
        force_login,
        owner: ip.to_string(),
        posts: 0,
        expires_at: now + PENDING_TTL_SECS,
    };
    match oauth
        .inner
        .store
        .put_pending(&request_id, pending.clone(), now)
        .await
    {
        Ok(()) => {}
        Err(StoreError::OwnerFull) => {
            let mut r = local_error(
                StatusCode::TOO_MANY_REQUESTS,
                "Slow down",
                "Too many sign-in pages are open from your network. Finish one, or wait a few minutes.",
            );
            retry_after(&mut r, PENDING_TTL_SECS);
            return r;
        }
        Err(StoreError::Full) => {
            let mut r = local_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "Too many sign-ins in progress. Try again in a few minutes.",
            );
            retry_after(&mut r, 60);
            return r;
        }
        Err(e) => return unavailable_page(&e),
    }
    let mut resp = render(
        &oauth,
        Render {
            client: &client,
            pending: &pending,
            request_id: &request_id,
            csrf_token: &csrf_token,
            error: None,
            username: "",
            signed_in_as: signed_in.as_deref(),
        },
        StatusCode::OK,
    );
    if new_cookie {
        oauth.set_cookie(&mut resp, BROWSER_COOKIE, &browser, PENDING_TTL_SECS);
    }
    resp
}

/// What the user approved, ready to become a code.
struct Approved<'a> {
    client: &'a ClientRec,
    user: &'a str,
    redirect_uri: &'a str,
    code_challenge: &'a str,
    scopes: Vec<String>,
    resource: &'a str,
    state: Option<&'a str>,
}

/// The user approved a pending request: resolve scopes (requested, else the
/// previous consent, else the default), remember consent, issue the code.
pub(crate) async fn approve(
    oauth: &OAuth,
    issuer: &Issuer,
    client: &ClientRec,
    pending: PendingAuth,
    user: &str,
    now: u64,
) -> Response {
    let store = oauth.inner.store.as_ref();
    let state = pending.state.as_deref();
    let key = ConsentKey::new(user, &client.client_id, &pending.redirect_uri);
    let scopes = match pending.scopes.clone() {
        Some(s) => s,
        None => match store.consent(&key).await {
            Ok(Some(c)) if !c.scopes.is_empty() => c.scopes,
            Ok(_) => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            Err(e) => return error_redirect(issuer, &pending.redirect_uri, state, e.into()),
        },
    };
    let consent = Consent {
        scopes: scopes.clone(),
        granted_at: now,
    };
    if let Err(e) = store.record_consent(key, consent).await {
        // The code is still issued; the user is asked again next time.
        tracing::warn!(error = %e, "could not remember a consent");
    }
    let grant = Approved {
        client,
        user,
        redirect_uri: &pending.redirect_uri,
        code_challenge: &pending.code_challenge,
        scopes,
        resource: &pending.resource,
        state,
    };
    issue_code_and_redirect(oauth, issuer, grant, now).await
}

async fn issue_code_and_redirect(
    oauth: &OAuth,
    issuer: &Issuer,
    g: Approved<'_>,
    now: u64,
) -> Response {
    let (code, code_hash) = mint(CODE_PREFIX);
    let rec = CodeRec {
        family: uuid::Uuid::new_v4().to_string(),
        client_id: g.client.client_id.clone(),
        redirect_uri: g.redirect_uri.to_owned(),
        code_challenge: g.code_challenge.to_owned(),
        scopes: g.scopes,
        resource: g.resource.to_owned(),
        user: g.user.to_owned(),
        issued_at: now,
        expires_at: now + CODE_TTL_SECS,
    };
    if let Err(e) = oauth.inner.store.issue_code(code_hash, rec).await {
        return error_redirect(issuer, g.redirect_uri, g.state, e.into());
    }
    tracing::info!(user = %g.user, client_id = %g.client.client_id, "authorization approved");
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = g.state {
        params.push(("state", s));
    }
    redirect_to(g.redirect_uri, &params, issuer.as_str())
}
