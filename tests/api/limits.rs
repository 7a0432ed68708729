//! What one client can make the server hold or send: GET streams are capped
//! per caller and across all sessions, and a client without a token gets
//! small answers.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::oauth::client_from;
use crate::helpers::{Options, TestApp, spawn_app_with};

async fn open_stream(app: &TestApp, session: Option<&str>) -> Response {
    open_stream_with(&app.http, app, session).await
}

async fn open_stream_with(
    http: &reqwest::Client,
    app: &TestApp,
    session: Option<&str>,
) -> Response {
    let mut request = http
        .get(app.url("/mcp"))
        .header("accept", "text/event-stream");
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.send().await.expect("sent")
}

#[tokio::test]
async fn streams_past_the_global_cap_get_503_and_give_their_place_back() {
    // A cap of 4 leaves one place for streams without a session.
    let app = spawn_app_with(Options::new().flags(&["--max-streams", "4"])).await;
    let sessionless = open_stream(&app, None).await;
    assert_eq!(sessionless.status(), StatusCode::OK);
    let refused = open_stream(&app, None).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);

    let first = app.initialize("2025-11-25").await;
    let second = app.initialize("2025-11-25").await;
    let mut held = Vec::new();
    for session in [&first, &first, &second] {
        let stream = open_stream(&app, Some(session)).await;
        assert_eq!(stream.status(), StatusCode::OK);
        held.push(stream);
    }
    // Sessions are free to create, so their streams are capped overall.
    let third = app.initialize("2025-11-25").await;
    let refused = open_stream(&app, Some(&third)).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("30")
    );

    // Ending a session ends its streams, and their places are free again by
    // the time the client sees them end.
    let ended = app
        .http
        .delete(app.url("/mcp"))
        .header("mcp-session-id", &first)
        .send()
        .await
        .expect("sent");
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    for stream in held.drain(..2) {
        stream.bytes().await.expect("the stream ends");
    }
    assert_eq!(
        open_stream(&app, Some(&third)).await.status(),
        StatusCode::OK
    );
    drop(sessionless);
}

#[tokio::test]
async fn one_caller_holds_at_most_its_share_of_the_streams() {
    // A quarter of 32 per caller, far below the cap itself.
    let app = spawn_app_with(Options::new().flags(&["--max-streams", "32"])).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let session = app.initialize("2025-11-25").await;
        for _ in 0..2 {
            let stream = open_stream(&app, Some(&session)).await;
            assert_eq!(stream.status(), StatusCode::OK);
            held.push(stream);
        }
    }
    let refused = open_stream(&app, None).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));

    let other = client_from("127.0.0.2");
    let theirs = open_stream_with(&other, &app, None).await;
    assert_eq!(
        theirs.status(),
        StatusCode::OK,
        "another caller still gets in"
    );

    // A closed stream gives its place back to its caller.
    drop(held.pop());
    let start = std::time::Instant::now();
    while open_stream(&app, None).await.status() != StatusCode::OK {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "the place came back"
        );
        tokio::task::yield_now().await;
    }
    drop(theirs);
}

fn tools_list(id: usize) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/list" })
}

#[tokio::test]
async fn tokenless_batches_are_refused_before_they_are_read() {
    let app = spawn_app_with(Options::oauth().flags(&["--anonymous-discovery"])).await;
    let batch = Value::Array((0..64).map(tools_list).collect());
    let post = |token: Option<String>| {
        let mut request = app
            .http
            .post(app.url("/mcp"))
            .header("mcp-protocol-version", "2025-03-26")
            .json(&batch);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let refused = post(None).await.expect("sent");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().contains_key("www-authenticate"));
    let body = refused.bytes().await.expect("body");
    assert!(body.len() < 512, "{} bytes", body.len());

    // One list at a time still works without a token, and with a token the
    // batch is served whole.
    let single = app
        .http
        .post(app.url("/mcp"))
        .json(&tools_list(1))
        .send()
        .await
        .expect("sent");
    assert_eq!(single.status(), StatusCode::OK);
    let tokens = app.obtain_tokens().await;
    let served: Value = post(Some(tokens.access))
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(served.as_array().map(Vec::len), Some(64));
}
