//! `binance_order_book`: top of book, spread, mid and depth bands.

use rust_decimal::Decimal;
use serde_json::json;

use super::{dec, ok, rounded};
use crate::fake_binance::data::{MARKETS, fmt8};
use crate::fake_binance::spot::level_qty;
use crate::helpers::spawn_app;

#[tokio::test]
async fn btc_book_has_a_one_tick_spread_and_incomplete_bands() {
    let app = spawn_app().await;
    let result = app
        .call_tool(
            "binance_order_book",
            json!({ "symbol": "BTCUSDT", "limit": 5 }),
        )
        .await;
    let out = ok(&result);
    assert_eq!(out["symbol"], "BTCUSDT");
    assert_eq!(
        out["best_bid"],
        json!({ "price": "102429.55000000", "qty": "0.01000000" })
    );
    assert_eq!(
        out["best_ask"],
        json!({ "price": "102429.56000000", "qty": "0.01000000" })
    );
    assert_eq!(out["spread"], "0.01000000");
    assert_eq!(out["mid_price"], "102429.555");
    // 0.01 / 102429.555 × 10 000 = 0.000976… bps.
    assert_eq!(out["spread_bps"], "0.001");
    assert_eq!(out["bids"].as_array().unwrap().len(), 5);
    assert_eq!(
        out["asks"][4],
        json!({ "price": "102429.60000000", "qty": "0.05000000" })
    );
    assert_eq!(out["levels_fetched"], 500);
    // 500 levels of 0.01 reach 5 USDT from the mid, far short of ±0.5 %.
    let market = &MARKETS[0];
    let all: Decimal = (0..500).map(|k| level_qty(market, k)).sum();
    for band in out["depth"].as_array().unwrap() {
        assert_eq!(band["complete"], false, "{band}");
        assert_eq!(dec(&band["bid_qty"]), all);
        assert_eq!(dec(&band["ask_qty"]), all);
    }
    assert_eq!(
        out["depth"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["percent"].clone())
            .collect::<Vec<_>>(),
        [json!("0.5"), json!("1"), json!("2")]
    );
    assert_eq!(app.binance.calls("/api/v3/depth"), 1);
}

#[tokio::test]
async fn ada_bands_are_complete_and_exact() {
    let app = spawn_app().await;
    let result = app
        .call_tool("binance_order_book", json!({ "symbol": "ADAUSDT" }))
        .await;
    let out = ok(&result);
    assert_eq!(out["bids"].as_array().unwrap().len(), 20, "default limit");
    let market = &MARKETS[6];
    assert_eq!(market.symbol, "ADAUSDT");
    let tick = Decimal::new(1, 4);
    let ask = dec(&out["best_ask"]["price"]);
    let bid = ask - tick;
    assert_eq!(dec(&out["best_bid"]["price"]), bid);
    let mid = (bid + ask) / Decimal::TWO;
    assert_eq!(dec(&out["mid_price"]), mid);
    assert_eq!(
        dec(&out["spread_bps"]),
        rounded(tick * Decimal::from(10_000) / mid, 4)
    );
    for (band, percent) in out["depth"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["0.5", "1", "2"])
    {
        let offset = mid * percent.parse::<Decimal>().unwrap() / Decimal::ONE_HUNDRED;
        let (mut bid_qty, mut bid_notional, mut ask_qty, mut ask_notional) =
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for k in 0..500 {
            let qty = level_qty(market, k);
            let bid_price = bid - tick * Decimal::from(k);
            if bid_price >= mid - offset {
                bid_qty += qty;
                bid_notional += bid_price * qty;
            }
            let ask_price = ask + tick * Decimal::from(k);
            if ask_price <= mid + offset {
                ask_qty += qty;
                ask_notional += ask_price * qty;
            }
        }
        assert_eq!(band["percent"], percent);
        assert_eq!(band["complete"], true, "{band}");
        assert_eq!(dec(&band["bid_qty"]), bid_qty);
        assert_eq!(dec(&band["ask_qty"]), ask_qty);
        assert_eq!(dec(&band["bid_notional"]), rounded(bid_notional, 8));
        assert_eq!(dec(&band["ask_notional"]), rounded(ask_notional, 8));
        assert!(bid_qty < (0..500).map(|k| level_qty(market, k)).sum::<Decimal>());
    }
    assert_eq!(out["asks"][0]["qty"], fmt8(level_qty(market, 0)));
}
