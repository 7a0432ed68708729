//! `/revoke` (RFC 7009).
use super::helpers::*;
use reqwest::StatusCode;

async fn revoke(
    s: &TestApp,
    client_id: &str,
    token: &str,
    hint: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("token", token), ("client_id", client_id)];
    if let Some(h) = hint {
        form.push(("token_type_hint", h));
    }
    s.http
        .post(s.url("/revoke"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn revoking_an_access_token() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let r = revoke(&s, &t.client_id, &t.access, Some("access_token")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let (st, err, _) = error_of(s.mcp("/mcp", Some(&t.access)).await).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    // The refresh token still works.
    assert_eq!(
        s.refresh(&t.client_id, &t.refresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_the_grant() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let r = revoke(&s, &t.client_id, &t.refresh, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.mcp("/mcp", Some(&t.access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        error_of(s.refresh(&t.client_id, &t.refresh).await).await.1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn unknown_and_foreign_tokens_get_200_and_nothing_happens() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let other = s.register_public().await;
    assert_eq!(
        revoke(&s, &t.client_id, "cm_at_unknown", None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        revoke(&s, &other, &t.access, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        revoke(&s, &other, &t.refresh, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        s.mcp("/mcp", Some(&t.access)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        s.refresh(&t.client_id, &t.refresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn revocation_requires_client_authentication() {
    let s = spawn_app_with(Options::oauth()).await;
    let t = s.obtain_tokens().await;
    let r = s
        .http
        .post(s.url("/revoke"))
        .form(&[("token", t.access.as_str())])
        .send()
        .await
        .unwrap();
    let (st, err, _) = error_of(r).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    let r = s
        .http
        .post(s.url("/revoke"))
        .form(&[("client_id", t.client_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.1, "invalid_request");
    assert_eq!(
        s.mcp("/mcp", Some(&t.access)).await.status(),
        StatusCode::OK
    );
}
