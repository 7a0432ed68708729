//! The listener's limits: timeouts per connection phase, the connection cap
//! and what happens past it. Timeouts are set to a second or two so each
//! test waits on the server, not on a fixed sleep.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Options, TestApp, spawn_app_with};

/// Longest any test here waits for the server to act.
const PATIENCE: Duration = Duration::from_secs(10);

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// Waits until the server closes `socket`, returning what it sent first and
/// how long the close took.
async fn closed_by_server(socket: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(PATIENCE, socket.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("the server kept the connection open for {PATIENCE:?}"),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

async fn connect(addr: SocketAddr, sent: &[u8]) -> TcpStream {
    let mut socket = TcpStream::connect(addr).await.expect("connect");
    socket.write_all(sent).await.expect("write");
    socket
}

/// True while the server has neither closed `socket` nor sent anything.
async fn still_open(socket: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    tokio::time::timeout(Duration::from_millis(50), socket.read(&mut byte))
        .await
        .is_err()
}

/// An app with one-second header, body and send timeouts and the given
/// idle one.
async fn with_timeouts(idle_secs: &str) -> TestApp {
    spawn_app_with(Options::new().flags(&[
        "--header-read-timeout-secs",
        "1",
        "--body-read-timeout-secs",
        "1",
        "--send-timeout-secs",
        "1",
        "--idle-timeout-secs",
        idle_secs,
    ]))
    .await
}

#[tokio::test]
async fn idle_and_half_sent_connections_are_closed() {
    let app = with_timeouts("3").await;
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let half_body = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    );
    let mut silent = connect(app.addr, b"").await;
    let mut half_head = connect(app.addr, b"GET /healthz HTTP/1.1\r\nHost: 12").await;
    let mut half_body = connect(app.addr, half_body.as_bytes()).await;
    let mut keep_alive = connect(app.addr, HEALTHZ).await;

    for (name, socket) in [
        ("silent", &mut silent),
        ("half-sent head", &mut half_head),
        ("half-sent body", &mut half_body),
    ] {
        let (sent, after) = closed_by_server(socket).await;
        assert!(sent.is_empty(), "{name}: {sent}");
        assert!(
            after < Duration::from_secs(3),
            "{name}: closed after {after:?}"
        );
    }
    // The keep-alive connection outlived the header-read timeout: idle
    // time is counted on its own clock.
    assert!(still_open_after_reply(&mut keep_alive).await);
    let (_, after) = closed_by_server(&mut keep_alive).await;
    assert!(after < Duration::from_secs(5), "idle keep-alive: {after:?}");
}

/// Reads the `/healthz` reply, then reports whether the connection stays
/// open.
async fn still_open_after_reply(socket: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 4096];
    let n = socket.read(&mut chunk).await.expect("reply");
    let reply = String::from_utf8_lossy(&chunk[..n]).into_owned();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    still_open(socket).await
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed() {
    let app = with_timeouts("30").await;
    // Far more response than socket buffers hold: 200 pipelined tools/list
    // (about 40 KB each), none of it read.
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("small receive buffer");
    let mut socket = socket.connect(app.addr).await.expect("connect");
    socket
        .write_all(request.repeat(200).as_bytes())
        .await
        .expect("requests sent");
    // Not reading while the server fills every buffer and stalls.
    tokio::time::sleep(Duration::from_secs(3)).await;
    // It gave up on the stalled write: what it managed to send drains, then
    // the connection ends well before 200 replies.
    let mut received = 0usize;
    let mut chunk = vec![0u8; 65_536];
    loop {
        match tokio::time::timeout(PATIENCE, socket.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => received += n,
            Err(_) => panic!("the stalled connection stayed open"),
        }
    }
    assert!(
        received < 200 * 30_000,
        "{received} bytes: nothing stalled?"
    );
}

#[tokio::test]
async fn streams_outlive_every_timeout() {
    let app = with_timeouts("1").await;
    let mut stream = app
        .http
        .get(app.url("/mcp"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("stream opened");
    assert_eq!(stream.status(), StatusCode::OK);
    // Nothing to read, and no end of stream, well past every timeout.
    let waited = tokio::time::timeout(Duration::from_millis(2_500), stream.chunk()).await;
    assert!(waited.is_err(), "the stream ended: {waited:?}");
}

#[tokio::test]
async fn at_the_cap_a_new_connection_replaces_the_longest_waiting() {
    let app = spawn_app_with(Options::new().flags(&["--max-connections", "3"])).await;
    let mut oldest = connect(app.addr, b"").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut others = Vec::new();
    for _ in 0..2 {
        others.push(connect(app.addr, b"GET /healthz HTTP/1.1\r\n").await);
    }
    // The cap is reached; the health check still answers at once.
    let started = Instant::now();
    let reply = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz answered");
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(1));
    let (sent, after) = closed_by_server(&mut oldest).await;
    assert!(sent.is_empty() && after < Duration::from_secs(1), "{sent}");
    for socket in &mut others {
        assert!(still_open(socket).await, "a younger connection was closed");
    }
}

#[tokio::test]
async fn when_every_connection_is_busy_new_ones_get_503() {
    let app = spawn_app_with(Options::new().flags(&["--max-connections", "2"])).await;
    let open_stream = || {
        app.http
            .get(app.url("/mcp"))
            .header("accept", "text/event-stream")
            .send()
    };
    let first = open_stream().await.expect("first stream");
    let _second = open_stream().await.expect("second stream");
    let mut refused = connect(app.addr, b"").await;
    let (sent, after) = closed_by_server(&mut refused).await;
    assert!(sent.starts_with("HTTP/1.1 503"), "{sent}");
    assert!(sent.contains("retry-after: 1"), "{sent}");
    assert!(after < Duration::from_secs(3), "refused after {after:?}");
    // A stream that ends frees its slot for the next client.
    drop(first);
    let mut next = connect(app.addr, HEALTHZ).await;
    let mut chunk = [0u8; 1024];
    let n = tokio::time::timeout(PATIENCE, next.read(&mut chunk))
        .await
        .expect("answered")
        .expect("read");
    assert!(chunk[..n].starts_with(b"HTTP/1.1 200"));
}
