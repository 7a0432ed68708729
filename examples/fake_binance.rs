//! A fake Binance on 127.0.0.1 for offline demos and benchmarks.
//!
//! ```text
//! cargo run --example fake_binance -- --port 9900 [--weight-limit N] [--fault SPEC] [--fault-path PATH]
//! ```
//! `--weight-limit` enforces N request weight per minute (spot and futures
//! each) with 429s, as Binance does, and advertises it in `exchangeInfo`.
//! SPEC is one of `429[:secs]`, `418[:secs]`, `451`, `500`, `slow:MS`,
//! `hang`, `malformed`, `truncated`, `flood:ROWS`; with `--fault-path` it
//! applies to that path only. `429:5` (or `418:5`) refuses with
//! `Retry-After: 5` for 5 seconds from the first refused request, then
//! answers normally, as Binance does; without seconds, and for every other
//! fault, it lasts until the fake stops. Point the server at it with
//! `BINANCE_BASE_URL=http://127.0.0.1:9900 BINANCE_FUTURES_BASE_URL=http://127.0.0.1:9900`.

#[path = "../tests/api/fake_binance/mod.rs"]
mod fake_binance;

use std::net::SocketAddr;

use fake_binance::{FakeBinance, FakeOptions, Fault};

const USAGE: &str = "usage: fake_binance [--port N] [--weight-limit N] [--fault 429[:secs]|418[:secs]|451|500|slow:MS|hang|malformed|truncated|flood:ROWS] [--fault-path PATH]";

struct Args {
    port: u16,
    weight_limit: Option<u64>,
    fault: Option<Fault>,
    fault_path: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 9900,
        weight_limit: None,
        fault: None,
        fault_path: None,
    };
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        let mut value = || words.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--weight-limit" => {
                args.weight_limit = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--weight-limit: {e}"))?,
                )
            }
            "--fault" => args.fault = Some(value()?.parse()?),
            "--fault-path" => args.fault_path = Some(value()?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let options = FakeOptions {
        weight_limit: args.weight_limit,
        clock: None,
    };
    let address = SocketAddr::from(([127, 0, 0, 1], args.port));
    let fake = match FakeBinance::start_on(address, options).await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {e}", args.port);
            std::process::exit(1);
        }
    };
    match (args.fault, args.fault_path) {
        (Some(fault), path) => fake.set_cli_fault(path.as_deref(), fault),
        (None, Some(_)) => eprintln!("--fault-path without --fault does nothing"),
        (None, None) => {}
    }
    println!("fake Binance listening on {} (Ctrl-C to stop)", fake.url());
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {e}");
    }
    println!("served {} requests", fake.total_calls());
}
