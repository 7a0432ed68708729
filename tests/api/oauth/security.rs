//! Attacks that must all be refused without leaking anything.
use super::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

const XSS: &str = "\"><script>alert(1)</script><img src=x onerror=alert(1)>";

#[tokio::test]
async fn xss_payloads_are_escaped_everywhere() {
    let s = spawn_app_with(Options::oauth()).await;
    let r = s
        .register(json!({"client_name": XSS, "redirect_uris": [REDIRECT]}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = r.json().await.unwrap();
    let client_id = v["client_id"].as_str().unwrap().to_owned();
    let mut params = s.authorize_params(&client_id, &pkce());
    params.retain(|(k, _)| k != "state");
    params.push(("state".into(), XSS.into()));
    let page = s.get_authorize(&params).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script"), "{}", page.body);
    assert!(!page.body.contains("<img"));
    assert!(page.body.contains("&lt;script&gt;"));
    // The user name is echoed back after a failed login: escaped.
    let r = s
        .post_form(
            &page,
            &[
                ("username", XSS),
                ("password", "x"),
                ("decision", "approve"),
            ],
        )
        .await;
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("<script") && !body.contains("<img"),
        "{body}"
    );
    // The state goes back to the client URL-encoded, and only there.
    let r = s.approve(&page).await;
    let loc = r.headers()["location"].to_str().unwrap();
    assert!(!loc.contains('<') && !loc.contains('"'), "{loc}");
    assert_eq!(query_of(loc)["state"], XSS);
    // Payloads in other parameters never reach a page.
    for (k, v) in [
        ("client_id", XSS),
        ("redirect_uri", XSS),
        ("scope", XSS),
        ("resource", XSS),
        ("code_challenge", XSS),
        ("response_type", XSS),
    ] {
        let mut p = s.authorize_params(&client_id, &pkce());
        p.retain(|(pk, _)| pk != k);
        p.push((k.into(), v.into()));
        let page = s.get_authorize(&p).await;
        assert!(
            !page.body.contains("<script") && !page.body.contains("<img"),
            "{k}"
        );
        if let Some(loc) = page.headers.get("location") {
            let loc = loc.to_str().unwrap();
            assert!(loc.starts_with(REDIRECT), "{k}: {loc}");
            assert!(!loc.contains('<'), "{k}");
        }
    }
}

#[tokio::test]
async fn csrf_less_or_cross_browser_posts_are_refused() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    let creds = [
        ("username", USER),
        ("password", PASSWORD),
        ("decision", "approve"),
    ];
    // No CSRF token.
    let r = s
        .post_form(&page, &[creds[0], creds[1], creds[2], ("csrf_token", "")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!r.headers().contains_key("location"));
    // Wrong CSRF token.
    let r = s
        .post_form(
            &page,
            &[creds[0], creds[1], creds[2], ("csrf_token", "forged")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Right token but another browser (no cookie): a forged auto-submit.
    let form = [
        ("request_id", page.field("request_id").unwrap()),
        ("csrf_token", page.field("csrf_token").unwrap()),
        ("username", USER.into()),
        ("password", PASSWORD.into()),
        ("decision", "approve".into()),
    ];
    let r = s
        .http
        .post(s.url("/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .http
        .post(s.url("/authorize"))
        .header(
            "cookie",
            "cmcp_browser=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The real page still works afterwards.
    assert_eq!(s.approve(&page).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn hidden_fields_cannot_change_client_redirect_or_challenge() {
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
                ("password", PASSWORD),
                ("decision", "approve"),
                ("redirect_uri", "https://evil.example/cb"),
                ("client_id", "evil"),
                ("code_challenge", "x"),
            ],
        )
        .await;
    // Unknown fields are ignored; the stored request decides.
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(REDIRECT)
    );
}

#[tokio::test]
async fn login_brute_force_is_throttled_per_account() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    for _ in 0..5 {
        let r = s
            .post_form(
                &page,
                &[
                    ("username", USER),
                    ("password", "guess"),
                    ("decision", "approve"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    // Locked: even the right password is refused now.
    let r = s.approve(&page).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert!(!r.headers().contains_key("location"));
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));
    s.clock.advance(Duration::from_secs(15 * 60 + 1));
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    assert_eq!(s.approve(&page).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn login_brute_force_is_throttled_per_ip() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    for i in 0..20 {
        // A page takes a bounded number of answers: open a fresh one each time.
        let page = s
            .get_authorize(&s.authorize_params(&client_id, &pkce()))
            .await;
        let name = format!("user{i}");
        let r = s
            .post_form(
                &page,
                &[
                    ("username", &name),
                    ("password", "guess"),
                    ("decision", "approve"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    let r = s.approve(&page).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another IP is not affected.
    let other = client_from("127.0.0.2");
    let page = s
        .get_authorize_with(&other, &s.authorize_params(&client_id, &pkce()))
        .await;
    let r = s.approve_with(&other, &page).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn redirect_tricks_at_registration_and_authorization() {
    let s = spawn_app_with(Options::oauth()).await;
    let r = s
        .register(json!({"redirect_uris": ["https://app.example/callback"]}))
        .await;
    let v: serde_json::Value = r.json().await.unwrap();
    let client_id = v["client_id"].as_str().unwrap();
    for trick in [
        "https://app.example/callback/../../evil",
        "https://app.example/callback?next=https://evil.example",
        "https://app.example/callback#x",
        "https://app.example.evil.example/callback",
        "https://app.example@evil.example/callback",
        "https://evil.example/https://app.example/callback",
        "https://app.example/callbackevil",
        "https://APP.EXAMPLE/callback",
        "https://app.example:443/callback",
        "http://app.example/callback",
        "https://app.example/Callback",
    ] {
        let p = pkce();
        let params = vec![
            ("response_type".to_string(), "code".to_string()),
            ("client_id".into(), client_id.into()),
            ("redirect_uri".into(), trick.into()),
            ("code_challenge".into(), p.challenge.clone()),
            ("code_challenge_method".into(), "S256".into()),
        ];
        let page = s.get_authorize(&params).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{trick}");
        assert!(!page.headers.contains_key("location"), "{trick}");
    }
}

#[tokio::test]
async fn secrets_never_appear_in_errors_or_debug() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    for (path, form) in [
        (
            "/token",
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "cm_rt_SECRETVALUE"),
                ("client_id", t.client_id.as_str()),
            ],
        ),
        (
            "/token",
            vec![
                ("grant_type", "authorization_code"),
                ("code", "cm_code_SECRETVALUE"),
                ("client_id", t.client_id.as_str()),
                ("code_verifier", "SECRETVALUE"),
                ("redirect_uri", REDIRECT),
            ],
        ),
        (
            "/revoke",
            vec![
                ("token", "cm_at_SECRETVALUE"),
                ("client_id", "SECRETVALUE-client"),
            ],
        ),
    ] {
        let r = s.http.post(s.url(path)).form(&form).send().await.unwrap();
        let body = r.text().await.unwrap();
        assert!(!body.contains("SECRETVALUE"), "{path}: {body}");
    }
    let dbg = format!("{:?} {:?}", s.oauth(), s.args);
    assert!(!dbg.contains(PASSWORD), "{dbg}");
    assert!(!dbg.contains(&t.access) && !dbg.contains(&t.refresh));
}

#[tokio::test]
async fn store_maps_are_bounded_and_swept() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    for _ in 0..5 {
        let _ = s
            .get_authorize(&s.authorize_params(&client_id, &pkce()))
            .await;
    }
    assert_eq!(s.oauth().store_counts()["pending"], 5);
    let _t = s.obtain_tokens().await;
    s.clock.advance(Duration::from_secs(3601));
    s.oauth().sweep_now().await;
    let c = s.oauth().store_counts();
    assert_eq!(c["pending"], 0);
    assert_eq!(c["access"], 0);
    assert_eq!(c["grants"], 1);
    s.clock.advance(Duration::from_secs(31 * 86_400));
    s.oauth().sweep_now().await;
    let c = s.oauth().store_counts();
    assert_eq!((c["grants"], c["refresh"]), (0, 0));
}
