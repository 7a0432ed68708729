//! `--anonymous-discovery`: tokenless clients may list, not use; a tool
//! call asks them to sign in the way ChatGPT expects.
use super::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post(s: &TestApp, body: Value, token: Option<&str>) -> reqwest::Response {
    let mut request = s
        .http
        .post(s.url("/mcp"))
        .header("mcp-protocol-version", "2025-11-25")
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn call(name: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": name, "arguments": { "expression": "1+1" } } })
}

#[tokio::test]
async fn tokenless_clients_discover_but_tools_ask_them_to_sign_in() {
    let s = spawn_app_with(Options::oauth().flags(&["--anonymous-discovery"])).await;
    let list = post(
        &s,
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }),
        None,
    )
    .await;
    assert_eq!(list.status(), StatusCode::OK);
    let tools: Value = list.json().await.unwrap();
    let first = &tools["result"]["tools"][0];
    assert_eq!(
        first["securitySchemes"],
        json!([{ "type": "oauth2", "scopes": ["mcp:tools"] }])
    );

    let refused = post(&s, call("calculate"), None).await;
    assert_eq!(refused.status(), StatusCode::OK);
    let result: Value = refused.json().await.unwrap();
    let result = &result["result"];
    assert_eq!(result["isError"], true);
    assert_eq!(
        result["_meta"]["mcp/www_authenticate"],
        format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:tools\", error=\"invalid_token\", error_description=\"Sign in to use this tool\"",
            s.base
        )
    );

    // Reading data without a token is still a 401 with the challenge.
    let read = post(&s, json!({ "jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": { "uri": "binance://symbols" } }), None).await;
    assert_eq!(read.status(), StatusCode::UNAUTHORIZED);
    assert!(
        read.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("resource_metadata=")
    );
    let batch = s
        .http
        .post(s.url("/mcp"))
        .json(&json!([call("calculate")]))
        .send()
        .await
        .unwrap();
    assert_eq!(batch.status(), StatusCode::UNAUTHORIZED);

    // A bad token is never treated as no token.
    let forged = post(&s, call("calculate"), Some("cm_at_forged")).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    // With a token the same call works.
    let t = s.obtain_tokens().await;
    let ok: Value = post(&s, call("calculate"), Some(&t.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["result"]["structuredContent"]["result"], "2");
}

#[tokio::test]
async fn by_default_every_tokenless_request_gets_401() {
    let s = spawn_app_with(Options::oauth()).await;
    for body in [
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }),
        call("calculate"),
    ] {
        assert_eq!(
            post(&s, body, None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}
