//! HTML for the sign-in / consent page and the local error page.
//!
//! Everything interpolated goes through [`escape`]. Pages work without
//! JavaScript (there is none: the CSP forbids scripts), are readable on a
//! phone, and cannot be framed (`frame-ancestors 'none'`, `X-Frame-Options`).
//! The CSP's `form-action` names our origin and the client's redirect origin,
//! because browsers apply it to the redirect that follows the form POST.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::html::escape;

pub fn scope_description(scope: &str) -> &'static str {
    match scope {
        super::SCOPE_TOOLS => "Use the read-only crypto market-data tools",
        _ => "Unknown permission",
    }
}

pub struct ConsentPage<'a> {
    pub client_name: Option<&'a str>,
    pub verified_host: Option<&'a str>,
    pub client_id: &'a str,
    pub redirect_host: &'a str,
    pub redirect_is_loopback: bool,
    pub scopes: &'a [String],
    pub request_id: &'a str,
    pub csrf_token: &'a str,
    pub error: Option<&'a str>,
    pub username: &'a str,
    /// A valid sign-in session: the password fields become optional.
    pub signed_in_as: Option<&'a str>,
    pub allow_signup: bool,
    pub nonce: &'a str,
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1c1e21}
main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
@media (max-width:30rem){main{margin:0;border-radius:0;min-height:100vh}}
h1{font-size:1.35rem;margin:0 0 1rem}
.client{margin:0 0 1rem}
.badge{display:inline-block;font-size:.75rem;padding:.05rem .45rem;border-radius:999px;background:#fff4d6;color:#7a5200;border:1px solid #f0d58c;vertical-align:middle}
.badge.ok{background:#e3f6e8;color:#1d6b34;border-color:#9bd5ab}
dl{margin:0 0 1rem;padding:.75rem 1rem;background:#f7f8fa;border-radius:8px}
dt{font-size:.8rem;color:#5f6368;text-transform:uppercase;letter-spacing:.03em}
dd{margin:0 0 .5rem;overflow-wrap:anywhere}
dd:last-child{margin-bottom:0}
ul{margin:0;padding-left:1.1rem}
.error{padding:.6rem .8rem;border-radius:8px;background:#fdecea;color:#8a1c12;margin:0 0 1rem}
.warn{font-size:.85rem;color:#7a5200}
label{display:block;margin:0 0 .8rem;font-weight:600;font-size:.9rem}
input[type=text],input[type=password]{display:block;width:100%;margin-top:.3rem;padding:.65rem .75rem;font-size:1rem;border:1px solid #c8ccd2;border-radius:8px}
.check{font-weight:400}
.buttons{display:flex;flex-direction:row-reverse;gap:.75rem;margin-top:1rem}
button{flex:1;padding:.75rem;font-size:1rem;border-radius:8px;border:1px solid #c8ccd2;background:#fff;cursor:pointer}
button.primary{background:#1a73e8;border-color:#1a73e8;color:#fff;font-weight:600}
.note{font-size:.8rem;color:#5f6368;margin:1rem 0 0}
code{font-size:.8rem}
"#;

fn shell(title: &str, nonce: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{}</title><style nonce=\"{}\">{STYLE}</style></head><body><main>{body}</main></body></html>\n",
        escape(title),
        escape(nonce)
    )
}

pub fn consent(p: &ConsentPage<'_>) -> String {
    let mut b = String::with_capacity(4096);
    b.push_str("<h1>Sign in to crypto-mcp</h1>");
    let name = p.client_name.unwrap_or("An unnamed app");
    b.push_str("<p class=\"client\"><strong>");
    b.push_str(&escape(name));
    b.push_str("</strong> ");
    match p.verified_host {
        Some(h) => {
            b.push_str("<span class=\"badge ok\">verified: ");
            b.push_str(&escape(h));
            b.push_str("</span>");
        }
        None => b.push_str(
            "<span class=\"badge\" title=\"The app chose this name itself\">unverified</span>",
        ),
    }
    b.push_str(
        " wants to access your crypto-mcp account.</p><dl><dt>After approval you go to</dt><dd>",
    );
    b.push_str(&escape(p.redirect_host));
    if p.redirect_is_loopback {
        b.push_str(" <span class=\"warn\">(an app on this device)</span>");
    }
    b.push_str("</dd><dt>It will be able to</dt><dd><ul>");
    for s in p.scopes {
        b.push_str("<li>");
        b.push_str(&escape(scope_description(s)));
        b.push_str(" <code>");
        b.push_str(&escape(s));
        b.push_str("</code></li>");
    }
    b.push_str("</ul></dd><dt>Client ID</dt><dd><code>");
    b.push_str(&escape(p.client_id));
    b.push_str("</code></dd></dl>");
    if let Some(e) = p.error {
        b.push_str("<p class=\"error\" role=\"alert\">");
        b.push_str(&escape(e));
        b.push_str("</p>");
    }
    b.push_str("<form method=\"post\" action=\"/authorize\">");
    b.push_str("<input type=\"hidden\" name=\"request_id\" value=\"");
    b.push_str(&escape(p.request_id));
    b.push_str("\"><input type=\"hidden\" name=\"csrf_token\" value=\"");
    b.push_str(&escape(p.csrf_token));
    b.push_str("\">");
    let required = match p.signed_in_as {
        Some(user) => {
            b.push_str("<p class=\"client\">You are signed in as <strong>");
            b.push_str(&escape(user));
            b.push_str("</strong>. Approve to continue, or sign in as someone else below.</p>");
            ""
        }
        None => " required",
    };
    b.push_str("<label>Username<input type=\"text\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\"");
    b.push_str(required);
    b.push_str(" value=\"");
    b.push_str(&escape(p.username));
    b.push_str("\"></label><label>Password<input type=\"password\" name=\"password\" autocomplete=\"current-password\"");
    b.push_str(required);
    b.push_str("></label>");
    if p.allow_signup {
        b.push_str("<label class=\"check\"><input type=\"checkbox\" name=\"create_account\" value=\"1\"> Create this account (new users; at least 12 characters)</label>");
    }
    // Approve comes first in the DOM so that pressing Enter approves; CSS
    // shows Deny on the left.
    b.push_str("<div class=\"buttons\"><button type=\"submit\" name=\"decision\" value=\"approve\" class=\"primary\">Approve</button>\
                <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button></div></form>");
    b.push_str("<p class=\"note\">Approve only if you started this connection yourself. \
                An unverified name was chosen by whoever registered the app; check where you will be sent.</p>");
    shell("Sign in – crypto-mcp", p.nonce, &b)
}

pub fn error_page(title: &str, message: &str, nonce: &str) -> String {
    let body = format!(
        "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p>\
         <p class=\"note\">Return to the app you came from and try connecting again.</p>",
        escape(title),
        escape(message)
    );
    shell(title, nonce, &body)
}

/// An HTML response with the page's security headers.
pub fn html(status: StatusCode, body: String, nonce: &str, form_target: Option<&str>) -> Response {
    let mut csp = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    );
    if let Some(t) = form_target {
        csp.push(' ');
        csp.push_str(t);
    }
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    crate::html::harden(h);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_dangerous() {
        assert_eq!(
            escape("<script>\"'&x</script>"),
            "&lt;script&gt;&quot;&#39;&amp;x&lt;/script&gt;"
        );
    }
}
