//! Sign-in sessions and remembered consent: a returning browser whose user
//! already approved this client and redirect URI goes straight back.
use super::helpers::*;
use reqwest::StatusCode;
use std::time::Duration;

/// A "browser": keeps cookies, never follows redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn open(
    s: &TestApp,
    b: &reqwest::Client,
    params: &[(String, String)],
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let r = b
        .get(s.url("/authorize"))
        .query(params)
        .send()
        .await
        .unwrap();
    let (st, h) = (r.status(), r.headers().clone());
    (st, h, r.text().await.unwrap())
}

fn field(body: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let i = body.find(&needle).unwrap() + needle.len();
    body[i..i + body[i..].find('"').unwrap()].to_owned()
}

async fn submit(
    s: &TestApp,
    b: &reqwest::Client,
    body: &str,
    user: &str,
    pw: &str,
) -> reqwest::Response {
    b.post(s.url("/authorize"))
        .form(&[
            ("request_id", field(body, "request_id").as_str()),
            ("csrf_token", field(body, "csrf_token").as_str()),
            ("username", user),
            ("password", pw),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap()
}

async fn sign_in_once(s: &TestApp, b: &reqwest::Client, client_id: &str) {
    let (st, _, body) = open(s, b, &s.authorize_params(client_id, &pkce())).await;
    assert_eq!(st, StatusCode::OK);
    let r = submit(s, b, &body, USER, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookies: Vec<&str> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("cmcp_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
}

#[tokio::test]
async fn returning_browser_with_remembered_consent_skips_the_page() {
    let s = spawn_app_with(Options::oauth()).await;
    let b = browser();
    let client_id = s.register_public().await;
    sign_in_once(&s, &b, &client_id).await;
    let p = pkce();
    let (st, h, _) = open(&s, &b, &s.authorize_params(&client_id, &p)).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let q = query_of(h["location"].to_str().unwrap());
    assert_eq!(q["state"], "st-123");
    assert_eq!(q["iss"], s.base);
    assert_eq!(
        s.exchange(&client_id, &q["code"], &p).await.status(),
        StatusCode::OK
    );
    // Reconnect without scope (ChatGPT) also goes straight through.
    let mut params = s.authorize_params(&client_id, &pkce());
    params.retain(|(k, _)| k != "scope");
    assert_eq!(open(&s, &b, &params).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn another_client_still_needs_consent_but_not_the_password() {
    let s = spawn_app_with(Options::oauth()).await;
    let b = browser();
    sign_in_once(&s, &b, &s.register_public().await).await;
    let other = s.register_public().await;
    let (st, _, body) = open(&s, &b, &s.authorize_params(&other, &pkce())).await;
    assert_eq!(st, StatusCode::OK);
    assert!(body.contains("You are signed in as <strong>alice</strong>"));
    let r = submit(&s, &b, &body, "", "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(REDIRECT)
    );
}

#[tokio::test]
async fn a_different_redirect_uri_needs_consent_again() {
    let s = spawn_app_with(Options::oauth()).await;
    let b = browser();
    let r = s
        .register(serde_json::json!({"redirect_uris": [REDIRECT, "http://127.0.0.1:3000/other"]}))
        .await;
    let v: serde_json::Value = r.json().await.unwrap();
    let client_id = v["client_id"].as_str().unwrap();
    sign_in_once(&s, &b, client_id).await;
    let mut params = s.authorize_params(client_id, &pkce());
    params.retain(|(k, _)| k != "redirect_uri");
    params.push(("redirect_uri".into(), "http://127.0.0.1:3000/other".into()));
    assert_eq!(open(&s, &b, &params).await.0, StatusCode::OK);
}

#[tokio::test]
async fn prompt_forces_the_page() {
    let s = spawn_app_with(Options::oauth()).await;
    let b = browser();
    let client_id = s.register_public().await;
    sign_in_once(&s, &b, &client_id).await;
    let mut params = s.authorize_params(&client_id, &pkce());
    params.push(("prompt".into(), "consent".into()));
    let (st, _, body) = open(&s, &b, &params).await;
    assert_eq!(st, StatusCode::OK);
    assert!(body.contains("You are signed in as"));
    let mut params = s.authorize_params(&client_id, &pkce());
    params.push(("prompt".into(), "login".into()));
    let (st, _, body) = open(&s, &b, &params).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!body.contains("You are signed in as"));
    // With prompt=login the session is not used: empty credentials fail.
    assert_eq!(
        submit(&s, &b, &body, "", "").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        submit(&s, &b, &body, USER, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sessions_expire() {
    let s = spawn_app_with(Options::oauth()).await;
    let b = browser();
    let client_id = s.register_public().await;
    sign_in_once(&s, &b, &client_id).await;
    s.clock.advance(Duration::from_secs(7 * 86_400 + 1));
    let (st, _, body) = open(&s, &b, &s.authorize_params(&client_id, &pkce())).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!body.contains("You are signed in as"));
    let r = submit(&s, &b, &body, "", "").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn no_session_without_a_successful_login() {
    let s = spawn_app_with(Options::oauth()).await;
    let b = browser();
    let client_id = s.register_public().await;
    let (_, _, body) = open(&s, &b, &s.authorize_params(&client_id, &pkce())).await;
    let r = submit(&s, &b, &body, USER, "wrong").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("cmcp_session="))
    );
    assert_eq!(s.oauth().store_counts()["sessions"], 0);
}
