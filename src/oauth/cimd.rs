//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
//! MCP 2025-11-25 "CIMD"): the `client_id` is an https URL, and the JSON
//! document at that URL describes the client. ChatGPT prefers this to DCR.
//!
//! Fetching a URL chosen by a stranger is an SSRF risk, so the fetch is
//! locked down: https only; the host must resolve to public addresses only
//! (no loopback, private, link-local, CGNAT, multicast, ...), and the
//! connection is pinned to the address we checked (no DNS rebinding); no
//! redirects; 5 s timeout; 5 KiB body cap. Fetches are budgeted per
//! requesting IP (before the DNS lookup), then per document host and in
//! total (once the address passed), so junk ids from one client cannot use
//! up the budget real clients need.
//!
//! Documents are cached per their `Cache-Control` (clamped), in the store's
//! client map, and kept past that as the last good copy: a known client is
//! served it while a refetch is throttled or its host is unreachable, so
//! its refreshes never depend on the budget.
//! `--oauth-allow-loopback-cimd` (tests only) lifts the address and https
//! rules so a local fixture server can be used.

use super::OAuth;
use super::limits::{Budget, CIMD_GLOBAL, CIMD_PER_HOST, CIMD_PER_IP, ClientKey, Refused};
use super::register::{MAX_URI_LEN, check_redirect_uri};
use super::store::{AuthMethod, ClientKind, ClientRec, StoreError};
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Advertised as `client_id_metadata_document_supported`.
pub const CIMD_SUPPORTED: bool = true;
/// Largest document accepted (the draft suggests 5 KB; real ones are < 1 KB).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// Whole-fetch timeout: a slow host must not hold an authorize request.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Cache lifetime bounds: at least 5 min (spare the client's host), at most
/// 24 h (pick up redirect URI changes within a day).
pub const MIN_CACHE_SECS: u64 = 5 * 60;
pub const MAX_CACHE_SECS: u64 = 24 * 60 * 60;
/// When the response says nothing about caching.
pub const DEFAULT_CACHE_SECS: u64 = 60 * 60;

pub struct CimdFetcher {
    allow_loopback: bool,
}

#[derive(Debug, Deserialize)]
struct Document {
    client_id: Option<String>,
    client_name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    /// Not in the draft, but ChatGPT's document lists alternatives here.
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
}

/// Why a document was refused (logged, never shown with document content).
#[derive(Debug, PartialEq, Eq)]
pub enum CimdError {
    BadUrl(&'static str),
    Blocked,
    /// The host answered, but not with a usable document.
    Fetch(&'static str),
    /// The host could not be reached (DNS, connection, timeout, 5xx).
    Unreachable(&'static str),
    Invalid(&'static str),
    /// A fetch budget is used up.
    Busy,
    Store(StoreError),
}

impl CimdError {
    /// Whether the last good document may stand in for a fresh one.
    fn is_transient(&self) -> bool {
        matches!(
            self,
            CimdError::Unreachable(_) | CimdError::Busy | CimdError::Store(_)
        )
    }
}

impl From<Refused> for CimdError {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Wait(_) => CimdError::Busy,
            Refused::Store(e) => CimdError::Store(e),
        }
    }
}

impl CimdFetcher {
    pub fn new(allow_loopback: bool) -> Self {
        CimdFetcher { allow_loopback }
    }

    /// Whether `client_id` is URL-shaped (and so must be a CIMD client).
    pub fn is_cimd_id(client_id: &str) -> bool {
        client_id.starts_with("https://") || client_id.starts_with("http://")
    }

    /// Checks the client_id URL itself (draft §3: https, a path, no
    /// fragment, no userinfo, no dot segments).
    pub fn check_url(&self, client_id: &str) -> Result<url::Url, CimdError> {
        if client_id.len() > MAX_URI_LEN || client_id.bytes().any(|b| b <= 0x20 || b >= 0x7f) {
            return Err(CimdError::BadUrl(
                "too long or has whitespace/control characters",
            ));
        }
        if client_id.contains('#')
            || client_id.contains("/./")
            || client_id.contains("/../")
            || client_id.ends_with("/.")
            || client_id.ends_with("/..")
            || client_id.contains('\\')
        {
            return Err(CimdError::BadUrl("fragment, backslash or dot segment"));
        }
        let url = url::Url::parse(client_id).map_err(|_| CimdError::BadUrl("not a URL"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_loopback => {}
            _ => return Err(CimdError::BadUrl("must be https")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CimdError::BadUrl("userinfo"));
        }
        if url.host_str().is_none() || url.path() == "/" || url.path().is_empty() {
            return Err(CimdError::BadUrl("needs a host and a path"));
        }
        // The document must be at exactly this string: refuse non-canonical forms.
        if url.as_str() != client_id {
            return Err(CimdError::BadUrl("not in canonical form"));
        }
        Ok(url)
    }

    /// Resolves the host and insists every address is public (unless the
    /// test flag is set); returns the address to pin the connection to.
    async fn pick_address(&self, url: &url::Url) -> Result<SocketAddr, CimdError> {
        let host = url.host_str().ok_or(CimdError::BadUrl("no host"))?;
        let port = url
            .port_or_known_default()
            .ok_or(CimdError::BadUrl("no port"))?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::time::timeout(FETCH_TIMEOUT, tokio::net::lookup_host((bare, port)))
                .await
                .map_err(|_| CimdError::Unreachable("dns timeout"))?
                .map_err(|_| CimdError::Unreachable("dns failure"))?
                .collect(),
        };
        if !self.allow_loopback && addrs.iter().any(|a| !is_public(a.ip())) {
            return Err(CimdError::Blocked);
        }
        addrs
            .first()
            .copied()
            .ok_or(CimdError::Unreachable("no address"))
    }

    /// Downloads and validates the document from `addr`; `now` stamps the
    /// cache expiry.
    async fn download(
        &self,
        url: &url::Url,
        addr: SocketAddr,
        now: u64,
    ) -> Result<ClientRec, CimdError> {
        let bare_host = url
            .host_str()
            .ok_or(CimdError::BadUrl("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']');
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .resolve(bare_host, addr)
            // A proxy would resolve the name itself and defeat the pinning.
            .no_proxy()
            .user_agent("crypto-mcp (client metadata fetch)")
            .build()
            .map_err(|_| CimdError::Fetch("client setup"))?;
        let fut = async {
            let mut resp = client
                .get(url.clone())
                .header("accept", "application/json")
                .send()
                .await
                .map_err(|_| CimdError::Unreachable("request failed"))?;
            if resp.status().is_server_error() {
                return Err(CimdError::Unreachable("server error"));
            }
            if resp.status() != reqwest::StatusCode::OK {
                return Err(CimdError::Fetch("status is not 200"));
            }
            if resp
                .content_length()
                .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
            {
                return Err(CimdError::Fetch("document too large"));
            }
            let cache_secs = cache_lifetime(resp.headers());
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|_| CimdError::Unreachable("read failed"))?
            {
                if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                    return Err(CimdError::Fetch("document too large"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok((body, cache_secs))
        };
        let (body, cache_secs) = tokio::time::timeout(FETCH_TIMEOUT, fut)
            .await
            .map_err(|_| CimdError::Unreachable("timeout"))??;
        let doc: Document =
            serde_json::from_slice(&body).map_err(|_| CimdError::Invalid("not a JSON object"))?;
        validate(url.as_str(), doc, now, now + cache_secs)
    }

    /// Fetches within the budgets: the requester's first (it pays for the
    /// DNS lookup), then, once the address passed, the host's and everyone's.
    async fn fetch(
        &self,
        oauth: &OAuth,
        url: &url::Url,
        ip: &ClientKey,
        now: u64,
    ) -> Result<ClientRec, CimdError> {
        oauth
            .reserve(&[Budget::new("cimd:ip", ip, CIMD_PER_IP)], now)
            .await?
            .keep();
        let addr = self.pick_address(url).await?;
        let host = url.host_str().unwrap_or_default();
        oauth
            .reserve(
                &[
                    Budget::new("cimd:host", host, CIMD_PER_HOST),
                    Budget::global("cimd", CIMD_GLOBAL),
                ],
                now,
            )
            .await?
            .keep();
        self.download(url, addr, now).await
    }

    /// A CIMD client from the cache, or freshly fetched (and then cached),
    /// or the last good document when a refetch cannot happen now.
    pub(crate) async fn resolve(
        &self,
        oauth: &OAuth,
        client_id: &str,
        ip: &ClientKey,
    ) -> Result<Option<ClientRec>, StoreError> {
        let url = match self.check_url(client_id) {
            Ok(url) => url,
            Err(e) => {
                tracing::info!(%client_id, error = ?e, "client metadata document refused");
                return Ok(None);
            }
        };
        let now = oauth.now();
        let cached = oauth
            .inner
            .store
            .client(client_id)
            .await?
            .filter(|c| c.kind == ClientKind::Cimd);
        if let Some(c) = &cached
            && c.cache_until.is_some_and(|t| t > now)
        {
            return Ok(cached);
        }
        match self.fetch(oauth, &url, ip, now).await {
            Ok(rec) => {
                if let Err(e) = oauth.inner.store.cache_cimd_client(rec.clone()).await {
                    tracing::warn!(%client_id, error = %e, "could not cache a client metadata document");
                }
                Ok(Some(rec))
            }
            Err(e) if e.is_transient() && cached.is_some() => {
                tracing::info!(%client_id, error = ?e, "serving the last good client metadata document");
                Ok(cached)
            }
            Err(CimdError::Store(e)) => Err(e),
            Err(e) => {
                tracing::info!(%client_id, error = ?e, "client metadata document refused");
                Ok(None)
            }
        }
    }
}

fn cache_lifetime(headers: &reqwest::header::HeaderMap) -> u64 {
    let Some(cc) = headers.get("cache-control").and_then(|v| v.to_str().ok()) else {
        return DEFAULT_CACHE_SECS;
    };
    let cc = cc.to_ascii_lowercase();
    if cc.contains("no-store") || cc.contains("no-cache") {
        return MIN_CACHE_SECS;
    }
    cc.split(',')
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .filter_map(|v| v.trim().parse::<u64>().ok())
        .next()
        .map(|s| s.clamp(MIN_CACHE_SECS, MAX_CACHE_SECS))
        .unwrap_or(DEFAULT_CACHE_SECS)
}

fn validate(
    client_id: &str,
    doc: Document,
    now: u64,
    cache_until: u64,
) -> Result<ClientRec, CimdError> {
    if doc.client_id.as_deref() != Some(client_id) {
        return Err(CimdError::Invalid(
            "client_id does not equal the document URL",
        ));
    }
    let uris = doc
        .redirect_uris
        .filter(|u| !u.is_empty() && u.len() <= super::register::MAX_REDIRECT_URIS)
        .ok_or(CimdError::Invalid(
            "redirect_uris missing, empty or too many",
        ))?;
    if uris.iter().any(|u| check_redirect_uri(u).is_err()) {
        return Err(CimdError::Invalid("a redirect URI is not allowed"));
    }
    let name = match doc.client_name {
        Some(n)
            if !n.trim().is_empty()
                && n.chars().count() <= super::register::MAX_CLIENT_NAME_LEN
                && !n.chars().any(char::is_control) =>
        {
            Some(n)
        }
        Some(_) => return Err(CimdError::Invalid("client_name is not acceptable")),
        None => None,
    };
    // We can only authenticate CIMD clients as public PKCE clients: a shared
    // secret cannot be published, and private_key_jwt is not implemented.
    let offers_none = doc
        .token_endpoint_auth_methods_supported
        .as_ref()
        .is_some_and(|m| m.iter().any(|x| x == "none"));
    match doc.token_endpoint_auth_method.as_deref() {
        None | Some("none") => {}
        Some("private_key_jwt") if offers_none => {}
        Some("client_secret_basic" | "client_secret_post" | "client_secret_jwt") => {
            return Err(CimdError::Invalid(
                "symmetric client authentication is not possible for CIMD",
            ));
        }
        Some(_) => return Err(CimdError::Invalid("unsupported token_endpoint_auth_method")),
    }
    if doc
        .grant_types
        .as_ref()
        .is_some_and(|g| !g.iter().any(|x| x == "authorization_code"))
    {
        return Err(CimdError::Invalid("grant_types lacks authorization_code"));
    }
    if doc
        .response_types
        .as_ref()
        .is_some_and(|r| !r.iter().any(|x| x == "code"))
    {
        return Err(CimdError::Invalid("response_types lacks code"));
    }
    Ok(ClientRec {
        client_id: client_id.to_owned(),
        client_name: name,
        redirect_uris: uris,
        auth_method: AuthMethod::None,
        secret_hash: None,
        kind: ClientKind::Cimd,
        created_at: now,
        last_used: None,
        cache_until: Some(cache_until),
    })
}

/// True for globally routable unicast addresses.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 → could reach v4 private
                || s[0] == 0x2002 // 6to4
                || v6 == Ipv6Addr::UNSPECIFIED)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0 // "this network"
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240) // reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_classification() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "255.255.255.255",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "104.18.0.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn client_id_url_rules() {
        let f = CimdFetcher::new(false);
        assert!(f.check_url("https://chatgpt.com/oauth/client.json").is_ok());
        for bad in [
            "http://chatgpt.com/oauth/client.json",
            "https://chatgpt.com",
            "https://chatgpt.com/",
            "https://u@chatgpt.com/c.json",
            "https://chatgpt.com/c.json#x",
            "https://chatgpt.com/a/../c.json",
            "https://CHATGPT.com/c.json",
        ] {
            assert!(f.check_url(bad).is_err(), "{bad}");
        }
        assert!(
            CimdFetcher::new(true)
                .check_url("http://127.0.0.1:9/c.json")
                .is_ok()
        );
    }

    #[tokio::test]
    async fn private_hosts_are_blocked_before_any_connection() {
        let f = CimdFetcher::new(false);
        for id in [
            "https://127.0.0.1/client.json",
            "https://10.0.0.1/client.json",
            "https://[::1]/client.json",
            "https://localhost/client.json",
        ] {
            let url = f.check_url(id).unwrap();
            assert_eq!(
                f.pick_address(&url).await.unwrap_err(),
                CimdError::Blocked,
                "{id}"
            );
        }
    }

    #[test]
    fn cache_headers() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(cache_lifetime(&h), DEFAULT_CACHE_SECS);
        h.insert("cache-control", "public, max-age=7200".parse().unwrap());
        assert_eq!(cache_lifetime(&h), 7200);
        h.insert("cache-control", "max-age=1".parse().unwrap());
        assert_eq!(cache_lifetime(&h), MIN_CACHE_SECS);
        h.insert("cache-control", "max-age=99999999".parse().unwrap());
        assert_eq!(cache_lifetime(&h), MAX_CACHE_SECS);
        h.insert("cache-control", "no-store".parse().unwrap());
        assert_eq!(cache_lifetime(&h), MIN_CACHE_SECS);
    }
}
