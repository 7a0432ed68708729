//! Escaping text for HTML (the sign-in and consent pages; the page for
//! people is a `maud` template, which escapes by construction), and the
//! headers every page we serve carries.

use axum::http::{HeaderMap, HeaderValue, header};

/// What every page of ours sends besides its own CSP: it is never framed,
/// never sniffed as another type, and sends no referrer onwards.
pub fn harden(headers: &mut HeaderMap) {
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// Escapes text for HTML element content and quoted attribute values.
/// Control characters become U+FFFD: none belongs in a page, and a stray
/// one can confuse what reads it.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_quotes_and_controls_are_neutralised() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(escape("a\u{0}b\nc"), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(escape("café"), "café");
    }
}
