//! The rules every [`Store`] backend must keep, one test per rule. The rules
//! are written against the trait only; [`store_contract!`] instantiates them
//! for a backend given a constructor taking [`StoreLimits`], so the memory
//! and the Redis backend run the very same checks. The Redis ones run
//! against a real `redis-server` started on loopback (see
//! `tests/support/redis_server.rs`), each test under a key prefix of its own.

use super::*;
use crate::oauth::tokens::{TokenHash, mint};

pub type Make = fn(StoreLimits) -> Box<dyn Store>;

const WINDOW: Limit = Limit {
    max: 3,
    window_secs: 60,
};

fn code(family: &str, now: u64) -> CodeRec {
    CodeRec {
        family: family.into(),
        client_id: "c1".into(),
        redirect_uri: "http://127.0.0.1/cb".into(),
        code_challenge: "x".into(),
        scopes: vec!["mcp:tools".into()],
        resource: "https://h/mcp".into(),
        user: "alice".into(),
        issued_at: now,
        expires_at: now + 300,
    }
}

fn tokens(now: u64) -> (NewTokens, TokenHash, TokenHash) {
    let (_, access) = mint("a");
    let (_, refresh) = mint("r");
    let t = NewTokens {
        access,
        access_expires_at: now + 3600,
        refresh,
        refresh_expires_at: now + 86_400,
    };
    (t, access, refresh)
}

/// The redemption `code(…)` was issued for, with fresh tokens.
fn redeem(now: u64) -> (Redeem, TokenHash, TokenHash) {
    let (t, at, rt) = tokens(now);
    let req = Redeem {
        client_id: "c1".into(),
        redirect_uri: "http://127.0.0.1/cb".into(),
        challenge: Some("x".into()),
        resource: None,
        tokens: t,
        now,
    };
    (req, at, rt)
}

/// Opens a grant and returns (access hash, refresh hash).
pub(super) async fn active_grant(s: &dyn Store, family: &str, now: u64) -> (TokenHash, TokenHash) {
    let (_, ch) = mint("c");
    s.issue_code(ch, code(family, now)).await.unwrap();
    let (req, at, rt) = redeem(now);
    assert!(matches!(
        s.redeem_code(&ch, req).await,
        Ok(Redeemed::Issued(_))
    ));
    (at, rt)
}

fn rotate_req(presented: TokenHash, now: u64) -> (RotateReq, TokenHash, TokenHash) {
    let (_, new_rt) = mint("r");
    let (_, new_at) = mint("a");
    let (_, ct) = mint("ct");
    (
        RotateReq {
            presented,
            client_id: "c1".into(),
            new_refresh: new_rt,
            successor_ct: ct,
            new_access: new_at,
            access_expires_at: now + 3600,
            refresh_expires_at: now + 86_400,
            scopes: None,
            resource: None,
            now,
            grace_secs: 120,
        },
        new_rt,
        new_at,
    )
}

async fn rotate(s: &dyn Store, req: RotateReq) -> Rotate {
    s.rotate_refresh(req).await.unwrap()
}

async fn live(s: &dyn Store, access: &TokenHash, now: u64) -> bool {
    s.access(access, now).await.unwrap().is_some()
}

fn pending(owner: &str, expires_at: u64) -> PendingAuth {
    let (_, h) = mint("x");
    PendingAuth {
        client_id: "c1".into(),
        redirect_uri: "http://127.0.0.1/cb".into(),
        code_challenge: "x".into(),
        scopes: None,
        state: None,
        resource: "https://h/mcp".into(),
        csrf: h,
        browser: h,
        force_login: false,
        owner: owner.into(),
        posts: 0,
        expires_at,
    }
}

fn client(id: &str, kind: ClientKind, created_at: u64) -> ClientRec {
    ClientRec {
        client_id: id.into(),
        client_name: None,
        redirect_uris: vec!["https://a/cb".into()],
        auth_method: AuthMethod::None,
        secret_hash: None,
        kind,
        created_at,
        last_used: None,
        cache_until: None,
    }
}

fn user(name: &str, created_at: u64) -> UserRec {
    UserRec {
        name: name.into(),
        phc: "$argon2id$x".into(),
        created_at,
        last_seen: None,
    }
}

pub async fn codes_are_single_use(make: Make) {
    let s = make(StoreLimits::default());
    let (_, ch) = mint("c");
    s.issue_code(ch, code("f", 1_000)).await.unwrap();
    let first = s.redeem_code(&ch, redeem(1_000).0).await.unwrap();
    assert!(matches!(first, Redeemed::Issued(i) if i.user == "alice"));
    assert!(matches!(
        s.redeem_code(&ch, redeem(1_000).0).await.unwrap(),
        Redeemed::Replayed
    ));
    let (_, unknown) = mint("c");
    assert!(matches!(
        s.redeem_code(&unknown, redeem(1_000).0).await.unwrap(),
        Redeemed::Invalid
    ));
}

pub async fn code_replay_revokes_the_grant(make: Make) {
    let s = make(StoreLimits::default());
    let now = 1_000;
    let (_, ch) = mint("c");
    s.issue_code(ch, code("f", now)).await.unwrap();
    let (req, at, rt) = redeem(now);
    s.redeem_code(&ch, req).await.unwrap();
    assert!(live(s.as_ref(), &at, now).await);
    s.redeem_code(&ch, redeem(now).0).await.unwrap();
    assert!(!live(s.as_ref(), &at, now).await);
    let (req, _, _) = rotate_req(rt, now);
    assert!(matches!(rotate(s.as_ref(), req).await, Rotate::Invalid));
}

pub async fn expired_codes_are_invalid(make: Make) {
    let s = make(StoreLimits::default());
    let (_, ch) = mint("c");
    s.issue_code(ch, code("f", 0)).await.unwrap();
    assert!(matches!(
        s.redeem_code(&ch, redeem(301).0).await.unwrap(),
        Redeemed::Invalid
    ));
}

pub async fn a_mismatched_redemption_spends_the_code(make: Make) {
    let s = make(StoreLimits::default());
    type Spoil = fn(&mut Redeem);
    let cases: [(Spoil, Mismatch); 5] = [
        (|r| r.client_id = "c2".into(), Mismatch::Client),
        (|r| r.redirect_uri.push('x'), Mismatch::RedirectUri),
        (|r| r.challenge = Some("y".into()), Mismatch::Pkce),
        (|r| r.challenge = None, Mismatch::Pkce),
        (
            |r| r.resource = Some("https://h".into()),
            Mismatch::Resource,
        ),
    ];
    for (i, (spoil, want)) in cases.into_iter().enumerate() {
        let (_, ch) = mint("c");
        s.issue_code(ch, code(&format!("f{i}"), 10)).await.unwrap();
        let (mut req, at, _) = redeem(10);
        spoil(&mut req);
        assert!(
            matches!(s.redeem_code(&ch, req).await.unwrap(), Redeemed::Mismatch(m) if m == want)
        );
        assert!(!live(s.as_ref(), &at, 10).await);
        // No second try, even with everything right.
        assert!(!matches!(
            s.redeem_code(&ch, redeem(10).0).await.unwrap(),
            Redeemed::Issued(_)
        ));
    }
    // The resource may be left out, or named as issued.
    let (_, ch) = mint("c");
    s.issue_code(ch, code("g", 10)).await.unwrap();
    let (mut req, _, _) = redeem(10);
    req.resource = Some("https://h/mcp".into());
    assert!(matches!(
        s.redeem_code(&ch, req).await.unwrap(),
        Redeemed::Issued(_)
    ));
}

pub async fn of_concurrent_redemptions_one_is_issued(make: Make) {
    let s = make(StoreLimits::default());
    let (_, ch) = mint("c");
    s.issue_code(ch, code("f", 10)).await.unwrap();
    let attempts = (0..50).map(|_| s.redeem_code(&ch, redeem(10).0));
    let outcomes = futures_util::future::join_all(attempts).await;
    let issued = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Redeemed::Issued(_))))
        .count();
    let replayed = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Redeemed::Replayed)))
        .count();
    assert_eq!((issued, replayed), (1, 49));
}

pub async fn parallel_refreshes_within_grace_share_one_successor(make: Make) {
    let s = make(StoreLimits::default());
    let now = 5_000;
    let (_, rt1) = active_grant(s.as_ref(), "f", now).await;
    let (req, _, at2) = rotate_req(rt1, now);
    let ct = req.successor_ct;
    assert!(matches!(rotate(s.as_ref(), req).await, Rotate::Rotated(i) if i.user == "alice"));
    assert!(live(s.as_ref(), &at2, now).await);
    let (req, _, at3) = rotate_req(rt1, now + 60);
    match rotate(s.as_ref(), req).await {
        Rotate::Grace { successor_ct, .. } => assert_eq!(successor_ct, ct),
        other => panic!("expected grace, got {other:?}"),
    }
    assert!(live(s.as_ref(), &at3, now + 60).await);
}

pub async fn reuse_after_grace_revokes_the_grant(make: Make) {
    let s = make(StoreLimits::default());
    let now = 5_000;
    let (at1, rt1) = active_grant(s.as_ref(), "f", now).await;
    let (req, rt2, at2) = rotate_req(rt1, now);
    assert!(matches!(rotate(s.as_ref(), req).await, Rotate::Rotated(_)));
    let (req, _, _) = rotate_req(rt1, now + 121);
    assert!(matches!(
        rotate(s.as_ref(), req).await,
        Rotate::ReuseDetected
    ));
    assert!(!live(s.as_ref(), &at1, now + 121).await);
    assert!(!live(s.as_ref(), &at2, now + 121).await);
    let (req, _, _) = rotate_req(rt2, now + 122);
    assert!(matches!(rotate(s.as_ref(), req).await, Rotate::Invalid));
}

pub async fn rotation_checks_client_scope_and_target_without_consuming(make: Make) {
    let s = make(StoreLimits::default());
    let now = 9_000;
    let (_, rt) = active_grant(s.as_ref(), "f", now).await;
    let (mut req, _, _) = rotate_req(rt, now);
    req.client_id = "other".into();
    assert!(matches!(rotate(s.as_ref(), req).await, Rotate::Invalid));
    let (mut req, _, _) = rotate_req(rt, now);
    req.scopes = Some(vec!["admin".into()]);
    assert!(matches!(
        rotate(s.as_ref(), req).await,
        Rotate::InvalidScope
    ));
    let (mut req, _, _) = rotate_req(rt, now);
    req.resource = Some("https://h".into());
    assert!(matches!(
        rotate(s.as_ref(), req).await,
        Rotate::InvalidTarget
    ));
    let (req, _, _) = rotate_req(rt, now);
    assert!(matches!(rotate(s.as_ref(), req).await, Rotate::Rotated(_)));
}

pub async fn expired_grants_do_not_rotate(make: Make) {
    let s = make(StoreLimits::default());
    let (_, rt) = active_grant(s.as_ref(), "f", 0).await;
    let (req, _, _) = rotate_req(rt, 86_400);
    assert!(matches!(rotate(s.as_ref(), req).await, Rotate::Invalid));
}

pub async fn revocation_checks_ownership(make: Make) {
    let s = make(StoreLimits::default());
    let now = 20_000;
    let (at, rt) = active_grant(s.as_ref(), "f", now).await;
    assert_eq!(
        s.revoke_token(&at, "other").await.unwrap(),
        Revoked::Nothing
    );
    assert_eq!(
        s.revoke_token(&rt, "other").await.unwrap(),
        Revoked::Nothing
    );
    assert!(live(s.as_ref(), &at, now).await);
    assert_eq!(s.revoke_token(&at, "c1").await.unwrap(), Revoked::Access);
    assert!(!live(s.as_ref(), &at, now).await);
}

pub async fn revoking_a_refresh_token_kills_every_token_of_the_grant(make: Make) {
    let s = make(StoreLimits::default());
    let now = 20_000;
    let (at1, rt1) = active_grant(s.as_ref(), "f", now).await;
    let (req, rt2, at2) = rotate_req(rt1, now);
    rotate(s.as_ref(), req).await;
    assert_eq!(s.revoke_token(&rt2, "c1").await.unwrap(), Revoked::Grant);
    assert!(!live(s.as_ref(), &at1, now).await);
    assert!(!live(s.as_ref(), &at2, now).await);
    let (req, _, _) = rotate_req(rt2, now);
    assert!(matches!(rotate(s.as_ref(), req).await, Rotate::Invalid));
}

pub async fn access_tokens_per_grant_are_bounded(make: Make) {
    let s = make(StoreLimits {
        access_per_grant: 2,
        ..StoreLimits::default()
    });
    let now = 100;
    let (at1, mut rt) = active_grant(s.as_ref(), "f", now).await;
    let mut latest = Vec::new();
    for i in 0..2 {
        let (req, next, at) = rotate_req(rt, now + i);
        rotate(s.as_ref(), req).await;
        rt = next;
        latest.push(at);
    }
    assert!(!live(s.as_ref(), &at1, now + 2).await, "oldest dropped");
    for at in &latest {
        assert!(live(s.as_ref(), at, now + 2).await);
    }
}

pub async fn codes_and_grants_are_bounded(make: Make) {
    let s = make(StoreLimits {
        codes: 2,
        ..StoreLimits::default()
    });
    for f in ["f1", "f2"] {
        let (_, h) = mint("c");
        s.issue_code(h, code(f, 0)).await.unwrap();
    }
    let (_, h) = mint("c");
    assert_eq!(
        s.issue_code(h, code("f3", 0)).await.unwrap_err(),
        StoreError::Full
    );
    // Once the old codes have expired there is room again.
    s.issue_code(h, code("f3", 301)).await.unwrap();
}

pub async fn pending_requests_are_taken_once(make: Make) {
    let s = make(StoreLimits::default());
    s.put_pending("r1", pending("ip:a", 600), 0).await.unwrap();
    assert!(s.post_pending("r1", 5, 1).await.unwrap().is_some());
    assert!(s.take_pending("r1", 1).await.unwrap().is_some());
    assert!(s.take_pending("r1", 1).await.unwrap().is_none());
    assert!(s.post_pending("r1", 5, 1).await.unwrap().is_none());
}

pub async fn pending_requests_expire(make: Make) {
    let s = make(StoreLimits::default());
    s.put_pending("r1", pending("ip:a", 600), 0).await.unwrap();
    assert!(s.post_pending("r1", 5, 600).await.unwrap().is_none());
    s.put_pending("r2", pending("ip:a", 600), 0).await.unwrap();
    assert!(s.take_pending("r2", 601).await.unwrap().is_none());
}

pub async fn a_pending_page_accepts_a_bounded_number_of_posts(make: Make) {
    let s = make(StoreLimits::default());
    s.put_pending("r1", pending("ip:a", 600), 0).await.unwrap();
    for n in 1..=3 {
        let p = s.post_pending("r1", 3, 1).await.unwrap().expect("open");
        assert_eq!(p.posts, n);
    }
    assert!(s.post_pending("r1", 3, 1).await.unwrap().is_none());
    assert!(
        s.take_pending("r1", 1).await.unwrap().is_none(),
        "a page past its posts is gone"
    );
}

pub async fn pending_pages_are_bounded_per_owner_before_in_total(make: Make) {
    let s = make(StoreLimits {
        pending: 3,
        pending_per_owner: 2,
        ..StoreLimits::default()
    });
    s.put_pending("a1", pending("ip:a", 600), 0).await.unwrap();
    s.put_pending("a2", pending("ip:a", 600), 0).await.unwrap();
    assert_eq!(
        s.put_pending("a3", pending("ip:a", 600), 0)
            .await
            .unwrap_err(),
        StoreError::OwnerFull
    );
    s.put_pending("b1", pending("ip:b", 600), 0).await.unwrap();
    assert_eq!(
        s.put_pending("c1", pending("ip:c", 600), 0)
            .await
            .unwrap_err(),
        StoreError::Full
    );
    // Answering a page gives its owner the slot back.
    s.take_pending("a1", 1).await.unwrap();
    s.put_pending("a3", pending("ip:a", 600), 1).await.unwrap();
    // So does expiry.
    s.put_pending("c1", pending("ip:c", 1200), 600)
        .await
        .unwrap();
}

pub async fn clients_register_once_and_are_bounded(make: Make) {
    let s = make(StoreLimits {
        clients: 1,
        ..StoreLimits::default()
    });
    s.register_client(client("c1", ClientKind::Dcr, 0))
        .await
        .unwrap();
    assert_eq!(
        s.register_client(client("c1", ClientKind::Dcr, 0))
            .await
            .unwrap_err(),
        StoreError::AlreadyExists
    );
    assert_eq!(
        s.register_client(client("c2", ClientKind::Dcr, 0))
            .await
            .unwrap_err(),
        StoreError::Full
    );
    assert!(s.client("c1").await.unwrap().is_some());
}

pub async fn unused_clients_expire_and_used_ones_stay(make: Make) {
    let s = make(StoreLimits::default());
    s.register_client(client("idle", ClientKind::Dcr, 0))
        .await
        .unwrap();
    let mut used = client("c1", ClientKind::Dcr, 0);
    used.last_used = Some(10);
    s.register_client(used).await.unwrap();
    s.sweep(UNUSED_TTL_SECS + 1).await.unwrap();
    assert!(s.client("idle").await.unwrap().is_none());
    assert!(s.client("c1").await.unwrap().is_some());
    s.sweep(10 + IDLE_TTL_SECS).await.unwrap();
    assert!(s.client("c1").await.unwrap().is_none());
}

pub async fn cimd_documents_outlive_their_cache_and_keep_their_use(make: Make) {
    let s = make(StoreLimits::default());
    let mut doc = client("c1", ClientKind::Cimd, 0);
    doc.cache_until = Some(300);
    s.cache_cimd_client(doc.clone()).await.unwrap();
    active_grant(s.as_ref(), "f", 50).await;
    // A refetched document keeps the client's last use.
    s.cache_cimd_client(doc).await.unwrap();
    s.sweep(301).await.unwrap();
    let stale = s.client("c1").await.unwrap().expect("kept past its cache");
    assert_eq!(stale.last_used, Some(50));
}

pub async fn user_names_are_unique_and_accounts_bounded(make: Make) {
    let s = make(StoreLimits {
        users: 1,
        ..StoreLimits::default()
    });
    s.create_user(user("bob", 0)).await.unwrap();
    assert_eq!(
        s.create_user(user("bob", 0)).await.unwrap_err(),
        StoreError::AlreadyExists
    );
    assert_eq!(
        s.create_user(user("carol", 0)).await.unwrap_err(),
        StoreError::Full
    );
    // The cap is not for good: an account nobody used goes after a day.
    s.create_user(user("carol", UNUSED_TTL_SECS + 1))
        .await
        .unwrap();
}

pub async fn used_accounts_stay_and_their_consents_go_with_them(make: Make) {
    let s = make(StoreLimits::default());
    s.create_user(user("bob", 0)).await.unwrap();
    s.create_user(user("idle", 0)).await.unwrap();
    s.touch_user("bob", 100).await.unwrap();
    let consent = Consent {
        scopes: vec!["mcp:tools".into()],
        granted_at: 1,
    };
    // "configured" stands for a user from the configuration, not the store.
    for u in ["bob", "idle", "configured"] {
        s.record_consent(ConsentKey::new(u, "c9", "https://a/cb"), consent.clone())
            .await
            .unwrap();
    }
    s.sweep(UNUSED_TTL_SECS + 1).await.unwrap();
    assert!(s.user("bob").await.unwrap().is_some());
    assert!(s.user("idle").await.unwrap().is_none());
    assert!(
        s.consent(&ConsentKey::new("idle", "c9", "https://a/cb"))
            .await
            .unwrap()
            .is_none()
    );
    for kept in ["bob", "configured"] {
        assert!(
            s.consent(&ConsentKey::new(kept, "c9", "https://a/cb"))
                .await
                .unwrap()
                .is_some(),
            "{kept}"
        );
    }
}

pub async fn consents_are_per_redirect_uri(make: Make) {
    let s = make(StoreLimits::default());
    let consent = Consent {
        scopes: vec!["mcp:tools".into()],
        granted_at: 1,
    };
    s.record_consent(ConsentKey::new("bob", "c9", "https://a/cb"), consent)
        .await
        .unwrap();
    assert!(
        s.consent(&ConsentKey::new("bob", "c9", "https://a/cb"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.consent(&ConsentKey::new("bob", "c9", "https://a/other"))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn sessions_expire(make: Make) {
    let s = make(StoreLimits::default());
    let (_, h) = mint("s");
    let sess = Session {
        user: "bob".into(),
        expires_at: 100,
    };
    s.create_session(h, sess, 0).await.unwrap();
    assert!(s.session(&h, 99).await.unwrap().is_some());
    assert!(s.session(&h, 100).await.unwrap().is_none());
}

pub async fn reservations_stop_at_the_limit_until_the_window_ends(make: Make) {
    let s = make(StoreLimits::default());
    for _ in 0..3 {
        assert_eq!(s.reserve("k", WINDOW, 0).await.unwrap(), Admit::Granted);
    }
    assert_eq!(
        s.reserve("k", WINDOW, 10).await.unwrap(),
        Admit::Refused { retry_after: 50 }
    );
    assert_eq!(
        s.reserve("other", WINDOW, 10).await.unwrap(),
        Admit::Granted
    );
    assert_eq!(s.reserve("k", WINDOW, 60).await.unwrap(), Admit::Granted);
}

pub async fn a_refused_reservation_counts_nothing(make: Make) {
    let s = make(StoreLimits::default());
    for _ in 0..3 {
        s.reserve("k", WINDOW, 0).await.unwrap();
    }
    for _ in 0..10 {
        s.reserve("k", WINDOW, 1).await.unwrap();
    }
    s.release("k", 2).await.unwrap();
    assert_eq!(s.reserve("k", WINDOW, 3).await.unwrap(), Admit::Granted);
    assert!(matches!(
        s.reserve("k", WINDOW, 3).await.unwrap(),
        Admit::Refused { .. }
    ));
}

pub async fn released_reservations_give_room_back(make: Make) {
    let s = make(StoreLimits::default());
    for _ in 0..10 {
        assert_eq!(s.reserve("k", WINDOW, 0).await.unwrap(), Admit::Granted);
        s.release("k", 0).await.unwrap();
    }
    // Releasing what was never reserved gives no extra room.
    s.release("fresh", 0).await.unwrap();
    for _ in 0..3 {
        s.reserve("fresh", WINDOW, 0).await.unwrap();
    }
    assert!(matches!(
        s.reserve("fresh", WINDOW, 0).await.unwrap(),
        Admit::Refused { .. }
    ));
}

pub async fn secrets_are_created_once(make: Make) {
    let s = make(StoreLimits::default());
    let a = s.secret("device-cookie").await.unwrap();
    assert_eq!(s.secret("device-cookie").await.unwrap(), a);
    assert_ne!(s.secret("other").await.unwrap(), a);
}

/// One `#[tokio::test]` per rule for the backend `$make` builds, each run
/// only if `$ready` says the backend can be had.
macro_rules! store_contract {
    ($make:expr) => {
        $crate::oauth::store::contract::store_contract!($make, true);
    };
    ($make:expr, $ready:expr) => {
        $crate::oauth::store::contract::store_contract!(@rules $make, $ready;
            codes_are_single_use,
            code_replay_revokes_the_grant,
            expired_codes_are_invalid,
            a_mismatched_redemption_spends_the_code,
            of_concurrent_redemptions_one_is_issued,
            parallel_refreshes_within_grace_share_one_successor,
            reuse_after_grace_revokes_the_grant,
            rotation_checks_client_scope_and_target_without_consuming,
            expired_grants_do_not_rotate,
            revocation_checks_ownership,
            revoking_a_refresh_token_kills_every_token_of_the_grant,
            access_tokens_per_grant_are_bounded,
            codes_and_grants_are_bounded,
            pending_requests_are_taken_once,
            pending_requests_expire,
            a_pending_page_accepts_a_bounded_number_of_posts,
            pending_pages_are_bounded_per_owner_before_in_total,
            clients_register_once_and_are_bounded,
            unused_clients_expire_and_used_ones_stay,
            cimd_documents_outlive_their_cache_and_keep_their_use,
            user_names_are_unique_and_accounts_bounded,
            used_accounts_stay_and_their_consents_go_with_them,
            consents_are_per_redirect_uri,
            sessions_expire,
            reservations_stop_at_the_limit_until_the_window_ends,
            a_refused_reservation_counts_nothing,
            released_reservations_give_room_back,
            secrets_are_created_once,
        );
    };
    (@rules $make:expr, $ready:expr; $($rule:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $rule() {
                if $ready {
                    $crate::oauth::store::contract::$rule($make).await;
                }
            }
        )*
    };
}
pub(crate) use store_contract;

mod memory {
    use super::super::{MemoryStore, Store, StoreLimits};
    super::store_contract!(|limits: StoreLimits| -> Box<dyn Store> {
        Box::new(MemoryStore::new(limits))
    });
}

mod redis {
    use super::super::{RedisStore, Store, StoreLimits};
    use crate::redis_server::RedisServer;
    use crate::shared::redis::Redis;

    fn store(limits: StoreLimits) -> Box<dyn Store> {
        let server = RedisServer::shared().expect("checked before");
        let prefix = format!("t{}:", crate::oauth::tokens::random_id());
        Box::new(RedisStore::new(Redis::lazy(&server.url(), &prefix), limits))
    }

    super::store_contract!(store, RedisServer::shared().is_some());
}
