//! The one harness: [`spawn_app_with`] starts the real application (MCP
//! endpoint, and with [`Options::oauth`] the authorization server) on a
//! random loopback port, in front of a fake Binance, with an injected clock.
//! [`TestApp`] carries the request helpers every test module shares; the
//! sign-in flow's helpers are in [`oauth`].

pub mod oauth;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use crypto_mcp::binance::{BinanceClient, ManualClock};
use crypto_mcp::config::Config;
use crypto_mcp::oauth::store::StoreLimits;
use crypto_mcp::oauth::{OAuth, OAuthArgs};
use crypto_mcp::shared::redis::Redis;
use crypto_mcp::startup::{self, Wiring};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::fake_binance::FakeBinance;

use oauth::default_args;

pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";
pub const STATELESS: &str = "2026-07-28";

/// A clock the test moves by hand: the authorization server and the MCP
/// sessions both read it, so expiry is tested without sleeping.
#[derive(Clone, Default)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_secs(), Ordering::SeqCst);
    }

    fn offset(&self) -> Duration {
        Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

/// How to start the application under test.
#[derive(Default)]
pub struct Options {
    flags: Vec<String>,
    oauth: Option<OAuthArgs>,
    addr: Option<String>,
    binance_url: Option<String>,
    limits: StoreLimits,
    clock: Option<TestClock>,
    shared: Option<Redis>,
    no_public_url: bool,
    binance_clock: Option<Arc<ManualClock>>,
}

impl Options {
    /// The MCP endpoint alone (`--auth none`).
    pub fn new() -> Self {
        Self::default()
    }

    /// With the authorization server, which signs in [`USER`] with
    /// [`PASSWORD`].
    pub fn oauth() -> Self {
        Self::with_oauth(default_args())
    }

    /// With the authorization server configured by `args`.
    pub fn with_oauth(args: OAuthArgs) -> Self {
        Self {
            oauth: Some(args),
            ..Self::default()
        }
    }

    /// No `--public-url`, as a user starting the server on their machine:
    /// the authorization server answers for whichever loopback origin a
    /// request used.
    pub fn without_public_url(mut self) -> Self {
        self.no_public_url = true;
        self
    }

    /// Command-line flags, as an operator would pass them.
    pub fn flags(mut self, flags: &[&str]) -> Self {
        self.flags.extend(flags.iter().map(|f| (*f).to_owned()));
        self
    }

    /// Binds `addr` (say, the one a stopped app listened on) instead of a
    /// random port.
    pub fn at(mut self, addr: &str) -> Self {
        self.addr = Some(addr.to_owned());
        self
    }

    /// Reads this clock (say, the one a stopped app read) instead of a new
    /// one.
    pub fn clock(mut self, clock: TestClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// An OAuth store that holds at most `limits`.
    pub fn limits(mut self, limits: StoreLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Keeps the OAuth state and the MCP sessions in this Redis, as one of
    /// several instances would (give them all one `--public-url`).
    pub fn shared(mut self, redis: Redis) -> Self {
        self.shared = Some(redis);
        self
    }

    /// The Binance client reads this clock instead of the system's: the
    /// fake's hours are then as recent as it says (the last one open).
    pub fn binance_clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.binance_clock = Some(clock);
        self
    }

    /// Talks to this upstream instead of the fake Binance.
    pub fn binance_url(mut self, url: &str) -> Self {
        self.binance_url = Some(url.to_owned());
        self
    }
}

/// A running application, stopped when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    /// `http://addr`, the public URL (see [`TestApp::reach_via`]).
    pub base: String,
    /// Its public URL: `base`, unless one was given for several instances.
    pub public: String,
    /// The fake Binance this app talks to, alive as long as the app.
    pub binance: FakeBinance,
    /// Follows no redirects, so every status and header can be asserted.
    pub http: Client,
    pub clock: TestClock,
    /// The authorization server's arguments (defaults without OAuth).
    pub args: OAuthArgs,
    oauth: Option<OAuth>,
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
    spawn_app_with(Options::new()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    init_tracing();
    let listener = TcpListener::bind(options.addr.as_deref().unwrap_or("127.0.0.1:0"))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let binance = FakeBinance::start().await;
    let binance_url = options.binance_url.clone().unwrap_or_else(|| binance.url());
    let port = addr.port().to_string();
    let mut argv: Vec<&str> = vec![
        "crypto-mcp",
        "--port",
        &port,
        "--binance-base-url",
        &binance_url,
        "--binance-futures-base-url",
        &binance_url,
    ];
    match &options.oauth {
        // OAuth names itself in every URL it hands out, so it gets the
        // address it really listens on.
        Some(_) if !options.no_public_url && !options.flags.iter().any(|f| f == "--public-url") => {
            argv.extend(["--public-url", &base]);
        }
        Some(_) => {}
        None => argv.extend(["--auth", "none"]),
    }
    argv.extend(options.flags.iter().map(String::as_str));
    let mut config = Config::try_parse_from(argv).expect("test config");
    if let Some(args) = &options.oauth {
        config.oauth = args.clone();
    }
    let clock = options.clock.clone().unwrap_or_default();
    let (system_now, instant_now) = (SystemTime::now(), Instant::now());
    let wiring = {
        let (oauth, mcp) = (clock.clone(), clock.clone());
        Wiring {
            oauth_clock: Arc::new(move || system_now + oauth.offset()),
            mcp_clock: Arc::new(move || instant_now + mcp.offset()),
            store_limits: options.limits,
        }
    };
    let mut binance_config = config.binance_config();
    if let Some(clock) = options.binance_clock.clone() {
        binance_config.clock = clock;
    }
    let binance_client = BinanceClient::new(binance_config).expect("binance client");
    let state = startup::assemble(&config, binance_client, options.shared, wiring)
        .await
        .expect("oauth setup")
        .state;
    let oauth = state.oauth.clone();
    let public = state.settings().public_url.configured().to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(crypto_mcp::serve(listener, state, async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        base,
        public,
        binance,
        http: no_redirects().build().expect("client"),
        clock,
        args: options.oauth.unwrap_or_default(),
        oauth,
        stop: Some(stop),
        server: Some(server),
    }
}

/// The request helpers for a server that runs elsewhere (the binary, in
/// another process) at `addr` with public URL `http://addr`, signing in
/// as [`oauth::USER`], in front of `binance`.
pub fn attach(addr: SocketAddr, binance: FakeBinance) -> TestApp {
    let base = format!("http://{addr}");
    TestApp {
        addr,
        public: base.clone(),
        base,
        binance,
        http: no_redirects().build().expect("client"),
        clock: TestClock::default(),
        args: default_args(),
        oauth: None,
        stop: None,
        server: None,
    }
}

/// Tests assert every status and header, so nothing is followed.
fn no_redirects() -> reqwest::ClientBuilder {
    Client::builder().redirect(reqwest::redirect::Policy::none())
}

impl TestApp {
    /// The authorization server; only apps started with OAuth have one.
    pub fn oauth(&self) -> &OAuth {
        self.oauth
            .as_ref()
            .expect("started without OAuth: use Options::oauth()")
    }

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

    /// Stops serving at once, as a process that exits, and returns the
    /// address once it is free, so another app can take its place.
    pub async fn stop(mut self) -> SocketAddr {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
        self.addr
    }

    /// From here on, reaches the app as `http://host:port`, as a client
    /// given that URL would (the name resolves to the app's address).
    pub fn reach_via(&mut self, host: &str) {
        self.base = format!("http://{host}:{}", self.addr.port());
        self.public = self.base.clone();
        self.http = no_redirects()
            .resolve(host, self.addr)
            .build()
            .expect("client");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
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
            .http
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
