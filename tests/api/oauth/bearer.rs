//! Resource-server guard on `/` and `/mcp`.
use super::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

fn challenge(r: &reqwest::Response) -> String {
    r.headers()["www-authenticate"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn no_token_is_401_with_the_challenge_for_each_path() {
    let s = spawn_app_with(Options::oauth()).await;
    let r = s.mcp("/mcp", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&r),
        format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:tools\"",
            s.base
        )
    );
    let r = s.mcp("/", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&r),
        format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource\", scope=\"mcp:tools\"",
            s.base
        )
    );
}

#[tokio::test]
async fn valid_token_passes_and_identifies_the_caller() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let r = s.mcp("/mcp", Some(&t.access)).await;
    assert_eq!(r.status(), StatusCode::OK);
    // The real MCP endpoint answers tools/list, with securitySchemes.
    let v: Value = r.json().await.unwrap();
    let tools = v["result"]["tools"].as_array().expect("tools");
    assert!(!tools.is_empty());
    for tool in tools {
        let schemes = json!([{ "type": "oauth2", "scopes": ["mcp:tools"] }]);
        assert_eq!(tool["securitySchemes"], schemes, "{tool}");
        assert_eq!(tool["_meta"]["securitySchemes"], schemes, "{tool}");
    }
    // Scheme is case-insensitive.
    let r = s
        .http
        .post(s.url("/mcp"))
        .header("authorization", format!("bearer {}", t.access))
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn bad_token_is_invalid_token() {
    let s = spawn_app_with(Options::oauth()).await;
    for auth in [
        "Bearer cm_at_forged",
        "Bearer ",
        "Basic Zm9vOmJhcg==",
        "Bearer",
    ] {
        let r = s
            .http
            .post(s.url("/mcp"))
            .header("authorization", auth)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth}");
        let c = challenge(&r);
        assert!(c.contains("error=\"invalid_token\""), "{c}");
        assert!(c.contains("resource_metadata="), "{c}");
        assert!(c.contains("scope=\"mcp:tools\""), "{c}");
    }
}

#[tokio::test]
async fn expired_token_is_invalid_token() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    s.clock.advance(Duration::from_secs(3601));
    let r = s.mcp("/mcp", Some(&t.access)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&r).contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn tokens_are_bound_to_their_resource() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await; // resource = PUBLIC_URL/mcp
    let r = s.mcp("/", Some(&t.access)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&r).contains("error=\"invalid_token\""));
    // A token for PUBLIC_URL works on "/" only.
    let client_id = s.register_public().await;
    let p = pkce();
    let mut params = s.authorize_params(&client_id, &p);
    params.retain(|(k, _)| k != "resource");
    params.push(("resource".into(), s.base.clone()));
    let page = s.get_authorize(&params).await;
    let r = s.approve(&page).await;
    let q = query_of(r.headers()["location"].to_str().unwrap());
    let base = s.base.clone();
    let r = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &p.verifier),
            ("client_id", &client_id),
            ("resource", &base),
        ])
        .await;
    let v: Value = r.json().await.unwrap();
    let at = v["access_token"].as_str().unwrap();
    assert_eq!(s.mcp("/", Some(at)).await.status(), StatusCode::OK);
    assert_eq!(
        s.mcp("/mcp", Some(at)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn query_string_tokens_are_never_accepted() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let r = s
        .http
        .post(s.url(&format!("/mcp?access_token={}", t.access)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&r).contains("error=\"invalid_request\""));
    // Even alongside a valid header.
    let r = s
        .http
        .post(s.url(&format!("/mcp?access_token={}", t.access)))
        .bearer_auth(&t.access)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn preflight_is_not_challenged() {
    let s = spawn_app_with(Options::oauth()).await;
    let r = s
        .http
        .request(reqwest::Method::OPTIONS, s.url("/mcp"))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::UNAUTHORIZED);
}
