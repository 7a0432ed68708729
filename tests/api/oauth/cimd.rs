//! Client ID Metadata Documents, against a local fixture host (allowed only
//! with the hidden test flag; without it, loopback and http are refused).
use super::helpers::*;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Fixture {
    base: String,
    hits: Arc<AtomicUsize>,
}

async fn fixture() -> Fixture {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    #[derive(Clone)]
    struct S(String, Arc<AtomicUsize>);
    let doc = |path: &'static str, body: fn(&str) -> Value| {
        move |State(S(base, hits)): State<S>| async move {
            hits.fetch_add(1, Ordering::SeqCst);
            let id = format!("{base}{path}");
            (
                [(header::CACHE_CONTROL, "max-age=3600")],
                axum::Json(body(&id)),
            )
                .into_response()
        }
    };
    let app = Router::new()
        .route("/good.json", get(doc("/good.json", |id| json!({"client_id": id, "client_name": "Fixture Client", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}))))
        .route("/chatgpt-like.json", get(doc("/chatgpt-like.json", |id| json!({"client_id": id, "client_name": "ChatGPT", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"], "jwks_uri": "https://chatgpt.com/oauth/jwks.json"}))))
        .route("/mismatch.json", get(doc("/mismatch.json", |_| json!({"client_id": "https://evil.example/client.json", "client_name": "x", "redirect_uris": [REDIRECT]}))))
        .route("/secret.json", get(doc("/secret.json", |id| json!({"client_id": id, "client_name": "x", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_post"}))))
        .route("/bad-redirect.json", get(doc("/bad-redirect.json", |id| json!({"client_id": id, "client_name": "x", "redirect_uris": ["javascript:alert(1)"]}))))
        .route("/huge.json", get(doc("/huge.json", |id| json!({"client_id": id, "client_name": "x", "redirect_uris": [REDIRECT], "pad": "x".repeat(6000)}))))
        .route("/redirect.json", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/good.json")]) }))
        .route("/slow.json", get(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            "{}"
        }))
        .with_state(S(base.clone(), hits.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Fixture { base, hits }
}

async fn server(allow: bool) -> TestApp {
    let mut args = default_args();
    args.oauth_allow_loopback_cimd = allow;
    spawn_app_with(Options::with_oauth(args)).await
}

#[tokio::test]
async fn cimd_client_completes_the_flow_and_is_cached() {
    let f = fixture().await;
    let s = server(true).await;
    let client_id = format!("{}/good.json", f.base);
    let p = pkce();
    let page = s.get_authorize(&s.authorize_params(&client_id, &p)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Fixture Client"));
    assert!(page.body.contains("verified: 127.0.0.1"));
    let r = s.approve(&page).await;
    let q = query_of(r.headers()["location"].to_str().unwrap());
    let r = s.exchange(&client_id, &q["code"], &p).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let at = v["access_token"].as_str().unwrap();
    assert_eq!(s.mcp("/mcp", Some(at)).await.status(), StatusCode::OK);
    let rt = v["refresh_token"].as_str().unwrap();
    assert_eq!(s.refresh(&client_id, rt).await.status(), StatusCode::OK);
    assert_eq!(
        f.hits.load(Ordering::SeqCst),
        1,
        "document fetched once, then cached"
    );
    // Cache expiry (max-age=3600) leads to a refetch.
    s.clock.advance(std::time::Duration::from_secs(3601));
    let _ = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    assert_eq!(f.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn chatgpt_style_document_is_a_public_client() {
    let f = fixture().await;
    let s = server(true).await;
    let client_id = format!("{}/chatgpt-like.json", f.base);
    let p = pkce();
    let q = s.obtain_code(&client_id, &p).await;
    assert_eq!(
        s.exchange(&client_id, &q["code"], &p).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_documents_are_refused_locally() {
    let f = fixture().await;
    let s = server(true).await;
    for path in [
        "/mismatch.json",
        "/secret.json",
        "/bad-redirect.json",
        "/huge.json",
        "/redirect.json",
        "/missing.json",
    ] {
        let client_id = format!("{}{path}", f.base);
        let page = s
            .get_authorize(&s.authorize_params(&client_id, &pkce()))
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(!page.headers.contains_key("location"), "{path}");
    }
}

#[tokio::test]
async fn redirect_must_be_listed_in_the_document() {
    let f = fixture().await;
    let s = server(true).await;
    let client_id = format!("{}/good.json", f.base);
    let mut params = s.authorize_params(&client_id, &pkce());
    params.retain(|(k, _)| k != "redirect_uri");
    params.push(("redirect_uri".into(), "https://evil.example/cb".into()));
    let page = s.get_authorize(&params).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(!page.headers.contains_key("location"));
}

#[tokio::test]
async fn without_the_test_flag_loopback_documents_are_never_fetched() {
    let f = fixture().await;
    let s = server(false).await;
    let client_id = format!("{}/good.json", f.base);
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let https_loopback = "https://127.0.0.1/client.json";
    let page = s
        .get_authorize(&s.authorize_params(https_loopback, &pkce()))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(f.hits.load(Ordering::SeqCst), 0);
    // Token endpoint: URL client ids that do not resolve are invalid_client.
    let (st, err, _) = error_of(s.refresh(&client_id, "cm_rt_x").await).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
}

#[tokio::test]
async fn slow_hosts_time_out() {
    let f = fixture().await;
    let s = server(true).await;
    let client_id = format!("{}/slow.json", f.base);
    let started = std::time::Instant::now();
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

/// Junk client ids (well-formed URLs whose host is unreachable) from `http`.
async fn junk(s: &TestApp, http: &reqwest::Client, n: usize) {
    for i in 0..n {
        let client_id = format!("http://localhost:1/junk-{i}.json");
        let page = s
            .get_authorize_with(http, &s.authorize_params(&client_id, &pkce()))
            .await;
        assert_ne!(page.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn junk_client_ids_from_one_ip_do_not_spend_the_fetch_budget_of_others() {
    let f = fixture().await;
    let s = server(true).await;
    junk(&s, &client_from("127.0.0.2"), 61).await;
    let client_id = format!("{}/good.json", f.base);
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(f.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_known_client_refreshes_while_refetching_is_throttled() {
    let f = fixture().await;
    let s = server(true).await;
    let client_id = format!("{}/good.json", f.base);
    let p = pkce();
    let q = s.obtain_code(&client_id, &p).await;
    let v: Value = s
        .exchange(&client_id, &q["code"], &p)
        .await
        .json()
        .await
        .unwrap();
    let mut refresh = v["refresh_token"].as_str().unwrap().to_owned();
    // The cached document expires, and this IP spends its fetch budget.
    s.clock.advance(std::time::Duration::from_secs(3601));
    junk(&s, &s.http, 60).await;
    let r = s.refresh(&client_id, &refresh).await;
    assert_eq!(r.status(), StatusCode::OK, "the last good document is used");
    assert_eq!(f.hits.load(Ordering::SeqCst), 1, "no refetch yet");
    refresh = r.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Once the budget has room again, the document is refetched.
    s.clock.advance(std::time::Duration::from_secs(61));
    assert_eq!(
        s.refresh(&client_id, &refresh).await.status(),
        StatusCode::OK
    );
    assert_eq!(f.hits.load(Ordering::SeqCst), 2);
}
