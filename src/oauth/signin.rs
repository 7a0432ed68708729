//! `POST /authorize`: the answer to the sign-in / consent page.
//!
//! The form must come from the page (its CSRF token) in the browser that got
//! it (the browser cookie); a page accepts [`MAX_POSTS_PER_PAGE`] of them.
//! A password attempt is reserved against the client IP's budget and the
//! account's (or, for a browser with the account's device cookie, that
//! cookie's) *before* argon2 runs, and given back only when it succeeds, so
//! a burst of guesses is counted as it arrives, not after it is checked.

use super::authorize::unavailable_page;
use super::authorize::{Render, approve, error_redirect, local_error, render, retry_after};
use super::cookies::{BROWSER_COOKIE, DEVICE_COOKIE, SESSION_COOKIE};
use super::device::DEVICE_TTL_SECS;
use super::error::{ErrorCode, OAuthError};
use super::limits::{
    Budget, ClientKey, LOGIN_PER_IP, MAX_POSTS_PER_PAGE, Refused, Reserved, SIGNUP_GLOBAL,
    SIGNUP_PER_IP,
};
use super::password::HashError;
use super::store::{ClientRec, PendingAuth, Session};
use super::tokens::{TokenHash, mint};
use super::users::{MAX_USERNAME_LEN, SignUp, UserName, VerifyError};
use super::{Issuer, OAuth, SESSION_TTL_SECS};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// Longest user name or password field read from the form.
const MAX_FIELD_LEN: usize = 512;
/// Longest request id or CSRF token read from the form (ours are 22 and 43).
const MAX_TOKEN_FIELD_LEN: usize = 64;

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

fn expired() -> Response {
    local_error(
        StatusCode::BAD_REQUEST,
        "Sign-in expired",
        "This sign-in page has expired or was already used. Go back to the app and connect again.",
    )
}

/// The page being answered, to show again with a message.
struct Answer<'a> {
    oauth: &'a OAuth,
    client: &'a ClientRec,
    pending: &'a PendingAuth,
    request_id: &'a str,
    csrf_token: &'a str,
    shown_name: &'a str,
    session_user: Option<&'a str>,
}

impl Answer<'_> {
    fn again(&self, error: &str, status: StatusCode) -> Response {
        render(
            self.oauth,
            Render {
                client: self.client,
                pending: self.pending,
                request_id: self.request_id,
                csrf_token: self.csrf_token,
                error: Some(error),
                username: self.shown_name,
                signed_in_as: self.session_user,
            },
            status,
        )
    }

    /// Holds a place in each of `budgets`; `Err` is the page for a refusal,
    /// which says `too_many` and how long to wait.
    async fn reserve(
        &self,
        budgets: &[Budget],
        now: u64,
        too_many: &str,
    ) -> Result<Reserved, Response> {
        match self.oauth.reserve(budgets, now).await {
            Ok(held) => Ok(held),
            Err(Refused::Wait(secs)) => Err(self.wait(too_many, secs)),
            Err(Refused::Store(e)) => Err(unavailable_page(&e)),
        }
    }

    fn wait(&self, error: &str, secs: u64) -> Response {
        let mins = secs.div_ceil(60);
        let mut r = self.again(
            &format!("{error} Try again in {mins} minute(s)."),
            StatusCode::TOO_MANY_REQUESTS,
        );
        retry_after(&mut r, secs);
        r
    }

    fn busy(&self) -> Response {
        let mut r = self.again(
            "The server is busy. Try again in a moment.",
            StatusCode::SERVICE_UNAVAILABLE,
        );
        retry_after(&mut r, super::error::RETRY_AFTER_UNAVAILABLE);
        r
    }

    fn failed(&self, e: VerifyError) -> Response {
        match e {
            VerifyError::Hash(HashError::Busy) => self.busy(),
            VerifyError::Hash(HashError::Failed(why)) => {
                tracing::warn!(error = %why, "password hashing failed");
                self.busy()
            }
            VerifyError::Store(e) => unavailable_page(&e),
        }
    }
}

pub async fn authorize_post(
    State(oauth): State<OAuth>,
    issuer: Issuer,
    headers: HeaderMap,
    ext: Extensions,
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
    let (Some(request_id), Some(csrf_token)) = (f.request_id.as_deref(), f.csrf_token.as_deref())
    else {
        return local_error(
            StatusCode::FORBIDDEN,
            "Security check failed",
            "The form is missing its security token.",
        );
    };
    if request_id.len() > MAX_TOKEN_FIELD_LEN || csrf_token.len() > MAX_TOKEN_FIELD_LEN {
        return expired();
    }
    let store = oauth.inner.store.as_ref();
    let pending = match store
        .post_pending(request_id, MAX_POSTS_PER_PAGE, now)
        .await
    {
        Ok(Some(p)) => p,
        Ok(None) => return expired(),
        Err(e) => return unavailable_page(&e),
    };
    let csrf_ok = TokenHash::of(csrf_token).ct_eq(&pending.csrf);
    let browser_ok = oauth
        .secret_cookie(&headers, BROWSER_COOKIE)
        .is_some_and(|c| TokenHash::of(&c).ct_eq(&pending.browser));
    if !(csrf_ok && browser_ok) {
        return local_error(
            StatusCode::FORBIDDEN,
            "Security check failed",
            "The form did not come from this sign-in page in this browser. Go back to the app and connect again.",
        );
    }
    let ip = oauth.client_ip(&headers, &ext);
    let client = match oauth.resolve_client(&pending.client_id, &ip).await {
        Ok(Some(c)) => c,
        Ok(None) => return expired(),
        Err(e) => return unavailable_page(&e),
    };

    match f.decision.as_deref() {
        Some("deny") => {
            let p = match store.take_pending(request_id, now).await {
                Ok(Some(p)) => p,
                Ok(None) => return expired(),
                Err(e) => return unavailable_page(&e),
            };
            return error_redirect(
                &issuer,
                &p.redirect_uri,
                p.state.as_deref(),
                OAuthError::new(ErrorCode::AccessDenied, "the user denied the request"),
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
        match oauth.session_user(&headers, now).await {
            Ok(u) => u,
            Err(e) => return unavailable_page(&e),
        }
    };
    // Signed in already and no other account typed: approve as that user.
    if username.is_empty()
        && password.is_empty()
        && let Some(user) = session_user.as_deref()
    {
        return match store.take_pending(request_id, now).await {
            Ok(Some(pending)) => approve(&oauth, &issuer, &client, pending, user, now).await,
            Ok(None) => expired(),
            Err(e) => unavailable_page(&e),
        };
    }
    let answer = Answer {
        oauth: &oauth,
        client: &client,
        pending: &pending,
        request_id,
        csrf_token,
        shown_name: if username.len() <= MAX_USERNAME_LEN {
            username
        } else {
            ""
        },
        session_user: session_user.as_deref(),
    };
    if username.is_empty()
        || password.is_empty()
        || username.len() > MAX_FIELD_LEN
        || password.len() > MAX_FIELD_LEN
    {
        return answer.again(
            "Enter your user name and password.",
            StatusCode::BAD_REQUEST,
        );
    }

    let attempt = Attempt {
        name: UserName::parse(username),
        password,
        ip: &ip,
        now,
    };
    let user = if oauth.inner.allow_signup && f.create_account.as_deref() == Some("1") {
        sign_up(&answer, attempt).await
    } else {
        sign_in(&answer, &headers, attempt).await
    };
    let user = match user {
        Ok(user) => user,
        Err(page) => return page,
    };

    // Single use: a double-submitted form gets the "expired" page.
    let pending = match store.take_pending(request_id, now).await {
        Ok(Some(p)) => p,
        Ok(None) => return expired(),
        Err(e) => return unavailable_page(&e),
    };
    let mut resp = approve(&oauth, &issuer, &client, pending, user.as_str(), now).await;
    remember_browser(&oauth, &mut resp, &user, now).await;
    resp
}

/// What the form asks for: an account (`None` for a name that cannot
/// exist) and its password, from an IP, at a time.
struct Attempt<'a> {
    name: Option<UserName>,
    password: &'a str,
    ip: &'a ClientKey,
    now: u64,
}

/// A password attempt within the budgets: the IP's, then the account's or
/// the device cookie's. `Err` is the page to answer with.
async fn sign_in(
    answer: &Answer<'_>,
    headers: &HeaderMap,
    attempt: Attempt<'_>,
) -> Result<UserName, Response> {
    let oauth = answer.oauth;
    let mut budgets = vec![Budget::new("login:ip", attempt.ip, LOGIN_PER_IP)];
    // A name that cannot exist has no account to protect: the IP's budget
    // alone counts it.
    if let Some(n) = &attempt.name {
        match oauth.attempt_budget(headers, n).await {
            Ok(b) => budgets.push(b),
            Err(e) => return Err(unavailable_page(&e)),
        }
    }
    let held = answer
        .reserve(&budgets, attempt.now, "Too many failed sign-ins.")
        .await?;
    let store = oauth.inner.store.as_ref();
    match oauth
        .inner
        .users
        .verify(store, attempt.name.as_ref(), attempt.password)
        .await
    {
        Ok(true) => {
            oauth.release(held, attempt.now).await;
            // `verify` is true only for an existing, hence parsed, name.
            attempt.name.ok_or_else(|| answer.busy())
        }
        Ok(false) => {
            held.keep();
            tracing::info!(ip = %attempt.ip, "failed sign-in");
            Err(answer.again("Invalid user name or password.", StatusCode::BAD_REQUEST))
        }
        Err(e) => {
            oauth.release(held, attempt.now).await;
            Err(answer.failed(e))
        }
    }
}

/// Account creation within the sign-up budgets (the IP's, then everyone's).
async fn sign_up(answer: &Answer<'_>, attempt: Attempt<'_>) -> Result<UserName, Response> {
    let oauth = answer.oauth;
    let budgets = [
        Budget::new("signup:ip", attempt.ip, SIGNUP_PER_IP),
        Budget::global("signup", SIGNUP_GLOBAL),
    ];
    let held = answer
        .reserve(
            &budgets,
            attempt.now,
            "Too many accounts were created recently.",
        )
        .await?;
    let store = oauth.inner.store.as_ref();
    let refusal = match oauth.inner.users.sign_up(store, attempt.name.as_ref(), attempt.password, attempt.now).await {
        SignUp::Created => {
            held.keep();
            let name = attempt.name.ok_or_else(|| answer.busy())?;
            tracing::info!(user = %name, "account created");
            return Ok(name);
        }
        // Telling a taken name is a lookup worth counting (no probing for free).
        SignUp::Taken => {
            held.keep();
            return Err(answer.again(
                "That user name is taken. Sign in instead.",
                StatusCode::BAD_REQUEST,
            ));
        }
        SignUp::BadName => answer.again(
            "User names use letters, digits and . _ - @ (at most 64; upper and lower case are the same).",
            StatusCode::BAD_REQUEST,
        ),
        SignUp::WeakPassword => answer.again(
            "Choose a password of at least 12 characters.",
            StatusCode::BAD_REQUEST,
        ),
        SignUp::Closed => answer.again(
            "Sign-up is closed for now: this server has reached its number of accounts. Try again later.",
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        SignUp::Failed(e) => answer.failed(e),
    };
    oauth.release(held, attempt.now).await;
    Err(refusal)
}

/// After a sign-in: a session cookie (skip the password next time) and a
/// fresh device cookie (this browser is trusted for this account).
async fn remember_browser(oauth: &OAuth, resp: &mut Response, user: &UserName, now: u64) {
    let store = oauth.inner.store.as_ref();
    let (session, session_hash) = mint("");
    let sess = Session {
        user: user.to_string(),
        expires_at: now + SESSION_TTL_SECS,
    };
    match store.create_session(session_hash, sess, now).await {
        Ok(()) => oauth.set_cookie(resp, SESSION_COOKIE, &session, SESSION_TTL_SECS),
        Err(e) => tracing::warn!(error = %e, "could not start a sign-in session"),
    }
    match oauth.device_cookie(user).await {
        Ok(cookie) => oauth.set_cookie(resp, DEVICE_COOKIE, &cookie, DEVICE_TTL_SECS),
        Err(e) => tracing::warn!(error = %e, "could not issue a device cookie"),
    }
}
