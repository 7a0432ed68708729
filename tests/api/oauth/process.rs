//! The binary itself: what it does at start-up and at shutdown.
use super::helpers::{PASSWORD, REDIRECT, USER, attach, pkce};
use crate::fake_binance::FakeBinance;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_crypto-mcp");
/// How long the process may take to start or to stop.
const DEADLINE: Duration = Duration::from_secs(15);

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn command(port: u16, users: &str) -> Command {
    // Binance is never called here: a closed loopback port.
    command_with_binance(port, users, "http://127.0.0.1:9")
}

fn command_with_binance(port: u16, users: &str, binance: &str) -> Command {
    let mut c = Command::new(BIN);
    c.args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--binance-base-url", binance])
        .args(["--binance-futures-base-url", binance])
        .env("PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("MCP_USERS", users)
        .env_remove("MCP_STATE_FILE")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// A server process that is stopped when the test ends, even by a failed
/// assertion, so no test leaves a server running.
struct Running(Child);

impl Running {
    fn spawn(command: &mut Command) -> Self {
        Self(command.spawn().expect("the binary starts"))
    }
}

impl std::ops::Deref for Running {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("the server did not exit within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server did not start within {DEADLINE:?}");
}

/// Waits for the server at `base`, registers a client and returns its id.
async fn register_when_healthy(base: &str) -> String {
    let http = reqwest::Client::new();
    wait_healthy(&http, base).await;
    let r = http
        .post(format!("{base}/register"))
        .json(&json!({"redirect_uris": [REDIRECT]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_short_plain_password_stops_the_server_with_one_line_naming_the_user() {
    let mut child = command(free_port(), "bob:short-pw alice:long-enough-pw")
        .spawn()
        .unwrap();
    let status = wait_exit(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("\"bob\"") && stderr.contains("12"),
        "{stderr}"
    );
    assert!(!stderr.contains("short-pw"), "{stderr}");
}

#[tokio::test]
async fn the_state_file_is_written_on_sigterm_and_ctrl_c() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = Running::spawn(
            command(port, &format!("{USER}:{PASSWORD}"))
                .arg("--state-file")
                .arg(&path),
        );
        let client_id = register_when_healthy(&base).await;
        // At once, before the background writer's delay has passed.
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = wait_exit(&mut child);
        assert!(status.success(), "SIG{signal}: {status}");
        let saved = std::fs::read_to_string(&path).unwrap();
        assert!(
            saved.contains(&client_id),
            "SIG{signal}: the last change is saved"
        );
    }
}

/// Runs the binary until it exits; returns its status, stderr and how long
/// it ran.
fn run_to_exit(mut c: Command) -> (std::process::ExitStatus, String, Duration) {
    let start = Instant::now();
    let mut child = c.spawn().unwrap();
    let status = wait_exit(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status, stderr, start.elapsed())
}

#[test]
fn an_unreachable_store_stops_the_server_within_five_seconds_naming_it_without_its_password() {
    // Nothing listens on the first port; the second accepts connections and
    // never answers, as a firewalled or wedged server would.
    let closed = free_port();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    for port in [closed, silent_port] {
        let mut c = command(free_port(), &format!("{USER}:{PASSWORD}"));
        c.args([
            "--store",
            &format!("redis://default:pa55word-xyz@127.0.0.1:{port}/"),
        ]);
        let (status, stderr, took) = run_to_exit(c);
        assert!(!status.success(), "{stderr}");
        assert!(took < Duration::from_secs(5), "took {took:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("redis://default@127.0.0.1:{port}")),
            "{stderr}"
        );
        assert!(!stderr.contains("pa55word"), "{stderr}");
    }
}

#[test]
fn the_state_file_and_a_shared_store_are_not_combined() {
    let Some(server) = crate::redis_server::RedisServer::shared() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut c = command(free_port(), &format!("{USER}:{PASSWORD}"));
    c.args(["--store", &server.url(), "--state-file"])
        .arg(dir.path().join("s.json"));
    let (status, stderr, _) = run_to_exit(c);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--state-file"), "{stderr}");
}

/// A CA and a certificate for 127.0.0.1 it signed, made by `openssl`.
fn test_certificates(dir: &std::path::Path) {
    let sh = format!(
        "set -e; cd '{}'; \
         openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
           -keyout ca.key -out ca.crt -subj /CN=test-ca -days 1; \
         openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
           -keyout srv.key -out srv.csr -subj /CN=127.0.0.1; \
         printf 'subjectAltName=IP:127.0.0.1\\n' > ext; \
         openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
           -out srv.crt -days 1 -extfile ext",
        dir.display()
    );
    let ok = Command::new("sh")
        .args(["-c", &sh])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "openssl failed");
}

#[tokio::test]
async fn a_tls_store_is_reached_over_rediss() {
    let dir = tempfile::tempdir().unwrap();
    if crate::redis_server::available().is_none() {
        return;
    }
    test_certificates(dir.path());
    let tls_port = free_port().to_string();
    let file = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let server = crate::redis_server::RedisServer::start_with(&[
        "--tls-port",
        &tls_port,
        "--tls-cert-file",
        &file("srv.crt"),
        "--tls-key-file",
        &file("srv.key"),
        "--tls-ca-cert-file",
        &file("ca.crt"),
        "--tls-auth-clients",
        "no",
    ])
    .expect("redis-server");
    let url = format!("rediss://127.0.0.1:{tls_port}/");
    // Our CA is not a public root: refused without --store-ca-file …
    let mut c = command(free_port(), &format!("{USER}:{PASSWORD}"));
    c.args(["--store", &url]);
    let (status, stderr, _) = run_to_exit(c);
    assert!(!status.success(), "{stderr}");
    // … and served with it.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Running::spawn(command(port, &format!("{USER}:{PASSWORD}")).args([
        "--store",
        &url,
        "--store-ca-file",
        &file("ca.crt"),
    ]));
    register_when_healthy(&base).await;
    drop(child);
    drop(server);
}

/// The binary itself at `RUST_LOG=trace`, every crate included: the real
/// logging setup, and no other test's subscriber to race with.
#[tokio::test]
async fn secrets_never_reach_the_logs_even_at_trace_level() {
    let log = tempfile::NamedTempFile::new().unwrap();
    // One open file for both streams, so neither overwrites the other.
    let output = log.reopen().unwrap();
    let binance = FakeBinance::start().await;
    let port = free_port();
    let child = Running::spawn(
        command_with_binance(port, &format!("{USER}:{PASSWORD}"), &binance.url())
            .env("RUST_LOG", "trace")
            .stderr(output.try_clone().unwrap())
            .stdout(output),
    );
    let s = attach(([127, 0, 0, 1], port).into(), binance);
    wait_healthy(&s.http, &s.base).await;

    let t = s.obtain_tokens().await;
    let r = s
        .register(json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_post"}))
        .await;
    let client_secret = r.json::<Value>().await.unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let client_id = s.register_public().await;
    let p = pkce();
    let q = s.obtain_code(&client_id, &p).await;
    let page = s
        .get_authorize(&s.authorize_params(&client_id, &pkce()))
        .await;
    let wrong = s
        .post_form(
            &page,
            &[
                ("username", USER),
                ("password", "wrong-password-xyz"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let refreshed: Value = s
        .refresh(&t.client_id, &t.refresh)
        .await
        .json()
        .await
        .unwrap();
    let _ = s.refresh(&t.client_id, "cm_rt_forged").await;
    let _ = s.exchange(&client_id, &q["code"], &p).await;
    // A replay, which is logged as a warning.
    let _ = s.exchange(&client_id, &q["code"], &p).await;
    let called = s
        .http
        .post(s.url("/mcp"))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "binance_ticker", "arguments": {"symbol": "BTCUSDT"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(called.status(), StatusCode::OK);
    drop(child);

    let logs = std::fs::read_to_string(log.path()).unwrap();
    assert!(logs.contains("tokens issued"), "logging is on: {logs}");
    assert!(logs.contains("replayed"), "{logs}");
    assert!(logs.contains("TRACE"), "every level is on: {logs}");
    for secret in [
        PASSWORD,
        "wrong-password-xyz",
        &t.access,
        &t.refresh,
        refreshed["access_token"].as_str().unwrap(),
        refreshed["refresh_token"].as_str().unwrap(),
        &q["code"],
        &p.verifier,
        &client_secret,
        "cm_rt_forged",
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}
