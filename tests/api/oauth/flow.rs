//! The whole journey in one readable test: register → authorize page →
//! login + consent → code → token → MCP call → refresh → revoke.
use super::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn whole_flow_over_http() {
    let s = spawn_app_with(Options::oauth()).await;

    // An unauthenticated MCP call starts discovery.
    let r = s.mcp("/mcp", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    let prm_url = challenge.split('"').nth(1).unwrap().to_owned();
    let prm: Value = s
        .http
        .get(&prm_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["resource"], json!(s.url("/mcp")));
    let issuer = prm["authorization_servers"][0].as_str().unwrap();
    let asm: Value = s
        .http
        .get(format!("{issuer}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Register.
    let reg: Value = s
        .http
        .post(asm["registration_endpoint"].as_str().unwrap())
        .json(&json!({"client_name": "Flow", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = reg["client_id"].as_str().unwrap().to_owned();

    // Page → login + consent → code.
    let p = pkce();
    let page = s.get_authorize(&s.authorize_params(&client_id, &p)).await;
    assert_eq!(page.status, StatusCode::OK);
    let r = s.approve(&page).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["iss"], issuer);

    // Code → tokens.
    let tok: Value = s
        .exchange(&client_id, &q["code"], &p)
        .await
        .json()
        .await
        .unwrap();
    let at = tok["access_token"].as_str().unwrap();
    let rt = tok["refresh_token"].as_str().unwrap();

    // MCP call.
    let r = s.mcp("/mcp", Some(at)).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Refresh.
    let r = s.refresh(&client_id, rt).await;
    assert_eq!(r.status(), StatusCode::OK);
    let tok2: Value = r.json().await.unwrap();
    let at2 = tok2["access_token"].as_str().unwrap();
    let rt2 = tok2["refresh_token"].as_str().unwrap();
    assert_eq!(s.mcp("/mcp", Some(at2)).await.status(), StatusCode::OK);

    // Revoke the refresh token: the whole grant goes.
    let r = s
        .http
        .post(asm["revocation_endpoint"].as_str().unwrap())
        .form(&[
            ("token", rt2),
            ("client_id", client_id.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.mcp("/mcp", Some(at2)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.mcp("/mcp", Some(at)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        error_of(s.refresh(&client_id, rt2).await).await.1,
        "invalid_grant"
    );
}
