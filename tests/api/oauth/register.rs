//! RFC 7591 dynamic client registration.
use super::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn public_client_registration_shape() {
    let s = spawn_app_with(Options::oauth()).await;
    let r = s
        .register(json!({"client_name": "ChatGPT", "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"], "token_endpoint_auth_method": "none", "application_type": "web"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v: Value = r.json().await.unwrap();
    assert!(v["client_id"].as_str().unwrap().len() >= 32);
    assert!(v["client_id_issued_at"].is_u64());
    assert_eq!(v["token_endpoint_auth_method"], "none");
    assert_eq!(
        v["redirect_uris"],
        json!(["https://chatgpt.com/connector_platform_oauth_redirect"])
    );
    assert_eq!(
        v["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(v["response_types"], json!(["code"]));
    assert_eq!(v["client_name"], "ChatGPT");
    assert!(v.get("client_secret").is_none());
}

#[tokio::test]
async fn default_auth_method_is_none() {
    let s = spawn_app_with(Options::oauth()).await;
    let r = s.register(json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_endpoint_auth_method"], "none");
}

#[tokio::test]
async fn confidential_clients_get_a_secret() {
    let s = spawn_app_with(Options::oauth()).await;
    for m in ["client_secret_basic", "client_secret_post"] {
        let r = s
            .register(json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": m}))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["token_endpoint_auth_method"], m);
        assert!(v["client_secret"].as_str().unwrap().starts_with("cm_cs_"));
        assert_eq!(v["client_secret_expires_at"], 0);
    }
}

#[tokio::test]
async fn bad_redirect_uris_are_refused() {
    let s = spawn_app_with(Options::oauth()).await;
    for uris in [
        json!([]),
        json!(["http://evil.example/cb"]),
        json!(["javascript:alert(1)"]),
        json!(["https://user:pw@evil.example/cb"]),
        json!(["https://ok.example/cb#frag"]),
        json!(["data:text/html,<script>alert(1)</script>"]),
        json!(["https://ok.example/c\tb"]),
        json!(["myapp://cb"]),
    ] {
        let r = s.register(json!({"redirect_uris": uris})).await;
        let (st, err, h) = error_of(r).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uris}");
        assert_eq!(err, "invalid_redirect_uri", "{uris}");
        assert_eq!(h["cache-control"], "no-store");
    }
    let r = s.register(json!({"client_name": "x"})).await;
    assert_eq!(error_of(r).await.1, "invalid_redirect_uri");
}

#[tokio::test]
async fn bad_metadata_is_refused() {
    let s = spawn_app_with(Options::oauth()).await;
    for body in [
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"}),
        json!({"redirect_uris": [REDIRECT], "grant_types": ["client_credentials"]}),
        json!({"redirect_uris": [REDIRECT], "grant_types": ["implicit", "authorization_code"]}),
        json!({"redirect_uris": [REDIRECT], "response_types": ["token"]}),
        json!({"redirect_uris": [REDIRECT], "client_name": "a".repeat(101)}),
        json!({"redirect_uris": [REDIRECT], "client_name": "bad\u{0007}"}),
        json!({"redirect_uris": [REDIRECT], "scope": "admin"}),
        json!({"redirect_uris": [REDIRECT], "logo_uri": "javascript:alert(1)"}),
        json!({"redirect_uris": REDIRECT}),
        json!({"redirect_uris": [REDIRECT], "jwks_uri": "https://x.example/jwks"}),
    ] {
        let r = s.register(body.clone()).await;
        let (st, err, _) = error_of(r).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(err, "invalid_client_metadata", "{body}");
    }
    let r = s
        .http
        .post(s.url("/register"))
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.1, "invalid_client_metadata");
}

#[tokio::test]
async fn oversized_registrations_are_refused() {
    let s = spawn_app_with(Options::oauth()).await;
    let many: Vec<String> = (0..11).map(|i| format!("https://a.example/{i}")).collect();
    let r = s.register(json!({ "redirect_uris": many })).await;
    assert_eq!(error_of(r).await.1, "invalid_redirect_uri");
    let long = format!("https://a.example/{}", "x".repeat(1100));
    let r = s.register(json!({ "redirect_uris": [long] })).await;
    assert_eq!(error_of(r).await.1, "invalid_redirect_uri");
    // Body over the 16 KiB limit: refused before parsing.
    let huge =
        json!({"redirect_uris": [REDIRECT], "client_name": "x", "contacts": ["a".repeat(20_000)]});
    let r = s.register(huge).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn registration_is_rate_limited_per_ip() {
    let s = spawn_app_with(Options::oauth()).await;
    let mut last = StatusCode::CREATED;
    for _ in 0..31 {
        last = s
            .register(json!({"redirect_uris": [REDIRECT]}))
            .await
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let r = s.register(json!({"redirect_uris": [REDIRECT]})).await;
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(error_of(r).await.1, "temporarily_unavailable");
    // The window passes.
    s.clock.advance(std::time::Duration::from_secs(601));
    assert_eq!(
        s.register(json!({"redirect_uris": [REDIRECT]}))
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn unused_clients_expire() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    s.clock
        .advance(std::time::Duration::from_secs(24 * 3600 + 1));
    s.oauth().sweep_now().await;
    let p = pkce();
    let page = s.get_authorize(&s.authorize_params(&client_id, &p)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("not registered"));
}
