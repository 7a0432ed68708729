//! `binance_trades`: recent and aggregate trades with the taker buy/sell
//! split.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{dec, ok, rounded};
use crate::fake_binance::data::{MARKETS, fmt8};
use crate::fake_binance::spot::tape_trade;
use crate::helpers::spawn_app;

/// Expected summary over tape trades `range` of BTCUSDT.
fn expected_flow(app: &crate::helpers::TestApp, range: std::ops::Range<usize>) -> Value {
    let candles = app.binance.btcusdt_1h();
    let (mut buy, mut sell, mut buy_quote, mut sell_quote) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for i in range {
        let t = tape_trade(&candles, &MARKETS[0], i);
        if t.is_buyer_maker {
            sell += t.qty;
            sell_quote += t.price * t.qty;
        } else {
            buy += t.qty;
            buy_quote += t.price * t.qty;
        }
    }
    json!({
        "buy_volume": buy.normalize().to_string(),
        "sell_volume": sell.normalize().to_string(),
        "buy_quote_volume": rounded(buy_quote, 8).to_string(),
        "sell_quote_volume": rounded(sell_quote, 8).to_string(),
        "buy_percent": rounded(buy * Decimal::ONE_HUNDRED / (buy + sell), 2).to_string(),
        "vwap": rounded((buy_quote + sell_quote) / (buy + sell), 8).to_string(),
    })
}

#[tokio::test]
async fn recent_trades_carry_the_taker_side_and_the_split() {
    let app = spawn_app().await;
    let result = app
        .call_tool("binance_trades", json!({ "symbol": "BTCUSDT" }))
        .await;
    let out = ok(&result);
    assert_eq!(out["kind"], "recent");
    let trades = out["trades"].as_array().unwrap();
    assert_eq!(trades.len(), 100);
    let candles = app.binance.btcusdt_1h();
    let len = candles.len() * 60;
    for (row, i) in trades.iter().zip(len - 100..len) {
        let t = tape_trade(&candles, &MARKETS[0], i);
        assert_eq!(
            row,
            &json!({
                "id": i, "price": fmt8(t.price), "qty": fmt8(t.qty), "time": t.time,
                "side": if t.is_buyer_maker { "sell" } else { "buy" }
            })
        );
    }
    let summary = &out["summary"];
    assert_eq!(summary["count"], 100);
    assert_eq!(summary["first_time"], trades[0]["time"]);
    assert_eq!(summary["last_time"], trades[99]["time"]);
    let expected = expected_flow(&app, len - 100..len);
    for field in [
        "buy_volume",
        "sell_volume",
        "buy_quote_volume",
        "sell_quote_volume",
        "buy_percent",
        "vwap",
    ] {
        assert_eq!(dec(&summary[field]), dec(&expected[field]), "{field}");
    }
    assert_eq!(app.binance.calls("/api/v3/trades"), 1);
}

#[tokio::test]
async fn a_time_range_gives_aggregate_trades() {
    let app = spawn_app().await;
    let result = app
        .call_tool(
            "binance_trades",
            json!({ "symbol": "BTCUSDT", "startTime": "2025-01-01T00:00:00Z", "limit": 10 }),
        )
        .await;
    let out = ok(&result);
    assert_eq!(out["kind"], "aggregate");
    let trades = out["trades"].as_array().unwrap();
    assert_eq!(trades.len(), 10);
    assert_eq!(trades[0]["id"], 0);
    assert_eq!(
        trades[0]["time"], 1_735_689_630_000_i64,
        "00:00:30, the first print"
    );
    assert_eq!(trades[0]["side"], "sell");
    assert_eq!(trades[1]["side"], "buy");
    let expected = expected_flow(&app, 0..10);
    assert_eq!(
        dec(&out["summary"]["buy_volume"]),
        dec(&expected["buy_volume"])
    );
    assert_eq!(dec(&out["summary"]["vwap"]), dec(&expected["vwap"]));
    assert_eq!(app.binance.calls("/api/v3/aggTrades"), 1);

    let result = app
        .call_tool(
            "binance_trades",
            json!({ "symbol": "ETHUSDT", "aggregate": true, "limit": 5 }),
        )
        .await;
    let out = ok(&result);
    assert_eq!(out["kind"], "aggregate");
    assert_eq!(out["trades"].as_array().unwrap().len(), 5);
}
