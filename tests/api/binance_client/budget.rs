//! The weight budget against a fake that enforces Binance's limit: the
//! limit is read from `exchangeInfo`, calls past 80 % of it are answered
//! here without reaching Binance, a short wait is waited out, Binance's own
//! count is taken when higher, cache hits are free, and one caller gets at
//! most half while another is active. The fake's minutes and the client's
//! follow one `ManualClock`.

use std::sync::Arc;
use std::time::Duration;

use crypto_mcp::binance::{
    BinanceClient, BinanceError, CallerKey, Clock, Interval, ManualClock, TimeRange,
};

use super::{TestApp, config, sym};
use crate::fake_binance::{FAKE_NOW_MS, FakeBinance, FakeOptions};

/// The limit the fake enforces and advertises; we plan 80 % of it.
const LIMIT: u64 = 300;
const PLANNED: u32 = 240;
const HOUR: i64 = 3_600_000;

/// A fake enforcing [`LIMIT`] on the client's clock, standing at
/// `start_ms`.
async fn spawn_limited(start_ms: i64) -> TestApp {
    let clock = ManualClock::new(start_ms);
    let fake_clock = Arc::clone(&clock);
    let fake = FakeBinance::start_with(FakeOptions {
        weight_limit: Some(LIMIT),
        clock: Some(Arc::new(move || fake_clock.unix_ms())),
    })
    .await;
    let client = BinanceClient::new(config(vec![fake.url()], fake.url(), &clock)).unwrap();
    TestApp {
        fake,
        client,
        clock,
    }
}

/// The `i`-th distinct (so uncached) one-candle request: weight 2.
async fn distinct_kline(client: &BinanceClient, i: i64) -> Result<(), BinanceError> {
    let range = TimeRange {
        start_time: None,
        end_time: Some(FAKE_NOW_MS - i * HOUR),
        limit: Some(1),
    };
    client
        .klines(&sym("BTCUSDT"), Interval::Hour1, range, None)
        .await
        .map(drop)
}

#[tokio::test]
async fn the_limit_comes_from_exchange_info_and_planning_stops_at_80_percent() {
    let app = spawn_limited(FAKE_NOW_MS).await;
    distinct_kline(&app.client, 0).await.unwrap();
    assert_eq!(app.fake.calls("/api/v3/exchangeInfo"), 1, "read once");
    let spot = &app.client.host_status()[0].budget;
    assert!(spot.limit_from_exchange_info);
    assert_eq!((spot.limit, spot.planned), (300, PLANNED));
    // exchangeInfo (20) and one kline (2); then 109 more klines fit.
    assert_eq!(spot.used, 22);
    for i in 1..110 {
        distinct_kline(&app.client, i).await.unwrap();
    }
    assert_eq!(app.client.host_status()[0].budget.used, PLANNED);
    let sent = app.fake.total_calls();
    let error = distinct_kline(&app.client, 110).await.unwrap_err();
    let BinanceError::BudgetExhausted {
        retry_after, share, ..
    } = &error
    else {
        panic!("expected a budget error, got {error:?}");
    };
    assert_eq!(*retry_after, Duration::from_secs(60), "the next minute");
    assert!(!share);
    let text = error.to_string();
    assert!(text.contains("Retry after 60 s"), "{text}");
    assert!(text.contains("nothing was sent to Binance"), "{text}");
    assert_eq!(app.fake.total_calls(), sent, "Binance was not asked");
    assert_eq!(app.fake.limit_429s(), 0);

    // Cache hits cost nothing, even with the budget spent.
    distinct_kline(&app.client, 5).await.unwrap();

    app.clock.advance(Duration::from_secs(60));
    distinct_kline(&app.client, 110).await.unwrap();
    assert_eq!(app.client.host_status()[0].budget.used, 2, "a new minute");
    // The futures host has its own budget and limit.
    let futures = &app.client.host_status()[1].budget;
    assert_eq!((futures.used, futures.limit_from_exchange_info), (0, false));
}

#[tokio::test]
async fn a_call_waits_for_budget_that_frees_within_two_seconds() {
    // 1.5 s before a minute turns.
    let start = FAKE_NOW_MS + 60_000 - 1_500;
    let app = spawn_limited(start).await;
    for i in 0..110 {
        distinct_kline(&app.client, i).await.unwrap();
    }
    let client = app.client.clone();
    let waiting = tokio::spawn(async move { distinct_kline(&client, 200).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "waiting for the minute to turn");
    app.clock.advance(Duration::from_millis(1_500));
    waiting.await.unwrap().unwrap();
    assert_eq!(app.fake.limit_429s(), 0);
}

#[tokio::test]
async fn binance_count_is_taken_when_higher_than_ours() {
    let app = spawn_limited(FAKE_NOW_MS).await;
    app.client.exchange_info().await.unwrap();
    // Someone else on the same IP spends 200 weight this minute.
    let other = reqwest::Client::new();
    for _ in 0..10 {
        other
            .get(format!("{}/api/v3/exchangeInfo", app.fake.url()))
            .send()
            .await
            .unwrap();
    }
    distinct_kline(&app.client, 0).await.unwrap();
    assert_eq!(app.client.host_status()[0].budget.used, 222);
    assert_eq!(app.client.host_status()[0].used_weight_1m, Some(222));
    for i in 1..10 {
        distinct_kline(&app.client, i).await.unwrap();
    }
    assert!(matches!(
        distinct_kline(&app.client, 10).await,
        Err(BinanceError::BudgetExhausted { .. })
    ));
    assert_eq!(app.fake.limit_429s(), 0);
}

#[tokio::test]
async fn one_caller_gets_half_while_another_is_active() {
    let app = spawn_limited(FAKE_NOW_MS).await;
    let (alice, bob) = (
        app.client.for_caller(CallerKey::user("alice")),
        app.client.for_caller(CallerKey::user("bob")),
    );
    // Reading the limit (20) is the server's, not Alice's.
    distinct_kline(&bob, 0).await.unwrap();
    let mut served = 0;
    let error = loop {
        match distinct_kline(&alice, 1 + served).await {
            Ok(()) => served += 1,
            Err(error) => break error,
        }
    };
    assert_eq!(served, 60, "half of the planned 240 weight, at 2 each");
    assert!(
        matches!(&error, BinanceError::BudgetExhausted { share: true, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("half of this server's share"),
        "{error}"
    );
    // Bob still gets through.
    distinct_kline(&bob, 500).await.unwrap();
    assert_eq!(app.fake.limit_429s(), 0);
}
