//! `/token`, authorization_code grant and client authentication.
use super::helpers::*;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn code_exchange_response_shape() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let p = pkce();
    let q = s.obtain_code(&client_id, &p).await;
    let r = s.exchange(&client_id, &q["code"], &p).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v: Value = r.json().await.unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(v["scope"], "mcp:tools");
    assert!(v["access_token"].as_str().unwrap().starts_with("cm_at_"));
    assert!(v["refresh_token"].as_str().unwrap().starts_with("cm_rt_"));
}

#[tokio::test]
async fn pkce_missing_or_wrong_is_refused() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let p = pkce();
    let q = s.obtain_code(&client_id, &p).await;
    let r = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", REDIRECT),
            ("client_id", &client_id),
        ])
        .await;
    assert_eq!(error_of(r).await.1, "invalid_request");
    // Wrong verifier burns the code.
    let wrong = pkce();
    let r = s.exchange(&client_id, &q["code"], &wrong).await;
    let (st, err, h) = error_of(r).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert_eq!(h["cache-control"], "no-store");
    let r = s.exchange(&client_id, &q["code"], &p).await;
    assert_eq!(error_of(r).await.1, "invalid_grant");
    // A "plain" verifier equal to the challenge is not accepted either.
    let q = s.obtain_code(&client_id, &p).await;
    let plain = Pkce {
        verifier: p.challenge.clone(),
        challenge: p.challenge.clone(),
    };
    let r = s.exchange(&client_id, &q["code"], &plain).await;
    assert_eq!(error_of(r).await.1, "invalid_grant");
}

#[tokio::test]
async fn redirect_uri_and_client_must_match() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let other = s.register_public().await;
    let p = pkce();
    let q = s.obtain_code(&client_id, &p).await;
    let r = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", "http://127.0.0.1:3000/other"),
            ("code_verifier", &p.verifier),
            ("client_id", &client_id),
        ])
        .await;
    assert_eq!(error_of(r).await.1, "invalid_grant");
    let q = s.obtain_code(&client_id, &p).await;
    let r = s.exchange(&other, &q["code"], &p).await;
    assert_eq!(error_of(r).await.1, "invalid_grant");
    let q = s.obtain_code(&client_id, &p).await;
    let r = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("code_verifier", &p.verifier),
            ("client_id", &client_id),
        ])
        .await;
    assert_eq!(error_of(r).await.1, "invalid_request");
}

#[tokio::test]
async fn code_replay_revokes_the_tokens_issued_from_it() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let p = pkce();
    let q = s.obtain_code(&client_id, &p).await;
    let r = s.exchange(&client_id, &q["code"], &p).await;
    let v: Value = r.json().await.unwrap();
    let at = v["access_token"].as_str().unwrap();
    let rt = v["refresh_token"].as_str().unwrap();
    assert_eq!(s.mcp("/mcp", Some(at)).await.status(), StatusCode::OK);
    let r = s.exchange(&client_id, &q["code"], &p).await;
    let (st, err, _) = error_of(r).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert_eq!(
        s.mcp("/mcp", Some(at)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        error_of(s.refresh(&client_id, rt).await).await.1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn codes_expire() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let p = pkce();
    let q = s.obtain_code(&client_id, &p).await;
    s.clock.advance(Duration::from_secs(301));
    let r = s.exchange(&client_id, &q["code"], &p).await;
    assert_eq!(error_of(r).await.1, "invalid_grant");
}

#[tokio::test]
async fn token_resource_must_match_the_authorization() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let p = pkce();
    let q = s.obtain_code(&client_id, &p).await;
    let root = s.base.clone();
    let r = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &p.verifier),
            ("client_id", &client_id),
            ("resource", &root),
        ])
        .await;
    assert_eq!(error_of(r).await.1, "invalid_target");
    let q = s.obtain_code(&client_id, &p).await;
    let r = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &p.verifier),
            ("client_id", &client_id),
            ("resource", "https://elsewhere.example/mcp"),
        ])
        .await;
    assert_eq!(error_of(r).await.1, "invalid_target");
}

#[tokio::test]
async fn grant_type_and_body_errors() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let r = s
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
        ])
        .await;
    assert_eq!(error_of(r).await.1, "unsupported_grant_type");
    let r = s
        .token(&[("grant_type", "password"), ("client_id", &client_id)])
        .await;
    assert_eq!(error_of(r).await.1, "unsupported_grant_type");
    let r = s.token(&[("client_id", client_id.as_str())]).await;
    assert_eq!(error_of(r).await.1, "invalid_request");
    let r = s
        .http
        .post(s.url("/token"))
        .json(&json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.1, "invalid_request");
    // Repeated parameters are refused (RFC 6749 §3.2).
    let r = s
        .http
        .post(s.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&grant_type=refresh_token")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.1, "invalid_request");
    // Unknown client.
    let r = s.refresh("nope", "cm_rt_x").await;
    let (st, err, _) = error_of(r).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
}

async fn confidential(s: &TestApp, method: &str) -> (String, String) {
    let r = s
        .register(json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": method}))
        .await;
    let v: Value = r.json().await.unwrap();
    (
        v["client_id"].as_str().unwrap().to_owned(),
        v["client_secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn client_secret_basic() {
    let s = spawn_app_with(Options::oauth()).await;
    let (id, secret) = confidential(&s, "client_secret_basic").await;
    let p = pkce();
    let q = s.obtain_code(&id, &p).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", q["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", p.verifier.as_str()),
    ];
    // Wrong secret → 401 + Basic challenge, code not burned.
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth(&id, Some("wrong"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (st, err, h) = error_of(r).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert_eq!(h["www-authenticate"], "Basic realm=\"crypto-mcp\"");
    // Secret in the body is not this client's method.
    let mut with_post = form.to_vec();
    with_post.push(("client_id", &id));
    with_post.push(("client_secret", &secret));
    let r = s.token(&with_post).await;
    assert_eq!(error_of(r).await.1, "invalid_client");
    // No secret at all.
    let mut public = form.to_vec();
    public.push(("client_id", &id));
    assert_eq!(error_of(s.token(&public).await).await.1, "invalid_client");
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth(&id, Some(&secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Manually encoded header, as RFC 6749 §2.3.1 describes.
    let v: Value = r.json().await.unwrap();
    let hdr = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let r = s
        .http
        .post(s.url("/token"))
        .header("authorization", format!("Basic {hdr}"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", v["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn client_secret_post() {
    let s = spawn_app_with(Options::oauth()).await;
    let (id, secret) = confidential(&s, "client_secret_post").await;
    let p = pkce();
    let q = s.obtain_code(&id, &p).await;
    let base = [
        ("grant_type", "authorization_code"),
        ("code", q["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", p.verifier.as_str()),
        ("client_id", id.as_str()),
    ];
    let mut wrong = base.to_vec();
    wrong.push(("client_secret", "cm_cs_wrong"));
    let (st, err, h) = error_of(s.token(&wrong).await).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert!(!h.contains_key("www-authenticate"));
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth(&id, Some(&secret))
        .form(&base[..4])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.1, "invalid_client");
    let mut ok = base.to_vec();
    ok.push(("client_secret", &secret));
    assert_eq!(s.token(&ok).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn public_client_sending_a_secret_is_refused() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let r = s
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "cm_rt_x"),
            ("client_id", &client_id),
            ("client_secret", "guess"),
        ])
        .await;
    assert_eq!(error_of(r).await.1, "invalid_client");
}
