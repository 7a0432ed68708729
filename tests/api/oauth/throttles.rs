//! Sign-in throttles that cannot be raced or turned against the owner: an
//! attempt is counted before its password is checked, a page takes a
//! bounded number of answers, and a browser that signed in before (its
//! device cookie) is not locked out by a stranger's guesses.
use super::helpers::*;
use futures_util::future::join_all;
use reqwest::StatusCode;

/// The `name=value` of every cookie a response sets.
fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect()
}

/// Answers `page` as `user` with `password`, sending `extra` cookies too.
async fn sign_in(
    s: &TestApp,
    http: &reqwest::Client,
    page: &Page,
    extra: Option<&str>,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let cookies = [page.cookie.as_deref(), extra]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
    let form = [
        ("request_id", page.field("request_id").unwrap()),
        ("csrf_token", page.field("csrf_token").unwrap()),
        ("username", user.to_owned()),
        ("password", password.to_owned()),
        ("decision", "approve".to_owned()),
    ];
    http.post(s.url("/authorize"))
        .header("cookie", cookies)
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn page_for(s: &TestApp, http: &reqwest::Client, client_id: &str) -> Page {
    let page = s
        .get_authorize_with(http, &s.authorize_params(client_id, &pkce()))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page
}

/// Whether the password of this answer was checked (right or wrong), as
/// opposed to refused before argon2 ran.
async fn checked(r: reqwest::Response) -> bool {
    match r.status() {
        StatusCode::SEE_OTHER => true,
        StatusCode::TOO_MANY_REQUESTS => false,
        StatusCode::BAD_REQUEST => r
            .text()
            .await
            .unwrap()
            .contains("Invalid user name or password"),
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_guesses_is_counted_before_the_passwords_are_checked() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    // 49 wrong passwords and the right one, all at once, over five pages (a
    // page takes ten answers).
    let mut pages = Vec::new();
    for _ in 0..5 {
        pages.push(page_for(&s, &s.http, &client_id).await);
    }
    // Fifty open connections first, so the burst arrives as one.
    let warm = (0..50).map(|_| s.http.get(s.url("/healthz")).send());
    for r in join_all(warm).await {
        assert_eq!(r.unwrap().status(), StatusCode::OK);
    }
    let attempts = (0..50).map(|i| {
        let pw = if i == 49 { PASSWORD } else { "wrong-guess" };
        sign_in(&s, &s.http, &pages[i / 10], None, USER, pw)
    });
    let responses = join_all(attempts).await;
    let mut n_checked = 0;
    for r in responses {
        if checked(r).await {
            n_checked += 1;
        }
    }
    assert!(
        n_checked <= 5,
        "{n_checked} passwords were checked; the account allows 5 failures"
    );
}

#[tokio::test]
async fn a_page_takes_a_bounded_number_of_answers() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = page_for(&s, &s.http, &client_id).await;
    let mut statuses = Vec::new();
    for i in 0..11 {
        // Different unknown names: the account budget is not what stops them.
        let r = sign_in(&s, &s.http, &page, None, &format!("nobody{i}"), "guess").await;
        statuses.push((r.status(), r.text().await.unwrap()));
    }
    assert!(
        statuses[..10]
            .iter()
            .all(|(st, body)| *st == StatusCode::BAD_REQUEST && body.contains("Invalid")),
        "the first ten answers are checked"
    );
    let (st, body) = &statuses[10];
    assert_eq!(*st, StatusCode::BAD_REQUEST);
    assert!(body.contains("expired"), "{body}");
    // The right password does not revive the page.
    let r = sign_in(&s, &s.http, &page, None, USER, PASSWORD).await;
    assert!(r.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    // The owner signs in once in their browser, which gets a device cookie.
    let page = page_for(&s, &s.http, &client_id).await;
    let r = sign_in(&s, &s.http, &page, None, USER, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let device = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("cmcp_device="))
        .expect("a device cookie");

    // A stranger elsewhere locks the account for browsers without one.
    let stranger = client_from("127.0.0.2");
    let page = page_for(&s, &stranger, &client_id).await;
    for _ in 0..5 {
        let r = sign_in(&s, &stranger, &page, None, USER, "guess").await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let r = sign_in(&s, &stranger, &page, None, USER, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let fresh_browser = client_from("127.0.0.3");
    let page = page_for(&s, &fresh_browser, &client_id).await;
    let r = sign_in(&s, &fresh_browser, &page, None, USER, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);

    // The owner's browser still signs in.
    let page = page_for(&s, &s.http, &client_id).await;
    let r = sign_in(&s, &s.http, &page, Some(&device), USER, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A forged cookie is not trusted.
    let forged = format!("{}x", &device[..device.len() - 1]);
    let page = page_for(&s, &fresh_browser, &client_id).await;
    let r = sign_in(&s, &fresh_browser, &page, Some(&forged), USER, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_trusted_browser_has_a_budget_of_its_own() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = page_for(&s, &s.http, &client_id).await;
    let r = sign_in(&s, &s.http, &page, None, USER, PASSWORD).await;
    let device = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("cmcp_device="))
        .expect("a device cookie");
    let page = page_for(&s, &s.http, &client_id).await;
    for _ in 0..10 {
        let r = sign_in(&s, &s.http, &page, Some(&device), USER, "typo").await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let page = page_for(&s, &s.http, &client_id).await;
    let r = sign_in(&s, &s.http, &page, Some(&device), USER, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Its failures were not the account's: another browser still signs in.
    let other = client_from("127.0.0.2");
    let page = page_for(&s, &other, &client_id).await;
    let r = sign_in(&s, &other, &page, None, USER, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn user_names_are_case_insensitive() {
    let s = spawn_app_with(Options::oauth()).await;
    let client_id = s.register_public().await;
    let page = page_for(&s, &s.http, &client_id).await;
    let r = sign_in(&s, &s.http, &page, None, &USER.to_uppercase(), PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Failures under any spelling are one account's.
    let stranger = client_from("127.0.0.2");
    let page = page_for(&s, &stranger, &client_id).await;
    for name in ["Alice", "ALICE", "aLiCe", "alicE", "ALIce"] {
        let r = sign_in(&s, &stranger, &page, None, name, "guess").await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let r = sign_in(&s, &stranger, &page, None, USER, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}
