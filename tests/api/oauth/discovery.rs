//! Discovery documents: exact shapes (a renamed field fails a test).
use super::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn protected_resource_metadata_for_root_and_mcp() {
    let s = spawn_app_with(Options::oauth()).await;
    let (st, root) = s.get_json("/.well-known/oauth-protected-resource").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        root,
        json!({
            "resource": s.base,
            "authorization_servers": [s.base],
            "scopes_supported": ["mcp:tools"],
            "bearer_methods_supported": ["header"],
            "resource_name": "crypto-mcp",
        })
    );
    let (st, mcp) = s
        .get_json("/.well-known/oauth-protected-resource/mcp")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(mcp["resource"], json!(s.url("/mcp")));
    assert_eq!(mcp["authorization_servers"], json!([s.base]));
}

#[tokio::test]
async fn authorization_server_metadata_is_exact() {
    let s = spawn_app_with(Options::oauth()).await;
    let r = s
        .http
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v: serde_json::Value = r.json().await.unwrap();
    let b = &s.base;
    assert_eq!(
        v,
        json!({
            "issuer": b,
            "authorization_endpoint": format!("{b}/authorize"),
            "token_endpoint": format!("{b}/token"),
            "registration_endpoint": format!("{b}/register"),
            "revocation_endpoint": format!("{b}/revoke"),
            "scopes_supported": ["mcp:tools"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "authorization_response_iss_parameter_supported": true,
            "client_id_metadata_document_supported": true,
        })
    );
}

#[tokio::test]
async fn no_half_filled_openid_configuration() {
    let s = spawn_app_with(Options::oauth()).await;
    let r = s
        .http
        .get(s.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn challenge_helper_matches_the_401() {
    let s = spawn_app_with(Options::oauth()).await;
    let issuer = crypto_mcp::oauth::Issuer::new(&s.base.parse().unwrap());
    assert_eq!(
        s.oauth().challenge(&issuer, "/mcp", None),
        format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:tools\"",
            s.base
        )
    );
    assert_eq!(
        s.oauth()
            .challenge(&issuer, "/", Some(("invalid_token", "expired"))),
        format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource\", scope=\"mcp:tools\", error=\"invalid_token\", error_description=\"expired\"",
            s.base
        )
    );
    assert_eq!(s.oauth().scopes_supported(), ["mcp:tools"]);
}
