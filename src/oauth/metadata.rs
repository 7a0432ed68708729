//! Discovery documents: RFC 9728 protected-resource metadata (one per MCP URL
//! a user may paste: `PUBLIC_URL` and `PUBLIC_URL/mcp`, each naming itself as
//! `resource`) and RFC 8414 authorization-server metadata, all written for
//! the origin the request used ([`Issuer`]). Only implemented features are
//! advertised. No `/.well-known/openid-configuration` is served:
//! we are not an OpenID provider, and a half-filled one breaks ChatGPT.

use super::{Issuer, SCOPES_SUPPORTED};
use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Clients may cache discovery briefly; it only changes with configuration.
const METADATA_CACHE: &str = "public, max-age=300";

fn cached(v: Value) -> Response {
    let mut r = Json(v).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(METADATA_CACHE),
    );
    r
}

pub fn protected_resource_doc(issuer: &Issuer, path: &str) -> Value {
    json!({
        "resource": issuer.resource(path),
        "authorization_servers": [issuer.as_str()],
        "scopes_supported": SCOPES_SUPPORTED,
        "bearer_methods_supported": ["header"],
        "resource_name": "crypto-mcp",
    })
}

pub async fn protected_resource_root(issuer: Issuer) -> Response {
    cached(protected_resource_doc(&issuer, "/"))
}

pub async fn protected_resource_mcp(issuer: Issuer) -> Response {
    cached(protected_resource_doc(&issuer, "/mcp"))
}

pub fn authorization_server_doc(issuer: &Issuer) -> Value {
    let auth_methods = ["none", "client_secret_basic", "client_secret_post"];
    json!({
        "issuer": issuer.as_str(),
        "authorization_endpoint": issuer.endpoint("/authorize"),
        "token_endpoint": issuer.endpoint("/token"),
        "registration_endpoint": issuer.endpoint("/register"),
        "revocation_endpoint": issuer.endpoint("/revoke"),
        "scopes_supported": SCOPES_SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": super::cimd::CIMD_SUPPORTED,
    })
}

pub async fn authorization_server(issuer: Issuer) -> Response {
    cached(authorization_server_doc(&issuer))
}
