//! DELETE: a client ends its session.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::headers::{SESSION_HEADER, header_str, stateless_header};
use super::response::method_not_allowed;
use crate::mcp::error::McpError;
use crate::mcp::state::McpState;

pub async fn handle(State(state): State<McpState>, headers: HeaderMap) -> Response {
    if stateless_header(&headers) {
        return method_not_allowed();
    }
    let Some(id) = header_str(&headers, SESSION_HEADER) else {
        return McpError::InvalidRequest(
            "DELETE needs the Mcp-Session-Id header of the session to end".to_owned(),
        )
        .into_response();
    };
    match state.sessions.terminate(id, state.now()).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => McpError::SessionTerminated.into_response(),
        Err(e) => McpError::from(e).into_response(),
    }
}
