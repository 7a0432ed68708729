//! `--allow-signup`: accounts created on the sign-in page are rate-limited
//! per IP and in total, their names are case-insensitive, and the account
//! cap does not close sign-up for good (unused accounts expire).
use super::helpers::*;
use crypto_mcp::oauth::store::StoreLimits;
use reqwest::StatusCode;
use std::time::Duration;

fn signup_args() -> crypto_mcp::oauth::OAuthArgs {
    let mut a = default_args();
    a.allow_signup = true;
    a
}

/// Creates `name` from `http` on a fresh page; returns the response and the
/// PKCE pair its code is bound to.
async fn sign_up(
    s: &TestApp,
    http: &reqwest::Client,
    client_id: &str,
    name: &str,
) -> (reqwest::Response, Pkce) {
    let p = pkce();
    let page = s
        .get_authorize_with(http, &s.authorize_params(client_id, &p))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let fields = [
        ("username", name),
        ("password", "a long enough password"),
        ("create_account", "1"),
        ("decision", "approve"),
    ];
    (s.post_form_with(http, &page, &fields).await, p)
}

#[tokio::test]
async fn sign_up_is_limited_per_ip_before_globally() {
    let s = spawn_app_with(Options::with_oauth(signup_args())).await;
    let client_id = s.register_public().await;
    for i in 0..5 {
        let (r, _) = sign_up(&s, &s.http, &client_id, &format!("user{i}")).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let (r, _) = sign_up(&s, &s.http, &client_id, "user5").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let other = client_from("127.0.0.2");
    let (r, _) = sign_up(&s, &other, &client_id, "user5").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn names_differing_only_in_case_are_one_account() {
    let s = spawn_app_with(Options::with_oauth(signup_args())).await;
    let client_id = s.register_public().await;
    let (r, _) = sign_up(&s, &s.http, &client_id, &USER.to_uppercase()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("taken"));
    let (r, _) = sign_up(&s, &s.http, &client_id, "Bob").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (r, _) = sign_up(&s, &s.http, &client_id, "bob").await;
    assert!(r.text().await.unwrap().contains("taken"));
    let (r, _) = sign_up(&s, &s.http, &client_id, "b\u{f6}b").await;
    assert!(r.text().await.unwrap().contains("letters, digits"));
}

#[tokio::test]
async fn the_account_cap_does_not_close_sign_up_for_good() {
    let limits = StoreLimits {
        users: 2,
        ..StoreLimits::default()
    };
    let s = spawn_app_with(Options::with_oauth(signup_args()).limits(limits)).await;
    let client_id = s.register_public().await;
    // One account is used (its client gets tokens), one is not.
    let (r, p) = sign_up(&s, &s.http, &client_id, "used").await;
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(
        s.exchange(&client_id, &q["code"], &p).await.status(),
        StatusCode::OK
    );
    let (r, _) = sign_up(&s, &s.http, &client_id, "idle").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (r, _) = sign_up(&s, &s.http, &client_id, "late").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text().await.unwrap().contains("Sign-up is closed"));

    // A day later the unused account is gone and sign-up is open again.
    s.clock.advance(Duration::from_secs(24 * 3600 + 1));
    s.oauth().sweep_now().await;
    let (r, _) = sign_up(&s, &s.http, &client_id, "late").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    let fields = [
        ("username", "used"),
        ("password", "a long enough password"),
        ("decision", "approve"),
    ];
    let r = s.post_form(&page, &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the used account stays");
}
