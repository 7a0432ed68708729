//! What a GET without a stream gets: a page for people, JSON for programs.
//!
//! A browser (its `Accept` names `text/html`, see
//! [`crate::mcp::auth::for_people`]) gets the page in every auth mode,
//! before the bearer gate: the name and version, the MCP URL to paste
//! (the origin the browser used), whether sign-in is on, the tools, and how
//! to connect the common clients. Everything else keeps the protocol's
//! answers (401 without a token, 405 in the stateless era, SSE), and with
//! the gate passed a JSON description.
//!
//! The page is written with `maud`, which escapes every interpolated value
//! by construction, and is served under a CSP that allows nothing but its
//! own inline style: no scripts, no images, no forms, no framing.

use std::sync::LazyLock;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::html;
use crate::mcp::catalog::ToolCard;
use crate::mcp::server;
use crate::mcp::state::McpState;
use crate::mcp::version::ProtocolVersion;
use crate::urls::{PublicUrl, is_loopback_host};

/// The JSON description, for programs that GET the endpoint.
pub fn describe(state: &McpState, headers: &HeaderMap) -> Response {
    let endpoint = format!("{}/mcp", state.settings.public_url.for_request(headers));
    Json(json!({
        "name": server::SERVER_NAME,
        "title": server::SERVER_TITLE,
        "version": server::SERVER_VERSION,
        "protocolVersions": ProtocolVersion::all_as_str(),
        "endpoint": endpoint,
        "transport": "streamable-http",
        "signIn": state.oauth.is_some(),
        "howToConnect": "POST JSON-RPC 2.0 messages to the endpoint; add it as a connector URL in ChatGPT, Claude or the MCP Inspector.",
    }))
    .into_response()
}

/// The page for people.
pub fn page(state: &McpState, headers: &HeaderMap) -> Response {
    let sign_in = match (&state.oauth, state.settings.anonymous_discovery) {
        (None, _) => SignIn::Off,
        (Some(_), false) => SignIn::On,
        (Some(_), true) => SignIn::OnAfterDiscovery,
    };
    let base = state.settings.public_url.for_request(headers);
    let view = View::new(&base, sign_in, &state.catalog.tool_cards);
    let mut response = Html(render(&view).into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    html::harden(headers);
    // The URL on the page depends on the Host the browser used.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignIn {
    Off,
    On,
    /// `--anonymous-discovery`: tools are listed before signing in.
    OnAfterDiscovery,
}

struct View<'a> {
    endpoint: String,
    /// The URL is a loopback one: only clients on this machine reach it.
    local: bool,
    sign_in: SignIn,
    tools: &'a [ToolCard],
}

impl<'a> View<'a> {
    fn new(base: &PublicUrl, sign_in: SignIn, tools: &'a [ToolCard]) -> Self {
        Self {
            endpoint: format!("{base}/mcp"),
            local: is_loopback_host(base.host()),
            sign_in,
            tools,
        }
    }
}

fn render(view: &View<'_>) -> Markup {
    let url = view.endpoint.as_str();
    let name = server::SERVER_NAME;
    let version = server::SERVER_VERSION;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (server::SERVER_TITLE) " · " (name) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    header {
                        h1 { (server::SERVER_TITLE) }
                        p.lead {
                            strong { (name) } " " span.version { (version) }
                            " is a Model Context Protocol server: read-only Binance market data \
                             and analysis tools for ChatGPT, Claude and any MCP client."
                        }
                    }
                    section {
                        h2 { "MCP URL" }
                        p { "Paste this into your client:" }
                        p.url { code { (url) } }
                        @match view.sign_in {
                            SignIn::On => p.signin.on {
                                strong { "Sign-in is on." }
                                " Your client opens a sign-in page the first time it connects \
                                 (OAuth 2.1); approve it with your account on this server."
                            },
                            SignIn::OnAfterDiscovery => p.signin.on {
                                strong { "Sign-in is on." }
                                " Clients may list the tools first; calling one opens the sign-in \
                                 page (OAuth 2.1)."
                            },
                            SignIn::Off => p.signin.off {
                                strong { "Sign-in is off." }
                                " Anyone who can reach this address can use the tools."
                            },
                        }
                    }
                    section {
                        h2 { "Connect" }
                        dl {
                            dt { "ChatGPT" }
                            dd {
                                "Settings → Apps → Advanced: turn on Developer mode, then "
                                em { "Create app" } ", paste the URL"
                                @if view.sign_in != SignIn::Off { " and choose OAuth" } "."
                                @if view.local {
                                    " ChatGPT connects from OpenAI's servers, so it needs a public \
                                     https URL: deploy the server, or use a tunnel and set \
                                     PUBLIC_URL to its address."
                                }
                            }
                            dt { "Claude" }
                            dd {
                                "Settings → Connectors → " em { "Add custom connector" }
                                ", paste the URL."
                                @if view.local {
                                    " Like ChatGPT, claude.ai connects from its own servers and \
                                     needs a public https URL."
                                }
                            }
                            dt { "Claude Code" }
                            dd {
                                code { "claude mcp add --transport http " (name) " " (url) }
                                @if view.sign_in != SignIn::Off {
                                    ", then " code { "/mcp" } " in Claude Code to sign in."
                                }
                            }
                            dt { "MCP Inspector" }
                            dd {
                                code { "npx @modelcontextprotocol/inspector" }
                                ", choose Streamable HTTP and paste the URL"
                                @if view.sign_in != SignIn::Off {
                                    "; it runs the sign-in when the server asks"
                                }
                                ". From a terminal: "
                                code {
                                    "npx @modelcontextprotocol/inspector --cli " (url)
                                    " --method tools/list"
                                }
                            }
                        }
                    }
                    section {
                        h2 { "Tools (" (view.tools.len()) ")" }
                        ul.tools {
                            @for tool in view.tools {
                                li {
                                    span.title { (tool.title) }
                                    " " code { (tool.name) }
                                    @if let Some(summary) = tool.summary {
                                        br;
                                        span.summary { (summary) }
                                    }
                                }
                            }
                        }
                    }
                    footer {
                        "Protocol versions " (ProtocolVersion::all_as_str().join(", "))
                        ". Programs that GET this URL get JSON"
                        @if view.sign_in != SignIn::Off { " (with a token)" }
                        "; health checks use " code { "/healthz" } "."
                    }
                }
            }
        }
    }
}

const STYLE: &str = "\
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--fg:#1c1e21;--muted:#5f6368;--code:#eef0f3;--on:#1d6b34;--off:#8a5a00}\
@media (prefers-color-scheme:dark){:root{--bg:#121417;--card:#1d2025;--fg:#e8eaed;--muted:#a0a6ad;--code:#2a2e35;--on:#7fd39a;--off:#f0c36d}}\
*{box-sizing:border-box}\
body{margin:0;font:16px/1.55 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;background:var(--bg);color:var(--fg)}\
main{max-width:44rem;margin:2rem auto;padding:1.5rem 1.75rem;background:var(--card);border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.15)}\
@media (max-width:46rem){main{margin:0;border-radius:0}}\
h1{font-size:1.6rem;margin:0 0 .25rem}\
h2{font-size:1.1rem;margin:1.6rem 0 .5rem}\
.lead{margin:0;color:var(--muted)}\
.version{font-variant-numeric:tabular-nums}\
code{font:.88em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--code);padding:.1rem .3rem;border-radius:4px;overflow-wrap:anywhere}\
.url code{display:block;font-size:1.05rem;padding:.6rem .8rem;user-select:all}\
.signin.on strong{color:var(--on)}\
.signin.off strong{color:var(--off)}\
dt{font-weight:600;margin-top:.6rem}\
dd{margin:0 0 0 1rem}\
.tools{padding-left:1.1rem}\
.tools li{margin:.35rem 0}\
.title{font-weight:600}\
.summary{color:var(--muted);font-size:.95rem}\
footer{margin-top:1.8rem;font-size:.85rem;color:var(--muted)}\
";

/// Nothing but the page's own style: its hash, computed once.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_interpolated_is_escaped() {
        let tools = [ToolCard {
            name: "x",
            title: "<script>alert(1)</script>".to_owned(),
            summary: Some("a & b \"quoted\""),
        }];
        let base: PublicUrl = "http://localhost:8080".parse().expect("valid");
        let page = render(&View::new(&base, SignIn::On, &tools)).into_string();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("a &amp; b &quot;quoted&quot;"));
        assert!(page.contains("http://localhost:8080/mcp"));
    }

    #[test]
    fn the_policy_allows_the_style_and_nothing_else() {
        let csp = CSP.to_str().expect("ascii");
        assert!(
            csp.starts_with("default-src 'none'; style-src 'sha256-"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("script-src"), "{csp}");
    }
}
