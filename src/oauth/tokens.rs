//! Opaque secrets: codes, access and refresh tokens, client secrets, CSRF
//! tokens. Each is 256 bits from the OS CSPRNG, base64url, behind a short
//! prefix that names its kind (handy for secret scanners and for debugging
//! without looking at the secret). Only SHA-256 hashes are ever stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Entropy of every secret we mint: 256 bits, as OAuth 2.1 §7.1 suggests ≥128.
pub const SECRET_BYTES: usize = 32;

pub const ACCESS_PREFIX: &str = "cm_at_";
pub const REFRESH_PREFIX: &str = "cm_rt_";
pub const CODE_PREFIX: &str = "cm_code_";
pub const CLIENT_SECRET_PREFIX: &str = "cm_cs_";

/// SHA-256 of a secret; the only form in which secrets are kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn of(secret: &str) -> Self {
        TokenHash(Sha256::digest(secret.as_bytes()).into())
    }
    /// Constant-time equality (the hashes of secrets are compared this way).
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A prefix of a hash is enough to tell entries apart in a debugger.
        write!(f, "TokenHash({}…)", &URL_SAFE_NO_PAD.encode(self.0)[..8])
    }
}

impl Serialize for TokenHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl<'de> Deserialize<'de> for TokenHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let v = URL_SAFE_NO_PAD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)?;
        let arr: [u8; 32] = v
            .try_into()
            .map_err(|_| serde::de::Error::custom("hash must be 32 bytes"))?;
        Ok(TokenHash(arr))
    }
}

/// Random bytes for a new secret.
pub fn random_bytes() -> [u8; SECRET_BYTES] {
    let mut b = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// A new secret `prefix + base64url(32 random bytes)` and its hash.
pub fn mint(prefix: &str) -> (String, TokenHash) {
    let s = format_secret(prefix, &random_bytes());
    let h = TokenHash::of(&s);
    (s, h)
}

pub fn format_secret(prefix: &str, raw: &[u8; SECRET_BYTES]) -> String {
    let mut s = String::with_capacity(prefix.len() + 43);
    s.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(raw, &mut s);
    s
}

/// An unguessable token for what must stay secret (sign-in request ids,
/// page nonces): 128 bits from the OS. Plain identifiers are UUIDs.
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// One-time pad that lets every holder of a just-rotated refresh token learn
/// the *same* successor during the grace window, while the store keeps only
/// hashes: `successor_ct = successor_raw XOR SHA-256(label || presented)`.
/// The pad is a PRF of a 256-bit secret the store never sees, used once.
pub fn successor_pad(presented: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"crypto-mcp refresh-successor v1\0");
    h.update(presented.as_bytes());
    h.finalize().into()
}

pub fn xor32(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for i in 0..32 {
        out[i] = a[i] ^ b[i];
    }
    out
}

/// The S256 challenge of a verifier: base64url(SHA-256(verifier)). The
/// store compares it with the code's; a challenge is no secret (it travels
/// in the authorization URL), so the comparison need not be constant-time.
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43–128 unreserved characters.
pub fn is_valid_pkce_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is base64url(SHA-256) without padding: exactly 43 chars.
pub fn is_valid_s256_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_ne!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn minted_tokens_are_distinct_and_hashed() {
        let (a, ha) = mint(ACCESS_PREFIX);
        let (b, hb) = mint(ACCESS_PREFIX);
        assert_ne!(a, b);
        assert!(!ha.ct_eq(&hb));
        assert_eq!(TokenHash::of(&a), ha);
        assert_eq!(a.len(), ACCESS_PREFIX.len() + 43);
    }

    #[test]
    fn successor_roundtrip() {
        let presented = "cm_rt_abc";
        let raw = random_bytes();
        let ct = xor32(&raw, &successor_pad(presented));
        assert_eq!(xor32(&ct, &successor_pad(presented)), raw);
        assert_ne!(xor32(&ct, &successor_pad("cm_rt_other")), raw);
    }
}
