//! The request headers the transport reads.

use axum::http::{HeaderMap, header};
use base64::Engine;

use crate::mcp::version::ProtocolVersion;

pub const SESSION_HEADER: &str = "mcp-session-id";
pub const VERSION_HEADER: &str = "mcp-protocol-version";
pub const METHOD_HEADER: &str = "mcp-method";
pub const NAME_HEADER: &str = "mcp-name";

/// Which response types the client's `Accept` header allows.
#[derive(Debug, Clone, Copy)]
pub struct Accepts {
    pub json: bool,
    pub sse: bool,
}

impl Accepts {
    pub fn from(headers: &HeaderMap) -> Self {
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Self {
                json: true,
                sse: false,
            };
        };
        let has = |wanted: &str| {
            accept.split(',').any(|part| {
                let media = part.split(';').next().unwrap_or_default().trim();
                media.eq_ignore_ascii_case(wanted)
                    || media == "*/*"
                    || (wanted.starts_with("application/")
                        && media.eq_ignore_ascii_case("application/*"))
                    || (wanted.starts_with("text/") && media.eq_ignore_ascii_case("text/*"))
            })
        };
        Self {
            json: has("application/json"),
            sse: has("text/event-stream"),
        }
    }
}

pub fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap_or("\u{fffd}").trim())
}

/// Header values that are not plain ASCII arrive as `=?base64?…?=`.
pub fn decode_header_value(raw: &str) -> Option<String> {
    match raw
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        None => Some(raw.to_owned()),
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok()),
    }
}

pub fn stateless_header(headers: &HeaderMap) -> bool {
    header_str(headers, VERSION_HEADER)
        .and_then(ProtocolVersion::parse)
        .is_some_and(ProtocolVersion::is_stateless)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn accept_parsing() {
        let mut headers = HeaderMap::new();
        let a = Accepts::from(&headers);
        assert!(a.json && !a.sse, "no Accept means JSON");
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        let a = Accepts::from(&headers);
        assert!(a.json && a.sse);
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        let a = Accepts::from(&headers);
        assert!(!a.json && !a.sse);
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        let a = Accepts::from(&headers);
        assert!(a.json && a.sse);
    }

    #[test]
    fn base64_header_values() {
        assert_eq!(decode_header_value("plain").as_deref(), Some("plain"));
        assert_eq!(decode_header_value("=?base64?w6k=?=").as_deref(), Some("é"));
        assert_eq!(decode_header_value("=?base64?!!?="), None);
    }
}
