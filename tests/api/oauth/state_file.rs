//! `--state-file`: a restart keeps connected clients working, with the
//! same access token and through a refresh.
use super::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn refresh_succeeds_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth-state.json");
    let mut args = default_args();
    args.state_file = Some(path.clone());
    let s1 = spawn_app_with(Options::with_oauth(args.clone())).await;
    let t = s1.obtain_tokens().await;
    s1.oauth().flush_state().await.unwrap();

    let raw = std::fs::read_to_string(&path).unwrap();
    assert!(
        !raw.contains(&t.access) && !raw.contains(&t.refresh),
        "tokens must not be stored"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    // "Redeploy": the first server stops; a new one starts on the same
    // address (same PUBLIC_URL) from the same file.
    let base = s1.base.clone();
    let addr = s1.stop().await.to_string();
    let s2 = spawn_app_with(Options::with_oauth(args).at(&addr)).await;
    assert_eq!(s2.base, base);
    // The access token (its hash was persisted) still works, so a client
    // mid-session sees no 401 …
    assert_eq!(
        s2.mcp("/mcp", Some(&t.access)).await.status(),
        StatusCode::OK
    );
    // … and the refresh token still works, with the client still registered.
    let r = s2.refresh(&t.client_id, &t.refresh).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["scope"], "mcp:tools");
    // Consent and client survive too: a new authorization works.
    let p = pkce();
    let page = s2
        .get_authorize(&s2.authorize_params(&t.client_id, &p))
        .await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn state_is_written_automatically_after_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let mut args = default_args();
    args.state_file = Some(path.clone());
    let s = spawn_app_with(Options::with_oauth(args)).await;
    let client_id = s.register_public().await;
    // The writer waits for changes to settle (half a second), then writes.
    for _ in 0..100 {
        if std::fs::read_to_string(&path).is_ok_and(|t| t.contains(&client_id)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("state file was not written");
}

#[tokio::test]
async fn corrupt_state_file_fails_startup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, "{not json").unwrap();
    let mut args = default_args();
    args.state_file = Some(path);
    let url = crypto_mcp::urls::PublicBase::Fixed("http://127.0.0.1:1".parse().unwrap());
    let r = crypto_mcp::oauth::OAuth::new(&args, &url, crypto_mcp::oauth::system_clock()).await;
    assert!(r.is_err());
}

#[tokio::test]
async fn unwritable_state_file_fails_startup() {
    let mut args = default_args();
    args.state_file = Some("/nonexistent-dir/for/sure/state.json".into());
    let url = crypto_mcp::urls::PublicBase::Fixed("http://127.0.0.1:1".parse().unwrap());
    let r = crypto_mcp::oauth::OAuth::new(&args, &url, crypto_mcp::oauth::system_clock()).await;
    assert!(r.is_err());
}

/// The same server after a "redeploy": same address, clock and state file.
async fn restart(args: &crypto_mcp::oauth::OAuthArgs, s1: TestApp) -> TestApp {
    s1.oauth().flush_state().await.unwrap();
    let clock = s1.clock.clone();
    let addr = s1.stop().await.to_string();
    spawn_app_with(Options::with_oauth(args.clone()).at(&addr).clock(clock)).await
}

fn state_args(dir: &tempfile::TempDir) -> crypto_mcp::oauth::OAuthArgs {
    let mut args = default_args();
    args.state_file = Some(dir.path().join("oauth-state.json"));
    args
}

#[tokio::test]
async fn revoking_after_a_restart_kills_the_access_token_issued_before() {
    let dir = tempfile::tempdir().unwrap();
    let args = state_args(&dir);
    let s1 = spawn_app_with(Options::with_oauth(args.clone())).await;
    let t = s1.obtain_tokens().await;
    let s2 = restart(&args, s1).await;
    assert_eq!(
        s2.mcp("/mcp", Some(&t.access)).await.status(),
        StatusCode::OK
    );
    let r = s2
        .http
        .post(s2.url("/revoke"))
        .form(&[("token", t.refresh.as_str()), ("client_id", &t.client_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s2.mcp("/mcp", Some(&t.access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn reuse_detected_after_a_restart_kills_every_token_of_the_grant() {
    let dir = tempfile::tempdir().unwrap();
    let args = state_args(&dir);
    let s1 = spawn_app_with(Options::with_oauth(args.clone())).await;
    let t = s1.obtain_tokens().await;
    let r = s1.refresh(&t.client_id, &t.refresh).await;
    let v: Value = r.json().await.unwrap();
    let access2 = v["access_token"].as_str().unwrap().to_owned();
    let s2 = restart(&args, s1).await;
    s2.clock.advance(std::time::Duration::from_secs(121));
    // The first refresh token again, after the grace window: stolen.
    let (status, error, _) = error_of(s2.refresh(&t.client_id, &t.refresh).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    for access in [&t.access, &access2] {
        assert_eq!(
            s2.mcp("/mcp", Some(access)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn temporaries_of_a_crashed_write_are_removed_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".oauth-state.json.tmp.4242");
    std::fs::write(&stale, "{half a snapshot").unwrap();
    let _s = spawn_app_with(Options::with_oauth(state_args(&dir))).await;
    assert!(!stale.exists());
}
