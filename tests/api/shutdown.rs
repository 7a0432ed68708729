//! Graceful shutdown: in-flight requests finish, notification streams end,
//! then the server exits.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::spawn_app;

#[tokio::test]
async fn shutdown_drains_in_flight_requests_and_ends_streams() {
    let mut app = spawn_app().await;
    let stream = app
        .http
        .get(app.url("/mcp"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("stream opened");

    // A request whose body is only half sent when shutdown begins.
    let body = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"calculate","arguments":{"expression":"6*7"}}}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let mut socket = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.expect("head");
    socket
        .write_all(first.as_bytes())
        .await
        .expect("first half");
    // Socket time, not clock time: the server must have read the head
    // before shutdown begins, and nothing signals that it has.
    tokio::time::sleep(Duration::from_millis(50)).await;

    app.begin_shutdown();
    let server = app.server_task();
    // That the server keeps running can only be seen over a while.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !server.is_finished(),
        "the half-sent request keeps the server up"
    );

    socket
        .write_all(rest.as_bytes())
        .await
        .expect("second half");
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), socket.read_to_string(&mut response))
        .await
        .expect("answered in time")
        .expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""result":"42""#), "{response}");

    // The open notification stream ends instead of holding the server.
    let ended = tokio::time::timeout(Duration::from_secs(5), stream.bytes()).await;
    assert!(ended.is_ok(), "stream ended at shutdown");
    let finished = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server exits after draining");
    assert!(matches!(finished, Ok(Ok(()))));
}
