//! Several instances behind one URL, sharing a real Redis: every step of a
//! client's life may land on another instance, and what one instance does
//! (take a code, count a failed sign-in, revoke a grant) holds on all.
//! Skipped, with a message, where `redis-server` is missing (not in CI).
use super::helpers::*;
use crate::redis_server::RedisServer;
use crypto_mcp::oauth::store::ACCESS_CACHE_TTL;
use crypto_mcp::shared::redis::Redis;
use crypto_mcp::shared::{StorePrefix, StoreUrl};
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A connection to `server` under a prefix of its own.
pub async fn store_on(server: &RedisServer) -> Redis {
    let StoreUrl::Redis(url) = server.url().parse().unwrap() else {
        panic!("a redis URL");
    };
    let prefix: StorePrefix = format!("t{}:", uuid::Uuid::new_v4().simple())
        .parse()
        .unwrap();
    Redis::connect(&url, &prefix, None).await.expect("connect")
}

/// Two instances on one store, one public URL (A's), one clock.
pub async fn two_instances(server: &RedisServer) -> (TestApp, TestApp) {
    let store = store_on(server).await;
    let a = spawn_app_with(Options::oauth().shared(store.clone())).await;
    let b = spawn_app_with(
        Options::oauth()
            .shared(store)
            .clock(a.clock.clone())
            .flags(&["--public-url", &a.base]),
    )
    .await;
    (a, b)
}

/// `body["access_token"]` and `body["refresh_token"]` of a 200.
async fn token_pair(r: reqwest::Response) -> (String, String) {
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    (
        v["access_token"].as_str().unwrap().to_owned(),
        v["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn every_step_may_land_on_another_instance() {
    let Some(server) = RedisServer::shared() else {
        return;
    };
    let (a, b) = two_instances(server).await;
    let client_id = a.register_public().await;
    let p = pkce();
    // The page comes from B; the browser's answer goes to A.
    let page = b.get_authorize(&b.authorize_params(&client_id, &p)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let r = a.approve(&page).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let code = query_of(r.headers()["location"].to_str().unwrap())["code"].clone();
    let (access, refresh) = token_pair(b.exchange(&client_id, &code, &p).await).await;
    assert_eq!(a.mcp("/mcp", Some(&access)).await.status(), StatusCode::OK);
    assert_eq!(b.mcp("/mcp", Some(&access)).await.status(), StatusCode::OK);
    // Parallel refreshes on both instances end with one refresh token.
    let (one, two) = tokio::join!(
        a.refresh(&client_id, &refresh),
        b.refresh(&client_id, &refresh)
    );
    let (access2, refresh2) = token_pair(one).await;
    let (_, also_refresh2) = token_pair(two).await;
    assert_eq!(refresh2, also_refresh2);
    assert_eq!(b.mcp("/mcp", Some(&access2)).await.status(), StatusCode::OK);

    // Revoked on A: B, which has just accepted the token, refuses it within
    // a second.
    let r = a
        .http
        .post(a.url("/revoke"))
        .form(&[("token", refresh2.as_str()), ("client_id", &client_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        a.mcp("/mcp", Some(&access2)).await.status(),
        StatusCode::UNAUTHORIZED,
        "at once on the instance that revoked"
    );
    let revoked = Instant::now();
    while b.mcp("/mcp", Some(&access2)).await.status() == StatusCode::OK {
        assert!(
            revoked.elapsed() < Duration::from_secs(1),
            "still accepted on B after a second"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(revoked.elapsed() <= ACCESS_CACHE_TTL + Duration::from_millis(200));
    let r = b.refresh(&client_id, &refresh2).await;
    assert_eq!(error_of(r).await.1, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_redemptions_of_one_code_across_instances_yield_one_token() {
    let Some(server) = RedisServer::shared() else {
        return;
    };
    let (a, b) = two_instances(server).await;
    let client_id = a.register_public().await;
    let p = pkce();
    let code = a.obtain_code(&client_id, &p).await["code"].clone();
    let attempts = (0..50).map(|i| {
        let instance = if i % 2 == 0 { &a } else { &b };
        instance.exchange(&client_id, &code, &p)
    });
    let statuses: Vec<StatusCode> = join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    assert_eq!((won, refused), (1, 49), "{statuses:?}");
}

/// The sign-in page as the owner's browser gets it: its cookie store, not
/// the page, carries the cookies back.
async fn owner_page(s: &TestApp, owner: &reqwest::Client, params: &[(String, String)]) -> Page {
    let mut page = s.get_authorize_with(owner, params).await;
    page.cookie = None;
    page
}

#[tokio::test]
async fn failed_sign_ins_count_on_every_instance() {
    let Some(server) = RedisServer::shared() else {
        return;
    };
    let (a, b) = two_instances(server).await;
    let client_id = a.register_public().await;
    // The owner signs in on A; the browser's device cookie is signed with
    // the key the instances share.
    let owner = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let p = pkce();
    let page = owner_page(&a, &owner, &a.authorize_params(&client_id, &p)).await;
    let r = a.approve_with(&owner, &page).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // A stranger's five wrong passwords, alternating instances, use up the
    // account's budget on both.
    let stranger = client_from("127.0.0.2");
    for i in 0..5 {
        let (page_on, post_on) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let page = page_on
            .get_authorize_with(&stranger, &page_on.authorize_params(&client_id, &pkce()))
            .await;
        let r = post_on
            .post_form_with(
                &stranger,
                &page,
                &[
                    ("username", USER),
                    ("password", "guess"),
                    ("decision", "approve"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "guess {i}");
    }
    for s in [&a, &b] {
        let page = s
            .get_authorize_with(&stranger, &s.authorize_params(&client_id, &pkce()))
            .await;
        let r = s.approve_with(&stranger, &page).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    // The owner's browser (device cookie from A) still signs in on B, with
    // the password: `prompt=login` ignores the session cookie.
    let mut params = b.authorize_params(&client_id, &pkce());
    params.push(("prompt".into(), "login".into()));
    let page = owner_page(&b, &owner, &params).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let r = b.approve_with(&owner, &page).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_store_outage_is_503_never_a_pass_and_the_server_recovers() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let (a, _b) = two_instances(&server).await;
    let t = a.obtain_tokens().await;
    let health = |s: &TestApp| {
        let url = s.url("/healthz");
        let http = s.http.clone();
        async move {
            let v: Value = http.get(url).send().await.unwrap().json().await.unwrap();
            v["store"].as_str().unwrap_or("").to_owned()
        }
    };
    assert_eq!(health(&a).await, "ok");

    server.stop();
    // Nothing that needs the store passes: not the bearer check (the token
    // was never looked up, so no instance remembers it), not a refresh, not
    // a sign-in attempt whose throttle cannot be read.
    let r = a.mcp("/mcp", Some(&t.access)).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
    let (status, error, _) = error_of(a.refresh(&t.client_id, &t.refresh).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
    );
    let r = a
        .http
        .post(a.url("/authorize"))
        .form(&[("request_id", "x"), ("csrf_token", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health(&a).await, "unavailable");

    // Back (empty: nothing was saved), and served again without a restart.
    server.restart();
    let back = Instant::now();
    loop {
        let r = a
            .register(serde_json::json!({"redirect_uris": [REDIRECT]}))
            .await;
        if r.status() == StatusCode::CREATED {
            break;
        }
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "did not reconnect"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let healthy = Instant::now();
    while health(&a).await != "ok" {
        assert!(
            healthy.elapsed() < Duration::from_secs(5),
            "health stayed down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_handshake_session_opened_on_one_instance_is_used_and_ended_on_the_other() {
    let Some(server) = RedisServer::shared() else {
        return;
    };
    let (a, b) = two_instances(server).await;
    let t = a.obtain_tokens().await;
    let post = |s: &TestApp, body: Value, session: Option<&str>| {
        let mut req = s
            .http
            .post(s.url("/mcp"))
            .bearer_auth(&t.access)
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(id) = session {
            req = req
                .header("mcp-session-id", id)
                .header("mcp-protocol-version", "2025-06-18");
        }
        req.send()
    };
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let r = post(&a, init, None).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let level = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": {"level": "error"}});
    assert_eq!(
        post(&b, level, Some(&id)).await.unwrap().status(),
        StatusCode::OK
    );
    let list = serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    assert_eq!(
        post(&a, list.clone(), Some(&id)).await.unwrap().status(),
        StatusCode::OK
    );
    let r = b
        .http
        .delete(b.url("/mcp"))
        .bearer_auth(&t.access)
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "B knows A's session");
    assert_eq!(
        post(&a, list, Some(&id)).await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "ended on B, gone on A"
    );
}
