//! Upstream faults over MCP: each one becomes an `isError` result a model
//! can act on, no call outlives its timeout, the server keeps serving, a
//! 429 pauses the upstream, and identical calls share one request.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{error_text, ok};
use crate::fake_binance::{FAKE_NOW_MS, Fault};
use crate::helpers::{Options, TestApp, spawn_app, spawn_app_with};
use crypto_mcp::binance::ManualClock;

/// Short enough to keep the suite fast, long enough for loopback.
const TIMEOUT_MS: &str = "400";
/// A faulted call may take its timeout plus scheduling slack, never more.
const DEADLINE: Duration = Duration::from_millis(1500);

async fn spawn_fast() -> TestApp {
    spawn_app_with(Options::new().flags(&["--binance-timeout-ms", TIMEOUT_MS])).await
}

async fn klines_error(app: &TestApp) -> String {
    let started = Instant::now();
    let result = app
        .call_tool("binance_klines", json!({ "symbol": "BTCUSDT" }))
        .await;
    assert!(started.elapsed() < DEADLINE, "took {:?}", started.elapsed());
    error_text(&result)
}

/// The server still answers: a local tool at once, and Binance tools once
/// the fault is gone (unless the fault blocks the host on purpose).
async fn still_serving(app: &TestApp) {
    let result = app
        .call_tool("calculate", json!({ "expression": "1+1" }))
        .await;
    assert_eq!(ok(&result)["result"], "2");
}

#[tokio::test]
async fn every_fault_is_an_actionable_error() {
    let cases: [(Fault, &[&str]); 8] = [
        (
            Fault::RateLimited {
                retry_after: Some(5),
            },
            &["HTTP 429", "Retry after 5 s"],
        ),
        (
            Fault::Banned {
                retry_after: Some(5),
            },
            &["HTTP 418", "Retry after 5 s"],
        ),
        (
            Fault::RegionBlocked,
            &["HTTP 451", "deploy the server in a non-US region"],
        ),
        (
            Fault::ServerError,
            &["Binance is unavailable", "retry in a minute"],
        ),
        (
            Fault::Slow { ms: 5_000 },
            &["Binance is unavailable", "no answer within", "retry"],
        ),
        (
            Fault::Hang,
            &["Binance is unavailable", "no answer within", "retry"],
        ),
        (Fault::Malformed, &["cannot read", "retry shortly"]),
        (Fault::Truncated, &["cannot read", "retry shortly"]),
    ];
    for (fault, needles) in cases {
        let app = spawn_fast().await;
        app.binance.set_fault(fault.clone());
        let text = klines_error(&app).await;
        for needle in needles {
            assert!(text.contains(needle), "{fault:?}: {text}");
        }
        still_serving(&app).await;
        // Errors are not cached: once Binance recovers, so does the tool
        // (blocked hosts excepted, which must wait on purpose).
        app.binance.clear_faults();
        if !matches!(
            fault,
            Fault::RateLimited { .. } | Fault::Banned { .. } | Fault::RegionBlocked
        ) {
            let result = app
                .call_tool("binance_klines", json!({ "symbol": "BTCUSDT" }))
                .await;
            assert_eq!(ok(&result)["count"], 100, "{fault:?}");
        }
    }
}

#[tokio::test]
async fn a_slow_upstream_within_the_timeout_is_fine() {
    let app = spawn_fast().await;
    app.binance.set_fault(Fault::Slow { ms: 100 });
    let result = app
        .call_tool("binance_order_book", json!({ "symbol": "BTCUSDT" }))
        .await;
    assert_eq!(ok(&result)["best_ask"]["price"], "102429.56000000");
}

#[tokio::test]
async fn a_hanging_upstream_blocks_no_one_else() {
    let app = std::sync::Arc::new(spawn_fast().await);
    app.binance.set_path_fault("/api/v3/klines", Fault::Hang);
    let hanging = {
        let app = std::sync::Arc::clone(&app);
        tokio::spawn(async move { klines_error(&app).await })
    };
    // Meanwhile other tools answer at once.
    let started = Instant::now();
    still_serving(&app).await;
    let result = app
        .call_tool("binance_ticker", json!({ "symbol": "BTCUSDT" }))
        .await;
    assert_eq!(ok(&result)["tickers"][0]["symbol"], "BTCUSDT");
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    let text = hanging.await.expect("the hanging call ends");
    assert!(text.contains("no answer within"), "{text}");
}

#[tokio::test]
async fn a_429_makes_later_callers_fail_fast_without_upstream_calls() {
    let app = spawn_app().await;
    app.binance.set_fault(Fault::RateLimited {
        retry_after: Some(5),
    });
    let text = klines_error(&app).await;
    assert!(text.contains("Retry after 5 s"), "{text}");
    app.binance.clear_faults();
    assert_eq!(app.binance.total_calls(), 1);
    for (tool, arguments) in [
        ("binance_klines", json!({ "symbol": "ETHUSDT" })),
        ("binance_ticker", json!({ "symbol": "BTCUSDT" })),
        ("binance_order_book", json!({ "symbol": "BTCUSDT" })),
        ("binance_trades", json!({ "symbol": "BTCUSDT" })),
        ("binance_symbols", json!({})),
        ("search", json!({ "query": "btc spot" })),
    ] {
        let started = Instant::now();
        let text = error_text(&app.call_tool(tool, arguments).await);
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "{tool} fails fast"
        );
        assert!(text.contains("Rate limited by Binance"), "{tool}: {text}");
        assert!(text.contains("Retry after"), "{tool}: {text}");
    }
    assert_eq!(
        app.binance.total_calls(),
        1,
        "no upstream call while blocked"
    );
}

#[tokio::test]
async fn the_rate_limit_block_expires() {
    let clock = ManualClock::new(FAKE_NOW_MS);
    let app = spawn_app_with(Options::new().binance_clock(clock.clone())).await;
    app.binance.set_fault(Fault::RateLimited {
        retry_after: Some(1),
    });
    klines_error(&app).await;
    app.binance.clear_faults();
    let text = klines_error(&app).await;
    assert!(text.contains("Retry after 1 s"), "{text}");
    assert_eq!(app.binance.total_calls(), 1);
    clock.advance(Duration::from_millis(1_100));
    let result = app
        .call_tool("binance_klines", json!({ "symbol": "BTCUSDT" }))
        .await;
    assert_eq!(ok(&result)["count"], 100);
    assert_eq!(app.binance.total_calls(), 2);
}

#[tokio::test]
async fn fifty_concurrent_identical_calls_make_one_upstream_call() {
    let app = std::sync::Arc::new(spawn_app().await);
    app.binance.set_fault(Fault::Slow { ms: 100 });
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let app = std::sync::Arc::clone(&app);
            tokio::spawn(async move {
                app.call_tool(
                    "binance_klines",
                    json!({ "symbol": "BTCUSDT", "interval": "1h", "limit": 100 }),
                )
                .await
            })
        })
        .collect();
    let mut uncached = 0;
    for call in calls {
        let result = call.await.expect("call completes");
        let out = ok(&result);
        assert_eq!(out["count"], 100);
        uncached += usize::from(out["cached"] == false);
    }
    assert_eq!(app.binance.calls("/api/v3/klines"), 1);
    assert_eq!(uncached, 1, "one caller fetched, 49 shared its request");
}

/// What `--fault 429:5` on the example's command line promises: refused
/// for 5 s from the first refused request, then served; `--fault 429` and
/// the other faults stay.
#[tokio::test]
async fn timed_command_line_faults_end_after_their_seconds() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    use crate::fake_binance::{FAKE_NOW_MS, FakeBinance, FakeOptions};

    let now = Arc::new(AtomicI64::new(FAKE_NOW_MS));
    let clock = {
        let now = Arc::clone(&now);
        Arc::new(move || now.load(Ordering::SeqCst))
    };
    let fake = FakeBinance::start_with(FakeOptions {
        clock: Some(clock),
        ..FakeOptions::default()
    })
    .await;
    let ping = || async {
        reqwest::get(format!("{}/api/v3/ping", fake.url()))
            .await
            .expect("sent")
    };
    assert_eq!(ping().await.status(), 200, "nothing set yet");
    fake.set_cli_fault(None, "429:5".parse().expect("spec"));
    // The clock starts at the first refusal, not when the fault was set.
    now.fetch_add(60_000, Ordering::SeqCst);
    let refused = ping().await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "5");
    now.fetch_add(4_999, Ordering::SeqCst);
    assert_eq!(ping().await.status(), 429);
    now.fetch_add(1, Ordering::SeqCst);
    assert_eq!(ping().await.status(), 200, "over after 5 s");

    fake.set_cli_fault(Some("/api/v3/ping"), "418:1".parse().expect("spec"));
    assert_eq!(ping().await.status(), 418);
    now.fetch_add(1_000, Ordering::SeqCst);
    assert_eq!(ping().await.status(), 200);

    fake.set_cli_fault(None, "429".parse().expect("spec"));
    now.fetch_add(86_400_000, Ordering::SeqCst);
    assert_eq!(ping().await.status(), 429, "without seconds it stays");
}
