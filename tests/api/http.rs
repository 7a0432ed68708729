//! HTTP-level rules: body limit, media types, Origin/Host, CORS, health,
//! request ids.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Options, initialize_body, spawn_app, spawn_app_with};

#[tokio::test]
async fn bodies_over_one_mebibyte_get_413() {
    let app = spawn_app().await;
    let padding = "x".repeat(1024 * 1024);
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping", "params": { "pad": padding } });
    let reply = app.post(&body, &[]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["error"]["code"], -32600);
}

#[tokio::test]
async fn media_types_are_checked() {
    let app = spawn_app().await;
    let wrong_type = app
        .http
        .post(app.url("/mcp"))
        .header("content-type", "text/plain")
        .body(initialize_body("2025-11-25").to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let wrong_accept = app
        .post_raw(
            "/mcp",
            initialize_body("2025-11-25").to_string(),
            &[("accept", "text/html")],
        )
        .await;
    assert_eq!(wrong_accept.status, StatusCode::NOT_ACCEPTABLE);
    // curl-style requests with no Accept header are served as JSON.
    let bare = app
        .http
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .body(initialize_body("2025-11-25").to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(bare.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_foreign_origin_gets_403_and_known_ones_get_cors() {
    let app = spawn_app().await;
    let evil = app
        .post(
            &initialize_body("2025-11-25"),
            &[("origin", "https://evil.example.com")],
        )
        .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    let body = evil.json();
    assert_eq!(body["error"]["code"], -32600);
    assert_eq!(body["id"], Value::Null);

    for origin in [
        "https://chatgpt.com",
        "https://claude.ai",
        "http://localhost:6274",
    ] {
        let reply = app
            .post(&initialize_body("2025-11-25"), &[("origin", origin)])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{origin}");
        assert_eq!(reply.header("access-control-allow-origin"), Some(origin));
        let exposed = reply
            .header("access-control-expose-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            exposed.contains("mcp-session-id") && exposed.contains("www-authenticate"),
            "{exposed}"
        );
    }

    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/mcp"))
        .header("origin", "https://chatgpt.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,mcp-session-id,mcp-protocol-version,authorization",
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(preflight.status(), StatusCode::OK);
    let allowed = preflight
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("mcp-session-id") && allowed.contains("authorization"),
        "{allowed}"
    );
}

#[tokio::test]
async fn the_origin_list_is_configurable() {
    let app =
        spawn_app_with(Options::new().flags(&["--allowed-origins", "https://app.example.org"]))
            .await;
    let ok = app
        .post(
            &initialize_body("2025-11-25"),
            &[("origin", "https://app.example.org")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let replaced = app
        .post(
            &initialize_body("2025-11-25"),
            &[("origin", "https://chatgpt.com")],
        )
        .await;
    assert_eq!(replaced.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_foreign_host_gets_403() {
    let app = spawn_app().await;
    let rebinding = app
        .post(
            &initialize_body("2025-11-25"),
            &[("host", "evil.example.com")],
        )
        .await;
    assert_eq!(rebinding.status, StatusCode::FORBIDDEN);
    let public =
        spawn_app_with(Options::new().flags(&["--public-url", "https://mcp.example.com"])).await;
    let ok = public
        .post(
            &initialize_body("2025-11-25"),
            &[("host", "mcp.example.com")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let proxied = spawn_app_with(Options::new().flags(&["--allowed-hosts", "internal.svc"])).await;
    let ok = proxied
        .post(
            &initialize_body("2025-11-25"),
            &[("host", "internal.svc:8080")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn health_and_request_ids() {
    let app = spawn_app().await;
    let health = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), StatusCode::OK);
    let request_id = health
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("request id");
    assert_eq!(request_id.len(), 36);
    let body: Value = health.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["name"], "crypto-mcp");
    // A caller's own request id is kept.
    let mine = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        mine.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-me")
    );
}
