//! The one integration-test binary: each module drives the real router over
//! HTTP on a random loopback port.

mod analysis;
mod apps;
mod arguments;
mod binance_client;
mod calculate;
mod connections;
mod errors;
mod fake_binance;
mod handshake;
mod helpers;
mod http;
mod indicators;
mod limits;
mod market;
mod oauth;
mod page;
#[path = "../support/redis_server.rs"]
mod redis_server;
mod schemas;
mod shutdown;
mod stateless;
