//! One client cannot spend everyone's budget: every per-IP limit is checked
//! before the global one, and bounded collections refuse cleanly when full.
use super::helpers::*;
use crypto_mcp::oauth::store::StoreLimits;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_registration_flood_from_one_ip_leaves_others_registering() {
    let s = spawn_app_with(Options::oauth()).await;
    let body = json!({"redirect_uris": [REDIRECT]});
    let mut created = 0;
    for _ in 0..330 {
        let r = s.register(body.clone()).await;
        match r.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 30, "the flooding IP gets its own budget only");
    let other = client_from("127.0.0.2");
    let r = s.register_with(&other, body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_page_flood_from_one_ip_leaves_others_signing_in() {
    // Few pages in total, so a flood that is not stopped per IP fills them.
    let limits = StoreLimits {
        pending: 40,
        ..StoreLimits::default()
    };
    let s = spawn_app_with(Options::with_oauth(default_args()).limits(limits)).await;
    let client_id = s.register_public().await;
    let mut ok = 0;
    let mut last = None;
    for _ in 0..70 {
        let page = s
            .get_authorize(&s.authorize_params(&client_id, &pkce()))
            .await;
        match page.status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(page.headers.contains_key("retry-after"));
                last = Some(page.body);
            }
            other => panic!("unexpected {other}: {}", page.body),
        }
    }
    assert_eq!(ok, 30, "pages kept open per IP are bounded");
    assert!(
        last.unwrap().contains("Wait a minute"),
        "then opening is throttled"
    );

    // Another IP signs in.
    let other = client_from("127.0.0.2");
    let p = pkce();
    let page = s
        .get_authorize_with(&other, &s.authorize_params(&client_id, &p))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let fields = [
        ("username", USER),
        ("password", PASSWORD),
        ("decision", "approve"),
    ];
    let r = s.post_form_with(&other, &page, &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Only when everyone together fills the store is it full: 503, briefly.
    // (Its page was answered, so the other IP holds none yet.)
    for _ in 0..10 {
        let page = s
            .get_authorize_with(&other, &s.authorize_params(&client_id, &pkce()))
            .await;
        assert_eq!(page.status, StatusCode::OK);
    }
    let third = client_from("127.0.0.3");
    let page = s
        .get_authorize_with(&third, &s.authorize_params(&client_id, &pkce()))
        .await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_full_client_store_refuses_registration_cleanly() {
    let limits = StoreLimits {
        clients: 2,
        ..StoreLimits::default()
    };
    let s = spawn_app_with(Options::with_oauth(default_args()).limits(limits)).await;
    s.register_public().await;
    s.register_public().await;
    let r = s.register(json!({"redirect_uris": [REDIRECT]})).await;
    let (status, error, _) = error_of(r).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
    );
    // Unused clients expire, and then there is room again.
    s.clock
        .advance(std::time::Duration::from_secs(24 * 3600 + 1));
    s.register_public().await;
}
