//! Stateless-era (2026-07-28) rules: discovery, `_meta`, header checks and
//! their error codes, 404 for unknown methods, result shapes.

use crypto_mcp::market::resources::SYMBOLS_TTL_MS;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{STATELESS, spawn_app, sse_messages, stateless_headers, stateless_meta};

fn request(id: Value, method: &str, mut params: Value) -> Value {
    if params.get("_meta").is_none() {
        params["_meta"] = stateless_meta();
    }
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

#[tokio::test]
async fn discover_describes_the_server() {
    let app = spawn_app().await;
    let reply = app
        .post(
            &request(json!(1), "server/discover", json!({})),
            &stateless_headers("server/discover", None),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let result = reply.json()["result"].clone();
    assert_eq!(
        result["supportedVersions"],
        json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
    );
    assert_eq!(
        result["capabilities"],
        json!({ "tools": {}, "resources": {}, "prompts": {}, "completions": {}, "logging": {},
                "extensions": { "io.modelcontextprotocol/ui": { "mimeTypes": ["text/html;profile=mcp-app"] } } })
    );
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["cacheScope"], "public");
    assert!(result["ttlMs"].as_u64().is_some());
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "crypto-mcp"
    );
    assert!(result["instructions"].is_string());
}

#[tokio::test]
async fn missing_or_partial_meta_is_400_with_32602() {
    let app = spawn_app().await;
    let headers = stateless_headers("server/discover", None);
    let partial_meta = [
        json!({}),
        json!({ "_meta": { "io.modelcontextprotocol/clientCapabilities": {} } }),
        json!({ "_meta": { "io.modelcontextprotocol/protocolVersion": STATELESS } }),
        json!({ "_meta": { "io.modelcontextprotocol/protocolVersion": STATELESS, "io.modelcontextprotocol/clientCapabilities": [] } }),
    ];
    for (i, params) in partial_meta.into_iter().enumerate() {
        let body = json!({ "jsonrpc": "2.0", "id": 100 + i, "method": "server/discover", "params": params });
        let reply = app.post(&body, &headers).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        let body = reply.json();
        assert_eq!(body["id"], 100 + i);
        assert_eq!(body["error"]["code"], -32602);
    }
    // clientInfo is optional.
    let meta = json!({ "io.modelcontextprotocol/protocolVersion": STATELESS, "io.modelcontextprotocol/clientCapabilities": {} });
    let reply = app
        .post(
            &request(json!(1), "server/discover", json!({ "_meta": meta })),
            &headers,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn header_mismatches_are_400_with_32020() {
    let app = spawn_app().await;
    let list = request(json!(7), "tools/list", json!({}));
    let call = request(
        json!(8),
        "tools/call",
        json!({ "name": "calculate", "arguments": { "expression": "1" } }),
    );
    let cases: Vec<(&Value, Vec<(&str, &str)>)> = vec![
        (&list, vec![("mcp-method", "tools/list")]),
        (
            &list,
            vec![
                ("mcp-protocol-version", "2025-11-25"),
                ("mcp-method", "tools/list"),
            ],
        ),
        (&list, vec![("mcp-protocol-version", STATELESS)]),
        (
            &list,
            vec![
                ("mcp-protocol-version", STATELESS),
                ("mcp-method", "prompts/list"),
            ],
        ),
        (
            &list,
            vec![
                ("mcp-protocol-version", STATELESS),
                ("mcp-method", "TOOLS/LIST"),
            ],
        ),
        (
            &call,
            vec![
                ("mcp-protocol-version", STATELESS),
                ("mcp-method", "tools/call"),
            ],
        ),
        (
            &call,
            vec![
                ("mcp-protocol-version", STATELESS),
                ("mcp-method", "tools/call"),
                ("mcp-name", "other"),
            ],
        ),
    ];
    for (body, headers) in cases {
        let reply = app.post(body, &headers).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{headers:?}: {}",
            reply.text
        );
        let json = reply.json();
        assert_eq!(json["error"]["code"], -32020, "{headers:?}");
        assert_eq!(json["id"], body["id"]);
    }
    // Names are case-insensitive, values trimmed, non-ASCII values base64.
    let ok = app
        .post(
            &call,
            &[
                ("MCP-PROTOCOL-VERSION", STATELESS),
                ("mcp-method", " tools/call "),
                ("Mcp-Name", "  calculate  "),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let encoded = app
        .post(
            &call,
            &[
                ("mcp-protocol-version", STATELESS),
                ("mcp-method", "tools/call"),
                ("mcp-name", "=?base64?Y2FsY3VsYXRl?="),
            ],
        )
        .await;
    assert_eq!(encoded.status, StatusCode::OK, "{}", encoded.text);
}

#[tokio::test]
async fn unsupported_versions_are_400_with_32022() {
    let app = spawn_app().await;
    let mut meta = stateless_meta();
    meta["io.modelcontextprotocol/protocolVersion"] = json!("v999.0.0");
    let body = request(json!(301), "server/discover", json!({ "_meta": meta }));
    let reply = app
        .post(
            &body,
            &[
                ("mcp-protocol-version", "v999.0.0"),
                ("mcp-method", "server/discover"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let json = reply.json();
    assert_eq!(json["id"], 301);
    assert_eq!(json["error"]["code"], -32022);
    assert_eq!(json["error"]["data"]["requested"], "v999.0.0");
    assert!(
        json["error"]["data"]["supported"]
            .as_array()
            .is_some_and(|v| v.contains(&json!(STATELESS)))
    );
}

#[tokio::test]
async fn unknown_and_removed_methods_are_404_with_32601() {
    let app = spawn_app().await;
    for method in [
        "unknown/method",
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
    ] {
        let reply = app
            .post(
                &request(json!(601), method, json!({})),
                &stateless_headers(method, None),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method}: {}",
            reply.text
        );
        let json = reply.json();
        assert_eq!(json["id"], 601);
        assert_eq!(json["error"]["code"], -32601);
    }
}

#[tokio::test]
async fn results_carry_result_type_and_cache_hints() {
    let app = spawn_app().await;
    for method in [
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
    ] {
        let reply = app
            .post(
                &request(json!(1), method, json!({})),
                &stateless_headers(method, None),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{method}");
        let result = reply.json()["result"].clone();
        assert_eq!(result["resultType"], "complete", "{method}");
        assert_eq!(result["cacheScope"], "public", "{method}");
        assert!(result["ttlMs"].as_u64().is_some(), "{method}");
    }
    let call = request(
        json!(2),
        "tools/call",
        json!({ "name": "calculate", "arguments": { "expression": "6*7" } }),
    );
    let reply = app
        .post(&call, &stateless_headers("tools/call", Some("calculate")))
        .await;
    let result = reply.json()["result"].clone();
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["isError"], false);
    assert_eq!(result["structuredContent"]["result"], "42");

    let app = &app;
    let read = |uri: &'static str| {
        let body = request(json!(3), "resources/read", json!({ "uri": uri }));
        async move {
            app.post(&body, &stateless_headers("resources/read", Some(uri)))
                .await
        }
    };
    let reply = read("binance://symbols").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let result = reply.json()["result"].clone();
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["cacheScope"], "public");
    assert_eq!(result["ttlMs"], SYMBOLS_TTL_MS);
    assert_eq!(result["contents"][0]["uri"], "binance://symbols");
    assert!(result["contents"][0]["text"].is_string(), "{result}");

    // A URI nothing serves is the stateless era's -32602, with the URI.
    let reply = read("binance://nope").await;
    assert_eq!(reply.status, StatusCode::OK);
    let json = reply.json();
    assert_eq!(json["error"]["code"], -32602);
    assert_eq!(json["error"]["data"]["uri"], "binance://nope");
}

#[tokio::test]
async fn logs_stream_only_when_the_request_asks() {
    let app = spawn_app().await;
    let headers = stateless_headers("tools/call", Some("calculate"));
    let quiet = request(
        json!(1),
        "tools/call",
        json!({ "name": "calculate", "arguments": { "expression": "1+1" } }),
    );
    let reply = app.post(&quiet, &headers).await;
    assert_eq!(reply.header("content-type"), Some("application/json"));

    let mut meta = stateless_meta();
    meta["io.modelcontextprotocol/logLevel"] = json!("debug");
    let loud = request(
        json!(2),
        "tools/call",
        json!({ "name": "calculate", "arguments": { "expression": "1+1" }, "_meta": meta }),
    );
    let reply = app.post(&loud, &headers).await;
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let messages = sse_messages(&reply.text);
    assert_eq!(
        messages.first().expect("a log")["method"],
        "notifications/message"
    );
    let last = messages.last().expect("result");
    assert_eq!(last["id"], 2);
    assert_eq!(last["result"]["resultType"], "complete");
}

#[tokio::test]
async fn get_and_delete_are_405_in_the_stateless_era() {
    let app = spawn_app().await;
    let get = app
        .http
        .get(app.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", STATELESS)
        .send()
        .await
        .expect("sent");
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        get.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let delete = app
        .http
        .delete(app.url("/mcp"))
        .header("mcp-protocol-version", STATELESS)
        .header("mcp-session-id", "x")
        .send()
        .await
        .expect("sent");
    assert_eq!(delete.status(), StatusCode::METHOD_NOT_ALLOWED);
}
