//! Streamable HTTP: POST, GET and DELETE on the MCP endpoint.
//!
//! Every POST is first placed in its era ([`prepare`]). A request is
//! stateless-era when its `MCP-Protocol-Version` header names the stateless
//! revision or when it is `server/discover`; then its headers and `_meta`
//! are checked as 2026-07-28 requires (HTTP 400 with -32020/-32021/-32022/
//! -32602) and methods that era does not serve get 404. A `_meta` naming a
//! protocol version without that header is refused the same way. Everything
//! else is handshake era, where an `Mcp-Session-Id` is honoured but never
//! required.
//!
//! Answers are `application/json`, except a `tools/call` whose client
//! accepts `text/event-stream` and asked for progress or logs: that one is
//! an SSE stream of notifications ending with the result.
//!
//! - [`post`]: one JSON-RPC message, answered as JSON or as an SSE stream;
//! - [`batch`]: 2025-03-26 batches;
//! - [`get`]: notification streams, or the [`page`] browsers and probes see;
//! - [`delete`]: ending a session;
//! - [`headers`] and [`response`]: what requests carry, how answers look.

pub mod batch;
pub mod delete;
pub mod get;
pub mod headers;
pub mod page;
pub mod post;
pub mod prepare;
pub mod response;
