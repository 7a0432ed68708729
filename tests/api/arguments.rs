//! Hostile argument values answer with a tool error naming the field; the
//! connection and the server stay up.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_multibyte_time_offset_is_a_clear_error_not_a_dropped_connection() {
    let app = spawn_app().await;
    for start in ["2025-01-31+aéb", "2025-01-31T00:00+é", "２０２５-01-31"] {
        let result = app
            .call_tool(
                "binance_klines",
                json!({ "symbol": "BTCUSDT", "startTime": start }),
            )
            .await;
        assert_eq!(result["isError"], true, "{start}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("startTime"), "{start}: {text}");
        assert!(text.contains("is not a time"), "{start}: {text}");
    }
    let reply = app.client.get(app.url("/healthz")).send().await;
    assert!(reply.is_ok_and(|r| r.status().is_success()));
}
