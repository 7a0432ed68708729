//! The sign-in page's cookies. All are `HttpOnly; SameSite=Lax; Path=/`;
//! on https they are `Secure` and carry the `__Host-` prefix (which requires
//! both), on plain-http loopback the bare name.
//!
//! - the **browser** cookie ties a form POST to the browser that got the
//!   page (CSRF, with the token in the form);
//! - the **session** cookie lets a returning user skip the password;
//! - the **device** cookie marks a browser that signed in to an account
//!   before ([`super::device`]).

use super::OAuth;
use super::store::StoreError;
use super::tokens::TokenHash;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// A cookie's name on https and on plain http.
pub type CookieName = (&'static str, &'static str);

pub const BROWSER_COOKIE: CookieName = ("__Host-cmcp_browser", "cmcp_browser");
pub const SESSION_COOKIE: CookieName = ("__Host-cmcp_session", "cmcp_session");
pub const DEVICE_COOKIE: CookieName = ("__Host-cmcp_device", "cmcp_device");

/// Longest cookie value we read (ours are at most 66 characters).
const MAX_COOKIE_LEN: usize = 128;

/// A random cookie value (256 bits, base64url) has exactly this length.
const SECRET_LEN: usize = 43;

impl OAuth {
    fn cookie_name(&self, names: CookieName) -> &'static str {
        if self.inner.secure_cookies {
            names.0
        } else {
            names.1
        }
    }

    pub(crate) fn set_cookie(
        &self,
        resp: &mut Response,
        names: CookieName,
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

    /// The cookie's value if present and made of base64url and dots only.
    pub(crate) fn cookie(&self, headers: &HeaderMap, names: CookieName) -> Option<String> {
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
                !v.is_empty()
                    && v.len() <= MAX_COOKIE_LEN
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            })
    }

    /// A random-secret cookie (browser, session).
    pub(crate) fn secret_cookie(&self, headers: &HeaderMap, names: CookieName) -> Option<String> {
        self.cookie(headers, names)
            .filter(|v| v.len() == SECRET_LEN && !v.contains('.'))
    }

    /// The signed-in user of this browser, if its session is valid.
    pub(crate) async fn session_user(
        &self,
        headers: &HeaderMap,
        now: u64,
    ) -> Result<Option<String>, StoreError> {
        let Some(c) = self.secret_cookie(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        Ok(self
            .inner
            .store
            .session(&TokenHash::of(&c), now)
            .await?
            .map(|s| s.user))
    }
}
