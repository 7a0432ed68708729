//! Handshake-era rules: negotiation, sessions, notifications, batches,
//! JSON-RPC errors and streamed tool calls.

use std::time::Duration;

use crypto_mcp::mcp::session::{SESSION_IDLE_TTL, TERMINATED_TTL};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, initialize_body, spawn_app, sse_messages};

const V: (&str, &str) = ("mcp-protocol-version", "2025-11-25");

#[tokio::test]
async fn initialize_echoes_supported_versions_and_offers_latest_otherwise() {
    let app = spawn_app().await;
    for (asked, answered) in [
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2024-11-05", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
        ("1999-01-01", "2025-11-25"),
    ] {
        let reply = app.post(&initialize_body(asked), &[]).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let body = reply.json();
        assert_eq!(body["jsonrpc"], "2.0");
        assert_eq!(body["id"], 0);
        let result = &body["result"];
        assert_eq!(result["protocolVersion"], answered, "asked {asked}");
        assert_eq!(result["serverInfo"]["name"], "crypto-mcp");
        assert!(
            result["instructions"]
                .as_str()
                .is_some_and(|s| s.contains("calculate"))
        );
        assert_eq!(
            result["capabilities"],
            json!({ "tools": {}, "resources": { "subscribe": true }, "prompts": {}, "completions": {}, "logging": {},
                "extensions": { "io.modelcontextprotocol/ui": { "mimeTypes": ["text/html;profile=mcp-app"] } } })
        );
        let session = reply.header("mcp-session-id").expect("session issued");
        assert_eq!(session.len(), 32);
        assert!(session.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    }
}

#[tokio::test]
async fn notifications_and_responses_get_202_with_an_empty_body() {
    let app = spawn_app().await;
    for body in [
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 1 } }),
        json!({ "jsonrpc": "2.0", "id": 5, "result": {} }),
        json!({ "jsonrpc": "2.0", "id": 6, "error": { "code": -1, "message": "no" } }),
    ] {
        let reply = app.post(&body, &[V]).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(reply.text, "");
    }
}

#[tokio::test]
async fn ids_are_echoed_exactly() {
    let app = spawn_app().await;
    for id in ["\"abc\"", "7", "1.50", "-3", "12345678901234567890", "\"\""] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
        let reply = app.post_raw("/mcp", body, &[V]).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.text,
            format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#)
        );
    }
}

/// `tools/list` is part of the wire format, so every tool's whole descriptor
/// is pinned in `tests/api/snapshots/tools-list.json`: renaming even an
/// optional field fails here. After a deliberate change, regenerate the file
/// with `UPDATE_SNAPSHOTS=1 cargo test --test api tools_list_matches_its_snapshot`
/// and review its diff. (The `conformance` feature adds fixture tools, so the
/// snapshot is checked without it.)
#[cfg(not(feature = "conformance"))]
#[tokio::test]
async fn tools_list_matches_its_snapshot() {
    let app = spawn_app().await;
    let reply = app
        .post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }),
            &[V],
        )
        .await;
    let tools = reply.json()["result"]["tools"].clone();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/snapshots/tools-list.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        let pretty = serde_json::to_string_pretty(&tools).expect("JSON") + "\n";
        std::fs::write(&path, pretty).expect("snapshot written");
        return;
    }
    let pinned: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("snapshot present (see this test's doc)"),
    )
    .expect("snapshot is JSON");
    if let Some(difference) = first_difference(&pinned, &tools, String::new()) {
        panic!(
            "tools/list differs from {} at {difference}; if the change is deliberate, regenerate it (see this test's doc)",
            path.display()
        );
    }
}

/// Where two JSON values first differ, as a JSON pointer with both sides.
#[cfg(not(feature = "conformance"))]
fn first_difference(pinned: &Value, served: &Value, at: String) -> Option<String> {
    match (pinned, served) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|key| {
                let (x, y) = (a.get(key), b.get(key));
                match (x, y) {
                    (Some(x), Some(y)) => first_difference(x, y, format!("{at}/{key}")),
                    _ => Some(format!("{at}/{key}: pinned {x:?}, served {y:?}")),
                }
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, format!("{at}/{i}"))),
        _ if pinned == served => None,
        _ => Some(format!("{at}: pinned {pinned}, served {served}")),
    }
}

#[tokio::test]
async fn unsupported_protocol_version_header_gets_400() {
    let app = spawn_app().await;
    let reply = app
        .post(
            &json!({ "jsonrpc": "2.0", "id": 9, "method": "tools/list" }),
            &[("mcp-protocol-version", "2024-01-01")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let body = reply.json();
    assert_eq!(body["id"], 9);
    assert_eq!(body["error"]["code"], -32022);
    assert_eq!(body["error"]["data"]["requested"], "2024-01-01");
    assert_eq!(
        body["error"]["data"]["supported"],
        json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
    );
}

#[tokio::test]
async fn sessions_are_optional_and_deleted_ones_get_404() {
    let app = spawn_app().await;
    let list = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" });
    // No session at all, and an id we never issued: both served.
    assert_eq!(app.post(&list, &[V]).await.status, StatusCode::OK);
    let unknown = app
        .post(&list, &[V, ("mcp-session-id", "never-issued")])
        .await;
    assert_eq!(unknown.status, StatusCode::OK);

    let session = app.initialize("2025-11-25").await;
    let with = [V, ("mcp-session-id", session.as_str())];
    assert_eq!(app.post(&list, &with).await.status, StatusCode::OK);

    let deleted = app
        .http
        .delete(app.url("/mcp"))
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("sent");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    let after = app.post(&list, &with).await;
    assert_eq!(after.status, StatusCode::NOT_FOUND);
    assert_eq!(after.json()["error"]["code"], -32600);
    let get = app
        .http
        .get(app.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("sent");
    assert_eq!(get.status(), StatusCode::NOT_FOUND);
    let again = app
        .http
        .delete(app.url("/mcp"))
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let no_header = app.http.delete(app.url("/mcp")).send().await.expect("sent");
    assert_eq!(no_header.status(), StatusCode::BAD_REQUEST);
}

async fn ping_with(app: &TestApp, session: &str) -> StatusCode {
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });
    app.post(&ping, &[V, ("mcp-session-id", session)])
        .await
        .status
}

#[tokio::test]
async fn idle_sessions_and_deleted_ids_expire_on_the_clock() {
    let app = spawn_app().await;
    let delete = |session: String| {
        app.http
            .delete(app.url("/mcp"))
            .header("mcp-session-id", session)
            .send()
    };
    let idle = app.initialize("2025-11-25").await;
    let used = app.initialize("2025-11-25").await;
    let ended = app.initialize("2025-11-25").await;
    assert_eq!(
        delete(ended.clone()).await.expect("sent").status(),
        StatusCode::NO_CONTENT
    );

    // A deleted id answers 404 for a while, then is served like any
    // unknown id.
    assert_eq!(ping_with(&app, &ended).await, StatusCode::NOT_FOUND);

    app.clock.advance(SESSION_IDLE_TTL / 2);
    assert_eq!(
        ping_with(&app, &used).await,
        StatusCode::OK,
        "using it renews it"
    );
    app.clock
        .advance(SESSION_IDLE_TTL / 2 + Duration::from_secs(1));
    // The idle session is forgotten: its id is served sessionless, and
    // there is nothing left to delete.
    assert_eq!(ping_with(&app, &idle).await, StatusCode::OK);
    assert_eq!(
        delete(idle).await.expect("sent").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(used).await.expect("sent").status(),
        StatusCode::NO_CONTENT
    );
    app.clock.advance(TERMINATED_TTL);
    assert_eq!(ping_with(&app, &ended).await, StatusCode::OK);
}

#[tokio::test]
async fn batches_are_served_for_2025_03_26_only() {
    let app = spawn_app().await;
    let batch = json!([
        { "jsonrpc": "2.0", "id": "a", "method": "ping" },
        { "jsonrpc": "2.0", "method": "notifications/initialized" },
        { "jsonrpc": "2.0", "id": 2, "method": "nope" },
        { "jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {} }
    ]);
    let old = [("mcp-protocol-version", "2025-03-26")];
    let reply = app.post(&batch, &old).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!([
            { "jsonrpc": "2.0", "id": "a", "result": {} },
            { "jsonrpc": "2.0", "id": 2, "error": { "code": -32601, "message": "Method not found: nope", "data": { "method": "nope" } } },
            { "jsonrpc": "2.0", "id": 3, "error": { "code": -32600, "message": "Invalid request: initialize must not be part of a batch" } }
        ])
    );
    // Without a header the version is assumed to be 2025-03-26.
    let only_notes = json!([{ "jsonrpc": "2.0", "method": "notifications/initialized" }]);
    assert_eq!(
        app.post(&only_notes, &[]).await.status,
        StatusCode::ACCEPTED
    );
    let empty = app.post(&json!([]), &old).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(empty.json()["error"]["code"], -32600);

    for newer in ["2025-06-18", "2025-11-25"] {
        let reply = app.post(&batch, &[("mcp-protocol-version", newer)]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let body = reply.json();
        assert_eq!(body["id"], Value::Null);
        assert_eq!(body["error"]["code"], -32600);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(newer))
        );
    }
    // A session negotiated at 2025-06-18 cannot batch either.
    let session = app.initialize("2025-06-18").await;
    let reply = app.post(&batch, &[("mcp-session-id", &session)]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn json_rpc_errors_have_their_codes() {
    let app = spawn_app().await;
    let parse = app.post_raw("/mcp", "{not json", &[V]).await;
    assert_eq!(parse.status, StatusCode::BAD_REQUEST);
    assert_eq!(parse.json()["error"]["code"], -32700);
    assert_eq!(parse.json()["id"], Value::Null);

    let invalid = app
        .post_raw(
            "/mcp",
            r#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#,
            &[V],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid.json()["error"]["code"], -32600);

    let cases = [
        (
            json!({ "jsonrpc": "2.0", "id": 1, "method": "no/such" }),
            -32601,
        ),
        (
            json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {} }),
            0,
        ),
        (
            json!({ "jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {} }),
            -32602,
        ),
        (
            json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "nope" } }),
            -32602,
        ),
        (
            json!({ "jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": { "level": "loud" } }),
            -32602,
        ),
        (
            json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "cursor": "x" } }),
            -32602,
        ),
        (
            json!({ "jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": { "name": "nope" } }),
            -32602,
        ),
        (
            json!({ "jsonrpc": "2.0", "id": 1, "method": "completion/complete", "params": { "ref": { "type": "ref/prompt", "name": "nope" }, "argument": { "name": "a", "value": "" } } }),
            -32602,
        ),
    ];
    for (body, code) in cases {
        let reply = app.post(&body, &[V]).await;
        if code == 0 {
            // server/discover is stateless-era only; without its _meta the
            // request is refused as the 2026-07-28 rules say.
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
            continue;
        }
        assert_eq!(reply.status, StatusCode::OK, "{body}");
        assert_eq!(
            reply.json()["error"]["code"],
            code,
            "{body}: {}",
            reply.text
        );
    }
    let missing = app
        .post(&json!({ "jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": { "uri": "binance://nope" } }), &[V])
        .await
        .json();
    assert_eq!(missing["error"]["code"], -32002);
    assert_eq!(missing["error"]["data"]["uri"], "binance://nope");
}

#[tokio::test]
async fn lists_and_set_level_answer() {
    let app = spawn_app().await;
    for (method, key) in [
        ("resources/list", "resources"),
        ("resources/templates/list", "resourceTemplates"),
        ("prompts/list", "prompts"),
    ] {
        let reply = app
            .post(
                &json!({ "jsonrpc": "2.0", "id": 1, "method": method }),
                &[V],
            )
            .await;
        assert!(
            reply.json()["result"][key].is_array(),
            "{method}: {}",
            reply.text
        );
    }
    let set = app
        .post(&json!({ "jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": { "level": "info" } }), &[V])
        .await;
    assert_eq!(set.json()["result"], json!({}));
}

#[tokio::test]
async fn tool_calls_stream_logs_when_the_client_asked_for_them() {
    let app = spawn_app().await;
    let session = app.initialize("2025-11-25").await;
    let headers = [V, ("mcp-session-id", session.as_str())];
    let call = json!({ "jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": { "name": "calculate", "arguments": { "expression": "2*21" } } });

    // No level set yet: plain JSON.
    let plain = app.post(&call, &headers).await;
    assert_eq!(plain.header("content-type"), Some("application/json"));

    let set = json!({ "jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": { "level": "debug" } });
    assert_eq!(app.post(&set, &headers).await.status, StatusCode::OK);
    let streamed = app.post(&call, &headers).await;
    assert_eq!(streamed.status, StatusCode::OK);
    assert_eq!(streamed.header("content-type"), Some("text/event-stream"));
    let messages = sse_messages(&streamed.text);
    let (last, notes) = messages.split_last().expect("messages");
    assert_eq!(last["id"], 4);
    assert_eq!(last["result"]["structuredContent"]["result"], "42");
    assert!(!notes.is_empty(), "a debug log precedes the result");
    for note in notes {
        assert_eq!(note["method"], "notifications/message");
        assert_eq!(note["params"]["logger"], "calculate");
    }

    // A client that accepts only JSON still gets JSON.
    let json_only = app
        .post_raw(
            "/mcp",
            call.to_string(),
            &[
                V,
                ("mcp-session-id", &session),
                ("accept", "application/json"),
            ],
        )
        .await;
    assert_eq!(json_only.header("content-type"), Some("application/json"));

    // Progress alone also opens a stream.
    let progress = json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": { "name": "calculate", "arguments": { "expression": "1" }, "_meta": { "progressToken": "p1" } } });
    let reply = app.post(&progress, &[V]).await;
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    assert_eq!(sse_messages(&reply.text).last().expect("result")["id"], 5);
}

#[tokio::test]
async fn get_opens_a_stream_or_describes_the_server() {
    let app = spawn_app().await;
    let session = app.initialize("2025-11-25").await;
    let stream = app
        .http
        .get(app.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("sent");
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(
        stream
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    drop(stream);
    // Without a session (ChatGPT after a long idle) the stream still opens.
    let anonymous = app
        .http
        .get(app.url("/"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status(), StatusCode::OK);
    drop(anonymous);

    let page = app
        .http
        .get(app.url("/mcp"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("sent");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("body");
    assert!(
        html.contains("crypto-mcp") && html.contains("2026-07-28") && html.contains("/mcp"),
        "{html}"
    );
    let info: Value = app
        .http
        .get(app.url("/"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(info["name"], "crypto-mcp");
    assert_eq!(info["protocolVersions"][0], "2026-07-28");
    assert!(
        info["endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with("/mcp"))
    );
}

#[tokio::test]
async fn both_paths_serve_the_endpoint() {
    let app = spawn_app().await;
    for path in ["/", "/mcp"] {
        let reply = app
            .post_raw(path, initialize_body("2025-06-18").to_string(), &[])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.json()["result"]["protocolVersion"], "2025-06-18");
    }
}
