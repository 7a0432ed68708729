//! The one integration-test binary: each module drives the real router over
//! HTTP on a random loopback port.

mod calculate;
mod handshake;
mod helpers;
mod http;
mod stateless;
