//! End-to-end tests of the embedded authorization server over real HTTP.
pub(crate) mod helpers;

mod anonymous;
mod authorize;
mod bearer;
mod budgets;
mod cimd;
mod discovery;
mod flow;
mod loopback;
mod process;
mod refresh;
mod register;
mod revoke;
mod security;
mod session;
mod shared_store;
mod signup;
mod state_file;
mod throttles;
mod token;
