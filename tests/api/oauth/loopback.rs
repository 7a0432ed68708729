//! Without `PUBLIC_URL`, every loopback URL signs in: discovery, challenges,
//! redirects and token audiences follow the origin each request used, and
//! a token stays bound to the origin it was issued through.
use super::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// GETs `path` with `Host: host`.
async fn get_as(s: &TestApp, host: &str, path: &str) -> Value {
    let r = s
        .http
        .get(s.url(path))
        .header("host", host)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{host} {path}");
    r.json().await.unwrap()
}

async fn challenge_as(s: &TestApp, host: &str, token: Option<&str>) -> String {
    let mut request = s
        .http
        .post(s.url("/mcp"))
        .header("host", host)
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{host}");
    r.headers()["www-authenticate"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn discovery_names_the_loopback_origin_a_request_used() {
    let s = spawn_app_with(
        Options::oauth()
            .without_public_url()
            .flags(&["--allowed-hosts", "internal.svc"]),
    )
    .await;
    let port = s.addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        // A forwarded port: the client's URL, not the socket's.
        "127.0.0.1:9999".to_owned(),
    ] {
        let origin = format!("http://{host}");
        let prm = get_as(&s, &host, "/.well-known/oauth-protected-resource/mcp").await;
        assert_eq!(prm["resource"], json!(format!("{origin}/mcp")), "{host}");
        assert_eq!(prm["authorization_servers"], json!([origin]), "{host}");
        let root = get_as(&s, &host, "/.well-known/oauth-protected-resource").await;
        assert_eq!(root["resource"], json!(origin), "{host}");
        let server = get_as(&s, &host, "/.well-known/oauth-authorization-server").await;
        assert_eq!(server["issuer"], json!(origin), "{host}");
        assert_eq!(
            server["token_endpoint"],
            json!(format!("{origin}/token")),
            "{host}"
        );
        assert_eq!(
            challenge_as(&s, &host, None).await,
            format!(
                "Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:tools\""
            )
        );
    }
    // A host that is not loopback gets the default, as before.
    let prm = get_as(
        &s,
        "internal.svc",
        "/.well-known/oauth-protected-resource/mcp",
    )
    .await;
    assert_eq!(
        prm["resource"],
        json!(format!("http://localhost:{port}/mcp"))
    );
}

#[tokio::test]
async fn a_configured_public_url_stays_authoritative() {
    let s =
        spawn_app_with(Options::oauth().flags(&["--public-url", "https://mcp.example.com"])).await;
    let host = format!("localhost:{}", s.addr.port());
    let prm = get_as(&s, &host, "/.well-known/oauth-protected-resource/mcp").await;
    assert_eq!(prm["resource"], json!("https://mcp.example.com/mcp"));
    assert_eq!(
        prm["authorization_servers"],
        json!(["https://mcp.example.com"])
    );
    assert!(
        challenge_as(&s, &host, None)
            .await
            .contains("\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\"")
    );
}

#[tokio::test]
async fn a_token_is_bound_to_the_loopback_origin_it_was_issued_through() {
    let mut s = spawn_app_with(Options::oauth().without_public_url()).await;
    let port = s.addr.port();
    s.reach_via("localhost");
    let client_id = s.register_public().await;
    let p = pkce();
    let q = s.obtain_code(&client_id, &p).await;
    assert_eq!(q["iss"], format!("http://localhost:{port}"));
    let r = s.exchange(&client_id, &q["code"], &p).await;
    assert_eq!(r.status(), StatusCode::OK);
    let token: Value = r.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(s.mcp("/mcp", Some(&token)).await.status(), StatusCode::OK);

    // The same server under another name is another resource: the token is
    // refused there with a challenge that starts a sign-in for that name.
    s.reach_via("127.0.0.1");
    let challenge = challenge_as(&s, &format!("127.0.0.1:{port}"), Some(&token)).await;
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp\""
        )),
        "{challenge}"
    );
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let t = s.obtain_tokens().await;
    assert_eq!(
        s.mcp("/mcp", Some(&t.access)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn resources_of_another_loopback_origin_are_refused() {
    let mut s = spawn_app_with(Options::oauth().without_public_url()).await;
    let other = format!("http://127.0.0.1:{}/mcp", s.addr.port());
    s.reach_via("localhost");
    let client_id = s.register_public().await;
    let p = pkce();
    let mut params = s.authorize_params(&client_id, &p);
    params.retain(|(k, _)| k != "resource");
    params.push(("resource".into(), other.clone()));
    let page = s.get_authorize(&params).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let location = page.headers["location"].to_str().unwrap();
    assert_eq!(query_of(location)["error"], "invalid_target");

    let q = s.obtain_code(&client_id, &p).await;
    let r = s.exchange_for(&client_id, &q["code"], &p, &other).await;
    let (status, error, _) = error_of(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error, "invalid_target");
}
