//! The Binance client against the fake: every endpoint's happy path with
//! values from the fixture, then faults, failover, rate limits and the cache.
//! Time is a `ManualClock`; nothing here sleeps for seconds or leaves
//! loopback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crypto_mcp::binance::client::{MAX_RETRY_AFTER, REGION_BLOCK_COOL_DOWN};
use crypto_mcp::binance::{
    BinanceClient, BinanceConfig, BinanceError, Interval, ManualClock, Symbol, TimeRange,
    WindowSize,
};
use rust_decimal::Decimal;
use serde_json::json;

use crate::fake_binance::{FAKE_NOW_MS, FakeBinance, Fault};

mod budget;

/// Short enough to keep the timeout tests fast, long enough for a loaded
/// CI machine to answer the happy paths.
const TIMEOUT: Duration = Duration::from_millis(300);
const FIRST_OPEN: i64 = 1_735_689_600_000;
const LAST_OPEN: i64 = 1_738_364_400_000;
const KLINES: &str = "/api/v3/klines";

struct TestApp {
    fake: FakeBinance,
    client: BinanceClient,
    clock: Arc<ManualClock>,
}

fn config(spot: Vec<String>, futures: String, clock: &Arc<ManualClock>) -> BinanceConfig {
    BinanceConfig {
        spot_base_urls: spot,
        futures_base_url: futures,
        connect_timeout: TIMEOUT,
        attempt_timeout: TIMEOUT,
        request_timeout: TIMEOUT,
        max_retries: 2,
        backoff: Duration::from_millis(5),
        clock: clock.clone(),
    }
}

/// One fake serving spot and futures, and a client whose clock stands at
/// the fake's "now" (inside the last candle).
async fn spawn() -> TestApp {
    let fake = FakeBinance::start().await;
    let clock = ManualClock::new(FAKE_NOW_MS);
    let client = BinanceClient::new(config(vec![fake.url()], fake.url(), &clock)).unwrap();
    TestApp {
        fake,
        client,
        clock,
    }
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

async fn btc_klines(
    app: &TestApp,
    range: TimeRange,
) -> Result<Vec<crypto_mcp::binance::wire::Kline>, BinanceError> {
    let fetched = app
        .client
        .klines(&sym("BTCUSDT"), Interval::Hour1, range, None)
        .await?;
    Ok(fetched.value.to_vec())
}

// ---------------------------------------------------------------------------
// Happy paths.

#[tokio::test]
async fn klines_serve_the_fixture_exactly() {
    let app = spawn().await;
    let klines = btc_klines(&app, TimeRange::default()).await.unwrap();
    assert_eq!(klines.len(), 500, "Binance's default limit");
    let last = klines.last().unwrap();
    assert_eq!(last.open_time, LAST_OPEN);
    assert_eq!(last.close_time, LAST_OPEN + 3_599_999);
    // Exact strings out, as Binance sent them: nothing went through f64.
    assert_eq!(
        serde_json::to_value(last).unwrap(),
        json!({
            "open_time": LAST_OPEN, "open": "102261.29000000", "high": "102439.31000000",
            "low": "101955.00000000", "close": "102429.56000000", "volume": "587.31239000",
            "close_time": LAST_OPEN + 3_599_999, "quote_volume": "60065195.75828310",
            "trades": 5973, "taker_buy_base_volume": "317.14869060",
            "taker_buy_quote_volume": "32435205.70947287"
        })
    );
}

#[tokio::test]
async fn klines_follow_binance_range_rules() {
    let app = spawn().await;
    let all = btc_klines(
        &app,
        TimeRange {
            start_time: Some(0),
            end_time: None,
            limit: Some(1000),
        },
    )
    .await
    .unwrap();
    assert_eq!(all.len(), 744, "every fixture row");
    assert_eq!(all[0].open_time, FIRST_OPEN);
    assert_eq!(all[0].open, d("93576.00000000"));
    assert_eq!(all[0].close, d("94401.14"));

    let from_start = btc_klines(
        &app,
        TimeRange {
            start_time: Some(FIRST_OPEN + 1),
            end_time: None,
            limit: Some(3),
        },
    )
    .await
    .unwrap();
    let opens: Vec<i64> = from_start.iter().map(|k| k.open_time).collect();
    assert_eq!(
        opens,
        [1, 2, 3].map(|h| FIRST_OPEN + h * 3_600_000),
        "oldest from startTime"
    );

    let up_to_end = btc_klines(
        &app,
        TimeRange {
            start_time: None,
            end_time: Some(FIRST_OPEN + 5 * 3_600_000),
            limit: Some(2),
        },
    )
    .await
    .unwrap();
    let opens: Vec<i64> = up_to_end.iter().map(|k| k.open_time).collect();
    assert_eq!(
        opens,
        [4, 5].map(|h| FIRST_OPEN + h * 3_600_000),
        "most recent up to endTime"
    );

    let between = btc_klines(
        &app,
        TimeRange {
            start_time: Some(FIRST_OPEN),
            end_time: Some(FIRST_OPEN + 3_600_000),
            limit: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(between.len(), 2, "both ends inclusive");

    let clamped = btc_klines(&app, TimeRange::last(5000)).await.unwrap();
    assert_eq!(clamped.len(), 744, "limit clamped to 1000, fixture has 744");

    let reversed = btc_klines(
        &app,
        TimeRange {
            start_time: Some(10),
            end_time: Some(5),
            limit: None,
        },
    )
    .await;
    assert!(matches!(
        reversed,
        Err(BinanceError::InvalidParameter { code: None, .. })
    ));
}

#[tokio::test]
async fn daily_klines_aggregate_the_hours() {
    let app = spawn().await;
    let hours = btc_klines(
        &app,
        TimeRange {
            start_time: Some(0),
            end_time: None,
            limit: Some(24),
        },
    )
    .await
    .unwrap();
    let days = app
        .client
        .klines(&sym("BTCUSDT"), Interval::Day1, TimeRange::last(1000), None)
        .await
        .unwrap();
    assert_eq!(days.value.len(), 31);
    let first = &days.value[0];
    assert_eq!(first.open, hours[0].open);
    assert_eq!(first.close, hours[23].close);
    assert_eq!(first.high, hours.iter().map(|k| k.high).max().unwrap());
    assert_eq!(
        first.volume,
        hours.iter().map(|k| k.volume).sum::<Decimal>()
    );
    assert_eq!(first.close_time, FIRST_OPEN + 86_400_000 - 1);
}

#[tokio::test]
async fn ticker_24hr_covers_the_last_24_candles() {
    let app = spawn().await;
    let candles = app.fake.btcusdt_1h();
    let window = &candles[720..];
    let ticker = app.client.ticker_24hr(&[sym("BTCUSDT")]).await.unwrap();
    let (t, book) = (&ticker.value[0].stats, &ticker.value[0]);
    assert_eq!(t.symbol, "BTCUSDT");
    assert_eq!(t.open_price, d("104722.94"));
    assert_eq!(t.last_price, d("102429.56"));
    assert_eq!(t.price_change, d("-2293.38"));
    assert_eq!(t.price_change_percent.to_string(), "-2.190");
    assert_eq!(t.open_price, window[0].open);
    assert_eq!(t.high_price, window.iter().map(|c| c.high).max().unwrap());
    assert_eq!(t.low_price, window.iter().map(|c| c.low).min().unwrap());
    assert_eq!(t.volume, window.iter().map(|c| c.volume).sum::<Decimal>());
    assert_eq!(book.prev_close_price, candles[719].close);
    assert_eq!(t.open_time, window[0].open_time);
    assert_eq!(t.close_time, LAST_OPEN + 3_599_999);
    assert_eq!(t.count, window.iter().map(|c| c.trades).sum::<u64>());
    assert_eq!(
        serde_json::to_value(t).unwrap()["last_price"],
        "102429.56000000"
    );

    let two = app
        .client
        .ticker_24hr(&[sym("ETHUSDT"), sym("BTCUSDT")])
        .await
        .unwrap();
    let names: Vec<&str> = two.value.iter().map(|t| t.stats.symbol.as_str()).collect();
    assert_eq!(names, ["ETHUSDT", "BTCUSDT"]);
    let all = app.client.ticker_24hr(&[]).await.unwrap();
    assert_eq!(all.value.len(), 10);
}

#[tokio::test]
async fn rolling_window_price_and_book_tickers() {
    let app = spawn().await;
    let candles = app.fake.btcusdt_1h();
    let window = app
        .client
        .ticker_window(&[sym("BTCUSDT")], WindowSize::parse("2h").unwrap())
        .await
        .unwrap();
    assert_eq!(window.value[0].open_price, candles[742].open);
    assert_eq!(window.value[0].last_price, candles[743].close);
    assert!(matches!(
        app.client
            .ticker_window(&[], WindowSize::parse("1d").unwrap())
            .await,
        Err(BinanceError::InvalidParameter { .. })
    ));

    let prices = app
        .client
        .ticker_price(&[sym("BTCUSDT"), sym("XRPUSDT")])
        .await
        .unwrap();
    assert_eq!(prices.value[0].price, d("102429.56"));
    assert_eq!(prices.value[1].symbol, "XRPUSDT");

    let book = app.client.book_ticker(&[sym("BTCUSDT")]).await.unwrap();
    assert_eq!(book.value[0].bid_price, d("102429.55"));
    assert_eq!(book.value[0].ask_price, d("102429.56"));
}

#[tokio::test]
async fn depth_trades_and_agg_trades() {
    let app = spawn().await;
    let book = app.client.depth(&sym("BTCUSDT"), Some(5)).await.unwrap();
    assert_eq!(book.value.bids.len(), 5);
    assert_eq!(book.value.asks.len(), 5);
    assert_eq!(book.value.bids[0].price, d("102429.55"));
    assert_eq!(book.value.asks[0].price, d("102429.56"));
    assert_eq!(book.value.asks[4].price, d("102429.60"));
    assert_eq!(book.value.bids[1].qty, d("0.02"));
    assert_eq!(book.value.last_update_id, 1_027_024);

    let trades = app.client.trades(&sym("BTCUSDT"), Some(3)).await.unwrap();
    let ids: Vec<u64> = trades.value.iter().map(|t| t.id).collect();
    assert_eq!(
        ids,
        [44_637, 44_638, 44_639],
        "the most recent, oldest first"
    );
    let last = &trades.value[2];
    assert_eq!(
        last.price,
        d("102429.56"),
        "the tape ends at the last close"
    );
    assert_eq!(last.quote_qty, last.price * last.qty);

    let range = TimeRange {
        start_time: Some(FIRST_OPEN),
        end_time: None,
        limit: Some(2),
    };
    let agg = app.client.agg_trades(&sym("BTCUSDT"), range).await.unwrap();
    assert_eq!(agg.value[0].id, 0);
    assert_eq!(agg.value[0].time, FIRST_OPEN + 30_000);
    assert_eq!(
        agg.value[0].price,
        d("93576.00"),
        "the first trade is at the first open"
    );
    assert_eq!(agg.value[1].first_trade_id, 1);
}

#[tokio::test]
async fn exchange_info_reads_filters_leniently() {
    let app = spawn().await;
    let info = app.client.exchange_info().await.unwrap();
    assert_eq!(info.value.symbols.len(), 10);
    assert_eq!(info.value.rate_limits[0].limit, 6000);
    let btc = info
        .value
        .symbols
        .iter()
        .find(|s| s.symbol == "BTCUSDT")
        .unwrap();
    assert_eq!(
        (btc.base_asset.as_str(), btc.quote_asset.as_str()),
        ("BTC", "USDT")
    );
    assert_eq!(btc.tick_size, Some(d("0.01")));
    assert_eq!(btc.step_size, Some(d("0.00001")));
    assert_eq!(btc.min_notional, Some(d("5")));
    let halted = info
        .value
        .symbols
        .iter()
        .find(|s| s.symbol == "BNBBTC")
        .unwrap();
    assert_eq!(halted.status, "BREAK");
}

#[tokio::test]
async fn futures_endpoints() {
    let app = spawn().await;
    let btc = sym("BTCUSDT");
    let premium = app.client.premium_index(Some(&btc)).await.unwrap();
    assert_eq!(premium.value[0].mark_price, d("102429.56"));
    assert_eq!(premium.value[0].last_funding_rate, d("0.00011"));
    assert_eq!(app.client.premium_index(None).await.unwrap().value.len(), 7);

    let funding = app
        .client
        .funding_rate(&btc, TimeRange::last(2))
        .await
        .unwrap();
    let times: Vec<i64> = funding.value.iter().map(|f| f.funding_time).collect();
    assert_eq!(times, [1_738_310_400_000, 1_738_339_200_000]);
    assert_eq!(funding.value[1].mark_price, Some(d("105081.87")));

    let oi = app.client.open_interest(&btc).await.unwrap();
    assert_eq!(oi.value.open_interest, d("80382.695"));

    let period = Interval::parse_futures_data_period("1h").unwrap();
    let hist = app
        .client
        .open_interest_hist(&btc, period, TimeRange::last(2))
        .await
        .unwrap();
    assert_eq!(
        hist.value[1].timestamp, LAST_OPEN,
        "timestamp sent as a string"
    );
    assert_eq!(hist.value[1].sum_open_interest, d("80382.695"));
    assert!(hist.value[1].cmc_circulating_supply.is_some());
    assert!(matches!(
        app.client
            .open_interest_hist(&btc, Interval::Minute1, TimeRange::default())
            .await,
        Err(BinanceError::InvalidInterval { .. })
    ));

    let info = app.client.futures_exchange_info().await.unwrap();
    let perpetuals = info
        .value
        .symbols
        .iter()
        .filter(|s| s.contract_type == "PERPETUAL")
        .count();
    assert_eq!(perpetuals, 7);
}

// ---------------------------------------------------------------------------
// Bad input.

#[tokio::test]
async fn unknown_symbol_suggests_close_matches() {
    let app = spawn().await;
    let error = app
        .client
        .klines(&sym("btc/usd"), Interval::Hour1, TimeRange::default(), None)
        .await
        .unwrap_err();
    let BinanceError::InvalidSymbol {
        symbol,
        suggestions,
    } = &error
    else {
        panic!("expected InvalidSymbol, got {error:?}");
    };
    assert_eq!(symbol, "BTCUSD");
    assert_eq!(suggestions[..2], ["BTCUSDC", "BTCUSDT"]);
    assert!(
        error.to_string().contains("Did you mean BTCUSDC, BTCUSDT"),
        "{error}"
    );
    assert_eq!(
        app.fake.calls("/api/v3/exchangeInfo"),
        1,
        "suggestions come from exchange info"
    );

    let error = app
        .client
        .ticker_24hr(&[sym("BTCUSDT"), sym("ETHUSTD")])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, BinanceError::InvalidSymbol { symbol, suggestions } if symbol == "ETHUSTD" && suggestions[0] == "ETHUSDT"),
        "{error:?}"
    );
    assert_eq!(
        app.fake.calls("/api/v3/exchangeInfo"),
        1,
        "exchange info is cached"
    );

    // A spot-only pair is no perpetual: the perpetuals of its base asset
    // come from futures info.
    let error = app.client.open_interest(&sym("BTCUSDC")).await.unwrap_err();
    assert!(
        matches!(&error, BinanceError::NoPerpetual(spot) if spot.base_asset == "BTC" && spot.perpetuals == ["BTCUSDT"]),
        "{error:?}"
    );
}

#[tokio::test]
async fn bad_symbols_and_intervals_fail_before_any_call() {
    assert_eq!(sym(" eth-usdt ").as_str(), "ETHUSDT");
    let error = Symbol::parse("BTC$USDT").unwrap_err();
    assert!(error.to_string().contains("letters or digits"), "{error}");
    assert!(Symbol::parse("").is_err());
    let error = Interval::parse("1H").unwrap_err();
    assert!(matches!(error, BinanceError::InvalidInterval { .. }));
    assert!(
        error.to_string().contains("1m is one minute, 1M one month"),
        "{error}"
    );
    assert_eq!(
        Interval::parse("1M").unwrap().duration_ms(),
        30 * 86_400_000
    );
    assert_eq!(Interval::parse("1s").unwrap().duration_ms(), 1000);
}

// ---------------------------------------------------------------------------
// Rate limits and region blocks.

#[tokio::test]
async fn rate_limit_pauses_every_caller_until_retry_after() {
    let app = spawn().await;
    app.fake.set_fault(Fault::RateLimited {
        retry_after: Some(5),
    });
    let error = btc_klines(&app, TimeRange::default()).await.unwrap_err();
    assert!(
        matches!(&error, BinanceError::RateLimited { retry_after, .. } if *retry_after == Duration::from_secs(5))
    );
    assert!(error.to_string().contains("Retry after 5 s"), "{error}");
    app.fake.clear_faults();

    for _ in 0..10 {
        let started = Instant::now();
        let error = app
            .client
            .ticker_price(&[sym("BTCUSDT")])
            .await
            .unwrap_err();
        assert!(
            matches!(error, BinanceError::RateLimited { .. }),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_millis(50), "fails fast");
    }
    assert_eq!(app.fake.total_calls(), 1, "no call while blocked");

    app.clock.advance(Duration::from_millis(4_500));
    let error = btc_klines(&app, TimeRange::default()).await.unwrap_err();
    assert!(error.to_string().contains("Retry after 1 s"), "{error}");
    assert_eq!(app.fake.total_calls(), 1);

    app.clock.advance(Duration::from_millis(600));
    btc_klines(&app, TimeRange::default()).await.unwrap();
    assert_eq!(app.fake.total_calls(), 2, "the block has expired");
}

#[tokio::test]
async fn ban_pauses_calls_and_missing_retry_after_means_a_minute() {
    let app = spawn().await;
    app.fake.set_fault_times(
        Fault::Banned {
            retry_after: Some(120),
        },
        1,
    );
    let error = btc_klines(&app, TimeRange::default()).await.unwrap_err();
    assert!(matches!(error, BinanceError::Banned { .. }));
    assert!(error.to_string().contains("banned"), "{error}");
    let status = &app.client.host_status()[0];
    assert!(status.banned && status.blocked_for == Some(Duration::from_secs(120)));
    assert!(matches!(
        app.client.exchange_info().await,
        Err(BinanceError::Banned { .. })
    ));
    assert_eq!(app.fake.total_calls(), 1);
    app.clock.advance(Duration::from_secs(121));
    btc_klines(&app, TimeRange::default()).await.unwrap();

    app.fake
        .set_fault_times(Fault::RateLimited { retry_after: None }, 1);
    let error = app.client.depth(&sym("BTCUSDT"), None).await.unwrap_err();
    assert!(
        matches!(error, BinanceError::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(60))
    );
}

#[tokio::test]
async fn retry_after_is_clamped_to_the_longest_ban() {
    let app = spawn().await;
    app.fake.set_fault_times(
        Fault::Banned {
            retry_after: Some(u64::from(u32::MAX)),
        },
        1,
    );
    let error = btc_klines(&app, TimeRange::default()).await.unwrap_err();
    assert!(
        matches!(&error, BinanceError::Banned { retry_after, .. } if *retry_after == MAX_RETRY_AFTER),
        "{error:?}"
    );
    assert_eq!(MAX_RETRY_AFTER, Duration::from_secs(3 * 24 * 3600));
    let status = &app.client.host_status()[0];
    assert_eq!(status.blocked_for, Some(MAX_RETRY_AFTER));
    // Three days later the host is asked again.
    app.clock.advance(MAX_RETRY_AFTER);
    btc_klines(&app, TimeRange::last(2)).await.unwrap();

    // A value past u32 is clamped too, not read as "no header".
    app.fake.set_fault_times(
        Fault::RateLimited {
            retry_after: Some(99_999_999_999),
        },
        1,
    );
    let error = app.client.depth(&sym("BTCUSDT"), None).await.unwrap_err();
    assert!(
        matches!(error, BinanceError::RateLimited { retry_after, .. } if retry_after == MAX_RETRY_AFTER),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_answer_never_holds_more_rows_than_asked_for() {
    let fake = FakeBinance::start().await;
    let clock = ManualClock::new(FAKE_NOW_MS);
    // Writing and reading 20,000 rows takes a while in a debug build.
    let slow_enough = BinanceConfig {
        attempt_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(10),
        ..config(vec![fake.url()], fake.url(), &clock)
    };
    let client = BinanceClient::new(slow_enough).unwrap();
    let app = TestApp {
        fake,
        client,
        clock,
    };
    app.client.exchange_info().await.unwrap();
    app.fake
        .set_path_fault(KLINES, Fault::Flood { rows: 20_000 });
    let klines = btc_klines(&app, TimeRange::last(5)).await.unwrap();
    assert_eq!(klines.len(), 5, "the most recent five of 20,000");
    let from_start = btc_klines(
        &app,
        TimeRange {
            start_time: Some(FIRST_OPEN),
            end_time: None,
            limit: Some(3),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        from_start.iter().map(|k| k.open_time).collect::<Vec<_>>(),
        [FIRST_OPEN, FIRST_OPEN + 3_600_000, FIRST_OPEN + 7_200_000],
        "the oldest three when asked from a start"
    );
    let defaulted = btc_klines(&app, TimeRange::default()).await.unwrap();
    assert_eq!(defaulted.len(), 500, "Binance's default limit");
}

#[tokio::test]
async fn region_block_falls_over_to_the_next_host() {
    let blocked = FakeBinance::start().await;
    let open = FakeBinance::start().await;
    blocked.set_fault(Fault::RegionBlocked);
    let clock = ManualClock::new(FAKE_NOW_MS);
    let client =
        BinanceClient::new(config(vec![blocked.url(), open.url()], open.url(), &clock)).unwrap();

    client.ticker_price(&[sym("BTCUSDT")]).await.unwrap();
    client.depth(&sym("BTCUSDT"), None).await.unwrap();
    // The first request (reading the weight limit) met the 451.
    assert_eq!(blocked.total_calls(), 1, "a 451 host is set aside");
    assert_eq!(open.calls("/api/v3/ticker/price"), 1);
    assert_eq!(open.calls("/api/v3/depth"), 1);
    assert!(client.host_status()[0].region_blocked);
}

#[tokio::test]
async fn a_region_blocked_host_is_tried_again_after_a_cool_down() {
    let blocked = FakeBinance::start().await;
    let open = FakeBinance::start().await;
    blocked.set_fault_times(Fault::RegionBlocked, 1);
    let clock = ManualClock::new(FAKE_NOW_MS);
    let client =
        BinanceClient::new(config(vec![blocked.url(), open.url()], open.url(), &clock)).unwrap();
    client.ticker_price(&[sym("BTCUSDT")]).await.unwrap();
    clock.advance(REGION_BLOCK_COOL_DOWN - Duration::from_secs(1));
    client.depth(&sym("BTCUSDT"), None).await.unwrap();
    assert_eq!(blocked.total_calls(), 1, "set aside during the cool-down");

    clock.advance(Duration::from_secs(2));
    assert!(!client.host_status()[0].region_blocked);
    client.trades(&sym("BTCUSDT"), Some(5)).await.unwrap();
    assert_eq!(
        blocked.calls("/api/v3/trades"),
        1,
        "the lifted block is noticed"
    );
    assert_eq!(open.calls("/api/v3/trades"), 0);
}

#[tokio::test]
async fn region_block_everywhere_says_how_to_fix_it() {
    let first = FakeBinance::start().await;
    let second = FakeBinance::start().await;
    first.set_fault(Fault::RegionBlocked);
    second.set_fault(Fault::RegionBlocked);
    let clock = ManualClock::new(FAKE_NOW_MS);
    let client =
        BinanceClient::new(config(vec![first.url(), second.url()], first.url(), &clock)).unwrap();

    let error = client.ticker_price(&[sym("BTCUSDT")]).await.unwrap_err();
    let BinanceError::RegionBlocked { hosts } = &error else {
        panic!("expected RegionBlocked, got {error:?}");
    };
    assert_eq!(hosts, &[first.url(), second.url()]);
    let text = error.to_string();
    for hint in ["HTTP 451", "fra", "BINANCE_BASE_URL", "will not help"] {
        assert!(text.contains(hint), "{text}");
    }
    assert!(matches!(
        client.ticker_price(&[sym("ETHUSDT")]).await,
        Err(BinanceError::RegionBlocked { .. })
    ));
    assert_eq!(
        first.total_calls() + second.total_calls(),
        2,
        "never asked again"
    );
}

// ---------------------------------------------------------------------------
// Server errors, timeouts, bad bodies.

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let app = spawn().await;
    app.fake.set_fault(Fault::ServerError);
    let error = btc_klines(&app, TimeRange::default()).await.unwrap_err();
    assert!(
        matches!(error, BinanceError::Unavailable { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("retry in a minute"), "{error}");
    assert!(error.to_string().contains("HTTP 500"), "{error}");
    assert_eq!(app.fake.calls(KLINES), 3, "one try and two retries");
}

#[tokio::test]
async fn a_retry_recovers_from_one_server_error() {
    let app = spawn().await;
    app.client.exchange_info().await.unwrap();
    app.fake.set_fault_times(Fault::ServerError, 1);
    assert_eq!(btc_klines(&app, TimeRange::last(1)).await.unwrap().len(), 1);
    assert_eq!(app.fake.calls(KLINES), 2);
}

#[tokio::test]
async fn server_error_on_the_first_host_moves_to_the_second() {
    let failing = FakeBinance::start().await;
    let working = FakeBinance::start().await;
    failing.set_fault(Fault::ServerError);
    let clock = ManualClock::new(FAKE_NOW_MS);
    let client = BinanceClient::new(config(
        vec![failing.url(), working.url()],
        working.url(),
        &clock,
    ))
    .unwrap();
    client.ticker_price(&[sym("BTCUSDT")]).await.unwrap();
    let price_calls = |fake: &FakeBinance| fake.calls("/api/v3/ticker/price");
    assert_eq!((price_calls(&failing), price_calls(&working)), (1, 1));
}

#[tokio::test]
async fn a_hanging_upstream_times_out_in_time() {
    let app = spawn().await;
    app.client.exchange_info().await.unwrap();
    app.fake.set_fault(Fault::Hang);
    let started = Instant::now();
    let error = btc_klines(&app, TimeRange::default()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(error, BinanceError::Unavailable { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("no answer within"), "{error}");
    assert!(elapsed < 2 * TIMEOUT, "took {elapsed:?}");
}

#[tokio::test]
async fn a_slow_upstream_within_the_timeout_is_fine() {
    let app = spawn().await;
    app.fake.set_fault(Fault::Slow { ms: 50 });
    assert_eq!(btc_klines(&app, TimeRange::last(2)).await.unwrap().len(), 2);
}

#[tokio::test]
async fn malformed_and_truncated_bodies_are_reported_not_retried() {
    for fault in [Fault::Malformed, Fault::Truncated] {
        let app = spawn().await;
        app.fake.set_fault(fault.clone());
        let error = btc_klines(&app, TimeRange::default()).await.unwrap_err();
        let BinanceError::Malformed { endpoint, detail } = &error else {
            panic!("{fault:?}: expected Malformed, got {error:?}");
        };
        assert_eq!(endpoint, KLINES);
        assert!(detail.len() < 400, "only an excerpt: {detail}");
        assert!(error.to_string().contains("retry shortly"), "{error}");
        assert_eq!(app.fake.calls(KLINES), 1);
    }
}

#[tokio::test]
async fn used_weight_is_tracked_per_host() {
    let app = spawn().await;
    assert_eq!(app.client.host_status()[0].used_weight_1m, None);
    btc_klines(&app, TimeRange::default()).await.unwrap();
    app.client.exchange_info().await.unwrap();
    assert_eq!(app.client.host_status()[0].used_weight_1m, Some(22));
}

// ---------------------------------------------------------------------------
// The cache.

#[tokio::test]
async fn fifty_concurrent_identical_calls_make_one_upstream_call() {
    let app = spawn().await;
    app.fake.set_fault(Fault::Slow { ms: 50 });
    let calls = (0..50).map(|_| {
        let client = app.client.clone();
        tokio::spawn(async move {
            client
                .klines(&sym("BTCUSDT"), Interval::Hour1, TimeRange::last(100), None)
                .await
        })
    });
    let mut fetched_upstream = 0;
    for call in calls.collect::<Vec<_>>() {
        let fetched = call.await.unwrap().unwrap();
        assert_eq!(fetched.value.len(), 100);
        fetched_upstream += usize::from(!fetched.cached);
    }
    assert_eq!(app.fake.calls(KLINES), 1);
    assert_eq!(fetched_upstream, 1, "one caller fetched, 49 waited for it");
}

#[tokio::test]
async fn cached_results_report_their_age_and_live_klines_expire_fast() {
    let app = spawn().await;
    let first = btc_klines(&app, TimeRange::default()).await.unwrap();
    app.clock.advance(Duration::from_millis(1_500));
    let again = app
        .client
        .klines(&sym("BTCUSDT"), Interval::Hour1, TimeRange::default(), None)
        .await
        .unwrap();
    assert!(again.cached);
    assert_eq!(again.age(app.client.now()), Duration::from_millis(1_500));
    assert_eq!(*again.value, first);
    assert_eq!(app.fake.calls(KLINES), 1);

    // The last candle is still open at the fake's now: 2 s TTL.
    app.clock.advance(Duration::from_secs(1));
    let refreshed = app
        .client
        .klines(&sym("BTCUSDT"), Interval::Hour1, TimeRange::default(), None)
        .await
        .unwrap();
    assert!(!refreshed.cached);
    assert_eq!(refreshed.age(app.client.now()), Duration::ZERO);
    assert_eq!(app.fake.calls(KLINES), 2);
}

#[tokio::test]
async fn closed_range_klines_are_kept_long() {
    let app = spawn().await;
    let closed = TimeRange {
        start_time: None,
        end_time: Some(FIRST_OPEN + 10 * 3_600_000),
        limit: Some(5),
    };
    btc_klines(&app, closed).await.unwrap();
    app.clock.advance(Duration::from_secs(14 * 60));
    let later = app
        .client
        .klines(&sym("BTCUSDT"), Interval::Hour1, closed, None)
        .await
        .unwrap();
    assert!(later.cached && later.age(app.client.now()) == Duration::from_secs(14 * 60));
    assert_eq!(app.fake.calls(KLINES), 1);
    app.clock.advance(Duration::from_secs(2 * 60));
    btc_klines(&app, closed).await.unwrap();
    assert_eq!(app.fake.calls(KLINES), 2, "15 min TTL");
}

#[tokio::test]
async fn errors_are_shared_by_waiters_but_not_cached() {
    let app = spawn().await;
    // A hang fails only at the timeout, so all twenty callers are waiting on
    // the one in-flight request when it fails.
    app.fake.set_fault(Fault::Hang);
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = app.client.clone();
            tokio::spawn(async move { client.depth(&sym("BTCUSDT"), Some(10)).await })
        })
        .collect();
    for call in calls {
        assert!(matches!(
            call.await.unwrap(),
            Err(BinanceError::Unavailable { .. })
        ));
    }
    assert_eq!(
        app.fake.calls("/api/v3/depth"),
        1,
        "one upstream call for twenty callers"
    );

    app.fake.clear_faults();
    let book = app.client.depth(&sym("BTCUSDT"), Some(10)).await.unwrap();
    assert!(!book.cached, "the error was not cached");
    assert_eq!(app.fake.calls("/api/v3/depth"), 2);
}

#[tokio::test]
async fn configuration_is_checked() {
    let defaults = BinanceConfig::default();
    assert_eq!(defaults.spot_base_urls.len(), 3);
    assert_eq!(
        defaults.spot_base_urls[0],
        "https://data-api.binance.vision"
    );
    let clock = ManualClock::new(0);
    assert!(
        BinanceClient::new(config(Vec::new(), "http://127.0.0.1:1".to_owned(), &clock)).is_err()
    );
    assert!(
        BinanceClient::new(config(
            vec!["not a url".to_owned()],
            "http://127.0.0.1:1".to_owned(),
            &clock
        ))
        .is_err()
    );
}
