//! The weight budget end to end: four MCP clients on four loopback IPs
//! make 300 distinct uncached calls against a fake Binance that allows 300
//! weight a minute and answers 429 past it. Time is a `ManualClock` shared
//! by the server and the fake, so three simulated minutes take no wall
//! time. No call ever draws a 429; each gets data or a budget error that
//! says when to retry; one client gets at most half while others are
//! active; `/healthz` shows the budget.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use crypto_mcp::binance::{BinanceClient, BinanceConfig, Clock, ManualClock, parse_base_urls};
use crypto_mcp::config::Config;
use crypto_mcp::mcp::session::SessionStore;
use crypto_mcp::mcp::state::{McpState, system_clock};
use crypto_mcp::{AppState, Settings};
use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::LAST_OPEN;
use crate::fake_binance::{FAKE_NOW_MS, FakeBinance, FakeOptions};
use crate::helpers::ACCEPT_BOTH;

const LIMIT: u64 = 300;
const HOUR_MS: i64 = 3_600_000;

struct Budgeted {
    addr: SocketAddr,
    fake: FakeBinance,
    clock: Arc<ManualClock>,
    _server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The app and a fake enforcing [`LIMIT`], on one manual clock standing at
/// the start of a minute.
async fn spawn_budgeted() -> Budgeted {
    let clock = ManualClock::new(FAKE_NOW_MS);
    let fake_clock = Arc::clone(&clock);
    let fake = FakeBinance::start_with(FakeOptions {
        weight_limit: Some(LIMIT),
        clock: Some(Arc::new(move || fake_clock.unix_ms())),
    })
    .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = Config::try_parse_from(["crypto-mcp", "--auth", "none"]).expect("config");
    let client = BinanceClient::new(BinanceConfig {
        spot_base_urls: parse_base_urls(&fake.url()),
        futures_base_url: fake.url(),
        clock: clock.clone(),
        ..BinanceConfig::default()
    })
    .expect("client");
    let catalog = crypto_mcp::catalog(&client, None, None);
    let state = AppState::from(McpState::new(
        Settings::from_config(&config),
        client,
        None,
        catalog,
        system_clock(),
        SessionStore::default(),
    ));
    let server = tokio::spawn(crypto_mcp::serve(listener, state, std::future::pending()));
    Budgeted {
        addr,
        fake,
        clock,
        _server: server,
    }
}

/// An MCP client calling from `127.0.0.<n>`.
fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .build()
        .expect("client")
}

/// `binance_klines` for one candle, distinct per `i` so never cached.
async fn call(app: &Budgeted, client: &reqwest::Client, i: i64) -> Value {
    let body = json!({
        "jsonrpc": "2.0", "id": i, "method": "tools/call",
        "params": { "name": "binance_klines", "arguments": {
            "symbol": "BTCUSDT", "limit": 1, "endTime": LAST_OPEN - i * HOUR_MS
        } }
    });
    let reply = client
        .post(format!("http://{}/mcp", app.addr))
        .header("accept", ACCEPT_BOTH)
        .header("mcp-protocol-version", "2025-11-25")
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert!(reply.status().is_success());
    reply.json::<Value>().await.expect("JSON")["result"].clone()
}

#[derive(Debug, Default, PartialEq)]
struct Outcome {
    data: Vec<i64>,
    over_budget: Vec<i64>,
    shares_spent: usize,
}

/// Runs `calls` (client index, call index) concurrently and sorts the
/// answers; anything but data or a budget error fails the test.
async fn run(app: &Budgeted, clients: &[reqwest::Client], calls: &[(usize, i64)]) -> Outcome {
    let results = join_all(
        calls
            .iter()
            .map(|&(client, i)| async move { (i, call(app, &clients[client], i).await) }),
    )
    .await;
    let mut outcome = Outcome::default();
    for (i, result) in results {
        if result["isError"] == false {
            assert_eq!(result["structuredContent"]["count"], 1, "{result}");
            outcome.data.push(i);
            continue;
        }
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(
            text.contains("nothing was sent to Binance") && text.contains("Retry after"),
            "a clear budget error: {text}"
        );
        outcome.shares_spent += usize::from(text.contains("half of this server's share"));
        outcome.over_budget.push(i);
    }
    outcome
}

#[tokio::test]
async fn three_hundred_calls_from_four_clients_draw_no_429() {
    let app = spawn_budgeted().await;
    let clients: Vec<reqwest::Client> = (2..=5).map(client_from).collect();
    let mut pending: Vec<(usize, i64)> = (0..300).map(|i| ((i % 4) as usize, i)).collect();
    let mut served = Vec::new();
    let mut minutes = 0;
    while !pending.is_empty() {
        let outcome = run(&app, &clients, &pending).await;
        // 240 weight planned a minute, 2 a call; reading the limit took 20
        // in the first minute.
        let room = if minutes == 0 { 110 } else { 120 };
        assert_eq!(
            outcome.data.len(),
            room.min(pending.len()),
            "minute {minutes}: exactly the planned weight is used"
        );
        served.extend(outcome.data);
        pending.retain(|(_, i)| outcome.over_budget.contains(i));
        app.clock.advance(Duration::from_secs(60));
        minutes += 1;
    }
    assert_eq!(minutes, 3);
    served.sort_unstable();
    assert_eq!(
        served,
        (0..300).collect::<Vec<_>>(),
        "every call served once"
    );
    assert_eq!(app.fake.limit_429s(), 0, "Binance never had to say no");
    assert_eq!(
        app.fake.calls("/api/v3/klines"),
        300,
        "one request per call"
    );
}

#[tokio::test]
async fn one_client_gets_half_while_others_are_active() {
    let app = spawn_budgeted().await;
    let clients: Vec<reqwest::Client> = (2..=5).map(client_from).collect();
    // The quiet ones call once each; then the greedy one bursts.
    let quiet = run(&app, &clients, &[(1, 0), (2, 1), (3, 2)]).await;
    assert_eq!(quiet.data.len(), 3);
    let burst: Vec<(usize, i64)> = (10..100).map(|i| (0, i)).collect();
    let greedy = run(&app, &clients, &burst).await;
    assert_eq!(
        greedy.data.len(),
        60,
        "half of the planned 240, at 2 a call"
    );
    assert_eq!(
        greedy.shares_spent, 30,
        "refused for its share, not the budget"
    );
    // The others still have room this minute.
    let after = run(&app, &clients, &[(1, 200), (2, 201), (3, 202)]).await;
    assert_eq!(after.data.len(), 3);
    assert_eq!(app.fake.limit_429s(), 0);

    let health: Value = reqwest::get(format!("http://{}/healthz", app.addr))
        .await
        .expect("healthz")
        .json()
        .await
        .expect("JSON");
    let spot = &health["binance"][0];
    assert_eq!(spot["market"], "spot");
    assert_eq!(
        spot["host"],
        format!("127.0.0.1:{}", app.fake.addr().port())
    );
    // Reading the limit (20) and 66 calls of 2.
    assert_eq!(
        (&spot["used"], &spot["planned"], &spot["limit"]),
        (&json!(152), &json!(240), &json!(300))
    );
    assert_eq!(spot["limit_from_exchange_info"], true);
    assert_eq!(spot["active_callers"], 5, "four IPs and the server");
    assert_eq!(health["binance"][1]["market"], "usdm");
}
