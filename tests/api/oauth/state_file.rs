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
    let addr = s1.stop().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let s2 = spawn_app_with(Options::with_oauth(args).at(&addr)).await;
    assert_eq!(s2.base, s1.base);
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
    for _ in 0..50 {
        if std::fs::read_to_string(&path).is_ok_and(|t| t.contains(&client_id)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
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
    let r = crypto_mcp::oauth::OAuth::new(
        &args,
        "http://127.0.0.1:1",
        crypto_mcp::oauth::system_clock(),
    )
    .await;
    assert!(r.is_err());
}

#[tokio::test]
async fn unwritable_state_file_fails_startup() {
    let mut args = default_args();
    args.state_file = Some("/nonexistent-dir/for/sure/state.json".into());
    let r = crypto_mcp::oauth::OAuth::new(
        &args,
        "http://127.0.0.1:1",
        crypto_mcp::oauth::system_clock(),
    )
    .await;
    assert!(r.is_err());
}
