//! The era a request is served in, and the one place a result takes the
//! stateless era's `resultType` and cache hints.
//!
//! Handshake-era requests (2025-03-26 … 2025-11-25) may belong to a session;
//! stateless-era requests (2026-07-28) declare their client's capabilities
//! themselves. How a request is placed in its era is the transport's job
//! (`transport::prepare`).

use serde_json::{Map, Value};

use super::session::SessionView;
use super::version::ProtocolVersion;

/// Who may cache a result that carries a TTL: anyone, since every result
/// we cache-hint is the same for every caller.
const CACHE_SCOPE: &str = "public";

/// Which era a request belongs to, known before (and without) what that
/// era tells us; it decides the methods served and how errors look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EraKind {
    Handshake,
    Stateless,
}

/// The era a request is served in, with what that era tells us.
#[derive(Debug, Clone)]
pub enum Era {
    Handshake {
        version: ProtocolVersion,
        session: Option<SessionView>,
    },
    Stateless {
        client_capabilities: Map<String, Value>,
    },
}

impl Era {
    pub fn kind(&self) -> EraKind {
        match self {
            Self::Handshake { .. } => EraKind::Handshake,
            Self::Stateless { .. } => EraKind::Stateless,
        }
    }

    /// A result as this era sends it: unchanged in the handshake era,
    /// marked complete (and cache-hinted when `ttl_ms` is given) in the
    /// stateless era.
    pub fn finish(&self, result: String, ttl_ms: Option<u64>) -> String {
        match self {
            Self::Handshake { .. } => result,
            Self::Stateless { .. } => mark_complete(result, ttl_ms),
        }
    }
}

/// Adds `"resultType":"complete"` (and `ttlMs`, `cacheScope`) to a
/// serialised result object by splicing, not by parsing and printing it
/// again: results can be tens of kB, and that round trip cost more than
/// the tool itself.
pub fn mark_complete(result: String, ttl_ms: Option<u64>) -> String {
    let Some(rest) = result.strip_prefix('{') else {
        return result;
    };
    let mut fields = String::from(r#""resultType":"complete""#);
    if let Some(ttl) = ttl_ms {
        fields.push_str(&format!(r#","ttlMs":{ttl},"cacheScope":"{CACHE_SCOPE}""#));
    }
    let mut out = String::with_capacity(result.len() + fields.len() + 2);
    out.push('{');
    out.push_str(&fields);
    if !rest.trim_start().starts_with('}') {
        out.push(',');
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn results_are_marked_by_splicing() {
        let spliced = mark_complete(r#"{"content":[],"isError":false}"#.to_owned(), None);
        let value: Value = serde_json::from_str(&spliced).expect("still JSON");
        assert_eq!(
            value,
            json!({ "resultType": "complete", "content": [], "isError": false })
        );
        assert_eq!(
            mark_complete("{}".to_owned(), None),
            r#"{"resultType":"complete"}"#
        );
        let cached: Value =
            serde_json::from_str(&mark_complete(r#"{"tools":[]}"#.to_owned(), Some(5)))
                .expect("JSON");
        assert_eq!(
            cached,
            json!({ "resultType": "complete", "ttlMs": 5, "cacheScope": "public", "tools": [] })
        );
    }

    #[test]
    fn only_the_stateless_era_marks_results() {
        let handshake = Era::Handshake {
            version: ProtocolVersion::V2025_11_25,
            session: None,
        };
        assert_eq!(handshake.finish("{}".to_owned(), Some(1)), "{}");
        let stateless = Era::Stateless {
            client_capabilities: Map::new(),
        };
        assert!(
            stateless
                .finish("{}".to_owned(), None)
                .contains("resultType")
        );
    }
}
