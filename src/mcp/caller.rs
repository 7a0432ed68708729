//! Who a request is for, as the Binance weight budget counts callers: the
//! signed-in user (the OAuth subject, so one person's several clients share
//! one share), or else the client's IP (through the trusted proxy header
//! when one is configured). The key reaches tools as the client in their
//! `ToolContext`, bound with `BinanceClient::for_caller`.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::binance::CallerKey;
use crate::mcp::state::McpState;
use crate::oauth::Authenticated;

impl FromRequestParts<McpState> for CallerKey {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &McpState) -> Result<Self, Infallible> {
        if let Some(signed_in) = parts.extensions.get::<Authenticated>() {
            return Ok(Self::user(&signed_in.user));
        }
        let ip = match &state.oauth {
            Some(oauth) => oauth
                .client_ip(&parts.headers, &parts.extensions)
                .to_string(),
            None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |peer| peer.0.ip().to_string()),
        };
        Ok(Self::ip(&ip))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::http::Request;
    use clap::Parser;

    use super::*;
    use crate::config::{Config, Settings};
    use crate::mcp::state::system_clock;

    async fn key_of(parts: &mut Parts) -> CallerKey {
        let config = Config::try_parse_from(["crypto-mcp", "--auth", "none"]).expect("config");
        let client = config.binance_client().expect("client");
        let catalog = crate::catalog(&client, None, None);
        let state = McpState::new(
            Settings::from_config(&config),
            client,
            None,
            catalog,
            system_clock(),
            crate::mcp::session::SessionStore::default(),
        );
        let Ok(key) = CallerKey::from_request_parts(parts, &state).await;
        key
    }

    #[tokio::test]
    async fn a_signed_in_user_is_keyed_by_subject_and_others_by_ip() {
        let (mut parts, ()) = Request::new(()).into_parts();
        let peer: SocketAddr = "10.1.2.3:5555".parse().expect("address");
        parts.extensions.insert(ConnectInfo(peer));
        assert_eq!(key_of(&mut parts).await, CallerKey::ip("10.1.2.3"));
        parts.extensions.insert(Authenticated {
            user: Arc::from("alice"),
        });
        assert_eq!(key_of(&mut parts).await, CallerKey::user("alice"));
        let (mut bare, ()) = Request::new(()).into_parts();
        assert_eq!(key_of(&mut bare).await, CallerKey::ip("unknown"));
    }
}
