//! crypto-mcp: a remote MCP server for crypto market data.
//!
//! [`app`] builds the one axum router (MCP endpoint, OAuth authorization
//! server, health check, shared layers) around an [`AppState`]; [`serve`]
//! (in [`listener`]) runs it on a listener the caller bound, so tests can
//! bind port 0, with connection timeouts and a connection cap.

pub mod analysis;
pub mod apps;
pub mod assets;
pub mod binance;
pub mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod listener;
pub mod market;
pub mod mcp;
pub mod oauth;
pub mod shared;
pub mod state;
pub mod telemetry;
pub mod tools;

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

pub use listener::serve;
pub use state::{AppState, Settings};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// How long browsers may cache a CORS preflight answer.
const CORS_MAX_AGE: Duration = Duration::from_secs(600);

pub fn app(state: AppState) -> Router {
    let cors_state = state.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            mcp::guard::cors_allows(&cors_state, origin)
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
        .merge(mcp::router(&state))
        .route("/healthz", get(healthz))
        .with_state(state.clone());
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
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
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
