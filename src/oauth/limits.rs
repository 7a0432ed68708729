//! Budgets that keep one client from spending everyone's.
//!
//! Each budget is a fixed window counted in the store ([`Store::reserve`]),
//! so instances sharing a store share it. Three rules:
//! - **Per client before global.** Budgets are reserved in order, per IP
//!   (or account, device, host) first; a refusal by a later budget gives the
//!   earlier ones back, so a client refused for itself spends nothing shared.
//! - **Reserve before the work.** A sign-in attempt is counted before argon2
//!   runs and given back only if it succeeds, so a burst cannot outrun the
//!   count.
//! - **IPv6 by /64**, the block one subscriber gets, so rotating addresses
//!   inside it gains nothing.
//!
//! [`Store::reserve`]: super::store::Store::reserve

use super::OAuth;
use super::error::OAuthError;
use super::store::{Admit, Limit, StoreError};
use std::net::IpAddr;

const fn per(max: u32, window_secs: u64) -> Limit {
    Limit { max, window_secs }
}

/// Failed sign-ins per client IP.
pub const LOGIN_PER_IP: Limit = per(20, 15 * 60);
/// Failed sign-ins per account from browsers without its device cookie.
pub const LOGIN_PER_ACCOUNT: Limit = per(5, 15 * 60);
/// Failed sign-ins per device cookie (a browser that signed in before).
pub const LOGIN_PER_DEVICE: Limit = per(10, 15 * 60);
/// Form submissions one sign-in page accepts (a person mistypes a few times;
/// more is a script).
pub const MAX_POSTS_PER_PAGE: u32 = 10;
/// Accounts created per client IP, and by everyone together.
pub const SIGNUP_PER_IP: Limit = per(5, 60 * 60);
pub const SIGNUP_GLOBAL: Limit = per(60, 60 * 60);
/// Client registrations per IP (ChatGPT shares egress IPs, so this is
/// generous) and in total.
pub const REGISTER_PER_IP: Limit = per(30, 10 * 60);
pub const REGISTER_GLOBAL: Limit = per(300, 10 * 60);
/// Sign-in pages opened per client IP (a person opens a handful).
pub const AUTHORIZE_PER_IP: Limit = per(60, 60);
/// Client metadata document fetches per requesting IP, per document host,
/// and in total: we must not become a request amplifier.
pub const CIMD_PER_IP: Limit = per(10, 60);
pub const CIMD_PER_HOST: Limit = per(10, 60);
pub const CIMD_GLOBAL: Limit = per(60, 60);

/// A client's throttling identity: its IP, IPv6 cut to the /64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey(String);

impl ClientKey {
    pub fn from_ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey(v4.to_string()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(v4.to_string()),
                None => {
                    let s = v6.segments();
                    ClientKey(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
                }
            },
        }
    }

    /// A proxy header value: an address if it parses as one, else as sent.
    pub fn from_header(value: &str) -> Self {
        match value.parse::<IpAddr>() {
            Ok(ip) => Self::from_ip(ip),
            Err(_) => ClientKey(value.to_owned()),
        }
    }

    pub fn unknown() -> Self {
        ClientKey("unknown".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One budget for one key.
#[derive(Debug, Clone)]
pub struct Budget {
    key: String,
    limit: Limit,
}

impl Budget {
    pub fn new(scope: &str, who: impl std::fmt::Display, limit: Limit) -> Self {
        Budget {
            key: format!("{scope}:{who}"),
            limit,
        }
    }

    /// A budget everyone shares.
    pub fn global(scope: &str, limit: Limit) -> Self {
        Self::new(scope, "*", limit)
    }
}

/// Reservations held for one attempt.
#[must_use = "release the reservations if the attempt succeeds, or keep them"]
#[derive(Debug)]
pub struct Reserved(Vec<String>);

impl Reserved {
    /// The reservations stay counted (the attempt failed, or every attempt
    /// counts).
    pub fn keep(self) {}
}

/// Why an attempt may not go ahead.
#[derive(Debug)]
pub enum Refused {
    /// A budget is used up until the window ends, in this many seconds.
    Wait(u64),
    Store(StoreError),
}

impl From<Refused> for OAuthError {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Wait(secs) => OAuthError::too_many_requests(secs),
            Refused::Store(e) => e.into(),
        }
    }
}

impl OAuth {
    /// Reserves one event in each budget, in order; all or none.
    pub(crate) async fn reserve(&self, budgets: &[Budget], now: u64) -> Result<Reserved, Refused> {
        let mut held = Reserved(Vec::with_capacity(budgets.len()));
        for b in budgets {
            let refused = match self.inner.store.reserve(&b.key, b.limit, now).await {
                Ok(Admit::Granted) => {
                    held.0.push(b.key.clone());
                    continue;
                }
                Ok(Admit::Refused { retry_after }) => Refused::Wait(retry_after),
                Err(e) => Refused::Store(e),
            };
            self.release(held, now).await;
            return Err(refused);
        }
        Ok(held)
    }

    /// Gives reservations back.
    pub(crate) async fn release(&self, held: Reserved, now: u64) {
        for key in held.0 {
            if let Err(e) = self.inner.store.release(&key, now).await {
                tracing::warn!(error = %e, "could not release a throttle reservation");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a = ClientKey::from_ip("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientKey::from_ip("2001:db8:1:2:bbbb::9".parse().unwrap());
        let c = ClientKey::from_ip("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.as_str(), "2001:db8:1:2::/64");
        assert_eq!(
            ClientKey::from_ip("::ffff:10.1.2.3".parse().unwrap()).as_str(),
            "10.1.2.3"
        );
        assert_eq!(
            ClientKey::from_header("203.0.113.7").as_str(),
            "203.0.113.7"
        );
    }
}
