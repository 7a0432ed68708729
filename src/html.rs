//! Escaping text for HTML: the one escaper behind every page we write (the
//! endpoint's description, the sign-in and consent pages).

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
