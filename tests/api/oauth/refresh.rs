//! `refresh_token` grant: rotation, grace window, reuse detection.
use super::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

async fn ok_json(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().await.unwrap()
}

#[tokio::test]
async fn refresh_rotates_and_new_tokens_work() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let v = ok_json(s.refresh(&t.client_id, &t.refresh).await).await;
    let rt2 = v["refresh_token"].as_str().unwrap();
    let at2 = v["access_token"].as_str().unwrap();
    assert_ne!(rt2, t.refresh);
    assert_ne!(at2, t.access);
    assert_eq!(v["scope"], "mcp:tools");
    assert_eq!(s.mcp("/mcp", Some(at2)).await.status(), StatusCode::OK);
    // The next rotation uses the new token.
    let v3 = ok_json(s.refresh(&t.client_id, rt2).await).await;
    assert_ne!(v3["refresh_token"], v["refresh_token"]);
}

#[tokio::test]
async fn parallel_refreshes_in_the_grace_window_get_the_same_successor() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let (a, b, c) = tokio::join!(
        s.refresh(&t.client_id, &t.refresh),
        s.refresh(&t.client_id, &t.refresh),
        s.refresh(&t.client_id, &t.refresh),
    );
    let (a, b, c) = (ok_json(a).await, ok_json(b).await, ok_json(c).await);
    assert_eq!(a["refresh_token"], b["refresh_token"]);
    assert_eq!(b["refresh_token"], c["refresh_token"]);
    // Every caller got its own working access token.
    for v in [&a, &b, &c] {
        let at = v["access_token"].as_str().unwrap();
        assert_eq!(s.mcp("/mcp", Some(at)).await.status(), StatusCode::OK);
    }
    // A retry 90 s later (lost response) still works.
    s.clock.advance(Duration::from_secs(90));
    let d = ok_json(s.refresh(&t.client_id, &t.refresh).await).await;
    assert_eq!(d["refresh_token"], a["refresh_token"]);
    // The shared successor rotates normally.
    ok_json(
        s.refresh(&t.client_id, a["refresh_token"].as_str().unwrap())
            .await,
    )
    .await;
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_grant() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let v = ok_json(s.refresh(&t.client_id, &t.refresh).await).await;
    let rt2 = v["refresh_token"].as_str().unwrap().to_owned();
    let at2 = v["access_token"].as_str().unwrap().to_owned();
    s.clock.advance(Duration::from_secs(121));
    let (st, err, _) = error_of(s.refresh(&t.client_id, &t.refresh).await).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    // Everything from that grant is dead, the legitimate new token included.
    assert_eq!(
        error_of(s.refresh(&t.client_id, &rt2).await).await.1,
        "invalid_grant"
    );
    assert_eq!(
        s.mcp("/mcp", Some(&at2)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.mcp("/mcp", Some(&t.access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_older_token_is_reuse_even_inside_a_later_grace() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let v = ok_json(s.refresh(&t.client_id, &t.refresh).await).await;
    let rt2 = v["refresh_token"].as_str().unwrap().to_owned();
    ok_json(s.refresh(&t.client_id, &rt2).await).await;
    // rt1 is two generations old now.
    assert_eq!(
        error_of(s.refresh(&t.client_id, &t.refresh).await).await.1,
        "invalid_grant"
    );
    assert_eq!(
        error_of(s.refresh(&t.client_id, &rt2).await).await.1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn refresh_tokens_are_bound_to_their_client() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let other = s.register_public().await;
    assert_eq!(
        error_of(s.refresh(&other, &t.refresh).await).await.1,
        "invalid_grant"
    );
    // And the owner can still use it.
    ok_json(s.refresh(&t.client_id, &t.refresh).await).await;
}

#[tokio::test]
async fn refresh_scope_and_resource_rules() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let r = s
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &t.refresh),
            ("client_id", &t.client_id),
            ("scope", "admin"),
        ])
        .await;
    assert_eq!(error_of(r).await.1, "invalid_scope");
    let root = s.base.clone();
    let r = s
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &t.refresh),
            ("client_id", &t.client_id),
            ("resource", &root),
        ])
        .await;
    assert_eq!(error_of(r).await.1, "invalid_target");
    let mcp = s.url("/mcp");
    let r = s
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &t.refresh),
            ("client_id", &t.client_id),
            ("resource", &mcp),
            ("scope", "mcp:tools"),
        ])
        .await;
    ok_json(r).await;
}

#[tokio::test]
async fn refresh_tokens_expire_after_their_ttl() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    s.clock.advance(Duration::from_secs(30 * 86_400 + 1));
    assert_eq!(
        error_of(s.refresh(&t.client_id, &t.refresh).await).await.1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn refresh_ttl_slides_with_use_and_is_configurable() {
    let mut args = default_args();
    args.refresh_token_ttl = Duration::from_secs(3600);
    args.access_token_ttl = Duration::from_secs(600);
    let s = spawn_app_with(Options::with_oauth(args)).await;
    let t = s.obtain_tokens().await;
    assert_eq!(t.body["expires_in"], 600);
    s.clock.advance(Duration::from_secs(3000));
    let v = ok_json(s.refresh(&t.client_id, &t.refresh).await).await;
    s.clock.advance(Duration::from_secs(3000));
    ok_json(
        s.refresh(&t.client_id, v["refresh_token"].as_str().unwrap())
            .await,
    )
    .await;
}

#[tokio::test]
async fn unknown_refresh_token_is_invalid_grant() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let (st, err, _) = error_of(s.refresh(&t.client_id, "cm_rt_forged").await).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
}
