//! `spawn_app()` and request helpers shared by every test module.

use std::net::SocketAddr;
use std::sync::Once;

use clap::Parser;
use crypto_mcp::config::Config;
use crypto_mcp::{AppState, Settings};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::fake_binance::FakeBinance;

pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";
pub const STATELESS: &str = "2026-07-28";

/// A server on a random loopback port, stopped when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The fake Binance this app talks to, alive as long as the app.
    pub binance: FakeBinance,
    pub client: Client,
    /// Dropping it (with the app) or [`TestApp::begin_shutdown`] starts a
    /// graceful shutdown.
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt().with_env_filter("debug").init();
        }
    });
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with extra command-line flags.
pub async fn spawn_app_with(args: &[&str]) -> TestApp {
    init_tracing();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let port = addr.port().to_string();
    let binance = FakeBinance::start().await;
    let binance_url = binance.url();
    let argv = [
        "crypto-mcp",
        "--port",
        &port,
        "--binance-base-url",
        &binance_url,
        "--binance-futures-base-url",
        &binance_url,
        "--auth",
        "none",
    ]
    .into_iter()
    .chain(args.iter().copied());
    let config = Config::try_parse_from(argv).expect("test config");
    let client = config.binance_client().expect("binance client");
    let catalog = crypto_mcp::catalog(&client, None);
    let state = AppState::new(Settings::from_config(&config), client, None, catalog);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(crypto_mcp::serve(listener, state, async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        binance,
        client: Client::new(),
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    /// Starts a graceful shutdown, as SIGTERM does in the binary.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// The server task: it finishes once a shutdown has drained everything.
    pub fn server_task(&mut self) -> JoinHandle<std::io::Result<()>> {
        self.server.take().expect("server task taken once")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a raw body to `path` with the given extra headers.
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut map = HeaderMap::new();
        map.insert("content-type", HeaderValue::from_static("application/json"));
        map.insert("accept", HeaderValue::from_static(ACCEPT_BOTH));
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("header name");
            map.insert(name, HeaderValue::from_str(value).expect("header value"));
        }
        let response = self
            .client
            .post(self.url(path))
            .headers(map)
            .body(body)
            .send()
            .await
            .expect("request sent");
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.expect("body"),
        }
    }

    pub async fn post(&self, body: &Value, headers: &[(&str, &str)]) -> Reply {
        self.post_raw("/mcp", body.to_string(), headers).await
    }

    /// Initializes a handshake-era session and returns its id.
    pub async fn initialize(&self, version: &str) -> String {
        let reply = self.post(&initialize_body(version), &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let session = reply
            .header("mcp-session-id")
            .expect("session id")
            .to_owned();
        let ack = self
            .post(
                &json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
                &[
                    ("mcp-session-id", &session),
                    ("mcp-protocol-version", version),
                ],
            )
            .await;
        assert_eq!(ack.status, StatusCode::ACCEPTED);
        session
    }

    /// Calls a tool in the handshake era and returns the JSON-RPC result.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Value {
        let reply = self
            .post(
                &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": name, "arguments": arguments } }),
                &[("mcp-protocol-version", "2025-11-25")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json()["result"].clone()
    }
}

pub fn initialize_body(version: &str) -> Value {
    json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": { "protocolVersion": version, "capabilities": {}, "clientInfo": { "name": "test", "version": "1" } }
    })
}

/// `_meta` for a stateless-era request.
pub fn stateless_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "test", "version": "1" }
    })
}

/// The headers a stateless-era request must carry.
pub fn stateless_headers<'a>(
    method: &'a str,
    name: Option<&'a str>,
) -> Vec<(&'static str, &'a str)> {
    let mut headers = vec![("mcp-protocol-version", STATELESS), ("mcp-method", method)];
    if let Some(name) = name {
        headers.push(("mcp-name", name));
    }
    headers
}

/// Splits an SSE body into the JSON messages of its `data:` lines.
pub fn sse_messages(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| serde_json::from_str(data.trim()).expect("SSE data is JSON"))
        .collect()
}
