//! crypto-mcp: a remote MCP server for crypto market data.
//!
//! [`app`] builds the one axum router (MCP endpoint, OAuth authorization
//! server, health check, shared layers) around an [`AppState`]; [`serve`]
//! (in [`listener`]) runs it on a listener the caller bound, so tests can
//! bind port 0, with connection timeouts and a connection cap.
//!
//! # Layout
//!
//! Layers point down only: `tools` and `market` use the framework in `mcp`,
//! which uses `binance`, `oauth` and `config`; this file wires them
//! (`.ci/structure.py` keeps it that way).
//!
//! - [`config`]: flags and environment, parsed once into [`Settings`]
//!   (public URL, `Host`/`Origin` policies, limits).
//! - [`state`]: [`AppState`], each layer's own state for the router.
//! - [`startup`]: a [`config::Config`] made into a bound listener and a
//!   ready [`AppState`], with one typed error for what stops it.
//! - [`mcp`]: the MCP endpoint. [`mcp::transport`] takes HTTP in and out
//!   (POST, batches, GET streams, DELETE, the page for people and the
//!   description for programs); [`mcp::method`] decodes a request once;
//!   [`mcp::server`] serves each method; [`mcp::error`] is its one error
//!   type and [`mcp::jsonrpc`] the wire text; [`mcp::tool`] is the tool
//!   framework ([`mcp::arguments`] explains bad arguments from the schema,
//!   [`mcp::schema`] keeps schemas portable) and [`mcp::catalog`] what we
//!   offer; [`mcp::session`], [`mcp::era`] and [`mcp::version`]
//!   say who is asking; [`mcp::guard`] and [`mcp::auth`] stand in front.
//! - [`tools`]: the tools, one file per family, listed in `registry()`.
//! - [`market`]: the market prompts, resources and completions.
//! - [`oauth`]: the embedded OAuth 2.1 authorization server and the bearer
//!   check the MCP routes sit behind.
//! - [`binance`]: the Binance REST client: hosts, limits, cache, wire types.
//! - [`analysis`]: indicators, the expression evaluator, charts.
//! - [`apps`]: the MCP Apps chart view and the series it draws from.
//! - [`assets`]: asset names and the one symbol query matcher.
//! - [`listener`]: the accept loop (per-phase timeouts, connection cap).
//! - [`urls`]: the public URL (fixed, or following the loopback address a
//!   request used) and the app domain, parsed once (a leaf).
//! - [`html`]: the HTML escaper of the sign-in pages (the page for people
//!   is a `maud` template, escaped by construction); [`telemetry`]: logging.
//! - `conformance` (feature `conformance`): the official suite's fixtures.
//!
//! # A request's way through
//!
//! A `tools/call` enters at the router's layers (request id, trace, CORS),
//! then [`mcp::guard::check`] (`Host`, `Origin`) and [`mcp::auth::gate`]
//! (bearer token), reaches [`mcp::transport::post::handle`], which reads the
//! body, decodes the call ([`mcp::method::Call::decode`]) and places it in
//! its era ([`mcp::transport::prepare`]); [`mcp::server::dispatch`] finds
//! the tool in the catalog and [`mcp::tool`] decodes its arguments
//! ([`mcp::arguments`]) and runs it inside a panic guard; [`mcp::jsonrpc::answer`] writes the response, as
//! JSON or as the last event of an SSE stream. `/authorize`, `/token` and
//! the other OAuth routes go from the layers straight to [`oauth`].
//!
//! # Wiring
//!
//! [`startup`] turns a parsed configuration into a bound listener and a
//! ready [`AppState`]; `main` only parses, calls it, prints and exits:
//!
//! ```no_run
//! use clap::Parser;
//! use crypto_mcp::config::Config;
//! use crypto_mcp::startup::{self, Server};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::parse();
//! // Checks the flags, reaches the shared store, binds the port and builds
//! // the authorization server, the catalog and the sessions.
//! let server = Server::start(&config).await?;
//! eprint!("{}", server.notice); // once, to stderr: never into logs
//! // Serves until the signal, drains, then writes the state file.
//! server.run(startup::shutdown_signal()).await?;
//! # Ok(())
//! # }
//! ```

pub mod analysis;
pub mod apps;
pub mod assets;
pub mod binance;
pub mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod html;
pub mod listener;
pub mod market;
pub mod mcp;
pub mod oauth;
pub mod shared;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tools;
pub mod urls;

/// A real `redis-server` for the store tests (shared with `tests/api`).
#[cfg(test)]
#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, Method, Request, header};
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::binance::BinanceClient;
use crate::mcp::catalog::Catalog;
use crate::mcp::state::McpState;
use crate::oauth::OAuth;
use crate::urls::AppDomain;

pub use config::Settings;
pub use listener::serve;
pub use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// How long browsers may cache a CORS preflight answer.
const CORS_MAX_AGE: Duration = Duration::from_secs(600);

/// Everything the server offers: the tools, the market prompts and
/// resources, the chart app's view, and with the `conformance` feature the
/// suite's fixtures. With
/// OAuth, every tool declares the scopes it needs.
pub fn catalog(
    binance: &BinanceClient,
    oauth: Option<&OAuth>,
    app_domain: Option<&AppDomain>,
) -> Catalog {
    let catalog = Catalog::builder()
        .tools(tools::registry())
        .oauth_scopes(oauth.map(|_| oauth::SCOPES_SUPPORTED));
    let catalog = market::register(catalog, binance);
    let catalog = apps::register(catalog, app_domain);
    #[cfg(feature = "conformance")]
    let catalog = conformance::register(catalog);
    catalog.build()
}

pub fn app(state: AppState) -> Router {
    // CORS answers browsers for every route with the MCP guard's policy.
    let origins = state.settings().origins.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin.to_str().is_ok_and(|origin| origins.allows(origin))
        }))
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            HeaderName::from_static("mcp-session-id"),
            HeaderName::from_static("mcp-protocol-version"),
            HeaderName::from_static("mcp-method"),
            HeaderName::from_static("mcp-name"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            HeaderName::from_static("mcp-session-id"),
            header::WWW_AUTHENTICATE,
        ])
        .max_age(CORS_MAX_AGE);
    // Spans carry method, path and request id only: headers (Authorization
    // above all) are never recorded.
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let request_id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", method = %request.method(), path = request.uri().path(), request_id)
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::DEBUG));
    let mut router = Router::new()
        .merge(mcp::router(state.mcp.clone()))
        .route("/healthz", get(healthz).with_state(state.mcp.clone()));
    if let Some(oauth) = &state.oauth {
        router = router.merge(oauth::router().with_state(oauth.clone()));
    }
    router
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Liveness, plus the Binance weight budget per host (`used` and `planned`
/// of `limit` this minute), so an operator sees how close the server runs
/// to Binance's limits, and the store's state (`ok` or `unavailable`).
/// Hosts are shown without any path or credentials. The status stays 200
/// when the store is down: restarting this instance would not bring the
/// store back, and every instance failing its check at once would take the
/// whole deployment down with it.
async fn healthz(State(state): State<McpState>) -> impl IntoResponse {
    let store_ok =
        state.sessions.healthy() && state.oauth.as_ref().is_none_or(|o| o.store_healthy());
    let binance: Vec<_> = state
        .binance
        .host_status()
        .into_iter()
        .map(|host| {
            let name = url::Url::parse(&host.base_url)
                .ok()
                .and_then(|url| {
                    Some(format!(
                        "{}:{}",
                        url.host_str()?,
                        url.port_or_known_default()?
                    ))
                })
                .unwrap_or_default();
            json!({
                "host": name,
                "market": host.market,
                "used": host.budget.used,
                "planned": host.budget.planned,
                "limit": host.budget.limit,
                "limit_from_exchange_info": host.budget.limit_from_exchange_info,
                "active_callers": host.budget.active_callers,
                "blocked_for_s": host.blocked_for.map(|left| left.as_secs()),
                "region_blocked": host.region_blocked,
            })
        })
        .collect();
    Json(json!({
        "status": "ok",
        "name": mcp::server::SERVER_NAME,
        "version": mcp::server::SERVER_VERSION,
        "store": if store_ok { "ok" } else { "unavailable" },
        "binance": binance,
    }))
}
