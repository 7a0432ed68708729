//! MCP Apps: the chart view's resource, the linked tools' metadata, the
//! extension in `initialize`, and the series `technical_analysis` hands the
//! view. These are wire shapes hosts read, so they are pinned exactly.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Options, TestApp, initialize_body, spawn_app, spawn_app_with, stateless_headers, stateless_meta,
};

const URI: &str = "ui://crypto-mcp/chart-v1.html";
const MIME: &str = "text/html;profile=mcp-app";

/// One handshake-era request's `result`.
async fn rpc(app: &TestApp, method: &str, params: Value) -> Value {
    crate::analysis::rpc(app, method, params).await["result"].clone()
}

fn resource_meta() -> Value {
    json!({
        "ui": {
            "prefersBorder": true,
            "csp": { "connectDomains": [], "resourceDomains": [] },
        },
        "openai/widgetDescription": "An interactive candlestick chart of the market the tool returned, with volume, any requested indicators, and controls to change the interval or load older candles.",
        "openai/widgetPrefersBorder": true,
        "openai/widgetCSP": { "connect_domains": [], "resource_domains": [] },
    })
}

fn tool_meta(invoking: &str, invoked: &str) -> Value {
    json!({
        "ui": { "resourceUri": URI, "visibility": ["model", "app"] },
        "ui/resourceUri": URI,
        "openai/outputTemplate": URI,
        "openai/widgetAccessible": true,
        "openai/toolInvocation/invoking": invoking,
        "openai/toolInvocation/invoked": invoked,
    })
}

#[tokio::test]
async fn both_eras_advertise_the_extension() {
    let app = spawn_app().await;
    let extension = json!({ "io.modelcontextprotocol/ui": { "mimeTypes": [MIME] } });
    // A host declaring the extension (as the spec asks) is an ordinary client.
    let mut body = initialize_body("2025-11-25");
    body["params"]["capabilities"] = json!({ "extensions": extension.clone() });
    let reply = app.post(&body, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json()["result"]["capabilities"]["extensions"],
        extension
    );

    let discover = app
        .post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": { "_meta": stateless_meta() } }),
            &stateless_headers("server/discover", None),
        )
        .await;
    assert_eq!(discover.status, StatusCode::OK, "{}", discover.text);
    assert_eq!(
        discover.json()["result"]["capabilities"]["extensions"],
        extension
    );
}

#[tokio::test]
async fn the_view_is_listed_with_its_ui_meta() {
    let app = spawn_app().await;
    let list = rpc(&app, "resources/list", json!({})).await;
    let entry = list["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["uri"] == URI)
        .unwrap_or_else(|| panic!("no {URI} in {list}"));
    assert_eq!(
        entry,
        &json!({
            "uri": URI,
            "name": "chart",
            "title": "Candlestick chart",
            "description": "The interactive chart app (MCP Apps) that renders binance_klines and technical_analysis results: candles, volume, indicator overlays and panes.",
            "mimeType": MIME,
            "_meta": resource_meta(),
        })
    );
}

#[tokio::test]
async fn reading_the_view_gives_one_html_document_with_ui_meta() {
    let app = spawn_app().await;
    let read = rpc(&app, "resources/read", json!({ "uri": URI })).await;
    let contents = read["contents"].as_array().expect("contents");
    assert_eq!(contents.len(), 1, "hosts refuse anything but one item");
    let item = &contents[0];
    let html = item["text"].as_str().expect("text, not blob");
    assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"));
    assert!(html.len() < 300 * 1024, "{} bytes", html.len());
    assert_eq!(item["uri"], URI);
    assert_eq!(item["mimeType"], MIME);
    assert_eq!(item["_meta"], resource_meta());
    assert_eq!(
        item.as_object().map(|o| o.len()),
        Some(4),
        "uri, mimeType, text, _meta"
    );

    // The stateless era reads it too, with a cache hint.
    let reply = app
        .post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": { "uri": URI, "_meta": stateless_meta() } }),
            &stateless_headers("resources/read", Some(URI)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let result = reply.json()["result"].clone();
    assert_eq!(result["contents"][0]["text"], html);
    assert_eq!(result["resultType"], "complete");
    assert!(result["ttlMs"].as_u64().is_some_and(|ttl| ttl > 0));
}

#[tokio::test]
async fn a_configured_domain_is_given_to_hosts() {
    let domain = "0a438b56404e81245c5485e96ce8e529.claudemcpcontent.com";
    let app = spawn_app_with(Options::new().flags(&["--app-domain", domain])).await;
    let read = rpc(&app, "resources/read", json!({ "uri": URI })).await;
    let meta = &read["contents"][0]["_meta"];
    assert_eq!(meta["ui"]["domain"], domain);
    assert_eq!(meta["openai/widgetDomain"], domain);
    let list = rpc(&app, "resources/list", json!({})).await;
    let entry = list["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["uri"] == URI))
        .expect("listed");
    assert_eq!(&entry["_meta"], meta);
}

#[tokio::test]
async fn klines_and_technical_analysis_link_the_view_and_nothing_else_does() {
    let app = spawn_app().await;
    let list = rpc(&app, "tools/list", json!({})).await;
    let tools = list["tools"].as_array().expect("tools");
    let meta_of = |name: &str| {
        tools
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["_meta"].clone())
            .unwrap_or_else(|| panic!("no tool {name}"))
    };
    assert_eq!(
        meta_of("binance_klines"),
        tool_meta("Fetching candles…", "Candles ready")
    );
    assert_eq!(
        meta_of("technical_analysis"),
        tool_meta("Computing indicators…", "Indicators ready")
    );
    for tool in tools {
        let name = tool["name"].as_str().unwrap_or_default();
        if !["binance_klines", "technical_analysis"].contains(&name) {
            assert!(tool.get("_meta").is_none(), "{name} has _meta");
        }
    }
}

#[tokio::test]
async fn with_oauth_tool_meta_keeps_both_the_app_link_and_the_scopes() {
    let s = spawn_app_with(Options::oauth().flags(&["--anonymous-discovery"])).await;
    let list: Value = s
        .http
        .post(s.url("/mcp"))
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let tools = list["result"]["tools"].as_array().expect("tools");
    let klines = tools
        .iter()
        .find(|t| t["name"] == "binance_klines")
        .expect("klines");
    let mut expected = tool_meta("Fetching candles…", "Candles ready");
    expected["securitySchemes"] = json!([{ "type": "oauth2", "scopes": ["mcp:tools"] }]);
    assert_eq!(klines["_meta"], expected);
    let calculate = tools
        .iter()
        .find(|t| t["name"] == "calculate")
        .expect("calculate");
    assert_eq!(
        calculate["_meta"],
        json!({ "securitySchemes": [{ "type": "oauth2", "scopes": ["mcp:tools"] }] })
    );
}

#[tokio::test]
async fn the_view_needs_the_same_sign_in_as_the_tools() {
    let s = spawn_app_with(Options::oauth().flags(&["--anonymous-discovery"])).await;
    let read = |token: Option<String>| {
        let mut request = s
            .http
            .post(s.url("/mcp"))
            .header("mcp-protocol-version", "2025-11-25")
            .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": { "uri": URI } }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let anonymous = read(None).await.expect("sent");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let tokens = s.obtain_tokens().await;
    let signed_in = read(Some(tokens.access)).await.expect("sent");
    assert_eq!(signed_in.status(), StatusCode::OK);
    let body: Value = signed_in.json().await.expect("json");
    assert_eq!(body["result"]["contents"][0]["mimeType"], MIME);
}

#[tokio::test]
async fn technical_analysis_hands_the_view_every_candle_and_line() {
    let app = spawn_app().await;
    let analysis = app
        .call_tool(
            "technical_analysis",
            json!({ "symbol": "BTCUSDT", "interval": "1h", "limit": 60, "indicators": ["sma:20", "macd:12,26,9"] }),
        )
        .await;
    assert_eq!(analysis["isError"], false, "{analysis}");
    let chart = &analysis["_meta"]["crypto-mcp/chart"];
    assert_eq!(
        chart["columns"],
        json!(["open_time", "open", "high", "low", "close", "volume"])
    );
    let candles = chart["candles"].as_array().expect("candles");
    assert_eq!(candles.len(), 60);

    // The same candles binance_klines returns, as the same rows.
    let klines = app
        .call_tool(
            "binance_klines",
            json!({ "symbol": "BTCUSDT", "interval": "1h", "limit": 60 }),
        )
        .await;
    let rows = klines["structuredContent"]["candles"]
        .as_array()
        .expect("rows");
    for (ours, theirs) in candles.iter().zip(rows) {
        assert_eq!(
            ours.as_array().map(Vec::as_slice),
            theirs.as_array().map(|r| &r[..6])
        );
    }

    // Every line covers every candle, null while warming up, and ends on
    // the value the structured output reports.
    let structured = &analysis["structuredContent"]["indicators"];
    let indicators = chart["indicators"].as_array().expect("indicators");
    assert_eq!(
        indicators
            .iter()
            .map(|i| i["spec"].clone())
            .collect::<Vec<_>>(),
        [json!("sma:20"), json!("macd:12,26,9")]
    );
    for (i, indicator) in indicators.iter().enumerate() {
        for (j, line) in indicator["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .enumerate()
        {
            let values = line["values"].as_array().expect("values");
            assert_eq!(values.len(), 60);
            assert_eq!(line["name"], structured[i]["lines"][j]["name"]);
            assert_eq!(values[59], structured[i]["lines"][j]["latest"]);
        }
    }
    let sma = indicators[0]["lines"][0]["values"].as_array().expect("sma");
    assert!(sma[..19].iter().all(Value::is_null) && sma[19].is_f64());

    // The model's part is unchanged: one text block mirroring the
    // structured output, without the series.
    let content = analysis["content"].as_array().expect("content");
    assert_eq!(content.len(), 1);
    let text = content[0]["text"].as_str().expect("text");
    let mirrored: Value = serde_json::from_str(text).expect("JSON text");
    assert_eq!(mirrored, analysis["structuredContent"]);
    assert!(!text.contains("crypto-mcp/chart"));
}

#[tokio::test]
async fn other_results_are_unchanged_for_hosts_without_the_extension() {
    let app = spawn_app().await;
    let klines = app
        .call_tool("binance_klines", json!({ "symbol": "BTCUSDT", "limit": 5 }))
        .await;
    assert!(klines.get("_meta").is_none(), "{klines}");
    let text = klines["content"][0]["text"].as_str().expect("text");
    let mirrored: Value = serde_json::from_str(text).expect("JSON");
    assert_eq!(mirrored, klines["structuredContent"]);

    let chart = app
        .call_tool("binance_chart", json!({ "symbol": "BTCUSDT", "limit": 50 }))
        .await;
    assert!(chart.get("_meta").is_none());
    assert_eq!(chart["content"][0]["type"], "image");
    assert_eq!(chart["content"][0]["mimeType"], "image/png");

    let failed = app
        .call_tool("technical_analysis", json!({ "symbol": "NOPEUSDT" }))
        .await;
    assert_eq!(failed["isError"], true);
    assert!(failed.get("_meta").is_none(), "errors carry no series");
}
