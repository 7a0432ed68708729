//! A real `redis-server` on loopback for the tests (Debian's package;
//! `REDIS_SERVER_BIN` may name another binary, e.g. `valkey-server`).
//!
//! Each server gets a free port, no persistence (`--save '' --appendonly
//! no`) and a temporary directory. It runs under a small shell that kills it
//! when its standard input closes, so it goes away with the test process
//! however that ends, and at once when a [`RedisServer`] is dropped.
//!
//! Without the binary the Redis tests are skipped with a message saying how
//! to install it; in CI (`CI` set, as `.ci/run` runs) that is a failure.
//!
//! Shared by the library's store tests and the integration binary, which
//! each use part of it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a fresh server may take to answer PING.
const START_DEADLINE: Duration = Duration::from_secs(10);

pub struct RedisServer {
    pub port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    bin: String,
    extra: Vec<String>,
}

fn binary() -> Option<String> {
    let candidates = std::env::var("REDIS_SERVER_BIN")
        .ok()
        .into_iter()
        .chain(["redis-server".to_owned(), "valkey-server".to_owned()]);
    for bin in candidates {
        let ok = Command::new(&bin)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(bin);
        }
    }
    None
}

/// The binary, or `None` after printing why the test is skipped. Panics in
/// CI, where a missing server must fail the run.
pub fn available() -> Option<String> {
    static FOUND: OnceLock<Option<String>> = OnceLock::new();
    let found = FOUND.get_or_init(binary).clone();
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "redis-server is missing in CI: `.ci/run` installs it (apt-get install redis-server)"
            );
        }
        eprintln!(
            "skipped: redis-server not found; `apt-get install redis-server` to run the Redis tests"
        );
    }
    found
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

impl RedisServer {
    /// A new server of its own (tests that stop or restart it).
    pub fn start() -> Option<RedisServer> {
        Self::start_with(&[])
    }

    /// A new server with extra flags (e.g. a TLS port).
    pub fn start_with(extra: &[&str]) -> Option<RedisServer> {
        let bin = available()?;
        let dir = std::env::temp_dir().join(format!(
            "crypto-mcp-redis-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let mut server = RedisServer {
            port: 0,
            dir,
            child: None,
            stdin: None,
            bin,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        };
        // A port found free may be taken before the server binds it: retry.
        for _ in 0..5 {
            server.port = free_port();
            if server.spawn() {
                return Some(server);
            }
        }
        panic!("redis-server did not start");
    }

    /// One server for the whole test process, shared by tests that each use
    /// a prefix of their own.
    pub fn shared() -> Option<&'static RedisServer> {
        static SHARED: OnceLock<Option<RedisServer>> = OnceLock::new();
        SHARED.get_or_init(RedisServer::start).as_ref()
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn spawn(&mut self) -> bool {
        let port = self.port.to_string();
        let mut args = vec![
            "--bind",
            "127.0.0.1",
            "--port",
            &port,
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
            "--dir",
        ];
        let dir = self.dir.to_string_lossy().into_owned();
        args.push(&dir);
        args.extend(self.extra.iter().map(String::as_str));
        // `$0` is the server; the shell waits for EOF on its stdin (our end
        // of the pipe closes when this process exits), then kills it.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" "$@" >/dev/null 2>&1 & pid=$!; echo started; read _; kill "$pid"; wait "$pid""#)
            .arg(&self.bin)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let stdin = child.stdin.take();
        if let Some(out) = child.stdout.take() {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
        }
        self.child = Some(child);
        self.stdin = stdin;
        let start = Instant::now();
        while start.elapsed() < START_DEADLINE {
            if self.ping() {
                return true;
            }
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        false
    }

    /// Whether the server answers PING (a raw RESP exchange, no client).
    pub fn ping(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    /// Stops the server (its data is gone: nothing is saved).
    pub fn stop(&mut self) {
        self.stdin.take();
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        assert!(self.spawn(), "redis-server did not restart");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
