//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device
//! Cookies"), so a stranger's wrong passwords cannot lock the owner out.
//!
//! After a successful sign-in the browser gets a cookie `nonce.mac`, where
//! `mac = HMAC-SHA256(key, user ‖ nonce)`. A later attempt for that user that
//! presents it is *trusted*: its failures count against the cookie's own
//! budget ([`LOGIN_PER_DEVICE`]), not the account's. Attempts without a
//! valid cookie share the account's budget ([`LOGIN_PER_ACCOUNT`]), which a
//! stranger can use up, but only for other untrusted browsers. Per-IP limits
//! apply to everyone.
//!
//! The key comes from the store ([`Store::secret`]), so every instance
//! agrees on it and a restart with a state file keeps cookies valid.
//!
//! [`LOGIN_PER_DEVICE`]: super::limits::LOGIN_PER_DEVICE
//! [`LOGIN_PER_ACCOUNT`]: super::limits::LOGIN_PER_ACCOUNT
//! [`Store::secret`]: super::store::Store::secret

use super::OAuth;
use super::cookies::DEVICE_COOKIE;
use super::limits::{Budget, LOGIN_PER_ACCOUNT, LOGIN_PER_DEVICE};
use super::store::StoreError;
use super::users::UserName;
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// How long a browser stays known (OWASP suggests long-lived cookies).
pub const DEVICE_TTL_SECS: u64 = 180 * 24 * 60 * 60;
/// The store's name for the signing key.
const KEY_NAME: &str = "device-cookie-key";
const NONCE_BYTES: usize = 16;

fn mac(key: &[u8; 32], user: &UserName, nonce: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(b"crypto-mcp device cookie v1\0");
    m.update(user.as_str().as_bytes());
    m.update(b"\0");
    m.update(nonce);
    m
}

impl OAuth {
    async fn device_key(&self) -> Result<[u8; 32], StoreError> {
        self.inner
            .device_key
            .get_or_try_init(|| self.inner.store.secret(KEY_NAME))
            .await
            .copied()
    }

    /// The budget a sign-in attempt for `user` counts against besides its
    /// IP's: the device cookie's own, when it presents a valid one for this
    /// user, else the account's.
    pub(crate) async fn attempt_budget(
        &self,
        headers: &HeaderMap,
        user: &UserName,
    ) -> Result<Budget, StoreError> {
        if let Some(nonce) = self.trusted_device(headers, user).await? {
            return Ok(Budget::new("login:device", nonce, LOGIN_PER_DEVICE));
        }
        Ok(Budget::new("login:user", user, LOGIN_PER_ACCOUNT))
    }

    /// The nonce of a valid device cookie for `user`, if the browser sent one.
    async fn trusted_device(
        &self,
        headers: &HeaderMap,
        user: &UserName,
    ) -> Result<Option<String>, StoreError> {
        let Some(cookie) = self.cookie(headers, DEVICE_COOKIE) else {
            return Ok(None);
        };
        let Some((nonce_b64, mac_b64)) = cookie.split_once('.') else {
            return Ok(None);
        };
        let (Ok(nonce), Ok(tag)) = (
            URL_SAFE_NO_PAD.decode(nonce_b64),
            URL_SAFE_NO_PAD.decode(mac_b64),
        ) else {
            return Ok(None);
        };
        if nonce.len() != NONCE_BYTES {
            return Ok(None);
        }
        let key = self.device_key().await?;
        let valid = mac(&key, user, &nonce).verify_slice(&tag).is_ok();
        Ok(valid.then(|| nonce_b64.to_owned()))
    }

    /// A fresh device cookie value for `user` (a new nonce each sign-in).
    pub(crate) async fn device_cookie(&self, user: &UserName) -> Result<String, StoreError> {
        let key = self.device_key().await?;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let tag = mac(&key, user, &nonce).finalize().into_bytes();
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(tag)
        ))
    }
}
