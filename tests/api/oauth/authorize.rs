//! `/authorize`: validation order, the page, login and consent.
use super::helpers::*;
use reqwest::StatusCode;

fn set(params: &mut Vec<(String, String)>, k: &str, v: Option<&str>) {
    params.retain(|(pk, _)| pk != k);
    if let Some(v) = v {
        params.push((k.into(), v.into()));
    }
}

#[tokio::test]
async fn page_has_security_headers_and_form_contract() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let h = &page.headers;
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:3000"),
        "{csp}"
    );
    assert!(!page.body.contains("<script"));
    let b = &page.body;
    assert!(b.contains("name=\"username\""));
    assert!(b.contains("name=\"password\""));
    assert!(b.contains("name=\"decision\" value=\"approve\""));
    assert!(b.contains("name=\"decision\" value=\"deny\""));
    assert!(b.contains("Test App"));
    assert!(b.contains("unverified"));
    assert!(b.contains("127.0.0.1:3000"));
    assert!(b.contains("mcp:tools"));
    assert!(b.contains("name=\"viewport\""));
    assert!(page.field("csrf_token").is_some());
    let cookie = page.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[tokio::test]
async fn approve_redirects_with_code_state_and_iss() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let q = s.obtain_code(&client_id, &pkce()).await;
    assert!(q["code"].starts_with("cm_code_"));
    assert_eq!(q["state"], "st-123");
    assert_eq!(q["iss"], s.base);
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    let r = s.post_form(&page, &[("decision", "deny")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st-123");
    assert_eq!(q["iss"], s.base);
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn unknown_client_or_redirect_is_a_local_error_never_a_redirect() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let p = pkce();
    let mut params = s.authorize_params("00000000-0000-0000-0000-000000000000", &p);
    let page = s.get_authorize(&params).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!page.headers.contains_key("location"));

    params = s.authorize_params(&client_id, &p);
    for bad in [
        "http://127.0.0.1:3000/callback/../evil",
        "http://127.0.0.1:3000/callbackx",
        "http://127.0.0.1:3000@evil.example/callback",
        "http://127.0.0.1:3000.evil.example/callback",
        "https://evil.example/callback",
        "http://localhost:3000/callback",
    ] {
        set(&mut params, "redirect_uri", Some(bad));
        let page = s.get_authorize(&params).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(!page.headers.contains_key("location"), "{bad}");
        assert!(page.headers["x-frame-options"] == "DENY");
    }
    set(&mut params, "client_id", None);
    assert_eq!(
        s.get_authorize(&params).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn loopback_port_may_vary() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let mut params = s.authorize_params(&client_id, &pkce());
    set(
        &mut params,
        "redirect_uri",
        Some("http://127.0.0.1:49152/callback"),
    );
    let page = s.get_authorize(&params).await;
    assert_eq!(page.status, StatusCode::OK);
    let r = s.approve(&page).await;
    let loc = r.headers()["location"].to_str().unwrap();
    assert!(
        loc.starts_with("http://127.0.0.1:49152/callback?code="),
        "{loc}"
    );
}

#[tokio::test]
async fn missing_redirect_uri_uses_the_single_registered_one() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let mut params = s.authorize_params(&client_id, &pkce());
    set(&mut params, "redirect_uri", None);
    assert_eq!(s.get_authorize(&params).await.status, StatusCode::OK);
}

async fn expect_error_redirect(s: &TestApp, params: &[(String, String)], error: &str) {
    let page = s.get_authorize(params).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let q = query_of(page.headers["location"].to_str().unwrap());
    assert_eq!(q["error"], error);
    assert_eq!(q["iss"], s.base);
    assert_eq!(q["state"], "st-123");
}

#[tokio::test]
async fn request_errors_after_redirect_validation_go_back_to_the_client() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let base = s.authorize_params(&client_id, &pkce());

    let mut p = base.clone();
    set(&mut p, "response_type", Some("token"));
    expect_error_redirect(&s, &p, "unsupported_response_type").await;

    let mut p = base.clone();
    set(&mut p, "code_challenge", None);
    expect_error_redirect(&s, &p, "invalid_request").await;

    let mut p = base.clone();
    set(&mut p, "code_challenge_method", Some("plain"));
    expect_error_redirect(&s, &p, "invalid_request").await;

    let mut p = base.clone();
    set(&mut p, "code_challenge_method", None);
    expect_error_redirect(&s, &p, "invalid_request").await;

    let mut p = base.clone();
    set(&mut p, "code_challenge", Some("too-short"));
    expect_error_redirect(&s, &p, "invalid_request").await;

    let mut p = base.clone();
    set(&mut p, "scope", Some("admin"));
    expect_error_redirect(&s, &p, "invalid_scope").await;

    let mut p = base.clone();
    set(&mut p, "resource", Some("https://other.example/mcp"));
    expect_error_redirect(&s, &p, "invalid_target").await;

    let mut p = base.clone();
    let other = format!("{}/mcp-other", s.base);
    set(&mut p, "resource", Some(&other));
    expect_error_redirect(&s, &p, "invalid_target").await;
}

#[tokio::test]
async fn missing_scope_and_resource_get_defaults() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let p = pkce();
    let mut params = s.authorize_params(&client_id, &p);
    set(&mut params, "scope", None);
    set(&mut params, "resource", None);
    let page = s.get_authorize(&params).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("mcp:tools"));
    let r = s.approve(&page).await;
    let q = query_of(r.headers()["location"].to_str().unwrap());
    let r = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &p.verifier),
            ("client_id", &client_id),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["scope"], "mcp:tools");
    // Default resource is PUBLIC_URL/mcp.
    let at = v["access_token"].as_str().unwrap();
    assert_eq!(s.mcp("/mcp", Some(at)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_password_rerenders_without_redirect() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    let r = s
        .post_form(
            &page,
            &[
                ("username", USER),
                ("password", "wrong"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!r.headers().contains_key("location"));
    let body = r.text().await.unwrap();
    assert!(body.contains("Invalid user name or password"));
    // Same page still works with the right password.
    let r = s.approve(&page).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn unknown_user_is_refused_the_same_way() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    let r = s
        .post_form(
            &page,
            &[
                ("username", "mallory"),
                ("password", PASSWORD),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Invalid user name or password")
    );
}

#[tokio::test]
async fn a_page_can_be_answered_once() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    assert_eq!(s.approve(&page).await.status(), StatusCode::SEE_OTHER);
    let again = s.approve(&page).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(!again.headers().contains_key("location"));
}

#[tokio::test]
async fn pages_expire() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    s.clock.advance(std::time::Duration::from_secs(601));
    let r = s.approve(&page).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn consent_is_remembered_and_default_scope_follows_it() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let _ = s.obtain_code(&client_id, &pkce()).await;
    // Reconnect without scope (ChatGPT does this): previous grant's scopes.
    let mut params = s.authorize_params(&client_id, &pkce());
    set(&mut params, "scope", None);
    let page = s.get_authorize(&params).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(s.approve(&page).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn signup_when_enabled() {
    let mut args = default_args();
    args.allow_signup = true;
    let s = spawn_app_with(Options::with_oauth(args)).await;
    let client_id = s.register_public().await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    assert!(page.body.contains("name=\"create_account\""));
    let r = s
        .post_form(
            &page,
            &[
                ("username", "bob"),
                ("password", "short"),
                ("decision", "approve"),
                ("create_account", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = s
        .post_form(
            &page,
            &[
                ("username", "bob"),
                ("password", "a-long-enough-pass"),
                ("decision", "approve"),
                ("create_account", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The new account signs in normally afterwards; the name is now taken.
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    let r = s
        .post_form(
            &page,
            &[
                ("username", "bob"),
                ("password", "a-long-enough-pass"),
                ("decision", "approve"),
                ("create_account", "1"),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains("taken"));
    let r = s
        .post_form(
            &page,
            &[
                ("username", "bob"),
                ("password", "a-long-enough-pass"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn signup_is_off_by_default() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    assert!(!page.body.contains("create_account"));
    let r = s
        .post_form(
            &page,
            &[
                ("username", "eve"),
                ("password", "a-long-enough-pass"),
                ("decision", "approve"),
                ("create_account", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
