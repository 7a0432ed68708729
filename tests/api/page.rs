//! The page people see when they open the MCP URL in a browser, in every
//! auth mode, while programs keep the protocol's answers.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Options, STATELESS, TestApp, spawn_app_with};

/// What Chromium sends when someone opens a URL.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

const TOOLS: [(&str, &str); 12] = [
    ("calculate", "Calculator"),
    ("binance_klines", "Binance candles (klines)"),
    ("binance_ticker", "Binance 24h ticker"),
    ("binance_order_book", "Binance order book"),
    ("binance_trades", "Binance recent trades"),
    ("binance_symbols", "Binance symbols and trading rules"),
    ("binance_futures", "Binance perpetual futures context"),
    ("binance_positioning", "Binance perpetual positioning"),
    ("technical_analysis", "Technical analysis"),
    ("binance_chart", "Binance candlestick chart"),
    ("search", "Search Binance markets"),
    ("fetch", "Fetch a Binance market snapshot"),
];

async fn open(app: &TestApp, path: &str, host: Option<&str>) -> (StatusCode, String, String) {
    let mut request = app.http.get(app.url(path)).header("accept", BROWSER_ACCEPT);
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let response = request.send().await.expect("sent");
    let status = response.status();
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    (status, csp, response.text().await.expect("body"))
}

#[tokio::test]
async fn a_browser_gets_the_page_with_sign_in_on() {
    let app = spawn_app_with(Options::oauth().without_public_url()).await;
    let port = app.addr.port();
    for path in ["/", "/mcp"] {
        let (status, csp, page) = open(&app, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            csp.starts_with("default-src 'none'; style-src 'sha256-")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("script"),
            "{csp}"
        );
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        for expected in [
            "crypto-mcp",
            env!("CARGO_PKG_VERSION"),
            &format!("<code>http://127.0.0.1:{port}/mcp</code>"),
            "Sign-in is on.",
            "ChatGPT",
            "Claude Code",
            &format!("claude mcp add --transport http crypto-mcp http://127.0.0.1:{port}/mcp"),
            "MCP Inspector",
            "Tools (12)",
        ] {
            assert!(page.contains(expected), "{path}: {expected} in {page}");
        }
        for (name, title) in TOOLS {
            assert!(
                page.contains(&format!(
                    "<span class=\"title\">{title}</span> <code>{name}</code>"
                )),
                "{name}"
            );
        }
        assert!(!page.contains("<script"), "{page}");
    }
    // The URL to paste is the one the browser used.
    let (_, _, page) = open(&app, "/mcp", Some(&format!("localhost:{port}"))).await;
    assert!(page.contains(&format!("<code>http://localhost:{port}/mcp</code>")));
}

#[tokio::test]
async fn the_page_says_when_sign_in_is_off_or_comes_after_discovery() {
    let open_app = spawn_app_with(Options::new()).await;
    let (status, _, page) = open(&open_app, "/mcp", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Sign-in is off."), "{page}");
    let discovery = spawn_app_with(Options::oauth().flags(&["--anonymous-discovery"])).await;
    let (status, _, page) = open(&discovery, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Clients may list the tools first"), "{page}");
}

#[tokio::test]
async fn programs_keep_the_protocol_answers() {
    let app = spawn_app_with(Options::oauth()).await;
    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("text/event-stream"),
        // A browser-like Accept that also asks for a stream is a client.
        Some("text/html, text/event-stream"),
    ] {
        let mut request = app.http.get(app.url("/mcp"));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.expect("sent");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{accept:?}");
        assert!(response.headers().contains_key("www-authenticate"));
    }
    // A POST that accepts HTML is still a JSON-RPC request.
    let response = app
        .http
        .post(app.url("/mcp"))
        .header("accept", BROWSER_ACCEPT)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let open = spawn_app_with(Options::new()).await;
    let stateless = open
        .http
        .get(open.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", STATELESS)
        .send()
        .await
        .expect("sent");
    assert_eq!(stateless.status(), StatusCode::METHOD_NOT_ALLOWED);
    let info: Value = open
        .http
        .get(open.url("/mcp"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("a program without an Accept gets JSON");
    assert_eq!(info["name"], "crypto-mcp");
    assert_eq!(info["signIn"], false);
}
