//! `/authorize`: validates the request, shows the sign-in / consent page,
//! and answers with a redirect carrying `code`, `state` and `iss`.
//!
//! Order matters: the client and the exact redirect URI are validated first,
//! and until they are, every error is a local page, never a redirect (an
//! attacker must not be able to bounce users to arbitrary URLs). The
//! validated request is kept server-side; the page carries only an opaque
//! request id and a CSRF token, and the POST is bound to the browser that
//! loaded the page by a cookie. Nothing in the form decides the client,
//! redirect URI, PKCE challenge or scopes.

use super::page::{self, ConsentPage};
use super::register::{parse_scope, redirect_matches};
use super::store::{
    ClientKind, ClientRec, CodeRec, Consent, PendingAuth, Session, StoreError, TakeCode,
};
use super::tokens::{CODE_PREFIX, TokenHash, is_valid_s256_challenge, mint, random_id};
use super::users::SignUp;
use super::{CODE_TTL_SECS, DEFAULT_SCOPES, OAuth, PENDING_TTL_SECS, SESSION_TTL_SECS};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Longest `state` we carry back (clients use ~43 chars).
pub const MAX_STATE_LEN: usize = 1024;
/// Longest user name or password field read from the form.
const MAX_FIELD_LEN: usize = 512;

/// Browser-binding cookie (CSRF): ties a form POST to the browser that got
/// the page. `__Host-` needs https; plain-http (loopback) uses the bare name.
const BROWSER_COOKIE: (&str, &str) = ("__Host-cmcp_browser", "cmcp_browser");
/// Sign-in session cookie: a returning user need not type the password again.
const SESSION_COOKIE: (&str, &str) = ("__Host-cmcp_session", "cmcp_session");

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

#[derive(Deserialize)]
pub struct AuthorizeForm {
    request_id: Option<String>,
    csrf_token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    decision: Option<String>,
    create_account: Option<String>,
}

impl std::fmt::Debug for AuthorizeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizeForm")
            .field("username", &self.username)
            .field("decision", &self.decision)
            .finish_non_exhaustive()
    }
}

fn local_error(status: StatusCode, title: &str, message: &str) -> Response {
    let nonce = random_id();
    page::html(
        status,
        page::error_page(title, message, &nonce),
        &nonce,
        None,
    )
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

fn error_redirect(
    oauth: &OAuth,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let mut p = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        p.push(("state", s));
    }
    redirect_to(redirect_uri, &p, &oauth.inner.issuer)
}

impl OAuth {
    /// Looks a client up (DCR in the store, or CIMD by URL).
    pub(crate) async fn resolve_client(&self, client_id: &str) -> Option<ClientRec> {
        if client_id.is_empty() || client_id.len() > super::register::MAX_URI_LEN {
            return None;
        }
        if super::cimd::CimdFetcher::is_cimd_id(client_id) {
            return self.inner.cimd.resolve(self, client_id).await;
        }
        self.inner.store.client(client_id).await
    }

    fn cookie_name(&self, names: (&'static str, &'static str)) -> &'static str {
        if self.inner.secure_cookies {
            names.0
        } else {
            names.1
        }
    }

    fn set_cookie(
        &self,
        resp: &mut Response,
        names: (&'static str, &'static str),
        value: &str,
        max_age: u64,
    ) {
        let secure = if self.inner.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.cookie_name(names)
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }

    /// The signed-in user of this browser, if its session is valid.
    async fn session_user(&self, headers: &HeaderMap, now: u64) -> Option<String> {
        let c = self.cookie(headers, SESSION_COOKIE)?;
        self.inner
            .store
            .session(&TokenHash::of(&c), now)
            .await
            .map(|s| s.user)
    }

    fn cookie(&self, headers: &HeaderMap, names: (&'static str, &'static str)) -> Option<String> {
        let name = self.cookie_name(names);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
            .filter(|v| {
                v.len() == 43
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
    }
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

struct Render<'a> {
    client: &'a ClientRec,
    pending: &'a PendingAuth,
    request_id: &'a str,
    csrf_token: &'a str,
    error: Option<&'a str>,
    username: &'a str,
    signed_in_as: Option<&'a str>,
}

fn render(oauth: &OAuth, r: Render<'_>, status: StatusCode) -> Response {
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
    headers: HeaderMap,
    query: Result<Query<AuthorizeQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return local_error(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "The authorization request is malformed (invalid or repeated parameters).",
        );
    };
    // 1. Client, then exact redirect URI: until both are known, no redirects.
    let Some(client_id) = q.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return local_error(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "client_id is missing.",
        );
    };
    let Some(client) = oauth.resolve_client(client_id).await else {
        return local_error(
            StatusCode::BAD_REQUEST,
            "Unknown app",
            "This app is not registered (or its registration expired). Go back and connect again.",
        );
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
                &oauth,
                &redirect_uri,
                None,
                "invalid_request",
                "state is too long",
            );
        }
        s => s,
    };
    let err = |code: &str, desc: &str| error_redirect(&oauth, &redirect_uri, state, code, desc);
    match q.response_type.as_deref() {
        Some("code") => {}
        None => return err("invalid_request", "response_type is required"),
        Some(_) => {
            return err(
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
    }
    if q.code_challenge_method.as_deref() != Some("S256") {
        return err("invalid_request", "code_challenge_method must be S256");
    }
    let challenge = match q.code_challenge.as_deref() {
        Some(c) if is_valid_s256_challenge(c) => c.to_owned(),
        _ => return err("invalid_request", "a valid S256 code_challenge is required"),
    };
    let scopes = match q.scope.as_deref().map(parse_scope) {
        None => None,
        Some(Ok(s)) if s.is_empty() => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => return err("invalid_scope", "unknown scope requested"),
    };
    let resource = match q.resource.as_deref() {
        None => oauth.inner.resource_mcp.clone(),
        Some(r) => match oauth.canonical_resource(r) {
            Some(r) => r.to_owned(),
            None => return err("invalid_target", "resource is not served by this server"),
        },
    };

    // 3. A signed-in browser whose user already approved this client and
    //    redirect URI for these scopes gets its code without a page.
    let now = oauth.now();
    let prompt = q.prompt.as_deref().unwrap_or("");
    let force_login = prompt.split(' ').any(|p| p == "login");
    let force_page = force_login || prompt.split(' ').any(|p| p == "consent");
    let signed_in = if force_login {
        None
    } else {
        oauth.session_user(&headers, now).await
    };
    if let Some(user) = signed_in.as_deref()
        && !force_page
        && let Some(consent) = oauth
            .inner
            .store
            .consent(user, &client.client_id, &redirect_uri)
            .await
    {
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
            return issue_code_and_redirect(&oauth, grant, now).await;
        }
    }

    // 4. Keep the request server-side and show the page.
    let (browser, new_cookie) = match oauth.cookie(&headers, BROWSER_COOKIE) {
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
        expires_at: now + PENDING_TTL_SECS,
    };
    if oauth
        .inner
        .store
        .put_pending(&request_id, pending.clone(), now)
        .await
        .is_err()
    {
        return local_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            "Too many sign-ins in progress. Try again in a few minutes.",
        );
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

impl OAuth {
    /// The canonical form of a `resource` we serve, if it is one of ours.
    pub(crate) fn canonical_resource(&self, r: &str) -> Option<&str> {
        let r = r.strip_suffix('/').unwrap_or(r);
        if r == self.inner.resource_mcp {
            Some(&self.inner.resource_mcp)
        } else if r == self.inner.resource_root {
            Some(&self.inner.resource_root)
        } else {
            None
        }
    }
}

pub async fn authorize_post(
    State(oauth): State<OAuth>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    form: Result<Form<AuthorizeForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return local_error(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "The form is malformed.",
        );
    };
    let now = oauth.now();
    let expired = || {
        local_error(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "This sign-in page has expired or was already used. Go back to the app and connect again.",
        )
    };
    let (Some(request_id), Some(csrf_token)) = (f.request_id.as_deref(), f.csrf_token.as_deref())
    else {
        return local_error(
            StatusCode::FORBIDDEN,
            "Security check failed",
            "The form is missing its security token.",
        );
    };
    if request_id.len() > 64 || csrf_token.len() > 64 {
        return expired();
    }
    let Some(pending) = oauth.inner.store.pending(request_id, now).await else {
        return expired();
    };
    let csrf_ok = TokenHash::of(csrf_token).ct_eq(&pending.csrf);
    let browser_ok = oauth
        .cookie(&headers, BROWSER_COOKIE)
        .is_some_and(|c| TokenHash::of(&c).ct_eq(&pending.browser));
    if !(csrf_ok && browser_ok) {
        return local_error(
            StatusCode::FORBIDDEN,
            "Security check failed",
            "The form did not come from this sign-in page in this browser. Go back to the app and connect again.",
        );
    }
    let Some(client) = oauth.resolve_client(&pending.client_id).await else {
        return expired();
    };
    let state = pending.state.clone();

    match f.decision.as_deref() {
        Some("deny") => {
            let Some(p) = oauth.inner.store.take_pending(request_id, now).await else {
                return expired();
            };
            return error_redirect(
                &oauth,
                &p.redirect_uri,
                state.as_deref(),
                "access_denied",
                "the user denied the request",
            );
        }
        Some("approve") => {}
        _ => {
            return local_error(
                StatusCode::BAD_REQUEST,
                "Invalid request",
                "Choose Approve or Deny.",
            );
        }
    }

    let username = f.username.as_deref().unwrap_or("").trim();
    let password = f.password.as_deref().unwrap_or("");
    let session_user = if pending.force_login {
        None
    } else {
        oauth.session_user(&headers, now).await
    };
    // Signed in already and no other account typed: approve as that user.
    if username.is_empty()
        && password.is_empty()
        && let Some(user) = session_user.as_deref()
    {
        let Some(pending) = oauth.inner.store.take_pending(request_id, now).await else {
            return expired();
        };
        return approve(&oauth, &client, pending, user, now).await;
    }
    let shown_name = if username.len() <= super::users::MAX_USERNAME_LEN {
        username
    } else {
        ""
    };
    let again = |error: &str, status: StatusCode| {
        render(
            &oauth,
            Render {
                client: &client,
                pending: &pending,
                request_id,
                csrf_token,
                error: Some(error),
                username: shown_name,
                signed_in_as: session_user.as_deref(),
            },
            status,
        )
    };
    if username.is_empty()
        || password.is_empty()
        || username.len() > MAX_FIELD_LEN
        || password.len() > MAX_FIELD_LEN
    {
        return again(
            "Enter your user name and password.",
            StatusCode::BAD_REQUEST,
        );
    }

    let ip = oauth.client_ip(&headers, &ext);
    let account_key = format!("user:{username}");
    let ip_key = format!("ip:{ip}");
    if let Err(wait) = oauth
        .inner
        .login_by_account
        .check(&account_key, now)
        .and_then(|()| oauth.inner.login_by_ip.check(&ip_key, now))
    {
        let mins = wait.div_ceil(60);
        let mut r = again(
            &format!("Too many failed sign-ins. Try again in {mins} minute(s)."),
            StatusCode::TOO_MANY_REQUESTS,
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return r;
    }

    let store = oauth.inner.store.as_ref();
    let signing_up = oauth.inner.allow_signup && f.create_account.as_deref() == Some("1");
    let authenticated = if signing_up {
        // Counts against the IP like a failure, so sign-up cannot be used to
        // probe names or flood the store.
        let _ = oauth.inner.login_by_ip.hit(&ip_key, now);
        match oauth.inner.users.sign_up(store, username, password).await {
            SignUp::Created => {
                tracing::info!(user = %username, "account created");
                true
            }
            SignUp::BadName => {
                return again(
                    "User names use letters, digits and . _ - @ (at most 64).",
                    StatusCode::BAD_REQUEST,
                );
            }
            SignUp::WeakPassword => {
                return again(
                    "Choose a password of at least 12 characters.",
                    StatusCode::BAD_REQUEST,
                );
            }
            SignUp::Taken => {
                return again(
                    "That user name is taken. Sign in instead.",
                    StatusCode::BAD_REQUEST,
                );
            }
            SignUp::Failed => {
                return again(
                    "Could not create the account. Try again later.",
                    StatusCode::SERVICE_UNAVAILABLE,
                );
            }
        }
    } else {
        oauth.inner.users.verify(store, username, password).await
    };
    if !authenticated {
        let _ = oauth.inner.login_by_account.hit(&account_key, now);
        let _ = oauth.inner.login_by_ip.hit(&ip_key, now);
        tracing::info!(%ip, "failed sign-in");
        return again("Invalid user name or password.", StatusCode::BAD_REQUEST);
    }
    oauth.inner.login_by_account.reset(&account_key);

    // Single use: a double-submitted form gets the "expired" page.
    let Some(pending) = oauth.inner.store.take_pending(request_id, now).await else {
        return expired();
    };
    let mut resp = approve(&oauth, &client, pending, username, now).await;
    // Remember this browser's sign-in.
    let (session, session_hash) = mint("");
    let sess = Session {
        user: username.to_owned(),
        expires_at: now + SESSION_TTL_SECS,
    };
    if store.create_session(session_hash, sess, now).await.is_ok() {
        oauth.set_cookie(&mut resp, SESSION_COOKIE, &session, SESSION_TTL_SECS);
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
async fn approve(
    oauth: &OAuth,
    client: &ClientRec,
    pending: PendingAuth,
    user: &str,
    now: u64,
) -> Response {
    let store = oauth.inner.store.as_ref();
    let scopes = match pending.scopes.clone() {
        Some(s) => s,
        None => match store
            .consent(user, &client.client_id, &pending.redirect_uri)
            .await
        {
            Some(c) if !c.scopes.is_empty() => c.scopes,
            _ => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        },
    };
    let _ = store
        .record_consent(
            user,
            &client.client_id,
            &pending.redirect_uri,
            Consent {
                scopes: scopes.clone(),
                granted_at: now,
            },
        )
        .await;
    let grant = Approved {
        client,
        user,
        redirect_uri: &pending.redirect_uri,
        code_challenge: &pending.code_challenge,
        scopes,
        resource: &pending.resource,
        state: pending.state.as_deref(),
    };
    issue_code_and_redirect(oauth, grant, now).await
}

async fn issue_code_and_redirect(oauth: &OAuth, g: Approved<'_>, now: u64) -> Response {
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
    match oauth.inner.store.issue_code(code_hash, rec).await {
        Ok(()) => {}
        Err(StoreError::Full) => {
            return error_redirect(
                oauth,
                g.redirect_uri,
                g.state,
                "temporarily_unavailable",
                "server busy",
            );
        }
        Err(_) => {
            return error_redirect(
                oauth,
                g.redirect_uri,
                g.state,
                "server_error",
                "internal error",
            );
        }
    }
    tracing::info!(user = %g.user, client_id = %g.client.client_id, "authorization approved");
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = g.state {
        params.push(("state", s));
    }
    redirect_to(g.redirect_uri, &params, &oauth.inner.issuer)
}

/// Used by the token endpoint: take a code exactly once.
pub(crate) async fn take_code(oauth: &OAuth, code: &str) -> TakeCode {
    oauth
        .inner
        .store
        .take_code(&TokenHash::of(code), oauth.now())
        .await
}
